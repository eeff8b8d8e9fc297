"""Real data for evaluation: the loaders of ../shared/data (found through RECAFFE_DATA) and a
Caffe-style input transformer."""
from .paths import data_dir, data_path, DataMissing  # noqa: F401
from .datasets import (Dataset, mnist_test, cifar10, imagenet_sample, cifar10_class_names,  # noqa: F401
                       imagenet_class_names)
from . import presets  # noqa: F401
from .transformer import Transformer, load_image, resize_image, center_crop  # noqa: F401

__all__ = ["data_dir", "data_path", "DataMissing", "Dataset", "mnist_test", "cifar10", "imagenet_sample",
           "cifar10_class_names", "imagenet_class_names", "Transformer", "load_image", "resize_image",
           "center_crop", "presets"]
