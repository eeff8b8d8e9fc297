"""Proposition 1 on a trained model: for ViP after each conv of Caffe's cifar10_quick, the measured
output error on real CIFAR-10 test images never exceeds the bound, layer by layer to the logits;
at the ViP layer itself every element is within sqrt(2) L."""
import math

import numpy as np
import pytest

import recaffe
from recaffe.transforms import vip, vip_error_bound
from recaffe.transforms.vip_bound import lipschitz_constant


@pytest.fixture(scope="module")
def quick(request):
    from conftest import need_data
    proto = need_data("cifar10", "cifar10_quick.prototxt")
    weights = need_data("cifar10", "cifar10_quick_iter_5000.caffemodel")
    need_data("cifar10", "test")
    from recaffe.data import cifar10
    images = cifar10("test").stratified(2, seed=0).arrays().astype(np.float32)  # 20 real images, RGB 0..255
    x = np.ascontiguousarray((images - images.mean(axis=(0, 1, 2))).transpose(0, 3, 1, 2))
    param, w = recaffe.load(str(proto), str(weights))
    return param, w, x


@pytest.mark.parametrize("conv", ["conv1", "conv2", "conv3"])
def test_measured_error_is_within_the_bound(conv, quick):
    param, w, x = quick
    res = vip_error_bound(param, w, conv, x)
    assert res.stopped_at == "prob"          # the chain runs through to the logits, Softmax ends it
    assert res.layers[-1].layer == "ip2"
    for lb in res.layers:
        assert lb.holds, (lb.layer, lb.measured, lb.bound)
        assert np.all(lb.measured > 0)       # ViP really changed the output
    assert res.holds


def test_elementwise_error_at_the_vip_layer(quick):
    """|O_vip - O_orig| <= sqrt(2) L for every element of the interpolated map (the base case)."""
    param, w, x = quick
    new, _, rep = vip(param, w, ["conv2"])
    a, b = recaffe.Net(param, w), recaffe.Net(new, w)
    a.forward(data=x)
    b.forward(data=x)
    orig = a.blobs["conv2"].data.astype(np.float64)  # after the in-place relu2
    err = np.abs(b.blobs["lininterp/conv2"].data - orig).reshape(len(x), -1).max(1)
    L = lipschitz_constant(orig)
    assert np.all(err <= math.sqrt(2) * L * (1 + 1e-6))
    assert np.all(err > 0.05 * L)  # and the base bound is not vacuous


def test_lipschitz_constant_against_brute_force(rng):
    o = rng.standard_normal((2, 3, 5, 4))
    want = []
    for img in o:
        best = 0.0
        for c in range(3):
            for h in range(5):
                for v in range(4):
                    for dh, dv in ((0, 1), (1, 0), (1, 1), (1, -1)):
                        h2, v2 = h + dh, v + dv
                        if 0 <= h2 < 5 and 0 <= v2 < 4:
                            best = max(best, abs(img[c, h, v] - img[c, h2, v2]) / math.hypot(dh, dv))
        want.append(best)
    np.testing.assert_allclose(lipschitz_constant(o), want)
