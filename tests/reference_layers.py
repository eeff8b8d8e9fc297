"""Independent numpy references for Caffe's layers, written from the formulas (REFERENCE_NOTES A),
not from recaffe's code. Computed in float64; the tests compare with a relative tolerance."""
from __future__ import annotations

import math

import numpy as np


def conv2d(x, w, b=None, stride=(1, 1), pad=(0, 0), dilation=(1, 1), group=1):
    """Caffe convolution: out = floor((H + 2p - (d(k-1)+1)) / s) + 1; weights [K, C/g, kh, kw]."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    N, C, H, W = x.shape
    K, Cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, pad, dilation
    Ho = (H + 2 * ph - (dh * (kh - 1) + 1)) // sh + 1
    Wo = (W + 2 * pw - (dw * (kw - 1) + 1)) // sw + 1
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw))
    xp[:, :, ph:ph + H, pw:pw + W] = x
    out = np.zeros((N, K, Ho, Wo))
    Kg = K // group
    for g in range(group):
        xs = xp[:, g * Cg:(g + 1) * Cg]
        wg = w[g * Kg:(g + 1) * Kg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dh:i * dh + sh * (Ho - 1) + 1:sh, j * dw:j * dw + sw * (Wo - 1) + 1:sw]
                out[:, g * Kg:(g + 1) * Kg] += np.einsum("nchw,kc->nkhw", patch, wg[:, :, i, j])
    if b is not None:
        out += np.asarray(b, np.float64)[None, :, None, None]
    return out


def deconv2d(x, w, b=None, stride=(1, 1), pad=(0, 0), dilation=(1, 1), group=1):
    """Caffe Deconvolution: the transpose of conv2d; weights [C_in, K/g, kh, kw],
    out = s(H-1) + d(k-1) + 1 - 2p."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    N, C, H, W = x.shape
    _, Kg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, pad, dilation
    Ho = sh * (H - 1) + dh * (kh - 1) + 1 - 2 * ph
    Wo = sw * (W - 1) + dw * (kw - 1) + 1 - 2 * pw
    full = np.zeros((N, Kg * group, sh * (H - 1) + dh * (kh - 1) + 1, sw * (W - 1) + dw * (kw - 1) + 1))
    Cg = C // group
    for g in range(group):
        xs = x[:, g * Cg:(g + 1) * Cg]
        wg = w[g * Cg:(g + 1) * Cg]
        for i in range(kh):
            for j in range(kw):
                full[:, g * Kg:(g + 1) * Kg, i * dh:i * dh + sh * (H - 1) + 1:sh, j * dw:j * dw + sw * (W - 1) + 1:sw] \
                    += np.einsum("nchw,ck->nkhw", xs, wg[:, :, i, j])
    out = full[:, :, ph:ph + Ho, pw:pw + Wo]
    if b is not None:
        out = out + np.asarray(b, np.float64)[None, :, None, None]
    return out


def pool_output_size(H, k, s, p, ceil=True):
    n = (H + 2 * p - k) / s
    out = (math.ceil(n) if ceil else math.floor(n)) + 1
    if p > 0 and (out - 1) * s >= H + p:
        out -= 1  # the last window must start inside the image or its leading pad
    return out


def pool2d(x, method, kernel, stride=(1, 1), pad=(0, 0), ceil=True, global_pool=False):
    """Caffe pooling: MAX skips padded cells; AVE divides by the window clipped to [-p, H+p)."""
    x = np.asarray(x, np.float64)
    N, C, H, W = x.shape
    if global_pool:
        kernel, stride, pad = (H, W), (1, 1), (0, 0)
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    Ho, Wo = pool_output_size(H, kh, sh, ph, ceil), pool_output_size(W, kw, sw, pw, ceil)
    out = np.zeros((N, C, Ho, Wo))
    for oh in range(Ho):
        for ow in range(Wo):
            hs, ws = oh * sh - ph, ow * sw - pw
            he, we = min(hs + kh, H + ph), min(ws + kw, W + pw)
            area = (he - hs) * (we - ws)
            h0, w0, h1, w1 = max(hs, 0), max(ws, 0), min(he, H), min(we, W)
            win = x[:, :, h0:h1, w0:w1]
            if win.size == 0:  # a ceil overhang past the image (stride > kernel): Caffe leaves -FLT_MAX / 0 / 0
                out[:, :, oh, ow] = -np.finfo(np.float32).max if method == "MAX" else np.nan
            elif method == "MAX":
                out[:, :, oh, ow] = win.max(axis=(2, 3))
            else:
                out[:, :, oh, ow] = win.sum(axis=(2, 3)) / area
    return out


def lrn_across(x, size=5, alpha=1.0, beta=0.75, k=1.0):
    x = np.asarray(x, np.float64)
    C = x.shape[1]
    pre = (size - 1) // 2
    sq = x ** 2
    scale = np.full_like(x, k)
    for c in range(C):
        lo, hi = max(0, c - pre), min(C, c - pre + size)
        scale[:, c] += alpha / size * sq[:, lo:hi].sum(axis=1)
    return x * scale ** -beta


def lrn_within(x, size=5, alpha=1.0, beta=0.75):
    x = np.asarray(x, np.float64)
    N, C, H, W = x.shape
    pre = (size - 1) // 2
    sq = np.zeros((N, C, H + 2 * pre, W + 2 * pre))
    sq[:, :, pre:pre + H, pre:pre + W] = x ** 2
    box = np.zeros_like(x)
    for i in range(size):
        for j in range(size):
            box += sq[:, :, i:i + H, j:j + W]
    return x * (1 + alpha * box / size ** 2) ** -beta


def softmax(x, axis=1):
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def inner_product(x, w, b=None, axis=1, transpose=False):
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    axis = axis % x.ndim
    m = x.reshape(int(np.prod(x.shape[:axis], dtype=np.int64)), -1)
    y = m @ (w if transpose else w.T)
    if b is not None:
        y = y + np.asarray(b, np.float64)
    return y.reshape(x.shape[:axis] + (y.shape[-1],))


def batch_norm_global(x, mean_sum, var_sum, factor, eps=1e-5):
    f = 0.0 if factor == 0 else 1.0 / factor
    shape = (1, -1) + (1,) * (np.ndim(x) - 2)
    mean = np.asarray(mean_sum, np.float64).reshape(shape) * f
    var = np.asarray(var_sum, np.float64).reshape(shape) * f
    return (np.asarray(x, np.float64) - mean) / np.sqrt(var + eps)


def broadcast_operand(x_shape, operand, axis):
    """Reshape an operand of shape x_shape[axis:axis+n] so it broadcasts against x (Scale/Bias)."""
    operand = np.asarray(operand, np.float64)
    if operand.ndim == 0:
        return operand
    axis = axis % len(x_shape)
    return operand.reshape((1,) * axis + operand.shape + (1,) * (len(x_shape) - axis - operand.ndim))


def argmax(x, top_k=1, out_max_val=False, axis=None):
    """Caffe ArgMax: ties go to the larger index (partial_sort with greater on (value, index))."""
    x = np.asarray(x, np.float64)
    if axis is None:
        flat = x.reshape(x.shape[0], -1)
        idx = np.array([sorted(range(flat.shape[1]), key=lambda j: (row[j], j), reverse=True)[:top_k]
                        for row in flat])
        vals = np.take_along_axis(flat, idx, 1)
        shape = [x.shape[0], 2 if out_max_val else 1, top_k] + [1] * max(0, x.ndim - 3)
        out = np.stack([idx, vals], 1) if out_max_val else idx[:, None, :]
        return out.reshape(shape)
    axis = axis % x.ndim
    moved = np.moveaxis(x, axis, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    idx = np.array([sorted(range(flat.shape[1]), key=lambda j: (row[j], j), reverse=True)[:top_k] for row in flat])
    res = np.take_along_axis(flat, idx, 1) if out_max_val else idx
    return np.moveaxis(res.reshape(moved.shape[:-1] + (top_k,)), -1, axis)


def power(x, power=1.0, scale=1.0, shift=0.0):
    return (shift + scale * np.asarray(x, np.float64)) ** power


def crop(x, ref_shape, axis=2, offset=()):
    x = np.asarray(x)
    axis = axis % x.ndim
    sl = []
    for a in range(x.ndim):
        if a < axis:
            sl.append(slice(None))
        else:
            o = 0 if not offset else (offset[0] if len(offset) == 1 else offset[a - axis])
            sl.append(slice(o, o + ref_shape[a]))
    return x[tuple(sl)]


ACTIVATIONS = {
    "ReLU": lambda x, slope=0.0: np.where(x > 0, x, x * slope),
    "Sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "TanH": np.tanh,
    "AbsVal": np.abs,
}


def softmax_loss(x, labels, axis=1, ignore_label=None, normalization="VALID"):
    """Caffe's SoftmaxWithLoss forward: mean (by the normalisation) of -log p[label]."""
    p = softmax(x, axis)
    p = np.moveaxis(p, axis, -1).reshape(-1, p.shape[axis])
    labels = np.asarray(labels).reshape(-1).astype(int)
    keep = labels != ignore_label if ignore_label is not None else np.ones(len(labels), bool)
    loss = -np.log(np.maximum(p[np.arange(len(labels))[keep], labels[keep]], np.finfo(np.float32).tiny)).sum()
    outer = int(np.prod(np.shape(x)[:axis % np.ndim(x)]))
    norm = {"FULL": len(labels), "VALID": keep.sum(), "BATCH_SIZE": outer, "NONE": 1}[normalization]
    return loss / max(1.0, norm)


def accuracy(x, labels, top_k=1, axis=1, ignore_label=None):
    """Caffe's Accuracy: a label is a hit when fewer than top_k scores are >= its own (besides itself)."""
    s = np.moveaxis(np.asarray(x, np.float64), axis, -1).reshape(-1, np.shape(x)[axis])
    labels = np.asarray(labels).reshape(-1).astype(int)
    hits = count = 0
    for row, l in zip(s, labels):
        if ignore_label is not None and l == ignore_label:
            continue
        count += 1
        hits += (row >= row[l]).sum() - 1 < top_k
    return hits / count if count else 0.0
