"""A Caffe network as a PyTorch module, with Caffe's semantics, and its weights back as Caffe blobs.

    tnet = TorchNet("deploy.prototxt", weights)          # weights: caffemodel path or {layer: [ndarray]}
    scores = tnet(x)["prob"]                             # x: N x C x H x W float tensor
    tnet.caffe_weights()                                  # {layer: [ndarray]} in Caffe's blob shapes
    recaffe.save(tnet.net_param, tnet.caffe_weights(), "out.prototxt", "out.caffemodel")

Parameter shapes are inferred here (not by recaffe's C++ net), so a train net with BatchNorm/Scale
layers works even where the inference engine lacks them; layers without weights get the
prototxt's fillers (seeded), as Caffe initialises a new net.
"""
from __future__ import annotations

import os
from typing import Mapping

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import LayerError, UnknownLayerError
from ..fillers import apply_filler
from ..graph import check_tops, filter_net
from ..io import match_weights, read_net, read_weights
from ..io.proto import pb
from . import caffe_ops



def _error(message: str, layer: str | None = None, field: str | None = None) -> LayerError:
    """A LayerError whose message names the layer (and field)."""
    where = (f"layer '{layer}'" if layer else "") + (f", field '{field}'" if field else "")
    return LayerError(f"{where}: {message}" if where else message, layer)

def _two(layer_name: str, values, field: str, default: int | None) -> tuple[int, int]:
    """(h, w) from a repeated Caffe field with 0, 1 or 2 values."""
    vals = [int(v) for v in values]
    if not vals:
        if default is None:
            raise _error(f"convolution_param.{field} is required", layer_name, f"convolution_param.{field}")
        return default, default
    if len(vals) > 2:
        raise _error(f"{field}: only 2-D convolution is supported, got {len(vals)} values", layer_name)
    return (vals[0], vals[-1])


class CaffeLayer(nn.Module):
    """One Caffe layer: `forward(bottoms) -> tops`; `blobs` lists its Caffe blobs in order."""

    def __init__(self, layer: "pb.LayerParameter"):
        super().__init__()
        self.name, self.type = layer.name, layer.type
        self.bottoms, self.tops = list(layer.bottom), list(layer.top)

    def blob_tensors(self) -> list[torch.Tensor]:
        return []


def _param(shape) -> nn.Parameter:
    return nn.Parameter(torch.zeros(tuple(int(d) for d in shape)))


class Convolution(CaffeLayer):
    def __init__(self, layer, shapes):
        super().__init__(layer)
        p = layer.convolution_param
        if p.axis != 1:
            raise _error("convolution_param.axis other than 1 is not supported by the training bridge", layer.name)
        if len(shapes[0]) != 4:
            raise _error(f"the bridge supports 2-D convolution only; input shape {shapes[0]}", layer.name)
        has = p.HasField
        self.kernel = (int(p.kernel_h), int(p.kernel_w)) if has("kernel_h") or has("kernel_w") else \
            _two(layer.name, p.kernel_size, "kernel_size", None)
        self.pad = (int(p.pad_h), int(p.pad_w)) if has("pad_h") or has("pad_w") else _two(layer.name, p.pad, "pad", 0)
        self.stride = (int(p.stride_h), int(p.stride_w)) if has("stride_h") or has("stride_w") else \
            _two(layer.name, p.stride, "stride", 1)
        self.dilation = _two(layer.name, p.dilation, "dilation", 1)
        self.group = int(p.group)
        cin = shapes[0][1]
        if cin % self.group or p.num_output % self.group:
            raise _error(f"channels {cin} and num_output {p.num_output} must be divisible by group "
                             f"{self.group}", layer.name, "group")
        self.weight = _param((p.num_output, cin // self.group, *self.kernel))
        self.bias = _param((p.num_output,)) if p.bias_term else None

    def blob_tensors(self):
        return [self.weight] + ([self.bias] if self.bias is not None else [])

    def forward(self, bottoms):
        return [F.conv2d(bottoms[0], self.weight, self.bias, self.stride, self.pad, self.dilation, self.group)]


class InnerProduct(CaffeLayer):
    def __init__(self, layer, shapes):
        super().__init__(layer)
        p = layer.inner_product_param
        self.axis = p.axis % len(shapes[0])
        k = int(np.prod(shapes[0][self.axis:]))
        self.transpose = p.transpose
        self.weight = _param((k, p.num_output) if p.transpose else (p.num_output, k))
        self.bias = _param((p.num_output,)) if p.bias_term else None

    def blob_tensors(self):
        return [self.weight] + ([self.bias] if self.bias is not None else [])

    def forward(self, bottoms):
        x = bottoms[0].flatten(self.axis)
        w = self.weight.t() if self.transpose else self.weight
        return [F.linear(x, w, self.bias)]


class Pooling(CaffeLayer):
    def __init__(self, layer, shapes):
        super().__init__(layer)
        p = layer.pooling_param
        if p.pool not in (p.MAX, p.AVE):
            raise _error("only MAX and AVE pooling are supported (STOCHASTIC has no test-phase form)",
                             layer.name, "pooling_param.pool")
        self.max = p.pool == p.MAX
        self.global_ = p.global_pooling
        self.ceil = p.round_mode == p.CEIL
        if self.global_:
            self.kernel, self.pad, self.stride = None, (0, 0), (1, 1)
        else:
            self.kernel = (int(p.kernel_h), int(p.kernel_w)) if p.HasField("kernel_h") else \
                (int(p.kernel_size), int(p.kernel_size))
            self.pad = (int(p.pad_h), int(p.pad_w)) if p.HasField("pad_h") or p.HasField("pad_w") else \
                (int(p.pad), int(p.pad))
            self.stride = (int(p.stride_h), int(p.stride_w)) if p.HasField("stride_h") or p.HasField("stride_w") \
                else (int(p.stride), int(p.stride))

    def forward(self, bottoms):
        x = bottoms[0]
        kernel = tuple(x.shape[-2:]) if self.global_ else self.kernel
        op = caffe_ops.max_pool if self.max else caffe_ops.ave_pool
        return [op(x, kernel, self.stride, self.pad, self.ceil)]


class Elementwise(CaffeLayer):
    """ReLU (leaky), Sigmoid, TanH, AbsVal, Clip, Dropout, Softmax, Flatten, Split."""

    def __init__(self, layer, shapes, phase):
        super().__init__(layer)
        t = layer.type
        self.train_phase = phase == "train"
        if t == "ReLU":
            slope = layer.relu_param.negative_slope
            self.fn = (lambda x: F.leaky_relu(x, slope)) if slope else F.relu
        elif t == "Sigmoid":
            self.fn = torch.sigmoid
        elif t == "TanH":
            self.fn = torch.tanh
        elif t == "AbsVal":
            self.fn = torch.abs
        elif t == "Clip":
            lo, hi = layer.clip_param.min, layer.clip_param.max
            self.fn = lambda x: torch.clamp(x, lo, hi)
        elif t == "Softmax":
            axis = layer.softmax_param.axis
            self.fn = lambda x: F.softmax(x, dim=axis)
        elif t == "Flatten":
            a, e = layer.flatten_param.axis, layer.flatten_param.end_axis
            self.fn = lambda x: x.flatten(a % x.dim(), e % x.dim())
        elif t == "Dropout":
            ratio, scale_train = layer.dropout_param.dropout_ratio, layer.dropout_param.scale_train
            self.ratio, self.scale_train = float(ratio), scale_train
            self.fn = self._dropout
        elif t == "Split":
            self.fn = None
        else:  # pragma: no cover - guarded by LAYER_TYPES
            raise UnknownLayerError(f"no bridge for {t}", layer.name, t)

    def _dropout(self, x):
        if self.training:
            y = F.dropout(x, self.ratio, True)
            return y if self.scale_train else y * (1.0 - self.ratio)
        return x if self.scale_train else x * (1.0 - self.ratio)

    def forward(self, bottoms):
        if self.fn is None:
            return [bottoms[0]] * len(self.tops)
        return [self.fn(bottoms[0])]


class LRN(CaffeLayer):
    def __init__(self, layer, shapes):
        super().__init__(layer)
        p = layer.lrn_param
        if p.local_size % 2 == 0:
            raise _error("LRN only supports odd values for local_size", layer.name, "lrn_param.local_size")
        self.size, self.alpha, self.beta, self.k = int(p.local_size), p.alpha, p.beta, p.k
        self.across = p.norm_region == p.ACROSS_CHANNELS

    def forward(self, bottoms):
        if self.across:
            return [caffe_ops.lrn_across_channels(bottoms[0], self.size, self.alpha, self.beta, self.k)]
        return [caffe_ops.lrn_within_channel(bottoms[0], self.size, self.alpha, self.beta)]


class BatchNorm(CaffeLayer):
    """Caffe's BatchNorm: blobs (mean sum, variance sum, scale factor); in training the batch
    statistics normalise and the sums follow Caffe's moving average (factor = maf * factor + 1)."""

    def __init__(self, layer, shapes, phase):
        super().__init__(layer)
        p = layer.batch_norm_param
        c = shapes[0][1] if len(shapes[0]) > 1 else 1
        self.eps, self.maf = p.eps, p.moving_average_fraction
        self.use_global = p.use_global_stats if p.HasField("use_global_stats") else phase != "train"
        self.register_buffer("mean_sum", torch.zeros(c))
        self.register_buffer("var_sum", torch.zeros(c))
        self.register_buffer("factor", torch.zeros(1))

    def blob_tensors(self):
        return [self.mean_sum, self.var_sum, self.factor]

    def _stats(self):
        f = float(self.factor)
        s = 0.0 if f == 0 else 1.0 / f
        return self.mean_sum * s, self.var_sum * s

    def forward(self, bottoms):
        x = bottoms[0]
        if self.use_global or not self.training:
            mean, var = self._stats()
            return [F.batch_norm(x, mean, var, None, None, False, 0.0, self.eps)]
        c = x.shape[1]
        bm, bv = torch.zeros(c, dtype=x.dtype), torch.zeros(c, dtype=x.dtype)
        y = F.batch_norm(x, bm, bv, None, None, True, 1.0, self.eps)  # bm, bv <- batch mean, unbiased var
        with torch.no_grad():
            self.factor.mul_(self.maf).add_(1.0)
            self.mean_sum.mul_(self.maf).add_(bm.to(self.mean_sum.dtype))
            self.var_sum.mul_(self.maf).add_(bv.to(self.var_sum.dtype))
        return [y]


class Scale(CaffeLayer):
    """Per-channel y = gamma * x (+ beta) with one bottom (axis 1, num_axes 1); Bias: y = x + beta."""

    def __init__(self, layer, shapes):
        super().__init__(layer)
        if len(layer.bottom) != 1:
            raise _error(f"{layer.type} with a second bottom is not supported by the training bridge",
                             layer.name, "bottom")
        p = layer.scale_param if layer.type == "Scale" else layer.bias_param
        if p.axis != 1 or p.num_axes != 1:
            raise _error("only axis 1, num_axes 1 is supported by the training bridge", layer.name)
        c = shapes[0][1]
        if layer.type == "Scale":
            self.gamma = _param((c,))
            self.beta = _param((c,)) if p.bias_term else None
        else:
            self.gamma, self.beta = None, _param((c,))

    def blob_tensors(self):
        return [t for t in (self.gamma, self.beta) if t is not None]

    def forward(self, bottoms):
        x = bottoms[0]
        view = (1, -1) + (1,) * (x.dim() - 2)
        if self.gamma is not None:
            x = x * self.gamma.view(view)
        if self.beta is not None:
            x = x + self.beta.view(view)
        return [x]


class Eltwise(CaffeLayer):
    def __init__(self, layer, shapes):
        super().__init__(layer)
        p = layer.eltwise_param
        self.op = p.operation
        self.coeff = list(p.coeff) or [1.0] * len(layer.bottom)
        if len(self.coeff) != len(layer.bottom):
            raise _error("Eltwise needs one coeff per bottom", layer.name, "eltwise_param.coeff")
        if p.coeff and self.op != p.SUM:
            raise _error("Eltwise coeffs apply to SUM only", layer.name, "eltwise_param.coeff")

    def forward(self, bottoms):
        p = pb.EltwiseParameter
        if self.op == p.SUM:
            y = bottoms[0] * self.coeff[0] if self.coeff[0] != 1 else bottoms[0]
            for c, b in zip(self.coeff[1:], bottoms[1:]):
                y = y + (b * c if c != 1 else b)
            return [y]
        y = bottoms[0]
        for b in bottoms[1:]:
            y = y * b if self.op == p.PROD else torch.maximum(y, b)
        return [y]


class Concat(CaffeLayer):
    def __init__(self, layer, shapes):
        super().__init__(layer)
        p = layer.concat_param
        self.axis = p.axis if not p.HasField("concat_dim") else p.concat_dim

    def forward(self, bottoms):
        return [torch.cat(bottoms, dim=self.axis)]


_ELEMENTWISE = ("ReLU", "Sigmoid", "TanH", "AbsVal", "Clip", "Softmax", "Flatten", "Dropout", "Split")
LAYER_TYPES = ("Input", "Convolution", "InnerProduct", "Pooling", "LRN", "BatchNorm", "Scale", "Bias",
               "Eltwise", "Concat", "ViP", "Interp") + _ELEMENTWISE


_CUSTOM: dict = {}


def register_torch_layer(type_name: str, factory) -> None:
    """Give the bridge a layer type it lacks (e.g. a technique's own layer): `factory(layer_param,
    bottom_shapes, phase)` returns a CaffeLayer subclass instance; registered types take precedence."""
    if not callable(factory):
        raise TypeError("register_torch_layer needs a callable returning a CaffeLayer")
    _CUSTOM[type_name] = factory


def _build_layer(layer, shapes, phase):
    t = layer.type
    if t in _CUSTOM:
        return _CUSTOM[t](layer, shapes, phase)
    if t in ("ViP", "Interp"):
        from .vip_torch import ViP
        return ViP(layer, shapes)
    if t in _ELEMENTWISE:
        return Elementwise(layer, shapes, phase)
    if t == "BatchNorm":
        return BatchNorm(layer, shapes, phase)
    if t in ("Scale", "Bias"):
        return Scale(layer, shapes)
    cls = {"Convolution": Convolution, "InnerProduct": InnerProduct, "Pooling": Pooling, "LRN": LRN,
           "Eltwise": Eltwise, "Concat": Concat}.get(t)
    if cls is None:
        raise UnknownLayerError(f"layer '{layer.name}': type '{t}' has no PyTorch bridge (supported: "
                                f"{', '.join(LAYER_TYPES)}; add one with recaffe.train.register_torch_layer)",
                                layer.name, t)
    return cls(layer, shapes)


def _module_key(name: str) -> str:
    return "L_" + "".join(ch if ch.isalnum() or ch == "_" else f"_{ord(ch):x}_" for ch in name)


class TorchNet(nn.Module):
    """prototxt (path, text or NetParameter) + weights (caffemodel path, {layer: [ndarray]} or None:
    the prototxt's fillers, seeded) -> a module whose forward runs the layers in Caffe's order.

    forward(x or {input: x}, outputs=None) -> {blob: tensor} for the net's outputs (or `outputs`).
    phase "train" keeps train-only layers and makes BatchNorm use batch statistics in .train() mode.
    """

    def __init__(self, prototxt, weights=None, phase: str = "test", input_shapes: Mapping | None = None,
                 seed: int = 0):
        super().__init__()
        path = os.fspath(prototxt) if isinstance(prototxt, (str, os.PathLike)) and "{" not in str(prototxt) else None
        self.net_param = read_net(prototxt, path)
        from ..data_layers import replace_data_layers
        net = filter_net(self.net_param, phase, path=path)
        check_tops(net, path)
        net, _ = replace_data_layers(net, input_shapes, path)
        self.phase = phase
        self.graph = net
        self.inputs: list[str] = []
        self.layer_list = nn.ModuleList()
        shapes: dict[str, tuple] = {}
        probe: dict[str, torch.Tensor] = {}
        available: set[str] = set()   # Caffe's net outputs: tops not read by a later layer
        for layer in net.layer:
            if layer.type in ("SoftmaxWithLoss", "Accuracy", "EuclideanLoss", "SigmoidCrossEntropyLoss"):
                continue  # losses and metrics belong to the training loop, not the module
            if layer.type == "Input":
                ishapes = list(layer.input_param.shape)
                for j, top in enumerate(layer.top):
                    dims = tuple(input_shapes[top]) if input_shapes and top in input_shapes else \
                        tuple(ishapes[j if len(ishapes) > 1 else 0].dim)
                    shapes[top] = dims
                    probe[top] = torch.zeros((1,) + tuple(dims[1:]))
                    self.inputs.append(top)
                    available.add(top)
                continue
            for b in layer.bottom:
                if b not in probe:
                    raise _error(f"bottom blob '{b}' is not produced by any earlier layer", layer.name, "bottom")
            mod = _build_layer(layer, [tuple(probe[b].shape) for b in layer.bottom], phase)
            mod.eval()
            with torch.no_grad():
                outs = mod([probe[b] for b in layer.bottom])
            for t, o in zip(layer.top, outs):
                probe[t] = o
            available.difference_update(layer.bottom)
            available.update(layer.top)
            self.layer_list.append(mod)
        self.outputs = sorted(available)
        self.by_name = {m.name: m for m in self.layer_list}
        self._initialise(seed)
        if weights is not None:
            self.load_caffe_weights(weights)

    # --- weights --------------------------------------------------------------------------------
    def _initialise(self, seed: int) -> None:
        """Caffe's fillers from the prototxt (constant 0 where none is given; Scale's gamma 1)."""
        from ..fillers import _layer_fillers
        rng = np.random.default_rng(seed)
        layers = {l.name: l for l in self.graph.layer}
        with torch.no_grad():
            for mod in self.layer_list:
                if isinstance(mod, BatchNorm):
                    continue  # zero sums and factor: Caffe's initial state
                fillers = _layer_fillers(layers[mod.name])
                for i, t in enumerate(mod.blob_tensors()):
                    f = fillers[i] if i < len(fillers) else None
                    if isinstance(mod, Scale) and mod.gamma is None:
                        f = layers[mod.name].bias_param.filler if layers[mod.name].bias_param.HasField("filler") \
                            else None
                    if f is None:
                        t.zero_()
                    else:
                        t.copy_(torch.from_numpy(apply_filler(f, tuple(t.shape), rng)))

    def param_shapes(self) -> dict[str, list[tuple]]:
        return {m.name: [tuple(t.shape) for t in m.blob_tensors()] for m in self.layer_list if m.blob_tensors()}

    def load_caffe_weights(self, weights) -> None:
        """Copy weights in: a .caffemodel path or {layer: [ndarray]} (shapes as Caffe stores them)."""
        if isinstance(weights, (str, os.PathLike)):
            path = os.fspath(weights)
            _, stored = read_weights(path)
            weights = match_weights(stored, self.param_shapes(), path)
        with torch.no_grad():
            for name, arrays in weights.items():
                mod = self.by_name.get(name)
                if mod is None:
                    continue  # Caffe ignores layers the net lacks
                targets = mod.blob_tensors()
                if len(arrays) != len(targets):
                    raise _error(f"{len(arrays)} weight arrays given but the layer has {len(targets)} blobs", name)
                for k, (a, t) in enumerate(zip(arrays, targets)):
                    a = np.asarray(a, dtype=np.float32)
                    if a.size != t.numel():
                        raise _error(f"weight blob {k} has shape {a.shape} but the layer needs {tuple(t.shape)}",
                                         name)
                    t.copy_(torch.from_numpy(a.reshape(tuple(t.shape))))

    def caffe_weights(self) -> dict[str, list[np.ndarray]]:
        """{layer: [ndarray]} in Caffe's blob order and shapes (float32 copies)."""
        return {m.name: [t.detach().cpu().float().numpy().copy() for t in m.blob_tensors()]
                for m in self.layer_list if m.blob_tensors()}

    # --- running --------------------------------------------------------------------------------
    def forward(self, x, outputs=None) -> dict[str, torch.Tensor]:
        blobs = dict(x) if isinstance(x, Mapping) else {self.inputs[0]: x}
        missing = [i for i in self.inputs if i not in blobs]
        if missing:
            raise _error(f"inputs {missing} not given; the net's inputs are {self.inputs}")
        for mod in self.layer_list:
            outs = mod([blobs[b] for b in mod.bottoms])
            for t, o in zip(mod.tops, outs):
                blobs[t] = o
        want = self.outputs if outputs is None else list(outputs)
        return {k: blobs[k] for k in want}

    def logits_blob(self) -> str:
        """The blob a classification loss reads: the single output, or the bottom of a final Softmax."""
        if len(self.outputs) != 1:
            raise _error(f"the net has several outputs {self.outputs}; name the logits blob")
        out = self.outputs[0]
        for mod in self.layer_list:
            if out in mod.tops and mod.type == "Softmax":
                return mod.bottoms[0]
        return out


def to_torch(prototxt, weights=None, phase: str = "test", **kw) -> TorchNet:
    """recaffe net + weights -> TorchNet (see TorchNet)."""
    return TorchNet(prototxt, weights, phase, **kw)


def to_caffe(tnet: TorchNet, prototxt, caffemodel, net_param=None) -> None:
    """Write a TorchNet's network (or `net_param`) and current weights as Caffe files."""
    from ..io import save
    save(net_param if net_param is not None else tnet.net_param, tnet.caffe_weights(), prototxt, caffemodel)
