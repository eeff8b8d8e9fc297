"""recaffe: a small, fast, Caffe-faithful CNN inference engine.

    import recaffe
    net = recaffe.Net("deploy.prototxt", "weights.caffemodel")
    out = net.forward(data=images)          # {output blob: ndarray}
    net.blobs["conv1"].data, net.params["conv1"][0].data
    net.time(iterations=10)                 # per-layer median ms, like `caffe time`

    param, weights = recaffe.load("deploy.prototxt", "weights.caffemodel")
    param, weights, report = recaffe.transforms.reorder_activation_pooling(param, weights)
    recaffe.save(param, weights, "out.prototxt", "out.caffemodel")
"""
from __future__ import annotations

import os as _os

# OpenMP threads sleep between parallel regions instead of spinning: on a shared 2-core machine spinning
# workers steal the core the other thread needs (measured ~20 ms per region under load); must be set
# before libgomp is loaded by _core. Users may override it in the environment.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from . import errors  # noqa: E402
from ._blas import preload as _preload_blas  # noqa: E402

_preload_blas()
from . import _core  # noqa: E402

from .errors import (  # noqa: E402
    CaffeFileError, InputError, LayerError, RecaffeError, ResourceError, ShapeMismatchError, UnknownLayerError,
)
from .io import load, save, read_net, read_weights  # noqa: E402
from .net import Net, register_layer, cuda_available  # noqa: E402
from .fillers import random_weights  # noqa: E402
from .evaluate import evaluate, agreement, EvalResult  # noqa: E402
from . import transforms  # noqa: E402


def set_num_threads(n: int) -> None:
    """Threads for recaffe's own kernels (OpenMP) and for BLAS; 0 means all cores."""
    _core.set_num_threads(int(n))


def num_threads() -> int:
    return _core.num_threads()


def blas_info() -> str:
    return _core.blas_name()


def isa() -> str:
    """The SIMD instruction set the kernels dispatch to: avx512, avx2 or scalar."""
    return _core.isa()


set_num_threads(0)

__all__ = [
    "Net", "register_layer", "cuda_available", "load", "save", "read_net", "read_weights", "random_weights",
    "evaluate", "agreement", "EvalResult", "set_num_threads", "num_threads", "blas_info", "isa",
    "RecaffeError", "LayerError", "UnknownLayerError", "CaffeFileError", "ShapeMismatchError",
    "ResourceError", "InputError", "errors", "transforms",
]
