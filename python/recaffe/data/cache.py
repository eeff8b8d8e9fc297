"""An on-disk cache for what is slow to derive from the shared data ($RECAFFE_CACHE, else
~/.cache/recaffe): arrays keyed by a description of their source (the CIFAR-10 train mean needs all
50,000 JPEGs decoded) and whole decoded datasets as one uint8 array (decode once, then load in a
second). Nothing here is ever written into the repository."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

import numpy as np


def cache_dir() -> Path:
    env = os.environ.get("RECAFFE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "recaffe"


def _store(path: Path, save: Callable[[Path], None]) -> None:
    """Write atomically (temp file + rename); an unwritable cache only costs the recomputation."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp{path.suffix}")
        save(tmp)
        os.replace(tmp, path)
    except OSError:
        pass


def cached_array(name: str, key: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """`compute()`'s result, stored as <cache>/<name>-<hash of key>.npy."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = cache_dir() / f"{name}-{digest}.npy"
    if path.exists():
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            pass  # a torn or foreign file: recompute it
    arr = np.asarray(compute())
    _store(path, lambda p: np.save(p, arr, allow_pickle=False))
    return arr


def dataset_arrays(dataset, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(images N x H x W x C uint8, labels int64) of a recaffe.data.Dataset; decoded JPEGs are
    cached under cache_dir(), keyed by the dataset's name, size and file list."""
    items = dataset.items
    if isinstance(items, np.ndarray) and items.dtype == np.uint8:
        return items, np.asarray(dataset.labels, np.int64)
    key = hashlib.sha1("\n".join(str(p) for p in items).encode()).hexdigest()[:12]
    path = cache_dir() / f"{dataset.name}-{len(dataset)}-{key}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                return z["images"], z["labels"]
        except (OSError, ValueError, KeyError):
            pass  # a torn or foreign file: decode again
    rng = range(len(dataset))
    if progress:
        from tqdm import tqdm
        rng = tqdm(rng, desc=f"decode {dataset.name}", leave=False)
    images = np.stack([dataset.image(i) for i in rng])
    labels = np.asarray(dataset.labels, np.int64)
    _store(path, lambda p: np.savez(p, images=images, labels=labels))
    return images, labels
