from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np


@dataclass
class Stats:
    """Samples in milliseconds and their summary."""
    samples: list[float]

    @property
    def median(self) -> float:
        return float(np.median(self.samples)) if self.samples else float("nan")

    @property
    def mean(self) -> float:
        return float(np.mean(self.samples)) if self.samples else float("nan")

    @property
    def std(self) -> float:
        return float(np.std(self.samples)) if len(self.samples) > 1 else 0.0

    @property
    def nsr(self) -> float:
        """Noise-to-signal ratio: std / mean (the ViP paper's figure of timing noise)."""
        m = self.mean
        return self.std / m if m else float("nan")

    @property
    def min(self) -> float:
        return float(np.min(self.samples)) if self.samples else float("nan")

    def to_dict(self) -> dict:
        return {"median_ms": self.median, "mean_ms": self.mean, "std_ms": self.std, "nsr": self.nsr,
                "min_ms": self.min, "n": len(self.samples)}


def measure(fn: Callable[[], object], repeats: int = 10, warmup: int = 1) -> Stats:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return Stats(out)


def interleaved(fns: Mapping[str, Callable[[], object]], repeats: int = 10, warmup: int = 1,
                progress: bool = False, clock: Callable[[], float] = time.perf_counter) -> dict[str, Stats]:
    """Time several functions round-robin (A B C A B C ...), so drifts in machine load hit them
    alike; ratios of the medians are then fair. The order rotates each round. clock=time.process_time
    measures CPU time instead (single-threaded work on a machine shared with other jobs)."""
    names = list(fns)
    for _ in range(warmup):
        for n in names:
            fns[n]()
    samples = {n: [] for n in names}
    it = range(repeats)
    if progress:
        from tqdm import tqdm
        it = tqdm(it, desc="timing", leave=False)
    for r in it:
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            t0 = clock()
            fns[n]()
            samples[n].append((clock() - t0) * 1e3)
    return {n: Stats(s) for n, s in samples.items()}


@dataclass
class NetTiming:
    """Per-layer forward times of a net over several iterations."""
    layer_names: list[str]
    layer_types: list[str]
    per_layer: list[list[float]]          # [layer][iteration] ms
    totals: list[float]                   # [iteration] ms (sum of the layers)
    threads: int = 0
    machine: str = ""
    extra: dict = field(default_factory=dict)

    def layer(self, name: str) -> Stats:
        return Stats(self.per_layer[self.layer_names.index(name)])

    @property
    def total(self) -> Stats:
        return Stats(self.totals)

    def by_type(self, layer_type: str) -> Stats:
        idx = [i for i, t in enumerate(self.layer_types) if t == layer_type]
        return Stats([sum(self.per_layer[i][k] for i in idx) for k in range(len(self.totals))])

    def table(self) -> str:
        lines = [f"Average time per layer (median of {len(self.totals)} forwards, {self.threads} threads; "
                 f"{self.machine}):"]
        for i, n in enumerate(self.layer_names):
            s = Stats(self.per_layer[i])
            lines.append(f"{n:>24}\tforward: {s.median:.4f} ms.  (nsr {s.nsr:.3f})")
        t = self.total
        lines.append(f"Average Forward pass: {t.median:.4f} ms.  (nsr {t.nsr:.3f})")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"threads": self.threads, "machine": self.machine,
                "total": self.total.to_dict(),
                "layers": {n: Stats(self.per_layer[i]).to_dict() | {"type": self.layer_types[i]}
                           for i, n in enumerate(self.layer_names)}}


def time_net(net, iterations: int = 10, warmup: int = 1) -> NetTiming:
    from .. import num_threads
    for _ in range(warmup):
        net.forward_timed()
    per_layer = [[] for _ in net.layer_names]
    totals = []
    for _ in range(iterations):
        times = net.forward_timed()
        for i, t in enumerate(times):
            per_layer[i].append(t)
        totals.append(sum(times))
    return NetTiming(net.layer_names, net.layer_types, per_layer, totals, num_threads(), describe_machine())


def interleaved_nets(nets: Mapping[str, object], iterations: int = 10, warmup: int = 1,
                     progress: bool = False) -> dict[str, NetTiming]:
    """Per-layer timings of several nets, one forward of each in turn per iteration."""
    from .. import num_threads
    names = list(nets)
    for _ in range(warmup):
        for n in names:
            nets[n].forward_timed()
    per = {n: [[] for _ in nets[n].layer_names] for n in names}
    totals = {n: [] for n in names}
    it = range(iterations)
    if progress:
        from tqdm import tqdm
        it = tqdm(it, desc="timing", leave=False)
    for r in it:
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            times = nets[n].forward_timed()
            for i, t in enumerate(times):
                per[n][i].append(t)
            totals[n].append(sum(times))
    machine = describe_machine()
    return {n: NetTiming(nets[n].layer_names, nets[n].layer_types, per[n], totals[n], num_threads(), machine)
            for n in names}


def describe_machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    from .. import blas_info, isa
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu}, {ncpu} cores, {isa()} kernels, {blas_info().split(' ')[0]} BLAS"
