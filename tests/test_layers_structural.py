"""Concat, Slice, Eltwise, BatchNorm, Scale, Bias, Flatten, Reshape, LRN against the numpy
references (tests/reference_layers.py) over small odd shapes, plus hand-computed LRN values."""
import numpy as np
import pytest

import recaffe
import reference_layers as R
from layer_harness import assert_close, layer_net, run_layer


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


# --- LRN --------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 1, 3, 3), (2, 7, 5, 3), (1, 12, 1, 9), (3, 4, 6, 1)])
@pytest.mark.parametrize("size,alpha,beta,k", [(5, 1.0, 0.75, 1.0), (3, 0.5, 0.6, 2.0), (1, 1e-4, 0.75, 1.0),
                                               (7, 2e-3, 1.5, 0.5)])
def test_lrn_across_channels(rng, shape, size, alpha, beta, k):
    x = rand(rng, *shape) * 3
    p = f"lrn_param {{ local_size: {size} alpha: {alpha} beta: {beta} k: {k} }}"
    assert_close(run_layer("LRN", [x], p)[0], R.lrn_across(x, size, alpha, beta, k), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(1, 1, 3, 3), (2, 3, 7, 5), (1, 2, 1, 9), (1, 2, 2, 2)])
@pytest.mark.parametrize("size,alpha,beta", [(3, 1.0, 0.75), (5, 0.5, 0.6), (1, 2.0, 1.0)])
def test_lrn_within_channel(rng, shape, size, alpha, beta):
    x = rand(rng, *shape) * 3
    p = f"lrn_param {{ local_size: {size} alpha: {alpha} beta: {beta} k: 7 norm_region: WITHIN_CHANNEL }}"
    assert_close(run_layer("LRN", [x], p)[0], R.lrn_within(x, size, alpha, beta), rtol=2e-5, atol=1e-6)


def test_lrn_golden_across():
    # 3 channels of one pixel [1, 2, 3], size 3, alpha 3, beta 1, k 1: scale_c = 1 + (sum of neighbours' squares)
    # c0: 1 + 1 + 4 = 6; c1: 1 + 1 + 4 + 9 = 15; c2: 1 + 4 + 9 = 14
    x = np.array([1, 2, 3], np.float32).reshape(1, 3, 1, 1)
    y = run_layer("LRN", [x], "lrn_param { local_size: 3 alpha: 3 beta: 1 k: 1 }")[0]
    np.testing.assert_allclose(y.ravel(), [1 / 6, 2 / 15, 3 / 14], rtol=1e-6)


def test_lrn_golden_within():
    # 2x2 plane of 2s, size 3, alpha 9, beta 1: every 3x3 zero-padded window holds four 4s,
    # so 1 + 9 * 16 / 9 = 17 and y = 2 / 17 (k ignored in this mode)
    x = np.full((1, 1, 2, 2), 2, np.float32)
    y = run_layer("LRN", [x], "lrn_param { local_size: 3 alpha: 9 beta: 1 k: 100 norm_region: WITHIN_CHANNEL }")[0]
    np.testing.assert_allclose(y, np.full_like(x, 2 / 17), rtol=1e-6)


def test_lrn_in_place_matches(rng):
    x = rand(rng, 2, 6, 5, 4)
    a = run_layer("LRN", [x], "lrn_param { local_size: 3 }")[0]
    b = run_layer("LRN", [x], "lrn_param { local_size: 3 }", in_place=True)[0]
    np.testing.assert_array_equal(a, b)


def test_lrn_even_size_rejected():
    with pytest.raises(recaffe.LayerError, match="local_size"):
        layer_net("LRN", [(1, 3, 4, 4)], "lrn_param { local_size: 4 }")


# --- Concat / Slice --------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1])
def test_concat(rng, axis):
    base = [2, 3, 5, 7]
    xs = []
    for extra in (1, 4, 2):
        s = list(base)
        s[axis] = extra
        xs.append(rand(rng, *s))
    y = run_layer("Concat", xs, f"concat_param {{ axis: {axis} }}")[0]
    assert_close(y, np.concatenate(xs, axis=axis), rtol=0, atol=0)


def test_concat_legacy_dim_and_single_bottom(rng):
    xs = [rand(rng, 2, 3, 4), rand(rng, 2, 3, 5)]
    assert_close(run_layer("Concat", xs, "concat_param { concat_dim: 2 }")[0], np.concatenate(xs, 2), rtol=0, atol=0)
    x = rand(rng, 2, 3)
    net = layer_net("Concat", [x.shape])
    net.forward(x0=x)
    np.testing.assert_array_equal(net.blobs["y0"].data, x)


def test_concat_errors():
    with pytest.raises(recaffe.LayerError, match="all dims but the concat axis"):
        layer_net("Concat", [(1, 2, 3, 3), (1, 2, 4, 3)])
    with pytest.raises(recaffe.LayerError, match="not both"):
        layer_net("Concat", [(1, 2), (1, 2)], "concat_param { axis: 1 concat_dim: 1 }")
    with pytest.raises(recaffe.LayerError, match="out of range"):
        layer_net("Concat", [(1, 2), (1, 2)], "concat_param { axis: 2 }")


@pytest.mark.parametrize("axis,points,n_tops", [(1, [1, 3], 3), (2, [], 3), (3, [6], 2), (0, [], 2), (-1, [2, 3], 3)])
def test_slice(rng, axis, points, n_tops):
    x = rand(rng, 2, 5, 9, 7)
    p = f"slice_param {{ axis: {axis} {' '.join(f'slice_point: {q}' for q in points)} }}"
    tops = run_layer("Slice", [x], p, n_tops=n_tops)
    want = np.split(x, points if points else n_tops, axis=axis)
    assert len(tops) == len(want)
    for t, w in zip(tops, want):
        assert_close(t, w, rtol=0, atol=0)


def test_slice_errors():
    with pytest.raises(recaffe.LayerError, match="equal parts"):
        layer_net("Slice", [(1, 5, 2)], n_tops=2)
    with pytest.raises(recaffe.LayerError, match="increasing"):
        layer_net("Slice", [(1, 5, 2)], "slice_param { slice_point: 3 slice_point: 2 }", n_tops=3)
    with pytest.raises(recaffe.LayerError, match="points for"):
        layer_net("Slice", [(1, 5, 2)], "slice_param { slice_point: 3 }", n_tops=3)


# --- Eltwise ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 3, 5, 7), (2, 9), (3, 1, 1, 1)])
@pytest.mark.parametrize("n", [2, 3])
def test_eltwise(rng, shape, n):
    xs = [rand(rng, *shape) for _ in range(n)]
    coeff = [0.5, -2.0, 3.0][:n]
    ps = " ".join(f"coeff: {c}" for c in coeff)
    assert_close(run_layer("Eltwise", xs, "eltwise_param { operation: SUM }")[0], sum(x.astype(np.float64) for x in xs))
    assert_close(run_layer("Eltwise", xs, f"eltwise_param {{ operation: SUM {ps} }}")[0],
                 sum(c * x.astype(np.float64) for c, x in zip(coeff, xs)))
    assert_close(run_layer("Eltwise", xs, "eltwise_param { operation: PROD }")[0],
                 np.prod([x.astype(np.float64) for x in xs], axis=0))
    assert_close(run_layer("Eltwise", xs, "eltwise_param { operation: MAX }")[0], np.max(xs, axis=0), rtol=0, atol=0)


def test_eltwise_errors():
    with pytest.raises(recaffe.LayerError, match="identical shapes"):
        layer_net("Eltwise", [(1, 2, 3), (1, 3, 2)])
    with pytest.raises(recaffe.LayerError, match="only allowed with operation SUM"):
        layer_net("Eltwise", [(1, 2), (1, 2)], "eltwise_param { operation: MAX coeff: 1 coeff: 2 }")
    with pytest.raises(recaffe.LayerError, match="coeff has 1 values for 2 bottoms"):
        layer_net("Eltwise", [(1, 2), (1, 2)], "eltwise_param { coeff: 1 }")


# --- BatchNorm / Scale / Bias ----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (3, 5), (1, 4, 9)])
@pytest.mark.parametrize("factor", [0.0, 1.0, 37.5])
def test_batch_norm_global_stats(rng, shape, factor):
    c = shape[1]
    x = rand(rng, *shape)
    mean_sum = rand(rng, c) * factor
    var_sum = (rng.random(c).astype(np.float32) + 0.5) * factor
    w = [mean_sum, var_sum, np.array([factor], np.float32)]
    y = run_layer("BatchNorm", [x], "batch_norm_param { eps: 0.001 }", weights=w)[0]
    assert_close(y, R.batch_norm_global(x, mean_sum, var_sum, factor, 1e-3), rtol=1e-5, atol=1e-5)


def test_batch_norm_train_uses_batch_statistics_and_updates_sums(rng):
    x = rand(rng, 4, 3, 5, 5) * 2 + 1
    net = layer_net("BatchNorm", [x.shape], phase="train",
                    weights=[np.zeros(3, np.float32), np.zeros(3, np.float32), np.zeros(1, np.float32)])
    y = net.forward(x0=x)["y0"]
    mu = x.mean(axis=(0, 2, 3), dtype=np.float64)
    var = x.var(axis=(0, 2, 3), dtype=np.float64)
    assert_close(y, (x - mu[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5), rtol=1e-4, atol=1e-5)
    m = x.size / 3
    p = net.params["L"]
    np.testing.assert_allclose(p[2].data, [1.0])
    np.testing.assert_allclose(p[0].data, mu, rtol=1e-5)
    np.testing.assert_allclose(p[1].data, var * m / (m - 1), rtol=1e-5)


@pytest.mark.parametrize("shape,axis,num_axes", [((2, 3, 5, 7), 1, 1), ((2, 3, 5, 7), 1, 2), ((2, 3, 5, 7), 2, -1),
                                                 ((2, 3, 5, 7), 0, 0), ((4, 9), -1, 1), ((2, 3, 5), 0, 2)])
@pytest.mark.parametrize("bias", [False, True])
def test_scale_learned(rng, shape, axis, num_axes, bias):
    ax = axis % len(shape)
    oshape = shape[ax:] if num_axes == -1 else shape[ax:ax + num_axes]
    gamma = rand(rng, *oshape)
    w = [gamma] + ([rand(rng, *oshape)] if bias else [])
    x = rand(rng, *shape)
    p = f"scale_param {{ axis: {axis} num_axes: {num_axes} bias_term: {'true' if bias else 'false'} }}"
    want = x * R.broadcast_operand(shape, gamma, axis)
    if bias:
        want = want + R.broadcast_operand(shape, w[1], axis)
    assert_close(run_layer("Scale", [x], p, weights=w)[0], want)


@pytest.mark.parametrize("bias", [False, True])
def test_scale_two_bottoms(rng, bias):
    x, s = rand(rng, 2, 3, 5, 4), rand(rng, 3, 5)
    w = [rand(rng, 3, 5)] if bias else None
    p = f"scale_param {{ axis: 1 bias_term: {'true' if bias else 'false'} }}"
    want = x * s[None, :, :, None] + (w[0][None, :, :, None] if bias else 0)
    assert_close(run_layer("Scale", [x, s], p, weights=w)[0], want)


def test_scale_in_place_and_default_gamma(rng):
    x = rand(rng, 2, 3, 4, 4)
    net = layer_net("Scale", [x.shape])  # no weights: Caffe fills gamma with 1
    np.testing.assert_array_equal(net.params["L"][0].data, np.ones(3, np.float32))
    gamma = rand(rng, 3)
    y = run_layer("Scale", [x], "", weights=[gamma], in_place=True)[0]
    assert_close(y, x * gamma[None, :, None, None])


def test_scale_shape_error():
    with pytest.raises(recaffe.LayerError, match="does not match"):
        layer_net("Scale", [(2, 3, 4, 4), (4,)])


@pytest.mark.parametrize("shape,axis,num_axes", [((2, 3, 5, 7), 1, 1), ((2, 3, 5, 7), 2, 2), ((3, 4), 0, 0)])
def test_bias(rng, shape, axis, num_axes):
    oshape = shape[axis:axis + num_axes]
    b = rand(rng, *oshape)
    x = rand(rng, *shape)
    p = f"bias_param {{ axis: {axis} num_axes: {num_axes} }}"
    assert_close(run_layer("Bias", [x], p, weights=[b])[0], x + R.broadcast_operand(shape, b, axis))
    assert_close(run_layer("Bias", [x, b], p)[0], x + R.broadcast_operand(shape, b, axis))


# --- Flatten / Reshape --------------------------------------------------------------------------
@pytest.mark.parametrize("axis,end_axis,want", [(1, -1, (2, 105)), (0, -1, (210,)), (1, 2, (2, 15, 7)),
                                                (2, 3, (2, 3, 35)), (-2, -1, (2, 3, 35))])
def test_flatten(rng, axis, end_axis, want):
    x = rand(rng, 2, 3, 5, 7)
    y = run_layer("Flatten", [x], f"flatten_param {{ axis: {axis} end_axis: {end_axis} }}")[0]
    assert_close(y, x.reshape(want), rtol=0, atol=0)


@pytest.mark.parametrize("dims,axis,num_axes,want", [
    ([0, -1], 0, -1, (2, 105)), ([6, 35], 0, -1, (6, 35)), ([-1, 5, 7], 1, -1, (2, 3, 5, 7)),
    ([15], 1, 2, (2, 15, 7)), ([1, 1], -1, 0, (2, 3, 5, 7, 1, 1)), ([0, 0, -1], 0, -1, (2, 3, 35))])
def test_reshape(rng, dims, axis, num_axes, want):
    x = rand(rng, 2, 3, 5, 7)
    shape = " ".join(f"dim: {d}" for d in dims)
    y = run_layer("Reshape", [x], f"reshape_param {{ shape {{ {shape} }} axis: {axis} num_axes: {num_axes} }}")[0]
    assert_close(y, x.reshape(want), rtol=0, atol=0)


def test_reshape_follows_input_shape_and_errors(rng):
    net = layer_net("Reshape", [(2, 3, 4)], "reshape_param { shape { dim: 0 dim: -1 } }")
    x = rand(rng, 5, 3, 4)
    np.testing.assert_array_equal(net.forward(x0=x)["y0"], x.reshape(5, 12))
    with pytest.raises(recaffe.LayerError, match="elements"):
        layer_net("Reshape", [(2, 3, 4)], "reshape_param { shape { dim: 5 dim: 5 } }")
    with pytest.raises(recaffe.LayerError, match="at most one"):
        layer_net("Reshape", [(2, 3, 4)], "reshape_param { shape { dim: -1 dim: -1 } }")


def test_scale_two_bottoms_bias_filled_as_caffe():
    # with bottom[1] as the scale, the layer's only blob is the bias (bias_filler, default 0)
    net = layer_net("Scale", [(2, 3, 4, 4), (3,)], "scale_param { bias_term: true }")
    assert len(net.params["L"]) == 1
    np.testing.assert_array_equal(net.params["L"][0].data, np.zeros(3, np.float32))
