"""Denton et al., "Exploiting Linear Structure Within Convolutional Networks for Efficient Evaluation"
(NIPS 2014): Tables 3 and 5, Figures 5, 6 and 7 regenerated with recaffe.

  1. Theoretical speedups (Table 1 / Table 3) and weight reductions (Table 4 / Table 5) by formula on
     MattNet's first two layers (ZF geometry: conv1 3->96 7x7/2 on 224x224, conv2 96->256 5x5/2 on 55x55).
  2. Accuracy: the first layer of the Caffe-trained cifar10_quick / cifar10_full replaced by its
     monochromatic approximation (C' colours) and the second by biclustering + outer product / SVD;
     increase in CIFAR-10 test error, weight and output errors, and the Figure 6 scatter
     (theoretical speedup vs error increase).
  3. Empirical speedups of the approximated MattNet conv1 / conv2 (engines "mono" and "blocksparse")
     against recaffe's GEMM engine (Caffe's im2col + sgemm), 1 and 2 threads, timed interleaved.

    python experiments/denton.py --quick        # ~10 min on 2 quiet cores: 2,000 test images, fewer settings, batch 1
    python experiments/denton.py                # full: 10,000 test images, batch 1 and 128
    python experiments/denton.py --skip-accuracy --skip-speed --finetune-epochs 3 --out results/denton_finetune3
    python experiments/denton.py --quick --skip-accuracy --mattnet-batches 128 --iterations 3 \
        --out results/denton_speed_b128       # the paper's batch of 128 on MattNet's shapes (~10 min)
                                                # the paper's recovery step: fine-tune the layers above
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import recaffe  # noqa: E402
from recaffe.bench import describe_machine, interleaved_nets  # noqa: E402
from recaffe.report import Report  # noqa: E402
from recaffe.transforms import bicluster_layer, monochromatic_first_layer  # noqa: E402
from recaffe.transforms import denton_factors as df  # noqa: E402
from recaffe.transforms.denton import input_channel_covariance, layer_output_error  # noqa: E402
from recaffe.train import architectures  # noqa: E402  (prototxt text only: no PyTorch needed)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from trained_models import MODELS_DIR, available_project_models, finetune_augmentation  # noqa: E402

PAPER_TABLE3 = {6: (10.1929, 2.95), 8: (4.0528, 2.94), 12: (2.1973, 2.91), 16: (1.1475, 2.88), 24: (1.7212, 2.82),
                48: (0.5249, 2.66), 96: (0.5738, 2.39)}  # C': (increase in test error %, theoretical speedup)
PAPER_TABLE5 = [("layer 1 monochromatic C'=48", ("mono", 48), 2.9109, 0.5249),
                ("layer 2 biclustering + outer product G=48 H=2 K=11", ("outer", 48, 2, 11), 3.7537, 0.8789),
                ("layer 2 biclustering + SVD G=2 H=2 K1=28 K2=76", ("svd", 2, 2, 28, 76), 2.0386, 0.8057)]
PAPER_EMPIRICAL = {"conv1": 1.8, "conv2": 1.7}  # ~ CPU speedups within ~1% error (Sec. 4.1.1, 4.1.2)

# MattNet's first two layers (Zeiler-Fergus geometry)
MATTNET = """
name: "mattnet_conv12"
layer {{ name: "data" type: "Input" top: "data" input_param {{ shape {{ dim: {N} dim: 3 dim: 224 dim: 224 }} }} }}
layer {{ name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param {{ num_output: 96 kernel_size: 7 stride: 2 pad: 1
                             weight_filler {{ type: "gaussian" std: 0.01 }} }} }}
layer {{ name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }}
layer {{ name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param {{ pool: MAX kernel_size: 3 stride: 2 }} }}
layer {{ name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2"
        convolution_param {{ num_output: 256 kernel_size: 5 stride: 2
                             weight_filler {{ type: "gaussian" std: 0.01 }} }} }}
layer {{ name: "relu2" type: "ReLU" bottom: "conv2" top: "conv2" }}
"""
MATT_HW = {"conv1": ((224, 224), 110 * 110), "conv2": ((55, 55), 26 * 26)}


def theoretical(rep: Report) -> None:
    (h1, w1), o1 = MATT_HW["conv1"]
    rows, ours = [], {}
    for c, (err, paper) in PAPER_TABLE3.items():
        s = df.conv_ops(3, 96, 7, 7, o1) / df.monochromatic_ops(3, 96, 7, 7, c, h1 * w1, o1)
        ours[c] = s
        rows.append([c, paper, s, err])
    rep.record["mono_theoretical_speedup"] = ours
    rep.table("Table 3 (theoretical part): MattNet conv1, monochromatic, speedup by Table 1's formula",
              ["C'", "paper speedup", "ours (formula)", "paper error increase %"], rows,
              note="Ops C'·C·N·M + X·Y·F·N'·M' against X·Y·C·F·N'·M' with N·M = 224², N'·M' = 110² (the conv1 "
                   "output of a ZF-style net).")
    rows = []
    (h2, w2), o2 = MATT_HW["conv2"]
    full1, full2 = df.conv_params(3, 96, 7, 7), df.conv_params(96, 256, 5, 5)
    for name, s, paper_red, paper_err in PAPER_TABLE5:
        if s[0] == "mono":
            red = full1 / df.monochromatic_params(3, 96, 7, 7, s[1])
            ops = df.conv_ops(3, 96, 7, 7, o1) / df.monochromatic_ops(3, 96, 7, 7, s[1], h1 * w1, o1)
        elif s[0] == "outer":
            red = full2 / df.bicluster_outer_params(96, 256, 5, 5, *s[1:])
            ops = df.conv_ops(96, 256, 5, 5, o2) / df.bicluster_outer_ops(96, 256, 5, 5, *s[1:], h2 * w2, o2)
        else:
            red = full2 / df.bicluster_svd_params(96, 256, 5, 5, *s[1:])
            ops = df.conv_ops(96, 256, 5, 5, o2) / df.bicluster_svd_ops(96, 256, 5, 5, *s[1:], h2 * w2, o2)
        rows.append([name, paper_red, red, ops, paper_err])
    rep.record["table5_weight_reduction"] = {r[0]: {"paper": r[1], "ours": r[2], "theoretical_speedup": r[3]}
                                             for r in rows}
    rep.table("Table 5 (weights part): MattNet reduction in weights by Table 4's formulas",
              ["approximation", "paper reduction", "ours (formula)", "theoretical speedup", "paper error incr. %"],
              rows, note="The SVD row does not reproduce: Table 4's formula G·H·(C/G·K1 + K1·X·Y·K2 + K2·F/H) gives "
                         "257,088 weights (2.39x) for G=H=2, K1=28, K2=76; the paper prints 2.04x.")


# ------------------------------------------------------------------------------------------------ accuracy
def cifar_models(project: bool = False):
    """(name, prototxt, caffemodel, first conv, second conv) of the Caffe-trained CIFAR-10 models and,
    with `project`, of the evaluation issue's trained models in models/ (where they exist)."""
    from recaffe.data import DataMissing, data_path
    out = []
    for name, proto, model in (("cifar10_quick", "cifar10_quick.prototxt", "cifar10_quick_iter_5000.caffemodel"),
                               ("cifar10_full", "cifar10_full.prototxt", "cifar10_full_iter_70000.caffemodel")):
        try:
            out.append((name, data_path("cifar10", proto), data_path("cifar10", model), "conv1", "conv2"))
        except DataMissing as e:
            print(f"skipping {name}: {e}")
    if project:
        firsts = {"vgg16_cifar": ("conv1_1", "conv1_2"), "allcnn_c": ("conv1", "conv2"), "zf_cifar": ("conv1", "conv2")}
        for name in available_project_models():
            d = MODELS_DIR / name
            out.append((name, str(d / f"{name}.prototxt"), str(d / f"{name}.caffemodel"), *firsts[name]))
    return out


def _shape_text(weights, layer) -> str:
    F, C, kh, kw = weights[layer][0].shape
    return f"{C}->{F}, {kh}x{kw}"


def _metrics(cov, alpha) -> list:
    """(name, keyword arguments) of the metrics to try: Frobenius, data, and gradient when available."""
    return [("frobenius", {}), ("data", {"input_cov": cov})] + ([("gradient", {"alpha": alpha})]
                                                                if alpha is not None else [])


def _label(method, G, H, ranks):
    return f"{method} G={G} H={H} " + (f"K={ranks[0]}" if method == "outer" else f"K1={ranks[0]} K2={ranks[1]}")


def _rank_kwargs(method: str, ranks: tuple) -> dict:
    return dict(K=ranks[0]) if method == "outer" else dict(K1=ranks[0], K2=ranks[1])


def _gradient_alphas(param, weights, calib, layers):
    """The gradient metric's alpha (Eq. 2, h = 2) of each layer from the labelled calibration images,
    or Nones without the training bridge."""
    try:
        from recaffe.train import gradient_alpha, torch_available
    except ImportError:
        return tuple(None for _ in layers)
    if not torch_available()[0]:
        return tuple(None for _ in layers)
    images, labels = calib.arrays(), calib.labels
    return tuple(gradient_alpha(param, weights, layer, images, labels, h=2) for layer in layers)


def accuracy(rep: Report, quick: bool, threads: int) -> None:
    from recaffe.data import cifar10, presets
    recaffe.set_num_threads(threads)
    test = cifar10("test").stratified(200 if quick else 1000, seed=0)
    calib = cifar10("train").stratified(20 if quick else 50, seed=1)
    pre = presets.cifar10_caffe
    x_cal = pre(calib.arrays())
    colors = [4, 6, 8, 12, 16, 24, 32]
    # (method, G, H, ranks): conv2 is 32 -> 32, 5x5
    bic = ([("svd", 1, 1, (16, 20)), ("svd", 2, 2, (12, 12)), ("outer", 8, 2, (12,)), ("outer", 8, 2, (16,)),
            ("outer", 4, 1, (24,))] if quick else
           [("svd", 1, 1, (8, 8)), ("svd", 1, 1, (12, 16)), ("svd", 2, 2, (6, 6)), ("svd", 2, 2, (8, 8)),
            ("svd", 2, 2, (12, 12)), ("svd", 2, 2, (16, 16)), ("svd", 4, 2, (6, 12)), ("outer", 4, 2, (4,)),
            ("outer", 4, 2, (8,)), ("outer", 4, 2, (12,)), ("outer", 8, 2, (8,)), ("outer", 8, 2, (12,)),
            ("outer", 8, 4, (12,)), ("outer", 4, 1, (16,)), ("outer", 16, 2, (8,)), ("svd", 1, 1, (16, 20)),
            ("outer", 8, 2, (16,)), ("outer", 4, 1, (24,))])
    # settings for a MattNet-like conv2 (zf_cifar's 96 -> 128); layers with fewer channels skip them
    bic += [("svd", 1, 1, (32, 48)), ("svd", 1, 1, (48, 48)), ("svd", 2, 2, (24, 32)), ("outer", 48, 2, (11,))]
    if not quick:
        colors += [48, 96]
    err_inc, scatter = {}, []
    for model, proto, weights_file, l1, l2 in cifar_models(project=True):
        param, weights = recaffe.load(proto, weights_file)
        base_net = recaffe.Net(param, weights)
        base = recaffe.evaluate(base_net, test, pre, progress=True).top1
        rep.say(f"{model}: top-1 {base:.4f} on {len(test)} CIFAR-10 test images (original)")
        hw1 = tuple(base_net.blobs[base_net.bottom_names[l1][0]].shape[2:])
        hw2 = tuple(base_net.blobs[base_net.bottom_names[l2][0]].shape[2:])
        cov1 = input_channel_covariance(base_net, l1, {"data": x_cal})
        cov2 = input_channel_covariance(base_net, l2, {"data": x_cal})
        alpha1, alpha2 = _gradient_alphas(param, weights, calib, (l1, l2))
        metrics1, metrics2 = _metrics(cov1, alpha1), _metrics(cov2, alpha2)
        F1 = weights[l1][0].shape[0]
        rows = []
        for metric, mkw in metrics1:
            for c in [c for c in colors if c <= F1]:
                p2, w2, r = monochromatic_first_layer(param, weights, n_colors=c, layer=l1, input_hw=hw1, **mkw)
                acc = recaffe.evaluate(recaffe.Net(p2, w2), test, pre, progress=True).top1
                out_err = layer_output_error(base_net, l1, r["weights_approx"], {"data": x_cal})
                inc = 100 * (base - acc)
                err_inc[f"{model}/{l1}/mono C'={c}/{metric}"] = inc
                rows.append([c, metric, r["mac_reduction"], r["weight_reduction"], r["weight_error"], out_err,
                             100 * acc, inc, PAPER_TABLE3.get(c, (None,))[0]])
        rep.table(f"Table 3 analogue: {model} {l1} ({_shape_text(weights, l1)}) monochromatic, {len(test)} test "
                  f"images (original top-1 {100 * base:.2f}%)",
                  ["C'", "metric", "theor. speedup", "weight red.", "weight rel. err", "output rel. err", "top-1 %",
                   "error incr. (pts)", "paper error incr. % (MattNet)"], rows,
                  note="Output error: ||conv1(x; W~) - conv1(x; W)|| / ||conv1(x; W)|| on calibration images from the "
                       "training set. The data metric uses their input-channel covariance (Eq. 3); the gradient "
                       "metric their back-propagated mistakes (Eqs. 1-2, h = 2), through its per-channel factors.")
        rows = []
        F2, C2 = weights[l2][0].shape[:2]
        for method, G, H, ranks in bic:
            if method == "svd" and (ranks[0] > C2 // G or ranks[1] > F2 // H):
                continue   # ranks beyond a block's channel counts: no approximation at all
            for metric, mkw in metrics2:
                kw = _rank_kwargs(method, ranks)
                try:
                    p2, w2, r = bicluster_layer(param, weights, l2, G=G, H=H, method=method, input_hw=hw2, **kw,
                                                **mkw)
                except ValueError:
                    continue   # a setting this layer's channel counts do not allow
                acc = recaffe.evaluate(recaffe.Net(p2, w2), test, pre, progress=True).top1
                out_err = layer_output_error(base_net, l2, r["weights_approx"], {"data": x_cal})
                inc = 100 * (base - acc)
                label = _label(method, G, H, ranks)
                err_inc[f"{model}/{l2}/{label}/{metric}"] = inc
                scatter.append((model, method, metric, G, H, r["mac_reduction"], inc))
                rows.append([label, metric, r["mac_reduction"], r["weight_reduction"], r["weight_error"], out_err,
                             100 * acc, inc])
        rep.table(f"Table 5 / Figure 6 analogue: {model} {l2} ({_shape_text(weights, l2)}) biclustering, "
                  f"{len(test)} test images", ["setting", "metric", "theor. speedup", "weight red.", "weight rel. err",
                                              "output rel. err", "top-1 %", "error incr. (pts)"], rows)
        rep.record.setdefault("baseline_top1", {})[model] = base
    rep.record["error_increase"] = err_inc
    rep.record["test_images"] = len(test)
    fig, ax = rep.figure(figsize=(6.5, 4.5))
    for (model, method, metric), marker in zip(
            [(m, k, t) for m in dict.fromkeys(x[0] for x in scatter) for k in ("outer", "svd")
             for t in ("frobenius", "data", "gradient")], "o^sDv<>phH*+xXd1234" * 2):
        pts = [(s, e) for (mo, me, mt, _, _, s, e) in scatter if (mo, me, mt) == (model, method, metric)]
        if pts:
            ax.scatter(*zip(*pts), marker=marker, label=f"{model} {method} {metric}", alpha=0.75)
    ax.axhline(0, color="gray", lw=0.5)
    ax.set_xlabel("theoretical speedup of conv2 (Table 1)")
    ax.set_ylabel("increase in test error (points)")
    ax.set_title("Figure 6 analogue: biclustering of the second convolution (CIFAR-10)")
    ax.legend(fontsize=7)
    rep.save_figure(fig, "fig6")


# ------------------------------------------------------------------------------------------------ fine-tuning
def _frozen_through(param, weights, top: str) -> tuple:
    """Names of every layer with weights up to the one that writes `top` (the approximated layer and
    all below it): the paper fine-tunes only the layers above the approximation."""
    names = []
    for layer in param.layer:
        if layer.name in weights:
            names.append(layer.name)
        if top in layer.top and top not in layer.bottom:
            break
    return tuple(names)


def finetune_recovery(rep: Report, quick: bool, epochs: int, threads: int, lr: float = 0.001) -> None:
    """The paper's strategy (Sec. 1): approximate a layer, then fine-tune the layers above it until the
    accuracy is restored. Each approximation of cifar10_full's conv1 / conv2 is fine-tuned for `epochs`
    epoch(s) on the 50,000 CIFAR-10 training images with the approximated layer and everything below
    it frozen, then scored on the test set; the original net fine-tuned the same way is the control."""
    from recaffe.data import cifar10, presets
    from recaffe.train import finetune, finetune_recipe, torch_available
    ok, why = torch_available()
    if not ok:
        rep.say(f"fine-tuning skipped: {why}")
        return
    recaffe.set_num_threads(threads)
    test = cifar10("test") if not quick else cifar10("test").stratified(200, seed=0)
    train = cifar10("train") if not quick else cifar10("train").stratified(400, seed=0)
    calib = cifar10("train").stratified(50, seed=1)
    pre = presets.cifar10_caffe
    x_cal = pre(calib.arrays())
    # the settings the speed section times on the same layer shapes (cifar10_quick's conv1 / conv2)
    mono_c = [8] if quick else [6, 8, 16]
    bic = [("outer", 8, 2, (16,))] if quick else [("outer", 8, 2, (16,)), ("outer", 8, 2, (12,)),
                                                  ("svd", 2, 2, (12, 12)), ("svd", 1, 1, (16, 20)),
                                                  ("outer", 4, 1, (24,))]
    rows, rec = [], {}
    for model, proto, weights_file, _, _ in cifar_models():
        if model != "cifar10_full" and not quick:
            continue   # the better-trained of the two Caffe models
        param, weights = recaffe.load(proto, weights_file)
        base_net = recaffe.Net(param, weights)
        base = recaffe.evaluate(base_net, test, pre, progress=False).top1
        cov1 = input_channel_covariance(base_net, "conv1", {"data": x_cal})
        cov2 = input_channel_covariance(base_net, "conv2", {"data": x_cal})
        cases = [("original (control)", param, weights, "conv1", None)]
        for c in mono_c:
            p2, w2, r = monochromatic_first_layer(param, weights, n_colors=c, input_cov=cov1, input_hw=(32, 32))
            cases.append((f"conv1 mono C'={c} (data metric)", p2, w2, "conv1", r["mac_reduction"]))
        for method, G, H, ranks in bic:
            kw = _rank_kwargs(method, ranks)
            p2, w2, r = bicluster_layer(param, weights, "conv2", G=G, H=H, method=method, input_cov=cov2,
                                        input_hw=(16, 16), **kw)
            cases.append((f"conv2 {_label(method, G, H, ranks)} (data metric)", p2, w2, "conv2", r["mac_reduction"]))
        for label, p2, w2, top, theo in cases:
            before = recaffe.evaluate(recaffe.Net(p2, w2), test, pre, progress=False).top1
            frozen = _frozen_through(p2, w2, top)
            t0 = time.time()
            res = finetune(p2, w2, train, finetune_recipe(epochs=epochs, lr=lr, frozen=frozen,
                                                          threads=max(1, recaffe.num_threads()),
                                                          **finetune_augmentation(model)), progress=True)
            minutes = (time.time() - t0) / 60
            after = recaffe.evaluate(recaffe.Net(p2, res.weights()), test, pre, progress=False).top1
            rows.append([model, label, theo, 100 * before, 100 * after, 100 * (base - before), 100 * (base - after),
                         round(minutes, 1)])
            rec[f"{model}/{label}"] = {"theoretical_speedup": theo, "top1_before": before, "top1_after": after,
                                       "error_increase_before": 100 * (base - before),
                                       "error_increase_after": 100 * (base - after), "frozen": list(frozen),
                                       "minutes": minutes}
            rep.say(f"  {model} {label}: {100 * before:.2f}% -> {100 * after:.2f}% after {epochs} epoch(s) "
                    f"({minutes:.1f} min)")
        rec[f"{model}/original_top1"] = base
    rep.record["finetune_recovery"] = {"epochs": epochs, "test_images": len(test), "train_images": len(train),
                                       "results": rec}
    rep.table(f"Fine-tuning the layers above the approximation ({epochs} epoch(s), {len(train)} training images, "
              f"{len(test)} test images)",
              ["model", "approximation", "theor. speedup", "top-1 % before", "top-1 % after",
               "error incr. before (pts)", "error incr. after (pts)", "minutes"], rows,
              note="Error increase against the original Caffe-trained model (no fine-tuning), as the paper reports "
                   "it; the control row fine-tunes the original the same way (conv1 frozen), to show how much of "
                   "the recovery is the extra training alone. recaffe.train.finetune: cosine schedule from lr "
                   f"{lr:g} (Caffe trained these nets at 0.001; 0.005 made them diverge), SGD with momentum, "
                   "no crops or flips (as Caffe trained them); the approximated layer and every layer below it "
                   "are frozen.")


# ------------------------------------------------------------------------------------------------ speed
# cifar10_quick's first two layers (the shapes the accuracy tables approximate)
CIFAR = """
name: "cifar10_quick_conv12"
layer {{ name: "data" type: "Input" top: "data" input_param {{ shape {{ dim: {N} dim: 3 dim: 32 dim: 32 }} }} }}
layer {{ name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param {{ num_output: 32 pad: 2 kernel_size: 5 weight_filler {{ type: "gaussian" std: 0.01 }} }} }}
layer {{ name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param {{ pool: MAX kernel_size: 3 stride: 2 }} }}
layer {{ name: "relu1" type: "ReLU" bottom: "pool1" top: "pool1" }}
layer {{ name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2"
        convolution_param {{ num_output: 32 pad: 2 kernel_size: 5 weight_filler {{ type: "gaussian" std: 0.01 }} }} }}
layer {{ name: "relu2" type: "ReLU" bottom: "conv2" top: "conv2" }}
"""


def speed(rep: Report, quick: bool, iterations: int | None = None, mattnet_batches=None) -> None:
    iters = iterations or (7 if quick else 15)
    cases = [  # net, prototxt text of a batch (N=...), input hw, conv2 input hw, batches, colours, bicluster settings
        ("MattNet", MATTNET.format, 224, 55, mattnet_batches or ([1] if quick else [1, 128]),
         [6, 12, 24, 48, 96] if quick else [4, 6, 8, 12, 16, 24, 48, 96],
         [("svd", 2, 2, (28, 76)), ("svd", 2, 2, (12, 32)), ("outer", 48, 2, (11,)), ("outer", 8, 2, (8,))]),
        ("cifar10_quick", CIFAR.format, 32, 16, [100], [6, 8, 16, 32],
         [("svd", 1, 1, (16, 20)), ("svd", 2, 2, (12, 12)), ("outer", 8, 2, (12,)), ("outer", 8, 2, (16,)),
          ("outer", 4, 1, (24,))] + ([] if quick else [("svd", 2, 2, (16, 16))])),
        # the ZF-style CIFAR-10 net of the evaluation issue: MattNet's conv1 (3->96 7x7/2) on 32x32
        ("zf_cifar", lambda N: architectures.zf_cifar(batchnorm=False, batch=N), 32, 8, [100], [6, 12, 24] if quick else [6, 12, 24, 48],
         [("svd", 1, 1, (32, 48)), ("svd", 1, 1, (48, 48)), ("outer", 8, 2, (8,))]
         + ([] if quick else [("outer", 8, 2, (16,)), ("svd", 2, 2, (24, 32))])),
    ]
    mono_emp, bic_emp, rows = {}, {}, []
    for net_name, text, hw, hw2, batches, colours, bic_settings in cases:
        for batch in batches:
            param = recaffe.read_net(text(N=batch))
            weights = recaffe.random_weights(param, seed=0)  # timing does not depend on the values
            x = np.random.default_rng(0).standard_normal((batch, 3, hw, hw)).astype(np.float32)
            variants = {}
            for c in colours:
                p2, w2, r = monochromatic_first_layer(param, weights, n_colors=c, input_hw=(hw, hw))
                variants[f"mono C'={c}"] = (p2, w2, r["engines"], ["conv1_color", "conv1"], "conv1",
                                            r["mac_reduction"])
                p2, w2, r = monochromatic_first_layer(param, weights, n_colors=c, input_hw=(hw, hw), fused=True)
                variants[f"mono fused C'={c}"] = (p2, w2, {}, ["conv1"], "conv1", r["mac_reduction"])
            for method, G, H, ranks in bic_settings:
                kw = _rank_kwargs(method, ranks)
                p2, w2, r = bicluster_layer(param, weights, "conv2", G=G, H=H, method=method, input_hw=(hw2, hw2),
                                            **kw)
                variants[_label(method, G, H, ranks)] = (p2, w2, r["engines"], ["conv2_project", "conv2_core",
                                                                                "conv2"], "conv2", r["mac_reduction"])
            for threads in (1, 2):
                recaffe.set_num_threads(threads)
                nets = {"gemm": recaffe.Net(param, weights)}
                for k, (p2, w2, eng, _, _, _) in variants.items():
                    nets[k] = recaffe.Net(p2, w2, engines=eng)
                for n in nets.values():
                    n.set_input(data=x)
                t0 = time.time()
                timing = interleaved_nets(nets, iterations=iters, warmup=1, progress=True)
                base = timing["gemm"]
                for k, (_, _, _, layers, orig, theo) in variants.items():
                    t_orig = base.layer(orig).median
                    t_new = sum(timing[k].layer(l).median for l in layers)
                    sp = t_orig / t_new
                    (mono_emp if k.startswith("mono") else bic_emp).setdefault(net_name, {}) \
                        .setdefault(f"{threads} threads", {}).setdefault(f"batch {batch}", {})[k] = sp
                    rows.append([net_name, orig, k, batch, threads, t_orig, t_new, sp, theo,
                                 PAPER_EMPIRICAL[orig]])
                rep.say(f"  timed {net_name} batch {batch}, {threads} thread(s) in {time.time() - t0:.0f} s")
    recaffe.set_num_threads(0)
    rep.record["mono_empirical_speedup"] = mono_emp
    rep.record["bicluster_empirical_speedup"] = bic_emp
    rep.table("Figures 5 and 7: empirical speedups of conv1 / conv2 against the GEMM engine",
              ["net", "layer", "approximation", "batch", "threads", "GEMM ms", "approx. ms", "speedup", "theoretical",
               "paper (CPU)"], rows,
              note="Approximated time = the sum of the layers that replace the original (colour 1x1 + grouped conv "
                   "on the mono engine, or the fused MonochromaticConvolution layer; project + core + expand on the "
                   "blocksparse / gemm / mono engines), medians of interleaved forwards, random weights (speed does "
                   "not depend on them). MattNet: conv1 3->96 7x7/2 on 224x224, conv2 96->256 5x5/2 on 55x55; "
                   "cifar10_quick: conv1 3->32 5x5 on 32x32, conv2 32->32 5x5 on 16x16; zf_cifar: conv1 3->96 "
                   "7x7/2 on 32x32, conv2 96->128 5x5 on 8x8.")
    fig, axes = rep.figure(1, 2, figsize=(11, 4.5))
    for ax, emp, title in ((axes[0], mono_emp, "conv1 monochromatic (Fig. 5)"),
                           (axes[1], bic_emp, "conv2 biclustering (Fig. 7)")):
        for net_name, by_threads in emp.items():
            for t, by_batch in by_threads.items():
                for b, vals in by_batch.items():
                    keys = list(vals)
                    ax.plot([f"{net_name[:5]} {k}" for k in keys], [vals[k] for k in keys], "o-",
                            label=f"{net_name}, {t}, {b}")
        ax.tick_params(axis="x", labelrotation=75, labelsize=6)
        ax.axhline(1, color="gray", lw=0.5)
        ax.set_ylabel("speedup over GEMM")
        ax.set_title(title)
        ax.legend(fontsize=6)
    rep.save_figure(fig, "speed")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer images, settings and repeats (~3 min)")
    ap.add_argument("--out", default="results", help="output folder (default results/)")
    ap.add_argument("--threads", type=int, default=0, help="threads for the accuracy runs (0 = all cores)")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--finetune-epochs", type=int, default=0,
                    help="also fine-tune the layers above each approximation this many epochs (the paper's "
                         "recovery step; needs recaffe[train]); 0 = skip")
    ap.add_argument("--finetune-lr", type=float, default=0.001, help="peak learning rate of the fine-tuning")
    ap.add_argument("--iterations", type=int, default=None, help="timed forwards per net (quick 7, full 15)")
    ap.add_argument("--mattnet-batches", default=None,
                    help="comma-separated batch sizes for the MattNet timings (quick 1, full 1,128)")
    args = ap.parse_args(argv)
    rep = Report("denton", out=args.out, title="Denton et al.: monochromatic and biclustering approximations")
    rep.text(f"Machine: {describe_machine()}; accuracy runs on {args.threads or recaffe.num_threads()} thread(s), "
             f"speed on 1 and 2; {'quick' if args.quick else 'full'} run.")
    theoretical(rep)
    if not args.skip_accuracy:
        accuracy(rep, args.quick, args.threads)
    if args.finetune_epochs > 0:
        finetune_recovery(rep, args.quick, args.finetune_epochs, args.threads, args.finetune_lr)
    if not args.skip_speed:
        speed(rep, args.quick, args.iterations,
              [int(b) for b in args.mattnet_batches.split(",")] if args.mattnet_batches else None)
    rep.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
