"""Proposition 1 of the ViP paper: a bound on the output error of one ViP insertion, next to the
error measured on real inputs.

If the map ViP interpolates, O^(ls), is L-Lipschitz over (h, w), every interpolated value is within
sqrt(2) L of the original (it averages neighbours at distance 1 or sqrt(2); the sampled positions
are exact, since the stride-2 conv computes the original conv at even positions). Each later layer
maps a per-element error bound e to:
- Convolution / InnerProduct: e * sqrt(C M^2) * B, where B = max over filters of the filter's l2 norm
  (Cauchy-Schwarz over the C M^2 inputs of one output; the bias cancels) - the paper's
  sqrt(C^(l)) M^(l) B^(l) factor;
- ReLU (|slope| <= 1), TanH, Clip, AbsVal: e; Sigmoid: e / 4; max or average pooling, Dropout (test),
  Split, Flatten, Reshape, ViP: e; BatchNorm / Scale: e * max |per-channel factor|.
The l2 bound of a layer's output is sqrt(C' H W) e (Eq. 6). Other layers (LRN, Eltwise, Softmax...)
end the chain. The paper defines B as sqrt(mean^2 + std^2) of the filter, which is its RMS value,
sqrt(C M^2) times smaller than its l2 norm; with that reading the inequality does not follow (and
`literal_paper_bound` shows how often it fails), so `bound` uses the l2 norm.

    res = vip_error_bound(param, weights, "conv2", inputs)   # inputs: a preprocessed batch
    res.table()  # per layer: measured ||O_vip - O_orig||_2 (max over images), bound, ratio
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..errors import LayerError
from ..io import read_net
from .virtual_pooling import insertion_point, vip

_IDENTITY_TYPES = ("ReLU", "TanH", "Clip", "AbsVal", "Pooling", "Dropout", "Split", "Flatten", "Reshape", "ViP",
                   "Interp")


def lipschitz_constant(o: np.ndarray) -> np.ndarray:
    """Per image: max over channels and neighbouring positions (horizontal, vertical: distance 1;
    diagonal: sqrt(2)) of |O(p) - O(q)| / |p - q|, for an N x C x H x W map."""
    o = o.astype(np.float64)
    n = o.shape[0]
    parts = [np.zeros(n)]
    if o.shape[3] > 1:
        parts.append(np.abs(np.diff(o, axis=3)).reshape(n, -1).max(1))
    if o.shape[2] > 1:
        parts.append(np.abs(np.diff(o, axis=2)).reshape(n, -1).max(1))
    if o.shape[2] > 1 and o.shape[3] > 1:
        d1 = np.abs(o[:, :, 1:, 1:] - o[:, :, :-1, :-1]).reshape(n, -1).max(1)
        d2 = np.abs(o[:, :, 1:, :-1] - o[:, :, :-1, 1:]).reshape(n, -1).max(1)
        parts.append(np.maximum(d1, d2) / math.sqrt(2))
    return np.max(np.stack(parts), axis=0)


def _filter_norm(w: np.ndarray) -> tuple[float, float, int]:
    """(max filter l2 norm, max filter RMS = sqrt(mean^2 + std^2), fan-in C M^2)."""
    f = w.reshape(w.shape[0], -1).astype(np.float64)
    l2 = np.sqrt((f ** 2).sum(1))
    return float(l2.max()), float(np.sqrt((f ** 2).mean(1)).max()), f.shape[1]


def _affine_factor(layer, weights) -> float:
    w = weights[layer.name]
    if layer.type == "BatchNorm":
        f = float(w[2].ravel()[0])
        var = np.asarray(w[1], np.float64).ravel() * (0.0 if f == 0 else 1.0 / f)
        eps = layer.batch_norm_param.eps if layer.batch_norm_param.HasField("eps") else 1e-5
        return float(np.max(1.0 / np.sqrt(var + eps)))
    return float(np.max(np.abs(np.asarray(w[0], np.float64))))  # Scale: gamma


@dataclass
class LayerBound:
    layer: str
    blob: str
    measured: np.ndarray        # per image ||O_vip - O_orig||_2
    bound: np.ndarray           # per image, Eq. 6 with B the filters' l2 norm
    literal_paper_bound: np.ndarray  # per image, Eq. 6 with B = sqrt(mean^2 + std^2) as the paper defines it

    @property
    def holds(self) -> bool:
        return bool(np.all(self.measured <= self.bound * (1 + 1e-5) + 1e-6))

    @property
    def max_ratio(self) -> float:
        return float(np.max(self.measured / np.maximum(self.bound, 1e-30)))


@dataclass
class BoundResult:
    conv: str
    lipschitz: np.ndarray        # per image L
    layers: list[LayerBound] = field(default_factory=list)
    stopped_at: str | None = None  # the first layer the bound cannot pass (or None)

    @property
    def holds(self) -> bool:
        return all(l.holds for l in self.layers)

    def rows(self) -> list[list]:
        return [[l.layer, l.blob, float(l.measured.max()), float(l.bound.max()), l.max_ratio,
                 float(l.literal_paper_bound.max()), bool(np.all(l.measured <= l.literal_paper_bound))]
                for l in self.layers]

    HEADERS = ["layer", "blob", "measured max", "bound max", "max measured/bound", "paper-literal bound",
               "measured <= paper-literal"]


def vip_error_bound(param, weights: Mapping, conv: str, inputs: Mapping[str, np.ndarray] | np.ndarray,
                    end: str | None = None) -> BoundResult:
    """Proposition 1 for ViP after `conv`: runs the original and the ViP net on `inputs` (an array for
    the single input, or {input: array}) and returns, for each layer from the insertion point to `end`
    (default: as far as the bound goes), the measured l2 output error per image and the bound."""
    from ..net import Net

    net_p = read_net(param)
    names = [l.name for l in net_p.layer]
    if conv not in names:
        raise LayerError(f"vip_error_bound: no layer named '{conv}'", conv)
    after_index, blob = insertion_point(net_p, names.index(conv))
    vip_p, _, rep = vip(net_p, weights, [conv])
    site = rep["sites"][0]

    orig = Net(net_p, weights)
    viped = Net(vip_p, weights)
    feeds = inputs if isinstance(inputs, Mapping) else {orig.inputs[0]: inputs}
    orig.forward(**feeds)
    viped.forward(**feeds)

    L = lipschitz_constant(orig.blobs[blob].data)
    e = math.sqrt(2) * L          # per-element error bound after ViP (per image)
    e_lit = e.copy()
    res = BoundResult(conv, L)

    def record(layer_name, top_orig, top_vip, e_now, e_lit_now):
        a = orig.blobs[top_orig].data.astype(np.float64)
        b = viped.blobs[top_vip].data.astype(np.float64)
        n = a.shape[0]
        measured = np.sqrt(((a - b) ** 2).reshape(n, -1).sum(1))
        count = a[0].size
        res.layers.append(LayerBound(layer_name, top_orig, measured, math.sqrt(count) * e_now,
                                     math.sqrt(count) * e_lit_now))

    record(site.vip_layer, blob, site.output_blob, e, e_lit)
    # the blob each layer of the original net writes last (in-place layers overwrite)
    last_writer = {}
    for i, l in enumerate(net_p.layer):
        for t in l.top:
            last_writer[t] = i
    start = after_index + 1
    tracked = {blob}
    for i in range(start, len(net_p.layer)):
        layer = net_p.layer[i]
        if not any(b in tracked for b in layer.bottom):
            continue
        t = layer.type
        if t in ("Convolution", "InnerProduct"):
            l2, rms, fan_in = _filter_norm(weights[layer.name][0])
            e = e * math.sqrt(fan_in) * l2
            e_lit = e_lit * math.sqrt(fan_in) * rms
        elif t == "Sigmoid":
            e, e_lit = e / 4, e_lit / 4
        elif t in ("BatchNorm", "Scale") and len(layer.bottom) == 1:
            f = _affine_factor(layer, weights)
            e, e_lit = e * f, e_lit * f
        elif t == "ReLU" and abs(layer.relu_param.negative_slope) > 1:
            s = abs(layer.relu_param.negative_slope)
            e, e_lit = e * s, e_lit * s
        elif t == "PReLU":
            s = max(1.0, float(np.abs(weights[layer.name][0]).max()))
            e, e_lit = e * s, e_lit * s
        elif t not in _IDENTITY_TYPES or len(layer.bottom) != 1:
            res.stopped_at = layer.name
            break
        tracked = set(layer.top)
        top = layer.top[0]
        if last_writer.get(top) == i:
            record(layer.name, top, top, e, e_lit)
        if end is not None and layer.name == end:
            break
    return res
