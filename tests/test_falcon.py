"""recaffe.transforms.falcon (1D-FALCON, Algorithm 1): exactness at full rank, the rank rule, the
report's errors against an independent numpy reconstruction, purity, and valid Caffe files."""
import numpy as np
import pytest

import recaffe
from recaffe.errors import LayerError
from recaffe.transforms.falcon_svd import factor_weights, falcon_rank

NET = """name: "small"
layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 19 dim: 17 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param { num_output: 12 kernel_size: 3 pad: 1 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "conv2" type: "Convolution" bottom: "conv1" top: "conv2"
        convolution_param { num_output: 16 kernel_h: 3 kernel_w: 5 pad_h: 2 pad_w: 1 stride_h: 2 stride_w: 1 } }
layer { name: "relu2" type: "ReLU" bottom: "conv2" top: "conv2" }
layer { name: "conv3" type: "Convolution" bottom: "conv2" top: "conv3"
        convolution_param { num_output: 10 kernel_size: 3 stride: 2 dilation: 2 bias_term: false } }
layer { name: "conv4" type: "Convolution" bottom: "conv3" top: "conv4"
        convolution_param { num_output: 6 kernel_size: 1 } }
"""


@pytest.fixture
def small():
    param = recaffe.io.read_net(NET)
    return param, recaffe.random_weights(param, seed=3)


def _x(seed=0):
    return np.random.default_rng(seed).standard_normal((2, 3, 19, 17)).astype(np.float32)


def test_full_rank_reproduces_the_network(small):
    param, w = small
    full = {"conv1": 9, "conv2": 36, "conv3": 30}
    p2, w2, rep = recaffe.transforms.falcon(param, w, ranks=full)
    assert [l.type for l in p2.layer].count("Convolution") == 7
    assert rep.skipped == {"conv4": "kernel 1x1 is already 1-D"}
    a = recaffe.Net(param, w, engine="direct").forward(data=_x())["conv4"]
    b = recaffe.Net(p2, w2, engine="direct").forward(data=_x())["conv4"]
    np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4 * np.abs(a).max())
    assert all(l.weight_error < 1e-6 for l in rep.layers)


def test_factor_shapes_and_reconstruction():
    W = np.random.default_rng(1).standard_normal((8, 5, 3, 4)).astype(np.float32)
    v, h, s = factor_weights(W, rank=6)
    assert v.shape == (6, 5, 3, 1) and h.shape == (8, 6, 1, 4)
    # independent: W~[k,c,i,j] = sum_r h[k,r,j] v[r,c,i] is the best rank-6 approximation of the reshaped W
    approx = np.einsum("krj,rci->kcij", h[:, :, 0, :].astype(np.float64), v[..., 0].astype(np.float64))
    mat = lambda t: t.transpose(1, 2, 3, 0).reshape(15, 32)  # noqa: E731
    err = np.linalg.norm(mat(W) - mat(approx))
    assert err == pytest.approx(np.sqrt(np.sum(np.linalg.svd(mat(W).astype(np.float64))[1][6:] ** 2)), rel=1e-4)


def test_rank_rule_gives_the_mac_ratio(small):
    param, w = small
    assert falcon_rank(512, 512, 3, 3, 3.0) == round(3 * 512 * 512 / (3.0 * 1024))  # the paper's p F_I F_O / (c (F_I+F_O))
    assert falcon_rank(3, 64, 3, 3, 100.0) == 1 and falcon_rank(3, 64, 3, 3, 0.01) == 9
    _, _, rep = recaffe.transforms.falcon(param, w, compression=2.0, layers=["conv1"])
    l = rep.layer("conv1")
    assert l.rank == falcon_rank(3, 12, 3, 3, 2.0)
    # stride 1, pad 1: both stages run at 19x17, so the MAC ratio is the formula's
    assert l.macs_before == 19 * 17 * 12 * 3 * 9
    assert l.macs_after == 19 * 17 * l.rank * (3 * 3 + 12 * 3)
    assert l.mac_ratio == pytest.approx(2.0, rel=0.25)


def test_report_errors_match_numpy(small):
    param, w = small
    x = _x(5)
    p2, w2, rep = recaffe.transforms.falcon(param, w, compression={"conv1": 2.0, "conv2": 3.0}, inputs={"data": x})
    assert {l.name for l in rep.layers} == {"conv1", "conv2"}
    assert rep.skipped["conv3"] == "no compression or rank given"
    l1 = rep.layer("conv1")
    W = w["conv1"][0].astype(np.float64)
    s = np.linalg.svd(W.transpose(1, 2, 3, 0).reshape(9, 36), compute_uv=False)
    assert l1.weight_error == pytest.approx(np.sqrt(np.sum(s[l1.rank:] ** 2) / np.sum(s ** 2)), rel=1e-6)
    # conv1's output error, recomputed from the two nets' conv1 blobs (conv1 is fed the raw input in both)
    y = recaffe.Net(param, w).forward(data=x, end="conv1")["conv1"]
    y2 = recaffe.Net(p2, w2).forward(data=x, end="conv1_h")["conv1"]
    assert l1.output_error == pytest.approx(np.linalg.norm(y2 - y) / np.linalg.norm(y), rel=1e-3)
    assert 0 < rep.layer("conv2").output_error < 1


def test_pure_and_saves_valid_caffe_files(small, tmp_path):
    param, w = small
    before = param.SerializeToString()
    w_copy = {k: [a.copy() for a in v] for k, v in w.items()}
    p2, w2, _ = recaffe.transforms.falcon(param, w, compression=1.5)
    assert param.SerializeToString() == before
    for k in w:
        for a, b in zip(w[k], w_copy[k]):
            np.testing.assert_array_equal(a, b)
    recaffe.save(p2, w2, tmp_path / "f.prototxt", tmp_path / "f.caffemodel")
    ours = recaffe.Net(tmp_path / "f.prototxt", tmp_path / "f.caffemodel").forward(data=_x())["conv4"]
    np.testing.assert_array_equal(ours, recaffe.Net(p2, w2).forward(data=_x())["conv4"])
    cv2 = pytest.importorskip("cv2")
    net = cv2.dnn.readNetFromCaffe(str(tmp_path / "f.prototxt"), str(tmp_path / "f.caffemodel"))
    net.setInput(_x())
    np.testing.assert_allclose(net.forward("conv4"), ours, rtol=1e-4, atol=1e-4 * np.abs(ours).max())


def test_errors(small):
    param, w = small
    with pytest.raises(ValueError, match="compression"):
        recaffe.transforms.falcon(param, w)
    with pytest.raises(LayerError, match="no convolution layer named 'relu1'"):
        recaffe.transforms.falcon(param, w, compression=2, layers=["relu1"])
    with pytest.raises(LayerError, match="already 1-D"):
        recaffe.transforms.falcon(param, w, compression=2, layers=["conv4"])
    with pytest.raises(LayerError, match="outside 1..9"):
        recaffe.transforms.falcon(param, w, ranks={"conv1": 10})


def test_trained_cifar10_quick_keeps_accuracy_at_mild_compression(data_file):
    """On Caffe's trained cifar10_quick, c = 1.5 changes few top-1 predictions on 500 real test images."""
    from recaffe.data import cifar10
    param, w = recaffe.load(data_file("cifar10", "cifar10_quick.prototxt"),
                            data_file("cifar10", "cifar10_quick_iter_5000.caffemodel"))
    img = cifar10("test").stratified(50).arrays().transpose(0, 3, 1, 2).astype(np.float32)
    x = img - img.mean(axis=(0, 2, 3), keepdims=True)  # RGB minus the per-channel mean (MANIFEST: 73.5%)
    p2, w2, rep = recaffe.transforms.falcon(param, w, compression=1.5, inputs={"data": x[:50]})
    assert all(0 < l.output_error < 0.5 for l in rep.layers)
    a = recaffe.Net(param, w).forward(data=x)["prob"].argmax(1)
    b = recaffe.Net(p2, w2).forward(data=x)["prob"].argmax(1)
    assert (a == b).mean() > 0.9
