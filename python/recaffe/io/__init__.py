"""Caffe files in and out: `load` gives the one intermediate form every transform works on,
(NetParameter, {layer name: [ndarray]}), and `save` writes it back as Caffe files."""
from __future__ import annotations

import os
import re
from typing import Mapping

import numpy as np

from ..errors import CaffeFileError, ShapeMismatchError
from .caffemodel import StoredBlob, read_caffemodel, write_caffemodel
from .proto import pb
from .prototxt import parse_text, read_prototxt, to_text, write_prototxt
from .upgrade import upgrade_net

Weights = dict  # {layer name: [np.ndarray]}


_TEXT_START = re.compile(r"^\s*(#|[A-Za-z_]\w*\s*(:|\{))")


def is_prototxt_text(source) -> bool:
    """True when a str is prototxt text rather than a path: it has a newline or a brace, or it
    starts like a protobuf field (`name: ...`) and is not an existing file."""
    if not isinstance(source, str):
        return False
    if "\n" in source or "{" in source:
        return True
    return bool(_TEXT_START.match(source)) and not os.path.exists(source)


def read_net(source, path_hint: str | None = None) -> "pb.NetParameter":
    """A V2 NetParameter from a .prototxt path, a prototxt text, or a NetParameter (copied)."""
    if isinstance(source, pb.NetParameter):
        net = pb.NetParameter()
        net.CopyFrom(source)
        return upgrade_net(net, path_hint)
    if isinstance(source, os.PathLike) or isinstance(source, str) and not is_prototxt_text(source):
        path = os.fspath(source)
        return upgrade_net(read_prototxt(path), path)
    if isinstance(source, str):
        return upgrade_net(parse_text(source, pb.NetParameter(), path_hint or "<prototxt text>"), path_hint)
    raise TypeError(f"expected a prototxt path, prototxt text or NetParameter, got {type(source).__name__}")


def read_weights(path: str | os.PathLike) -> tuple["pb.NetParameter", list]:
    """The raw contents of a .caffemodel: (its NetParameter upgraded, without blobs;
    [(layer name, [StoredBlob])]). Most users want `load` instead."""
    path = os.fspath(path)
    net, blobs = read_caffemodel(path)
    return upgrade_net(net, path), blobs


def shape_equals(blob: StoredBlob, target: tuple) -> bool:
    """Caffe's Blob::ShapeEquals: a legacy 4-D blob matches right-aligned (missing axes = 1)."""
    if not blob.legacy:
        return tuple(blob.shape) == tuple(target)
    if len(target) > 4:
        return False
    padded = (1,) * (4 - len(target)) + tuple(target)
    return tuple(blob.shape) == padded


def match_weights(stored: list, expected: Mapping[str, list], path: str | None = None) -> Weights:
    """Match stored blobs to layers by name (Caffe's CopyTrainedLayersFrom): layers the net lacks
    are skipped; the blob count and each shape must match; legacy shapes are reshaped."""
    out: Weights = {}
    for name, blobs in stored:
        if name not in expected:
            continue
        want = expected[name]
        if len(blobs) != len(want):
            raise ShapeMismatchError(
                f"the file has {len(blobs)} blobs for this layer but the net needs {len(want)}", path, name, "blobs")
        arrays = []
        for i, (b, shape) in enumerate(zip(blobs, want)):
            if not shape_equals(b, shape):
                raise ShapeMismatchError(
                    f"blob {i} has shape {tuple(b.shape)}{' (legacy 4-D)' if b.legacy else ''} in the file "
                    f"but the net needs {tuple(shape)}", path, name, f"blobs[{i}]")
            arrays.append(b.data.reshape(shape))
        out[name] = arrays
    return out


def load(prototxt, caffemodel: str | os.PathLike | None = None, *, phase: str = "test",
         input_shapes: Mapping[str, tuple] | None = None):
    """Read a network and its weights: returns (NetParameter (V2), {layer name: [ndarray]}).

    Weights are matched by layer name with Caffe's shape rules; layers without weights in the
    file get none (an empty dict entry is absent). The arrays are float32 views of the file's bytes.
    input_shapes: {top: shape} for data layers whose image size the file does not give.
    """
    from ..net import expected_param_shapes  # the C++ net knows each layer's blob shapes

    net = read_net(prototxt)
    if caffemodel is None:
        return net, {}
    _, stored = read_weights(caffemodel)
    expected = expected_param_shapes(net, phase=phase, input_shapes=input_shapes)
    return net, match_weights(stored, expected, os.fspath(caffemodel))


def save(net: "pb.NetParameter", weights: Mapping[str, list] | None, prototxt: str | os.PathLike | None,
         caffemodel: str | os.PathLike | None = None, *, phase: str = "test") -> None:
    """Write the net as a V2 .prototxt (without blobs) and, if given a path, the weights as a V2
    .caffemodel. Both load in Caffe and in OpenCV's DNN module.

    Refuses (CaffeFileError / ShapeMismatchError, before writing anything) weights for layers the
    net lacks, a blob count or shape the layer cannot take (checked when recaffe can build the net),
    non-numeric arrays, values that overflow float32, and a caffemodel over Caffe's 2 GiB limit."""
    clean = read_net(net)  # a V2 copy (an old-format net is upgraded)
    for layer in clean.layer:
        del layer.blobs[:]
    if prototxt is not None and caffemodel is not None and os.path.abspath(prototxt) == os.path.abspath(caffemodel):
        raise CaffeFileError("the .prototxt and the .caffemodel would be the same file", os.fspath(prototxt))
    weights = dict(weights or {})
    if caffemodel is not None and weights:
        _check_weight_shapes(clean, weights, os.fspath(caffemodel), phase)
    if caffemodel is not None:
        write_caffemodel(clean, weights, caffemodel)
    if prototxt is not None:
        write_prototxt(clean, prototxt)


def _check_weight_shapes(net, weights, path, phase) -> None:
    from ..errors import UnknownLayerError
    from ..net import expected_param_shapes

    names = {layer.name for layer in net.layer}
    for name in weights:
        if name not in names:
            raise CaffeFileError(f"weights are given for layer '{name}', which the net does not have", path, name)
    try:
        expected = expected_param_shapes(net, phase=phase)
    except UnknownLayerError:
        return  # a layer recaffe cannot build: the shapes are Caffe's business when it loads the file
    for name, arrays in weights.items():
        want = expected.get(name, [])
        if len(arrays) != len(want):
            raise ShapeMismatchError(f"{len(arrays)} weight arrays given but the layer has {len(want)} blobs",
                                     path, name, "blobs")
        for i, (a, shape) in enumerate(zip(arrays, want)):
            if tuple(np.shape(a)) != tuple(shape):
                raise ShapeMismatchError(f"blob {i} has shape {tuple(np.shape(a))} but the layer needs {tuple(shape)}",
                                         path, name, f"blobs[{i}]")


__all__ = ["load", "save", "read_net", "read_weights", "match_weights", "shape_equals", "pb", "to_text",
           "read_prototxt", "write_prototxt", "read_caffemodel", "write_caffemodel", "StoredBlob", "Weights"]
