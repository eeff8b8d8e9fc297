"""The evaluation harness: top-k accuracies, per-class counts and agreement against a numpy
reference of the same tiny net, on synthetic labelled images (no data set needed) and on the
shared CIFAR-10 test JPEGs with the Caffe-trained cifar10_quick (skipped without the data)."""
from __future__ import annotations

import numpy as np
import pytest

import recaffe
from recaffe.data import Dataset, Transformer

NET = '''name: "tiny"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 4 dim: 4 } } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 6 } }
layer { name: "prob" type: "Softmax" bottom: "ip" top: "prob" }
'''


def _dataset(n=37, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 4, 4, 3), dtype=np.uint8)
    labels = rng.integers(0, 6, n)
    return Dataset("synthetic", images, labels.astype(np.int64), [f"c{i}" for i in range(6)])


def _prep(images):
    return images.transpose(0, 3, 1, 2).astype(np.float32) / 255.0


def _reference_scores(weights, images):
    w, b = weights["ip"]
    return _prep(images).reshape(len(images), -1).astype(np.float64) @ w.T.astype(np.float64) + b


def test_topk_and_per_class_counts_match_numpy():
    ds = _dataset()
    weights = recaffe.random_weights(NET, seed=4)
    net = recaffe.Net(NET, weights)
    res = recaffe.evaluate(net, ds, _prep, top=(1, 2, 5), batch=8, progress=False)
    s = _reference_scores(weights, ds.items)
    rank = np.argsort(-s, axis=1)
    for k in (1, 2, 5):
        assert res.top[k] == pytest.approx(np.mean([ds.labels[i] in rank[i, :k] for i in range(len(ds))]))
    np.testing.assert_array_equal(res.predictions, rank[:, 0])
    np.testing.assert_array_equal(res.per_class_total, np.bincount(ds.labels, minlength=6))
    np.testing.assert_array_equal(res.per_class_correct,
                                  np.bincount(ds.labels[rank[:, 0] == ds.labels], minlength=6))
    assert res.n == len(ds) and res.top1 == res.top[1]
    d = res.to_dict()
    assert d["top2"] == res.top[2] and len(d["per_class_accuracy"]) == 6


def test_limit_progress_and_transformer_preprocessing(capsys):
    ds = _dataset()
    net = recaffe.Net(NET, recaffe.random_weights(NET, seed=1))
    t = Transformer({"data": (1, 3, 4, 4)})
    t.set_transpose("data", (2, 0, 1))
    t.set_input_scale("data", 1 / 255.0)
    a = recaffe.evaluate(net, ds, t, top=(1,), batch=5, limit=11, progress=True)
    b = recaffe.evaluate(net, ds.head(11), _prep, top=(1,), progress=False)
    assert a.n == 11
    np.testing.assert_array_equal(a.predictions, b.predictions)
    assert "evaluate synthetic" in capsys.readouterr().err   # the tqdm bar


def test_agreement_identical_and_perturbed():
    ds = _dataset(20)
    w = recaffe.random_weights(NET, seed=2)
    a, b = recaffe.Net(NET, w), recaffe.Net(NET, w)
    same = recaffe.agreement(a, b, ds, _prep, batch=6, progress=False, output="ip")
    assert same["identical"] and same["max_abs_diff"] == 0 and same["top1_agreement"] == 1 and same["n"] == 20
    w2 = {"ip": [w["ip"][0].copy(), w["ip"][1].copy()]}
    w2["ip"][1][0] += 0.25
    c = recaffe.Net(NET, w2)
    diff = recaffe.agreement(a, c, ds, _prep, batch=6, progress=False, output="ip")
    sa, sc = _reference_scores(w, ds.items), _reference_scores(w2, ds.items)
    assert not diff["identical"]
    assert diff["max_abs_diff"] == pytest.approx(0.25, rel=1e-5)
    assert diff["top1_agreement"] == pytest.approx(np.mean(sa.argmax(1) == sc.argmax(1)))


def test_several_outputs_need_output_name():
    two = NET.replace('layer { name: "prob"', 'layer { name: "ip2" type: "InnerProduct" bottom: "data" top: "ip2" '
                      'inner_product_param { num_output: 6 } }\nlayer { name: "prob"')
    net = recaffe.Net(two, recaffe.random_weights(two, seed=0))
    with pytest.raises(ValueError, match="output="):
        recaffe.evaluate(net, _dataset(), _prep, progress=False)
    assert recaffe.evaluate(net, _dataset(), _prep, top=(1,), progress=False, output="ip2").n == 37


def test_cifar10_quick_on_test_jpegs(data_file):
    """Caffe's trained cifar10_quick on 1,000 CIFAR-10 test JPEGs through the Caffe-style
    Transformer (per-channel mean: the train mean image is not obtainable, and decoding the 50,000
    training JPEGs for it is too slow for a test); the MANIFEST figure for all 10,000 with the
    per-pixel train mean is 74.15%. The per-class counts add up."""
    from recaffe.data import cifar10
    net = recaffe.Net(data_file("cifar10", "cifar10_quick.prototxt"),
                      data_file("cifar10", "cifar10_quick_iter_5000.caffemodel"))
    ds = cifar10("test").stratified(100, seed=0)
    images = ds.arrays()
    t = Transformer({"data": (1, 3, 32, 32)})
    t.set_transpose("data", (2, 0, 1))
    t.set_mean("data", images.reshape(-1, 3).mean(0))
    res = recaffe.evaluate(net, Dataset("cifar-1000", images, ds.labels, ds.class_names), t, top=(1, 5),
                           progress=False)
    assert res.per_class_total.sum() == 1000 and (res.per_class_total == 100).all()
    assert res.per_class_correct.sum() == round(res.top1 * 1000)
    assert 0.66 <= res.top1 <= 0.80 and res.top5 > 0.95
