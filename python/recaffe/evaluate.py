"""Accuracy on labelled data, and agreement between two nets.

    res = recaffe.evaluate(net, recaffe.data.cifar10("test"), recaffe.data.presets.cifar10_caffe)
    res.top1, res.top5, res.per_class_correct
    recaffe.agreement(net_a, net_b, dataset, preprocess)   # top-1 agreement, max |a - b|
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class EvalResult:
    n: int
    top: dict[int, float]                 # k -> top-k accuracy
    per_class_total: np.ndarray
    per_class_correct: np.ndarray         # top-1 correct per class
    predictions: np.ndarray               # top-1 class per image
    extra: dict = field(default_factory=dict)

    @property
    def top1(self) -> float:
        return self.top.get(1, float("nan"))

    @property
    def top5(self) -> float:
        return self.top.get(5, float("nan"))

    def to_dict(self) -> dict:
        return {"n": self.n, **{f"top{k}": v for k, v in self.top.items()},
                "per_class_accuracy": (self.per_class_correct / np.maximum(self.per_class_total, 1)).tolist()}


def _batches(dataset, preprocess, batch: int, limit: int | None, progress: bool, desc: str):
    n = len(dataset) if limit is None else min(limit, len(dataset))
    it = range(0, n, batch)
    if progress:
        from tqdm import tqdm
        it = tqdm(it, desc=desc, total=(n + batch - 1) // batch, leave=False)
    for i in it:
        idx = range(i, min(n, i + batch))
        images = dataset.arrays(idx)
        yield preprocess(images), dataset.labels[list(idx)]


def _as_function(preprocess, net) -> Callable:
    """A preprocess callable, or a recaffe.data.Transformer applied to the net's first input."""
    from .data.transformer import Transformer
    if isinstance(preprocess, Transformer):
        name = net.inputs[0]
        return lambda images: preprocess.batch(name, images)
    if not callable(preprocess):
        raise TypeError(f"preprocess must be a function of a uint8 image batch or a Transformer, "
                        f"got {type(preprocess).__name__}")
    return preprocess


def _scores(net, x, output: str | None):
    out = net.forward(blobs=[output] if output else None, **{net.inputs[0]: x})  # any blob, not only outputs
    key = output or (net.outputs[0] if len(net.outputs) == 1 else None)
    if key is None:
        raise ValueError(f"the net has several outputs {net.outputs}; say which with output=")
    s = out[key]
    return s.reshape(s.shape[0], -1)


def evaluate(net, dataset, preprocess: Callable, top=(1, 5), batch: int = 100, limit: int | None = None,
             output: str | None = None, progress: bool = True) -> EvalResult:
    """Top-k accuracies of `net` on `dataset` (recaffe.data.Dataset) with `preprocess` turning a
    uint8 N x H x W x C batch into the net's input (or a Transformer for the net's first input);
    per-class counts; top-1 predictions."""
    preprocess = _as_function(preprocess, net)
    ncls = len(dataset.class_names)
    total = np.zeros(ncls, np.int64)
    correct_cls = np.zeros(ncls, np.int64)
    hits = {k: 0 for k in top}
    preds = []
    count = 0
    for x, y in _batches(dataset, preprocess, batch, limit, progress, f"evaluate {dataset.name}"):
        s = _scores(net, x, output)
        order = np.argsort(-s, axis=1, kind="stable")
        for k in top:
            hits[k] += int((order[:, :k] == y[:, None]).any(axis=1).sum())
        p = order[:, 0]
        preds.append(p)
        np.add.at(total, y, 1)
        np.add.at(correct_cls, y[p == y], 1)
        count += len(y)
    return EvalResult(count, {k: hits[k] / max(count, 1) for k in top}, total, correct_cls,
                      np.concatenate(preds) if preds else np.zeros(0, np.int64))


def agreement(net_a, net_b, dataset, preprocess: Callable, batch: int = 50, limit: int | None = None,
              output: str | None = None, progress: bool = True) -> dict:
    """How far two nets' outputs differ on the same inputs: top-1 agreement, max |a - b| and the
    max relative difference (|a - b| / max |a|), and whether every score is bit-identical."""
    preprocess = _as_function(preprocess, net_a)
    agree = n = 0
    max_abs = 0.0
    max_ref = 0.0
    identical = True
    for x, _ in _batches(dataset, preprocess, batch, limit, progress, "agreement"):
        a, b = _scores(net_a, x, output), _scores(net_b, x, output)
        agree += int((a.argmax(1) == b.argmax(1)).sum())
        n += len(a)
        d = np.abs(a.astype(np.float64) - b)
        max_abs = max(max_abs, float(d.max()))
        max_ref = max(max_ref, float(np.abs(a).max()))
        identical &= bool(np.array_equal(a, b))
    return {"n": n, "top1_agreement": agree / max(n, 1), "max_abs_diff": max_abs,
            "max_rel_diff": max_abs / max_ref if max_ref else 0.0, "identical": identical}
