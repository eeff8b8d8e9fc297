"""The CUDA backend against its CPU twins. Every test here needs a build with RECAFFE_CUDA=ON and
an NVIDIA GPU; without them the tests skip with the reason (CI compiles the CUDA code but has no
GPU: .ci/run builds it in build/cuda-check)."""
from pathlib import Path

import numpy as np
import pytest

import recaffe

ok, why = recaffe.cuda_available()
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not ok, reason=f"no CUDA: {why}")]

ROOT = Path(__file__).resolve().parents[1]


def _pair(proto: str, seed: int = 0):
    cpu = recaffe.Net(proto)
    w = recaffe.random_weights(cpu, seed)
    cpu.copy_from(w)
    gpu = recaffe.Net(proto, w, device="cuda")
    return cpu, gpu


def _rel(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


ONE_LAYER = {
    "conv3x3": 'convolution_param { num_output: 7 kernel_size: 3 pad: 1 }',
    "conv_group_stride": 'convolution_param { num_output: 6 kernel_size: 3 stride: 2 group: 2 pad: 1 }',
    "conv_dilated_1x1": 'convolution_param { num_output: 5 kernel_size: 1 }',
    "conv_dilation": 'convolution_param { num_output: 4 kernel_h: 3 kernel_w: 2 dilation: 2 pad_h: 2 pad_w: 1 }',
}


def _one_layer_proto(layer_type: str, params: str, shape=(2, 6, 11, 9), extra_top="") -> str:
    dims = " ".join(f"dim: {d}" for d in shape)
    return f'''
input: "data" input_shape {{ {dims} }}
layer {{ name: "l" type: "{layer_type}" bottom: "data" top: "out" {params} }}
{extra_top}'''


CASES = [
    ("Convolution", 'convolution_param { num_output: 7 kernel_size: 3 pad: 1 }'),
    ("Convolution", 'convolution_param { num_output: 6 kernel_size: 3 stride: 2 group: 2 pad: 1 }'),
    ("Convolution", 'convolution_param { num_output: 5 kernel_size: 1 }'),
    ("Convolution", 'convolution_param { num_output: 4 kernel_h: 3 kernel_w: 2 dilation: 2 pad_h: 2 pad_w: 1 }'),
    ("Pooling", 'pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 }'),
    ("Pooling", 'pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 }'),
    ("Pooling", 'pooling_param { pool: MAX kernel_size: 2 stride: 2 } '
                'recaffe_param { fused_activation: "ReLU" }'),
    ("Pooling", 'pooling_param { pool: AVE global_pooling: true }'),
    ("ReLU", 'relu_param { negative_slope: 0.1 }'),
    ("Sigmoid", ''),
    ("TanH", ''),
    ("Clip", 'clip_param { min: -0.5 max: 0.7 }'),
    ("LRN", 'lrn_param { local_size: 5 alpha: 0.1 beta: 0.75 k: 2 }'),
    ("LRN", 'lrn_param { local_size: 3 alpha: 0.1 beta: 0.75 norm_region: WITHIN_CHANNEL }'),
    ("Softmax", ''),
    ("InnerProduct", 'inner_product_param { num_output: 13 }'),
    ("BatchNorm", ''),
    ("Scale", 'scale_param { bias_term: true }'),
]


@pytest.mark.parametrize("layer_type,params", CASES)
def test_layer_matches_cpu_twin(layer_type, params, rng):
    cpu, gpu = _pair(_one_layer_proto(layer_type, params))
    assert gpu.layer_backends()["l"] == "gpu"
    x = rng.standard_normal(cpu.blobs["data"].shape).astype(np.float32)
    a = cpu.forward(data=x)["out"]
    b = gpu.forward(data=x)["out"]
    assert _rel(b, a) <= 1e-5


def test_concat_slice_eltwise(rng):
    proto = '''
input: "data" input_shape { dim: 2 dim: 6 dim: 5 dim: 7 }
layer { name: "s" type: "Slice" bottom: "data" top: "a" top: "b" slice_param { axis: 1 slice_point: 2 } }
layer { name: "c" type: "Concat" bottom: "b" bottom: "a" top: "c" }
layer { name: "e" type: "Eltwise" bottom: "c" bottom: "data" top: "e" eltwise_param { operation: SUM coeff: 2 coeff: -1 } }
layer { name: "m" type: "Eltwise" bottom: "e" bottom: "data" top: "m" eltwise_param { operation: MAX } }
'''
    cpu, gpu = _pair(proto)
    x = rng.standard_normal((2, 6, 5, 7)).astype(np.float32)
    np.testing.assert_allclose(gpu.forward(data=x)["m"], cpu.forward(data=x)["m"], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["vgg16", "googlenet", "resnet50"])
def test_whole_net_matches_cpu(name, rng):
    proto = ROOT / "prototxt" / f"{name}.prototxt"
    cpu, gpu = _pair(str(proto), seed=3)
    x = rng.standard_normal(cpu.blobs[cpu.inputs[0]].shape).astype(np.float32)
    a = cpu.forward(**{cpu.inputs[0]: x})
    b = gpu.forward(**{cpu.inputs[0]: x})
    for k in a:
        assert _rel(b[k], a[k]) <= 1e-4, k


def test_reorder_is_exact_on_gpu(rng):
    from recaffe.transforms import reorder_activation_pooling
    param, _ = recaffe.load(str(ROOT / "prototxt" / "vgg16.prototxt"))
    w = recaffe.random_weights(param, 1)
    new, w2, _ = reorder_activation_pooling(param, w)
    a = recaffe.Net(param, w, device="cuda")
    b = recaffe.Net(new, w2, device="cuda")
    x = rng.standard_normal((2, 3, 224, 224)).astype(np.float32)
    np.testing.assert_array_equal(a.forward(data=x)["prob"], b.forward(data=x)["prob"])


def test_gpu_timing_is_per_layer():
    cpu, gpu = _pair(str(ROOT / "prototxt" / "vgg16.prototxt"))
    t = gpu.time(iterations=3, warmup=1, verbose=False)
    assert t.total.median > 0 and all(len(v) == 3 for v in t.per_layer)
