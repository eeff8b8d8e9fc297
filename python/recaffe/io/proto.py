"""The generated caffe_pb2 module (built from caffe.proto by protoc at install time)."""
from __future__ import annotations

try:
    from . import caffe_pb2 as pb
except ImportError as e:  # pragma: no cover - a broken install
    raise ImportError(
        "recaffe.io.caffe_pb2 is missing: it is generated from caffe.proto when recaffe is built "
        "(pip install .)") from e

NetParameter = pb.NetParameter
LayerParameter = pb.LayerParameter
BlobProto = pb.BlobProto
V1LayerParameter = pb.V1LayerParameter

__all__ = ["pb", "NetParameter", "LayerParameter", "BlobProto", "V1LayerParameter"]
