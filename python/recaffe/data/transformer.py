"""Caffe-style input preprocessing (pycaffe's caffe.io.Transformer, plus resize and centre crop).

    t = Transformer({"data": (1, 3, 227, 227)})
    t.set_transpose("data", (2, 0, 1)); t.set_channel_swap("data", (2, 1, 0))  # RGB -> BGR
    t.set_raw_scale("data", 255); t.set_mean("data", np.array([104, 117, 123]))
    x = t.preprocess("data", load_image(path))   # float32 C x H x W

Order, as in Caffe: float32, resize to the input H x W, transpose, channel swap, x raw_scale,
- mean, x input_scale.
"""
from __future__ import annotations

import numpy as np


def load_image(path, color: bool = True) -> np.ndarray:
    """An image as float32 in [0, 1], H x W x 3 (RGB) or H x W x 1 (caffe.io.load_image)."""
    from PIL import Image
    with Image.open(path) as im:
        im = im.convert("RGB" if color else "L")
        arr = np.asarray(im, dtype=np.float32) / 255.0
    return arr if color else arr[:, :, None]


def resize_image(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of an H x W x C float image to size (H', W'), channel by channel."""
    from PIL import Image
    h, w = size
    if img.shape[:2] == (h, w):
        return img.astype(np.float32, copy=False)
    chans = [np.asarray(Image.fromarray(np.ascontiguousarray(img[:, :, c], dtype=np.float32), mode="F")
                        .resize((w, h), Image.BILINEAR)) for c in range(img.shape[2])]
    return np.stack(chans, axis=2).astype(np.float32)


def center_crop(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    h, w = size
    H, W = img.shape[:2]
    if h > H or w > W:
        raise ValueError(f"cannot crop {h}x{w} from a {H}x{W} image")
    top, left = (H - h) // 2, (W - w) // 2
    return img[top:top + h, left:left + w]


class Transformer:
    def __init__(self, inputs: dict[str, tuple]):
        self.inputs = {k: tuple(v) for k, v in inputs.items()}
        self.transpose, self.channel_swap, self.raw_scale, self.mean, self.input_scale = {}, {}, {}, {}, {}
        self.resize_to, self.crop = {}, {}

    def _check(self, name: str) -> None:
        if name not in self.inputs:
            raise ValueError(f"{name} is not one of the net inputs: {list(self.inputs)}")

    def set_transpose(self, name, order):
        self._check(name)
        self.transpose[name] = tuple(order)

    def set_channel_swap(self, name, order):
        self._check(name)
        self.channel_swap[name] = tuple(order)

    def set_raw_scale(self, name, scale):
        self._check(name)
        self.raw_scale[name] = float(scale)

    def set_input_scale(self, name, scale):
        self._check(name)
        self.input_scale[name] = float(scale)

    def set_mean(self, name, mean):
        """A per-channel vector, or a C x H x W mean image (resized to the input if needed)."""
        self._check(name)
        mean = np.asarray(mean, dtype=np.float32)
        if mean.ndim == 1:
            mean = mean[:, None, None]
        elif mean.ndim == 3 and mean.shape[1:] != self.inputs[name][2:]:
            mean = resize_image(mean.transpose(1, 2, 0), self.inputs[name][2:]).transpose(2, 0, 1)
        self.mean[name] = mean

    def set_resize(self, name, short_side_or_size, crop: tuple[int, int] | None = None):
        """Resize first (to (H, W), or the shorter side to an int), then centre-crop to `crop`
        (default: the input H x W)."""
        self._check(name)
        self.resize_to[name] = short_side_or_size
        self.crop[name] = crop or self.inputs[name][2:]

    def preprocess(self, name: str, img: np.ndarray) -> np.ndarray:
        self._check(name)
        x = np.asarray(img, dtype=np.float32)
        if x.ndim == 2:
            x = x[:, :, None]
        in_hw = self.inputs[name][2:]
        if name in self.resize_to:
            r = self.resize_to[name]
            if isinstance(r, int):
                H, W = x.shape[:2]
                s = r / min(H, W)
                x = resize_image(x, (max(1, round(H * s)), max(1, round(W * s))))
            else:
                x = resize_image(x, tuple(r))
            x = center_crop(x, self.crop[name])
        if x.shape[:2] != tuple(in_hw):
            x = resize_image(x, tuple(in_hw))
        if name in self.transpose:
            x = x.transpose(self.transpose[name])
        if name in self.channel_swap:
            x = x[list(self.channel_swap[name]), :, :]
        if name in self.raw_scale:
            x = x * self.raw_scale[name]
        if name in self.mean:
            x = x - self.mean[name]
        if name in self.input_scale:
            x = x * self.input_scale[name]
        return np.ascontiguousarray(x, dtype=np.float32)

    def batch(self, name: str, images) -> np.ndarray:
        return np.stack([self.preprocess(name, im) for im in images])
