"""Network transforms: each technique is a function (NetParameter, weights, options) -> (NetParameter, weights, report).

Transforms are pure: they never modify their inputs, and what they return saves back to Caffe files with
``recaffe.save``. Each technique lives in its own module; the names below are imported lazily so that a
technique's optional dependencies load only when it is used.
"""
from __future__ import annotations

import importlib

# public name -> module (one line per technique; keep sorted by module)
_EXPORTS = {
    "monochromatic_first_layer": ".denton",
    "bicluster_layer": ".denton",
    "falcon": ".falcon_svd",
    "isc_policy": ".isc",
    "reorder_activation_pooling": ".reorder",
    "vip_error_bound": ".vip_bound",
    "vip": ".virtual_pooling",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'recaffe.transforms' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))


__all__ = sorted(_EXPORTS)
