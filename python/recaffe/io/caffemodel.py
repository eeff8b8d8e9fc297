"""Reading and writing binary .caffemodel files with the weight arrays as numpy views.

The net definition inside the file is parsed by protobuf with the blob bytes cut out; each blob's
packed float data becomes an np.frombuffer view (never a float-by-float list). Blobs are matched to
layers by name later (io.load), with Caffe's legacy right-aligned 4-D shape rule.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from ..errors import CaffeFileError
from . import wire
from .proto import pb

# field numbers (caffe.proto)
NET_LAYERS_V1, NET_LAYER_V2 = 2, 100
LAYER_V2_NAME, LAYER_V2_BLOBS = 1, 7
LAYER_V1_NAME, LAYER_V1_BLOBS, LAYER_V1_V0 = 4, 6, 1
LAYER_V0_NAME, LAYER_V0_BLOBS = 1, 50
BLOB_NUM, BLOB_CHANNELS, BLOB_HEIGHT, BLOB_WIDTH = 1, 2, 3, 4
BLOB_DATA, BLOB_DIFF, BLOB_SHAPE, BLOB_DOUBLE_DATA, BLOB_DOUBLE_DIFF = 5, 6, 7, 8, 9
SHAPE_DIM = 1
MAX_AXES = 32             # Caffe's kMaxBlobAxes
INT32_MAX = (1 << 31) - 1  # Caffe's blob counts and legacy dims are int32


@dataclass
class StoredBlob:
    """One blob as stored: its data (float32), the stored shape, and whether that shape is the
    legacy 4-D num/channels/height/width form (matched right-aligned, as Caffe's ShapeEquals)."""
    data: np.ndarray
    shape: tuple
    legacy: bool


def _parse_shape(buf, start, end, path, layer):
    dims = []
    for field, wtype, value, _, _ in wire.iter_fields(buf, start, end):
        if field != SHAPE_DIM:
            continue
        if wtype == wire.LEN:  # packed
            pos, n = value
            stop = pos + n
            while pos < stop:
                d, pos = wire.read_varint(buf, pos, stop)
                dims.append(d)
        elif wtype == wire.VARINT:
            dims.append(value)
        else:
            raise CaffeFileError(f"blob shape dim has wire type {wtype}", path, layer, "blobs.shape.dim")
    for d in dims:
        if d >= 1 << 63:
            raise CaffeFileError("negative dimension in blob shape", path, layer, "blobs.shape.dim")
    if len(dims) > MAX_AXES:
        raise CaffeFileError(f"blob shape has {len(dims)} axes; Caffe allows at most {MAX_AXES}", path, layer,
                             "blobs.shape.dim")
    return tuple(int(d) for d in dims)


def _parse_blob(buf, start, end, path, layer) -> StoredBlob:
    legacy = {}
    shape = None
    floats = []       # list of (offset, length) of packed float runs
    unpacked = []     # individual fixed32 floats (unpacked encoding)
    doubles = []
    for field, wtype, value, fstart, fend in wire.iter_fields(buf, start, end):
        if field in (BLOB_NUM, BLOB_CHANNELS, BLOB_HEIGHT, BLOB_WIDTH) and wtype == wire.VARINT:
            v = value - (1 << 64) if value >= 1 << 63 else value
            legacy[field] = v
        elif field == BLOB_SHAPE and wtype == wire.LEN:
            shape = _parse_shape(buf, value[0], value[0] + value[1], path, layer)
        elif field == BLOB_DATA:
            if wtype == wire.LEN:
                if value[1] % 4:
                    raise CaffeFileError(f"packed float data of {value[1]} bytes is not a multiple of 4",
                                         path, layer, "blobs.data")
                floats.append(value)
            elif wtype == wire.FIXED32:
                unpacked.append(fend - 4)
            else:
                raise CaffeFileError(f"blob data has wire type {wtype}", path, layer, "blobs.data")
        elif field == BLOB_DOUBLE_DATA:
            if wtype == wire.LEN:
                if value[1] % 8:
                    raise CaffeFileError("packed double data is not a multiple of 8 bytes", path, layer,
                                         "blobs.double_data")
                doubles.append(value)
            elif wtype == wire.FIXED64:
                doubles.append((fend - 8, 8))
        # diff / double_diff are gradients: ignored for inference
    if doubles:  # Caffe's Blob::FromProto reads double_data whenever it is present
        with np.errstate(over="ignore", invalid="ignore"):  # beyond float32 becomes inf, as Caffe's cast
            data = np.concatenate([np.frombuffer(buf, dtype="<f8", count=n // 8, offset=off)
                                   for off, n in doubles]).astype(np.float32)
    elif floats or unpacked:
        parts = [np.frombuffer(buf, dtype="<f4", count=n // 4, offset=off) for off, n in floats]
        if unpacked:
            parts.append(np.array([np.frombuffer(buf, dtype="<f4", count=1, offset=o)[0] for o in unpacked],
                                  dtype=np.float32))
        data = parts[0] if len(parts) == 1 else np.concatenate(parts)
    else:
        data = np.zeros(0, np.float32)
    if legacy:
        for k, v in legacy.items():
            if not 0 <= v <= INT32_MAX:
                raise CaffeFileError(f"legacy dimension {v} is negative or beyond int32", path, layer,
                                     "blobs.num/channels/height/width")
        shape = (legacy.get(BLOB_NUM, 0), legacy.get(BLOB_CHANNELS, 0), legacy.get(BLOB_HEIGHT, 0),
                 legacy.get(BLOB_WIDTH, 0))
        is_legacy = True
    else:
        shape = shape if shape is not None else (data.size,)
        is_legacy = False
    count = math.prod(shape)  # Python ints: absurd dims cannot overflow into a plausible count
    if count != data.size:
        raise CaffeFileError(f"blob shape {shape} holds {count} values but the file has {data.size}",
                             path, layer, "blobs.data")
    return StoredBlob(data.reshape(shape) if shape else data, shape, is_legacy)


def _strip_layer(buf, start, end, name_field, blobs_field, v0_field, path):
    """Return (layer bytes without blobs, layer name, [StoredBlob])."""
    kept = bytearray()
    name = None
    blob_spans = []
    v0 = None
    for field, wtype, value, fstart, fend in wire.iter_fields(buf, start, end):
        if field == blobs_field and wtype == wire.LEN:
            blob_spans.append(value)
            continue
        if field == name_field and wtype == wire.LEN:
            name = bytes(buf[value[0]:value[0] + value[1]]).decode("utf-8", errors="replace")
        if v0_field is not None and field == v0_field and wtype == wire.LEN:
            v0_bytes, v0_name, v0_blobs = _strip_layer(buf, value[0], value[0] + value[1], LAYER_V0_NAME,
                                                       LAYER_V0_BLOBS, None, path)
            v0 = (v0_name, v0_blobs)
            kept += wire.encode_len(field, v0_bytes)
            continue
        kept += buf[fstart:fend]
    if v0 is not None:
        name = name or v0[0]
        blobs = v0[1]
    else:
        blobs = []
    blobs += [_parse_blob(buf, off, off + n, path, name) for off, n in blob_spans]
    return bytes(kept), name, blobs


def read_caffemodel(path: str | os.PathLike, data: bytes | bytearray | None = None):
    """Parse a .caffemodel: returns (NetParameter without blob data, [(layer name, [StoredBlob])]).
    Layers appear in file order; V1/V0 layers keep their own message (io.upgrade upgrades them)."""
    path = os.fspath(path)
    if data is None:
        try:
            with open(path, "rb") as f:  # straight into one writable, uninitialised buffer: no copy, no memset
                data = np.empty(os.fstat(f.fileno()).st_size, np.uint8)
                n = f.readinto(memoryview(data))
            data = data[:n]
        except FileNotFoundError:
            raise CaffeFileError("no such file", path) from None
        except IsADirectoryError:
            raise CaffeFileError("is a directory, not a .caffemodel file", path) from None
    buf = memoryview(data)
    if len(buf) == 0:
        raise CaffeFileError("the file is empty", path)
    kept = bytearray()
    layer_blobs = []
    try:
        for field, wtype, value, fstart, fend in wire.iter_fields(buf, 0, len(buf)):
            if field in (NET_LAYER_V2, NET_LAYERS_V1) and wtype == wire.LEN:
                if field == NET_LAYER_V2:
                    lb, name, blobs = _strip_layer(buf, value[0], value[0] + value[1], LAYER_V2_NAME,
                                                   LAYER_V2_BLOBS, None, path)
                else:
                    lb, name, blobs = _strip_layer(buf, value[0], value[0] + value[1], LAYER_V1_NAME,
                                                   LAYER_V1_BLOBS, LAYER_V1_V0, path)
                kept += wire.encode_len(field, lb)
                layer_blobs.append((name or "", blobs))
            else:
                kept += buf[fstart:fend]
    except wire.WireError as e:
        raise CaffeFileError(f"not a valid caffemodel (truncated or corrupt protobuf): {e}", path) from None
    net = pb.NetParameter()
    try:
        net.ParseFromString(bytes(kept))
        _check_strings(net, path)
    except CaffeFileError:
        raise
    except Exception as e:  # protobuf's DecodeError, RecursionError on absurd nesting, bad UTF-8
        raise CaffeFileError(f"not a valid caffemodel: {type(e).__name__}: {e}", path) from None
    if not net.layer and not net.layers:
        raise CaffeFileError("the file holds no layers: not a caffemodel", path)
    return net, layer_blobs


def _check_strings(msg, path=None, layer=None, prefix="") -> None:
    """Every string field must be UTF-8: protobuf hands proto2 strings with bad bytes back as
    `bytes`, which would fail much later in some unrelated place; refuse them here, by name."""
    for fd, value in msg.ListFields():
        name = prefix + fd.name
        if fd.message_type is not None:
            items = value if fd.is_repeated else [value]
            for i, item in enumerate(items):
                sub_layer = layer
                if fd.name in ("layer", "layers") and not prefix:
                    sub_layer = item.name if isinstance(item.name, str) and item.name else f"#{i}"
                _check_strings(item, path, sub_layer, "" if sub_layer is not layer else f"{name}.")
        elif fd.type == fd.TYPE_STRING:
            for v in (value if fd.is_repeated else [value]):
                if isinstance(v, bytes):
                    raise CaffeFileError(f"the string {v!r} is not valid UTF-8", path, layer, name)


MAX_MESSAGE_BYTES = INT32_MAX  # Caffe reads a .caffemodel with a protobuf byte limit of INT_MAX


def _as_float32(arr, layer: str, index: int) -> np.ndarray:
    """The array as little-endian float32, refusing what cannot be written faithfully."""
    a = np.asarray(arr)
    if a.dtype.kind not in "fiub":
        raise CaffeFileError(f"blob {index} has dtype {a.dtype}; only real numbers can be written", None, layer,
                             f"blobs[{index}]")
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.ascontiguousarray(a, dtype="<f4")
    if a.dtype.kind == "f" and a.dtype.itemsize > 4:
        with np.errstate(invalid="ignore"):
            overflow = np.isinf(out) & np.isfinite(a)
        if overflow.any():
            raise CaffeFileError(f"blob {index} holds values beyond float32's range (e.g. {a[overflow].flat[0]!r})",
                                 None, layer, f"blobs[{index}]")
    if len(out.shape) > MAX_AXES:
        raise CaffeFileError(f"blob {index} has {out.ndim} axes; Caffe allows at most {MAX_AXES}", None, layer,
                             f"blobs[{index}]")
    return out


def _blob_parts(arr: np.ndarray) -> list:
    """One `blobs` entry of a layer as byte chunks; the float data is the array's own memory
    (written without a copy)."""
    shape = b"".join(wire.encode_varint(int(d)) for d in arr.shape)
    head = wire.encode_len(BLOB_SHAPE, wire.encode_len(SHAPE_DIM, shape) if arr.shape else b"")
    head += wire.encode_key(BLOB_DATA, wire.LEN) + wire.encode_varint(arr.nbytes)
    data = memoryview(arr.reshape(-1)).cast("B")
    blob_len = len(head) + len(data)
    return [wire.encode_key(LAYER_V2_BLOBS, wire.LEN) + wire.encode_varint(blob_len) + head, data]


def write_caffemodel(net: "pb.NetParameter", weights: dict, path: str | os.PathLike) -> None:
    """Write a V2 .caffemodel: the net's layers with their blobs (float32, BlobShape).
    Refuses (CaffeFileError, nothing written) weights for layers the net lacks, arrays that are
    not real numbers or overflow float32, and files Caffe could not read back (over 2 GiB)."""
    path = os.fspath(path)
    if net.layers:
        raise CaffeFileError("the net still has V1 'layers'; upgrade it first (recaffe.io.read_net)", path)
    names = {layer.name for layer in net.layer}
    for name in weights:
        if name not in names:
            raise CaffeFileError(f"weights are given for layer '{name}', which the net does not have", path, name)
    arrays = {name: [_as_float32(a, name, i) for i, a in enumerate(blobs)] for name, blobs in weights.items()}
    total = sum(a.nbytes for blobs in arrays.values() for a in blobs)
    if total > MAX_MESSAGE_BYTES:
        raise CaffeFileError(f"the weights take {total / 2**30:.2f} GiB; Caffe cannot read a .caffemodel over 2 GiB",
                             path)
    header = pb.NetParameter()
    header.CopyFrom(net)
    del header.layer[:]
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(header.SerializeToString())
            for layer in net.layer:
                lp = pb.LayerParameter()
                lp.CopyFrom(layer)
                del lp.blobs[:]
                body = [lp.SerializeToString()]
                for a in arrays.get(layer.name, []):
                    body += _blob_parts(a)
                size = sum(len(b) for b in body)
                f.write(wire.encode_key(NET_LAYER_V2, wire.LEN) + wire.encode_varint(size))
                for b in body:
                    f.write(b)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
