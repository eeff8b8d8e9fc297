"""Caffe's Accuracy and SoftmaxWithLoss layers (accuracy_layer.cpp, softmax_loss_layer.cpp),
forward only, in numpy: the TEST phase of every train_val file ends in them, so those files run
as Caffe runs them. They are used when the C++ core has no layer of the type (net.py)."""
from __future__ import annotations

import numpy as np

from .errors import LayerError

FLT_MIN = np.float32(np.finfo(np.float32).tiny)


def _split(shape, axis: int, name: str):
    """(outer, classes, inner) around the canonical `axis`, as Caffe's count(0, axis) etc."""
    n = len(shape)
    if not -n <= axis < n:
        raise LayerError(f"layer '{name}': axis {axis} out of range for a {n}-D input", name)
    axis %= n
    return int(np.prod(shape[:axis], dtype=np.int64)), int(shape[axis]), int(np.prod(shape[axis + 1:],
                                                                                       dtype=np.int64))


def _labels(label: np.ndarray, outer: int, inner: int, classes: int, ignore, name: str) -> np.ndarray:
    if label.size != outer * inner:
        raise LayerError(f"layer '{name}': {label.size} labels for {outer * inner} predictions (Caffe: 'Number of "
                         f"labels must match number of predictions')", name)
    lab = label.reshape(outer, inner).astype(np.int64)
    bad = (lab < 0) | (lab >= classes)
    if ignore is not None:
        bad &= lab != ignore
    if bad.any():
        raise LayerError(f"layer '{name}': label {int(lab[bad][0])} outside 0..{classes - 1}", name)
    return lab


class AccuracyLayer:
    """top[0]: the fraction of (non-ignored) predictions whose true class is among the top_k
    scores, ties counted against it as in Caffe; optional top[1]: accuracy per class."""

    def __init__(self, layer):
        p = layer.accuracy_param
        self.name, self.top_k, self.axis = layer.name, p.top_k, p.axis
        self.ignore = p.ignore_label if p.HasField("ignore_label") else None
        self.n_tops = len(layer.top)

    def reshape(self, bottom_shapes):
        if len(bottom_shapes) != 2:
            raise LayerError(f"layer '{self.name}': Accuracy takes scores and labels", self.name)
        outer, classes, inner = _split(bottom_shapes[0], self.axis, self.name)
        if self.top_k > classes:
            raise LayerError(f"layer '{self.name}': top_k {self.top_k} exceeds the {classes} classes", self.name)
        return [()] + ([(classes,)] if self.n_tops > 1 else [])

    def forward(self, bottoms, tops):
        scores = np.asarray(bottoms[0])
        outer, classes, inner = _split(scores.shape, self.axis, self.name)
        s = scores.reshape(outer, classes, inner)
        lab = _labels(np.asarray(bottoms[1]), outer, inner, classes, self.ignore, self.name)
        valid = np.ones_like(lab, bool) if self.ignore is None else lab != self.ignore
        safe = np.where(valid, lab, 0)
        true_score = np.take_along_axis(s, safe[:, None, :], axis=1)
        better = (s >= true_score).sum(axis=1) - 1  # the true class counts itself once
        hit = (better < self.top_k) & valid
        count = int(valid.sum())
        tops[0][...] = hit.sum() / count if count else 0.0
        if self.n_tops > 1:
            per_total = np.bincount(lab[valid], minlength=classes)
            per_hit = np.bincount(lab[hit], minlength=classes)
            tops[1][...] = np.where(per_total > 0, per_hit / np.maximum(per_total, 1), 0.0)


class SoftmaxWithLossLayer:
    """top[0]: mean of -log(max(softmax(x)[label], FLT_MIN)) over the non-ignored predictions,
    divided as loss_param.normalization says (legacy `normalize`: VALID / BATCH_SIZE);
    optional top[1]: the softmax probabilities."""

    def __init__(self, layer):
        from .io.proto import pb
        lp = layer.loss_param
        self.name, self.axis, self.n_tops = layer.name, layer.softmax_param.axis, len(layer.top)
        self.ignore = lp.ignore_label if lp.HasField("ignore_label") else None
        if lp.HasField("normalize") and not lp.HasField("normalization"):
            self.norm = pb.LossParameter.VALID if lp.normalize else pb.LossParameter.BATCH_SIZE
        else:
            self.norm = lp.normalization
        self.pb = pb

    def reshape(self, bottom_shapes):
        if len(bottom_shapes) != 2:
            raise LayerError(f"layer '{self.name}': SoftmaxWithLoss takes scores and labels", self.name)
        _split(bottom_shapes[0], self.axis, self.name)
        return [()] + ([tuple(bottom_shapes[0])] if self.n_tops > 1 else [])

    def forward(self, bottoms, tops):
        x = np.asarray(bottoms[0], np.float32)
        outer, classes, inner = _split(x.shape, self.axis, self.name)
        s = x.reshape(outer, classes, inner)
        e = np.exp(s - s.max(axis=1, keepdims=True))
        prob = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
        lab = _labels(np.asarray(bottoms[1]), outer, inner, classes, self.ignore, self.name)
        valid = np.ones_like(lab, bool) if self.ignore is None else lab != self.ignore
        p_true = np.take_along_axis(prob, np.where(valid, lab, 0)[:, None, :], axis=1)[:, 0, :]
        loss = -np.log(np.maximum(p_true, FLT_MIN), dtype=np.float64)[valid].sum()
        L = self.pb.LossParameter
        normalizer = {L.FULL: outer * inner, L.VALID: int(valid.sum()), L.BATCH_SIZE: outer, L.NONE: 1}[self.norm]
        tops[0][...] = loss / max(1.0, float(normalizer))
        if self.n_tops > 1:
            tops[1][...] = prob.reshape(x.shape)


FALLBACK_LAYERS = {"Accuracy": AccuracyLayer, "SoftmaxWithLoss": SoftmaxWithLossLayer}
