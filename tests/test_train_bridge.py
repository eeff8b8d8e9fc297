"""The PyTorch bridge: a TorchNet's forward equals recaffe's on every layer type both support, the
weights round-trip through caffemodel, BatchNorm folding keeps the outputs, and training learns.
Skipped without torch (CI installs only .[test]); the numpy parts are tested in test_train_numpy."""
from __future__ import annotations

import numpy as np
import pytest

import recaffe
from recaffe import _core

torch = pytest.importorskip("torch", reason="the training bridge needs PyTorch (pip install 'recaffe[train]')")
from recaffe.train import TorchNet, fold_batchnorm, finetune, Recipe, train  # noqa: E402
from recaffe.train import architectures, caffe_ops  # noqa: E402

import reference_layers as R  # noqa: E402  (the numpy references of the layer tests)

CORE = set(_core.layer_types())


def _net(body: str, shape=(2, 6, 11, 9)) -> str:
    dims = " ".join(f"dim: {d}" for d in shape)
    return f'name: "t"\nlayer {{ name: "data" type: "Input" top: "data" input_param {{ shape {{ {dims} }} }} }}\n' + body


def _conv(name="conv", bottom="data", extra="num_output: 8 kernel_size: 3"):
    return f'layer {{ name: "{name}" type: "Convolution" bottom: "{bottom}" top: "{name}" convolution_param {{ {extra} }} }}\n'


# One case per layer type (and per Caffe subtlety the bridge has to get right).
CASES = {
    "conv_pad_stride": ("Convolution", _conv(extra="num_output: 8 kernel_size: 3 pad: 1 stride: 2")),
    "conv_group_dilation": ("Convolution", _conv(extra="num_output: 4 kernel_size: 3 group: 2 dilation: 2 pad: 2")),
    "conv_rect_nobias": ("Convolution", _conv(extra="num_output: 5 kernel_h: 3 kernel_w: 1 pad_h: 1 pad_w: 0 "
                                                   "stride_h: 2 stride_w: 1 bias_term: false")),
    "maxpool_ceil_pad_clip": ("Pooling", 'layer { name: "p" type: "Pooling" bottom: "data" top: "p" '
                                         'pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 } }\n'),
    "maxpool_ceil_overhang": ("Pooling", 'layer { name: "p" type: "Pooling" bottom: "data" top: "p" '
                                         'pooling_param { pool: MAX kernel_size: 2 stride: 2 } }\n'),
    "avepool_ceil_pad_divisor": ("Pooling", 'layer { name: "p" type: "Pooling" bottom: "data" top: "p" '
                                            'pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }\n'),
    "avepool_floor": ("Pooling", 'layer { name: "p" type: "Pooling" bottom: "data" top: "p" '
                                 'pooling_param { pool: AVE kernel_size: 3 stride: 2 round_mode: FLOOR } }\n'),
    "global_ave": ("Pooling", 'layer { name: "p" type: "Pooling" bottom: "data" top: "p" '
                              'pooling_param { pool: AVE global_pooling: true } }\n'),
    "inner_product": ("InnerProduct", 'layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" '
                                      'inner_product_param { num_output: 7 } }\n'),
    "inner_product_transpose": ("InnerProduct", 'layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" '
                                                'inner_product_param { num_output: 7 transpose: true } }\n'),
    "relu_leaky": ("ReLU", 'layer { name: "r" type: "ReLU" bottom: "data" top: "r" relu_param { negative_slope: 0.1 } }\n'),
    "relu": ("ReLU", 'layer { name: "r" type: "ReLU" bottom: "data" top: "r" }\n'),
    "sigmoid": ("Sigmoid", 'layer { name: "s" type: "Sigmoid" bottom: "data" top: "s" }\n'),
    "tanh": ("TanH", 'layer { name: "s" type: "TanH" bottom: "data" top: "s" }\n'),
    "absval": ("AbsVal", 'layer { name: "s" type: "AbsVal" bottom: "data" top: "s" }\n'),
    "clip": ("Clip", 'layer { name: "s" type: "Clip" bottom: "data" top: "s" clip_param { min: -0.3 max: 0.5 } }\n'),
    "dropout": ("Dropout", 'layer { name: "d" type: "Dropout" bottom: "data" top: "d" }\n'),
    "softmax": ("Softmax", 'layer { name: "s" type: "Softmax" bottom: "data" top: "s" }\n'),
    "lrn_across": ("LRN", 'layer { name: "n" type: "LRN" bottom: "data" top: "n" '
                          'lrn_param { local_size: 5 alpha: 0.3 beta: 0.75 k: 2 } }\n'),
    "lrn_within": ("LRN", 'layer { name: "n" type: "LRN" bottom: "data" top: "n" '
                          'lrn_param { local_size: 3 alpha: 0.3 beta: 0.75 norm_region: WITHIN_CHANNEL } }\n'),
    "batchnorm_scale": ("BatchNorm", 'layer { name: "bn" type: "BatchNorm" bottom: "data" top: "bn" }\n'
                                     'layer { name: "sc" type: "Scale" bottom: "bn" top: "sc" scale_param { bias_term: true } }\n'),
    "eltwise_concat": ("Eltwise", _conv("a") + _conv("b") +
                       'layer { name: "e" type: "Eltwise" bottom: "a" bottom: "b" top: "e" '
                       'eltwise_param { coeff: 0.5 coeff: -2 } }\n'
                       'layer { name: "m" type: "Eltwise" bottom: "a" bottom: "b" top: "m" eltwise_param { operation: MAX } }\n'
                       'layer { name: "c" type: "Concat" bottom: "e" bottom: "m" top: "c" }\n'),
    "flatten_split": ("Flatten", 'layer { name: "f" type: "Flatten" bottom: "data" top: "f" }\n'
                                 'layer { name: "ip1" type: "InnerProduct" bottom: "f" top: "ip1" inner_product_param { num_output: 3 } }\n'
                                 'layer { name: "ip2" type: "InnerProduct" bottom: "f" top: "ip2" inner_product_param { num_output: 4 } }\n'),
}


def _types_in(text: str) -> set[str]:
    import re
    return set(re.findall(r'type: "(\w+)"', text))


@pytest.mark.parametrize("case", sorted(CASES))
def test_torch_forward_equals_recaffe(case):
    _, body = CASES[case]
    text = _net(body)
    missing = _types_in(text) - CORE
    if missing:
        pytest.skip(f"recaffe's engine lacks {sorted(missing)} (the bridge supports them)")
    weights = recaffe.random_weights(text, seed=3)
    net = recaffe.Net(text, weights)
    x = np.random.default_rng(5).standard_normal((2, 6, 11, 9)).astype(np.float32)
    ref = net.forward(data=x)
    tnet = TorchNet(text, weights)
    with torch.no_grad():
        got = tnet(torch.from_numpy(x))
    assert set(got) == set(ref)
    for k in ref:
        np.testing.assert_allclose(got[k].numpy(), ref[k], rtol=1e-4, atol=1e-4 * max(1.0, np.abs(ref[k]).max()),
                                   err_msg=f"{case}: blob {k}")


@pytest.mark.parametrize("H,k,s,p", [(7, 3, 2, 1), (6, 2, 2, 0), (5, 3, 3, 1), (8, 4, 3, 2)])
def test_caffe_pooling_against_loops(H, k, s, p):
    x = np.random.default_rng(H).standard_normal((1, 2, H, H + 1))
    got = caffe_ops.ave_pool(torch.from_numpy(x), (k, k), (s, s), (p, p)).numpy()
    np.testing.assert_allclose(got, R.pool2d(x, "AVE", (k, k), (s, s), (p, p)), rtol=1e-12)
    mx = caffe_ops.max_pool(torch.from_numpy(x), (k, k), (s, s), (p, p)).numpy()
    Ho = caffe_ops.pooled_size(H, k, s, p)
    assert mx.shape[-2] == Ho
    for i in range(Ho):
        hs = max(i * s - p, 0)
        he = min(i * s - p + k, H)
        ws = 0
        we = min(-p + k, H + 1)
        assert mx[0, 0, i, 0] == x[0, 0, hs:he, ws:we].max()


def test_weights_roundtrip_through_caffemodel(tmp_path):
    text = _net(_conv(extra="num_output: 4 kernel_size: 3 group: 2") +
                'layer { name: "ip" type: "InnerProduct" bottom: "conv" top: "ip" inner_product_param { num_output: 3 } }\n')
    w = recaffe.random_weights(text, seed=1)
    tnet = TorchNet(text, w)
    with torch.no_grad():
        tnet.by_name["ip"].weight.mul_(2.0)   # a change made in torch must reach the caffemodel
    from recaffe.train import to_caffe
    to_caffe(tnet, tmp_path / "n.prototxt", tmp_path / "n.caffemodel")
    param, back = recaffe.load(tmp_path / "n.prototxt", tmp_path / "n.caffemodel")
    np.testing.assert_array_equal(back["conv"][0], w["conv"][0])
    np.testing.assert_array_equal(back["ip"][0], 2.0 * w["ip"][0])
    tnet2 = TorchNet(tmp_path / "n.prototxt", tmp_path / "n.caffemodel")
    x = torch.randn(2, 6, 11, 9)
    with torch.no_grad():
        np.testing.assert_array_equal(tnet2(x)["ip"].numpy(), tnet(x)["ip"].numpy())


def test_batchnorm_training_follows_caffe_moving_average():
    text = _net('layer { name: "bn" type: "BatchNorm" bottom: "data" top: "data" '
                'batch_norm_param { moving_average_fraction: 0.5 } }\n', shape=(4, 3, 2, 2))
    tnet = TorchNet(text, phase="train")
    tnet.train()
    xs = [torch.randn(4, 3, 2, 2) * (i + 1) + i for i in range(3)]
    for x in xs:
        y = tnet(x)["data"]
    # the last output is normalised by its own batch statistics (biased variance)
    x = xs[-1].double()
    m, v = x.mean((0, 2, 3), keepdim=True), x.var((0, 2, 3), unbiased=False, keepdim=True)
    np.testing.assert_allclose(y.numpy(), ((x - m) / (v + 1e-5).sqrt()).numpy(), rtol=1e-4, atol=1e-4)
    # Caffe's blobs: sums weighted by 0.5^age, factor = sum of the weights; unbiased variance
    mean_sum = sum(0.5 ** (2 - i) * x.double().mean((0, 2, 3)) for i, x in enumerate(xs))
    var_sum = sum(0.5 ** (2 - i) * x.double().var((0, 2, 3), unbiased=True) for i, x in enumerate(xs))
    w = tnet.caffe_weights()["bn"]
    np.testing.assert_allclose(w[0], mean_sum.numpy(), rtol=1e-5)
    np.testing.assert_allclose(w[1], var_sum.numpy(), rtol=1e-5)
    np.testing.assert_allclose(w[2], [1 + 0.5 + 0.25])


def test_folded_vgg_matches_unfolded_torch_net():
    """A trained-looking BN net (random BN statistics) gives the same scores in recaffe after
    fold_batchnorm as the unfolded net in PyTorch."""
    text = architectures.vgg16_cifar((4, 8, 8, 8, 8), batchnorm=True, batch=3)
    tnet = TorchNet(text, phase="test", seed=2)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for m in tnet.layer_list:
            if m.type == "BatchNorm":
                c = m.mean_sum.numel()
                m.mean_sum.copy_(torch.from_numpy(rng.normal(0, 1, c) * 3))
                m.var_sum.copy_(torch.from_numpy(rng.uniform(0.5, 2, c) * 3))
                m.factor.fill_(3.0)
            if m.type == "Scale":
                m.gamma.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, m.gamma.numel())))
                m.beta.copy_(torch.from_numpy(rng.normal(0, 0.3, m.beta.numel())))
    param, w = fold_batchnorm(tnet.net_param, tnet.caffe_weights())
    assert not {"BatchNorm", "Scale"} & {l.type for l in param.layer}
    net = recaffe.Net(param, w)
    x = rng.standard_normal((3, 3, 32, 32)).astype(np.float32) * 50
    with torch.no_grad():
        ref = tnet(torch.from_numpy(x))["prob"].numpy()
    np.testing.assert_allclose(net.forward(data=x)["prob"], ref, rtol=1e-3, atol=1e-5)


def test_training_learns_a_separable_problem(tmp_path):
    """Two classes of 16x16 images told apart by a bright quadrant: a tiny All-CNN learns them, the
    checkpoint resumes, and finetune starts from given weights."""
    rng = np.random.default_rng(0)
    n = 256
    labels = rng.integers(0, 2, n)
    images = rng.integers(0, 60, (n, 16, 16, 3)).astype(np.uint8)
    images[labels == 1, :8, :8] += 150
    text = architectures.allcnn_c((4, 8), batchnorm=True).replace("dim: 32 dim: 32", "dim: 16 dim: 16")
    text = text.replace("num_output: 10", "num_output: 2")
    recipe = Recipe(epochs=3, batch=32, lr=0.05, warmup_epochs=0.3, preprocess="mnist", crop_pad=0, flip=False,
                    seed=1, eval_limit=0, threads=1, channels_last=False)
    res = train(TorchNet(text, phase="train", seed=1), (images, labels), recipe, out_dir=tmp_path, progress=False)
    assert res.completed and len(res.history) == 3
    assert res.history[-1]["train_acc"] > 0.9
    assert (tmp_path / "checkpoint.pt").exists() and (tmp_path / "train.log").read_text()
    # resuming a finished run trains nothing more and keeps the weights
    before = res.weights()
    again = train(TorchNet(text, phase="train", seed=5), (images, labels), recipe, out_dir=tmp_path, progress=False)
    np.testing.assert_array_equal(again.weights()["conv1"][0], before["conv1"][0])
    # finetune with a frozen layer: it stays, the rest moves
    ft = finetune(text, before, (images, labels), Recipe(epochs=1, batch=32, lr=0.01, preprocess="mnist", crop_pad=0,
                                                         flip=False, frozen=("conv1",), threads=1, eval_limit=0,
                                                         channels_last=False, warmup_epochs=0), progress=False)
    after = ft.weights()
    np.testing.assert_array_equal(after["conv1"][0], before["conv1"][0])
    assert not np.array_equal(after["conv2"][0], before["conv2"][0])


def test_time_budget_fits_the_schedule(tmp_path):
    """With budget_minutes the learning rate anneals on time progress and the run ends, complete,
    when the budget is spent (here after the first step), with a checkpoint and a log line."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (64, 16, 16, 3)).astype(np.uint8)
    labels = rng.integers(0, 10, 64)
    text = architectures.allcnn_c((4, 4), batchnorm=True).replace("dim: 32 dim: 32", "dim: 16 dim: 16")
    recipe = Recipe(epochs=5, batch=16, preprocess="mnist", eval_limit=0, threads=1, budget_minutes=1e-6,
                    channels_last=False)
    res = train(TorchNet(text, phase="train"), (images, labels), recipe, out_dir=tmp_path, progress=False)
    assert res.completed and len(res.history) == 1 and res.history[0]["steps"] == 1
    assert res.history[0]["lr_end"] == pytest.approx(0.0)
    assert "time budget" in (tmp_path / "train.log").read_text()


def test_unknown_type_names_the_layer_and_custom_layers_register():
    from recaffe.errors import UnknownLayerError
    from recaffe.train import CaffeLayer, register_torch_layer
    text = _net('layer { name: "odd" type: "Power" bottom: "data" top: "p" power_param { scale: 3 shift: 1 } }\n')
    with pytest.raises(UnknownLayerError, match="'odd'.*Power"):
        TorchNet(text)

    class Power(CaffeLayer):
        def __init__(self, layer, shapes, phase):
            super().__init__(layer)
            self.p = layer.power_param

        def forward(self, bottoms):
            return [(bottoms[0] * self.p.scale + self.p.shift) ** self.p.power]
    register_torch_layer("Power", Power)
    try:
        x = torch.randn(2, 6, 11, 9)
        np.testing.assert_allclose(TorchNet(text)(x)["p"].numpy(), (x * 3 + 1).numpy(), rtol=1e-6)
    finally:
        from recaffe.train import torch_net
        torch_net._CUSTOM.pop("Power", None)
