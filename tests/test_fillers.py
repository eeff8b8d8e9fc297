"""Caffe's fillers (include/caffe/filler.hpp), checked against their formulas, and the seeded
random weights every timing run uses; the nets in prototxt/ load and run with them."""
from pathlib import Path

import numpy as np
import pytest

import recaffe
from recaffe.errors import LayerError
from recaffe.fillers import apply_filler
from recaffe.io.proto import pb

PROTOTXT_DIR = Path(__file__).resolve().parents[1] / "prototxt"


def fill(shape, seed=0, **kw):
    return apply_filler(pb.FillerParameter(**kw), shape, np.random.default_rng(seed))


def test_constant():
    out = fill((3, 4), type="constant", value=2.5)
    assert out.dtype == np.float32 and (out == 2.5).all()


def test_uniform_range_and_moments():
    out = fill((400, 500), type="uniform", min=-2, max=6)
    assert out.min() >= -2 and out.max() <= 6
    assert abs(out.mean() - 2) < 0.02 and abs(out.var() - 64 / 12) < 0.05


def test_gaussian_moments():
    out = fill((400, 500), type="gaussian", mean=1.0, std=3.0)
    assert abs(out.mean() - 1) < 0.02 and abs(out.std() - 3) < 0.02


def test_gaussian_sparse_keeps_sparse_over_num_outputs():
    # Caffe: Bernoulli(sparse / shape[0]) mask, i.e. `sparse` non-zeros per input column on average
    out = fill((50, 2000), type="gaussian", std=1.0, sparse=10)
    assert abs((out != 0).mean() - 10 / 50) < 0.005
    assert abs((out != 0).sum(0).mean() - 10) < 0.2


@pytest.mark.parametrize("norm, n", [("FAN_IN", 3 * 5 * 5), ("FAN_OUT", 64 * 5 * 5), ("AVERAGE", (75 + 1600) / 2)])
def test_xavier_bound_is_sqrt_3_over_n(norm, n):
    out = fill((64, 3, 5, 5), type="xavier", variance_norm=getattr(pb.FillerParameter, norm))
    bound = np.sqrt(3 / n)
    assert np.abs(out).max() <= bound and np.abs(out).max() > 0.98 * bound
    assert abs(out.var() / (bound ** 2 / 3) - 1) < 0.05


@pytest.mark.parametrize("norm, n", [("FAN_IN", 256 * 9), ("FAN_OUT", 128 * 9), ("AVERAGE", (2304 + 1152) / 2)])
def test_msra_std_is_sqrt_2_over_n(norm, n):
    out = fill((128, 256, 3, 3), type="msra", variance_norm=getattr(pb.FillerParameter, norm))
    assert abs(out.std() / np.sqrt(2 / n) - 1) < 0.01 and abs(out.mean()) < 1e-3


def test_msra_on_inner_product_weights_uses_shape_1_as_fan_in():
    out = fill((1000, 4096), type="msra")
    assert abs(out.std() / np.sqrt(2 / 4096) - 1) < 0.01


def test_bilinear_matches_hand_computed_kernel():
    # k=4: f=2, c=(4-1)/4=0.75, 1-|x/2-0.75| = .25 .75 .75 .25
    out = fill((2, 3, 4, 4), type="bilinear")
    w = np.array([0.25, 0.75, 0.75, 0.25], np.float32)
    for o in range(2):
        for i in range(3):
            np.testing.assert_allclose(out[o, i], np.outer(w, w), rtol=1e-6)
    # k=3 (odd): f=2, c=0.5: 1-|x/2-0.5| = .5 1 .5
    np.testing.assert_allclose(fill((1, 1, 3, 3), type="bilinear")[0, 0], np.outer([.5, 1, .5], [.5, 1, .5]))


def test_positive_unitball_rows_sum_to_one():
    out = fill((6, 2, 3, 3), type="positive_unitball")
    assert (out >= 0).all()
    np.testing.assert_allclose(out.reshape(6, -1).sum(1), 1.0, rtol=1e-5)


def test_bad_fillers_are_refused():
    with pytest.raises(LayerError, match="unknown filler type 'he'"):
        fill((3, 3), type="he")
    with pytest.raises(LayerError, match="sparse"):
        fill((3, 3), type="uniform", sparse=2)
    with pytest.raises(LayerError, match="square 4-D"):
        fill((3, 3, 2, 4), type="bilinear")


def test_random_weights_use_the_files_fillers_and_are_seeded():
    text = """
    layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 dim: 6 dim: 6 } } }
    layer { name: "c" type: "Convolution" bottom: "x" top: "c" convolution_param { num_output: 4 kernel_size: 3
            weight_filler { type: "constant" value: 0.5 } bias_filler { type: "uniform" min: 3 max: 4 } } }
    layer { name: "f" type: "InnerProduct" bottom: "c" top: "f" inner_product_param { num_output: 3 } }
    """
    a = recaffe.random_weights(text, seed=7)
    b = recaffe.random_weights(text, seed=7)
    c = recaffe.random_weights(text, seed=8)
    assert (a["c"][0] == 0.5).all() and ((a["c"][1] >= 3) & (a["c"][1] <= 4)).all()
    assert a["f"][0].shape == (3, 64) and a["f"][0].std() > 0  # no filler given: He-normal, not zeros
    for k in a:
        for x, y, z in zip(a[k], b[k], c[k]):
            np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a["f"][0], c["f"][0])


def test_net_without_weights_gets_caffes_defaults():
    text = """
    layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 4 } } }
    layer { name: "f" type: "InnerProduct" bottom: "x" top: "f" inner_product_param { num_output: 3
            weight_filler { type: "gaussian" std: 0.01 } } }
    """
    net = recaffe.Net(text)
    assert net.params["f"][0].data.std() > 0 and (net.params["f"][1].data == 0).all()


def prototxt_files():
    return sorted(PROTOTXT_DIR.glob("*.prototxt"))


@pytest.mark.parametrize("path", prototxt_files(), ids=lambda p: p.name)
def test_repository_prototxts_are_v2_and_build(path):
    raw = recaffe.io.read_prototxt(path)  # as written, before any upgrade
    assert raw.layer and not raw.layers and not raw.input and not raw.input_dim  # V2 deploy form
    try:
        net = recaffe.Net(path, _skip_weights=True)
    except recaffe.UnknownLayerError as e:
        pytest.skip(f"needs layer type '{e.layer_type}', not implemented yet")
    assert net.inputs and net.outputs


@pytest.mark.parametrize("name", ["lenet", "cifar10_quick", "sigmoid_net"])
def test_small_prototxts_run_with_random_weights(name):
    path = PROTOTXT_DIR / f"{name}.prototxt"
    net = recaffe.Net(path, recaffe.random_weights(path, seed=0))
    x = np.random.default_rng(0).uniform(0, 1, net.blobs["data"].shape).astype(np.float32)
    out = net.forward(data=x)
    assert all(np.isfinite(v).all() and v.std() > 0 for v in out.values())


def test_sigmoid_net_is_conv_sigmoid_maxpool():
    net = recaffe.read_net(PROTOTXT_DIR / "sigmoid_net.prototxt")
    assert [l.type for l in net.layer] == ["Input", "Convolution", "Sigmoid", "Pooling"]
    assert net.layer[3].pooling_param.pool == pb.PoolingParameter.MAX
    w = recaffe.random_weights(net, seed=1)
    x = np.random.default_rng(2).standard_normal((1, 3, 224, 224)).astype(np.float32)
    out = recaffe.Net(net, w).forward(data=x)["pool1"]
    # reference in numpy: max over 2x2 windows of sigmoid(conv) on a small corner
    patch = np.pad(x[0], ((0, 0), (1, 1), (1, 1)))[:, :6, :6]
    conv = np.einsum("ocij,cyxij->oyx", w["conv1"][0],
                     np.lib.stride_tricks.sliding_window_view(patch, (3, 3), axis=(1, 2))) + w["conv1"][1][:, None, None]
    ref = (1 / (1 + np.exp(-conv))).reshape(64, 2, 2, 2, 2).max(axis=(2, 4))
    np.testing.assert_allclose(out[0, :, :2, :2], ref, rtol=1e-5, atol=1e-6)
