"""The real trained models of ../shared/data with their test sets and Caffe's preprocessing, for
the experiments that need real activations (ISC: relu_sparsity.py, isc_whole_nets.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from pathlib import Path

from recaffe.data import cifar10, data_path, mnist_test, presets

# The CIFAR-10 models the evaluation issue trains (experiments/train_cifar_models.py writes
# models/<name>/<name>.{prototxt,caffemodel}, same preprocessing as Caffe's CIFAR examples).
PROJECT_MODELS = ("vgg16_cifar", "allcnn_c", "zf_cifar")
MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


@dataclass
class TrainedModel:
    name: str
    prototxt: str
    caffemodel: str
    dataset: object             # recaffe.data.Dataset with labels
    preprocess: Callable        # uint8 HxWxC batch -> N x C x H x W float32
    reference_top1: float       # what ../shared/data/MANIFEST.md reports for it


def _cifar_preprocess(quick: bool) -> Callable:
    """Caffe's CIFAR-10 input: RGB minus the per-pixel training mean. The full mean decodes all
    50,000 training JPEGs (about a minute here); --quick uses 500 per class (nearly the same)."""
    if not quick:
        return presets.cifar10_caffe
    train = cifar10("train").stratified(500, seed=0)
    acc = np.zeros((32, 32, 3), np.float64)
    for i in range(len(train)):
        acc += train.image(i)
    mean = (acc / len(train)).transpose(2, 0, 1).astype(np.float32)
    return lambda images: np.ascontiguousarray(images.transpose(0, 3, 1, 2).astype(np.float32) - mean[None])


def finetune_augmentation(name: str) -> dict:
    """Recipe fields that fine-tune a model the way it was trained: the project's models with the
    training recipe's crops and flips (Recipe's defaults), Caffe's CIFAR-10 examples without them."""
    return {} if name in PROJECT_MODELS else {"crop_pad": 0, "flip": False}


def bn_files(name: str):
    """(train prototxt, caffemodel) of a project model before its BatchNorm was folded, or None.
    Fine-tuning runs in this form: the folded deploy nets diverged under SGD at learning rates from
    1e-4 up (experiments/vip_sensitivity.py); fold_batchnorm afterwards gives the deploy form."""
    d = MODELS_DIR / name
    proto, model = d / f"train_{name}.prototxt", d / f"train_{name}.caffemodel"
    return (str(proto), str(model)) if name in PROJECT_MODELS and proto.exists() and model.exists() else None


def available_project_models() -> list[str]:
    return [m for m in PROJECT_MODELS if (MODELS_DIR / m / f"{m}.caffemodel").exists()]


def trained_models(names, quick: bool = False) -> list[TrainedModel]:
    """The models named (lenet, cifar10_quick, cifar10_full, and vgg16_cifar / allcnn_c / zf_cifar
    when models/ has them)."""
    out = []
    cifar_pre = None
    for name in names:
        if name == "lenet":
            out.append(TrainedModel("lenet", str(data_path("mnist", "lenet.prototxt")),
                                    str(data_path("mnist", "lenet_iter_10000.caffemodel")), mnist_test(),
                                    presets.mnist, 0.9906))
        elif name in ("cifar10_quick", "cifar10_full"):
            cifar_pre = cifar_pre or _cifar_preprocess(quick)
            weights = "cifar10_quick_iter_5000" if name == "cifar10_quick" else "cifar10_full_iter_70000"
            out.append(TrainedModel(name, str(data_path("cifar10", f"{name}.prototxt")),
                                    str(data_path("cifar10", f"{weights}.caffemodel")), cifar10("test"), cifar_pre,
                                    0.7415 if name == "cifar10_quick" else 0.7808))
        elif name in PROJECT_MODELS:
            d = MODELS_DIR / name
            if not (d / f"{name}.caffemodel").exists():
                raise FileNotFoundError(f"{d / name}.caffemodel is missing: train it with "
                                        f"experiments/train_cifar_models.py")
            cifar_pre = cifar_pre or _cifar_preprocess(quick)
            out.append(TrainedModel(name, str(d / f"{name}.prototxt"), str(d / f"{name}.caffemodel"),
                                    cifar10("test"), cifar_pre, float("nan")))
        else:
            raise ValueError(f"unknown model {name!r} (known: lenet, cifar10_quick, cifar10_full, "
                             f"{', '.join(PROJECT_MODELS)})")
    return out
