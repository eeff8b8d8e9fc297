"""The CUDA ViP kernel against its CPU twin (bit-identical by construction: the same IEEE ops in
the same order). Needs a RECAFFE_CUDA=ON build and a GPU; skips otherwise (CI compiles cuda/vip.cu)."""
import numpy as np
import pytest

import recaffe

ok, why = recaffe.cuda_available()
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not ok, reason=f"no CUDA: {why}")]


@pytest.mark.parametrize("shape,vip", [((2, 3, 5, 6), ""), ((1, 4, 4, 4), ""), ((2, 3, 7, 9), "vip_param { height: 13 width: 18 }"),
                                       ((1, 64, 28, 28), ""), ((1, 2, 1, 1), "vip_param { height: 1 width: 2 }")])
def test_vip_gpu_is_bit_identical_to_cpu(shape, vip, rng):
    dims = " ".join(f"dim: {d}" for d in shape)
    proto = f'input: "data" input_shape {{ {dims} }}\nlayer {{ name: "v" type: "ViP" bottom: "data" top: "out" {vip} }}'
    cpu = recaffe.Net(proto)
    gpu = recaffe.Net(proto, device="cuda")
    assert gpu.layer_backends()["v"] == "gpu"
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_array_equal(gpu.forward(data=x)["out"], cpu.forward(data=x)["out"])


def test_vip_vgg16_gpu_matches_cpu(rng):
    from pathlib import Path
    from recaffe.transforms import vip
    param, _ = recaffe.load(str(Path(__file__).resolve().parents[1] / "prototxt" / "vgg16.prototxt"))
    w = recaffe.random_weights(param, 2)
    new, w2, _ = vip(param, w, ["conv1_2", "conv3_3", "conv5_3"])
    a = recaffe.Net(new, w2)
    b = recaffe.Net(new, w2, device="cuda")
    x = rng.standard_normal((1, 3, 224, 224)).astype(np.float32)
    pa, pb = a.forward(data=x)["prob"], b.forward(data=x)["prob"]
    assert float(np.abs(pa - pb).max() / np.abs(pa).max()) <= 1e-4
