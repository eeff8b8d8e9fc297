"""Engine benchmark (issue 2): recaffe's gemm engine against OpenCV's DNN module on the same Caffe
files, timed interleaved in one run (so machine-load drifts hit both alike), Winograd off in OpenCV
so both run im2col/GEMM-style convolutions. Prints the per-net time ratio, a per-layer-type
breakdown, and each VGG16 convolution's GFLOP/s against a plain sgemm of the same shape.

    python experiments/bench_engine.py --quick     # batch 1, 1 and 2 threads, 3 forwards (~2-4 min here)
    python experiments/bench_engine.py             # batch 1 and 8, 1 and 2 threads, 10 forwards

Weights are seeded random (recaffe.random_weights); speed does not depend on their values.
"""
from __future__ import annotations

import argparse
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

import recaffe
from recaffe import _core
from recaffe.bench import describe_machine, interleaved
from recaffe.report import Report

ROOT = Path(__file__).resolve().parents[1]
NETS = {name: ROOT / "prototxt" / f"{name}.prototxt" for name in ("vgg16", "vgg19", "alexnet", "googlenet", "resnet50")}
# the reference figures for this machine class
PAPER = {"opencv_vgg16_b1_t2_winograd_ms": 95.0, "sgemm_gflops_vgg16": 200.0, "target_fraction_of_sgemm": 0.85,
         "target_ratio_vs_opencv": 1.2}


class Pair:
    """One network loaded in both engines from the same saved files."""

    def __init__(self, name: str, proto: Path, tmp: Path):
        import cv2
        self.name = name
        param, _ = recaffe.load(str(proto))
        weights = recaffe.random_weights(param, seed=0)
        self.net = recaffe.Net(param, weights)
        recaffe.save(param, weights, tmp / f"{name}.prototxt", tmp / f"{name}.caffemodel")
        self.cv = cv2.dnn.readNetFromCaffe(str(tmp / f"{name}.prototxt"), str(tmp / f"{name}.caffemodel"))
        self.cv.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        self.cv.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        self.cv.enableWinograd(False)  # before the first forward
        self.input = self.net.inputs[0]
        cv_names = self.cv.getLayerNames()
        self.cv_types = {n: self.cv.getLayer(n).type for n in cv_names}
        self.cv_names = list(cv_names)
        self.recaffe_layers: list[list[float]] = []
        self.cv_layers: list[np.ndarray] = []

    def set_batch(self, batch: int, rng) -> None:
        shape = (batch,) + self.net.blobs[self.input].shape[1:]
        self.x = rng.uniform(-60, 60, shape).astype(np.float32)
        self.net.set_input(**{self.input: self.x})
        self.cv.setInput(self.x)
        self.recaffe_layers, self.cv_layers = [], []

    def run_recaffe(self) -> None:
        self.recaffe_layers.append(self.net.forward_timed())

    def run_opencv(self) -> None:
        import cv2
        self.cv.forward()
        _, per_layer = self.cv.getPerfProfile()
        self.cv_layers.append(np.asarray(per_layer, np.float64).ravel() * 1e3 / cv2.getTickFrequency())

    def breakdown(self) -> tuple[dict, dict]:
        """Median ms per layer type in each engine (OpenCV fuses ReLU/BatchNorm/Scale into the
        convolution before it, so those types show little or no time there)."""
        ours = defaultdict(float)
        med = np.median(np.asarray(self.recaffe_layers), axis=0)
        for t, ms in zip(self.net.layer_types, med):
            ours[t] += float(ms)
        theirs = defaultdict(float)
        if self.cv_layers:
            med = np.median(np.asarray(self.cv_layers), axis=0)
            names = self.cv_names if len(self.cv_names) == len(med) else self.cv_names[-len(med):]
            for n, ms in zip(names, med):
                theirs[self.cv_types[n]] += float(ms)
        return dict(ours), dict(theirs)


def conv_vs_sgemm(pair: Pair, repeats: int) -> list[list]:
    """Each convolution layer timed interleaved with a plain sgemm of its own GEMM shape,
    [K/g, C/g*kh*kw] x [C/g*kh*kw, Ho*Wo] per image and group (recaffe's threads over
    single-threaded OpenBLAS, as the gemm engine calls it, into a preallocated output): the layer's
    GFLOP/s against that bound."""
    net = pair.net
    rng = np.random.default_rng(0)
    rows = []
    for i, (name, t) in enumerate(zip(net.layer_names, net.layer_types)):
        if t != "Convolution":
            continue
        w = net.params[name][0].shape
        n, k, ho, wo = net.blobs[net.top_names[name][0]].shape
        group = net.blobs[net.bottom_names[name][0]].shape[1] // w[1]
        m_, k_, n_ = k // group, w[1] * w[2] * w[3], ho * wo
        flops = 2.0 * n * group * m_ * k_ * n_
        a = rng.standard_normal((m_, k_), dtype=np.float32)
        b = rng.standard_normal((k_, n_), dtype=np.float32)
        c = np.zeros((m_, n_), np.float32)
        layer_ms: list[float] = []

        def run_layer():
            layer_ms.append(net.forward_timed(start=name, end=name)[i])

        def run_sgemm():
            for _ in range(n * group):
                _core.sgemm_parallel(a, b, c)

        stats = interleaved({"layer": run_layer, "sgemm": run_sgemm}, repeats=repeats, warmup=1)
        conv_ms = float(np.median(layer_ms[1:]))
        conv_gflops = flops / (conv_ms * 1e6)
        sgemm_gflops = flops / (stats["sgemm"].median * 1e6)
        rows.append([name, f"{m_}x{k_}x{n_}", round(conv_ms, 2), round(conv_gflops, 1), round(sgemm_gflops, 1),
                     round(conv_gflops / sgemm_gflops, 3)])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="batch 1 only, 3 forwards per engine")
    ap.add_argument("--out", default="results")
    ap.add_argument("--nets", nargs="+", default=list(NETS), choices=list(NETS))
    ap.add_argument("--batches", nargs="+", type=int, default=None)
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--iterations", type=int, default=None)
    args = ap.parse_args()
    batches = args.batches or ([1] if args.quick else [1, 8])
    iterations = args.iterations or (3 if args.quick else 10)

    import cv2
    from tqdm import tqdm

    rep = Report("bench_engine", out=args.out, title="Engine benchmark: recaffe (gemm) vs OpenCV DNN")
    machine = describe_machine()
    rep.text(f"Machine: {machine}. OpenCV {cv2.__version__} (Winograd off, backend OPENCV/CPU). "
             f"Interleaved forwards, {iterations} per engine after 1 warm-up; medians. Seeded random weights.")
    rep.record.update(machine=machine, opencv=cv2.__version__, iterations=iterations, batches=batches,
                      threads=args.threads, paper=PAPER, runs={}, breakdown={}, vgg16_conv={})
    rng = np.random.default_rng(0)
    rows, breakdown_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in tqdm(args.nets, desc="nets"):
            pair = Pair(name, NETS[name], Path(tmp))
            for threads in args.threads:
                recaffe.set_num_threads(threads)
                cv2.setNumThreads(threads)
                for batch in batches:
                    pair.set_batch(batch, rng)
                    stats = interleaved({"recaffe": pair.run_recaffe, "opencv": pair.run_opencv},
                                        repeats=iterations, warmup=1)
                    # warm-up samples were appended too: keep the timed ones only
                    pair.recaffe_layers = pair.recaffe_layers[-iterations:]
                    pair.cv_layers = pair.cv_layers[-iterations:]
                    r, o = stats["recaffe"], stats["opencv"]
                    ratio = r.median / o.median
                    rows.append([name, batch, threads, round(r.median, 1), round(r.nsr, 3), round(o.median, 1),
                                 round(o.nsr, 3), round(ratio, 3), "yes" if ratio <= PAPER["target_ratio_vs_opencv"] else "no"])
                    rep.record["runs"][f"{name}/b{batch}/t{threads}"] = {"recaffe": r.to_dict(), "opencv": o.to_dict(),
                                                                         "ratio": ratio}
                    if batch == batches[0] and threads == max(args.threads):
                        ours, theirs = pair.breakdown()
                        rep.record["breakdown"][name] = {"recaffe": ours, "opencv": theirs}
                        for t in sorted(set(ours) | set(theirs), key=lambda t: -max(ours.get(t, 0), theirs.get(t, 0))):
                            if max(ours.get(t, 0), theirs.get(t, 0)) >= 0.05:
                                breakdown_rows.append([name, t, round(ours.get(t, 0.0), 2), round(theirs.get(t, 0.0), 2)])
                    if name == "vgg16" and batch == batches[0]:
                        conv_rows = conv_vs_sgemm(pair, repeats=max(5, iterations))
                        rep.record["vgg16_conv"][f"t{threads}"] = conv_rows
                        fr = [row[-1] for row in conv_rows]
                        rep.table(f"VGG16 convolutions, batch {batch}, {threads} thread(s): recaffe gemm vs sgemm bound",
                                  ["layer", "GEMM M x K x N", "conv ms", "conv GFLOP/s", "sgemm GFLOP/s", "fraction"],
                                  conv_rows,
                                  note=f"Target: >= {PAPER['target_fraction_of_sgemm']:.0%} of the sgemm bound on every layer "
                                       f"(issue 2; the issue quotes ~{PAPER['sgemm_gflops_vgg16']:.0f} GFLOP/s sgemm on a quiet "
                                       f"machine). Here: min {min(fr):.2f}, median {np.median(fr):.2f}.")
            del pair
    rep.table("recaffe (gemm) vs OpenCV DNN (Winograd off), forward ms",
              ["net", "batch", "threads", "recaffe ms", "nsr", "OpenCV ms", "nsr", "ratio", "<= 1.2x"], rows,
              note="ratio = recaffe / OpenCV median; target <= 1.2 on every net (issue 2). nsr = std/mean of the "
                   "samples. The issue quotes OpenCV VGG16 batch 1, 2 threads at ~95 ms *with* Winograd on a quiet "
                   "machine; absolute times here are inflated by other jobs sharing the 2 cores, so read the ratios.")
    rep.table("Per-layer-type breakdown (first batch, most threads), median ms", ["net", "layer type", "recaffe",
                                                                                  "OpenCV"], breakdown_rows,
              note="OpenCV fuses ReLU, BatchNorm and Scale into the preceding convolution (their time shows there).")
    fig, ax = rep.figure(figsize=(8, 3.5))
    labels = [f"{r[0]}\nb{r[1]} t{r[2]}" for r in rows]
    ax.bar(range(len(rows)), [r[7] for r in rows], color="tab:blue")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.axhline(PAPER["target_ratio_vs_opencv"], color="tab:red", ls="--", lw=0.8, label="target 1.2x")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(labels, fontsize=6)
    ax.set_ylabel("recaffe / OpenCV time")
    ax.legend(fontsize=7)
    rep.save_figure(fig)
    rep.write()


if __name__ == "__main__":
    main()
