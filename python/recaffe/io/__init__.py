"""Caffe files in and out: `load` gives the one intermediate form every transform works on,
(NetParameter, {layer name: [ndarray]}), and `save` writes it back as Caffe files."""
from __future__ import annotations

import os
from typing import Mapping

import numpy as np

from ..errors import CaffeFileError, ShapeMismatchError
from .caffemodel import StoredBlob, read_caffemodel, write_caffemodel
from .proto import pb
from .prototxt import parse_text, read_prototxt, to_text, write_prototxt
from .upgrade import upgrade_net

Weights = dict  # {layer name: [np.ndarray]}


def read_net(source, path_hint: str | None = None) -> "pb.NetParameter":
    """A V2 NetParameter from a .prototxt path, a prototxt text, or a NetParameter (copied)."""
    if isinstance(source, pb.NetParameter):
        net = pb.NetParameter()
        net.CopyFrom(source)
        return upgrade_net(net, path_hint)
    if isinstance(source, (str, os.PathLike)) and (not isinstance(source, str) or "\n" not in source
                                                    and ("{" not in source)):
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


def load(prototxt, caffemodel: str | os.PathLike | None = None, *, phase: str = "test"):
    """Read a network and its weights: returns (NetParameter (V2), {layer name: [ndarray]}).

    Weights are matched by layer name with Caffe's shape rules; layers without weights in the
    file get none (an empty dict entry is absent). The arrays are float32 views of the file's bytes.
    """
    from ..net import expected_param_shapes  # the C++ net knows each layer's blob shapes

    net = read_net(prototxt)
    if caffemodel is None:
        return net, {}
    _, stored = read_weights(caffemodel)
    expected = expected_param_shapes(net, phase=phase)
    return net, match_weights(stored, expected, os.fspath(caffemodel))


def save(net: "pb.NetParameter", weights: Mapping[str, list] | None, prototxt: str | os.PathLike | None,
         caffemodel: str | os.PathLike | None = None) -> None:
    """Write the net as a V2 .prototxt (without blobs) and, if given a path, the weights as a V2
    .caffemodel. Both load in Caffe and in OpenCV's DNN module."""
    clean = pb.NetParameter()
    clean.CopyFrom(net)
    for layer in clean.layer:
        del layer.blobs[:]
    if prototxt is not None:
        write_prototxt(clean, prototxt)
    if caffemodel is not None:
        write_caffemodel(clean, dict(weights or {}), caffemodel)


__all__ = ["load", "save", "read_net", "read_weights", "match_weights", "shape_equals", "pb", "to_text",
           "read_prototxt", "write_prototxt", "read_caffemodel", "write_caffemodel", "StoredBlob", "Weights"]
