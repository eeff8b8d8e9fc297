"""The input preprocessing each model family was trained with, as functions from a batch of
HxWxC uint8 RGB images to the net's N x C x H x W float32 input."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .transformer import center_crop, resize_image

IMAGENET_BGR_MEAN = np.array([104.0, 117.0, 123.0], np.float32)  # Caffe's ilsvrc12 per-channel mean


def mnist(images: np.ndarray) -> np.ndarray:
    """LeNet: raw 0..255 pixels x 1/256 (Caffe's scale: 0.00390625), no mean."""
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2), dtype=np.float32) * np.float32(0.00390625)


@lru_cache(maxsize=1)
def cifar10_train_mean() -> np.ndarray:
    """Per-pixel mean (3 x 32 x 32, RGB) of the 50,000 CIFAR-10 training JPEGs, as Caffe's
    compute_image_mean makes mean.binaryproto (which is not obtainable; the MANIFEST figures use
    this). Decoding takes 10-30 s, so it is kept in the on-disk cache (data.cache)."""
    from .cache import cached_array
    from .datasets import cifar10
    ds = cifar10("train")

    def compute():
        acc = np.zeros((32, 32, 3), np.float64)
        for i in range(len(ds)):
            acc += ds.image(i)
        return (acc / len(ds)).transpose(2, 0, 1).astype(np.float32)

    return cached_array("cifar10-train-mean", ds.meta["key"], compute)


def cifar10_caffe(images: np.ndarray) -> np.ndarray:
    """The Caffe CIFAR-10 examples (cifar10_quick/full): RGB 0..255 minus the per-pixel train mean."""
    x = images.transpose(0, 3, 1, 2).astype(np.float32)
    return np.ascontiguousarray(x - cifar10_train_mean()[None])


def imagenet_caffe(images, size: int = 224, short_side: int = 256) -> np.ndarray:
    """BVLC ImageNet models: resize the shorter side to 256, centre crop 224, RGB->BGR, 0..255,
    minus the per-channel mean (104, 117, 123)."""
    out = []
    for im in images:
        x = np.asarray(im, np.float32)
        H, W = x.shape[:2]
        s = short_side / min(H, W)
        x = resize_image(x, (max(size, round(H * s)), max(size, round(W * s))))
        x = center_crop(x, (size, size))
        x = x[:, :, ::-1] - IMAGENET_BGR_MEAN
        out.append(x.transpose(2, 0, 1))
    return np.ascontiguousarray(np.stack(out), dtype=np.float32)
