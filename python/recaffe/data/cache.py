"""Decoded images cached as one uint8 array outside the repository (~/.cache/recaffe, or
$RECAFFE_CACHE): the 50,000 CIFAR-10 training JPEGs decode once, then load in a second."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np


def cache_dir() -> Path:
    d = Path(os.environ.get("RECAFFE_CACHE") or Path.home() / ".cache" / "recaffe")
    d.mkdir(parents=True, exist_ok=True)
    return d


def dataset_arrays(dataset, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(images N x H x W x C uint8, labels int64) of a recaffe.data.Dataset; decoded JPEGs are
    cached under cache_dir(), keyed by the dataset's name, size and file list."""
    items = dataset.items
    if isinstance(items, np.ndarray) and items.dtype == np.uint8:
        return items, np.asarray(dataset.labels, np.int64)
    key = hashlib.sha1("\n".join(str(p) for p in items).encode()).hexdigest()[:12]
    path = cache_dir() / f"{dataset.name}-{len(dataset)}-{key}.npz"
    if path.exists():
        with np.load(path) as z:
            return z["images"], z["labels"]
    rng = range(len(dataset))
    if progress:
        from tqdm import tqdm
        rng = tqdm(rng, desc=f"decode {dataset.name}", leave=False)
    images = np.stack([dataset.image(i) for i in rng])
    labels = np.asarray(dataset.labels, np.int64)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, images=images, labels=labels)
    os.replace(tmp, path)
    return images, labels
