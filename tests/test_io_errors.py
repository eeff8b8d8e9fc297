"""Bad input of every kind the issue lists: each raises a recaffe exception naming the file, layer
and field it can, and none crashes the process or allocates what the memory cap forbids."""
import numpy as np
import pytest

import recaffe
from recaffe.errors import (CaffeFileError, InputError, LayerError, RecaffeError, ResourceError,
                            ShapeMismatchError, UnknownLayerError)
from recaffe.io import read_caffemodel, read_net

from caffe_fixtures import TINY_V2, caffemodel_bytes, tiny_input, tiny_weights

INPUT = 'layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }\n'


@pytest.fixture
def good_model(tmp_path):
    path = tmp_path / "good.caffemodel"
    path.write_bytes(caffemodel_bytes(TINY_V2, tiny_weights()))
    return path


# --- caffemodels ------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    with pytest.raises(CaffeFileError, match="no such file") as e:
        recaffe.load(TINY_V2, tmp_path / "absent.caffemodel")
    assert "absent.caffemodel" in str(e.value)
    with pytest.raises(CaffeFileError, match="no such file"):
        recaffe.Net(tmp_path / "absent.prototxt")


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(CaffeFileError, match="directory"):
        recaffe.read_weights(tmp_path)


def test_empty_caffemodel(tmp_path):
    (tmp_path / "e.caffemodel").write_bytes(b"")
    with pytest.raises(CaffeFileError, match="empty"):
        recaffe.read_weights(tmp_path / "e.caffemodel")


@pytest.mark.parametrize("fraction", [0.001, 0.1, 0.5, 0.9, 0.999])
def test_truncated_caffemodel(tmp_path, good_model, fraction):
    raw = good_model.read_bytes()
    cut = tmp_path / "cut.caffemodel"
    cut.write_bytes(raw[:max(1, int(len(raw) * fraction))])
    with pytest.raises(CaffeFileError) as e:
        recaffe.load(TINY_V2, cut)
    assert "cut.caffemodel" in str(e.value)


def test_garbage_caffemodel(tmp_path):
    path = tmp_path / "g.caffemodel"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(CaffeFileError, match="g.caffemodel"):
        recaffe.read_weights(path)


def test_a_prototxt_given_as_caffemodel(tmp_path):
    path = tmp_path / "net.prototxt"
    path.write_text(TINY_V2)
    with pytest.raises(CaffeFileError, match="net.prototxt"):
        recaffe.read_weights(path)


def test_blob_count_disagreeing_with_its_shape(tmp_path):
    from recaffe.io.proto import pb
    net = pb.NetParameter()
    layer = net.layer.add(name="conv1", type="Convolution")
    b = layer.blobs.add()
    b.shape.dim.extend([5, 3, 3, 3])
    b.data.extend([0.0] * 44)
    path = tmp_path / "c.caffemodel"
    path.write_bytes(net.SerializeToString())
    with pytest.raises(CaffeFileError, match=r"layer 'conv1'.*field 'blobs.data'.*135 values.*44"):
        recaffe.read_weights(path)


def test_absurd_blob_shape_is_refused_without_allocating(tmp_path):
    from recaffe.io.proto import pb
    net = pb.NetParameter()
    layer = net.layer.add(name="fc", type="InnerProduct")
    layer.blobs.add().shape.dim.extend([1 << 40, 1 << 40])  # 2^80 values claimed, none stored
    path = tmp_path / "a.caffemodel"
    path.write_bytes(net.SerializeToString())
    with pytest.raises(CaffeFileError, match="layer 'fc'"):
        recaffe.read_weights(path)


def test_invalid_utf8_layer_name_in_caffemodel(tmp_path, good_model):
    raw = good_model.read_bytes().replace(b"conv1", b"c\xffnv1")
    path = tmp_path / "u.caffemodel"
    path.write_bytes(raw)
    with pytest.raises(CaffeFileError, match=r"u.caffemodel.*field 'name'.*UTF-8"):
        recaffe.read_weights(path)


# --- prototxts ---------------------------------------------------------------------------------
def test_syntax_error_reports_the_line(tmp_path):
    path = tmp_path / "bad.prototxt"
    path.write_text(INPUT + 'layer {\n  name: "r"\n  type: "ReLU"\n  bottom "data"\n}\n')
    with pytest.raises(CaffeFileError) as e:
        read_net(path)
    assert e.value.line == 5 and "bad.prototxt:5" in str(e.value)


def test_unknown_field_is_a_syntax_error(tmp_path):
    path = tmp_path / "f.prototxt"
    path.write_text(INPUT + 'layer { name: "r" type: "ReLU" bottom: "data" top: "r" relu_param { slope: 1 } }')
    with pytest.raises(CaffeFileError, match=r"f.prototxt:2.*slope"):
        read_net(path)


def test_singular_field_twice_is_refused_like_caffe():
    with pytest.raises(CaffeFileError, match="name"):
        read_net('name: "a"\nname: "b"\n')


def test_invalid_utf8_prototxt(tmp_path):
    path = tmp_path / "u.prototxt"
    path.write_bytes(INPUT.encode() + b'layer { name: "\xff\xfe" type: "ReLU" }\n')
    with pytest.raises(CaffeFileError, match=r"u.prototxt:2.*UTF-8"):
        read_net(path)


def test_binary_caffemodel_given_as_prototxt(good_model):
    with pytest.raises(CaffeFileError, match="good.caffemodel"):
        read_net(good_model)


def test_solver_file_given_as_net(tmp_path):
    path = tmp_path / "solver.prototxt"
    path.write_text('net: "train_val.prototxt"\nbase_lr: 0.01\nmax_iter: 100\n')
    with pytest.raises(CaffeFileError, match="solver.*train_val.prototxt"):
        read_net(path)


def test_deep_nesting_does_not_crash():
    text = "layer { " * 5000 + "}" * 5000
    with pytest.raises(CaffeFileError):
        read_net(text)


def test_unknown_layer_type_names_layer_type_and_file(tmp_path):
    path = tmp_path / "u.prototxt"
    path.write_text(INPUT + 'layer { name: "magic1" type: "MagicPool" bottom: "data" top: "m" }')
    with pytest.raises(UnknownLayerError) as e:
        recaffe.Net(path)
    assert e.value.layer == "magic1" and e.value.layer_type == "MagicPool"
    assert "MagicPool" in str(e.value) and "u.prototxt" in str(e.value)


def test_bottom_nobody_produces(tmp_path):
    path = tmp_path / "b.prototxt"
    path.write_text(INPUT + 'layer { name: "r" type: "ReLU" bottom: "nowhere" top: "r" }')
    with pytest.raises(CaffeFileError) as e:
        recaffe.Net(path)
    assert e.value.layer == "r" and e.value.field == "bottom" and "nowhere" in str(e.value)
    assert "b.prototxt" in str(e.value)


def test_duplicate_top_that_is_not_in_place(tmp_path):
    path = tmp_path / "d.prototxt"
    path.write_text(INPUT + 'layer { name: "a" type: "ReLU" bottom: "data" top: "x" }\n'
                    'layer { name: "b" type: "Sigmoid" bottom: "data" top: "x" }')
    with pytest.raises(CaffeFileError, match=r"d.prototxt.*layer 'b'.*field 'top'.*multiple sources"):
        recaffe.Net(path)


def test_in_place_top_is_allowed():
    net = recaffe.Net(INPUT + 'layer { name: "a" type: "ReLU" bottom: "data" top: "data" }')
    assert net.outputs == ["data"]


@pytest.mark.parametrize("dims, error", [
    ("dim: 1 dim: 3 dim: 0 dim: 8", (LayerError, ResourceError)),
    ("dim: 1 dim: -3 dim: 8 dim: 8", (LayerError, ResourceError, CaffeFileError)),
    ("dim: 100000 dim: 100000 dim: 100000 dim: 8", ResourceError),
])
def test_zero_negative_and_absurd_input_dims(dims, error):
    text = ('layer { name: "in" type: "Input" top: "data" input_param { shape { %s } } }\n'
            'layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param '
            '{ num_output: 2 kernel_size: 3 } }' % dims)
    with pytest.raises(error):
        recaffe.Net(text)


def test_absurd_layer_parameter_names_the_field():
    text = INPUT + 'layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" ' \
                   'inner_product_param { num_output: 2000000000 } }'
    with pytest.raises(LayerError, match=r"fc.*num_output"):
        recaffe.Net(text)


def test_memory_cap_refuses_before_allocating():
    import resource
    text = ('layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 4 dim: 3 dim: 1000 '
            'dim: 1000 } } }\nlayer { name: "conv" type: "Convolution" bottom: "data" top: "conv" '
            'convolution_param { num_output: 64 kernel_size: 3 pad: 1 } }')
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ResourceError, match="memory cap"):
        recaffe.Net(text, memory_cap=256 << 20)  # needs ~1 GiB
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 200 << 10


# --- inputs and weights given in Python --------------------------------------------------------
def test_input_of_wrong_shape_or_dtype():
    net = recaffe.Net(TINY_V2, tiny_weights())
    with pytest.raises(InputError, match="data"):
        net.forward(data=np.zeros((2, 3, 11), np.float32))
    with pytest.raises(InputError, match="dtype"):
        net.forward(data=np.full((2, 3, 11, 9), "x"))
    with pytest.raises(InputError, match="unknown input"):
        net.forward(pixels=tiny_input())


def test_weights_dict_of_wrong_shape():
    w = tiny_weights()
    w["fc1"][1] = np.zeros(8, np.float32)
    with pytest.raises(LayerError, match=r"fc1.*\(8,\).*\(7,\)"):
        recaffe.Net(TINY_V2, w)


# --- saving --------------------------------------------------------------------------------------
def test_save_refuses_weights_for_missing_layers(tmp_path):
    w = tiny_weights()
    w["ghost"] = [np.zeros(3, np.float32)]
    with pytest.raises(CaffeFileError, match="ghost"):
        recaffe.save(read_net(TINY_V2), w, tmp_path / "n.prototxt", tmp_path / "n.caffemodel")
    assert not (tmp_path / "n.caffemodel").exists() and not (tmp_path / "n.prototxt").exists()


def test_save_refuses_wrong_shapes(tmp_path):
    w = tiny_weights()
    w["conv1"][0] = w["conv1"][0].reshape(5, 27)
    with pytest.raises(ShapeMismatchError, match=r"conv1.*\(5, 27\).*\(5, 3, 3, 3\)"):
        recaffe.save(read_net(TINY_V2), w, None, tmp_path / "n.caffemodel")


def test_save_refuses_non_numbers_and_float32_overflow(tmp_path):
    w = tiny_weights()
    w["fc1"][1] = w["fc1"][1].astype(np.complex64)
    with pytest.raises(CaffeFileError, match=r"fc1.*complex"):
        recaffe.save(read_net(TINY_V2), w, None, tmp_path / "n.caffemodel")
    w = tiny_weights()
    w["fc1"][1] = np.full(7, 1e300)
    with pytest.raises(CaffeFileError, match=r"fc1.*float32"):
        recaffe.save(read_net(TINY_V2), w, None, tmp_path / "n.caffemodel")
    assert not (tmp_path / "n.caffemodel").exists()


def test_save_refuses_same_path_for_both(tmp_path):
    with pytest.raises(CaffeFileError, match="same file"):
        recaffe.save(read_net(TINY_V2), tiny_weights(), tmp_path / "x", tmp_path / "x")


def test_every_error_is_a_recaffe_error_and_a_value_error():
    for cls in (CaffeFileError, ShapeMismatchError, UnknownLayerError, LayerError, InputError, ResourceError):
        assert issubclass(cls, RecaffeError) and issubclass(cls, ValueError)


def test_reader_accepts_bytes_directly(good_model):
    net, stored = read_caffemodel("<memory>", good_model.read_bytes())
    assert [n for n, b in stored if b] == ["conv1", "fc1"]
