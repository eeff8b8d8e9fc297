"""1D-FALCON (Maji & Mullins), Algorithm 1: each k x k convolution becomes a vertical m x 1 convolution
F_I -> R followed by a horizontal 1 x n convolution R -> F_O, from one SVD. (The module is falcon_svd so
that recaffe.transforms.falcon stays the function.)

    param, weights, report = recaffe.transforms.falcon(param, weights, compression=3.0, inputs={"data": x})
    print(report.table())                     # rank, MAC ratio, weight and output errors per layer
    recaffe.save(param, weights, "falcon.prototxt", "falcon.caffemodel")   # two standard Convolutions each

The weight W (F_O x F_I x m x n) is reshaped to the (F_I*m) x (n*F_O) matrix W[(c,i),(j,k)] = W[k,c,i,j]
and factored U S V^T; keeping R singular values, the vertical stage gets U sqrt(S) and the horizontal
stage V sqrt(S) (and the bias). The rank comes from the compression factor c (the paper's
R = p F_I F_O / (c (F_I + F_O)) for p x p kernels; for m x n, R = m n F_I F_O / (c (m F_I + n F_O)), so the
MAC ratio is c up to rounding). Layers are independent, so their SVDs run in parallel. At full rank the
pair reproduces the layer exactly (up to float rounding); padding, stride and dilation split by axis.
"""
from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Mapping, Sequence

import numpy as np

from ..errors import LayerError
from ..io import read_net
from ..io.proto import pb


@dataclass
class FalconLayer:
    name: str
    vertical: str           # the new m x 1 layer
    horizontal: str         # the new 1 x n layer (keeps the original top)
    shape: tuple            # (F_O, F_I, m, n)
    rank: int
    full_rank: int
    compression: float      # the requested factor c
    macs_before: float      # per image
    macs_after: float
    weight_error: float     # ||W - W_R||_F / ||W||_F
    output_error: float | None = None   # ||y - y_R|| / ||y|| on the given inputs, this layer alone

    @property
    def mac_ratio(self) -> float:
        return self.macs_before / self.macs_after


@dataclass
class FalconReport:
    layers: list[FalconLayer] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)   # convolution layer -> why it was left alone

    @property
    def macs_before(self) -> float:
        return sum(l.macs_before for l in self.layers)

    @property
    def macs_after(self) -> float:
        return sum(l.macs_after for l in self.layers)

    def layer(self, name: str) -> FalconLayer:
        return next(l for l in self.layers if l.name == name)

    HEADERS = ["layer", "F_O x F_I x m x n", "rank", "full rank", "MAC ratio", "weight err", "output err"]

    def rows(self) -> list[list]:
        return [[l.name, "x".join(map(str, l.shape)), l.rank, l.full_rank, l.mac_ratio, l.weight_error,
                 l.output_error] for l in self.layers]

    def table(self) -> str:
        from ..report import markdown_table
        return markdown_table(self.HEADERS, self.rows())

    def to_dict(self) -> dict:
        return {"layers": [asdict(l) | {"mac_ratio": l.mac_ratio} for l in self.layers],
                "skipped": dict(self.skipped), "macs_before": self.macs_before, "macs_after": self.macs_after}


def falcon_rank(F_I: int, F_O: int, m: int, n: int, compression: float) -> int:
    """R = m n F_I F_O / (c (m F_I + n F_O)) rounded, within [1, min(F_I m, n F_O)]."""
    if not compression > 0:
        raise ValueError(f"compression must be positive, got {compression}")
    r = int(round(m * n * F_I * F_O / (compression * (m * F_I + n * F_O))))
    return max(1, min(r, F_I * m, n * F_O))


def factor_weights(W: np.ndarray, rank: int | None = None):
    """SVD of one layer's weight: (vertical [R, F_I, m, 1], horizontal [F_O, R, 1, n], singular values)."""
    F_O, F_I, m, n = W.shape
    mat = np.asarray(W, np.float64).transpose(1, 2, 3, 0).reshape(F_I * m, n * F_O)
    U, s, Vt = np.linalg.svd(mat, full_matrices=False)
    R = len(s) if rank is None else rank
    root = np.sqrt(s[:R])
    v = (U[:, :R] * root).reshape(F_I, m, R).transpose(2, 0, 1)[..., None]
    h = (Vt[:R] * root[:, None]).reshape(R, n, F_O).transpose(2, 0, 1)[:, :, None, :]
    return v.astype(np.float32), h.astype(np.float32), s


def _one_blas_thread(active: bool):
    """Layers are factored in parallel threads (numpy's SVD frees the GIL); numpy's own BLAS threads on
    top of them oversubscribe the cores (measured 6x slower on a loaded machine), so limit them to one."""
    if active:
        try:
            from threadpoolctl import threadpool_limits
            return threadpool_limits(1, user_api="blas")
        except ImportError:
            pass
    return contextlib.nullcontext()


def _axis_pair(cp, rep: str, h: str, w: str, default: int) -> tuple[int, int]:
    if cp.HasField(h) or cp.HasField(w):
        return getattr(cp, h), getattr(cp, w)
    vals = list(getattr(cp, rep))
    if not vals:
        return default, default
    return (vals[0], vals[0]) if len(vals) == 1 else (vals[0], vals[1])


def _spatial(cp):
    kh, kw = _axis_pair(cp, "kernel_size", "kernel_h", "kernel_w", 0)
    ph, pw = _axis_pair(cp, "pad", "pad_h", "pad_w", 0)
    sh, sw = _axis_pair(cp, "stride", "stride_h", "stride_w", 1)
    dil = list(cp.dilation) or [1]
    dh, dw = (dil[0], dil[0]) if len(dil) == 1 else (dil[0], dil[1])
    return kh, kw, ph, pw, sh, sw, dh, dw


def _stage(layer, name: str, bottom: str, tops, num_output: int, k: tuple, pad: tuple, stride: tuple, dil: tuple,
           bias: bool, params):
    """A standard Convolution layer with explicit h/w geometry, inheriting the original's rules."""
    out = pb.LayerParameter(name=name, type="Convolution", bottom=[bottom], top=list(tops))
    out.include.extend(layer.include)
    out.exclude.extend(layer.exclude)
    out.param.extend(params)
    cp = out.convolution_param
    cp.CopyFrom(layer.convolution_param)
    for f in ("kernel_size", "pad", "stride", "dilation"):
        cp.ClearField(f)
    cp.num_output = num_output
    cp.kernel_h, cp.kernel_w = k
    cp.pad_h, cp.pad_w = pad
    cp.stride_h, cp.stride_w = stride
    if dil != (1, 1):
        cp.dilation.extend(dil)
    cp.bias_term = bias
    if not bias:
        cp.ClearField("bias_filler")
    return out


def _conv_shapes(param) -> dict[str, tuple]:
    """{conv layer: (bottom shape, top shape)} from the net's own shape inference (one image)."""
    from ..net import Net
    net = Net(param, _skip_weights=True, memory_cap=1 << 62)
    out = {}
    for lname, bottoms, tops in zip(net.layer_names, net.bottom_names.values(), net.top_names.values()):
        if lname in net.params and bottoms and tops:
            out[lname] = (net.blobs[bottoms[0]].shape, net.blobs[tops[0]].shape)
    return out


def _layer_outputs(param, weights, inputs: Mapping[str, np.ndarray], names: Sequence[str]) -> dict:
    """For each named convolution: (its input, its output before any in-place activation), one forward."""
    from ..net import Net
    net = Net(param, weights)
    net.set_input(**inputs)
    order = sorted(names, key=net.layer_index)
    out, start = {}, None
    for name in order:
        bottom = net.bottom_names[name][0]
        res = net.forward(start=start, end=name, blobs=[bottom])
        out[name] = (res[bottom], res[net.top_names[name][0]])
        start = net.layer_names[net.layer_index(name) + 1] if net.layer_index(name) + 1 < len(net.layer_names) \
            else None
    return out


def _pair_output(v_layer, h_layer, v_w, h_w, x: np.ndarray) -> np.ndarray:
    from ..net import Net
    p = pb.NetParameter(name="falcon_pair")
    inp = p.layer.add(name="input", type="Input", top=[v_layer.bottom[0]])
    inp.input_param.shape.add(dim=list(x.shape))
    for l in (v_layer, h_layer):
        c = p.layer.add()
        c.CopyFrom(l)
        del c.include[:], c.exclude[:]
    net = Net(p, {v_layer.name: v_w, h_layer.name: h_w})
    return net.forward(**{v_layer.bottom[0]: x})[h_layer.top[0]]


def falcon(net, weights: Mapping[str, list], compression: float | Mapping[str, float] | None = None, *,
           ranks: Mapping[str, int] | None = None, layers: Sequence[str] | None = None,
           inputs: Mapping[str, np.ndarray] | None = None, workers: int | None = None):
    """Replace convolutions by FALCON's two 1-D stages (Algorithm 1). Returns (NetParameter, weights,
    FalconReport); the inputs are not modified.

    compression: the factor c for every layer, or {layer: c}; ranks: {layer: R} (overrides c);
    layers: which convolutions (default: every one with a 2-D kernel and group 1); inputs: {input
    blob: array} to measure each layer's relative output error on real data (layer by layer, each fed
    the original network's activations)."""
    src = read_net(net)
    ranks = dict(ranks or {})
    if compression is None and not ranks:
        raise ValueError("falcon: give compression=c (or {layer: c}) or ranks={layer: R}")
    convs = {l.name: l for l in src.layer if l.type == "Convolution"}
    wanted = list(layers) if layers is not None else list(convs)
    for name in wanted:
        if name not in convs:
            raise LayerError(f"falcon: no convolution layer named '{name}'", name)
    for name in list(ranks) + (list(compression) if isinstance(compression, Mapping) else []):
        if name not in convs:
            raise LayerError(f"falcon: rank or compression given for '{name}', which is not a convolution", name)
    report = FalconReport()
    shapes = _conv_shapes(src)
    jobs = {}
    for name in wanted:
        layer = convs[name]
        kh, kw, ph, pw, sh, sw, dh, dw = _spatial(layer.convolution_param)
        why = None
        if kh < 2 or kw < 2:
            why = f"kernel {kh}x{kw} is already 1-D"
        elif layer.convolution_param.group != 1:
            why = f"group {layer.convolution_param.group}"
        elif name not in weights:
            why = "no weights given"
        elif len(layer.bottom) != 1 or len(layer.top) != 1:
            why = "more than one bottom or top"
        if why:
            if layers is not None:
                raise LayerError(f"falcon: cannot factor layer '{name}': {why}", name)
            report.skipped[name] = why
            continue
        W = np.asarray(weights[name][0])
        F_O, F_I = W.shape[:2]
        c = compression.get(name) if isinstance(compression, Mapping) else compression
        if name in ranks:
            R = int(ranks[name])
            if not 1 <= R <= min(F_I * kh, kw * F_O):
                raise LayerError(f"falcon: rank {R} for '{name}' is outside 1..{min(F_I * kh, kw * F_O)}", name)
        elif c is None:
            report.skipped[name] = "no compression or rank given"
            continue
        else:
            R = falcon_rank(F_I, F_O, kh, kw, float(c))
        jobs[name] = (W, R, c, (kh, kw, ph, pw, sh, sw, dh, dw))
    n_workers = workers or min(os.cpu_count() or 1, max(1, len(jobs)))
    with _one_blas_thread(n_workers > 1), ThreadPoolExecutor(max_workers=n_workers) as pool:
        factors = dict(zip(jobs, pool.map(lambda j: factor_weights(j[0], j[1]), jobs.values())))

    out = pb.NetParameter()
    out.CopyFrom(src)
    del out.layer[:]
    new_weights = {k: list(v) for k, v in weights.items()}
    taken = {l.name for l in src.layer}
    built = {}
    for layer in src.layer:
        if layer.name not in jobs:
            out.layer.add().CopyFrom(layer)
            continue
        name = layer.name
        W, R, c, (kh, kw, ph, pw, sh, sw, dh, dw) = jobs[name]
        v, h, s = factors[name]
        vname, hname = f"{name}_v", f"{name}_h"
        while vname in taken or hname in taken:
            vname, hname = vname + "_", hname + "_"
        taken |= {vname, hname}
        bias = layer.convolution_param.bias_term
        vl = _stage(layer, vname, layer.bottom[0], [vname], R, (kh, 1), (ph, 0), (sh, 1), (dh, 1), False,
                    list(layer.param)[:1])
        hl = _stage(layer, hname, vname, layer.top, W.shape[0], (1, kw), (0, pw), (1, sw), (1, dw), bias,
                    list(layer.param))
        out.layer.add().CopyFrom(vl)
        out.layer.add().CopyFrom(hl)
        new_weights.pop(name, None)
        new_weights[vname] = [v]
        new_weights[hname] = [h] + [np.asarray(b) for b in weights[name][1:2]]
        (N, C, H, Wd), (_, K, Ho, Wo) = shapes[name]
        Hv = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        F_O, F_I = W.shape[:2]
        before = float(Ho * Wo * F_O * F_I * kh * kw)
        after = float(Hv * Wd * R * F_I * kh + Ho * Wo * F_O * R * kw)
        energy = float(np.sum(s ** 2))
        werr = float(np.sqrt(np.sum(s[R:] ** 2) / energy)) if energy > 0 else 0.0
        report.layers.append(FalconLayer(name, vname, hname, tuple(int(d) for d in W.shape), R, len(s),
                                         float(c) if c is not None else float("nan"), before, after, werr))
        built[name] = (vl, hl)

    if inputs is not None and built:
        acts = _layer_outputs(src, weights, inputs, list(built))
        for rec in report.layers:
            x, y = acts[rec.name]
            vl, hl = built[rec.name]
            y2 = _pair_output(vl, hl, new_weights[rec.vertical], new_weights[rec.horizontal], x)
            rec.output_error = float(np.linalg.norm(y2 - y) / max(np.linalg.norm(y), 1e-30))
    return out, new_weights, report

