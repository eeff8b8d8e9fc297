"""Accuracy and SoftmaxWithLoss (the TEST-phase tail of every train_val file) against loop-by-loop
references written from Caffe's accuracy_layer.cpp and softmax_loss_layer.cpp."""
import math

import numpy as np
import pytest

import recaffe
from recaffe.errors import LayerError


def net_text(tail: str, n=6, c=5, extra_dims="") -> str:
    return f"""
    layer {{ name: "in" type: "Input" top: "x" top: "label"
            input_param {{ shape {{ dim: {n} dim: {c} {extra_dims} }} shape {{ dim: {n} }} }} }}
    {tail}"""


def accuracy_reference(scores, labels, top_k, ignore=None):
    hits = count = 0
    for s, l in zip(scores, labels):
        if ignore is not None and l == ignore:
            continue
        count += 1
        better = sum(1 for k in range(len(s)) if s[k] >= s[int(l)]) - 1
        hits += better < top_k
    return hits / count if count else 0.0


def loss_reference(scores, labels, norm="VALID", ignore=None):
    total, valid = 0.0, 0
    for s, l in zip(scores.astype(np.float64), labels):
        if ignore is not None and l == ignore:
            continue
        p = math.exp(s[int(l)] - s.max()) / sum(math.exp(v - s.max()) for v in s)
        total -= math.log(max(p, np.finfo(np.float32).tiny))
        valid += 1
    div = {"VALID": valid, "BATCH_SIZE": len(labels), "FULL": len(labels), "NONE": 1}[norm]
    return total / max(1, div)


@pytest.mark.parametrize("top_k", [1, 2, 5])
def test_accuracy_with_ties(top_k):
    rng = np.random.default_rng(top_k)
    scores = rng.integers(0, 3, (6, 5)).astype(np.float32)  # many ties: Caffe counts them against the label
    labels = rng.integers(0, 5, 6).astype(np.float32)
    net = recaffe.Net(net_text(f'layer {{ name: "acc" type: "Accuracy" bottom: "x" bottom: "label" top: "acc" '
                               f'accuracy_param {{ top_k: {top_k} }} }}'))
    out = net.forward(x=scores, label=labels)["acc"]
    assert out.shape == () and out == pytest.approx(accuracy_reference(scores, labels, top_k))


def test_accuracy_ignore_label_and_per_class_top():
    scores = np.eye(6, 5, dtype=np.float32)
    labels = np.array([0, 1, 4, 3, 2, 4], np.float32)  # rows 0, 1, 3 right; row 5 (all zeros, label 4) ties
    net = recaffe.Net(net_text('layer { name: "acc" type: "Accuracy" bottom: "x" bottom: "label" top: "acc" '
                               'top: "per_class" accuracy_param { ignore_label: 2 } }'))
    out = net.forward(x=scores, label=labels)
    assert out["acc"] == pytest.approx(accuracy_reference(scores, labels, 1, ignore=2))
    np.testing.assert_allclose(out["per_class"], [1, 1, 0, 1, 0])


@pytest.mark.parametrize("norm", ["VALID", "BATCH_SIZE", "FULL", "NONE"])
def test_softmax_with_loss(norm):
    rng = np.random.default_rng(0)
    scores = (rng.standard_normal((6, 5)) * 4).astype(np.float32)
    labels = np.array([0, 3, 1, 1, 4, 2], np.float32)
    net = recaffe.Net(net_text('layer { name: "loss" type: "SoftmaxWithLoss" bottom: "x" bottom: "label" '
                               f'top: "loss" loss_param {{ ignore_label: 1 normalization: {norm} }} }}'))
    got = float(net.forward(x=scores, label=labels)["loss"])
    assert got == pytest.approx(loss_reference(scores, labels, norm, ignore=1), rel=1e-5)


def test_softmax_with_loss_legacy_normalize_false_divides_by_batch():
    scores = np.zeros((6, 5), np.float32)
    labels = np.zeros(6, np.float32)
    net = recaffe.Net(net_text('layer { name: "loss" type: "SoftmaxWithLoss" bottom: "x" bottom: "label" '
                               'top: "loss" top: "prob" loss_param { normalize: false ignore_label: 3 } }'))
    out = net.forward(x=scores, label=labels)
    assert float(out["loss"]) == pytest.approx(math.log(5), rel=1e-6)
    np.testing.assert_allclose(out["prob"], 0.2, rtol=1e-6)


def test_out_of_range_label_is_an_error():
    net = recaffe.Net(net_text('layer { name: "acc" type: "Accuracy" bottom: "x" bottom: "label" top: "acc" }'))
    with pytest.raises(LayerError, match=r"acc.*label 7"):
        net.forward(x=np.zeros((6, 5), np.float32), label=np.full(6, 7, np.float32))


def test_lenet_train_test_runs_its_test_phase(data_file):
    """Caffe's lenet_train_test in TEST phase, fed the first 100 test digits: Accuracy and the
    loss come out as computed from the deploy net's probabilities."""
    from recaffe.data import mnist_test, presets
    model = data_file("mnist", "lenet_iter_10000.caffemodel")
    net = recaffe.Net(data_file("mnist", "lenet_train_test.prototxt"), model,
                      input_shapes={"data": (100, 1, 28, 28), "label": (100,)})
    ds = mnist_test().head(100)
    x = presets.mnist(ds.arrays())
    out = net.forward(data=x, label=ds.labels.astype(np.float32))
    prob = recaffe.Net(data_file("mnist", "lenet.prototxt"), model).forward(data=x)["prob"]
    assert float(out["accuracy"]) == pytest.approx((prob.argmax(1) == ds.labels).mean())
    expected_loss = -np.log(prob[np.arange(100), ds.labels]).mean()
    assert float(out["loss"]) == pytest.approx(expected_loss, rel=1e-4)
