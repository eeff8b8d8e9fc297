#!/usr/bin/env python3
"""Inverse sparse convolution on whole trained networks (paper 2): the automatic policy
(recaffe.transforms.isc_policy — measure each convolution's input sparsity and both engines' times
on sample images, give each layer the faster engine) against the all-GEMM net, on real weights and
real test images: forward-time ratio and whether every prediction stays the same.

    python experiments/isc_whole_nets.py --quick      # LeNet, cifar10_quick, cifar10_full; about a minute
    python experiments/isc_whole_nets.py              # all 10,000 test images per model for the predictions
    python experiments/isc_whole_nets.py --batch 100 --threads 2

Batch 1 and one thread by default (the paper's per-layer setting). The two nets run one forward
each in turn (interleaved) on the same image; the minimum over the runs is reported by default
(--stat median for medians; on a loaded machine long forwards are preempted more often).
Results: results/isc_whole_nets.{md,json,png}.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import recaffe  # noqa: E402
from recaffe.bench import describe_machine, interleaved_nets  # noqa: E402
from recaffe.errors import UnknownLayerError  # noqa: E402
from recaffe.report import Report  # noqa: E402
from recaffe.transforms import isc_policy  # noqa: E402
from trained_models import trained_models  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("--models", default="lenet,cifar10_quick,cifar10_full", help="comma-separated model names")
    p.add_argument("--batch", type=int, default=1, help="images per timed forward (default 1)")
    p.add_argument("--threads", type=int, default=1, help="threads (default 1)")
    p.add_argument("--iterations", type=int, help="timed forwards of each net (default 300, --quick 60)")
    p.add_argument("--images", type=int, help="test images for the prediction check (default all, --quick 1000)")
    p.add_argument("--stat", choices=["min", "median"], default="min", help="statistic of the timed runs")
    p.add_argument("--out", default=str(ROOT / "results"), help="output folder (default results/)")
    p.add_argument("--quick", action="store_true", help="fewer runs and images (about a minute)")
    return p.parse_args(argv)


def compare_predictions(nets: dict, model, limit: int) -> dict:
    ds = model.dataset.head(limit)
    agree, max_diff, correct = 0, 0.0, {k: 0 for k in nets}
    for start in range(0, len(ds), 100):
        idx = list(range(start, min(len(ds), start + 100)))
        x = model.preprocess(ds.arrays(idx))
        outs = {k: n.forward(data=x)[n.outputs[0]].reshape(len(idx), -1) for k, n in nets.items()}
        a, b = outs["all_gemm"], outs["policy"]
        agree += int((a.argmax(1) == b.argmax(1)).sum())
        max_diff = max(max_diff, float(np.abs(a - b).max()))
        for k, o in outs.items():
            correct[k] += int((o.argmax(1) == ds.labels[idx]).sum())
    return {"images": len(ds), "identical_predictions": agree, "all_identical": agree == len(ds),
            "max_abs_prob_diff": max_diff, "top1": {k: v / len(ds) for k, v in correct.items()}}


def run_model(model, a, iters: int, images: int) -> dict:
    ds = model.dataset
    sample = model.preprocess(ds.arrays(range(len(ds) - a.batch, len(ds))))  # the last images: not the timed one
    param, weights, report = isc_policy(model.prototxt, model.caffemodel, {"data": sample},
                                        iterations=max(10, iters // 3), stat=a.stat)
    nets = {"all_gemm": recaffe.Net(model.prototxt, model.caffemodel, engine="gemm"),
            "policy": recaffe.Net(param, model.caffemodel)}
    x = model.preprocess(ds.arrays(range(a.batch)))
    for n in nets.values():
        n.set_input(data=x)
    timing = interleaved_nets(nets, iterations=iters, warmup=3)
    g, p = (getattr(timing[k].total, a.stat) for k in ("all_gemm", "policy"))
    convs = [c.layer for c in report.layers]
    per_conv = {c: {"all_gemm_ms": getattr(timing["all_gemm"].layer(c), a.stat),
                    "policy_ms": getattr(timing["policy"].layer(c), a.stat),
                    "engine": nets["policy"].engine_of(c)} for c in convs}
    preds = compare_predictions(nets, model, images)
    return {"policy": report.to_dict(), "policy_text": str(report), "all_gemm_ms": g, "policy_ms": p,
            "time_ratio": g / p, "per_conv": per_conv, "predictions": preds,
            "conv_share_all_gemm": sum(v["all_gemm_ms"] for v in per_conv.values()) / g}


def main(argv=None):
    a = parse_args(argv)
    iters = a.iterations or (60 if a.quick else 300)
    images = a.images or (1000 if a.quick else 10000)
    recaffe.set_num_threads(a.threads)
    rep = Report("isc_whole_nets", out=a.out, title="Inverse sparse convolution on whole trained networks")
    rep.text(f"Machine: {describe_machine()}; {recaffe.num_threads()} thread(s); batch {a.batch}; {a.stat} of "
             f"{iters} interleaved forwards; load average {os.getloadavg()[0]:.1f}.")
    rep.record.update(threads=recaffe.num_threads(), batch=a.batch, iterations=iters, stat=a.stat, models={},
                      skipped={})
    rows = []
    from tqdm import tqdm
    for model in tqdm(trained_models([m for m in a.models.split(",") if m], quick=a.quick), desc="models"):
        try:
            r = run_model(model, a, iters, images)
        except UnknownLayerError as e:
            rep.text(f"{model.name}: skipped — {e}")
            rep.record["skipped"][model.name] = str(e)
            continue
        rep.record["models"][model.name] = r
        rep.text(f"\n{model.name}:\n{r['policy_text']}")
        pr = r["predictions"]
        rows.append([model.name, ", ".join(c for c, v in r["per_conv"].items() if v["engine"] == "isc") or "none",
                     r["all_gemm_ms"], r["policy_ms"], r["time_ratio"], r["conv_share_all_gemm"],
                     f"{pr['identical_predictions']}/{pr['images']}", pr["max_abs_prob_diff"],
                     pr["top1"]["all_gemm"], pr["top1"]["policy"]])
    rep.table("Automatic ISC policy vs all-GEMM (times in ms per forward)",
              ["model", "isc layers", "all-GEMM", "policy", "speedup", "conv share of time", "same top-1",
               "max |Δprob|", "top-1 all-GEMM", "top-1 policy"], rows,
              note="speedup = all-GEMM time / policy time for the whole forward; conv share = the convolutions' "
                   "part of the all-GEMM forward (the most ISC can act on).")
    if rows:
        fig, axes = rep.figure(1, len(rows), figsize=(4.5 * len(rows), 4), squeeze=False)
        for ax, (name, r) in zip(axes[0], rep.record["models"].items()):
            convs = list(r["per_conv"])
            idx = np.arange(len(convs))
            ax.bar(idx - 0.2, [r["per_conv"][c]["all_gemm_ms"] for c in convs], 0.4, label="all-GEMM")
            ax.bar(idx + 0.2, [r["per_conv"][c]["policy_ms"] for c in convs], 0.4, label="policy")
            ax.set_xticks(idx, [f"{c}\n({r['per_conv'][c]['engine']})" for c in convs])
            ax.set_ylabel("ms per forward")
            ax.set_title(f"{name}: whole net {r['time_ratio']:.2f}x")
            ax.legend()
        rep.save_figure(fig)
    rep.write()
    return rep.record


if __name__ == "__main__":
    main()
