"""The toomcook1d and winograd convolution engines against the direct engine (the reference), over
small odd shapes x pads x tiles, every ISA variant, 1 and 2 threads, and their refusals.

Tolerance per tile: max |engine - direct| / max |direct| with N(0,1) data and weights, C = 16..24.
Measured here (fp32, worst of 12 runs): F(2,3) 2.7e-7, F(4,3) 5.5e-7, F(6,3) 9.1e-7, F(2x2,3x3) 5.6e-7,
F(4x4,3x3) 1.2e-6, F(6x6,3x3) 8.1e-6, 5-tap F(2,5) 4.5e-7, F(4,5) 1.2e-6, F(6,5) 9.9e-6 (the gemm engine:
~2e-7); the bounds below leave a 3-7x margin (larger tiles lose
precision: the transforms' entries grow with the points, REFERENCE_NOTES C)."""
import numpy as np
import pytest

import recaffe
from recaffe.errors import LayerError

TOL = {("toomcook1d", 2): 2e-6, ("toomcook1d", 4): 3e-6, ("toomcook1d", 6): 4e-6,
       ("winograd", 2): 2e-6, ("winograd", 4): 5e-6, ("winograd", 6): 4e-5}
TOL_5TAP = {2: 4e-6, 4: 1e-5, 6: 4e-5}


def conv_net(C, K, kh, kw, ph, pw, H, W, N=2, bias=True, stride=1, dilation=1, group=1):
    return (f'name:"t" layer{{name:"in" type:"Input" top:"data" input_param{{shape{{dim:{N} dim:{C} dim:{H} '
            f'dim:{W}}}}}}} layer{{name:"c" type:"Convolution" bottom:"data" top:"y" convolution_param{{'
            f'num_output:{K} kernel_h:{kh} kernel_w:{kw} pad_h:{ph} pad_w:{pw} stride:{stride} '
            f'dilation:{dilation} group:{group} bias_term:{str(bias).lower()}}}}}')


def run_pair(text, engine, options, seed=0, threads=None):
    rng = np.random.default_rng(seed)
    ref = recaffe.Net(text, engine="direct")
    w = {k: [rng.standard_normal(b.shape).astype(np.float32) for b in v] for k, v in ref.params.items()}
    ref.copy_from(w)
    net = recaffe.Net(text, w, engines={"c": (engine, options)})
    assert net.engine_of("c") == engine
    x = rng.standard_normal(ref.blobs["data"].shape).astype(np.float32)
    if threads:
        recaffe.set_num_threads(threads)
    y = net.forward(data=x)["y"]
    y0 = ref.forward(data=x)["y"]
    return y, y0


def rel_err(y, y0):
    assert y.shape == y0.shape
    return float(np.abs(y - y0).max() / np.abs(y0).max())


# (C, K, H, W, pad_h, pad_w): odd sizes so the last tiles are partial; pads 0..3 (larger than the kernel's
# half on purpose: "any pad")
SHAPES = [(3, 5, 9, 7, 1, 1), (16, 8, 13, 11, 0, 0), (7, 24, 6, 17, 2, 3), (24, 16, 5, 5, 1, 0)]


@pytest.mark.parametrize("tile", [2, 4, 6])
@pytest.mark.parametrize("axis", ["vertical", "horizontal"])
@pytest.mark.parametrize("shape", SHAPES)
def test_toomcook1d_3tap(tile, axis, shape):
    C, K, H, W, ph, pw = shape
    kh, kw = (3, 1) if axis == "vertical" else (1, 3)
    y, y0 = run_pair(conv_net(C, K, kh, kw, ph, pw, H, W), "toomcook1d", {"tile": tile})
    assert rel_err(y, y0) < TOL[("toomcook1d", tile)]


@pytest.mark.parametrize("tile", [2, 4, 6])
@pytest.mark.parametrize("axis", ["vertical", "horizontal"])
def test_toomcook1d_5tap(tile, axis):
    kh, kw = (5, 1) if axis == "vertical" else (1, 5)
    y, y0 = run_pair(conv_net(12, 10, kh, kw, 2, 2, 15, 13), "toomcook1d", {"tile": tile}, seed=tile)
    assert rel_err(y, y0) < TOL_5TAP[tile]


@pytest.mark.parametrize("tile", [2, 4, 6])
@pytest.mark.parametrize("shape", SHAPES)
def test_winograd_3x3(tile, shape):
    C, K, H, W, ph, pw = shape
    y, y0 = run_pair(conv_net(C, K, 3, 3, ph, pw, H, W), "winograd", {"tile": tile})
    assert rel_err(y, y0) < TOL[("winograd", tile)]


def test_winograd_rectangular_and_5x5_no_bias():
    y, y0 = run_pair(conv_net(8, 6, 5, 3, 2, 1, 12, 10, bias=False), "winograd", {"tile": 2})
    assert rel_err(y, y0) < 1e-5


def test_custom_points_option():
    text = conv_net(16, 8, 3, 1, 1, 0, 11, 9)
    y, y0 = run_pair(text, "toomcook1d", {"tile": 4, "points": "0,1,-1,2,-2"})
    assert rel_err(y, y0) < TOL[("toomcook1d", 4)]


@pytest.mark.parametrize("isa", ["scalar", "avx2", "avx512"])
def test_every_isa_variant(isa):
    if isa == "avx512" and recaffe.isa() != "avx512" or isa == "avx2" and recaffe.isa() == "scalar":
        pytest.skip(f"this CPU lacks {isa}")
    try:
        recaffe._core.set_max_isa(isa)
        y, y0 = run_pair(conv_net(9, 7, 3, 3, 1, 1, 17, 19), "winograd", {"tile": 4}, seed=3)
        y1, _ = run_pair(conv_net(9, 7, 1, 3, 0, 1, 17, 19), "toomcook1d", {"tile": 4}, seed=3)
    finally:
        recaffe._core.set_max_isa("avx512")
    assert rel_err(y, y0) < TOL[("winograd", 4)]
    _, y10 = run_pair(conv_net(9, 7, 1, 3, 0, 1, 17, 19), "direct", {}, seed=3)
    assert rel_err(y1, y10) < TOL[("toomcook1d", 4)]


def test_threads_give_identical_outputs():
    text = conv_net(32, 32, 3, 3, 1, 1, 30, 30, N=1)
    a, _ = run_pair(text, "winograd", {"tile": 4}, threads=1)
    b, _ = run_pair(text, "winograd", {"tile": 4}, threads=2)
    np.testing.assert_array_equal(a, b)


def test_weights_changed_after_first_forward_are_used():
    text = conv_net(4, 4, 3, 3, 1, 1, 8, 8)
    net = recaffe.Net(text, engines={"c": ("winograd", {})})
    x = np.random.default_rng(0).standard_normal((2, 4, 8, 8)).astype(np.float32)
    a = net.forward(data=x)["y"]
    net.params["c"][0].data[...] *= 2
    net.params["c"][1].data[...] *= 2
    np.testing.assert_allclose(net.forward(data=x)["y"], 2 * a, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("engine,kwargs,match", [
    ("winograd", dict(kh=3, kw=3, stride=2), "stride 2x2"),
    ("toomcook1d", dict(kh=3, kw=1, stride=2), "stride 2x2"),
    ("winograd", dict(kh=3, kw=3, dilation=2), "dilation"),
    ("winograd", dict(kh=3, kw=3, group=2), "group"),
    ("toomcook1d", dict(kh=3, kw=3), "k x 1 or 1 x k"),
    ("winograd", dict(kh=3, kw=1), "toomcook1d"),
])
def test_unsupported_geometry_is_a_clear_error(engine, kwargs, match):
    kh, kw = kwargs.pop("kh"), kwargs.pop("kw")
    text = conv_net(4, 4, kh, kw, 1, 1, 12, 12, **kwargs)
    with pytest.raises(LayerError, match=match) as e:
        recaffe.Net(text, engines={"c": (engine, {})})
    assert "'c'" in str(e.value)


def test_bad_options_are_clear_errors():
    text = conv_net(4, 4, 3, 3, 1, 1, 12, 12)
    with pytest.raises(LayerError, match="tile"):
        recaffe.Net(text, engines={"c": ("winograd", {"tile": "x"})})
    with pytest.raises(LayerError, match="unknown engine option 'm'"):
        recaffe.Net(text, engines={"c": ("winograd", {"m": 4})})
    with pytest.raises(LayerError, match="distinct"):
        recaffe.Net(text, engines={"c": ("winograd", {"tile": 2, "points": "0,1,1"})})
    net = recaffe.Net(conv_net(4, 4, 3, 3, 1, 1, 12, 12, stride=2))
    with pytest.raises(LayerError, match="stride"):
        net.set_engine("c", "winograd")
