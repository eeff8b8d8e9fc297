"""Fold Caffe BatchNorm (+ Scale) layers into the Convolution / InnerProduct before them, so a net
trained with batch normalisation deploys as plain convolutions (same outputs, fewer layers).

    param, weights = fold_batchnorm(param, weights)
"""
from __future__ import annotations

import numpy as np

from ..errors import LayerError
from ..io.proto import pb



def _error(message: str, layer: str | None = None, field: str | None = None) -> LayerError:
    """A LayerError whose message names the layer (and field)."""
    where = (f"layer '{layer}'" if layer else "") + (f", field '{field}'" if field else "")
    return LayerError(f"{where}: {message}" if where else message, layer)

def _bn_stats(layer: "pb.LayerParameter", blobs) -> tuple[np.ndarray, np.ndarray]:
    mean, var, factor = (np.asarray(b, np.float64).reshape(-1) for b in blobs)
    s = 0.0 if factor[0] == 0 else 1.0 / factor[0]   # Caffe: a zero factor means zero statistics
    return mean * s, var * s


def fold_batchnorm(net: "pb.NetParameter", weights: dict) -> tuple["pb.NetParameter", dict]:
    """A copy of (net, weights) where each BatchNorm, and a Scale right after it, that reads the
    top of a Convolution or InnerProduct (read by nothing else) is merged into that layer's
    weights and bias. Any other BatchNorm raises LayerError naming it."""
    layers = list(net.layer)
    producer = {}
    readers: dict[str, int] = {}
    for layer in layers:
        for b in layer.bottom:
            readers[b] = readers.get(b, 0) + 1
    out_w = {k: [np.array(a, np.float32, copy=True) for a in v] for k, v in weights.items()}
    drop: set[str] = set()
    bias_added: set[str] = set()
    for i, layer in enumerate(layers):
        if layer.type != "BatchNorm":
            for t in layer.top:
                producer[t] = layer
            continue
        src = producer.get(layer.bottom[0])
        if src is None or src.type not in ("Convolution", "InnerProduct"):
            raise _error("BatchNorm can only be folded into a Convolution or InnerProduct before it",
                             layer.name)
        in_place = layer.top[0] == layer.bottom[0]
        if not in_place and readers.get(layer.bottom[0], 0) > 1:
            raise _error(f"'{layer.bottom[0]}' is read by other layers, so BatchNorm cannot be folded",
                             layer.name)
        if layer.name not in out_w:
            raise _error("BatchNorm has no weights to fold", layer.name)
        mean, var = _bn_stats(layer, out_w[layer.name])
        a = 1.0 / np.sqrt(var + layer.batch_norm_param.eps)
        b = -mean * a
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if nxt is not None and nxt.type == "Scale" and len(nxt.bottom) == 1 and nxt.bottom[0] == layer.top[0]:
            sw = out_w[nxt.name]
            gamma = np.asarray(sw[0], np.float64).reshape(-1)
            beta = np.asarray(sw[1], np.float64).reshape(-1) if nxt.scale_param.bias_term else 0.0
            a, b = a * gamma, b * gamma + beta
            drop.add(nxt.name)
            last_top = nxt.top[0]
        else:
            last_top = layer.top[0]
        w = out_w.setdefault(src.name, [])
        shape = (-1,) + (1,) * (w[0].ndim - 1)
        if src.type == "InnerProduct" and src.inner_product_param.transpose:
            w[0] = (w[0].astype(np.float64) * a[None, :]).astype(np.float32)
        else:
            w[0] = (w[0].astype(np.float64) * a.reshape(shape)).astype(np.float32)
        old_bias = w[1].astype(np.float64) if len(w) > 1 else 0.0
        new_bias = (old_bias * a + b).astype(np.float32)
        if len(w) > 1:
            w[1] = new_bias
        else:
            w.append(new_bias)
            bias_added.add(src.name)
        drop.add(layer.name)
        if last_top != src.top[0]:
            raise _error("folding needs the BatchNorm/Scale to work in place on the layer's top", layer.name)
    new = pb.NetParameter()
    new.CopyFrom(net)
    del new.layer[:]
    for layer in layers:
        if layer.name in drop:
            out_w.pop(layer.name, None)
            continue
        copy = new.layer.add()
        copy.CopyFrom(layer)
        if layer.name in bias_added:
            param = copy.convolution_param if layer.type == "Convolution" else copy.inner_product_param
            param.bias_term = True
    return new, out_w
