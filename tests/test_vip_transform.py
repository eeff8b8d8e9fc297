"""recaffe.transforms.vip: the rewritten graph against the authors' own ViP files, the numbers
against the layer's definition (reduced conv = original conv at even positions, then Eq. 5),
implicit interpolation against the explicit layer, save/load, and refusals."""
from pathlib import Path

import numpy as np
import pytest

import recaffe
from recaffe.io.proto import pb
from recaffe.transforms import vip
from test_vip_layer import eq4_reference

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = {  # the authors' train_val_lininterp_round*_afterAct.prototxt (REFERENCE_NOTES B)
    1: ["conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_2", "conv5_3"],
    2: ["conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_2", "conv5_3", "conv4_1", "conv4_2", "conv5_1"],
    3: ["conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_2", "conv5_3", "conv4_1", "conv4_2", "conv5_1", "conv1_1"],
    4: ["conv1_1", "conv1_2", "conv2_2", "conv3_1", "conv3_2", "conv3_3", "conv4_1", "conv4_2", "conv4_3", "conv5_1",
        "conv5_2", "conv5_3"],
}


def _graph(param):
    out = []
    for l in param.layer:
        stride = list(l.convolution_param.stride) if l.type == "Convolution" else []
        out.append((l.name, "ViP" if l.type == "Interp" else l.type, list(l.bottom), list(l.top), stride))
    return out


@pytest.mark.parametrize("round_", [1, 2, 3, 4])
def test_graph_matches_authors_round_files(round_, data_file):
    base = recaffe.read_net(str(data_file("prototxt_upstream", "virtual_pooling", "vgg16", "train_val.prototxt")))
    theirs = recaffe.read_net(str(data_file("prototxt_upstream", "virtual_pooling", "vgg16",
                                            f"train_val_lininterp_round{round_}_afterAct.prototxt")))
    ours, _, rep = vip(base, None, ROUNDS[round_])
    assert _graph(ours) == _graph(theirs)
    assert {s.conv for s in rep["sites"]} == set(ROUNDS[round_])


def _vgg(rng, size: int = 64):
    """VGG16's convolutional trunk (up to pool5) on size x size inputs, seeded weights: the whole
    graph the transform touches, at a cost tests can afford."""
    param, _ = recaffe.load(str(ROOT / "prototxt" / "vgg16.prototxt"))
    trunk = pb.NetParameter()
    trunk.CopyFrom(param)
    del trunk.layer[:]
    for l in param.layer:
        if l.type in ("InnerProduct", "Dropout", "Softmax") or l.name in ("relu6", "relu7"):
            continue
        trunk.layer.add().CopyFrom(l)
    inp = [l for l in trunk.layer if l.type == "Input"][0]
    del inp.input_param.shape[0].dim[2:]
    inp.input_param.shape[0].dim.extend([size, size])
    return trunk, recaffe.random_weights(trunk, 5)


def test_numbers_follow_the_definition(rng):
    param, w = _vgg(rng)
    new, w2, rep = vip(param, w, ["conv1_2", "conv4_3"])
    a, b = recaffe.Net(param, w), recaffe.Net(new, w2)
    x = rng.standard_normal((1, 3, 64, 64)).astype(np.float32)
    a.forward(data=x, end="relu4_3")
    b.forward(data=x, end="lininterp/conv4_3")
    # the stride-2 conv gives the original conv at even positions (ReLU commutes with subsampling)
    full, reduced = a.blobs["conv1_2"].data, b.blobs["conv1_2"].data
    assert reduced.shape == (1, 64, 32, 32)
    np.testing.assert_allclose(reduced, full[:, :, ::2, ::2], rtol=1e-4, atol=1e-4 * np.abs(full).max())
    np.testing.assert_allclose(b.blobs["lininterp/conv1_2"].data, eq4_reference(reduced, 64, 64), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(b.blobs["lininterp/conv4_3"].data, eq4_reference(b.blobs["conv4_3"].data, 8, 8),
                               rtol=1e-5, atol=1e-5)
    assert rep["theoretical_conv_speedup"] == {"conv1_2": 4.0, "conv4_3": 4.0}


def test_odd_sizes_restore_2h_minus_1(rng):
    proto = '''input: "data" input_shape { dim: 1 dim: 3 dim: 15 dim: 13 }
layer { name: "c1" type: "Convolution" bottom: "data" top: "c1" convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layer { name: "r1" type: "ReLU" bottom: "c1" top: "r1" }
layer { name: "c2" type: "Convolution" bottom: "r1" top: "c2" convolution_param { num_output: 2 kernel_size: 3 pad: 1 } }
layer { name: "p" type: "Pooling" bottom: "r1" top: "p" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }'''
    param = recaffe.read_net(proto)
    w = recaffe.random_weights(param, 1)
    new, _, rep = vip(param, w, ["c1"])
    site = rep["sites"][0]
    # not in place: the ViP follows r1 and both readers of r1 now read its output
    assert (site.after, site.input_blob, site.reduced_size, site.restored_size) == ("r1", "r1", (8, 7), (15, 13))
    assert sorted(site.readers) == ["c2", "p"]
    net = recaffe.Net(new, w)
    x = rng.standard_normal((1, 3, 15, 13)).astype(np.float32)
    net.forward(data=x)
    np.testing.assert_allclose(net.blobs["lininterp/c1"].data, eq4_reference(net.blobs["r1"].data, 15, 13),
                               rtol=1e-5, atol=1e-6)


def test_conv_straight_into_pooling(data_file):
    """cifar10_quick: conv1 feeds pool1 directly (ReLU comes after the pooling): ViP goes right
    after conv1."""
    param, w = recaffe.load(str(data_file("cifar10", "cifar10_quick.prototxt")),
                            str(data_file("cifar10", "cifar10_quick_iter_5000.caffemodel")))
    new, _, rep = vip(param, w, ["conv1", "conv2", "conv3"])
    after = {s.conv: s.after for s in rep["sites"]}
    assert after == {"conv1": "conv1", "conv2": "relu2", "conv3": "relu3"}
    net = recaffe.Net(new, w)
    assert net.bottom_names["pool1"] == ["lininterp/conv1"]
    assert net.blobs["conv1"].shape[2:] == (16, 16) and net.blobs["lininterp/conv1"].shape[2:] == (32, 32)


@pytest.mark.parametrize("implicit", [False, True])
def test_save_and_load_round_trip(implicit, tmp_path, rng):
    param, w = _vgg(rng)
    new, w2, _ = vip(param, w, ["conv2_2", "conv5_1"], implicit=implicit)
    recaffe.save(new, w2, tmp_path / "vip.prototxt", tmp_path / "vip.caffemodel")
    text = (tmp_path / "vip.prototxt").read_text()
    types = ['type: "ViPPooling"', 'type: "ViPConvolution"'] if implicit else ['type: "ViP"']
    assert all(t in text for t in types) and "vip_param" in text
    a = recaffe.Net(new, w2)
    b = recaffe.Net(str(tmp_path / "vip.prototxt"), str(tmp_path / "vip.caffemodel"))
    x = rng.standard_normal((1, 3, 64, 64)).astype(np.float32)
    np.testing.assert_array_equal(a.forward(data=x)["pool5"], b.forward(data=x)["pool5"])


def test_input_is_not_modified(rng):
    param, w = _vgg(rng)
    before = param.SerializeToString()
    vip(param, w, ["conv1_1"])
    assert param.SerializeToString() == before


@pytest.mark.parametrize("layers,match", [(["pool1"], "Pooling, not a Convolution"), (["nope"], "no layer named"),
                                          (["conv1_1", "conv1_1"], "named twice")])
def test_refusals_name_the_layer(layers, match, rng):
    param, w = _vgg(rng)
    with pytest.raises(recaffe.LayerError, match=match):
        vip(param, w, layers)


@pytest.mark.parametrize("threads", [1, 2])
def test_implicit_is_bit_identical_to_explicit(threads, rng):
    """ViPConvolution and ViPPooling (implicit interpolation) compute the same values in the same order
    as ViP + Convolution / Pooling, so the outputs agree bit for bit; the full-size maps are gone."""
    recaffe.set_num_threads(threads)
    param, w = _vgg(rng, 96)
    layers = ["conv1_1", "conv3_2", "conv4_1", "conv5_2", "conv5_3", "conv2_2"]
    exp, w2, _ = vip(param, w, layers)
    imp, w3, rep = vip(param, w, layers, implicit=True)
    assert [s.implicit_readers for s in rep["sites"]] == [["conv1_2"], ["conv3_3"], ["conv4_2"], ["conv5_3"],
                                                          ["pool5"], ["pool2"]]
    types = {l.name: l.type for l in imp.layer}
    assert types["conv1_2"] == "ViPConvolution" and "lininterp/conv1_1" not in types
    assert types["pool5"] == types["pool2"] == "ViPPooling" and not any(t == "ViP" for t in types.values())
    a, b = recaffe.Net(exp, w2), recaffe.Net(imp, w3)
    assert b.memory_bytes() < a.memory_bytes()
    blobs = ["conv1_2", "pool2", "conv4_2", "pool5"]
    for batch in (1, 2):
        x = rng.standard_normal((batch, 3, 96, 96)).astype(np.float32)
        ra, rb = a.forward(data=x, blobs=blobs), b.forward(data=x, blobs=blobs)
        for k in ra:
            np.testing.assert_array_equal(rb[k], ra[k], err_msg=k)


def test_implicit_conv_odd_sizes_strides_and_dilation(rng):
    """ViPConvolution against ViP + Convolution on odd virtual sizes, stride 2, dilation, 5x5."""
    for conv in ["kernel_size: 3 pad: 1", "kernel_size: 5 pad: 2 stride: 2", "kernel_size: 3 pad: 2 dilation: 2",
                 "kernel_h: 3 kernel_w: 1 pad_h: 1 pad_w: 0"]:
        proto = f'''input: "data" input_shape {{ dim: 2 dim: 5 dim: 8 dim: 7 }}
layer {{ name: "v" type: "ViP" bottom: "data" top: "v" vip_param {{ height: 15 width: 14 }} }}
layer {{ name: "c" type: "Convolution" bottom: "v" top: "c" convolution_param {{ num_output: 6 {conv} }} }}'''
        param = recaffe.read_net(proto)
        w = recaffe.random_weights(param, 3)
        imp = pb.NetParameter()
        imp.CopyFrom(param)
        del imp.layer[1]
        c = imp.layer[1]
        c.type, c.bottom[0] = "ViPConvolution", "data"
        c.vip_param.height, c.vip_param.width = 15, 14
        x = rng.standard_normal((2, 5, 8, 7)).astype(np.float32)
        want = recaffe.Net(param, w).forward(data=x)["c"]
        got = recaffe.Net(imp, w).forward(data=x)["c"]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=conv)


@pytest.mark.parametrize("threads", [1, 2])
def test_implicit_pooling_any_window(threads, rng):
    """ViPPooling against ViP + Pooling, bit for bit: odd virtual sizes, overlapping and padded windows,
    AVE, global pooling and Caffe's ceil rounding."""
    recaffe.set_num_threads(threads)
    for pool in ["pool: MAX kernel_size: 2 stride: 2", "pool: MAX kernel_size: 3 stride: 2",
                 "pool: MAX kernel_size: 3 stride: 1 pad: 1", "pool: AVE kernel_size: 3 stride: 2 pad: 1",
                 "pool: AVE global_pooling: true", "pool: MAX kernel_h: 2 kernel_w: 3 stride_h: 2 stride_w: 1"]:
        for (h, w), (hv, wv) in [((8, 7), (15, 14)), ((5, 6), (10, 12)), ((40, 33), (80, 65))]:
            proto = f'''input: "data" input_shape {{ dim: 2 dim: 9 dim: {h} dim: {w} }}
layer {{ name: "v" type: "ViP" bottom: "data" top: "v" vip_param {{ height: {hv} width: {wv} }} }}
layer {{ name: "p" type: "Pooling" bottom: "v" top: "p" pooling_param {{ {pool} }} }}'''
            param = recaffe.read_net(proto)
            imp = pb.NetParameter()
            imp.CopyFrom(param)
            del imp.layer[1]
            p = imp.layer[1]
            p.type, p.bottom[0] = "ViPPooling", "data"
            p.vip_param.height, p.vip_param.width = hv, wv
            x = rng.standard_normal((2, 9, h, w)).astype(np.float32)
            want = recaffe.Net(param).forward(data=x)["p"]
            got = recaffe.Net(imp).forward(data=x)["p"]
            np.testing.assert_array_equal(got, want, err_msg=f"{pool} {h}x{w} -> {hv}x{wv}")
    with pytest.raises(recaffe.LayerError, match="layer .p.: vip_param.height: 9 cannot come from an input of height 40"):
        p.vip_param.height = 9
        recaffe.Net(imp).forward(data=x)


def test_resnet50_insertion_after_scale_or_relu():
    """ResNet-50 (the authors' modify_net.py rule): after the ReLU, or after the Scale when the conv
    feeds the Eltwise; stage 5's 7x7 maps come back from 4x4 as 2H-1."""
    param, _ = recaffe.load(str(ROOT / "prototxt" / "resnet50.prototxt"))
    _, _, rep = vip(param, None, ["res2a_branch2b", "res2a_branch2c", "res5a_branch1", "conv1"])
    got = {s.conv: (s.after, s.reduced_size, s.restored_size, s.readers) for s in rep["sites"]}
    assert got == {"res2a_branch2b": ("res2a_branch2b_relu", (28, 28), (56, 56), ["res2a_branch2c"]),
                   "res2a_branch2c": ("scale2a_branch2c", (28, 28), (56, 56), ["res2a"]),
                   "res5a_branch1": ("scale5a_branch1", (4, 4), (7, 7), ["res5a"]),
                   "conv1": ("conv1_relu", (56, 56), (112, 112), ["pool1"])}
