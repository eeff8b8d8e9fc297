"""Automatic choice of the ISC engine (paper 2, ../shared/papers/isc_relu_sparsity.txt).

Inverse sparse convolution only pays when a convolution's input is sparse enough, and where that
point lies depends on the layer's shape and the machine. So measure it: run the network on sample
inputs, record the fraction of zeros each convolution reads, time every convolution under the GEMM
engine and under the isc engine (the two nets interleaved, per-layer timers), and give each layer
the faster engine through recaffe_param.engine.

    param, weights = recaffe.load("lenet.prototxt", "lenet.caffemodel")
    new_param, weights, report = isc_policy(param, weights, {"data": sample_batch})
    print(report)                               # per layer: sparsity, both times, the choice
    net = recaffe.Net(new_param, weights)       # runs isc where it won
    recaffe.save(new_param, weights, "lenet_isc.prototxt")   # the choice travels with the file

The outputs do not change beyond float rounding: both engines compute the same sums.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Mapping

import numpy as np

from ..errors import InputError
from ..io import read_net
from ..io.proto import pb


@dataclass
class IscLayerChoice:
    layer: str
    input_blob: str
    sparsity: float   # fraction of exact zeros in the layer's input over the samples
    gemm_ms: float
    isc_ms: float
    engine: str       # "isc" or "gemm"

    @property
    def speedup(self) -> float:
        return self.gemm_ms / self.isc_ms if self.isc_ms > 0 else float("nan")


@dataclass
class IscPolicyReport:
    layers: list[IscLayerChoice] = field(default_factory=list)
    iterations: int = 0
    stat: str = "median"
    margin: float = 1.1

    def choice(self, layer: str) -> IscLayerChoice:
        for c in self.layers:
            if c.layer == layer:
                return c
        raise KeyError(layer)

    @property
    def isc_layers(self) -> list[str]:
        return [c.layer for c in self.layers if c.engine == "isc"]

    def to_dict(self) -> dict:
        return {"iterations": self.iterations, "stat": self.stat, "margin": self.margin,
                "layers": [asdict(c) | {"speedup": c.speedup} for c in self.layers]}

    def __str__(self) -> str:
        lines = [f"ISC policy ({self.stat} of {self.iterations} interleaved forwards; isc chosen when "
                 f"gemm/isc > {self.margin:g}):",
                 f"{'layer':>20} {'input':>12} {'sparsity':>9} {'gemm ms':>9} {'isc ms':>9} {'speedup':>8}  engine"]
        for c in self.layers:
            lines.append(f"{c.layer:>20} {c.input_blob:>12} {c.sparsity:9.3f} {c.gemm_ms:9.4f} {c.isc_ms:9.4f} "
                         f"{c.speedup:8.2f}  {c.engine}")
        return "\n".join(lines)


def isc_policy(net, weights: Mapping, samples: Mapping[str, np.ndarray], *, phase: str = "test",
               iterations: int = 20, stat: str = "median", margin: float = 1.1,
               layers: list[str] | None = None):
    """Choose per convolution layer between the "gemm" and "isc" engines by measuring on `samples`
    ({input blob: batch}). `net`: prototxt path or text, or a NetParameter (not modified).
    `layers`: the convolutions to consider (default all). `stat`: "median" or "min" of the
    per-layer times; isc is chosen where gemm_time / isc_time > `margin` (default 1.1: a layer that
    wins by less flips with timing noise and with the sparsity of the next image). Returns
    (NetParameter with recaffe_param.engine set on every considered convolution, weights, IscPolicyReport)."""
    from ..bench import interleaved_nets
    from ..net import Net

    if stat not in ("median", "min"):
        raise ValueError(f"stat must be 'median' or 'min', got {stat!r}")
    if not samples:
        raise InputError("isc_policy needs sample inputs ({input blob: array}) to measure sparsity and time")
    param = pb.NetParameter()
    param.CopyFrom(read_net(net))
    nets = {e: Net(param, weights, phase=phase, engine=e) for e in ("gemm", "isc")}
    gnet = nets["gemm"]
    convs = [n for n, t in zip(gnet.layer_names, gnet.layer_types) if t == "Convolution"]
    if layers is not None:
        unknown = sorted(set(layers) - set(convs))
        if unknown:
            raise InputError(f"isc_policy: no convolution layer named {unknown}; the net's are {convs}")
        convs = [n for n in convs if n in set(layers)]
    for engine, n in nets.items():
        for name in convs:  # a layer's own recaffe_param.engine would otherwise win over engine=
            n.set_engine(name, engine)
        n.set_input(**samples)
    gnet.forward()
    bottoms = gnet.bottom_names
    sparsity = {}
    for name in convs:
        x = gnet.blobs[bottoms[name][0]].data
        sparsity[name] = float(np.count_nonzero(x == 0) / x.size)
    timing = interleaved_nets(nets, iterations=iterations, warmup=2)
    report = IscPolicyReport(iterations=iterations, stat=stat, margin=margin)
    for name in convs:
        g = getattr(timing["gemm"].layer(name), stat)
        i = getattr(timing["isc"].layer(name), stat)
        report.layers.append(IscLayerChoice(name, bottoms[name][0], sparsity[name], g, i,
                                            "isc" if g > margin * i else "gemm"))
    chosen = {c.layer: c.engine for c in report.layers}
    for layer in param.layer:
        if layer.name in chosen and layer.type == "Convolution":
            layer.recaffe_param.engine = chosen[layer.name]
    return param, weights, report
