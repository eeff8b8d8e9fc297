"""Caffe's fillers (filler.hpp) and seeded random weights for timing runs.

`fill_weights(net, seed, defaults="caffe")` does what Caffe does for a net without weights: each
blob gets its layer's filler (constant 0 when none is given; Scale's gamma 1). `random_weights`
uses the fillers a file gives, and for the many deploy files that give none, sensible random
values (He/MSRA weights, small random biases, random BatchNorm statistics) so that every layer
computes something non-trivial."""
from __future__ import annotations

import numpy as np

from .errors import LayerError
from .io.proto import pb


def _fans(shape):
    count = int(np.prod(shape)) if shape else 1
    fan_in = count // shape[0] if shape and shape[0] else count
    fan_out = count // shape[1] if len(shape) > 1 and shape[1] else count
    return fan_in, fan_out


def _uniform(rng, low, high, shape) -> np.ndarray:
    # drawn in float32 directly: half the memory and a third of the time of float64 for VGG's 138 M values
    out = rng.random(shape, dtype=np.float32)
    out *= np.float32(high - low)
    out += np.float32(low)
    return out


def _normal(rng, mean, std, shape) -> np.ndarray:
    out = rng.standard_normal(shape, dtype=np.float32)
    out *= np.float32(std)
    out += np.float32(mean)
    return out


def apply_filler(filler: "pb.FillerParameter", shape, rng: np.random.Generator) -> np.ndarray:
    t = filler.type
    shape = tuple(int(d) for d in shape)
    if t != "gaussian" and filler.sparse != -1:
        raise LayerError(f"the {t} filler does not support sparse (Caffe: 'Sparsity not supported by this Filler')")
    if t == "constant":
        return np.full(shape, filler.value, np.float32)
    if t == "uniform":
        return _uniform(rng, filler.min, filler.max, shape)
    if t == "gaussian":
        out = _normal(rng, filler.mean, filler.std, shape)
        if filler.sparse >= 0 and len(shape) >= 1:
            # Caffe's GaussianFiller: each value survives with probability sparse / shape[0]
            p = filler.sparse / shape[0]
            out *= rng.random(shape) < p
        return out
    if t == "positive_unitball":
        out = _uniform(rng, 0.0, 1.0, shape)
        n = shape[0] if shape else 1
        out = out.reshape(n, -1)
        out /= out.sum(axis=1, keepdims=True)
        return out.reshape(shape)
    fan_in, fan_out = _fans(shape)
    n = {pb.FillerParameter.FAN_IN: fan_in, pb.FillerParameter.FAN_OUT: fan_out,
         pb.FillerParameter.AVERAGE: (fan_in + fan_out) / 2.0}[filler.variance_norm]
    if t == "xavier":
        scale = np.sqrt(3.0 / n)
        return _uniform(rng, -scale, scale, shape)
    if t == "msra":
        return _normal(rng, 0.0, np.sqrt(2.0 / n), shape)
    if t == "bilinear":
        if len(shape) != 4 or shape[2] != shape[3]:
            raise LayerError(f"the bilinear filler needs a square 4-D blob, got shape {shape}")
        k = shape[3]
        f = np.ceil(k / 2.0)
        c = (k - 1) / (2.0 * f)  # BVLC master's BilinearFiller (older releases differ for odd k)
        x = np.arange(k)
        w1 = 1 - np.abs(x / f - c)
        return np.broadcast_to(np.outer(w1, w1), shape).astype(np.float32).copy()
    raise LayerError(f"unknown filler type '{t}' (Caffe has constant, uniform, gaussian, positive_unitball, "
                     f"xavier, msra, bilinear)")


def _layer_fillers(layer: "pb.LayerParameter"):
    """The filler message for each blob of a layer (None where Caffe has no filler field)."""
    t = layer.type
    if t in ("Convolution", "Deconvolution"):
        p = layer.convolution_param
        return [p.weight_filler if p.HasField("weight_filler") else None,
                p.bias_filler if p.HasField("bias_filler") else None]
    if t == "InnerProduct":
        p = layer.inner_product_param
        return [p.weight_filler if p.HasField("weight_filler") else None,
                p.bias_filler if p.HasField("bias_filler") else None]
    if t == "Scale":
        p = layer.scale_param
        if len(layer.bottom) > 1:  # the scale is bottom[1]; the only blob is the bias
            return [p.bias_filler if p.HasField("bias_filler") else None]
        return [p.filler if p.HasField("filler") else pb.FillerParameter(type="constant", value=1.0),
                p.bias_filler if p.HasField("bias_filler") else None]
    if t == "Bias":
        p = layer.bias_param
        return [p.filler if p.HasField("filler") else None]
    if t == "PReLU":
        p = layer.prelu_param
        return [p.filler if p.HasField("filler") else pb.FillerParameter(type="constant", value=0.25)]
    return []


def fill_weights(net, seed: int = 0, defaults: str = "random") -> dict[str, list[np.ndarray]]:
    """{layer: [arrays]} for a built recaffe.Net. defaults="caffe": a missing filler means
    constant 0 (Caffe's default); defaults="random": He-normal weights, N(0, 0.1) biases, random
    BatchNorm statistics (with a non-trivial scale factor) and Scale parameters."""
    rng = np.random.default_rng(seed)
    layers = {l.name: l for l in net.graph.layer}
    out = {}
    for name, shapes in net.param_shapes().items():
        layer = layers[name]
        fillers = _layer_fillers(layer)
        arrays = []
        if layer.type == "BatchNorm":
            if defaults == "caffe":
                arrays = [np.zeros(s, np.float32) for s in shapes]
            else:
                c = shapes[0]
                factor = np.float32(rng.uniform(0.5, 2.0))
                mean = rng.normal(0, 0.1, c).astype(np.float32)
                var = rng.uniform(0.5, 1.5, c).astype(np.float32)
                arrays = [mean * factor, var * factor, np.full(shapes[2], factor, np.float32)]
            out[name] = arrays
            continue
        for i, shape in enumerate(shapes):
            f = fillers[i] if i < len(fillers) else None
            if f is None:
                if defaults == "caffe":
                    arrays.append(np.zeros(shape, np.float32))
                elif i == 0 and layer.type in ("Scale",) and len(layer.bottom) == 1:
                    arrays.append(_uniform(rng, 0.5, 1.5, shape))
                elif i == 0 and len(shape) >= 2:
                    arrays.append(apply_filler(pb.FillerParameter(type="msra"), shape, rng))
                else:
                    arrays.append(_normal(rng, 0.0, 0.1, shape))
            else:
                try:
                    arrays.append(apply_filler(f, shape, rng))
                except LayerError as e:
                    raise LayerError(f"layer '{name}', blob {i}: {e}", name) from None
        out[name] = arrays
    return out


def random_weights(net, seed: int = 0, input_shapes=None) -> dict[str, list[np.ndarray]]:
    """Seeded weights for timing runs: {layer: [ndarray]} for a Net, NetParameter or prototxt.
    The file's fillers are used where given; otherwise He-normal weights and small random biases."""
    from .net import Net

    if not isinstance(net, Net):
        net = Net(net, _skip_weights=True, memory_cap=0, input_shapes=input_shapes)
    return fill_weights(net, seed=seed, defaults="random")
