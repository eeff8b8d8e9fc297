"""Real trained caffemodels on real labelled data, with Caffe's preprocessing, against the
figures in ../shared/data/MANIFEST.md (measured there by an independent NumPy implementation)."""
import numpy as np
import pytest

import recaffe
from recaffe.data import Transformer, cifar10, imagenet_sample, load_image, mnist_test, presets


def test_lenet_on_the_10000_mnist_test_digits(data_file):
    net = recaffe.Net(data_file("mnist", "lenet.prototxt"), data_file("mnist", "lenet_iter_10000.caffemodel"))
    res = recaffe.evaluate(net, mnist_test(), presets.mnist, top=(1,), batch=500, progress=False)
    assert res.n == 10000
    assert res.top1 >= 0.990  # MANIFEST: 0.9906


@pytest.fixture(scope="module")
def cifar10_test():
    return cifar10("test", preload=True)


def test_cifar10_quick_v1_caffemodel_on_the_test_jpegs(data_file, cifar10_test):
    """The V1 caffemodel, RGB minus the per-pixel mean of the training JPEGs: MANIFEST 74.15%."""
    net = recaffe.Net(data_file("cifar10", "cifar10_quick.prototxt"),
                      data_file("cifar10", "cifar10_quick_iter_5000.caffemodel"))
    res = recaffe.evaluate(net, cifar10_test, presets.cifar10_caffe, top=(1,), batch=500, progress=False)
    assert res.n == 10000
    assert abs(res.top1 - 0.7415) <= 0.005, res.top1


def test_cifar10_full_on_the_test_jpegs(data_file, cifar10_test):
    """cifar10_full (WITHIN_CHANNEL LRN) with the deploy net shipped beside it: MANIFEST 78.85%."""
    proto = data_file("cifar10", "cifar10_full_yuvval_deploy.prototxt")
    try:
        net = recaffe.Net(proto, data_file("cifar10", "cifar10_full_iter_70000.caffemodel"))
    except recaffe.UnknownLayerError as e:
        pytest.skip(f"needs layer type '{e.layer_type}', not implemented yet")
    res = recaffe.evaluate(net, cifar10_test, presets.cifar10_caffe, top=(1,), batch=500, progress=False)
    assert abs(res.top1 - 0.7885) <= 0.005, res.top1


def test_train_mean_is_the_per_pixel_mean_of_the_train_split(data_file):
    mean = presets.cifar10_train_mean()
    assert mean.shape == (3, 32, 32) and mean.dtype == np.float32
    # an independent estimate from every 50th training image
    ds = cifar10("train")
    sample = np.stack([ds.image(i) for i in range(0, len(ds), 50)]).astype(np.float64).mean(0).transpose(2, 0, 1)
    assert np.abs(sample - mean).mean() < 3.0
    assert np.abs(mean.mean(axis=(1, 2)) - [125.3, 122.9, 113.9]).max() < 0.5  # CIFAR-10's known RGB means


@pytest.mark.parametrize("name, caffe_class", [("dog10", 5), ("cat10", 3), ("truck10", 9)])
def test_png_predictions_match_the_real_caffe_log(data_file, name, caffe_class):
    """ikkiChung's README logs real Caffe (ImageData layer: OpenCV, so BGR) predicting these."""
    net = recaffe.Net(data_file("cifar10", "cifar10_quick.prototxt"),
                      data_file("cifar10", "cifar10_quick_iter_5000.caffemodel"))
    rgb = load_image(data_file("cifar10", f"ikkichung_{name}.png")) * 255.0
    t = Transformer({"data": (1, 3, 32, 32)})
    t.set_transpose("data", (2, 0, 1))
    t.set_channel_swap("data", (2, 1, 0))
    t.set_raw_scale("data", 255.0 / 255.0)
    t.set_mean("data", presets.cifar10_train_mean()[::-1])  # the mean in BGR order too
    x = t.preprocess("data", rgb)[None]
    assert int(net.forward(data=x)["prob"].argmax()) == caffe_class


def imagenet_reference(img: np.ndarray, mean_bgr: np.ndarray, crop: int = 224) -> np.ndarray:
    """Centre crop, RGB->BGR, 0..255, minus mean, CHW: written out with plain slicing."""
    h, w = img.shape[:2]
    top, left = (h - crop) // 2, (w - crop) // 2
    x = img[top:top + crop, left:left + crop, ::-1] * 255.0 - mean_bgr
    return x.transpose(2, 0, 1).astype(np.float32)


def test_imagenet_transformer_resize_crop_bgr_mean(data_file):
    ds = imagenet_sample()
    assert len(ds) == 334 and ds.labels.max() < 1000
    mean = np.load(data_file("imagenet_sample", "ilsvrc_2012_mean.npy"))
    assert mean.shape == (3, 256, 256)
    mean_bgr = mean.mean(axis=(1, 2))
    np.testing.assert_allclose(mean_bgr, [104.007, 116.669, 122.679], atol=1e-3)  # MANIFEST's figures
    t = Transformer({"data": (1, 3, 224, 224)})
    t.set_resize("data", 256)  # shorter side to 256, then centre crop 224
    t.set_transpose("data", (2, 0, 1))
    t.set_channel_swap("data", (2, 1, 0))
    t.set_raw_scale("data", 255.0)
    t.set_mean("data", mean_bgr)
    for i in (0, 100, 333):
        img = load_image(ds.items[i])
        h, w = img.shape[:2]
        s = 256 / min(h, w)
        resized = recaffe.data.resize_image(img, (max(1, round(h * s)), max(1, round(w * s))))
        assert min(resized.shape[:2]) == 256
        np.testing.assert_allclose(t.preprocess("data", img), imagenet_reference(resized, mean_bgr),
                                   rtol=1e-5, atol=1e-3)


def test_resize_agrees_with_opencv_when_enlarging():
    """Bilinear enlargement has one definition (half-pixel centres): PIL's and OpenCV's agree."""
    cv2 = pytest.importorskip("cv2")
    img = np.random.default_rng(0).random((13, 17, 3), dtype=np.float32)
    ours = recaffe.data.resize_image(img, (40, 50))
    theirs = cv2.resize(img, (50, 40), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(ours, theirs, atol=2e-3)


def test_gray_imagenet_images_become_three_channels(data_file):
    img = load_image(data_file("imagenet_sample", "cat_gray.jpg"))
    assert img.ndim == 3 and img.shape[2] == 3
