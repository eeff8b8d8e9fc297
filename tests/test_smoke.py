"""End-to-end checks of the engine core on real files."""
import numpy as np
import pytest

import recaffe
from recaffe.data import mnist_test


def test_lenet_mnist_accuracy(data_file):
    """Caffe's trained LeNet on the first 2,000 MNIST test digits (the full 10,000 are in
    test_real_models): the reference figure for the whole set is 99.06%."""
    proto = data_file("mnist", "lenet.prototxt")
    weights = data_file("mnist", "lenet_iter_10000.caffemodel")
    net = recaffe.Net(proto, weights)
    ds = mnist_test().head(2000)
    x = ds.arrays().transpose(0, 3, 1, 2).astype(np.float32) * 0.00390625
    correct = 0
    for i in range(0, len(ds), 500):
        prob = net.forward(data=x[i:i + 500])["prob"]
        correct += int((prob.argmax(1) == ds.labels[i:i + 500]).sum())
    assert correct / len(ds) >= 0.985


def test_outputs_are_copies_and_blobs_are_views(data_file):
    net = recaffe.Net(data_file("mnist", "lenet.prototxt"), data_file("mnist", "lenet_iter_10000.caffemodel"))
    x = np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32)
    a = net.forward(data=x)["prob"]
    b = net.forward(data=x[::-1].copy())["prob"]
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(net.blobs["prob"].data, b)
