"""Training and fine-tuning a Caffe net in PyTorch: seeded SGD with a schedule, augmentation,
a progress bar, a log, and resumable checkpoints (a run cut short still leaves a model).

    res = train(TorchNet(prototxt, phase="train"), recaffe.data.cifar10("train"), Recipe(epochs=30),
                out_dir="runs/vgg", eval_data=recaffe.data.cifar10("test"))
    res.net.caffe_weights()          # {layer: [ndarray]} for recaffe.save / recaffe.Net
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..data import presets
from .arrays import augment, dataset_arrays
from .recipe import Recipe, finetune_recipe
from .torch_net import BatchNorm, Convolution, InnerProduct, TorchNet


@dataclass
class TrainResult:
    net: TorchNet
    recipe: Recipe
    history: list = field(default_factory=list)   # one dict per epoch
    seconds: float = 0.0
    completed: bool = False                       # False when stopped early (max_minutes)

    def weights(self) -> dict:
        return self.net.caffe_weights()


def _as_arrays(data):
    if isinstance(data, tuple):
        images, labels = data
        return np.asarray(images, np.uint8), np.asarray(labels, np.int64)
    return dataset_arrays(data)


def _param_groups(net: TorchNet, recipe: Recipe):
    """Weight decay on Convolution / InnerProduct weights only; frozen layers are left out."""
    decay, no_decay = [], []
    frozen = set(recipe.frozen)
    unknown = frozen - set(net.by_name)
    if unknown:
        raise ValueError(f"frozen: no layers named {sorted(unknown)}")
    for mod in net.layer_list:
        params = [t for t in mod.blob_tensors() if isinstance(t, torch.nn.Parameter)]
        if mod.name in frozen:
            for p in params:
                p.requires_grad_(False)
            continue
        for i, p in enumerate(params):
            (decay if i == 0 and isinstance(mod, (Convolution, InnerProduct)) else no_decay).append(p)
    return [{"params": decay, "weight_decay": recipe.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _to_input(images: np.ndarray, prep, recipe: Recipe) -> torch.Tensor:
    x = torch.from_numpy(prep(images)).to(recipe.device)
    return x.contiguous(memory_format=torch.channels_last) if recipe.channels_last else x


def scores(net: TorchNet, images: np.ndarray, recipe: Recipe, batch: int = 250) -> np.ndarray:
    """The net's logits for uint8 N x H x W x C images, in eval mode."""
    prep = getattr(presets, recipe.preprocess)
    was = net.training
    net.eval()
    out = []
    key = net.logits_blob()
    with torch.no_grad(), torch.autocast(recipe.device.split(":")[0], torch.bfloat16, enabled=recipe.bf16):
        for i in range(0, len(images), batch):
            s = net(_to_input(images[i:i + batch], prep, recipe), outputs=[key])[key]
            out.append(s.float().reshape(s.shape[0], -1).cpu().numpy())
    net.train(was)
    return np.concatenate(out)


class _Log:
    def __init__(self, path: Path | None, progress: bool):
        self.path, self.progress = path, progress

    def __call__(self, msg: str) -> None:
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}"
        if self.path is not None:
            with open(self.path, "a") as f:
                f.write(line + "\n")
        if self.progress:
            from tqdm import tqdm
            tqdm.write(line)


def _save_checkpoint(path: Path, net, opt, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(), **state}, tmp)
    os.replace(tmp, path)


def train(net: TorchNet, data, recipe: Recipe, *, out_dir=None, eval_data=None, progress: bool = True,
          resume: bool = True, max_minutes: float | None = None) -> TrainResult:
    """Train `net` (a TorchNet built with phase="train") on `data` (a recaffe.data.Dataset or
    (uint8 N x H x W x C images, labels)) with cross-entropy on its logits blob.

    out_dir: where the log (train.log), history (history.json), recipe (recipe.json) and the
    resumable checkpoint (checkpoint.pt) go; with resume=True an existing checkpoint is continued.
    eval_data: scored (a seeded sample of recipe.eval_limit images) after every epoch, for the log only.
    max_minutes: stop (after a checkpoint) when this much wall time has passed, leaving the run
    resumable; recipe.budget_minutes instead fits the whole schedule (warm-up to annealed end) into
    that time, ending early where the machine is slow."""
    torch.set_num_threads(recipe.threads)
    torch.manual_seed(recipe.seed)
    images, labels = _as_arrays(data)
    eval_arrays = _as_arrays(eval_data) if eval_data is not None else None
    prep = getattr(presets, recipe.preprocess)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "recipe.json").write_text(recipe.to_json())
    log = _Log(out / "train.log" if out is not None else None, progress)
    net.to(recipe.device)
    if recipe.channels_last:
        net.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(_param_groups(net, recipe), lr=recipe.lr, momentum=recipe.momentum,
                          nesterov=recipe.nesterov and recipe.momentum > 0)
    n = len(images)
    steps_per_epoch = n // recipe.batch   # the last partial batch is dropped (BatchNorm needs full batches)
    history: list = []
    epoch, step_in_epoch, elapsed = 0, 0, 0.0
    aug_state = None
    ckpt = out / "checkpoint.pt" if out is not None else None
    if resume and ckpt is not None and ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        epoch, step_in_epoch, elapsed = state["epoch"], state["step_in_epoch"], state["elapsed"]
        history, aug_state = state["history"], state["aug_state"]
        log(f"resumed at epoch {epoch} step {step_in_epoch} ({elapsed / 60:.1f} min trained)")
    else:
        log(f"train {n} images, {steps_per_epoch} steps/epoch, recipe {json.dumps(recipe.to_dict())}")
    key = net.logits_blob()
    prep(images[:1])   # presets may compute statistics once (the CIFAR train mean): not on the clock
    net.train()
    t_start = time.time() - elapsed
    last_ckpt = time.time()
    stopped = False
    while epoch < recipe.epochs and not stopped:
        order = np.random.default_rng([recipe.seed, epoch]).permutation(n)
        rng = np.random.default_rng([recipe.seed, epoch, 1])
        if aug_state is not None:
            rng.bit_generator.state = aug_state
            aug_state = None
        bar = range(step_in_epoch, steps_per_epoch)
        if progress:
            from tqdm import tqdm
            bar = tqdm(bar, desc=f"epoch {epoch + 1}/{recipe.epochs}", initial=step_in_epoch, total=steps_per_epoch,
                       leave=False)
        loss_sum = correct = seen = 0.0
        budget_done, step = False, step_in_epoch - 1
        for step in bar:
            idx = np.sort(order[step * recipe.batch:(step + 1) * recipe.batch])
            batch = augment(images[idx], rng, recipe.crop_pad, recipe.flip)
            x = _to_input(batch, prep, recipe)
            y = torch.from_numpy(labels[idx]).to(recipe.device)
            progress_frac = (epoch * steps_per_epoch + step + 1) / (recipe.epochs * steps_per_epoch)
            if recipe.budget_minutes:
                progress_frac = max(progress_frac, (time.time() - t_start) / (recipe.budget_minutes * 60))
            progress_frac = min(progress_frac, 1.0)
            lr = recipe.lr_at_progress(progress_frac)
            for g in opt.param_groups:
                g["lr"] = lr
            with torch.autocast(recipe.device.split(":")[0], torch.bfloat16, enabled=recipe.bf16):
                logits = net(x, outputs=[key])[key]
            logits = logits.float().reshape(len(idx), -1)
            loss = F.cross_entropy(logits, y, label_smoothing=recipe.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(idx)
            if progress:
                bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}", lr=f"{lr:.4f}")
            budget_done = progress_frac >= 1.0
            done_all = step + 1 == steps_per_epoch or budget_done
            out_of_time = max_minutes is not None and time.time() - t_start > max_minutes * 60
            if ckpt is not None and not done_all and (out_of_time or time.time() - last_ckpt > recipe.checkpoint_minutes * 60):
                _save_checkpoint(ckpt, net, opt, {"epoch": epoch, "step_in_epoch": step + 1,
                                                  "elapsed": time.time() - t_start, "history": history,
                                                  "aug_state": rng.bit_generator.state})
                last_ckpt = time.time()
                log(f"checkpoint epoch {epoch + 1} step {step + 1}/{steps_per_epoch} loss {loss_sum / seen:.4f}")
            if out_of_time and not done_all:
                stopped = True
                break
            if budget_done:
                break
        if stopped:
            break
        entry = {"epoch": epoch + 1, "steps": step + 1, "train_loss": loss_sum / max(seen, 1), "train_acc": correct / max(seen, 1),
                 "lr_end": lr, "minutes": (time.time() - t_start) / 60}
        if eval_arrays is not None and recipe.eval_limit:
            pick = np.sort(np.random.default_rng(recipe.seed).permutation(len(eval_arrays[1]))[:recipe.eval_limit])
            ei, el = eval_arrays[0][pick], eval_arrays[1][pick]   # a seeded sample: the files are sorted by class
            entry[f"test_acc_sample{len(el)}"] = float((scores(net, ei, recipe).argmax(1) == el).mean())
        history.append(entry)
        log("epoch " + " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in entry.items()))
        epoch, step_in_epoch = (recipe.epochs if budget_done else epoch + 1), 0
        if budget_done and entry["steps"] < steps_per_epoch:
            log(f"time budget of {recipe.budget_minutes} min reached: the schedule ended after step "
                f"{entry['steps']}/{steps_per_epoch} of epoch {entry['epoch']}")
        if ckpt is not None:
            _save_checkpoint(ckpt, net, opt, {"epoch": epoch, "step_in_epoch": 0, "elapsed": time.time() - t_start,
                                              "history": history, "aug_state": None})
            last_ckpt = time.time()
        if out is not None:
            (out / "history.json").write_text(json.dumps(history, indent=1))
    net.eval()
    res = TrainResult(net, recipe, history, time.time() - t_start, completed=epoch >= recipe.epochs)
    log(f"{'finished' if res.completed else 'stopped'} after {res.seconds / 60:.1f} min, {epoch} epochs")
    return res


def finetune(prototxt, weights, data, recipe: Recipe | None = None, **kw) -> TrainResult:
    """Fine-tune a recaffe net (prototxt + weights: caffemodel path or {layer: [ndarray]}) on `data`;
    the recipe defaults to recaffe.train.finetune_recipe(). res.weights() gives the new weights."""
    net = TorchNet(prototxt, weights, phase="train")
    return train(net, data, recipe or finetune_recipe(), **kw)


def load_checkpoint(net: TorchNet, path) -> TorchNet:
    """Put a train() checkpoint's weights into `net` (the same architecture)."""
    state = torch.load(path, weights_only=False)
    net.load_state_dict(state["model"])
    return net
