"""An on-disk cache for arrays that are slow to derive from the shared data (the CIFAR-10 train
mean needs all 50,000 JPEGs decoded): $RECAFFE_CACHE, else ~/.cache/recaffe. Each entry records a
key describing its source, and is recomputed when the key changes."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

import numpy as np


def cache_dir() -> Path:
    env = os.environ.get("RECAFFE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "recaffe"


def cached_array(name: str, key: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """`compute()`'s result, stored as <cache>/<name>-<hash of key>.npy; an unwritable cache
    only costs the recomputation."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = cache_dir() / f"{name}-{digest}.npy"
    if path.exists():
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            pass  # a torn or foreign file: recompute it
    arr = np.asarray(compute())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, arr, allow_pickle=False)
        os.replace(tmp, path)
    except OSError:
        pass
    return arr
