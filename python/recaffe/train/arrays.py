"""The seeded augmentation the training recipes use (and, re-exported, the cached decoded arrays)."""
from __future__ import annotations

import numpy as np

from ..data.cache import cache_dir, dataset_arrays  # noqa: F401


def augment(images: np.ndarray, rng: np.random.Generator, crop_pad: int = 4, flip: bool = True) -> np.ndarray:
    """Random crops of the image zero-padded by `crop_pad` on each side, and random horizontal
    flips (the standard CIFAR augmentation); N x H x W x C uint8 in and out."""
    n, h, w = images.shape[:3]
    out = images
    if crop_pad:
        padded = np.pad(images, ((0, 0), (crop_pad, crop_pad), (crop_pad, crop_pad), (0, 0)))
        dy = rng.integers(0, 2 * crop_pad + 1, n)
        dx = rng.integers(0, 2 * crop_pad + 1, n)
        out = np.empty_like(images)
        for i in range(n):
            out[i] = padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
    if flip:
        mask = rng.random(n) < 0.5
        out = out.copy() if out is images else out
        out[mask] = out[mask, :, ::-1]
    return out
