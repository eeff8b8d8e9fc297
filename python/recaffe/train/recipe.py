"""A training recipe: everything that decides a training run, seeded and serialisable, so a run's
log and its JSON say exactly how a model was made."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields


@dataclass
class Recipe:
    epochs: int = 30
    batch: int = 128
    lr: float = 0.05                    # peak learning rate
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4          # on Convolution / InnerProduct weights only (not biases, BN, Scale)
    schedule: str = "onecycle"          # onecycle | cosine | step | constant
    warmup_epochs: float = 1.0          # linear warm-up (onecycle, cosine)
    milestones: tuple = ()              # step: epochs where lr *= gamma
    gamma: float = 0.1
    final_lr_fraction: float = 0.0      # onecycle/cosine end at lr * this
    label_smoothing: float = 0.0
    crop_pad: int = 4                   # augmentation: random crop of the image padded by this
    flip: bool = True                   # augmentation: random horizontal flip
    preprocess: str = "cifar10_caffe"   # a function of recaffe.data.presets
    seed: int = 0
    threads: int = 2
    bf16: bool = False                  # autocast matmuls/convolutions to bfloat16 (CPU with AVX512-BF16, GPU)
    channels_last: bool = True
    frozen: tuple = ()                  # layer names whose blobs are not trained (fine-tuning)
    eval_limit: int = 2000              # test images (seeded sample) scored after every epoch (log only)
    checkpoint_minutes: float = 5.0     # also checkpoint within an epoch this often
    device: str = "cpu"
    budget_minutes: float | None = None  # if set, the schedule runs on max(step, time) progress and ends in time


    def lr_at(self, step: int, steps_per_epoch: int) -> float:
        """The learning rate for optimiser step `step` (0-based)."""
        return self.lr_at_progress((step + 1) / (self.epochs * steps_per_epoch))

    def lr_at_progress(self, p: float) -> float:
        """The learning rate at fraction p (0 < p <= 1) of the run."""
        total = self.epochs
        e = p * total   # progress in epochs
        if self.schedule == "constant":
            return self.lr
        if self.schedule == "step":
            return self.lr * self.gamma ** sum(e >= m for m in self.milestones)
        if e <= self.warmup_epochs:
            return self.lr * e / self.warmup_epochs
        frac = min(1.0, (e - self.warmup_epochs) / max(1e-9, total - self.warmup_epochs))
        lo = self.lr * self.final_lr_fraction
        if self.schedule == "onecycle":
            return self.lr + (lo - self.lr) * frac
        if self.schedule == "cosine":
            return lo + (self.lr - lo) * 0.5 * (1 + math.cos(math.pi * frac))
        raise ValueError(f"unknown schedule '{self.schedule}' (onecycle, cosine, step, constant)")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["milestones"], d["frozen"] = list(self.milestones), list(self.frozen)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, d: dict) -> "Recipe":
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown recipe fields {sorted(unknown)}")
        d = dict(d)
        for k in ("milestones", "frozen"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)


def finetune_recipe(**overrides) -> Recipe:
    """Defaults for a fine-tuning round after an approximation: a few epochs at a small, cosine-decayed
    learning rate, no warm-up."""
    base = dict(epochs=2, lr=0.005, schedule="cosine", warmup_epochs=0.0, weight_decay=5e-4)
    base.update(overrides)
    return Recipe(**base)
