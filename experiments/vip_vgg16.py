"""ViP on VGG16 and ResNet-50 (seeded weights) on the CPU: the measured speedup after each of the
paper's grouped rounds, and the share of the network's time the interpolation layers take.

VGG16's convs are numbered 1..13 as in the paper: round 1 adds ViP after {13, 12, 10, 7, 2, 4}, round 2
after {11, 9, 8}, round 3 after {1}, round 4 after the rest (all 13; the authors' own round-4 file
leaves out conv2_1, shown as an extra row). All nets are timed interleaved in one run (one forward of
each in turn), medians and the noise-to-signal ratio (std / mean) over --runs forwards (the paper: 50).
The implicit-interpolation variant of round 4 (ViPConvolution / ViPPooling, beyond the paper) runs
alongside; its interpolation cost is what each fused layer takes beyond the plain layer it replaces.
ResNet-50 gets ViP after every convolution (as VGG16's round 4) and after its 3x3 convolutions only.

    python experiments/vip_vgg16.py --quick     # ~3 min here: batch 1, 7 runs
    python experiments/vip_vgg16.py             # 50 runs (the paper's count)
Writes results/vip_vgg16.{md,json,png} and the speedup fields of results/vip.json.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import recaffe
from recaffe.bench import Stats, describe_machine, interleaved_nets
from recaffe.report import Report
from recaffe.transforms import vip

sys.path.insert(0, str(Path(__file__).resolve().parent))
from vip_summary import update_vip_summary  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VGG_CONVS = ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3", "conv4_1", "conv4_2",
             "conv4_3", "conv5_1", "conv5_2", "conv5_3"]
ROUND_GROUPS = [[13, 12, 10, 7, 2, 4], [11, 9, 8], [1], [3, 5, 6]]  # the paper's Section 4.1, 1-based
PAPER = {"vgg16_desktop": 2.1, "vgg16_mobile_cpu": 3.16, "resnet50_gpu": 1.53, "resnet50_mobile_cpu": 2.3,
         "cpu_nsr": 0.006}
VIP_TYPES = ("ViP", "Interp")


def rounds() -> list[list[str]]:
    out, acc = [], []
    for g in ROUND_GROUPS:
        acc = acc + [VGG_CONVS[i - 1] for i in g]
        out.append(list(acc))
    return out


def vip_share(t) -> float:
    """Median over forwards of (time in ViP layers / total)."""
    idx = [i for i, ty in enumerate(t.layer_types) if ty in VIP_TYPES]
    if not idx:
        return 0.0
    return float(np.median([sum(t.per_layer[i][k] for i in idx) / t.totals[k] for k in range(len(t.totals))]))


def time_configs(configs: dict, weights, batch: int, runs: int, label: str):
    """{name: (param, report)} -> ({name: NetTiming}, {name: Net}), all nets timed interleaved."""
    nets = {}
    for name, (param, _) in configs.items():
        net = recaffe.Net(param, weights)
        shape = (batch,) + tuple(net.blobs[net.inputs[0]].shape[1:])
        net.set_input(**{net.inputs[0]: np.random.default_rng(0).standard_normal(shape).astype(np.float32)})
        nets[name] = net
    print(f"timing {label}: {len(nets)} nets x {runs} forwards, interleaved", flush=True)
    return interleaved_nets(nets, iterations=runs, warmup=1, progress=True), nets


def macs(net) -> float:
    """Multiply-accumulates of one forward (convolutions and inner products)."""
    total = 0.0
    for name, ty in zip(net.layer_names, net.layer_types):
        if ty in ("Convolution", "ViPConvolution", "InnerProduct"):
            w = net.params[name][0].shape   # every output value costs prod(w[1:]) multiply-accumulates
            total += float(np.prod(net.blobs[net.top_names[name][0]].shape)) * float(np.prod(w[1:]))
    return total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results")
    ap.add_argument("--quick", action="store_true", help="7 runs per net (about 3 minutes on 2 busy cores)")
    ap.add_argument("--runs", type=int, default=None, help="forwards per net (default 50, --quick 7)")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="0 = all cores")
    ap.add_argument("--no-resnet", action="store_true")
    args = ap.parse_args(argv)
    runs = args.runs or (7 if args.quick else 50)
    recaffe.set_num_threads(args.threads)
    rep = Report("vip_vgg16", out=args.out, title="ViP: VGG16 and ResNet-50 speedup per round on the CPU")
    machine = describe_machine()
    rep.text(f"Machine: {machine}; {recaffe.num_threads()} threads; batch {args.batch}; {runs} interleaved forwards "
             f"per net; seeded weights (timing does not depend on the values).")
    rep.record.update({"machine": machine, "threads": recaffe.num_threads(), "batch": args.batch, "runs": runs})

    # --- VGG16 ---
    param, _ = recaffe.load(str(ROOT / "prototxt" / "vgg16.prototxt"))
    weights = recaffe.random_weights(param, seed=0)
    configs = {"original": (param, None)}
    for i, layers in enumerate(rounds(), 1):
        configs[f"round {i}"] = vip(param, weights, layers)[::2]
    authors_r4 = [c for c in VGG_CONVS if c != "conv2_1"]
    configs["authors' round 4 (no conv2_1)"] = vip(param, weights, authors_r4)[::2]
    configs["round 4, implicit"] = vip(param, weights, VGG_CONVS, implicit=True)[::2]
    timing, vgg_nets = time_configs(configs, weights, args.batch, runs, "VGG16")
    mac = {k: macs(n) for k, n in vgg_nets.items()}
    base = timing["original"].total.median
    base_conv = timing["original"].by_type("Convolution").median
    rows, speedups, shares = [], {}, {}
    for name, (p, report) in configs.items():
        t = timing[name]
        conv = Stats([a + b for a, b in zip(t.by_type("Convolution").samples, t.by_type("ViPConvolution").samples)])
        n_vip = 0 if report is None else len(report["sites"])
        speedups[name] = base / t.total.median
        shares[name] = vip_share(t)
        rows.append([name, n_vip, t.total.median, t.total.nsr, speedups[name], mac["original"] / mac[name],
                     base_conv / conv.median, 100 * shares[name]])
    rep.table("VGG16 (224x224): forward time per configuration",
              ["configuration", "ViP layers", "median ms", "NSR", "speedup", "MAC ratio", "conv-time speedup",
               "ViP share %"], rows,
              note=f"Paper: 2.1x on the desktop (after round 4, <1.5% top-5 drop), 3.16x on the mobile CPU; "
                   f"timing NSR {PAPER['cpu_nsr']:.1%} on the CPU. Speedup = original median / configuration median; "
                   f"ViP share = time in ViP layers / network time (median over forwards); MAC ratio = the original's "
                   f"multiply-accumulates / the configuration's (what an ideal implementation would gain).")
    round_speedups = [speedups[f"round {i}"] for i in range(1, 5)]

    # implicit vs explicit interpolation, per (ViP, reader) pair of round 4
    t_exp, t_imp = timing["round 4"], timing["round 4, implicit"]
    irows, pairs = [], {}
    for site in configs["round 4, implicit"][1]["sites"]:
        for reader in site.implicit_readers:
            v, plain, fused = (t_exp.layer(f"lininterp/{site.conv}").median, t_exp.layer(reader).median,
                               t_imp.layer(reader).median)
            pairs[reader] = {"explicit_ms": v + plain, "implicit_ms": fused, "interp_ms": fused - plain}
            irows.append([f"lininterp/{site.conv} + {reader}", v, plain, fused, fused - plain, (v + plain) / fused])
    # the interpolation left in the implicit net: what the fused layers take beyond the plain layers they
    # replace (medians from the same interleaved run), plus any ViP layer that had no fusable reader
    implicit_interp_ms = sum(p["interp_ms"] for p in pairs.values()) + vip_share(t_imp) * t_imp.total.median
    implicit_share = implicit_interp_ms / t_imp.total.median
    mem = {k: vgg_nets[k].memory_bytes() / 2 ** 20 for k in ("round 4", "round 4, implicit")}
    del vgg_nets
    rep.table("Implicit interpolation (beyond the paper): ViP + reader vs the fused ViPConvolution / ViPPooling, "
              "VGG16 round 4",
              ["pair", "ViP ms", "reader ms", "fused ms", "interpolation ms (fused - reader)", "explicit / implicit"],
              irows,
              note=f"Whole net: explicit {t_exp.total.median:.1f} ms, implicit {t_imp.total.median:.1f} ms; memory "
                   f"{mem['round 4']:.0f} MiB vs {mem['round 4, implicit']:.0f} MiB (the full-size maps are never "
                   f"written). Interpolation in the implicit net: {implicit_interp_ms:.2f} ms, "
                   f"{100 * implicit_share:.2f}% of its time (explicit ViP layers: {100 * shares['round 4']:.2f}%). "
                   f"Outputs are bit-identical (tests/test_vip_transform.py).")
    rep.record["implicit"] = {"pairs": pairs, "total_explicit_ms": t_exp.total.median,
                              "total_implicit_ms": t_imp.total.median, "memory_mib": mem,
                              "interp_ms": implicit_interp_ms, "interp_time_share": implicit_share}
    rep.record["vgg16"] = {name: {"median_ms": timing[name].total.median, "nsr": timing[name].total.nsr,
                                  "mac_ratio": mac["original"] / mac[name],
                                  "speedup": speedups[name], "vip_share": shares[name],
                                  "layers": [s.conv for s in (configs[name][1] or {"sites": []})["sites"]]}
                           for name in configs}
    rep.record["vgg16_round_speedup"] = round_speedups

    # --- ResNet-50 ---
    resnet_speedup, resnet_note = None, None
    rproto = ROOT / "prototxt" / "resnet50.prototxt"
    if args.no_resnet:
        resnet_note = "skipped (--no-resnet)"
    elif not rproto.exists() or "BatchNorm" not in recaffe._core.layer_types():
        resnet_note = "prototxt/resnet50.prototxt or the BatchNorm/Scale/Eltwise layers are missing in this build"
    else:
        rparam, _ = recaffe.load(str(rproto))
        rw = recaffe.random_weights(rparam, seed=0)
        convs = [l.name for l in rparam.layer if l.type == "Convolution"]
        k3 = [l.name for l in rparam.layer if l.type == "Convolution" and l.convolution_param.kernel_size
              and l.convolution_param.kernel_size[0] == 3]
        rconfigs = {"original": (rparam, None), "ViP after every conv": vip(rparam, rw, convs)[::2],
                    "ViP after the 3x3 convs": vip(rparam, rw, k3)[::2]}
        rt, _ = time_configs(rconfigs, rw, args.batch, runs, "ResNet-50")
        rbase = rt["original"].total.median
        rrows = []
        for name, (p, report) in rconfigs.items():
            t = rt[name]
            rrows.append([name, 0 if report is None else len(report["sites"]), t.total.median, t.total.nsr,
                          rbase / t.total.median, 100 * vip_share(t)])
        rep.table("ResNet-50 (224x224): forward time", ["configuration", "ViP layers", "median ms", "NSR", "speedup",
                                                         "ViP share %"], rrows,
                  note="Paper: 1.53x on desktop GPUs and 2.3x on the mobile CPU with <4% top-5 drop (after its "
                       "fine-tuning rounds, layer set not listed in the paper).")
        resnet_speedup = rbase / rt["ViP after every conv"].total.median
        rep.record["resnet50"] = {name: {"median_ms": rt[name].total.median, "nsr": rt[name].total.nsr,
                                         "speedup": rbase / rt[name].total.median, "vip_share": vip_share(rt[name])}
                                  for name in rconfigs}
        shares["resnet50 every conv"] = vip_share(rt["ViP after every conv"])

    # --- figure ---
    fig, ax = rep.figure(figsize=(7, 3.6))
    names = [f"round {i}" for i in range(1, 5)]
    ax.bar(range(4), round_speedups, color="tab:blue", label="ours (CPU, measured)")
    ax.axhline(PAPER["vgg16_desktop"], color="tab:red", ls="--", label="paper: 2.1x (desktop, after round 4)")
    ax.axhline(PAPER["vgg16_mobile_cpu"], color="tab:orange", ls=":", label="paper: 3.16x (mobile CPU)")
    ax.set_xticks(range(4), [f"{n}\n({len(r)} ViP)" for n, r in zip(names, rounds())])
    ax.set_ylabel("speedup over VGG16")
    ax.set_title("VGG16 with ViP, grouped rounds")
    for i, s in enumerate(round_speedups):
        ax.text(i, s, f"{s:.2f}x", ha="center", va="bottom")
    ax.legend(fontsize=8, loc="upper left")
    rep.save_figure(fig)

    r4_share = shares["round 4"]
    verdict = "meets" if round_speedups[-1] >= 2.1 else "falls short of"
    rep.text(f"VGG16 with ViP after every conv: {round_speedups[-1]:.2f}x ({verdict} the 2.1x target); the ViP layers "
             f"take {100 * r4_share:.2f}% of the network's time (target <= 2%). Implicit interpolation (round 4): "
             f"{speedups['round 4, implicit']:.2f}x, its interpolation {100 * implicit_share:.2f}% of the network's "
             f"time.")
    rep.write()
    update_vip_summary(args.out, {"vgg16_round_speedup": round_speedups, "resnet50_speedup": resnet_speedup,
                                  "interp_time_share": r4_share, "interp_time_share_implicit": implicit_share},
                       {"vgg16_round_speedup": f"VGG16 seeded weights, batch {args.batch}, {runs} interleaved runs, "
                                               f"{recaffe.num_threads()} threads, {machine}",
                        "interp_time_share": "ViP layers' share of VGG16 round-4 (all 13 convs) forward time",
                        "interp_time_share_implicit": "round 4 with implicit interpolation: (fused layers' time "
                                                      "beyond the plain layers + ViP layers) / forward time",
                        "resnet50_speedup": resnet_note or "ViP after every convolution of ResNet-50, seeded weights"})


if __name__ == "__main__":
    main()
