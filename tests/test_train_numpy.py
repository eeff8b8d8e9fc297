"""The parts of recaffe.train that need no PyTorch: BatchNorm folding (against numpy BN applied to
recaffe's convolution output), the architectures, recipes' schedules, augmentation, array caching."""
from __future__ import annotations

import numpy as np
import pytest

import recaffe
from recaffe.data import Dataset
from recaffe.errors import LayerError
from recaffe.io import read_net
from recaffe.train import Recipe, architectures, augment, dataset_arrays, finetune_recipe, fold_batchnorm

CONV_BN = '''name: "cb"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 8 dim: 8 } } }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
  convolution_param { num_output: 5 kernel_size: 3 pad: 1 BIAS } }
layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv" batch_norm_param { eps: 0.001 } }
SCALE
layer { name: "ip" type: "InnerProduct" bottom: "conv" top: "ip" inner_product_param { num_output: 4 } }
layer { name: "bn2" type: "BatchNorm" bottom: "ip" top: "ip" }
'''


def _bn_weights(rng, c, factor=2.0):
    return [rng.normal(0, 1, c).astype(np.float32) * factor, rng.uniform(0.5, 2, c).astype(np.float32) * factor,
            np.array([factor], np.float32)]


@pytest.mark.parametrize("bias,scale", [(True, True), (False, True), (True, False)])
def test_fold_batchnorm_equals_numpy_bn_after_recaffe_conv(bias, scale):
    text = CONV_BN.replace("BIAS", "" if bias else "bias_term: false").replace(
        "SCALE", 'layer { name: "sc" type: "Scale" bottom: "conv" top: "conv" scale_param { bias_term: true } }'
        if scale else "")
    param = read_net(text)
    rng = np.random.default_rng(0)
    w = {"conv": [rng.normal(0, 0.3, (5, 3, 3, 3)).astype(np.float32)] + ([rng.normal(0, 1, 5).astype(np.float32)]
                                                                          if bias else []),
         "bn": _bn_weights(rng, 5), "ip": [rng.normal(0, 0.1, (4, 320)).astype(np.float32),
                                           rng.normal(0, 1, 4).astype(np.float32)], "bn2": _bn_weights(rng, 4, 0.0)}
    if scale:
        w["sc"] = [rng.uniform(0.5, 1.5, 5).astype(np.float32), rng.normal(0, 1, 5).astype(np.float32)]
    folded, fw = fold_batchnorm(param, w)
    assert [l.type for l in folded.layer] == ["Input", "Convolution", "InnerProduct"]
    assert "bn" not in fw and "sc" not in fw
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    got = recaffe.Net(folded, fw).forward(data=x, blobs=["conv"])
    # reference: recaffe's unfolded convolution, then BN (+ Scale) in float64 numpy
    conv_only = read_net(text.split('layer { name: "bn"')[0])
    y = recaffe.Net(conv_only, {"conv": w["conv"]}).forward(data=x)["conv"].astype(np.float64)
    mean, var = w["bn"][0] / 2.0, w["bn"][1] / 2.0
    y = (y - mean[:, None, None]) / np.sqrt(var[:, None, None] + 0.001)
    if scale:
        y = y * w["sc"][0][:, None, None] + w["sc"][1][:, None, None]
    np.testing.assert_allclose(got["conv"], y, rtol=1e-4, atol=1e-4)
    # bn2 has factor 0: Caffe normalises with zero statistics, x / sqrt(eps)
    ip = y.reshape(2, -1) @ w["ip"][0].T.astype(np.float64) + w["ip"][1]
    np.testing.assert_allclose(got["ip"], ip / np.sqrt(1e-5), rtol=1e-4, atol=1e-2)


def test_fold_batchnorm_rejects_unfoldable():
    text = '''layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 4 dim: 4 } } }
layer { name: "relu" type: "ReLU" bottom: "data" top: "r" }
layer { name: "bn" type: "BatchNorm" bottom: "r" top: "r" }'''
    with pytest.raises(LayerError, match="bn"):
        fold_batchnorm(read_net(text), {"bn": _bn_weights(np.random.default_rng(0), 3)})


@pytest.mark.parametrize("build,widths,convs,pools", [
    (architectures.vgg16_cifar, architectures.VGG16_CIFAR_WIDTHS, 13, 5),
    (architectures.allcnn_c, architectures.ALLCNN_C_WIDTHS, 9, 1),
    (architectures.zf_cifar, architectures.ZF_CIFAR_WIDTHS, 5, 3)])
def test_architectures_deploy_in_recaffe(build, widths, convs, pools):
    param = read_net(build(widths, batchnorm=False, batch=2))
    types = [l.type for l in param.layer]
    assert types.count("Convolution") == convs and types.count("Pooling") == pools
    net = recaffe.Net(param, recaffe.random_weights(param, seed=0))
    prob = net.forward(data=np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32))["prob"]
    assert prob.reshape(2, -1).shape == (2, 10)
    np.testing.assert_allclose(prob.reshape(2, -1).sum(1), 1, rtol=1e-5)
    bn = read_net(build(widths, batchnorm=True))
    assert [l.type for l in bn.layer].count("BatchNorm") == convs - (1 if build is architectures.allcnn_c else 0)


def test_zf_cifar_has_mattnet_first_layer_and_caffe_pooling():
    """conv1 3->96 7x7 stride 2 (MattNet / ZF), and Caffe's ceil pooling takes 16 -> 8 -> 4 -> 2."""
    param = read_net(architectures.zf_cifar(batchnorm=False, batch=1))
    net = recaffe.Net(param, _skip_weights=True, memory_cap=0)
    assert net.param_shapes()["conv1"][0] == (96, 3, 7, 7)
    conv1 = next(l for l in param.layer if l.name == "conv1").convolution_param
    assert list(conv1.stride) == [2] and list(conv1.pad) == [3]
    assert [net.blobs[b].shape[2] for b in ("conv1", "pool1", "pool2", "pool5")] == [16, 8, 4, 2]
    with pytest.raises(ValueError, match="four widths"):
        architectures.zf_cifar((96, 128))


def test_vgg16_cifar_caffemodel_under_20mb():
    param = read_net(architectures.vgg16_cifar(batchnorm=False))
    net = recaffe.Net(param, _skip_weights=True, memory_cap=0)
    count = sum(int(np.prod(s)) for shapes in net.param_shapes().values() for s in shapes)
    assert count * 4 < 20e6


def test_recipe_schedules_and_json():
    r = Recipe(epochs=10, lr=0.1, warmup_epochs=2, schedule="onecycle")
    spe = 100
    lrs = [r.lr_at(s, spe) for s in range(10 * spe)]
    assert lrs[0] == pytest.approx(0.1 / 200) and lrs[199] == pytest.approx(0.1)
    assert lrs[599] == pytest.approx(0.1 * (1 - 4 / 8)) and lrs[-1] < 0.001
    c = Recipe(epochs=4, lr=1.0, warmup_epochs=0, schedule="cosine")
    assert c.lr_at(0, 10) == pytest.approx(1.0, rel=1e-2) and c.lr_at(19, 10) == pytest.approx(0.5)
    s = Recipe(epochs=4, lr=1.0, schedule="step", milestones=(1, 3), gamma=0.1)
    assert [s.lr_at(k * 10, 10) for k in range(4)] == pytest.approx([1, 0.1, 0.1, 0.01])
    assert Recipe.from_dict(__import__("json").loads(s.to_json())) == s
    with pytest.raises(ValueError, match="bogus"):
        Recipe.from_dict({"bogus": 1})
    with pytest.raises(ValueError, match="schedule"):
        Recipe(schedule="zigzag").lr_at(5, 1)
    assert finetune_recipe(epochs=3).epochs == 3 and finetune_recipe().warmup_epochs == 0


def test_augment_crops_and_flips_are_seeded_and_exact():
    rng = np.random.default_rng(0)
    imgs = rng.integers(1, 256, (64, 6, 5, 3), dtype=np.uint8)
    a = augment(imgs, np.random.default_rng(7), crop_pad=2, flip=True)
    b = augment(imgs, np.random.default_rng(7), crop_pad=2, flip=True)
    np.testing.assert_array_equal(a, b)
    padded = np.pad(imgs, ((0, 0), (2, 2), (2, 2), (0, 0)))
    for i in range(len(imgs)):
        # every output is some crop of the padded image, possibly mirrored
        found = any(np.array_equal(a[i], c) or np.array_equal(a[i], c[:, ::-1])
                    for dy in range(5) for dx in range(5) for c in [padded[i, dy:dy + 6, dx:dx + 5]])
        assert found
    assert not np.array_equal(a, imgs)
    np.testing.assert_array_equal(augment(imgs, rng, crop_pad=0, flip=False), imgs)


def test_dataset_arrays_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("RECAFFE_CACHE", str(tmp_path))
    calls = []
    pix = {f"f{i}": np.full((2, 2, 3), i, np.uint8) for i in range(5)}

    def decode(p):
        calls.append(p)
        return pix[p]
    ds = Dataset("toy", list(pix), np.arange(5), ["a"] * 5, decode)
    x, y = dataset_arrays(ds, progress=False)
    assert x.shape == (5, 2, 2, 3) and (x[:, 0, 0, 0] == np.arange(5)).all()
    again, _ = dataset_arrays(ds, progress=False)
    np.testing.assert_array_equal(again, x)
    assert len(calls) == 5 and len(list(tmp_path.glob("toy-5-*.npz"))) == 1


@pytest.mark.parametrize("name,floor", [("vgg16_cifar", 0.78), ("allcnn_c", 0.76), ("zf_cifar", 0.74)])
def test_committed_cifar_models_classify_test_jpegs(data_file, name, floor):
    """The committed caffemodels on 500 CIFAR-10 test JPEGs (the full 10,000 with the per-pixel train
    mean give 85.4% / 84.1% / 82.3%, models/*/accuracy.json); here the per-channel mean of these images,
    to keep the test from decoding the 50,000 training JPEGs."""
    from pathlib import Path
    from recaffe.data import Transformer, cifar10
    d = Path(__file__).resolve().parents[1] / "models" / name
    net = recaffe.Net(d / f"{name}.prototxt", d / f"{name}.caffemodel")
    data_file("cifar10", "test")
    ds = cifar10("test").stratified(50, seed=1)
    images = ds.arrays()
    t = Transformer({"data": (1, 3, 32, 32)})
    t.set_transpose("data", (2, 0, 1))
    t.set_raw_scale("data", 1.0)
    t.set_mean("data", images.reshape(-1, 3).mean(0))
    res = recaffe.evaluate(net, Dataset("cifar-500", images, ds.labels, ds.class_names), t, top=(1,), progress=False)
    assert res.n == 500 and res.top1 >= floor
