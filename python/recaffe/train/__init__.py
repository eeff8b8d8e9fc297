"""Training bridge (optional extra `recaffe[train]`: PyTorch): a recaffe net as a torch module with
Caffe's semantics and back to caffemodel, seeded training and fine-tuning recipes, and the CIFAR
architectures the project trains.

    from recaffe.train import TorchNet, train, finetune, Recipe, fold_batchnorm
    tnet = TorchNet(recaffe.train.architectures.vgg16_cifar(), phase="train")
    res = train(tnet, recaffe.data.cifar10("train"), Recipe(epochs=30), out_dir="runs/vgg")
    param, weights = fold_batchnorm(tnet.net_param, res.weights())
    recaffe.save(param, weights, "vgg.prototxt", "vgg.caffemodel")

Only TorchNet, train and finetune need torch; the rest (recipes, architectures, BN folding,
array caching) is plain numpy.
"""
from __future__ import annotations

import importlib

from . import architectures  # noqa: F401
from .arrays import augment, cache_dir, dataset_arrays  # noqa: F401
from .fold import fold_batchnorm  # noqa: F401
from .recipe import Recipe, finetune_recipe  # noqa: F401

_TORCH_EXPORTS = {
    "TorchNet": "torch_net", "to_torch": "torch_net", "to_caffe": "torch_net", "LAYER_TYPES": "torch_net",
    "register_torch_layer": "torch_net", "CaffeLayer": "torch_net",
    "gradient_alpha": "gradient_metric",
    "train": "loop", "finetune": "loop", "TrainResult": "loop", "scores": "loop", "load_checkpoint": "loop",
}


def torch_available() -> tuple[bool, str]:
    try:
        import torch  # noqa: F401
    except ImportError as e:
        return False, f"PyTorch is not installed ({e}); pip install 'recaffe[train]'"
    return True, ""


def __getattr__(name: str):
    mod = _TORCH_EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'recaffe.train' has no attribute '{name}'")
    ok, why = torch_available()
    if not ok:
        raise ImportError(f"recaffe.train.{name} needs PyTorch: {why}")
    return getattr(importlib.import_module(f"{__name__}.{mod}"), name)


__all__ = ["architectures", "augment", "cache_dir", "dataset_arrays", "fold_batchnorm", "Recipe",
           "finetune_recipe", "torch_available", *_TORCH_EXPORTS]
