"""Train the project's CIFAR-10 models (VGG-16-style, All-CNN-C) with the PyTorch bridge, fold
their batch normalisation, write them as Caffe files under models/ and prototxt/, and measure their
accuracy on the 10,000 CIFAR-10 test JPEGs with recaffe (and with PyTorch, for comparison).

    python experiments/train_cifar_models.py --quick            # ~2 min: tiny widths, 1 epoch on 4,000 images
    python experiments/train_cifar_models.py                    # the committed models (hours on 2 CPU cores)
    python experiments/train_cifar_models.py --device cuda      # the same recipe on a GPU (minutes)
    python experiments/train_cifar_models.py --export-only      # write models/ from the last checkpoint

Training is resumable: a run's checkpoint lives in --runs-dir (default ~/.cache/recaffe/runs).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

import recaffe  # noqa: E402
from recaffe.bench.timing import describe_machine  # noqa: E402
from recaffe.data import Dataset, cifar10, presets  # noqa: E402
from recaffe.report import Report  # noqa: E402
from recaffe.train import Recipe, architectures, cache_dir, dataset_arrays, fold_batchnorm  # noqa: E402

# Paper / target figures (CIFAR-10 test accuracy)
PAPER = {
    "vgg16_cifar": ("VGG-16-style CIFAR nets with BN: ~93% (full width, ~160 epochs); issue target >= 85%", 0.85),
    "allcnn_c": ("All-CNN-C (Springenberg et al. 2015): 92.75% with augmentation, 350 epochs; "
                 "issue target >= 85%", 0.85),
    "zf_cifar": ("ZF-style net (conv1 3->96 7x7/2 like Denton et al.'s MattNet) on 32x32 CIFAR-10; "
                 "issue target >= 80%", 0.80),
}

# The committed runs (2 shared CPU cores; see README): widths and recipes.
FULL = {
    "vgg16_cifar": dict(widths=(16, 32, 64, 128, 128),
                        recipe=dict(epochs=40, lr=0.02, warmup_epochs=0.8, batch=64, budget_minutes=None)),
    "allcnn_c": dict(widths=(32, 64),
                     recipe=dict(epochs=25, lr=0.02, warmup_epochs=0.8, batch=64, budget_minutes=None)),
    "zf_cifar": dict(widths=architectures.ZF_CIFAR_WIDTHS,
                     recipe=dict(epochs=25, lr=0.02, warmup_epochs=0.8, batch=64, budget_minutes=None)),
}
QUICK = {
    "vgg16_cifar": dict(widths=(8, 16, 16, 32, 32), recipe=dict(epochs=1, lr=0.05, warmup_epochs=0.2, batch=64)),
    "allcnn_c": dict(widths=(8, 16), recipe=dict(epochs=1, lr=0.05, warmup_epochs=0.2, batch=64)),
    "zf_cifar": dict(widths=(16, 16, 24, 32), recipe=dict(epochs=1, lr=0.05, warmup_epochs=0.2, batch=64)),
}
BUILDERS = {"vgg16_cifar": architectures.vgg16_cifar, "allcnn_c": architectures.allcnn_c,
            "zf_cifar": architectures.zf_cifar}


def train_model(name: str, cfg: dict, args, train_data, test_data):
    from recaffe.train import TorchNet, train
    recipe = Recipe(**{**cfg["recipe"], "threads": args.threads, "bf16": args.bf16, "device": args.device,
                       "seed": args.seed, **({"epochs": args.epochs} if args.epochs else {}),
                       **({"budget_minutes": args.budget_minutes or None} if args.budget_minutes is not None else {})})
    text = BUILDERS[name](cfg["widths"], batchnorm=True)
    tnet = TorchNet(text, phase="train", seed=args.seed)
    tag = ("_quick" if args.quick else "") + ("_w" + "-".join(map(str, cfg["widths"])) if args.widths else "")
    run_dir = Path(args.runs_dir) / (name + tag)   # other widths never resume this config's checkpoint
    if args.fresh and run_dir.exists():
        shutil.rmtree(run_dir)
    if args.export_only:
        from recaffe.train import load_checkpoint
        load_checkpoint(tnet, run_dir / "checkpoint.pt")
        tnet.eval()
        hist = json.loads((run_dir / "history.json").read_text()) if (run_dir / "history.json").exists() else []
        return tnet, recipe, hist, run_dir, None
    res = train(tnet, train_data, recipe, out_dir=run_dir, eval_data=test_data, max_minutes=args.max_minutes)
    return tnet, recipe, res.history, run_dir, res


def export_model(name: str, tnet, recipe, run_dir: Path, models_dir: Path, proto_dir: Path | None, widths):
    """Fold BN, write <models_dir>/<name>/{<name>.prototxt, .caffemodel, recipe.json, train.log,
    history.json} and prototxt/<name>.prototxt; returns the paths."""
    param, weights = fold_batchnorm(tnet.net_param, tnet.caffe_weights())
    param.name = name
    d = models_dir / name
    d.mkdir(parents=True, exist_ok=True)
    proto, model = d / f"{name}.prototxt", d / f"{name}.caffemodel"
    recaffe.save(param, weights, proto, model)
    (d / "recipe.json").write_text(json.dumps({"widths": list(widths), "train_prototxt": "train_" + name +
                                               ".prototxt", **recipe.to_dict()}, indent=1))
    (d / f"train_{name}.prototxt").write_text(BUILDERS[name](widths, batchnorm=True))
    # the unfolded weights too: fine-tuning runs in the BN form (the folded net diverges, see vip_sensitivity.py)
    recaffe.save(tnet.net_param, tnet.caffe_weights(), None, d / f"train_{name}.caffemodel")
    for f in ("train.log", "history.json"):
        if (run_dir / f).exists():
            shutil.copy(run_dir / f, d / f)
    if proto_dir is not None:
        proto_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(proto, proto_dir / f"{name}.prototxt")
    return proto, model


def write_models_readme(machine: str) -> None:
    """experiments/models/README.md: every trained model under models/ (this run's and earlier ones),
    its measured accuracy (models/<name>/accuracy.json) and the command that regenerates it."""
    lines = ["# Trained models", "",
             "Written by `experiments/train_cifar_models.py` (do not edit by hand). Files: `models/<name>/` "
             "(`<name>.caffemodel`, deploy `<name>.prototxt` with BatchNorm folded, `train_<name>.prototxt` with "
             "BatchNorm/Scale, `recipe.json`, `train.log`, `history.json`, `accuracy.json`); deploy prototxts "
             "also in `prototxt/`. Accuracy: the 10,000 CIFAR-10 test JPEGs, run by recaffe on the Caffe files; "
             "preprocessing `recaffe.data.presets.cifar10_caffe` (RGB 0..255 minus the per-pixel train mean).", "",
             "| model | widths | caffemodel MB | epochs trained | train minutes | top-1 (recaffe) | top-5 | "
             "top-1 (PyTorch, before folding) | target | trained on | reproduce |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for m in BUILDERS:
        d = ROOT / "models" / m
        if not (d / "accuracy.json").exists() or not (d / "recipe.json").exists():
            continue
        acc, rec = json.loads((d / "accuracy.json").read_text()), json.loads((d / "recipe.json").read_text())
        size = (d / f"{m}.caffemodel").stat().st_size / 2 ** 20
        lines.append(f"| {m} | {'x'.join(map(str, rec['widths']))} | {size:.2f} | {acc['epochs']} | "
                     f"{acc['train_minutes']:.0f} | {100 * acc['cifar10_test_top1_recaffe']:.2f}% | "
                     f"{100 * acc['cifar10_test_top5_recaffe']:.2f}% | {100 * acc['cifar10_test_top1_torch_bn']:.2f}% | "
                     f"{100 * PAPER[m][1]:.0f}% | {acc.get('machine', '')}, {acc.get('device', '')}, "
                     f"{acc.get('date', '')} | `python experiments/train_cifar_models.py --models {m}` |")
    lines += ["", f"Last run on: {machine}.", "",
              "## EfficientNet-Lite0 (ImageNet, converted)", "",
              "See `models/efficientnet_lite0/README.md` (written by hand; regenerate the model with "
              "`python experiments/convert_efficientnet_lite0.py`).", ""]
    out = ROOT / "experiments" / "models" / "README.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(BUILDERS), choices=list(BUILDERS))
    ap.add_argument("--quick", action="store_true", help="tiny widths, 1 epoch on 4,000 images, 1,000 test images")
    ap.add_argument("--out", default="results")
    ap.add_argument("--models-dir", default=None, help="default models/ (quick: <out>/quick_models)")
    ap.add_argument("--runs-dir", default=str(cache_dir() / "runs"))
    ap.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast (CPUs with AVX512-BF16, GPUs)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-minutes", type=float, default=None, help="stop each model's training after this long "
                    "(resumable; the schedule is not shortened)")
    ap.add_argument("--budget-minutes", type=float, default=None,
                    help="fit each model's whole schedule into this many minutes (0: no budget, epochs only)")
    ap.add_argument("--widths", type=str, default=None, help="comma-separated widths overriding the config")
    ap.add_argument("--export-only", action="store_true", help="export and measure the last checkpoint")
    ap.add_argument("--fresh", action="store_true", help="discard an existing checkpoint")
    args = ap.parse_args(argv)

    configs = QUICK if args.quick else FULL
    models_dir = Path(args.models_dir) if args.models_dir else (
        Path(args.out) / "quick_models" if args.quick else ROOT / "models")
    proto_dir = None if args.quick else ROOT / "prototxt"
    train_ds, test_ds = cifar10("train"), cifar10("test")
    if args.quick:
        train_ds, test_ds = train_ds.stratified(400, seed=args.seed), test_ds.stratified(100, seed=args.seed)
    train_data, test_data = dataset_arrays(train_ds), dataset_arrays(test_ds)

    name = "train_cifar_models" + ("_quick" if args.quick else "")
    rep = Report(name, out=args.out, title="Trained CIFAR-10 models (PyTorch bridge -> Caffe files -> recaffe)")
    import torch
    rep.record["machine"] = describe_machine() + f", PyTorch {torch.__version__}, {args.threads} threads, {args.device}"
    rep.text(f"Machine: {describe_machine()}; PyTorch {torch.__version__}, {args.threads} training threads, "
             f"device {args.device}{', bf16 autocast' if args.bf16 else ''}. Test set: {len(test_ds)} CIFAR-10 "
             f"test JPEGs; training set: {len(train_ds)} training JPEGs only.")
    rows, curves = [], {}
    for m in args.models:
        cfg = dict(configs[m])
        if args.widths:
            cfg["widths"] = tuple(int(w) for w in args.widths.split(","))
        tnet, recipe, hist, run_dir, res = train_model(m, cfg, args, train_data, test_data)
        proto, model = export_model(m, tnet, recipe, run_dir, models_dir, proto_dir, cfg["widths"])
        net = recaffe.Net(proto, model)
        test_arrays = Dataset(test_ds.name, test_data[0], test_data[1], test_ds.class_names)  # decoded once
        ev = recaffe.evaluate(net, test_arrays, presets.cifar10_caffe, top=(1, 5), progress=True)
        from recaffe.train import scores
        s = scores(tnet, test_data[0], recipe)
        torch_top1 = float((s.argmax(1) == test_data[1]).mean())
        agree = float((ev.predictions == s.argmax(1)).mean())   # recaffe (folded) vs PyTorch (BN) top-1
        minutes = hist[-1]["minutes"] if hist else None
        spe = len(train_data[1]) // recipe.batch
        epochs_done = round(sum(h.get("steps", spe) for h in hist) / spe, 2)   # the last epoch may be partial
        size_mb = model.stat().st_size / 2 ** 20
        paper, target = PAPER[m]
        rows.append([m, "x".join(map(str, cfg["widths"])), f"{size_mb:.1f}", epochs_done, minutes, ev.top1, ev.top5,
                     torch_top1, agree, target, paper])
        curves[m] = hist
        rep.record[m] = {"widths": cfg["widths"], "caffemodel_mb": size_mb, "epochs_done": epochs_done,
                         "train_minutes": minutes, "recaffe": ev.to_dict(), "torch_bn_top1": torch_top1,
                         "top1_agreement_recaffe_vs_torch": agree, "target": target, "paper": paper,
                         "recipe": recipe.to_dict(), "history": hist, "completed": bool(res.completed) if res else None,
                         "prototxt": str(proto.relative_to(ROOT)) if proto.is_relative_to(ROOT) else str(proto)}
        if not args.quick:
            (models_dir / m / "accuracy.json").write_text(json.dumps(
                {"cifar10_test_top1_recaffe": ev.top1, "cifar10_test_top5_recaffe": ev.top5,
                 "cifar10_test_top1_torch_bn": torch_top1, "n": ev.n, "epochs": epochs_done, "train_minutes": minutes,
                 "machine": describe_machine(), "device": args.device, "date": time.strftime("%Y-%m-%d %H:%M")},
                indent=1))
    if not args.quick:
        write_models_readme(rep.record["machine"])
    rep.table("CIFAR-10 test accuracy", ["model", "widths", "MB", "epochs", "train min", "top-1 (recaffe)",
                                         "top-5 (recaffe)", "top-1 (PyTorch, BN unfolded)", "top-1 agreement",
                                         "target", "paper"], rows,
              note="recaffe runs the exported Caffe files (BatchNorm folded into the convolutions); "
                   "PyTorch runs the trained net before folding. Targets not reached are shortfalls of the "
                   "CPU time budget, not of the method: see README.")
    fig, axes = rep.figure(1, 2, figsize=(10, 3.8))
    for m, hist in curves.items():
        if not hist:
            continue
        e = [h["epoch"] for h in hist]
        axes[0].plot(e, [h["train_loss"] for h in hist], marker="o", label=m)
        tk = [k for k in hist[0] if k.startswith("test_acc")]
        axes[1].plot(e, [h["train_acc"] for h in hist], marker="o", label=f"{m} train")
        if tk:
            axes[1].plot(e, [h[tk[0]] for h in hist], marker="s", ls="--", label=f"{m} test ({tk[0][9:]})")
    axes[0].set(xlabel="epoch", ylabel="train loss")
    axes[1].set(xlabel="epoch", ylabel="accuracy")
    for a in axes:
        a.legend(fontsize=7)
    rep.save_figure(fig)
    rep.write()


if __name__ == "__main__":
    main()
