"""The CUDA backend's checks on a real GPU (issue 10), in one run.

Needs an NVIDIA GPU and a build with the CUDA backend:

    RECAFFE_CUDA=ON pip install ".[test]" && python experiments/gpu_checks.py --quick

It measures, writing results/gpu/gpu_checks.{md,json,png} with the device, driver and CUDA version:
  1. whole nets (VGG16, GoogLeNet, ResNet-50, seeded weights): GPU vs CPU outputs, max relative error;
  2. the reorder paper's GPU rows (its Table 1): VGG16 and VGG19 at batch 1, 2, 4, 8, 16, activation
     time before/after the swap and the total, interleaved, CUDA-event timed per layer; exactness on the
     GPU (original and reordered outputs identical);
  3. ViP on VGG16 on the GPU: speedup after each of the paper's grouped rounds;
  4. an anchor: the same VGG16 in PyTorch with cuDNN on the same GPU (batch 1 and 16), when PyTorch
     with CUDA is installed, and recaffe's time relative to it.
Without a GPU it says why and exits with status 2.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import recaffe
from recaffe.bench import interleaved_nets, describe_machine
from recaffe.report import Report

ROOT = Path(__file__).resolve().parents[1]
PROTO = ROOT / "prototxt"
PAPER_REORDER_GPU = {"vgg16": {1: 3.0, 2: 3.1, 4: 2.0, 8: 1.7, 16: 1.2}}  # activation speedup, PAPERS.md §1
VIP_ROUNDS = [[13, 12, 10, 7, 2, 4], [11, 9, 8], [1], [3, 5, 6]]  # the paper's grouped rounds (VGG16 convs)
DEVICE = "cuda"  # --device cpu runs the same code paths on the CPU (a dry run of this script)
VGG16_CONVS = ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
               "conv4_1", "conv4_2", "conv4_3", "conv5_1", "conv5_2", "conv5_3"]


def device_description() -> dict:
    info = {"machine": describe_machine()}
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20).stdout.strip()
        info["gpu"], info["driver"] = [s.strip() for s in out.splitlines()[0].split(",")]
    except (OSError, IndexError, ValueError, subprocess.SubprocessError) as e:
        info["gpu"] = f"unknown ({e})"
    try:
        out = subprocess.run(["nvcc", "--version"], capture_output=True, text=True, timeout=20).stdout
        info["cuda"] = out.strip().splitlines()[-1]
    except (OSError, IndexError, subprocess.SubprocessError):
        info["cuda"] = "unknown"
    return info


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / max(float(np.abs(b).max()), 1e-30))


def with_batch(proto: Path, batch: int):
    param = recaffe.read_net(proto)
    for layer in param.layer:
        if layer.type == "Input":
            for shape in layer.input_param.shape:
                shape.dim[0] = batch
    return param


def whole_nets(rep: Report, nets: list[str]) -> None:
    rows, rec = [], {}
    rng = np.random.default_rng(0)
    for name in nets:
        cpu = recaffe.Net(PROTO / f"{name}.prototxt")
        w = recaffe.random_weights(cpu, seed=0)
        cpu.copy_from(w)
        gpu = recaffe.Net(PROTO / f"{name}.prototxt", w, device=DEVICE)
        x = rng.uniform(-100, 100, cpu.blobs[cpu.inputs[0]].shape).astype(np.float32)
        a = cpu.forward(**{cpu.inputs[0]: x})
        b = gpu.forward(**{gpu.inputs[0]: x})
        err = max(rel_err(b[k], a[k]) for k in a)
        kinds = gpu.layer_backends()
        fallback = sorted({t for n, t in zip(gpu.layer_names, gpu.layer_types) if kinds[n] != "gpu"})
        rec[name] = {"max_rel_err": err, "cpu_fallback_layers": fallback}
        rows.append([name, err, "yes" if err <= 1e-4 else "NO", ", ".join(fallback) or "none"])
    rep.table("Whole nets, GPU vs CPU (seeded weights, one input in [-100, 100])",
              ["net", "max rel. error", "≤ 1e-4", "layer types on the CPU fallback"], rows)
    rep.record["whole_nets"] = rec


def reorder_rows(rep: Report, models: list[str], batches: list[int], iterations: int) -> None:
    from recaffe.transforms import reorder_activation_pooling
    rows, rec = [], {}
    for model in models:
        for batch in batches:
            param = with_batch(PROTO / f"{model}.prototxt", batch)
            w = recaffe.random_weights(param, seed=0)
            new, w2, report = reorder_activation_pooling(param, w)
            nets = {"original": recaffe.Net(param, w, device=DEVICE),
                    "reordered": recaffe.Net(new, w2, device=DEVICE)}
            x = np.random.default_rng(batch).uniform(-100, 100, nets["original"].blobs["data"].shape)
            outs = {k: n.forward(data=x.astype(np.float32)) for k, n in nets.items()}
            diff = max(float(np.abs(outs["original"][k] - outs["reordered"][k]).max()) for k in outs["original"])
            t = interleaved_nets(nets, iterations=iterations, warmup=3)
            acts = [a for s in report.sites for a in s.activations]
            before = sum(t["original"].layer(a).median for a in acts)
            after = sum(t["reordered"].layer(a).median for a in acts)
            total0, total1 = t["original"].total.median, t["reordered"].total.median
            paper = PAPER_REORDER_GPU.get(model, {}).get(batch)
            rec[f"{model}/b{batch}"] = {"activation_ms": [before, after], "activation_speedup": before / after,
                                        "paper_activation_speedup": paper, "total_ms": [total0, total1],
                                        "max_abs_diff": diff}
            rows.append([model, batch, paper, before / after, total0, total1, (total1 - total0) / total0, diff])
            print(f"  {model} batch {batch}: activation {before / after:.2f}x, total {total0:.2f} -> {total1:.2f} ms")
    rep.table("Reorder on the GPU (the paper's Table 1 GPU rows); medians of CUDA-event layer times",
              ["model", "batch", "paper act. speedup", "ours", "total before ms", "after ms", "total change",
               "max |Δ| output"], rows)
    rep.record["reorder_gpu"] = rec


def vip_rounds(rep: Report, iterations: int) -> None:
    from recaffe.transforms import vip
    param = recaffe.read_net(PROTO / "vgg16.prototxt")
    w = recaffe.random_weights(param, seed=0)
    nets = {"original": recaffe.Net(param, w, device=DEVICE)}
    acc: list[str] = []
    for i, group in enumerate(VIP_ROUNDS, 1):
        acc = acc + [VGG16_CONVS[j - 1] for j in group]
        new, w2, _ = vip(param, w, layers=acc)
        nets[f"round {i}"] = recaffe.Net(new, w2, device=DEVICE)
    t = interleaved_nets(nets, iterations=iterations, warmup=3)
    base = t["original"].total.median
    rows = [[k, v.total.median, base / v.total.median, v.total.nsr] for k, v in t.items()]
    rep.table("ViP on VGG16 on the GPU, batch 1 (speedup over the original after each grouped round)",
              ["net", "median ms", "speedup", "nsr"], rows)
    rep.record["vip_gpu_round_speedup"] = [base / t[f"round {i}"].total.median for i in range(1, 5)]


def pytorch_anchor(rep: Report, batches: list[int], iterations: int) -> None:
    try:
        import torch
        from recaffe.train import TorchNet
    except ImportError as e:
        rep.record["pytorch_anchor"] = f"skipped: {e}"
        print(f"  PyTorch anchor skipped: {e}")
        return
    if DEVICE == "cpu" or not torch.cuda.is_available():
        rep.record["pytorch_anchor"] = "skipped: torch has no CUDA device"
        return
    torch.backends.cudnn.benchmark = True
    rows, rec = [], {}
    for batch in batches:
        param = with_batch(PROTO / "vgg16.prototxt", batch)
        w = recaffe.random_weights(param, seed=0)
        ours = recaffe.Net(param, w, device=DEVICE)
        tnet = TorchNet(param, w).cuda().eval()
        x = torch.randn(tuple(ours.blobs["data"].shape), device=DEVICE)
        times = {"recaffe": [], "pytorch": []}
        with torch.no_grad():
            for r in range(iterations + 3):
                torch.cuda.synchronize()
                t0 = time.perf_counter(); tnet(x); torch.cuda.synchronize()
                tp = (time.perf_counter() - t0) * 1e3
                t0 = time.perf_counter(); ours.forward(); tr = (time.perf_counter() - t0) * 1e3
                if r >= 3:
                    times["pytorch"].append(tp); times["recaffe"].append(tr)
        med = {k: float(np.median(v)) for k, v in times.items()}
        rec[batch] = med | {"ratio": med["recaffe"] / med["pytorch"]}
        rows.append([batch, med["recaffe"], med["pytorch"], med["recaffe"] / med["pytorch"]])
    rep.table("Anchor: VGG16 forward, recaffe (im2col + cuBLAS) vs PyTorch (cuDNN), wall ms incl. sync",
              ["batch", "recaffe ms", "PyTorch ms", "recaffe / PyTorch"], rows)
    rep.record["pytorch_anchor"] = rec


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="results/gpu")
    ap.add_argument("--quick", action="store_true", help="fewer repeats and batches (about two minutes)")
    ap.add_argument("--iterations", type=int, default=None, help="timed forwards per net (default 50, --quick 10)")
    ap.add_argument("--device", default="cuda", help="cuda (default); cpu only to dry-run this script")
    args = ap.parse_args(argv)
    global DEVICE
    DEVICE = args.device
    ok, why = recaffe.cuda_available()
    if not ok and DEVICE != "cpu":
        print(f"gpu_checks: no GPU to check on: {why}", file=sys.stderr)
        return 2
    iters = args.iterations or (10 if args.quick else 50)
    batches = [1, 4, 16] if args.quick else [1, 2, 4, 8, 16]
    rep = Report("gpu_checks", out=args.out, title="CUDA backend checks on a real GPU")
    rep.record["device"] = device_description()
    print(rep.record["device"])
    print("1/4 whole nets GPU vs CPU"); whole_nets(rep, ["vgg16", "googlenet", "resnet50"])
    print("2/4 reorder GPU rows"); reorder_rows(rep, ["vgg16", "vgg19"], batches, iters)
    print("3/4 ViP rounds on the GPU"); vip_rounds(rep, iters)
    print("4/4 PyTorch cuDNN anchor"); pytorch_anchor(rep, [1, 16], iters)
    fig, ax = rep.figure()
    rec = rep.record["reorder_gpu"]
    for model in ("vgg16", "vgg19"):
        bs = [b for b in batches if f"{model}/b{b}" in rec]
        ax.plot(bs, [rec[f"{model}/b{b}"]["activation_speedup"] for b in bs], "o-", label=f"{model} (ours)")
    paper = PAPER_REORDER_GPU["vgg16"]
    ax.plot(list(paper), list(paper.values()), "k--", label="VGG16 (paper)")
    ax.set_xscale("log", base=2); ax.set_xlabel("batch"); ax.set_ylabel("activation speedup after reorder")
    ax.legend(); rep.save_figure(fig)
    rep.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
