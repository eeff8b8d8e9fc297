"""The engines that make Denton et al.'s approximations fast, against the direct reference engine:
"mono" (one input channel per group: monochromatic and depthwise convolutions, every ISA variant) and
"blocksparse" (1x1 convolutions with block-structured weights)."""
from __future__ import annotations

import numpy as np
import pytest

import recaffe
from recaffe import _core


def _conv_net(N, C, H, W, K, kh, kw, stride=(1, 1), pad=(0, 0), dilation=1, group=1, bias=True):
    return f"""
layer {{ name: "data" type: "Input" top: "data" input_param {{ shape {{ dim: {N} dim: {C} dim: {H} dim: {W} }} }} }}
layer {{ name: "conv" type: "Convolution" bottom: "data" top: "conv"
  convolution_param {{ num_output: {K} kernel_h: {kh} kernel_w: {kw} stride_h: {stride[0]} stride_w: {stride[1]}
    pad_h: {pad[0]} pad_w: {pad[1]} dilation: {dilation} group: {group} bias_term: {str(bias).lower()} }} }}
"""


def _run(text, weights, x, engine):
    net = recaffe.Net(text, weights, engines={"conv": engine})
    assert net.engine_of("conv") == engine
    return net.forward(data=x)["conv"]


MONO_SHAPES = [
    # N, C, H, W, K, kh, kw, stride, pad, dilation
    (1, 3, 9, 7, 6, 3, 3, (1, 1), (1, 1), 1),
    (2, 4, 13, 11, 4, 5, 5, (2, 2), (1, 2), 1),     # depthwise, stride 2
    (1, 6, 23, 37, 18, 7, 7, (2, 2), (1, 1), 1),    # MattNet-like conv1, 3 filters a colour
    (1, 5, 17, 70, 35, 3, 5, (3, 2), (0, 2), 1),    # 7 filters a group (tiles of 6 + 1), wide rows
    (1, 2, 15, 15, 26, 3, 3, (1, 1), (2, 2), 2),    # dilation, 13 filters a group
    (3, 1, 8, 33, 1, 1, 4, (1, 3), (0, 1), 1),
    (1, 3, 20, 21, 6, 5, 3, (3, 1), (2, 1), 2),     # 2 filters a group: row tiles with dilation, row stride 3
    (1, 7, 30, 45, 7, 7, 7, (2, 2), (3, 3), 1),     # depthwise 7x7 stride 2: row tiles, ragged last tile
    (2, 3, 8, 8, 3, 5, 5, (1, 1), (2, 2), 1),       # depthwise 5x5 on 8x8 (one 8-lane vector a row)
    (1, 2, 16, 16, 26, 5, 5, (1, 1), (2, 2), 1),    # 16 columns, 13 filters a group (tiles of 12 + 1)
    (1, 4, 18, 18, 8, 3, 3, (1, 1), (0, 0), 1),     # 16 columns without padding, 2 filters a group
]


@pytest.mark.parametrize("isa", ["scalar", "avx2", "avx512"])
@pytest.mark.parametrize("shape", MONO_SHAPES)
def test_mono_engine_matches_direct(rng, shape, isa):
    if isa == "avx512" and recaffe.isa() != "avx512" or isa == "avx2" and recaffe.isa() == "scalar":
        pytest.skip(f"the CPU lacks {isa}")
    N, C, H, W, K, kh, kw, stride, pad, dil = shape
    text = _conv_net(N, C, H, W, K, kh, kw, stride, pad, dil, group=C)
    w = {"conv": [rng.standard_normal((K, 1, kh, kw)).astype(np.float32),
                  rng.standard_normal(K).astype(np.float32)]}
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    ref = _run(text, w, x, "direct")
    try:
        _core.set_max_isa(isa)
        got = _run(text, w, x, "mono")
    finally:
        _core.set_max_isa("avx512")
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("N", [1, 3])   # 1: rows split across threads; 3: whole images per thread
def test_mono_engine_threads_give_the_same_output(rng, N):
    text = _conv_net(N, 6, 31, 29, 12, 5, 5, (2, 2), (2, 2), group=6)
    w = {"conv": [rng.standard_normal((12, 1, 5, 5)).astype(np.float32), rng.standard_normal(12).astype(np.float32)]}
    x = rng.standard_normal((N, 6, 31, 29)).astype(np.float32)
    recaffe.set_num_threads(1)
    one = _run(text, w, x, "mono")
    recaffe.set_num_threads(2)
    np.testing.assert_array_equal(_run(text, w, x, "mono"), one)


def test_mono_engine_refuses_several_channels_a_group():
    with pytest.raises(recaffe.LayerError, match="one input channel per group"):
        recaffe.Net(_conv_net(1, 4, 8, 8, 4, 3, 3, group=2), engines={"conv": "mono"})


@pytest.mark.parametrize("N,H,W", [(1, 7, 9), (2, 40, 41)])
def test_blocksparse_engine_matches_direct(rng, N, H, W):
    C, K = 10, 13
    Wt = rng.standard_normal((K, C, 1, 1)).astype(np.float32)
    # blocks: rows 0-3 read channels {0, 2, 7}, rows 4-8 read 3..6 (contiguous), row 9 reads nothing,
    # rows 10-12 read everything
    mask = np.zeros((K, C), bool)
    mask[0:4, [0, 2, 7]] = True
    mask[4:9, 3:7] = True
    mask[10:13] = True
    perm = rng.permutation(K)                     # output rows of a block need not be adjacent
    Wt[:, :, 0, 0] *= mask[perm]
    w = {"conv": [Wt, rng.standard_normal(K).astype(np.float32)]}
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    text = _conv_net(N, C, H, W, K, 1, 1)
    np.testing.assert_allclose(_run(text, w, x, "blocksparse"), _run(text, w, x, "direct"), rtol=1e-4, atol=1e-4)


def test_blocksparse_engine_refuses_spatial_kernels():
    with pytest.raises(recaffe.LayerError, match="1x1"):
        recaffe.Net(_conv_net(1, 4, 8, 8, 4, 3, 3), engines={"conv": "blocksparse"})


def test_approximated_nets_run_with_their_engines(rng):
    from recaffe.transforms import bicluster_layer, monochromatic_first_layer
    from test_denton import SMALL_NET
    param = recaffe.read_net(SMALL_NET)
    w = recaffe.random_weights(param, seed=2)
    p2, w2, r1 = monochromatic_first_layer(param, w, n_colors=5)
    for method, ranks in (("svd", dict(K1=2, K2=3)), ("outer", dict(K=2))):
        p3, w3, r2 = bicluster_layer(p2, w2, "conv2", G=3, H=2, method=method, **ranks)
        engines = r1["engines"] | r2["engines"]
        x = rng.standard_normal((2, 3, 19, 17)).astype(np.float32)
        ref = recaffe.Net(p3, w3).forward(data=x)["ip"]
        fast = recaffe.Net(p3, w3, engines=engines)
        assert {n: fast.engine_of(n) for n in engines} == engines
        np.testing.assert_allclose(fast.forward(data=x)["ip"], ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


@pytest.mark.parametrize("n_colors,text", [(4, "SMALL_NET"), (3, "OUTPUT_NET"), (12, "SMALL_NET")])
def test_fused_monochromatic_layer_matches_the_standard_form(rng, n_colors, text):
    import test_denton
    from recaffe.transforms import monochromatic_first_layer
    param = recaffe.read_net(getattr(test_denton, text))
    w = recaffe.random_weights(param, seed=4)
    std = monochromatic_first_layer(param, w, n_colors=n_colors)
    fused = monochromatic_first_layer(param, w, n_colors=n_colors, fused=True)
    assert [l.type for l in fused[0].layer].count("MonochromaticConvolution") == 1
    shape = tuple(d for d in param.layer[0].input_param.shape[0].dim)
    x = rng.standard_normal(shape).astype(np.float32) * 20
    out = recaffe.Net(std[0], std[1]).outputs[0]
    ref = recaffe.Net(std[0], std[1]).forward(data=x)[out]
    for threads in (1, 2):
        recaffe.set_num_threads(threads)
        got = recaffe.Net(fused[0], fused[1]).forward(data=x)[out]
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
