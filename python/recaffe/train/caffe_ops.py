"""Caffe's layer arithmetic as differentiable PyTorch functions, where PyTorch's own ops differ:
pooling (Caffe's output size, window clipping and average divisor) and LRN (both regions)."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

FLT_MAX = float(np.finfo(np.float32).max)


def pooled_size(size: int, kernel: int, stride: int, pad: int, ceil_mode: bool = True) -> int:
    """Caffe's PoolingLayer::Reshape: ceil (or floor) of (H + 2p - k) / s, plus one; with padding,
    the last window must start inside the image or the left padding (else it is dropped)."""
    v = (size + 2 * pad - kernel) / stride
    out = int(math.ceil(v) if ceil_mode else math.floor(v)) + 1
    if pad > 0 and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _extra_pad(size: int, out: int, kernel: int, stride: int, pad: int) -> int:
    """How far past the image (after the left pad) the last window reaches."""
    return max(0, (out - 1) * stride + kernel - pad - size)


def max_pool(x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int], pad: tuple[int, int],
             ceil_mode: bool = True) -> torch.Tensor:
    """Caffe's MAX pooling: windows are clipped to the image, so padding never wins; a window
    wholly outside the image gives -FLT_MAX as in Caffe."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    H, W = x.shape[-2:]
    Ho, Wo = pooled_size(H, kh, sh, ph, ceil_mode), pooled_size(W, kw, sw, pw, ceil_mode)
    eh, ew = _extra_pad(H, Ho, kh, sh, ph), _extra_pad(W, Wo, kw, sw, pw)
    if ph or pw or eh or ew:
        x = F.pad(x, (pw, ew, ph, eh), value=-FLT_MAX)
    y = F.max_pool2d(x, (kh, kw), (sh, sw))
    return y[..., :Ho, :Wo]


def _ave_divisor(size: int, out: int, kernel: int, stride: int, pad: int) -> np.ndarray:
    """Per-output window size along one axis: Caffe clips the window end to H + pad (padding
    counts, but not the ceil-mode overhang) before dividing."""
    start = np.arange(out) * stride - pad
    end = np.minimum(start + kernel, size + pad)
    return (end - start).astype(np.float64)


def ave_pool(x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int], pad: tuple[int, int],
             ceil_mode: bool = True) -> torch.Tensor:
    """Caffe's AVE pooling: the sum over the window's part inside the image, divided by the
    window's size clipped to the padded image."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    H, W = x.shape[-2:]
    Ho, Wo = pooled_size(H, kh, sh, ph, ceil_mode), pooled_size(W, kw, sw, pw, ceil_mode)
    eh, ew = _extra_pad(H, Ho, kh, sh, ph), _extra_pad(W, Wo, kw, sw, pw)
    if ph or pw or eh or ew:
        x = F.pad(x, (pw, ew, ph, eh), value=0.0)
    total = F.avg_pool2d(x, (kh, kw), (sh, sw)) * float(kh * kw)
    total = total[..., :Ho, :Wo]
    div = np.outer(_ave_divisor(H, Ho, kh, sh, ph), _ave_divisor(W, Wo, kw, sw, pw))
    return total / torch.as_tensor(div, dtype=x.dtype, device=x.device)


def lrn_across_channels(x: torch.Tensor, size: int, alpha: float, beta: float, k: float) -> torch.Tensor:
    """x / (k + alpha/size * sum of x^2 over `size` neighbouring channels)^beta; the window
    starts (size-1)/2 channels before c, as in Caffe's LRNLayer."""
    pre = (size - 1) // 2
    sq = F.pad((x * x).unsqueeze(1), (0, 0, 0, 0, pre, size - 1 - pre)).squeeze(1)
    window = F.avg_pool3d(sq.unsqueeze(1), (size, 1, 1), stride=1).squeeze(1) * float(size)
    return x * (k + alpha / size * window).pow(-beta)


def lrn_within_channel(x: torch.Tensor, size: int, alpha: float, beta: float) -> torch.Tensor:
    """Caffe's WITHIN_CHANNEL LRN: x / (1 + alpha * AVE-pool(x^2, size, pad (size-1)/2))^beta,
    the average pooled with Caffe's divisor."""
    pad = (size - 1) // 2
    mean = ave_pool(x * x, (size, size), (1, 1), (pad, pad), True)
    return x * (1.0 + alpha * mean).pow(-beta)
