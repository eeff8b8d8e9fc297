"""The automatic ISC policy: sparsity measured on the samples, the engine written per layer into
recaffe_param.engine, outputs unchanged."""
import numpy as np
import pytest

import recaffe
from recaffe.transforms import isc_policy

NET = """name: "small"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 12 dim: 12 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param { num_output: 16 kernel_size: 3 pad: 1 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "conv2" type: "Convolution" bottom: "conv1" top: "conv2"
        convolution_param { num_output: 24 kernel_size: 3 stride: 2 } }
layer { name: "relu2" type: "ReLU" bottom: "conv2" top: "conv2" }
layer { name: "conv3" type: "Convolution" bottom: "conv2" top: "conv3"
        convolution_param { num_output: 10 kernel_size: 1 } }
"""


@pytest.fixture
def setup():
    rng = np.random.default_rng(7)
    shapes = {"conv1": (16, 3, 3, 3), "conv2": (24, 16, 3, 3), "conv3": (10, 24, 1, 1)}
    weights = {n: [rng.standard_normal(s).astype(np.float32), rng.standard_normal(s[0]).astype(np.float32) - 0.5]
               for n, s in shapes.items()}
    x = rng.standard_normal((2, 3, 12, 12)).astype(np.float32)
    return weights, x


def test_policy_measures_sparsity_and_writes_engines(setup):
    weights, x = setup
    param, w, report = isc_policy(NET, weights, {"data": x}, iterations=2, margin=0.0)  # isc always "wins"
    assert [c.layer for c in report.layers] == ["conv1", "conv2", "conv3"]
    ref = recaffe.Net(NET, weights, engine="direct")
    ref.forward(data=x)
    for c in report.layers:
        blob = ref.blobs[c.input_blob].data
        assert c.sparsity == pytest.approx(np.mean(blob == 0), abs=1e-6)
        assert c.engine == "isc" and c.gemm_ms > 0 and c.isc_ms > 0
    assert report.choice("conv1").sparsity == 0.0 and report.choice("conv2").sparsity > 0.2
    assert {l.name: l.recaffe_param.engine for l in param.layer if l.type == "Convolution"} == \
        {"conv1": "isc", "conv2": "isc", "conv3": "isc"}
    net = recaffe.Net(param, w)
    assert net.engine_of("conv2") == "isc"
    np.testing.assert_allclose(net.forward(data=x)["conv3"], ref.forward(data=x)["conv3"], rtol=1e-4, atol=1e-4)
    assert "conv2" in str(report)


def test_policy_keeps_gemm_where_isc_does_not_win(setup):
    weights, x = setup
    param, _, report = isc_policy(NET, weights, {"data": x}, iterations=2, margin=float("inf"), layers=["conv2"])
    assert report.isc_layers == []
    engines = {l.name: l.recaffe_param.engine for l in param.layer if l.type == "Convolution"}
    assert engines == {"conv1": "", "conv2": "gemm", "conv3": ""}


def test_policy_roundtrips_through_prototxt(setup, tmp_path):
    weights, x = setup
    param, _, _ = isc_policy(NET, weights, {"data": x}, iterations=1, margin=0.0, layers=["conv3"])
    path = tmp_path / "net.prototxt"
    recaffe.save(param, None, path)
    net = recaffe.Net(path, weights)
    assert net.engine_of("conv3") == "isc" and net.engine_of("conv1") == "gemm"


def test_policy_errors_name_the_problem(setup):
    weights, x = setup
    with pytest.raises(recaffe.InputError, match="conv9"):
        isc_policy(NET, weights, {"data": x}, layers=["conv9"])
    with pytest.raises(recaffe.InputError, match="sample"):
        isc_policy(NET, weights, {})
