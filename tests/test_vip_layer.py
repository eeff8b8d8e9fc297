"""The ViP interpolation layer (ViP paper Eq. 5 with the authors' clamped border) against an
independent numpy reference written from Eq. 3-4: the mean of the sampled neighbours of the
zero-spaced map in a 3x3 window; plus hand-computed golden values, every ISA variant, thread counts,
the authors' "Interp" files and error messages."""
from pathlib import Path

import numpy as np
import pytest

import recaffe
from recaffe import _core


def eq4_reference(x: np.ndarray, Ho: int, Wo: int) -> np.ndarray:
    """Eq. 3-4: place the reduced map at the even positions of an Ho x Wo grid (O^Zero), then each
    output is the mean of the sampled positions in its 3x3 window (float64)."""
    N, C, H, W = x.shape
    Z = np.zeros((N, C, Ho + 2, Wo + 2))
    M = np.zeros((Ho + 2, Wo + 2))
    Z[:, :, 1:2 * H:2, 1:2 * W:2] = x[:, :, :(Ho + 1) // 2, :(Wo + 1) // 2]
    M[1:2 * H:2, 1:2 * W:2] = 1
    s = sum(Z[:, :, 1 + a:1 + a + Ho, 1 + b:1 + b + Wo] for a in (-1, 0, 1) for b in (-1, 0, 1))
    n = sum(M[1 + a:1 + a + Ho, 1 + b:1 + b + Wo] for a in (-1, 0, 1) for b in (-1, 0, 1))
    return s / n


def _net(shape, vip="", layer_type="ViP"):
    dims = " ".join(f"dim: {d}" for d in shape)
    return recaffe.Net(f'input: "data" input_shape {{ {dims} }}\n'
                       f'layer {{ name: "v" type: "{layer_type}" bottom: "data" top: "out" {vip} }}')


def test_golden_2h():
    x = np.array([[1, 2, 3], [4, 5, 6]], np.float32)[None, None]
    want = np.array([[1, 1.5, 2, 2.5, 3, 3],
                     [2.5, 3, 3.5, 4, 4.5, 4.5],
                     [4, 4.5, 5, 5.5, 6, 6],
                     [4, 4.5, 5, 5.5, 6, 6]], np.float32)
    out = _net(x.shape).forward(data=x)["out"][0, 0]
    np.testing.assert_array_equal(out, want)


def test_golden_2h_minus_1():
    x = np.array([[0, 2, 4], [6, 8, 10], [12, 14, 16]], np.float32)[None, None]
    want = np.array([[0, 1, 2, 3, 4], [3, 4, 5, 6, 7], [6, 7, 8, 9, 10], [9, 10, 11, 12, 13],
                     [12, 13, 14, 15, 16]], np.float32)
    out = _net(x.shape, "vip_param { height: 5 width: 5 }").forward(data=x)["out"][0, 0]
    np.testing.assert_array_equal(out, want)


def test_reference_matches_paper_cases(rng):
    """The numpy reference itself against Eq. 5's four cases at interior points."""
    x = rng.standard_normal((1, 1, 4, 5))
    r = eq4_reference(x, 8, 10)[0, 0]
    a = x[0, 0]
    assert r[2, 4] == a[1, 2]
    assert np.isclose(r[3, 4], (a[1, 2] + a[2, 2]) / 2)
    assert np.isclose(r[2, 5], (a[1, 2] + a[1, 3]) / 2)
    assert np.isclose(r[3, 5], (a[1, 2] + a[1, 3] + a[2, 2] + a[2, 3]) / 4)


def _isas():
    best = recaffe.isa()
    return [i for i in ("scalar", "avx2", "avx512") if ["scalar", "avx2", "avx512"].index(i) <=
            ["scalar", "avx2", "avx512"].index(best)]


SHAPES = [(1, 1, 1, 1), (1, 2, 1, 5), (2, 3, 4, 4), (1, 2, 7, 7), (2, 3, 5, 6), (1, 2, 3, 16), (1, 1, 6, 17),
          (2, 2, 9, 33), (1, 3, 13, 40), (1, 64, 28, 28)]


@pytest.mark.parametrize("isa", _isas())
def test_every_isa_matches_reference(isa, rng):
    best = recaffe.isa()
    try:
        _core.set_max_isa(isa)
        for shape in SHAPES:
            x = rng.standard_normal(shape).astype(np.float32)
            H, W = shape[2:]
            for Ho, Wo in [(2 * H, 2 * W), (2 * H - 1, 2 * W - 1), (2 * H, 2 * W - 1), (2 * H - 1, 2 * W)]:
                out = _core.vip.interpolate(x, Ho, Wo)
                np.testing.assert_allclose(out, eq4_reference(x.astype(np.float64), Ho, Wo), rtol=1e-6,
                                           atol=1e-6, err_msg=f"{isa} {shape} -> {Ho}x{Wo}")
    finally:
        _core.set_max_isa(best)


def test_isas_and_threads_are_bit_identical(rng):
    x = rng.standard_normal((2, 16, 27, 35)).astype(np.float32)
    best = recaffe.isa()
    outs = []
    try:
        for isa in _isas():
            _core.set_max_isa(isa)
            for t in (1, 2, 3):
                recaffe.set_num_threads(t)
                outs.append(_core.vip.interpolate(x, 54, 69))
    finally:
        _core.set_max_isa(best)
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])


def test_layer_default_size_and_reshape(rng):
    net = _net((1, 2, 5, 3))
    x = rng.standard_normal((1, 2, 5, 3)).astype(np.float32)
    out = net.forward(data=x)["out"]
    assert out.shape == (1, 2, 10, 6)
    np.testing.assert_allclose(out, eq4_reference(x, 10, 6), rtol=1e-6, atol=1e-6)
    # dims are read on every reshape (the reference layer caches them at setup)
    y = rng.standard_normal((2, 2, 7, 8)).astype(np.float32)
    out = net.forward(data=y)["out"]
    assert out.shape == (2, 2, 14, 16)
    np.testing.assert_allclose(out, eq4_reference(y, 14, 16), rtol=1e-6, atol=1e-6)


def test_authors_interp_rule_for_height_4(rng):
    """The authors' layer gives (2H-1) x (2W-1) when H == 4 (ResNet-50's 7x7 stage), checking H only."""
    x = rng.standard_normal((1, 3, 4, 6)).astype(np.float32)
    for t in ("Interp", "ViP"):
        out = _net(x.shape, layer_type=t).forward(data=x)["out"]
        assert out.shape == (1, 3, 7, 11)
        np.testing.assert_allclose(out, eq4_reference(x, 7, 11), rtol=1e-6, atol=1e-6)
    out = _net(x.shape, "vip_param { height: 8 width: 12 }").forward(data=x)["out"]
    assert out.shape == (1, 3, 8, 12)


@pytest.mark.parametrize("vip,field", [("vip_param { height: 9 }", "vip_param.height"),
                                       ("vip_param { width: 3 }", "vip_param.width")])
def test_bad_size_names_layer_and_field(vip, field):
    with pytest.raises(recaffe.LayerError, match=f"'v'.*{field}"):
        _net((1, 1, 3, 5), vip)


def test_rejects_non_4d():
    with pytest.raises(recaffe.LayerError, match="4-D"):
        recaffe.Net('input: "data" input_shape { dim: 2 dim: 3 }\n'
                    'layer { name: "v" type: "ViP" bottom: "data" top: "out" }')


def test_authors_vgg16_round_file_loads_as_vip(data_file):
    """The authors' round-1 train_val (Interp after conv1_2, 2_2, 3_3, 4_3, 5_2, 5_3) builds with our
    layer; up to pool1 it runs and pool1 reads the interpolated conv1_2."""
    path = data_file("prototxt_upstream", "virtual_pooling", "vgg16", "train_val_lininterp_round1_afterAct.prototxt")
    param = recaffe.read_net(str(path))
    interps = [l.name for l in param.layer if l.type == "Interp"]
    assert interps == ["lininterp/conv1_2", "lininterp/conv2_2", "lininterp/conv3_3", "lininterp/conv4_3",
                       "lininterp/conv5_2", "lininterp/conv5_3"]
    # keep the trunk up to pool2 (the file's loss layers are not what this test is about)
    keep = {"data", "conv1_1", "relu1_1", "conv1_2", "relu1_2", "lininterp/conv1_2", "pool1"}
    trunk = type(param)()
    trunk.CopyFrom(param)
    del trunk.layer[:]
    for l in param.layer:
        if l.name in keep:
            trunk.layer.add().CopyFrom(l)
    net = recaffe.Net(trunk, input_shapes={"data": (1, 3, 32, 32), "label": (1,)})
    assert net.blobs["conv1_2"].shape == (1, 64, 16, 16)
    assert net.blobs["lininterp/conv1_2"].shape == (1, 64, 32, 32)
    assert net.bottom_names["pool1"] == ["lininterp/conv1_2"]
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    net.forward(data=x, label=np.zeros(1, np.float32))
    reduced = net.blobs["conv1_2"].data.copy()
    np.testing.assert_allclose(net.blobs["lininterp/conv1_2"].data, eq4_reference(reduced, 32, 32), rtol=1e-5,
                               atol=1e-6)


def test_every_authors_vgg16_file_builds(data_file):
    """All of the authors' VGG16 files (rounds 1-4 and the conv1_1 sensitivity file, with their
    Data, Accuracy and SoftmaxWithLoss layers) build; every Interp restores its conv's full size."""
    folder = data_file("prototxt_upstream", "virtual_pooling", "vgg16")
    files = sorted(Path(folder).glob("train_val_lininterp_*.prototxt"))
    assert len(files) == 5
    full = {1: 224, 2: 112, 3: 56, 4: 28, 5: 14}
    for f in files:
        net = recaffe.Net(str(f), _skip_weights=True, memory_cap=0, input_shapes={"data": (1, 3, 224, 224),
                                                                                 "label": (1,)})
        interps = [n for n, t in zip(net.layer_names, net.layer_types) if t == "Interp"]
        assert interps, f.name
        for n in interps:
            conv = n.split("/")[1]
            s = full[int(conv[4])]
            assert net.blobs[n].shape == (1, net.blobs[conv].shape[1], s, s), (f.name, n)
            assert net.blobs[conv].shape[2:] == (s // 2, s // 2)
