"""Reading every form of Caffe file: V0/V1/V2 nets, legacy input fields, legacy 4-D and double
blobs, packed and unpacked floats; weights matched by name; save -> load round trips."""
import numpy as np
import pytest
from google.protobuf import text_format

import recaffe
from recaffe.errors import CaffeFileError, ShapeMismatchError
from recaffe.io import read_caffemodel, read_net
from recaffe.io.proto import pb

from caffe_fixtures import TINY_SHAPES, TINY_V0, TINY_V1, TINY_V2, blob, caffemodel_bytes, tiny_input, tiny_weights


def v2_reference(text: str = TINY_V2) -> "pb.NetParameter":
    """The V2 message written by hand (independent of recaffe's upgrade code)."""
    return text_format.Parse(text, pb.NetParameter())


def expected_v2_from_legacy() -> "pb.NetParameter":
    """What Caffe's UpgradeNetAsNeeded makes of TINY_V1: an Input layer named "input" in front,
    blobs_lr/weight_decay as param specs."""
    ref = v2_reference()
    ref.layer[0].name = "input"
    return ref


def test_v2_text_reads_unchanged():
    assert read_net(TINY_V2) == v2_reference()


def test_v1_upgrades_like_caffe():
    assert read_net(TINY_V1) == expected_v2_from_legacy()


def test_v0_upgrades_like_caffe_and_folds_padding_layers():
    net = read_net(TINY_V0)
    ref = expected_v2_from_legacy()
    assert [l.name for l in net.layer] == [l.name for l in ref.layer]  # the padding layer is gone
    assert net.layer[1].bottom == ["data"]
    assert list(net.layer[1].convolution_param.pad) == [1]
    assert net == ref


def test_legacy_input_shape_becomes_input_layer():
    text = ('input: "a" input_shape { dim: 1 dim: 2 } input: "b" input_shape { dim: 3 dim: 4 dim: 5 }\n'
            'layer { name: "s" type: "Softmax" bottom: "a" top: "p" }')
    net = read_net(text)
    first = net.layer[0]
    assert (first.name, first.type, list(first.top)) == ("input", "Input", ["a", "b"])
    assert [list(s.dim) for s in first.input_param.shape] == [[1, 2], [3, 4, 5]]
    assert not net.input and not net.input_shape and not net.input_dim


def test_legacy_input_dim_for_two_inputs():
    text = 'input: "a" input: "b" input_dim: 1 input_dim: 2 input_dim: 3 input_dim: 4 ' \
           'input_dim: 5 input_dim: 6 input_dim: 7 input_dim: 8'
    net = read_net(text)
    assert [list(s.dim) for s in net.layer[0].input_param.shape] == [[1, 2, 3, 4], [5, 6, 7, 8]]


def test_batchnorm_param_specs_are_frozen_on_upgrade():
    text = ('layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 } } }\n'
            'layer { name: "bn" type: "BatchNorm" bottom: "x" top: "x" param { lr_mult: 1 } param { lr_mult: 1 } '
            'param { lr_mult: 1 } }')
    net = read_net(text)
    assert [(p.lr_mult, p.decay_mult) for p in net.layer[1].param] == [(0, 0)] * 3


@pytest.mark.parametrize("text", [TINY_V2, TINY_V1, TINY_V0], ids=["v2", "v1", "v0"])
@pytest.mark.parametrize("form", ["shape", "legacy", "double"])
def test_caffemodel_every_form_gives_the_same_weights(tmp_path, text, form):
    w = tiny_weights()
    path = tmp_path / "m.caffemodel"
    path.write_bytes(caffemodel_bytes(text, w, form))
    net, got = recaffe.load(TINY_V2, path)
    assert set(got) == set(w)
    for name in w:
        for a, b in zip(got[name], w[name]):
            assert a.shape == b.shape and a.dtype == np.float32
            np.testing.assert_array_equal(a, b)


def test_caffemodel_net_definition_is_upgraded(tmp_path):
    path = tmp_path / "m.caffemodel"
    path.write_bytes(caffemodel_bytes(TINY_V1, tiny_weights()))
    net, stored = recaffe.read_weights(path)
    ref = expected_v2_from_legacy()
    assert [(l.name, l.type) for l in net.layer] == [(l.name, l.type) for l in ref.layer]
    assert [name for name, _ in stored] == ["conv1", "relu1", "pool1", "fc1", "prob"]


def test_weights_are_views_of_the_file_bytes(tmp_path):
    path = tmp_path / "m.caffemodel"
    path.write_bytes(caffemodel_bytes(TINY_V2, tiny_weights()))
    _, got = recaffe.load(TINY_V2, path)
    assert not got["fc1"][0].flags.owndata  # np.frombuffer, not a float-by-float copy


def test_unpacked_float_encoding_reads_the_same():
    # proto2 `repeated float data = 5 [packed = true]`, but readers must accept unpacked fixed32 too
    vals = np.array([1.5, -2.25, 3.0], np.float32)
    b = bytearray()
    b += bytes([(7 << 3) | 2, 2, 0x08, 3])  # shape { dim: 3 }
    for v in vals:
        b += bytes([(5 << 3) | 5]) + v.tobytes()
    layer = bytes([(1 << 3) | 2, 1]) + b"w" + bytes([(7 << 3) | 2, len(b)]) + bytes(b)
    model = bytes([(100 << 3 | 2) & 0x7F | 0x80, (100 << 3 | 2) >> 7, len(layer)]) + layer
    _, stored = read_caffemodel("<bytes>", model)
    assert stored[0][0] == "w"
    np.testing.assert_array_equal(stored[0][1][0].data, vals)


def test_legacy_blob_right_aligned_shapes():
    # 1x1x1xN bias and 1x1xOUTxIN inner-product weights load into (N,) and (OUT, IN)
    w = tiny_weights()
    b = blob(w["fc1"][0], "legacy")
    assert (b.num, b.channels, b.height, b.width) == (1, 1, 7, 100)
    stored = [("fc1", [recaffe.io.caffemodel._parse_blob(memoryview(b.SerializeToString()), 0, b.ByteSize(),
                                                          None, "fc1")])]
    out = recaffe.io.match_weights(stored, {"fc1": [(7, 100)]})
    np.testing.assert_array_equal(out["fc1"][0], w["fc1"][0])


def test_legacy_blob_that_does_not_right_align_is_refused(tmp_path):
    # NVIDIA/caffe wrote some biases as 1xNx1x1: Caffe's ShapeEquals refuses them, so do we
    w = tiny_weights()
    net = text_format.Parse(TINY_V2, pb.NetParameter())
    conv = net.layer[1]
    conv.blobs.add().CopyFrom(blob(w["conv1"][0], "legacy"))
    bias = conv.blobs.add()
    bias.num, bias.channels, bias.height, bias.width = 1, 5, 1, 1
    bias.data.extend(w["conv1"][1].tolist())
    path = tmp_path / "m.caffemodel"
    path.write_bytes(net.SerializeToString())
    with pytest.raises(ShapeMismatchError) as e:
        recaffe.load(TINY_V2, path)
    msg = str(e.value)
    assert "conv1" in msg and "(1, 5, 1, 1)" in msg and "(5,)" in msg and str(path) in msg


def test_weights_are_matched_by_name_not_order(tmp_path):
    w = tiny_weights()
    net = text_format.Parse(TINY_V2, pb.NetParameter())
    # reverse the layer order in the file and add a layer the net lacks: Caffe ignores it
    stored = pb.NetParameter()
    extra = stored.layer.add(name="not_in_net", type="InnerProduct")
    extra.blobs.add().CopyFrom(blob(np.ones((3, 3), np.float32)))
    for layer in reversed(net.layer):
        new = stored.layer.add()
        new.CopyFrom(layer)
        for arr in w.get(layer.name, []):
            new.blobs.add().CopyFrom(blob(arr))
    path = tmp_path / "m.caffemodel"
    path.write_bytes(stored.SerializeToString())
    _, got = recaffe.load(TINY_V2, path)
    assert set(got) == {"conv1", "fc1"}
    np.testing.assert_array_equal(got["conv1"][0], w["conv1"][0])


def test_wrong_blob_count_names_layer(tmp_path):
    w = tiny_weights()
    w["fc1"] = w["fc1"][:1]
    path = tmp_path / "m.caffemodel"
    path.write_bytes(caffemodel_bytes(TINY_V2, w))
    with pytest.raises(ShapeMismatchError, match=r"layer 'fc1'.*1 blobs.*needs 2"):
        recaffe.load(TINY_V2, path)


def test_wrong_shape_names_layer_and_both_shapes(tmp_path):
    w = tiny_weights()
    w["conv1"][0] = np.zeros((5, 3, 5, 5), np.float32)
    path = tmp_path / "m.caffemodel"
    path.write_bytes(caffemodel_bytes(TINY_V2, w))
    with pytest.raises(ShapeMismatchError) as e:
        recaffe.Net(TINY_V2, str(path))
    assert "conv1" in str(e.value) and "(5, 3, 5, 5)" in str(e.value) and "(5, 3, 3, 3)" in str(e.value)


@pytest.mark.parametrize("text", [TINY_V2, TINY_V1, TINY_V0], ids=["v2", "v1", "v0"])
def test_round_trip_is_identical(tmp_path, text):
    src = tmp_path / "src.caffemodel"
    src.write_bytes(caffemodel_bytes(text, tiny_weights(), "legacy"))
    net1, w1 = recaffe.load(text, src)
    recaffe.save(net1, w1, tmp_path / "a.prototxt", tmp_path / "a.caffemodel")
    net2, w2 = recaffe.load(tmp_path / "a.prototxt", tmp_path / "a.caffemodel")
    assert net2 == net1
    assert {k: [a.shape for a in v] for k, v in w2.items()} == TINY_SHAPES
    for name in w1:
        for a, b in zip(w1[name], w2[name]):
            np.testing.assert_array_equal(a, b)
    # and a second save writes the very same bytes (deterministic output)
    recaffe.save(net2, w2, tmp_path / "b.prototxt", tmp_path / "b.caffemodel")
    assert (tmp_path / "a.caffemodel").read_bytes() == (tmp_path / "b.caffemodel").read_bytes()
    assert (tmp_path / "a.prototxt").read_text() == (tmp_path / "b.prototxt").read_text()


def test_saved_caffemodel_is_a_plain_netparameter(tmp_path):
    """What recaffe writes parses with protobuf alone, blobs in V2 BlobShape form."""
    w = tiny_weights()
    net = read_net(TINY_V2)
    recaffe.save(net, w, None, tmp_path / "m.caffemodel")
    msg = pb.NetParameter.FromString((tmp_path / "m.caffemodel").read_bytes())
    fc = [l for l in msg.layer if l.name == "fc1"][0]
    assert list(fc.blobs[0].shape.dim) == [7, 100] and not fc.blobs[0].HasField("num")
    np.testing.assert_array_equal(np.array(fc.blobs[0].data, np.float32).reshape(7, 100), w["fc1"][0])


def test_round_trip_net_runs_the_same(tmp_path):
    w = tiny_weights()
    x = tiny_input()
    a = recaffe.Net(TINY_V1, w).forward(data=x)["prob"]
    recaffe.save(read_net(TINY_V1), w, tmp_path / "n.prototxt", tmp_path / "n.caffemodel")
    b = recaffe.Net(tmp_path / "n.prototxt", tmp_path / "n.caffemodel").forward(data=x)["prob"]
    np.testing.assert_array_equal(a, b)


def test_real_v1_caffemodel_cifar10_quick(data_file):
    """A real V1 caffemodel (enum types, legacy 1x1x1xN biases) loads into the V2 deploy net."""
    proto = data_file("cifar10", "cifar10_quick.prototxt")
    model = data_file("cifar10", "cifar10_quick_iter_5000.caffemodel")
    raw_net, stored = recaffe.read_weights(model)
    assert any(l.type == "Convolution" for l in raw_net.layer)
    blobs = dict(stored)
    assert blobs["conv1"][1].legacy and blobs["conv1"][1].shape == (1, 1, 1, 32)
    _, w = recaffe.load(proto, model)
    assert {k: [a.shape for a in v] for k, v in w.items()} == {
        "conv1": [(32, 3, 5, 5), (32,)], "conv2": [(32, 32, 5, 5), (32,)], "conv3": [(64, 32, 5, 5), (64,)],
        "ip1": [(64, 1024), (64,)], "ip2": [(10, 64), (10,)]}
    np.testing.assert_array_equal(w["ip1"][0].reshape(-1), blobs["ip1"][0].data.reshape(-1))


def test_real_caffemodel_round_trip(tmp_path, data_file):
    proto = data_file("mnist", "lenet.prototxt")
    model = data_file("mnist", "lenet_iter_10000.caffemodel")
    net1, w1 = recaffe.load(proto, model)
    recaffe.save(net1, w1, tmp_path / "l.prototxt", tmp_path / "l.caffemodel")
    net2, w2 = recaffe.load(tmp_path / "l.prototxt", tmp_path / "l.caffemodel")
    assert net1 == net2 and set(w1) == set(w2)
    for k in w1:
        for a, b in zip(w1[k], w2[k]):
            np.testing.assert_array_equal(a, b)


def test_mixing_v1_and_v2_layers_is_refused():
    text = TINY_V2 + '\nlayers { name: "x" type: RELU bottom: "prob" top: "prob" }'
    with pytest.raises(CaffeFileError, match="mixes V1"):
        read_net(text)


def test_train_test_net_loads_with_input_shapes(data_file):
    """lenet_train_test's Data layer has no image size: say it, and the trained weights load."""
    proto = data_file("mnist", "lenet_train_test.prototxt")
    model = data_file("mnist", "lenet_iter_10000.caffemodel")
    with pytest.raises(CaffeFileError, match=r"layer 'mnist'.*input_shapes"):
        recaffe.load(proto, model)
    try:
        net, w = recaffe.load(proto, model, input_shapes={"data": (100, 1, 28, 28)})
    except recaffe.UnknownLayerError as e:  # its TEST phase ends in Accuracy and SoftmaxWithLoss
        pytest.skip(f"needs layer type '{e.layer_type}', not implemented yet")
    assert w["conv1"][0].shape == (20, 1, 5, 5) and w["ip2"][0].shape == (10, 500)
    _, ref = recaffe.load(data_file("mnist", "lenet.prototxt"), model)
    np.testing.assert_array_equal(w["ip1"][0], ref["ip1"][0])
