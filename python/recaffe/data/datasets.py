"""Loaders for the labelled data in ../shared/data: MNIST test (idx), CIFAR-10 JPEG folders, and
the ImageNet sample (labels in Caffe's class order from synsets.txt)."""
from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .cache import cached_array
from .paths import data_path

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@dataclass
class Dataset:
    """Labelled images. `images[i]` is an HxWxC uint8 array (RGB) or a file path decoded on
    access; `labels[i]` the class index; `class_names` index -> name."""
    name: str
    items: Sequence
    labels: np.ndarray
    class_names: list[str]
    decode: Callable | None = None
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def image(self, i: int) -> np.ndarray:
        x = self.items[i]
        return self.decode(x) if self.decode is not None else x

    def subset(self, indices) -> "Dataset":
        idx = np.asarray(indices)
        items = self.items[idx] if isinstance(self.items, np.ndarray) else [self.items[i] for i in idx]
        return Dataset(f"{self.name}[{len(idx)}]", items, self.labels[idx], self.class_names, self.decode, self.meta)

    def head(self, n: int) -> "Dataset":
        return self.subset(np.arange(min(n, len(self))))

    def stratified(self, per_class: int, seed: int = 0) -> "Dataset":
        """At most `per_class` images of every class (seeded)."""
        rng = np.random.default_rng(seed)
        idx = []
        for c in np.unique(self.labels):
            where = np.flatnonzero(self.labels == c)
            idx.extend(sorted(rng.choice(where, size=min(per_class, len(where)), replace=False)))
        return self.subset(sorted(idx))

    def arrays(self, indices=None) -> np.ndarray:
        """Decode images into one uint8 array (N, H, W, C)."""
        idx = range(len(self)) if indices is None else indices
        return np.stack([self.image(i) for i in idx])


def _read_idx(path: Path, offset: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    return np.frombuffer(raw, np.uint8, offset=offset)


def mnist_test() -> Dataset:
    """The 10,000 MNIST test digits as (28, 28, 1) uint8 images; class k is digit k."""
    images = _read_idx(data_path("mnist", "t10k-images-idx3-ubyte.gz"), 16).reshape(-1, 28, 28, 1)
    labels = _read_idx(data_path("mnist", "t10k-labels-idx1-ubyte.gz"), 8).astype(np.int64)
    if len(images) != len(labels):
        raise ValueError("MNIST images and labels differ in count")
    return Dataset("mnist-test", images, labels, [str(i) for i in range(10)])


def decode_rgb(path) -> np.ndarray:
    from PIL import Image
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def cifar10_class_names() -> list[str]:
    return list(CIFAR10_CLASSES)


def cifar10(split: str = "test", preload: bool = False) -> Dataset:
    """CIFAR-10 JPEGs: split "test" (10,000) or "train" (50,000); files are decoded on access,
    or all at once with preload=True (kept decoded in the on-disk cache, data.cache)."""
    if split not in ("test", "train"):
        raise ValueError("split must be 'test' or 'train'")
    root = data_path("cifar10", split)
    files, labels = [], []
    for c, name in enumerate(CIFAR10_CLASSES):
        folder = root / name
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is missing")
        for f in sorted(folder.glob("*.jpg")):
            files.append(f)
            labels.append(c)
    ds = Dataset(f"cifar10-{split}", files, np.asarray(labels, np.int64), cifar10_class_names(), decode_rgb,
                 {"key": source_key(root, files)})
    if preload:
        images = cached_array(f"cifar10-{split}-uint8", ds.meta["key"], ds.arrays)
        ds = Dataset(ds.name, images, ds.labels, ds.class_names, None, ds.meta)
    return ds


def source_key(root: Path, files) -> str:
    """What a cached array derived from these files depends on: where they are, how many, which
    ones at the ends, and the image manifest's size and time."""
    manifest = root.parent.parent / "MANIFEST_images.tsv" if root.parent.parent.exists() else None
    stamp = ""
    if manifest is not None and manifest.exists():
        st = manifest.stat()
        stamp = f"{st.st_size}:{int(st.st_mtime)}"
    return f"{root.resolve()}|{len(files)}|{files[0].name if files else ''}|{files[-1].name if files else ''}|{stamp}"


def imagenet_class_names() -> list[str]:
    lines = data_path("imagenet_sample", "synset_words.txt").read_text().splitlines()
    return [l.split(" ", 1)[1] if " " in l else l for l in lines]


def imagenet_sample() -> Dataset:
    """The 334 labelled ImageNet sample images (one per class for every 3rd class); labels are
    Caffe's class indices (the line of the WNID in synsets.txt)."""
    wnids = data_path("imagenet_sample", "synsets.txt").read_text().split()
    index = {w: i for i, w in enumerate(wnids)}
    files, labels = [], []
    for f in sorted(data_path("imagenet_sample", "images").glob("*.JPEG")):
        wnid = f.name.split("_", 1)[0]
        if wnid not in index:
            raise ValueError(f"{f.name}: WNID {wnid} is not in synsets.txt")
        files.append(f)
        labels.append(index[wnid])
    return Dataset("imagenet-sample", files, np.asarray(labels, np.int64), imagenet_class_names(), decode_rgb)
