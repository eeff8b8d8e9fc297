"""reorder_activation_pooling: exact swaps (max abs diff exactly 0 against the untouched net), every
refusal rule, in-place handling, fused pooling, and saved files that recaffe and OpenCV load."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import recaffe
from recaffe.io.proto import pb
from recaffe.transforms import reorder_activation_pooling

VGG16 = Path(__file__).resolve().parents[1] / "prototxt" / "vgg16.prototxt"


def small_vgg16(n=2, size=32):
    """VGG16 with a small input (its 5 pools take 32 -> 1) and seeded random weights."""
    param = recaffe.read_net(str(VGG16))
    param.layer[0].input_param.shape[0].dim[:] = [n, 3, size, size]
    return param, recaffe.random_weights(param, seed=0)


def layer_order(param):
    return [l.name for l in param.layer]


def run(param, weights, x, blobs=()):
    net = recaffe.Net(param, weights)
    return net.forward(blobs=list(blobs), data=x)


def test_vgg16_bit_exact_and_report():
    param, weights = small_vgg16()
    new, new_w, rep = reorder_activation_pooling(param, weights)
    assert [s.activations for s in rep.sites] == [["relu1_2"], ["relu2_2"], ["relu3_3"], ["relu4_3"], ["relu5_3"]]
    assert [s.pooling for s in rep.sites] == ["pool1", "pool2", "pool3", "pool4", "pool5"]
    assert all(s.theoretical_speedup == 4.0 for s in rep.sites[:4])   # 32->16->8->4->2: exact 2x2
    assert rep.skipped == []
    order = layer_order(new)
    assert order.index("pool1") == order.index("relu1_2") - 1 and order.index("pool5") < order.index("relu5_3")
    assert [l.bottom[0] for l in new.layer if l.name == "pool1"] == ["conv1_2"]
    assert [(list(l.bottom), list(l.top)) for l in new.layer if l.name == "relu1_2"] == [(["pool1"], ["pool1"])]
    assert layer_order(param).index("relu1_2") < layer_order(param).index("pool1")  # input untouched
    x = np.random.default_rng(0).normal(0, 50, (2, 3, 32, 32)).astype(np.float32)
    pools = [f"pool{i}" for i in range(1, 6)] + ["fc8"]
    a = run(param, weights, x, pools)
    b = run(new, new_w, x, pools + ["conv1_2"])
    for k in pools + ["prob"]:
        assert np.abs(a[k] - b[k]).max() == 0, k
    # the ReLU really moved: the pooling's input is now the raw (signed) convolution output
    assert (b["conv1_2"] < 0).any()


def test_vgg16_full_size_theoretical_speedups():
    param, _ = recaffe.load(str(VGG16))
    _, _, rep = reorder_activation_pooling(param)
    assert [s.values_before for s in rep.sites] == [64 * 224 * 224, 128 * 112 * 112, 256 * 56 * 56,
                                                    512 * 28 * 28, 512 * 14 * 14]
    assert [s.theoretical_speedup for s in rep.sites] == [4.0] * 5
    assert "relu3_3 (ReLU) now after pool3" in str(rep)


def conv_act_pool(act: str, pool: str = "pool: MAX kernel_size: 2 stride: 2", in_place=True, shape=(2, 3, 9, 7),
                  extra: str = "", pool_bottom: str | None = None, pool_tops=("pool",)):
    """input -> conv -> <act> -> <pool> -> conv2 (a small net exercising one rule)."""
    act_top = "conv" if in_place else "act"
    act_layer = f'layer {{ name: "act" type: "{act.split()[0]}" bottom: "conv" top: "{act_top}" ' \
                f'{" ".join(act.split()[1:])} }}' if act else ""
    pb_ = pool_bottom or (act_top if act else "conv")
    tops = " ".join(f'top: "{t}"' for t in pool_tops)
    return f"""
layer {{ name: "data" type: "Input" top: "data" input_param {{ shape {{ {' '.join(f'dim: {d}' for d in shape)} }} }} }}
layer {{ name: "conv" type: "Convolution" bottom: "data" top: "conv"
        convolution_param {{ num_output: 4 kernel_size: 3 pad: 1 }} }}
{act_layer}
{extra}
layer {{ name: "pool" type: "Pooling" bottom: "{pb_}" {tops} pooling_param {{ {pool} }} }}
layer {{ name: "conv2" type: "Convolution" bottom: "pool" top: "conv2" convolution_param {{ num_output: 3 kernel_size: 1 }} }}
"""


def inputs_with_ties(shape, seed=0):
    """Normal values plus exact ties and zeros, so the first-wins rule of max pooling is exercised."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, shape).astype(np.float32)
    x[..., ::3, :] = np.round(x[..., ::3, :])
    return x


def assert_exact(text, *, fuse=False, expect_sites=1, act_names=("act",)):
    param = recaffe.read_net(text)
    weights = recaffe.random_weights(param, seed=3)
    new, new_w, rep = reorder_activation_pooling(param, weights, fuse=fuse)
    assert len(rep.sites) == expect_sites, str(rep)
    if expect_sites:
        assert rep.sites[0].activations == list(act_names)
    order = layer_order(new)
    for a in act_names:
        if not fuse:
            assert order.index(a) > order.index("pool"), order
    shape = tuple(param.layer[0].input_param.shape[0].dim)
    for seed in range(3):
        x = inputs_with_ties(shape, seed)
        a = run(param, weights, x, ["pool"])
        b = run(new, new_w, x, ["pool"])
        for k in ("pool", "conv2"):
            assert a[k].shape == b[k].shape
            assert np.abs(a[k] - b[k]).max() == 0, (k, str(rep))
    return new, rep


@pytest.mark.parametrize("act", [
    "ReLU", "ReLU relu_param { negative_slope: 0.1 }", "Clip clip_param { min: -0.3 max: 0.4 }",
])
@pytest.mark.parametrize("in_place", [True, False])
def test_monotone_activations_swap_exactly(act, in_place):
    new, rep = assert_exact(conv_act_pool(act, in_place=in_place))
    assert rep.sites[0].input_blob == "conv"
    act_layer = [l for l in new.layer if l.name == "act"][0]
    assert list(act_layer.bottom) == list(act_layer.top) == ["pool"]   # runs in place on the pooled map
    if not in_place:
        assert all("act" not in l.top for l in new.layer)


@pytest.mark.parametrize("pool", [
    "pool: MAX kernel_size: 3 stride: 2",                      # overlapping windows, ceil overhang
    "pool: MAX kernel_size: 3 stride: 2 pad: 1",               # padding (padded cells are skipped)
    "pool: MAX kernel_h: 3 kernel_w: 2 stride_h: 1 stride_w: 2",
    "pool: MAX kernel_size: 2 stride: 2 round_mode: FLOOR",
    "pool: MAX global_pooling: true",
])
def test_pooling_geometries_swap_exactly(pool):
    _, rep = assert_exact(conv_act_pool("ReLU", pool))
    assert rep.sites[0].theoretical_speedup > 1


def test_overlapping_pool_speedup_is_size_ratio():
    _, rep = assert_exact(conv_act_pool("ReLU", "pool: MAX kernel_size: 3 stride: 2", shape=(1, 3, 9, 9)))
    assert rep.sites[0].values_before == 4 * 81 and rep.sites[0].values_after == 4 * 16


def test_chain_of_activations_moves_together():
    extra = 'layer { name: "act2" type: "Clip" bottom: "conv" top: "conv" clip_param { min: 0 max: 0.5 } }'
    _, rep = assert_exact(conv_act_pool("ReLU relu_param { negative_slope: 0.2 }", extra=extra),
                          act_names=("act", "act2"))
    assert rep.sites[0].activation_types == ["ReLU", "Clip"]


@pytest.mark.parametrize("act", ["ReLU", "ReLU relu_param { negative_slope: 0.25 }"])
def test_fused_pooling_is_exact(act):
    new, rep = assert_exact(conv_act_pool(act), fuse=True)
    assert rep.sites[0].fused
    assert "act" not in layer_order(new)
    pool = [l for l in new.layer if l.name == "pool"][0]
    assert pool.recaffe_param.fused_activation == "ReLU"


def assert_refused(text, reason_part, weights=None, runnable=True):
    param = recaffe.read_net(text)
    new, _, rep = reorder_activation_pooling(param, weights)
    assert rep.sites == [], str(rep)
    assert len(rep.skipped) == 1, str(rep)
    assert reason_part in rep.skipped[0].reason, str(rep)
    assert new == param   # nothing changed
    return param


def test_refuses_negative_slope():
    assert_refused(conv_act_pool("ReLU relu_param { negative_slope: -0.5 }"), "negative_slope -0.5")


def test_refuses_absval():
    assert_refused(conv_act_pool("AbsVal"), "not non-decreasing")


def move_after(param, name, after):
    """A copy of `param` with layer `name` moved behind layer `after`, in place on its top."""
    out = pb.NetParameter()
    out.CopyFrom(param)
    del out.layer[:]
    moving = [l for l in param.layer if l.name == name][0]
    for l in param.layer:
        if l.name != name:
            out.layer.add().CopyFrom(l)
        if l.name == after:
            m = out.layer.add()
            m.CopyFrom(moving)
            m.bottom[:] = m.top[:] = [l.top[0]]
    [l for l in out.layer if l.name == after][0].bottom[0] = moving.bottom[0]
    return out


def test_refuses_average_pooling_and_it_would_not_be_exact():
    param = assert_refused(conv_act_pool("ReLU", "pool: AVE kernel_size: 2 stride: 2"), "AVE")
    # the rule is real: swapping by hand changes the output (and the comparison can see it)
    swapped = move_after(param, "act", "pool")
    w = recaffe.random_weights(param, seed=3)
    x = inputs_with_ties((2, 3, 9, 7))
    assert np.abs(run(param, w, x)["conv2"] - run(swapped, w, x)["conv2"]).max() > 0
    # while the same hand swap of a MAX pooling is exact
    param = recaffe.read_net(conv_act_pool("ReLU"))
    assert np.abs(run(param, w, x)["conv2"] - run(move_after(param, "act", "pool"), w, x)["conv2"]).max() == 0


def test_refuses_stochastic_pooling():
    assert_refused(conv_act_pool("ReLU", "pool: STOCHASTIC kernel_size: 2 stride: 2"), "STOCHASTIC")


def test_refuses_other_consumer():
    extra = 'layer { name: "side" type: "Convolution" bottom: "act" top: "side" ' \
            'convolution_param { num_output: 2 kernel_size: 1 } }'
    assert_refused(conv_act_pool("ReLU", in_place=False, extra=extra), "also read by 'side'")


def test_refuses_other_consumer_of_in_place_output():
    # 'conv' after the in-place ReLU is the ReLU's output; a second reader sees post-ReLU values
    extra = 'layer { name: "side" type: "Convolution" bottom: "conv" top: "side" ' \
            'convolution_param { num_output: 2 kernel_size: 1 } }'
    assert_refused(conv_act_pool("ReLU", extra=extra), "also read by 'side'")


def test_reader_of_the_input_before_the_activation_is_fine():
    text = conv_act_pool("ReLU", in_place=False).replace(
        'layer { name: "act"',
        'layer { name: "side" type: "Convolution" bottom: "conv" top: "side" '
        'convolution_param { num_output: 2 kernel_size: 1 } }\nlayer { name: "act"')
    param = recaffe.read_net(text)
    w = recaffe.random_weights(param, seed=1)
    new, _, rep = reorder_activation_pooling(param, w)
    assert len(rep.sites) == 1
    x = inputs_with_ties((2, 3, 9, 7))
    a, b = run(param, w, x, ["side"]), run(new, w, x, ["side"])
    for k in ("side", "conv2"):
        assert np.abs(a[k] - b[k]).max() == 0
    assert (a["side"] != 0).any()


def test_refuses_non_commuting_layer_between():
    extra = 'layer { name: "norm" type: "LRN" bottom: "conv" top: "norm" lrn_param { local_size: 3 } }'
    assert_refused(conv_act_pool("ReLU", extra=extra, pool_bottom="norm"), "LRN 'norm' sits between")


def test_refuses_pooling_with_mask_top():
    assert_refused(conv_act_pool("ReLU", pool_tops=("pool", "mask")), "argmax mask")


def test_prelu_needs_nonnegative_slopes():
    text = conv_act_pool("PReLU")
    assert_refused(text, "none were given")
    assert_refused(text, "slopes are negative", weights={"act": [np.array([0.1, -0.2, 0.3, 0.1], np.float32)]})
    _, _, rep = reorder_activation_pooling(recaffe.read_net(text), {"act": [np.full(4, 0.25, np.float32)]})
    assert rep.sites[0].activation_types == ["PReLU"]


def test_phase_specific_nets_are_analysed_per_phase():
    # a train_val-style pair of input layers with the same top, one per phase
    text = conv_act_pool("ReLU").replace(
        'layer { name: "data" type: "Input" top: "data"',
        'layer { name: "data_train" type: "Input" top: "data" include { phase: TRAIN } '
        'input_param { shape { dim: 4 dim: 3 dim: 9 dim: 7 } } }\n'
        'layer { name: "data" type: "Input" top: "data" include { phase: TEST }', 1)
    param = recaffe.read_net(text)
    assert len(param.layer) == 6
    new, _, rep = reorder_activation_pooling(param)
    assert len(rep.sites) == 1
    assert layer_order(new) == ["data_train", "data", "conv", "pool", "act", "conv2"]


def test_net_without_candidates_is_unchanged(data_file):
    param, w = recaffe.load(str(data_file("mnist", "lenet.prototxt")))
    new, _, rep = reorder_activation_pooling(param)
    assert rep.sites == [] and rep.skipped == [] and new == param


def test_cifar10_quick_refuses_average_pools(data_file):
    """Caffe's cifar10_quick already pools before relu1; relu2/relu3 feed AVE pools: nothing to swap."""
    param, _ = recaffe.load(str(data_file("prototxt_upstream", "cifar10_quick", "cifar10_quick.prototxt")))
    _, _, rep = reorder_activation_pooling(param)
    assert rep.sites == []
    assert sorted((s.activation, s.pooling) for s in rep.skipped) == [("relu2", "pool2"), ("relu3", "pool3")]
    assert all("AVE" in s.reason for s in rep.skipped)


def test_upstream_nets_report(data_file):
    """CaffeNet: relu1/relu2/relu5 before their max pools; GoogLeNet: the stem ReLU swaps, conv2's is
    held back by the LRN between it and pool2; ResNet-50: conv1's ReLU swaps, the final AVE pool refuses."""
    caffenet = recaffe.read_net(str(data_file("prototxt_upstream", "bvlc_reference_caffenet", "deploy.prototxt")))
    _, _, rep = reorder_activation_pooling(caffenet)
    assert [s.activations[0] for s in rep.sites] == ["relu1", "relu2", "relu5"]
    googlenet = recaffe.read_net(str(data_file("prototxt_upstream", "bvlc_googlenet", "deploy.prototxt")))
    _, _, rep = reorder_activation_pooling(googlenet)
    assert [(s.activations[0], s.pooling) for s in rep.sites] == [("conv1/relu_7x7", "pool1/3x3_s2")]
    assert [(s.activation, s.pooling) for s in rep.skipped] == [("conv2/relu_3x3", "pool2/3x3_s2")]
    assert "LRN 'conv2/norm2'" in rep.skipped[0].reason
    resnet = recaffe.read_net(str(data_file("prototxt_upstream", "resnet", "ResNet-50-deploy.prototxt")))
    _, _, rep = reorder_activation_pooling(resnet)
    assert [(s.activations[0], s.pooling) for s in rep.sites] == [("conv1_relu", "pool1")]
    assert [(s.activation, s.pooling) for s in rep.skipped] == [("res5c_relu", "pool5")]


def test_saved_file_reloads_and_runs_in_opencv(tmp_path):
    cv2 = pytest.importorskip("cv2")
    param, weights = small_vgg16(n=1)
    new, new_w, _ = reorder_activation_pooling(param, weights)
    proto, model = tmp_path / "r.prototxt", tmp_path / "r.caffemodel"
    recaffe.save(new, new_w, proto, model)
    x = np.random.default_rng(5).normal(0, 50, (1, 3, 32, 32)).astype(np.float32)
    ref = run(param, weights, x)["prob"]
    again = recaffe.Net(str(proto), str(model)).forward(data=x)["prob"]
    assert np.abs(again - ref).max() == 0
    cvnet = cv2.dnn.readNetFromCaffe(str(proto), str(model))
    cvnet.setInput(x)
    out = cvnet.forward().reshape(ref.shape)
    np.testing.assert_allclose(out, ref, rtol=1e-3, atol=1e-5)


def consecutive_floats(start: float, n: int) -> np.ndarray:
    """n consecutive float32 values upwards from `start` (every representable value, none skipped)."""
    first = np.array([start], np.float32).view(np.int32)[0]
    bits = first + np.arange(n, dtype=np.int32) if start >= 0 else first - np.arange(n, dtype=np.int32)
    return np.sort(bits.astype(np.int32).view(np.float32))


@pytest.mark.parametrize("kind", ["Sigmoid", "TanH"])
def test_sigmoid_and_tanh_kernels_are_non_decreasing_in_floats(kind):
    """The swap is exact only if f is non-decreasing on floats, not just on reals: check every float
    in dense ranges (where the former 1/(1+exp(-x)) sigmoid had 1-ulp reversals) and a wide sample."""
    from recaffe import _core
    rng = np.random.default_rng(0)
    xs = [consecutive_floats(s, 1 << 19) for s in (4e-4, 0.03125, 0.1249, 0.2, 0.624, 3.0, -0.5, -0.1249, -9.0)]
    xs.append(np.sort(rng.normal(0, 10, 1 << 20).astype(np.float32)))
    for x in xs:
        y = _core.kernels.activation(kind, x)
        assert (np.diff(y) >= 0).all(), (kind, x[np.flatnonzero(np.diff(y) < 0)[:3]])


@pytest.mark.parametrize("kind", ["Sigmoid", "TanH"])
def test_sigmoid_and_tanh_swap_exactly_on_near_ties(kind):
    """Windows of adjacent floats: the values where a non-monotone float sigmoid would break the swap."""
    text = f"""
layer {{ name: "data" type: "Input" top: "data" input_param {{ shape {{ dim: 1 dim: 4 dim: 2 dim: 4096 }} }} }}
layer {{ name: "act" type: "{kind}" bottom: "data" top: "act" }}
layer {{ name: "pool" type: "Pooling" bottom: "act" top: "pool" pooling_param {{ pool: MAX kernel_size: 2 stride: 2 }} }}
"""
    param = recaffe.read_net(text)
    new, _, rep = reorder_activation_pooling(param)
    assert rep.sites[0].activation_types == [kind]
    starts = (0.0312, 0.1249, -0.4999, 0.2)
    x = np.stack([consecutive_floats(s, 2 * 4096).reshape(2, 4096) for s in starts])[None]
    x[0, :, 1] = x[0, :, 1, ::-1]       # each window holds two near pairs in both orders
    a = run(param, {}, x)["pool"]
    b = run(new, {}, x)["pool"]
    assert np.abs(a - b).max() == 0
    assert np.array_equal(a.view(np.int32), b.view(np.int32))   # bit for bit, signs of zero included
    assert_exact(conv_act_pool(kind))   # and through a convolution, with ties


PROTOTXT = VGG16.parent


@pytest.mark.parametrize("model, size, swapped, skipped", [
    ("caffenet", 99, ["relu1", "relu2", "relu5"], []),
    ("alexnet", 99, ["relu5"], [("relu1", "LRN 'norm1'"), ("relu2", "LRN 'norm2'")]),
    ("googlenet", 224, ["conv1/relu_7x7"], [("conv2/relu_3x3", "LRN 'conv2/norm2'")]),
])
def test_other_nets_bit_exact(model, size, swapped, skipped):
    """Any net, not only VGG: CaffeNet (pool before LRN), AlexNet (LRN before pool: refused) and
    GoogLeNet (inception branches, concat, AVE pool5) with seeded random weights."""
    param = recaffe.read_net(str(PROTOTXT / f"{model}.prototxt"))
    param.layer[0].input_param.shape[0].dim[2:] = [size, size]
    weights = recaffe.random_weights(param, seed=0)
    new, new_w, rep = reorder_activation_pooling(param, weights)
    assert [s.activations[0] for s in rep.sites] == swapped
    assert [s.activation for s in rep.skipped] == [a for a, _ in skipped]
    assert all(s.reason.startswith(why + " sits between") for s, (_, why) in zip(rep.skipped, skipped))
    x = np.random.default_rng(1).normal(0, 40, (1, 3, size, size)).astype(np.float32)
    pools = [l.top[0] for l in param.layer if l.type == "Pooling"]
    a, b = run(param, weights, x, pools), run(new, new_w, x, pools)
    for k in a:
        assert np.abs(a[k] - b[k]).max() == 0, k


@pytest.mark.parametrize("act, weights", [
    ("ELU elu_param { alpha: 0.5 }", None), ("BNLL", None), ("Threshold threshold_param { threshold: 0.1 }", None),
    ("PReLU", {"act": [np.array([0.0, 0.1, 0.5, 2.0], np.float32)]}),
])
def test_layers_branch_activations_swap_exactly(act, weights):
    param = recaffe.read_net(conv_act_pool(act))
    w = recaffe.random_weights(param, seed=3) | (weights or {})
    new, new_w, rep = reorder_activation_pooling(param, w)
    assert rep.sites[0].activation_types == [act.split()[0]]
    for seed in range(3):
        x = inputs_with_ties((2, 3, 9, 7), seed)
        a, b = run(param, w, x, ["pool"]), run(new, new_w, x, ["pool"])
        assert np.abs(a["conv2"] - b["conv2"]).max() == 0 and np.abs(a["pool"] - b["pool"]).max() == 0


def test_refuses_elu_with_negative_alpha():
    assert_refused(conv_act_pool("ELU elu_param { alpha: -1 }"), "alpha -1")


def test_train_val_file_with_phase_data_layers_and_loss(data_file):
    """CaffeNet's train_val: TRAIN/TEST Data layers with one top, a loss head; overlapping 3x3/2 pools
    give size ratios above 4 (55x55 -> 27x27)."""
    path = data_file("prototxt_upstream", "bvlc_reference_caffenet", "train_val.prototxt")
    new, _, rep = reorder_activation_pooling(str(path))
    assert [s.activations[0] for s in rep.sites] == ["relu1", "relu2", "relu5"]
    assert rep.sites[0].values_before == 96 * 55 * 55 and rep.sites[0].values_after == 96 * 27 * 27
    assert rep.notes == []
    order = layer_order(new)
    assert order.index("pool1") < order.index("relu1") < order.index("norm1")
    assert sum(l.type == "Data" for l in new.layer) == 2
