"""The isc convolution engine (inverse sparse convolution) against the direct reference engine:
odd shapes x input sparsity 0, 0.5, 0.9, 0.99, 1.0, every ISA variant, both loop orders, 1 and 2
threads."""
import os

import numpy as np
import pytest

import recaffe
from recaffe import _core


def conv_net(C, H, W, K, k, pad=0, stride=1, group=1, N=1, dilation=1, bias=True, kw=None):
    kernel = f"kernel_size: {k}" if kw is None else f"kernel_h: {k} kernel_w: {kw}"
    return f"""name: "isc_test"
layer {{ name: "data" type: "Input" top: "data" input_param {{ shape {{ dim: {N} dim: {C} dim: {H} dim: {W} }} }} }}
layer {{ name: "conv" type: "Convolution" bottom: "data" top: "conv"
  convolution_param {{ num_output: {K} {kernel} pad: {pad} stride: {stride} group: {group}
                       dilation: {dilation} bias_term: {str(bias).lower()} }} }}
"""


def sparse_input(rng, shape, sparsity):
    """Non-negative values (like ReLU outputs) with exactly round(sparsity * size) zeros."""
    x = rng.random(shape, dtype=np.float32) + 0.05
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, int(round(sparsity * flat.size)), replace=False)] = 0
    return x


def run(proto, weights, x, engine):
    net = recaffe.Net(proto, weights, engines={"conv": engine})
    return net.forward(data=x)["conv"]


def random_weights(rng, proto):
    net = recaffe.Net(proto, engine="direct")
    return {n: [rng.standard_normal(b.shape).astype(np.float32) for b in blobs] for n, blobs in net.params.items()}


@pytest.fixture
def isa_cap():
    yield
    _core.set_max_isa(os.environ.get("RECAFFE_ISA", "avx512"))


# (C, H, W, K, kernel, pad, stride, group, N, dilation, bias); K values cover one partial
# 16-channel unit, several register blocks (K=300 -> 19 units) and groups.
SHAPES = [
    (3, 7, 9, 5, 3, 1, 1, 1, 1, 1, True),
    (20, 11, 11, 64, 5, 1, 2, 1, 2, 1, True),   # LeNet conv2 of the paper's Table 2
    (6, 13, 11, 18, 3, 2, 2, 3, 3, 1, True),    # groups, stride 2, pad 2
    (17, 9, 7, 300, 1, 0, 1, 1, 1, 1, False),   # 1x1 fast geometry, no bias, many blocks
    (4, 10, 12, 33, 3, 2, 1, 1, 1, 2, True),    # dilation
    (5, 8, 8, 24, 7, 3, 3, 1, 2, 1, True),      # kernel as large as the padded input, stride 3
    (2, 5, 5, 7, 5, 0, 1, 1, 1, 1, True),       # a single output pixel
]
SPARSITIES = [0.0, 0.5, 0.9, 0.99, 1.0]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s[:5])))
def test_isc_matches_direct(shape, isa_cap):
    C, H, W, K, k, pad, stride, group, N, dil, bias = shape
    rng = np.random.default_rng(hash(shape) % 2**32)
    proto = conv_net(C, H, W, K, k, pad, stride, group, N, dil, bias)
    weights = random_weights(rng, proto)
    for sparsity in SPARSITIES:
        x = sparse_input(rng, (N, C, H, W), sparsity)
        ref = run(proto, weights, x, "direct").astype(np.float64)
        scale = np.abs(weights["conv"][0]).max() * np.abs(x).sum(axis=(1, 2, 3)).max() / group + 1e-6
        for isa in ("scalar", "avx2", "avx512"):
            _core.set_max_isa(isa)
            for order in ("gather", "scatter"):
                out = run(proto, weights, x, ("isc", {"order": order}))
                err = np.abs(out - ref).max() / scale
                assert err < 1e-6, (shape, sparsity, isa, order, err)


def test_all_zero_input_gives_the_bias_exactly():
    rng = np.random.default_rng(3)
    proto = conv_net(7, 9, 9, 40, 3, 1, 1)
    weights = random_weights(rng, proto)
    out = run(proto, weights, np.zeros((1, 7, 9, 9), np.float32), "isc")
    np.testing.assert_array_equal(out, np.broadcast_to(weights["conv"][1][None, :, None, None], out.shape))


def test_threads_give_identical_outputs():
    rng = np.random.default_rng(4)
    # one image split in pixel chunks and tiles (enough non-zeros to go parallel); whole images per thread
    for N, C, H, W, sparsity in ((1, 64, 33, 33, 0.5), (5, 24, 15, 13, 0.8)):
        proto = conv_net(C, H, W, 70, 3, 1, 1, N=N)
        weights = random_weights(rng, proto)
        x = sparse_input(rng, (N, C, H, W), sparsity)
        recaffe.set_num_threads(1)
        one = run(proto, weights, x, "isc")
        recaffe.set_num_threads(2)
        two = run(proto, weights, x, "isc")
        np.testing.assert_array_equal(one, two)
        assert np.abs(one - run(proto, weights, x, "direct")).max() < 1e-3


def test_weights_written_after_a_forward_are_repacked():
    rng = np.random.default_rng(5)
    proto = conv_net(8, 6, 6, 20, 3, 1, 1)
    net = recaffe.Net(proto, random_weights(rng, proto), engine="isc")
    x = sparse_input(rng, (1, 8, 6, 6), 0.5)
    first = net.forward(data=x)["conv"]
    net.params["conv"][0].data[...] *= 2
    net.params["conv"][1].data[...] *= 2
    np.testing.assert_allclose(net.forward(data=x)["conv"], 2 * first, rtol=1e-5, atol=1e-5)


def test_set_engine_switches_to_isc_on_a_built_net():
    rng = np.random.default_rng(6)
    proto = conv_net(8, 6, 6, 20, 3, 1, 1, N=2)
    weights = random_weights(rng, proto)
    net = recaffe.Net(proto, weights)
    x = sparse_input(rng, (2, 8, 6, 6), 0.9)
    gemm = net.forward(data=x)["conv"]
    net.set_engine("conv", "isc")
    assert net.engine_of("conv") == "isc"
    np.testing.assert_allclose(net.forward(data=x)["conv"], gemm, rtol=1e-4, atol=1e-4)


def test_unknown_option_names_the_layer():
    proto = conv_net(3, 5, 5, 4, 3)
    with pytest.raises(recaffe.LayerError, match="conv.*order"):
        recaffe.Net(proto, engines={"conv": ("isc", {"order": "sideways"})})
    with pytest.raises(recaffe.LayerError, match="conv.*unknown option"):
        recaffe.Net(proto, engines={"conv": ("isc", {"tile": "3"})})


def test_sparse_relu_input_has_exactly_the_stated_zeros():
    from recaffe.bench.conv_layer import sparse_relu_input
    for sparsity in (0.0, 0.5, 0.9, 0.95, 1.0):
        x = sparse_relu_input((1, 20, 11, 11), sparsity, seed=2)
        assert np.count_nonzero(x == 0) == round(sparsity * x.size)
        assert (x >= 0).all() and x.max() <= 1.0
    with pytest.raises(ValueError, match="sparsity"):
        sparse_relu_input((2, 2), 1.5)
