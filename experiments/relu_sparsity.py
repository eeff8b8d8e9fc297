#!/usr/bin/env python3
"""ReLU sparsity at inference (paper 2, Figure 2): the fraction of zeros after every ReLU of real
trained models on real test images, and the fraction of zeros each convolution actually reads
(what inverse sparse convolution can skip).

The paper measured its Figure 2 during training (LeNet/MNIST, AlexNet/CIFAR-10, AlexNet and
GoogLeNet/ImageNet; "many ReLU layers more than 0.7, some about 0.95"); the trained AlexNet and
GoogLeNet weights are not obtainable here, so this runs Caffe's own trained LeNet (MNIST test set)
and cifar10_quick / cifar10_full (CIFAR-10 test images), forward only.

    python experiments/relu_sparsity.py --quick     # 1,000 MNIST + 500 CIFAR images, about a minute
    python experiments/relu_sparsity.py             # the full test sets (needs the 50k-image mean: slower)

Results: results/relu_sparsity.{md,json,png}.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import recaffe  # noqa: E402
from recaffe.bench import describe_machine  # noqa: E402
from recaffe.errors import UnknownLayerError  # noqa: E402
from recaffe.report import Report  # noqa: E402
from trained_models import available_project_models, trained_models  # noqa: E402

PAPER_TEXT = ("paper, Fig. 2 (during training, 40 epochs): ReLU outputs 0.5–0.95 zeros, many layers above 0.7, "
              "some about 0.95; the paper's ISC wins from 0.9")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("--models", default=None, help="comma-separated model names (default lenet, cifar10_quick, "
                                                  "cifar10_full and the trained models/ of the evaluation issue "
                                                  "that exist: vgg16_cifar, allcnn_c)")
    p.add_argument("--images", type=int, help="test images per model (default all; --quick: 1000 MNIST, "
                                              "500 CIFAR-10 (50 per class))")
    p.add_argument("--threads", type=int, default=0, help="threads (default all cores)")
    p.add_argument("--out", default=str(ROOT / "results"), help="output folder (default results/)")
    p.add_argument("--quick", action="store_true", help="fewer images (about a minute)")
    return p.parse_args(argv)


def overwritten_later(net: recaffe.Net, index: int, blob: str) -> bool:
    """Does a layer after `index` write `blob` again (in place), so that its final value differs?"""
    tops = list(net.top_names.values())
    return any(blob in t for t in tops[index + 1:])


def measure(model, images: int | None, quick: bool):
    net = recaffe.Net(model.prototxt, model.caffemodel)
    ds = model.dataset
    n = len(ds) if images is None else min(images, len(ds))
    ds = ds.stratified(n // len(ds.class_names), seed=0) if n < len(ds) and model.name != "lenet" else ds.head(n)
    names, types = net.layer_names, net.layer_types
    tops, bottoms = net.top_names, net.bottom_names
    relus = [(i, name, tops[name][0]) for i, (name, t) in enumerate(zip(names, types)) if t == "ReLU"]
    convs = [(i, name, bottoms[name][0]) for i, (name, t) in enumerate(zip(names, types)) if t == "Convolution"]
    zeros = {name: 0 for _, name, _ in relus + convs}
    total = dict.fromkeys(zeros, 0)
    correct = 0
    from tqdm import tqdm
    for start in tqdm(range(0, len(ds), 100), desc=model.name, leave=False):
        idx = list(range(start, min(len(ds), start + 100)))
        x = model.preprocess(ds.arrays(idx))
        prob = net.forward(data=x)[net.outputs[0]]
        correct += int((prob.reshape(len(idx), -1).argmax(1) == ds.labels[idx]).sum())
        for i, name, blob in relus + convs:
            if overwritten_later(net, i, blob):  # read it right after the layer instead
                data = net.forward(data=x, end=name, blobs=[blob])[blob]
            else:
                data = net.blobs[blob].data
            zeros[name] += int(np.count_nonzero(data == 0))
            total[name] += data.size
    relu_rows = [{"layer": name, "blob": blob, "sparsity": zeros[name] / total[name]} for _, name, blob in relus]
    conv_rows = [{"layer": name, "input": blob, "sparsity": zeros[name] / total[name]} for _, name, blob in convs]
    return {"images": len(ds), "top1": correct / len(ds), "reference_top1": model.reference_top1,
            "relu": relu_rows, "conv_inputs": conv_rows}


def main(argv=None):
    a = parse_args(argv)
    recaffe.set_num_threads(a.threads)
    rep = Report("relu_sparsity", out=a.out, title="ReLU sparsity at inference (ISC paper, Figure 2)")
    rep.text(f"Machine: {describe_machine()}; {recaffe.num_threads()} thread(s). {PAPER_TEXT}.")
    rep.record.update(paper=PAPER_TEXT, models={}, skipped={})
    names = [m for m in a.models.split(",") if m] if a.models else \
        ["lenet", "cifar10_quick", "cifar10_full"] + available_project_models()
    results = {}
    for model in trained_models(names, quick=a.quick):
        limit = a.images or ((1000 if model.name == "lenet" else 500) if a.quick else None)
        try:
            results[model.name] = measure(model, limit, a.quick)
        except UnknownLayerError as e:  # e.g. LRN before the layers work lands
            rep.text(f"{model.name}: skipped — {e}")
            rep.record["skipped"][model.name] = str(e)
            continue
        r = results[model.name]
        rep.record["models"][model.name] = r
        rows = [[model.name, row["layer"], "ReLU output", row["blob"], row["sparsity"]] for row in r["relu"]]
        rows += [[model.name, row["layer"], "conv input", row["input"], row["sparsity"]] for row in r["conv_inputs"]]
        rep.table(f"{model.name}: {r['images']} test images, top-1 {r['top1']:.4f} (reference {r['reference_top1'] if r['reference_top1'] == r['reference_top1'] else '–'})",
                  ["model", "layer", "what", "blob", "fraction of zeros"], rows)
    if not results:
        rep.write()
        return rep.record
    fig, ax = rep.figure(figsize=(max(6, 1.1 * sum(len(r["relu"]) + len(r["conv_inputs"]) for r in results.values())), 4.5))
    x, ticks, labels = 0, [], []
    for mi, (name, r) in enumerate(results.items()):
        for row in r["relu"]:
            ax.bar(x, row["sparsity"], color="tab:blue", label="ReLU output" if x == 0 else None)
            ticks.append(x)
            labels.append(f"{name}\n{row['layer']}")
            x += 1
        for row in r["conv_inputs"]:
            ax.bar(x, row["sparsity"], color="tab:orange", hatch="//",
                   label="convolution input" if not any(l.startswith("conv") for l in ax.get_legend_handles_labels()[1])
                   else None)
            ticks.append(x)
            labels.append(f"{name}\n{row['layer']} in")
            x += 1
        x += 1
    ax.axhline(0.9, color="k", ls=":", lw=1, label="paper: ISC wins from 0.9")
    ax.axhline(0.7, color="gray", ls="--", lw=1, label="paper: many layers above 0.7 (training)")
    ax.set_xticks(ticks, labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("fraction of zeros")
    ax.set_title("Sparsity after ReLUs and at convolution inputs, trained models on test images")
    ax.legend(fontsize=7, loc="upper right")
    rep.save_figure(fig)
    rep.write()
    return rep.record


if __name__ == "__main__":
    main()
