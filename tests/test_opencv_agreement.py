"""Whole networks agree with OpenCV's DNN module (an independent Caffe importer and engine) to
<= 1e-4 relative on their outputs: real caffemodels where ../shared/data has them (LeNet,
cifar10_full), seeded random weights (recaffe.random_weights) for the rest. Each net is saved with
recaffe.save, so the files OpenCV reads are the ones recaffe writes. Batch 1, one forward each."""
import numpy as np
import pytest

import recaffe
from conftest import need_data

cv2 = pytest.importorskip("cv2")

pytestmark = pytest.mark.slow

REL_TOL = 1e-4


def _nets():
    return {
        "lenet": (("mnist", "lenet.prototxt"), ("mnist", "lenet_iter_10000.caffemodel"), (0, 1)),
        "cifar10_full": (("cifar10", "cifar10_full.prototxt"), ("cifar10", "cifar10_full_iter_70000.caffemodel"),
                         (-60, 60)),
        "alexnet": ("prototxt/alexnet.prototxt", None, (-60, 60)),
        "googlenet": ("prototxt/googlenet.prototxt", None, (-60, 60)),
        "vgg16": ("prototxt/vgg16.prototxt", None, (-60, 60)),
        "resnet50": ("prototxt/resnet50.prototxt", None, (-60, 60)),
        "squeezenet_v1.1": (("squeezenet", "SqueezeNet_v1.1", "deploy.prototxt"), None, (-60, 60)),
    }


def _path(spec):
    if isinstance(spec, tuple):
        return need_data(*spec)
    from pathlib import Path
    return str(Path(__file__).resolve().parents[1] / spec)


def relative_error(ours, theirs) -> float:
    return float(np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-30))


@pytest.mark.parametrize("name", list(_nets()))
def test_net_agrees_with_opencv(name, tmp_path):
    proto_spec, weights_spec, (lo, hi) = _nets()[name]
    proto = _path(proto_spec)
    param, weights = recaffe.load(proto, _path(weights_spec) if weights_spec else None)
    if weights_spec is None:
        weights = recaffe.random_weights(param, seed=1)
    net = recaffe.Net(param, weights)
    data = net.inputs[0]
    shape = (1,) + net.blobs[data].shape[1:]
    x = np.random.default_rng(0).uniform(lo, hi, shape).astype(np.float32)
    # the net's outputs and, for a softmax output, its logits (saturated probabilities hide errors)
    names = list(net.outputs)
    for lname, ltype, bottoms in zip(net.layer_names, net.layer_types, net.bottom_names.values()):
        if ltype == "Softmax" and net.top_names[lname][0] in names:
            names.append(bottoms[0])
    ours = net.forward(blobs=names, **{data: x})

    recaffe.save(param, weights, tmp_path / "net.prototxt", tmp_path / "net.caffemodel")
    cv = cv2.dnn.readNetFromCaffe(str(tmp_path / "net.prototxt"), str(tmp_path / "net.caffemodel"))
    cv.enableWinograd(False)
    cv.setInput(x)
    theirs = cv.forward(names)
    for n, t in zip(names, theirs):
        o = ours[n]
        assert o.size == t.size, f"{name}/{n}: {o.shape} vs OpenCV {t.shape}"
        assert np.abs(o).max() > 0, f"{name}/{n}: all zero"
        err = relative_error(o, t.reshape(o.shape))
        print(f"{name}/{n}: max relative error vs OpenCV {err:.2e}")
        assert err <= REL_TOL, f"{name}/{n}: max relative error {err:.2e} vs OpenCV"
