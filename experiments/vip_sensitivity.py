"""ViP's sensitivity analysis (Algorithm 1, lines 3-10) on every trained CIFAR-10 model we have, and
the speed-accuracy trade-off of progressive insertion.

Sensitivity: ViP after one convolution at a time, no fine-tuning, the top-1 accuracy drop on the
CIFAR-10 test images; plotted like the paper's Figures 2 and 5 (convolutions whose ViP output feeds a
pooling layer marked "pool"). Trade-off: ViP inserted progressively in the order of increasing
sensitivity (Algorithm 1, lines 13-17), each net timed interleaved against the original on the CPU.
With PyTorch installed (recaffe[train]) each insertion is followed by fine-tuning from the previous
round's weights (the paper's grouped fine-tuning, one layer a round); both curves are plotted.
With --final-ft-epochs, the first fine-tuned step at least --final-ft-at (1.77x, the paper's All-CNN
point) fast is fine-tuned that many more epochs on all 50,000 training images: one more point.

Models: Caffe's cifar10_quick and cifar10_full (../shared/data), and the project's VGG-style CIFAR
net and All-CNN-C (models/<name>/, from experiments/train_cifar_models.py) where they exist.

    python experiments/vip_sensitivity.py --quick   # ~8 min here: 1,000 test images, 10 timing runs, fine-tuning on 5,000
    python experiments/vip_sensitivity.py           # 10,000 test images, 30 timing runs, fine-tuning on 50,000
    python experiments/vip_sensitivity.py --models vgg16_cifar --ft-images 25000 --final-ft-epochs 6 \
        --final-ft-lr 0.005 --report-name vip_sensitivity_vgg16_cifar      # the committed trade-off runs
Writes results/vip_sensitivity.{md,json,png} and the sensitivity/trade-off fields of results/vip.json.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import recaffe
from recaffe.bench import describe_machine, interleaved_nets
from recaffe.data import DataMissing, cifar10, data_path, presets
from recaffe.report import Report
from recaffe.transforms import vip

sys.path.insert(0, str(Path(__file__).resolve().parent))
from trained_models import PROJECT_MODELS, bn_files, finetune_augmentation  # noqa: E402
from vip_summary import update_vip_summary  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAPER = ("Paper (VGG16 Fig. 2, ResNet-50 Fig. 5): layers just before a pooling layer are the least sensitive, and "
         "later layers are less sensitive than early ones; All-CNN on CIFAR-10 reaches 1.77x (desktop GPU) / 3.03x "
         "(mobile CPU) within 4 points of top-1 after fine-tuning.")


def model_files() -> dict:
    """{name: (prototxt, caffemodel) or the reason it is missing}."""
    out = {}
    for name, parts in {"cifar10_quick": ("cifar10", "cifar10_quick.prototxt", "cifar10_quick_iter_5000.caffemodel"),
                        "cifar10_full": ("cifar10", "cifar10_full.prototxt", "cifar10_full_iter_70000.caffemodel")}.items():
        try:
            out[name] = (data_path(parts[0], parts[1]), data_path(parts[0], parts[2]))
        except DataMissing as e:
            out[name] = str(e)
    for name in PROJECT_MODELS:
        d = ROOT / "models" / name
        p, m = d / f"{name}.prototxt", d / f"{name}.caffemodel"
        out[name] = (p, m) if p.exists() and m.exists() else \
            f"{m} is missing (train it with experiments/train_cifar_models.py)"
    return out


def pre_pool(param, site) -> bool:
    """Does the ViP output feed a pooling layer (the paper's "pool" mark)?"""
    types = {l.name: l.type for l in param.layer}
    return any(types.get(r) == "Pooling" for r in site.readers)


def accuracy(param, weights, x, y, batch: int = 250) -> float:
    net = recaffe.Net(param, weights)
    out = net.outputs[0]
    hits = 0
    for i in range(0, len(x), batch):
        s = net.forward(**{net.inputs[0]: x[i:i + batch]})[out]
        hits += int((s.reshape(len(s), -1).argmax(1) == y[i:i + batch]).sum())
    return hits / len(x)


def spearman(a, b) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1]) if len(a) > 2 else float("nan")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results")
    ap.add_argument("--quick", action="store_true", help="1,000 test images, 10 timing runs, 5,000 fine-tuning images")
    ap.add_argument("--images", type=int, default=None, help="test images (default 10,000; --quick 1,000)")
    ap.add_argument("--runs", type=int, default=None, help="timing runs per net (default 30; --quick 10)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--batch", type=int, default=100, help="timing batch (Caffe's CIFAR-10 test batch is 100)")
    ap.add_argument("--no-finetune", action="store_true", help="skip the fine-tuned trade-off curve")
    ap.add_argument("--models", default=None, help="comma-separated subset of " + ", ".join(model_files()))
    ap.add_argument("--report-name", default="vip_sensitivity", help="results/<name>.{md,json,png}")
    ap.add_argument("--ft-images", type=int, default=None, help="training images per fine-tuning round "
                                                                 "(default 50,000; --quick 5,000)")
    ap.add_argument("--ft-epochs", type=float, default=1.0)
    ap.add_argument("--ft-lr", type=float, default=0.001, help="peak learning rate (cosine decay, no warm-up)")
    ap.add_argument("--final-ft-at", type=float, default=1.77,
                    help="the first fine-tuned insertion step at least this fast gets --final-ft-epochs more")
    ap.add_argument("--final-ft-epochs", type=float, default=0.0,
                    help="longer fine-tuning of that step on all 50,000 training images (0: none)")
    ap.add_argument("--final-ft-lr", type=float, default=None, help="its peak learning rate (default --ft-lr)")
    args = ap.parse_args(argv)
    n_img = args.images or (1000 if args.quick else 10000)
    runs = args.runs or (10 if args.quick else 30)
    recaffe.set_num_threads(args.threads)
    machine = describe_machine()
    rep = Report(args.report_name, out=args.out, title="ViP: per-layer sensitivity and the speed-accuracy trade-off")
    rep.text(f"Machine: {machine}; {recaffe.num_threads()} threads. Accuracy: top-1 on {n_img} CIFAR-10 test "
             f"images (a seeded class-balanced sample below 10,000) (Caffe preprocessing: RGB minus the per-pixel training mean); timing: batch {args.batch}, {runs} "
             f"interleaved forwards per net, medians.\n\n{PAPER}")
    rep.record.update({"machine": machine, "threads": recaffe.num_threads(), "images": n_img, "runs": runs,
                       "timing_batch": args.batch})

    ds = cifar10("test")
    ds = ds if n_img >= len(ds) else ds.stratified(n_img // len(ds.class_names), seed=0)  # the files are class-sorted
    x = presets.cifar10_caffe(ds.arrays())
    y = np.asarray(ds.labels)
    sensitivity, tradeoff, tradeoff_ft, missing, findings, final_ft = {}, {}, {}, {}, {}, {}
    finetune_data, ft_note = None, None
    if args.no_finetune:
        ft_note = "fine-tuning skipped (--no-finetune)"
    else:
        from recaffe.train import torch_available
        ok, why = torch_available()
        if ok:
            from recaffe.train import dataset_arrays
            n_train = args.ft_images or (5000 if args.quick else 50000)
            tr = cifar10("train")
            finetune_data = dataset_arrays(tr if n_train >= len(tr) else tr.stratified(n_train // 10, seed=0))
        else:
            ft_note = f"no fine-tuning: {why}"
            rep.text(ft_note)
    models = model_files()
    if args.models:
        models = {k: v for k, v in models.items() if k in args.models.split(",")}
    plotted = []
    for name, files in models.items():
        if isinstance(files, str):
            missing[name] = files
            rep.text(f"**{name}**: not measured: {files}")
            continue
        param, weights = recaffe.load(str(files[0]), str(files[1]))
        try:
            base = accuracy(param, weights, x, y)
        except recaffe.RecaffeError as e:
            missing[name] = f"cannot run: {e}"
            rep.text(f"**{name}**: not measured: {e}")
            continue
        convs = [l.name for l in param.layer if l.type == "Convolution"]
        rows, drops, marks = [], {}, {}
        from tqdm import tqdm
        for conv in tqdm(convs, desc=f"sensitivity {name}", leave=False):
            p2, w2, r = vip(param, weights, [conv])
            acc = accuracy(p2, w2, x, y)
            drops[conv] = 100 * (base - acc)
            marks[conv] = pre_pool(p2, r["sites"][0])
            rows.append([conv + (" (pool)" if marks[conv] else ""), 100 * base, 100 * acc, drops[conv]])
        sensitivity[name] = drops
        rep.table(f"{name}: ViP after one conv, no fine-tuning (baseline top-1 {100 * base:.2f}%)",
                  ["conv", "baseline %", "with ViP %", "drop (points)"], rows)
        # the paper's two findings
        depth = list(range(len(convs)))
        rho = spearman(depth, [drops[c] for c in convs])
        pool_d = [drops[c] for c in convs if marks[c]]
        other_d = [drops[c] for c in convs if not marks[c]]
        f = {"depth_vs_drop_spearman": rho,
             "mean_drop_pre_pool": float(np.mean(pool_d)) if pool_d else None,
             "mean_drop_other": float(np.mean(other_d)) if other_d else None}
        later = "holds" if rho <= -0.3 else ("does not hold" if rho >= 0.3 else "shows no clear trend either way")
        if pool_d and other_d:
            pool_txt = ("holds" if f["mean_drop_pre_pool"] < f["mean_drop_other"] else "does not hold") + \
                f" (mean drop {f['mean_drop_pre_pool']:.2f} before a pooling vs {f['mean_drop_other']:.2f} elsewhere)"
        else:
            pool_txt = "cannot be tested here (" + ("every conv feeds a pooling layer" if pool_d else
                                                    "no conv feeds a pooling layer") + ")"
        rep.text(f"{name}: 'later layers are less sensitive' {later} (Spearman rank correlation of depth and drop "
                 f"{rho:+.2f}); 'pre-pool layers are least sensitive' {pool_txt}.")
        findings[name] = f
        plotted.append((name, convs, drops, marks, base))

        # progressive insertion in order of increasing sensitivity (no fine-tuning)
        order = sorted(convs, key=lambda c: drops[c])
        configs = {"original": (param, weights)}
        for k in range(1, len(order) + 1):
            configs[f"{k} ViP"] = vip(param, weights, order[:k])[:2]
        nets = {k: recaffe.Net(p, w) for k, (p, w) in configs.items()}
        for n in nets.values():
            n.set_input(**{n.inputs[0]: x[:args.batch]})
        t = interleaved_nets(nets, iterations=runs, warmup=1, progress=True)
        t0 = t["original"].total.median
        points = []
        trows = []
        for k in range(1, len(order) + 1):
            key = f"{k} ViP"
            acc = accuracy(*configs[key], x, y)
            sp = t0 / t[key].total.median
            points.append((sp, 100 * (base - acc)))
            trows.append([k, order[k - 1], sp, 100 * acc, 100 * (base - acc)])
        tradeoff[name] = points
        rep.table(f"{name}: progressive insertion by sensitivity, no fine-tuning",
                  ["ViP layers", "added", "speedup", "top-1 %", "drop (points)"], trows)
        if finetune_data is not None:
            # Algorithm 1, lines 13-17: insert the next layer, fine-tune from the previous round's weights.
            # A net trained with BatchNorm is fine-tuned in its BN form (models/<name>/train_<name>.*) and folded
            # for scoring: its folded deploy form diverged at every learning rate from 1e-4 up (even without ViP).
            from recaffe.train import dataset_arrays, finetune, finetune_recipe, fold_batchnorm
            bn = bn_files(name)
            ft_param, w_cur = recaffe.load(*bn) if bn else (param, weights)
            ft_points, frows, rounds = [], [], {}
            for k in range(1, len(order) + 1):
                p_k, w_k, _ = vip(ft_param, w_cur, order[:k])
                recipe = finetune_recipe(epochs=args.ft_epochs, lr=args.ft_lr, threads=max(1, recaffe.num_threads()),
                                         eval_limit=0, seed=k, **finetune_augmentation(name))
                res = finetune(p_k, w_k, finetune_data, recipe, progress=True)
                w_cur = res.weights()
                rounds[k] = (p_k, w_cur)
                acc = accuracy(*(fold_batchnorm(p_k, w_cur) if bn else (p_k, w_cur)), x, y)
                ft_points.append((points[k - 1][0], 100 * (base - acc)))
                frows.append([k, order[k - 1], points[k - 1][0], 100 * acc, 100 * (base - acc), res.seconds / 60])
            tradeoff_ft[name] = ft_points
            fast = [k for k in rounds if points[k - 1][0] >= args.final_ft_at]
            if args.final_ft_epochs > 0 and fast:
                # the first step at the speed of interest, fine-tuned longer on the whole training set
                k = fast[0]
                p_k, w_k = rounds[k]
                lr = args.final_ft_lr or args.ft_lr
                recipe = finetune_recipe(epochs=args.final_ft_epochs, lr=lr, threads=max(1, recaffe.num_threads()),
                                         eval_limit=0, seed=100 + k, **finetune_augmentation(name))
                res = finetune(p_k, w_k, dataset_arrays(cifar10("train")), recipe, progress=True)
                acc = accuracy(*(fold_batchnorm(p_k, res.weights()) if bn else (p_k, res.weights())), x, y)
                final_ft[name] = {"vip_layers": k, "speedup": points[k - 1][0], "top1": acc,
                                  "drop": 100 * (base - acc), "epochs": args.final_ft_epochs, "lr": lr,
                                  "minutes": res.seconds / 60}
                tradeoff_ft[name] = ft_points + [(points[k - 1][0], 100 * (base - acc))]
                frows.append([f"{k} (+{args.final_ft_epochs:g} epochs)", "", points[k - 1][0], 100 * acc,
                              100 * (base - acc), res.seconds / 60])
            rep.table(f"{name}: progressive insertion with fine-tuning ({args.ft_epochs} epoch(s) on "
                      f"{len(finetune_data[1])} training images, lr {args.ft_lr}, after each insertion"
                      f"{'; fine-tuned with BatchNorm, folded for scoring' if bn else ''})",
                      ["ViP layers", "added", "speedup", "top-1 %", "drop (points)", "fine-tune min"], frows)

    # --- figures: sensitivity bars (Fig. 2/5 style) and the trade-off curve (Fig. 4/6 style) ---
    if plotted:
        fig, axes = rep.figure(1, len(plotted), figsize=(4.2 * len(plotted), 3.6), squeeze=False)
        for ax, (name, convs, drops, marks, base) in zip(axes[0], plotted):
            ax.bar(range(len(convs)), [drops[c] for c in convs],
                   color=["tab:green" if marks[c] else "tab:blue" for c in convs])
            ax.set_xticks(range(len(convs)), [c + ("\npool" if marks[c] else "") for c in convs], rotation=60,
                          fontsize=7)
            ax.set_ylabel("top-1 drop (points)")
            ax.set_title(f"{name} (base {100 * base:.1f}%)", fontsize=9)
        rep.save_figure(fig, "sensitivity")
        fig, ax = rep.figure(figsize=(5.5, 3.8))
        for i, (name, pts) in enumerate(tradeoff.items()):
            ax.plot([p[0] for p in pts], [-p[1] for p in pts], "o--", color=f"C{i}", alpha=0.6,
                    label=f"{name} (no fine-tuning)")
            if name in tradeoff_ft:
                ft = tradeoff_ft[name]
                ax.plot([p[0] for p in ft], [-p[1] for p in ft], "s-", color=f"C{i}", label=f"{name} (fine-tuned)")
        ax.axvline(1.77, color="tab:red", ls="--", lw=1, label="paper All-CNN: 1.77x within 4 points")
        ax.axhline(-4, color="tab:red", ls=":", lw=1)
        ax.set_xlabel("measured speedup (CPU)")
        ax.set_ylabel("top-1 change (points)")
        ax.legend(fontsize=7)
        ax.set_title("Speed-accuracy trade-off, progressive ViP insertion")
        rep.save_figure(fig, "tradeoff")

    target = {name: [p for p in pts if p[0] >= 1.77 and p[1] <= 4.0] for name, pts in
              (tradeoff_ft or tradeoff).items()}
    rep.text("Points at >= 1.77x within 4 points of top-1 (the paper's All-CNN figure; "
             f"{'fine-tuned' if tradeoff_ft else 'no fine-tuning'}): "
             + "; ".join(f"{k}: {', '.join(f'{a:.2f}x / {b:+.1f}' for a, b in v) or 'none'}" for k, v in target.items()))
    rep.record.update({"sensitivity": sensitivity, "tradeoff": tradeoff, "tradeoff_finetuned": tradeoff_ft,
                       "final_finetune": final_ft,
                       "findings": findings, "missing": missing, "fine_tuning": ft_note or {
                           "epochs": args.ft_epochs, "lr": args.ft_lr,
                           "images": len(finetune_data[1]) if finetune_data is not None else 0}})
    rep.write()
    chosen = tradeoff_ft or tradeoff
    flat_tradeoff = {k: [list(p) for p in v] for k, v in chosen.items()}
    update_vip_summary(args.out, {"sensitivity": sensitivity, "tradeoff": flat_tradeoff,
                                  "tradeoff_no_finetune": {k: [list(p) for p in v] for k, v in tradeoff.items()}},
                       {"sensitivity": f"top-1 drop in points, ViP after one conv, no fine-tuning, {n_img} CIFAR-10 "
                                       f"test images; models not measured: {missing or 'none'}",
                        "tradeoff": "(speedup, top-1 drop in points) per progressive insertion step "
                                    + (f"with fine-tuning after each insertion ({args.ft_epochs} epoch(s))"
                                       if tradeoff_ft else f"WITHOUT fine-tuning ({ft_note})")})


if __name__ == "__main__":
    main()
