"""The ViP layer in the PyTorch bridge (for fine-tuning): bit-identical to the C++ kernel, gradients
flow, and a TorchNet of a transformed net gives recaffe's outputs."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import recaffe  # noqa: E402
from recaffe import _core  # noqa: E402
from recaffe.train.vip_torch import vip_interpolate  # noqa: E402


@pytest.mark.parametrize("shape,size", [((2, 3, 5, 6), (10, 12)), ((1, 2, 7, 7), (13, 13)), ((1, 1, 4, 9), (7, 18)),
                                        ((1, 2, 1, 3), (1, 6))])
def test_torch_interpolation_is_bit_identical_to_the_kernel(shape, size, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    want = _core.vip.interpolate(x, *size)
    got = vip_interpolate(torch.from_numpy(x), *size).numpy()
    np.testing.assert_array_equal(got, want)


def test_gradient_is_the_adjoint(rng):
    """<vip(x), g> == <x, vip^T(g)>: autograd gives the transpose of the linear map."""
    x = torch.from_numpy(rng.standard_normal((1, 2, 4, 5))).requires_grad_(True)
    g = torch.from_numpy(rng.standard_normal((1, 2, 8, 9)))
    y = vip_interpolate(x, 8, 9)
    (y * g).sum().backward()
    # the adjoint by brute force: column k of the matrix is vip(e_k)
    basis = torch.eye(x.numel(), dtype=torch.float64).reshape(-1, 1, 2, 4, 5)
    cols = torch.stack([(vip_interpolate(e, 8, 9) * g).sum() for e in basis]).reshape(x.shape)
    np.testing.assert_allclose(x.grad.numpy(), cols.numpy(), rtol=1e-12)


def test_torchnet_runs_a_vip_net(data_file):
    from recaffe.train import TorchNet
    from recaffe.transforms import vip
    param, w = recaffe.load(str(data_file("cifar10", "cifar10_quick.prototxt")),
                            str(data_file("cifar10", "cifar10_quick_iter_5000.caffemodel")))
    new, w2, _ = vip(param, w, ["conv1", "conv3"])
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32) * 50
    want = recaffe.Net(new, w2).forward(data=x)["prob"]
    tnet = TorchNet(new, w2).eval()
    with torch.no_grad():
        got = tnet(torch.from_numpy(x))["prob"].numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
