"""Convolution (gemm and direct engines), Deconvolution, Pooling, InnerProduct, Softmax, the
element-wise layers, ArgMax and Crop against the numpy references over small odd shapes, the
engines against each other, 1 vs 2 threads, and hand-computed pooling values."""
import itertools

import numpy as np
import pytest

import recaffe
import reference_layers as R
from layer_harness import assert_close, layer_net, run_layer


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


# (C, H, W, K, (kh, kw), (sh, sw), (ph, pw), (dh, dw), group, bias) -- ncnn-style odd sizes
CONV_CASES = [
    (3, 9, 7, 5, (3, 3), (1, 1), (1, 1), (1, 1), 1, True),
    (4, 13, 11, 6, (3, 3), (2, 2), (0, 0), (1, 1), 2, True),
    (6, 9, 7, 6, (3, 3), (1, 1), (1, 1), (1, 1), 6, False),      # depthwise
    (2, 11, 13, 3, (5, 5), (1, 1), (2, 2), (1, 1), 1, True),
    (3, 9, 9, 4, (3, 3), (1, 1), (2, 2), (2, 2), 1, True),       # dilation
    (3, 13, 11, 4, (3, 2), (2, 1), (1, 0), (1, 2), 1, True),     # _h/_w everywhere
    (8, 7, 5, 4, (1, 1), (1, 1), (0, 0), (1, 1), 2, True),       # 1x1 fast path
    (5, 9, 7, 3, (1, 1), (2, 2), (0, 0), (1, 1), 1, False),      # strided 1x1 (needs im2col)
    (4, 6, 6, 4, (1, 1), (1, 1), (1, 1), (1, 1), 1, True),       # padded 1x1
    (3, 17, 15, 8, (7, 7), (2, 2), (3, 3), (1, 1), 1, True),
    (4, 5, 9, 8, (2, 4), (3, 2), (1, 2), (1, 1), 4, True),
    (1, 3, 3, 1, (3, 3), (1, 1), (0, 0), (1, 1), 1, False),      # one output pixel
]


def conv_params(K, k, s, p, d, group, bias, form):
    if form == "hw":
        spatial = (f"kernel_h: {k[0]} kernel_w: {k[1]} stride_h: {s[0]} stride_w: {s[1]} "
                   f"pad_h: {p[0]} pad_w: {p[1]} dilation: {d[0]} dilation: {d[1]}")
    elif k[0] == k[1] and s[0] == s[1] and p[0] == p[1] and d[0] == d[1]:
        spatial = f"kernel_size: {k[0]} stride: {s[0]} pad: {p[0]} dilation: {d[0]}"
    else:  # repeated fields, one per spatial dim
        spatial = (f"kernel_size: {k[0]} kernel_size: {k[1]} stride: {s[0]} stride: {s[1]} "
                   f"pad: {p[0]} pad: {p[1]} dilation: {d[0]} dilation: {d[1]}")
    return (f"convolution_param {{ num_output: {K} {spatial} group: {group} "
            f"bias_term: {'true' if bias else 'false'} }}")


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "C{}_{}x{}_K{}_k{}_s{}_p{}_d{}_g{}".format(*c[:9]))
@pytest.mark.parametrize("form", ["plain", "hw"])
def test_convolution_engines_match_reference(rng, case, form):
    C, H, W, K, k, s, p, d, g, bias = case
    x = rand(rng, 2, C, H, W)
    w = [rand(rng, K, C // g, *k)] + ([rand(rng, K)] if bias else [])
    params = conv_params(K, k, s, p, d, g, bias, form)
    want = R.conv2d(x, w[0], w[1] if bias else None, s, p, d, g)
    gemm = run_layer("Convolution", [x], params, weights=w, engine="gemm")[0]
    direct = run_layer("Convolution", [x], params, weights=w, engine="direct")[0]
    assert_close(gemm, want, rtol=1e-4, atol=1e-4, what="gemm vs numpy")
    assert_close(direct, want, rtol=1e-4, atol=1e-4, what="direct vs numpy")
    assert_close(gemm, direct, rtol=1e-5, atol=1e-5, what="gemm vs direct")


@pytest.mark.parametrize("engine", ["gemm", "direct"])
def test_convolution_threads_1_vs_2(rng, engine):
    x = rand(rng, 3, 16, 23, 21)
    w = [rand(rng, 32, 8, 3, 3), rand(rng, 32)]
    params = conv_params(32, (3, 3), (1, 1), (1, 1), (1, 1), 2, True, "plain")
    one = run_layer("Convolution", [x], params, weights=w, engine=engine, threads=1)[0]
    two = run_layer("Convolution", [x], params, weights=w, engine=engine, threads=2)[0]
    np.testing.assert_allclose(one, two, rtol=1e-6, atol=1e-6)


def test_convolution_errors():
    with pytest.raises(recaffe.LayerError, match="divisible by group"):
        layer_net("Convolution", [(1, 3, 5, 5)], "convolution_param { num_output: 4 kernel_size: 3 group: 2 }")
    with pytest.raises(recaffe.LayerError, match="kernel"):
        layer_net("Convolution", [(1, 3, 5, 5)], "convolution_param { num_output: 4 kernel_size: 7 }")


DECONV_CASES = [
    (3, 5, 4, 4, (3, 3), (2, 2), (1, 1), (1, 1), 1, True),
    (4, 3, 5, 6, (4, 4), (2, 2), (1, 1), (1, 1), 2, True),       # the FCN upsampling shape
    (2, 4, 4, 3, (1, 1), (1, 1), (0, 0), (1, 1), 1, True),       # 1x1: no col2im
    (3, 5, 3, 2, (3, 2), (1, 2), (0, 1), (2, 1), 1, False),
    (4, 3, 3, 4, (2, 2), (3, 3), (0, 0), (1, 1), 4, True),
]


@pytest.mark.parametrize("case", DECONV_CASES)
def test_deconvolution(rng, case):
    C, H, W, K, k, s, p, d, g, bias = case
    x = rand(rng, 2, C, H, W)
    w = [rand(rng, C, K // g, *k)] + ([rand(rng, K)] if bias else [])
    params = conv_params(K, k, s, p, d, g, bias, "hw")
    got = run_layer("Deconvolution", [x], params, weights=w)[0]
    assert_close(got, R.deconv2d(x, w[0], w[1] if bias else None, s, p, d, g), rtol=1e-4, atol=1e-4)


def test_deconvolution_is_the_transpose_of_convolution(rng):
    # <conv(x), y> == <x, deconv(y)> with the same weights, no bias
    x, w = rand(rng, 1, 3, 9, 7), rand(rng, 4, 3, 3, 3)
    params = conv_params(4, (3, 3), (2, 2), (1, 1), (1, 1), 1, False, "plain")
    cx = run_layer("Convolution", [x], params, weights=[w])[0]
    y = rand(rng, *cx.shape)
    dy = run_layer("Deconvolution", [y], params.replace("num_output: 4", "num_output: 3"), weights=[w])[0]
    assert dy.shape == x.shape
    np.testing.assert_allclose(np.vdot(cx, y), np.vdot(x, dy), rtol=1e-4)


# --- Pooling ----------------------------------------------------------------------------------------
POOL_CASES = [  # (H, W, (kh, kw), (sh, sw), (ph, pw), round_mode)
    ((9, 7), (3, 3), (2, 2), (0, 0), "CEIL"), ((9, 7), (3, 3), (2, 2), (1, 1), "CEIL"),
    ((13, 11), (2, 2), (2, 2), (0, 0), "CEIL"), ((5, 5), (2, 2), (2, 2), (1, 1), "CEIL"),
    ((6, 5), (3, 3), (2, 2), (1, 1), "CEIL"), ((9, 7), (3, 3), (2, 2), (1, 1), "FLOOR"),
    ((11, 13), (3, 2), (2, 3), (1, 1), "CEIL"), ((7, 9), (5, 5), (3, 3), (2, 2), "CEIL"),
    ((8, 8), (3, 3), (1, 1), (1, 1), "CEIL"), ((14, 14), (3, 3), (2, 2), (0, 0), "FLOOR"),
    ((9, 7), (3, 3), (1, 1), (0, 0), "CEIL"), ((9, 11), (5, 3), (1, 2), (2, 1), "CEIL"),
    ((8, 8), (3, 3), (4, 4), (0, 0), "CEIL"),  # the last window lies past the image
]


@pytest.mark.parametrize("method", ["MAX", "AVE"])
@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_pooling(rng, method, case):
    (H, W), k, s, p, mode = case
    x = rand(rng, 2, 3, H, W)
    params = (f"pooling_param {{ pool: {method} kernel_h: {k[0]} kernel_w: {k[1]} stride_h: {s[0]} "
              f"stride_w: {s[1]} pad_h: {p[0]} pad_w: {p[1]} round_mode: {mode} }}")
    want = R.pool2d(x, method, k, s, p, ceil=mode == "CEIL")
    assert_close(run_layer("Pooling", [x], params)[0], want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", ["MAX", "AVE"])
def test_global_pooling(rng, method):
    x = rand(rng, 2, 5, 7, 9)
    got = run_layer("Pooling", [x], f"pooling_param {{ pool: {method} global_pooling: true }}")[0]
    want = x.max(axis=(2, 3), keepdims=True) if method == "MAX" else x.mean(axis=(2, 3), keepdims=True, dtype=np.float64)
    assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_max_pool_golden_2x2():
    # 3x5 input, 2x2 window, stride 1 (hand-computed)
    x = np.array([[1, 2, 5, 2, 3],
                  [9, 4, 1, 4, 8],
                  [1, 2, 5, 2, 3]], np.float32).reshape(1, 1, 3, 5)
    y = run_layer("Pooling", [x], "pooling_param { pool: MAX kernel_size: 2 stride: 1 }")[0]
    np.testing.assert_array_equal(y[0, 0], [[9, 5, 5, 8], [9, 5, 5, 8]])


def test_ave_pool_golden_with_padding():
    # 3x3 of 2s, k3 s1 p1: the padded cells count in the divisor (Caffe's TestForwardAve)
    x = np.full((1, 1, 3, 3), 2, np.float32)
    y = run_layer("Pooling", [x], "pooling_param { pool: AVE kernel_size: 3 stride: 1 pad: 1 }")[0]
    np.testing.assert_allclose(y[0, 0], [[8 / 9, 4 / 3, 8 / 9], [4 / 3, 2, 4 / 3], [8 / 9, 4 / 3, 8 / 9]], rtol=1e-6)


def test_ave_pool_ceil_overhang_not_in_divisor():
    # 4x4 of ones, k3 s2 p0, ceil: the last window covers rows 2..3 only and divides by 2*2, giving 1
    x = np.ones((1, 1, 4, 4), np.float32)
    y = run_layer("Pooling", [x], "pooling_param { pool: AVE kernel_size: 3 stride: 2 }")[0]
    assert y.shape == (1, 1, 2, 2)
    np.testing.assert_allclose(y, np.ones_like(y))


@pytest.mark.parametrize("H,k,s,p,want", [(5, 2, 2, 1, 3), (6, 3, 2, 1, 4), (5, 3, 2, 1, 3), (112, 3, 2, 0, 56),
                                          (28, 3, 2, 1, 15)])
def test_pool_output_size_pad_clip(H, k, s, p, want):
    # ceil rounding, then the clip rule; 28 k3 s2 p1 gives 15 here (a convolution would give 14)
    y = run_layer("Pooling", [np.zeros((1, 1, H, H), np.float32)],
                  f"pooling_param {{ pool: MAX kernel_size: {k} stride: {s} pad: {p} }}")[0]
    assert y.shape[2:] == (want, want)


# --- InnerProduct / Softmax ------------------------------------------------------------------------
@pytest.mark.parametrize("shape,axis", [((3, 5, 2, 3), 1), ((1, 7), 1), ((2, 3, 5), 2), ((2, 3, 5), -1),
                                        ((4, 3, 5), 0)])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("bias", [False, True])
def test_inner_product(rng, shape, axis, transpose, bias):
    x = rand(rng, *shape)
    k = int(np.prod(shape[axis % len(shape):]))
    n = 11
    w = [rand(rng, k, n) if transpose else rand(rng, n, k)] + ([rand(rng, n)] if bias else [])
    params = (f"inner_product_param {{ num_output: {n} axis: {axis} transpose: {'true' if transpose else 'false'} "
              f"bias_term: {'true' if bias else 'false'} }}")
    want = R.inner_product(x, w[0], w[1] if bias else None, axis, transpose)
    assert_close(run_layer("InnerProduct", [x], params, weights=w)[0], want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape,axis", [((2, 10), 1), ((2, 5, 3, 4), 1), ((2, 5, 3, 4), 2), ((2, 5, 3, 4), -1),
                                        ((7,), 0)])
def test_softmax(rng, shape, axis):
    x = rand(rng, *shape) * 5
    y = run_layer("Softmax", [x], f"softmax_param {{ axis: {axis} }}")[0]
    assert_close(y, R.softmax(x, axis), rtol=1e-5, atol=1e-7)


# --- element-wise ---------------------------------------------------------------------------------
@pytest.mark.parametrize("layer_type,params,ref", [
    ("ReLU", "", lambda x: R.ACTIVATIONS["ReLU"](x)),
    ("ReLU", "relu_param { negative_slope: 0.1 }", lambda x: R.ACTIVATIONS["ReLU"](x, 0.1)),
    ("Sigmoid", "", R.ACTIVATIONS["Sigmoid"]),
    ("TanH", "", R.ACTIVATIONS["TanH"]),
    ("AbsVal", "", R.ACTIVATIONS["AbsVal"]),
    ("Clip", "clip_param { min: -0.5 max: 0.7 }", lambda x: np.clip(x, -0.5, 0.7)),
    ("Power", "power_param { power: 2 scale: 0.5 shift: 1 }", lambda x: R.power(x, 2, 0.5, 1)),
    ("Power", "power_param { power: 1 scale: -3 shift: 0.25 }", lambda x: R.power(x, 1, -3, 0.25)),
    ("Power", "power_param { power: 0 scale: 2 }", lambda x: np.ones_like(x)),
    ("Power", "power_param { power: 3 scale: 0 shift: 2 }", lambda x: np.full_like(x, 8)),
    ("Exp", "", np.exp),
    ("Exp", "exp_param { base: 2 scale: 0.5 shift: 1 }", lambda x: 2.0 ** (1 + 0.5 * x)),
    ("Log", "log_param { shift: 20 }", lambda x: np.log(20 + x.astype(np.float64))),
    ("Log", "log_param { base: 10 scale: 2 shift: 30 }", lambda x: np.log10(30 + 2 * x.astype(np.float64))),
    ("BNLL", "", lambda x: np.logaddexp(0, x.astype(np.float64))),
    ("Threshold", "threshold_param { threshold: 0.3 }", lambda x: (x > 0.3).astype(np.float32)),
    ("ELU", "elu_param { alpha: 0.7 }", lambda x: np.where(x > 0, x, 0.7 * (np.exp(x.astype(np.float64)) - 1))),
    ("Dropout", "", lambda x: x),
], ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("in_place", [False, True])
def test_elementwise(rng, layer_type, params, ref, in_place):
    x = rand(rng, 2, 3, 9, 7) * 2
    y = run_layer(layer_type, [x], params, in_place=in_place)[0]
    assert_close(y, ref(x), rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("shared", [False, True])
def test_prelu(rng, shared):
    x = rand(rng, 2, 4, 5, 3)
    a = rand(rng, 1 if shared else 4)
    y = run_layer("PReLU", [x], f"prelu_param {{ channel_shared: {'true' if shared else 'false'} }}", weights=[a])[0]
    slope = a.reshape(1, -1, 1, 1)
    assert_close(y, np.maximum(x, 0) + slope * np.minimum(x, 0))


def test_relu_in_place_blob_holds_activation(rng):
    # Caffe's in-place rule: after a forward the conv's blob holds the post-ReLU values
    text = ('layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 dim: 5 dim: 5 } } }\n'
            'layer { name: "c" type: "Convolution" bottom: "x" top: "c" convolution_param { num_output: 3 kernel_size: 3 } }\n'
            'layer { name: "r" type: "ReLU" bottom: "c" top: "c" }\n')
    w = {"c": [rand(rng, 3, 2, 3, 3), rand(rng, 3)]}
    net = recaffe.Net(text, w)
    x = rand(rng, 1, 2, 5, 5)
    net.forward(x=x)
    assert (net.blobs["c"].data >= 0).all()
    raw = net.forward(x=x, end="c")["c"]
    assert (raw < 0).any()


# --- ArgMax / Crop -----------------------------------------------------------------------------------
@pytest.mark.parametrize("top_k,out_max_val,axis", [(1, False, None), (3, False, None), (2, True, None),
                                                    (1, False, 1), (2, True, 1), (3, False, 3), (1, True, -2)])
def test_argmax(rng, top_k, out_max_val, axis):
    x = rand(rng, 2, 5, 3, 4)
    x[0, 1, 0, 0] = x[0, 3, 0, 0] = 9.0  # a tie: Caffe reports the larger index first
    params = f"argmax_param {{ top_k: {top_k} out_max_val: {'true' if out_max_val else 'false'} "
    params += ("" if axis is None else f"axis: {axis} ") + "}"
    y = run_layer("ArgMax", [x], params)[0]
    assert_close(y, R.argmax(x, top_k, out_max_val, axis), rtol=0, atol=0)


@pytest.mark.parametrize("axis,offset", [(2, []), (2, [1]), (1, [0, 2, 1]), (3, [3]), (0, [1, 1, 2, 0])])
def test_crop(rng, axis, offset):
    x = rand(rng, 3, 4, 7, 6)
    ref = np.zeros((2, 2, 5, 3), np.float32)
    ref_shape = tuple(ref.shape[a] if a >= axis else x.shape[a] for a in range(4))
    ref = np.zeros(ref_shape, np.float32)
    params = f"crop_param {{ axis: {axis} {' '.join(f'offset: {o}' for o in offset)} }}"
    assert_close(run_layer("Crop", [x, ref], params)[0], R.crop(x, ref_shape, axis, offset), rtol=0, atol=0)


def test_unknown_layer_type_names_type_and_layer():
    with pytest.raises(recaffe.UnknownLayerError, match="'Frobnicate'.*'L'"):
        layer_net("Frobnicate", [(1, 2)])


def test_threads_1_vs_2_whole_layer_set(rng):
    """Every layer's result is the same with 1 and 2 threads (LRN, pooling, eltwise...)."""
    x = rand(rng, 2, 8, 33, 31)
    cases = [("LRN", "lrn_param { local_size: 5 alpha: 0.1 }"),
             ("LRN", "lrn_param { local_size: 3 norm_region: WITHIN_CHANNEL }"),
             ("Pooling", "pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 }"),
             ("Pooling", "pooling_param { pool: MAX kernel_size: 3 stride: 2 }"),
             ("Softmax", ""), ("Sigmoid", ""), ("Power", "power_param { power: 2 shift: 1 }")]
    for layer_type, params in cases:
        one = run_layer(layer_type, [x], params, threads=1)[0]
        two = run_layer(layer_type, [x], params, threads=2)[0]
        np.testing.assert_array_equal(one, two, err_msg=layer_type)


def test_python_layer_hook(rng):
    """A user layer registered by type name runs in numpy between core layers."""
    class Double:
        def __init__(self, layer_param):
            self.k = 2.0

        def reshape(self, bottom_shapes):
            return [bottom_shapes[0]]

        def forward(self, bottoms, tops):
            tops[0][...] = bottoms[0] * self.k

    recaffe.register_layer("Doubler", Double)
    try:
        x = rand(rng, 2, 3, 4)
        np.testing.assert_array_equal(run_layer("Doubler", [x])[0], 2 * x)
    finally:
        recaffe.net.unregister_layer("Doubler")
    with pytest.raises(recaffe.UnknownLayerError):
        layer_net("Doubler", [(1, 2)])


# --- loss and accuracy (TEST-phase forwards of train_val files) -----------------------------------
@pytest.mark.parametrize("shape,axis", [((4, 7), 1), ((2, 5, 3, 2), 1), ((2, 3, 5), 2)])
@pytest.mark.parametrize("norm", ["VALID", "FULL", "BATCH_SIZE", "NONE"])
def test_softmax_with_loss(rng, shape, axis, norm):
    x = rand(rng, *shape) * 3
    lshape = tuple(s for a, s in enumerate(shape) if a != axis)
    labels = rng.integers(0, shape[axis], lshape).astype(np.float32)
    labels.flat[0] = 1  # the ignored label
    params = f"softmax_param {{ axis: {axis} }} loss_param {{ ignore_label: 1 normalization: {norm} }}"
    loss, prob = run_layer("SoftmaxWithLoss", [x, labels], params, n_tops=2)
    assert loss.shape == ()
    np.testing.assert_allclose(loss, R.softmax_loss(x, labels, axis, 1, norm), rtol=1e-5)
    assert_close(prob, R.softmax(x, axis), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("top_k", [1, 2, 5])
@pytest.mark.parametrize("ignore", [None, 3])
def test_accuracy(rng, top_k, ignore):
    x = rand(rng, 40, 6)
    x[0, :] = 1.0  # all tied: Caffe counts ties as better, so this is a miss unless top_k >= 6
    labels = rng.integers(0, 6, 40).astype(np.float32)
    params = f"accuracy_param {{ top_k: {top_k} {'' if ignore is None else f'ignore_label: {ignore}'} }}"
    acc, per_class = run_layer("Accuracy", [x, labels], params, n_tops=2)
    np.testing.assert_allclose(acc, R.accuracy(x, labels, top_k, 1, ignore), rtol=1e-6)
    for c in range(6):
        sel = labels == c
        if c != ignore and sel.any():
            np.testing.assert_allclose(per_class[c], R.accuracy(x[sel], labels[sel], top_k), rtol=1e-6)


def test_loss_label_errors():
    with pytest.raises(recaffe.LayerError, match="label blob"):
        layer_net("SoftmaxWithLoss", [(2, 5), (3,)])
    with pytest.raises(recaffe.LayerError, match="outside"):
        run_layer("Accuracy", [np.zeros((2, 3), np.float32), np.array([0, 7], np.float32)])
