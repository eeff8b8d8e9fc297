"""Denton et al. (NIPS 2014) as transforms on a loaded network: each replaces one Convolution layer by
standard Caffe convolutions that carry the approximation, so the result saves as a Caffe file that
Caffe and OpenCV load, and names the recaffe engines that turn the savings into time.

    param, weights = recaffe.load("cifar10_quick.prototxt", "cifar10_quick_iter_5000.caffemodel")
    p2, w2, rep = monochromatic_first_layer(param, weights, n_colors=8)
    p3, w3, rep3 = bicluster_layer(p2, w2, "conv2", G=4, H=2, method="svd", K1=8, K2=8)
    net = recaffe.Net(p3, w3, engines=rep["engines"] | rep3["engines"])

Monochromatic (first layer "conv1", C -> F, kh x kw):
    conv1_color  1x1, C -> C' (no bias)                   the C' shared colour transforms
    conv1        kh x kw, C' -> F, group C' (bias)         each group: one colour channel -> its filters
  The grouped conv produces filters in cluster order; the order is absorbed into the consumers
  (their input weights are permuted) when every path to them is channel-wise (ReLU, Pooling,
  within-channel LRN, Dropout...), else a 1x1 permutation conv restores it. When C' does not divide F
  the clusters differ by one and the smaller ones get an all-zero filter (Caffe's groups are equal).
  Engine: "mono" (one input channel per group) for conv1. With fused=True the pair becomes one recaffe
  "MonochromaticConvolution" layer (blobs: colours, filters, bias) that projects one colour at a time
  into a cache-resident buffer: faster for many colours, but a recaffe-only file.

Biclustering (a later layer "convN", C -> F):
    convN_project  1x1, C -> G H r_in (no bias)      per (input group g, output group h): r_in projections
    convN_core     kh x kw, grouped (no bias)        svd: G H groups, r_in -> r_out each; outer: depthwise
    convN          1x1, G H r_out -> F (bias)        per output group h: sum over g of its blocks
  The two 1x1 convs carry zeros outside their blocks (this folds the channel clustering into standard
  layers); the "blocksparse" engine skips the zero blocks, so the as-run work is the paper's Table 1.
"""
from __future__ import annotations

import numpy as np

from ..errors import LayerError
from ..io.proto import pb
from . import denton_factors as df

CHANNELWISE = {"ReLU", "Sigmoid", "TanH", "AbsVal", "Dropout", "Pooling", "ELU", "Clip", "BNLL", "Power", "Exp",
               "Log"}


# --------------------------------------------------------------------------------------------------
# Reading and writing convolution layers
# --------------------------------------------------------------------------------------------------
def _pair(rep, h, w, has_hw: bool, default: int) -> tuple[int, int]:
    if has_hw:
        return int(h), int(w)
    rep = list(rep)
    if not rep:
        return default, default
    return (int(rep[0]), int(rep[0])) if len(rep) == 1 else (int(rep[0]), int(rep[1]))


def conv_spec(layer) -> dict:
    """Kernel, stride, pad, dilation, group, bias of a Convolution LayerParameter (Caffe's rules)."""
    cp = layer.convolution_param
    kh, kw = _pair(cp.kernel_size, cp.kernel_h, cp.kernel_w, cp.HasField("kernel_h"), 0)
    sh, sw = _pair(cp.stride, cp.stride_h, cp.stride_w, cp.HasField("stride_h"), 1)
    ph, pw = _pair(cp.pad, cp.pad_h, cp.pad_w, cp.HasField("pad_h") or cp.HasField("pad_w"), 0)
    dh, dw = _pair(cp.dilation, 1, 1, False, 1)
    return {"kernel": (kh, kw), "stride": (sh, sw), "pad": (ph, pw), "dilation": (dh, dw),
            "group": int(cp.group), "bias": bool(cp.bias_term), "num_output": int(cp.num_output)}


def _make_conv(template, name: str, bottom: str, top: str, num_output: int, kernel=(1, 1), stride=(1, 1),
               pad=(0, 0), dilation=(1, 1), group: int = 1, bias: bool = False):
    layer = pb.LayerParameter()
    layer.name, layer.type = name, "Convolution"
    layer.bottom.append(bottom)
    layer.top.append(top)
    for rule in list(template.include):
        layer.include.add().CopyFrom(rule)
    for rule in list(template.exclude):
        layer.exclude.add().CopyFrom(rule)
    cp = layer.convolution_param
    cp.num_output = int(num_output)
    cp.bias_term = bool(bias)
    if kernel[0] == kernel[1]:
        cp.kernel_size.append(kernel[0])
    else:
        cp.kernel_h, cp.kernel_w = kernel
    if stride != (1, 1):
        if stride[0] == stride[1]:
            cp.stride.append(stride[0])
        else:
            cp.stride_h, cp.stride_w = stride
    if pad != (0, 0):
        if pad[0] == pad[1]:
            cp.pad.append(pad[0])
        else:
            cp.pad_h, cp.pad_w = pad
    if dilation != (1, 1):
        cp.dilation.extend(dilation)
    if group != 1:
        cp.group = int(group)
    return layer


def _find_conv(net, name: str | None, weights):
    convs = [i for i, l in enumerate(net.layer) if l.type == "Convolution"]
    if not convs:
        raise LayerError("the net has no Convolution layer")
    if name is None:
        idx = convs[0]
    else:
        idx = next((i for i, l in enumerate(net.layer) if l.name == name), None)
        if idx is None:
            raise LayerError(f"no layer named '{name}'", name)
        if net.layer[idx].type != "Convolution":
            raise LayerError(f"layer '{name}' is a {net.layer[idx].type}, not a Convolution", name)
    layer = net.layer[idx]
    if layer.name not in weights:
        raise LayerError(f"no weights for layer '{layer.name}'", layer.name)
    spec = conv_spec(layer)
    if spec["group"] != 1:
        raise LayerError(f"layer '{layer.name}': grouped convolutions (group {spec['group']}) are not supported",
                         layer.name)
    return idx, layer, spec


def _copy(net, weights):
    out = pb.NetParameter()
    out.CopyFrom(net)
    return out, {k: [np.array(a, np.float32, copy=True) for a in v] for k, v in weights.items()}


def _replace(net, idx: int, new_layers) -> None:
    layers = list(net.layer)
    layers[idx:idx + 1] = new_layers
    del net.layer[:]
    for l in layers:
        net.layer.add().CopyFrom(l)


# --------------------------------------------------------------------------------------------------
# Channel order: absorb a permutation of a blob's channels into its consumers
# --------------------------------------------------------------------------------------------------
def absorb_channel_order(net, weights, producer: int, source) -> bool:
    """The layer at index `producer` now writes channel j = old channel source[j] (-1: a zero
    channel). Rewrite every consumer reached through channel-wise layers so the net computes what it
    did: Convolution (group 1) and InnerProduct get their input weights re-indexed. Returns False, and
    changes nothing, when some path ends anywhere else (a net output, Concat, Eltwise, LRN across
    channels, a layer with per-channel parameters...)."""
    source = np.asarray(source)
    n_old = int(source.max()) + 1
    blob = net.layer[producer].top[0]
    live = {blob}
    fixes = []
    used = {blob: False}
    for i in range(producer + 1, len(net.layer)):
        layer = net.layer[i]
        hit = [b for b in layer.bottom if b in live]
        if not hit:
            # a layer writing a live name that it does not read ends that name's life
            for t in layer.top:
                live.discard(t)
            continue
        inplace = list(layer.top) == list(layer.bottom)
        lrn_within = layer.type == "LRN" and layer.lrn_param.norm_region == pb.LRNParameter.WITHIN_CHANNEL
        if (layer.type in CHANNELWISE or lrn_within) and len(layer.bottom) == 1 and layer.name not in weights:
            if not inplace:
                used[layer.bottom[0]] = True
                for t in layer.top:
                    live.add(t)
                    used.setdefault(t, False)
            continue
        if len(layer.bottom) != 1 or layer.name not in weights:
            return False
        if layer.type == "Convolution" and conv_spec(layer)["group"] == 1:
            fixes.append(("conv", layer.name))
        elif layer.type == "InnerProduct" and layer.inner_product_param.axis == 1 and \
                not layer.inner_product_param.transpose:
            fixes.append(("ip", layer.name))
        else:
            return False
        used[layer.bottom[0]] = True
    if not all(used.get(b, False) for b in live):
        return False  # some permuted blob is a net output
    for kind, name in fixes:
        W = weights[name][0]
        keep = source >= 0
        if kind == "conv":
            if W.shape[1] != n_old:
                return False
            new = np.zeros((W.shape[0], len(source)) + W.shape[2:], np.float32)
            new[:, keep] = W[:, source[keep]]
        else:
            O, D = W.shape[0], int(np.prod(W.shape[1:]))
            if D % n_old:
                return False
            W3 = W.reshape(O, n_old, D // n_old)
            new = np.zeros((O, len(source), D // n_old), np.float32)
            new[:, keep] = W3[:, source[keep]]
            new = new.reshape(O, -1)
        weights[name][0] = new
    return True


def _padded_cluster_order(assignment: np.ndarray, k: int):
    """Filters sorted by cluster, each cluster padded to the largest size with -1 (a zero filter)."""
    size = int(np.bincount(assignment, minlength=k).max())
    source = np.full(k * size, -1, np.int64)
    for j in range(k):
        m = np.flatnonzero(assignment == j)
        source[j * size:j * size + len(m)] = m
    return source, size


# --------------------------------------------------------------------------------------------------
# Monochromatic first layer
# --------------------------------------------------------------------------------------------------
def monochromatic_first_layer(net, weights, *, n_colors: int, layer: str | None = None, input_cov=None,
                              alpha=None, seed: int = 0, input_hw: tuple | None = None, fused: bool = False):
    """Replace the first convolution (or `layer`) by its monochromatic approximation with `n_colors`
    colour channels. Returns (NetParameter, weights, report); report["engines"] names the engine for
    recaffe.Net(engines=...), report["factors"] the MonochromaticFactors. input_cov: the C x C
    covariance of the layer's input channels (data metric), see `input_channel_covariance`; alpha:
    the layer's gradient weights (gradient metric), see `recaffe.train.gradient_alpha`.
    fused: one recaffe "MonochromaticConvolution" layer (colour transform and grouped conv in one pass,
    the fast form for many colours) instead of the two standard convolutions; Caffe cannot load it."""
    net, weights = _copy(net, weights)
    idx, old, spec = _find_conv(net, layer, weights)
    W = weights[old.name][0]
    bias = weights[old.name][1] if spec["bias"] else None
    F, C, kh, kw = W.shape
    fac = df.monochromatic(W, n_colors, input_cov=input_cov, alpha=alpha, seed=seed)
    source, size = _padded_cluster_order(fac.assignment, n_colors)
    keep = source >= 0
    color = _make_conv(old, f"{old.name}_color", old.bottom[0], f"{old.name}_color", n_colors)
    grouped_top = old.top[0]
    mono = _make_conv(old, old.name, f"{old.name}_color", grouped_top, len(source), spec["kernel"], spec["stride"],
                      spec["pad"], spec["dilation"], group=n_colors, bias=spec["bias"])
    for p in old.param:
        mono.param.add().CopyFrom(p)
    wm = np.zeros((len(source), 1, kh, kw), np.float32)
    wm[keep, 0] = fac.spatial[source[keep]]
    new_w = {color.name: [fac.colors.reshape(n_colors, C, 1, 1).astype(np.float32)], mono.name: [wm]}
    if bias is not None:
        b = np.zeros(len(source), np.float32)
        b[keep] = bias[source[keep]]
        new_w[mono.name].append(b)
    if fused:
        mono.type = "MonochromaticConvolution"
        mono.bottom[0] = old.bottom[0]
        _replace(net, idx, [mono])
        weights.pop(old.name)
        weights[mono.name] = new_w[color.name] + new_w[mono.name]
    else:
        _replace(net, idx, [color, mono])
        weights.pop(old.name)
        weights.update(new_w)
    mono_index = idx if fused else idx + 1
    identity = len(source) == F and np.array_equal(source, np.arange(F))
    how = "identity"
    engines = {} if fused else {mono.name: "mono"}
    if not identity:
        if absorb_channel_order(net, weights, mono_index, source):
            how = "absorbed into the consumers"
        else:
            how = "1x1 permutation conv"
            inner = f"{old.name}_grouped"
            net.layer[mono_index].top[0] = inner
            perm = _make_conv(old, f"{old.name}_order", inner, grouped_top, F)
            P = np.zeros((F, len(source), 1, 1), np.float32)
            P[source[keep], np.flatnonzero(keep), 0, 0] = 1.0
            after = mono_index + 1
            _replace(net, after, [perm, net.layer[after]] if after < len(net.layer) else [perm])
            weights[perm.name] = [P]
            engines[perm.name] = "blocksparse"
    in_hw, out_hw = _hw(input_hw, spec, kh, kw)
    W_approx = fac.weights()
    report = {
        "layer": old.name, "kind": "monochromatic", "n_colors": n_colors, "C": C, "F": F, "kernel": (kh, kw),
        "cluster_sizes": np.bincount(fac.assignment, minlength=n_colors).tolist(), "zero_filters": int((~keep).sum()),
        "order": how, "engines": engines, "factors": fac, "weights_approx": W_approx,
        "weight_error": df.relative_error(W, W_approx),
        "weight_error_data": None if input_cov is None else df.relative_error(W, W_approx, input_cov),
        "weight_error_gradient": None if alpha is None else df.relative_error(W, W_approx, alpha=alpha),
        "params": df.monochromatic_params(C, F, kh, kw, n_colors), "params_original": df.conv_params(C, F, kh, kw),
    }
    if in_hw is not None:
        report["ops"] = df.monochromatic_ops(C, F, kh, kw, n_colors, in_hw, out_hw)
        report["ops_original"] = df.conv_ops(C, F, kh, kw, out_hw)
        report["mac_reduction"] = report["ops_original"] / report["ops"]
    report["weight_reduction"] = report["params_original"] / report["params"]
    return net, weights, report


def _hw(input_hw, spec, kh, kw):
    if input_hw is None:
        return None, None
    H, Wd = input_hw
    (sh, sw), (ph, pw), (dh, dw) = spec["stride"], spec["pad"], spec["dilation"]
    Ho = (H + 2 * ph - (dh * (kh - 1) + 1)) // sh + 1
    Wo = (Wd + 2 * pw - (dw * (kw - 1) + 1)) // sw + 1
    return H * Wd, Ho * Wo


# --------------------------------------------------------------------------------------------------
# Biclustering
# --------------------------------------------------------------------------------------------------
def bicluster_layer(net, weights, layer: str, *, G: int, H: int, method: str = "svd", K: int | None = None,
                    K1: int | None = None, K2: int | None = None, input_cov=None, alpha=None, seed: int = 0,
                    input_hw: tuple | None = None):
    """Replace Convolution `layer` by its biclustering approximation (G input groups, H output groups;
    method "outer" with rank K or "svd" with ranks K1, K2). Returns (NetParameter, weights, report)."""
    net, weights = _copy(net, weights)
    idx, old, spec = _find_conv(net, layer, weights)
    W = weights[old.name][0]
    bias = weights[old.name][1] if spec["bias"] else None
    F, C, kh, kw = W.shape
    fac = df.bicluster(W, G, H, method=method, K=K, K1=K1, K2=K2, input_cov=input_cov, alpha=alpha, seed=seed)
    blocks = [(g, h) for g in range(G) for h in range(H)]
    r_in = {b: fac.blocks[b].project.shape[0] for b in blocks}
    r_out = {b: fac.blocks[b].core.shape[0] for b in blocks}
    if len(set(r_in.values())) != 1 or len(set(r_out.values())) != 1:
        raise LayerError(f"layer '{old.name}': ranks larger than a group's size are clipped unequally; "
                         f"choose K1 <= C/G and K2 <= F/H", old.name)
    ri, ro = r_in[blocks[0]], r_out[blocks[0]]
    n_mid_in, n_mid_out = len(blocks) * ri, len(blocks) * ro
    Wp = np.zeros((n_mid_in, C, 1, 1), np.float32)
    depthwise = method == "outer"
    Wc = np.zeros((n_mid_out, 1 if depthwise else ri, kh, kw), np.float32)
    We = np.zeros((F, n_mid_out, 1, 1), np.float32)
    for bi, (g, h) in enumerate(blocks):
        blk = fac.blocks[(g, h)]
        Wp[bi * ri:(bi + 1) * ri, fac.in_groups[g], 0, 0] = blk.project
        Wc[bi * ro:(bi + 1) * ro] = blk.core
        We[np.ix_(fac.out_groups[h], np.arange(bi * ro, (bi + 1) * ro))] = blk.expand[:, :, None, None]
    proj = _make_conv(old, f"{old.name}_project", old.bottom[0], f"{old.name}_project", n_mid_in)
    core = _make_conv(old, f"{old.name}_core", proj.top[0], f"{old.name}_core", n_mid_out, spec["kernel"],
                      spec["stride"], spec["pad"], spec["dilation"],
                      group=n_mid_out if depthwise else len(blocks))
    expand = _make_conv(old, old.name, core.top[0], old.top[0], F, bias=spec["bias"])
    for p in old.param:
        expand.param.add().CopyFrom(p)
    _replace(net, idx, [proj, core, expand])
    weights.pop(old.name)
    weights[proj.name] = [Wp]
    weights[core.name] = [Wc]
    weights[expand.name] = [We] + ([bias.astype(np.float32)] if bias is not None else [])
    engines = {proj.name: "blocksparse", core.name: "mono" if depthwise else "gemm", expand.name: "blocksparse"}
    W_approx = fac.weights()
    in_hw, out_hw = _hw(input_hw, spec, kh, kw)
    if method == "outer":
        params = df.bicluster_outer_params(C, F, kh, kw, G, H, K)
    else:
        params = df.bicluster_svd_params(C, F, kh, kw, G, H, ri, ro)
    report = {
        "layer": old.name, "kind": f"bicluster_{method}", "G": G, "H": H, "C": C, "F": F, "kernel": (kh, kw),
        "ranks": (K,) if method == "outer" else (ri, ro), "engines": engines, "factors": fac,
        "weights_approx": W_approx, "weight_error": df.relative_error(W, W_approx),
        "weight_error_data": None if input_cov is None else df.relative_error(W, W_approx, input_cov),
        "weight_error_gradient": None if alpha is None else df.relative_error(W, W_approx, alpha=alpha),
        "params": params, "params_original": df.conv_params(C, F, kh, kw),
    }
    report["weight_reduction"] = report["params_original"] / report["params"]
    if in_hw is not None:
        report["ops"] = (df.bicluster_outer_ops(C, F, kh, kw, G, H, K, in_hw, out_hw) if method == "outer" else
                         df.bicluster_svd_ops(C, F, kh, kw, G, H, ri, ro, in_hw, out_hw))
        report["ops_original"] = df.conv_ops(C, F, kh, kw, out_hw)
        report["mac_reduction"] = report["ops_original"] / report["ops"]
    return net, weights, report


# --------------------------------------------------------------------------------------------------
# Data for the metric and the output error
# --------------------------------------------------------------------------------------------------
def input_channel_covariance(net, layer: str, inputs: dict) -> np.ndarray:
    """The C x C second moment E[x x^T] of the channel vectors entering Convolution `layer` of the
    recaffe.Net `net`, over all pixels of `inputs` (a dict for net.forward): the data metric of Eq. 3
    restricted to channels, uncentred so that a shifted mean counts as output error too."""
    bottom = net.bottom_names[layer][0]
    net.forward(end=layer, **inputs)
    x = net.blobs[bottom].data
    X = np.moveaxis(x, 1, 0).reshape(x.shape[1], -1).astype(np.float64)
    return X @ X.T / X.shape[1]


def relative_output_error(reference: np.ndarray, approx: np.ndarray) -> float:
    """||y~ - y|| / ||y|| over a batch of a layer's outputs."""
    ref = np.asarray(reference, np.float64)
    return float(np.linalg.norm(np.asarray(approx, np.float64) - ref) / max(np.linalg.norm(ref), 1e-30))


def layer_output_error(net, layer: str, weights_approx, inputs: dict) -> float:
    """Relative error of Convolution `layer`'s output when its weights are replaced by the
    approximation `weights_approx` (report["weights_approx"]), on `inputs`, measured in the original
    recaffe.Net `net` (whose weights are restored afterwards)."""
    top = net.top_names[layer][0]
    ref = net.forward(end=layer, **inputs)[top]
    blob = net.params[layer][0]
    saved = blob.data.copy()
    try:
        blob.data = np.asarray(weights_approx, np.float32)
        approx = net.forward(end=layer, **inputs)[top]
    finally:
        blob.data = saved
    return relative_output_error(ref, approx)
