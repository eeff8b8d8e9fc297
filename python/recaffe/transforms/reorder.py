"""Reorder activation and pooling (paper 1, ../shared/papers/reorder_activation_pooling.txt).

Every run ``… → f → MAX pool`` with a non-decreasing activation f becomes ``… → MAX pool → f``:
max(f(x_1), …, f(x_k)) == f(max(x_1, …, x_k)) for non-decreasing f (the paper's Eq. 4), so the
output is unchanged while f runs on the pooled values only (1/4 of them for 2x2 pooling).

    param, weights = recaffe.load("vgg16.prototxt")
    new_param, new_weights, report = reorder_activation_pooling(param, weights)
    print(report)                      # swapped sites, skipped candidates and why, speedup per site
    recaffe.save(new_param, new_weights, "vgg16_reordered.prototxt")

Rules (each refusal is reported with its reason):
- the pooling must be MAX with a single top (a mask top would record the argmax of different values);
- the activation must be non-decreasing: ReLU with negative_slope >= 0, PReLU with every slope >= 0,
  Sigmoid, TanH, Clip, ELU with alpha >= 0, BNLL, Threshold; AbsVal, Swish, Power… are refused;
- every value between the activation and the pooling must have no other reader: the activation's
  output (after Caffe's in-place rewriting) may feed only the pooling, or the next activation of a
  chain of such activations (all of which move behind the pooling together);
- a layer that does not commute with max pooling (LRN, BatchNorm, Dropout, …) between them stops it.
The pooling takes the activation's place in the layer order and the moved activations run in place on
the pooling's top, so blob names downstream are unchanged. With ``fuse=True`` a single ReLU/Sigmoid/TanH
is folded into the pooling layer (recaffe_param.fused_activation: one pass, recaffe-only files).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Mapping

import numpy as np

from ..errors import CaffeFileError, RecaffeError
from ..graph import PHASES, state_meets_rule
from ..io import read_net
from ..io.proto import pb

# Activations that are non-decreasing for the parameters the check accepts, and the check.
_MONOTONE_TYPES = ("ReLU", "PReLU", "Sigmoid", "TanH", "Clip", "ELU", "BNLL", "Threshold")
# Element-wise activations that are not (in general) non-decreasing: never moved.
_NON_MONOTONE_TYPES = ("AbsVal", "Swish", "GELU", "Power", "Exp", "Log", "Mish")
# What recaffe's pooling layer can apply in its output write (recaffe_param.fused_activation).
_FUSABLE_TYPES = ("ReLU", "Sigmoid", "TanH")


@dataclass
class ReorderSite:
    """One swap: `activations` (in flow order) now run after `pooling`."""
    activations: list[str]
    activation_types: list[str]
    pooling: str
    input_blob: str          # what the pooling now reads (the activation's former input)
    values_before: int | None  # values one image's activation processed before (the unpooled map)
    values_after: int | None   # and after (the pooled map)
    fused: bool = False

    @property
    def theoretical_speedup(self) -> float | None:
        """Values before pooling / values after: 4 for 2x2 stride-2 pooling (the paper's K^2)."""
        if not self.values_before or not self.values_after:
            return None
        return self.values_before / self.values_after

    def to_dict(self) -> dict:
        return asdict(self) | {"theoretical_speedup": self.theoretical_speedup}


@dataclass
class SkippedCandidate:
    """An activation that feeds a pooling layer but was left in place, and why."""
    activation: str
    activation_type: str
    pooling: str
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ReorderReport:
    sites: list[ReorderSite] = field(default_factory=list)
    skipped: list[SkippedCandidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def site_for(self, activation: str) -> ReorderSite | None:
        return next((s for s in self.sites if activation in s.activations), None)

    def to_dict(self) -> dict:
        return {"sites": [s.to_dict() for s in self.sites], "skipped": [s.to_dict() for s in self.skipped],
                "notes": list(self.notes)}

    def __str__(self) -> str:
        lines = [f"reorder_activation_pooling: {len(self.sites)} site(s) swapped, "
                 f"{len(self.skipped)} candidate(s) skipped"]
        for s in self.sites:
            sp = s.theoretical_speedup
            acts = " + ".join(f"{a} ({t})" for a, t in zip(s.activations, s.activation_types))
            how = "fused into" if s.fused else "now after"
            lines.append(f"  swapped  {acts} {how} {s.pooling}"
                         + (f": activation values {s.values_before} -> {s.values_after} per image, "
                            f"theoretical speedup {sp:.2f}x" if sp else ""))
        for k in self.skipped:
            lines.append(f"  skipped  {k.activation} ({k.activation_type}) before {k.pooling}: {k.reason}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _monotone_refusal(layer: "pb.LayerParameter", weights: Mapping | None) -> str | None:
    """None when the activation is non-decreasing; otherwise why it may not move past a max pooling."""
    t = layer.type
    if t == "ReLU":
        s = layer.relu_param.negative_slope
        return None if s >= 0 else f"negative_slope {s:g} < 0 makes ReLU decreasing for x < 0"
    if t == "ELU":
        a = layer.elu_param.alpha
        return None if a >= 0 else f"alpha {a:g} < 0 makes ELU decreasing for x < 0"
    if t == "Clip":
        p = layer.clip_param
        if p.HasField("min") and p.HasField("max") and p.min > p.max:
            return f"clip_param min {p.min:g} > max {p.max:g}"
        return None
    if t == "PReLU":
        blobs = (weights or {}).get(layer.name)
        if not blobs:
            return "PReLU slopes are learned weights and none were given, so monotonicity cannot be checked"
        slopes = np.asarray(blobs[0])
        if (slopes < 0).any() or np.isnan(slopes).any():
            return f"{int((slopes < 0).sum())} of its {slopes.size} slopes are negative (not monotone)"
        return None
    if t in _MONOTONE_TYPES:
        return None
    return f"{t} is not non-decreasing, so max(f(x)) != f(max(x)) in general"


def _phase_views(net: "pb.NetParameter") -> list[list[int]]:
    """The layer indices each phase runs (Caffe's FilterNet); distinct lists only."""
    views = []
    for phase in PHASES.values():
        state = pb.NetState(phase=phase)
        kept = []
        for i, layer in enumerate(net.layer):
            if layer.include:
                keep = any(state_meets_rule(state, r) for r in layer.include)
            else:
                keep = not any(state_meets_rule(state, r) for r in layer.exclude)
            if keep:
                kept.append(i)
        if kept not in views:
            views.append(kept)
    return views


class _Dataflow:
    """Which layer produced the value each bottom reads, and who reads each produced value,
    following Caffe's in-place rule (a top with its bottom's name replaces that blob's value)."""

    def __init__(self, net: "pb.NetParameter", indices: list[int]):
        self.src: dict[tuple[int, int], tuple[int, int] | None] = {}      # (layer, bottom) -> (layer, top)
        self.readers: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        latest: dict[str, tuple[int, int]] = {}
        for i in indices:
            layer = net.layer[i]
            for j, b in enumerate(layer.bottom):
                key = latest.get(b)
                if key is None:
                    raise CaffeFileError(f"bottom blob '{b}' is not produced by any earlier layer", None,
                                         layer.name, "bottom")
                self.src[(i, j)] = key
                self.readers[key].append((i, j))
            for j, t in enumerate(layer.top):
                latest[t] = (i, j)


def _find_site(net, flow: _Dataflow, pool_idx: int, weights, skipped: list, max_hops: int = 4):
    """Walk back from one Pooling layer: the chain of movable activations feeding it (flow order),
    or None; refusals for the activations met on the way are appended to `skipped`."""
    pool = net.layer[pool_idx]
    chain: list[int] = []
    blockers: list[int] = []   # non-commuting single-input layers met before any activation
    key = flow.src.get((pool_idx, 0))
    reader = pool_idx
    hops = 0
    while key is not None and hops < max_hops:
        i = key[0]
        layer = net.layer[i]
        single = len(layer.bottom) == 1 and len(layer.top) == 1
        is_act = layer.type in _MONOTONE_TYPES or layer.type in _NON_MONOTONE_TYPES
        if not is_act:
            if chain or not single or layer.type in ("Input", "Pooling", "Convolution", "InnerProduct",
                                                     "Deconvolution"):
                break
            blockers.append(i)  # e.g. LRN: look further back for an activation it hides
            key = flow.src.get((i, 0))
            reader = i
            hops += 1
            continue
        others = [net.layer[r[0]].name for r in flow.readers.get(key, []) if r[0] != reader]
        why = None
        if blockers:
            b = net.layer[blockers[-1]]
            why = (f"{b.type} '{b.name}' sits between it and the pooling and does not commute with max "
                   f"pooling")
        elif pool.pooling_param.pool != pb.PoolingParameter.MAX:
            name = pb.PoolingParameter.PoolMethod.Name(pool.pooling_param.pool)
            why = f"the pooling is {name}: only MAX pooling commutes with a non-decreasing activation"
        elif len(pool.top) > 1:
            why = "the pooling also outputs its argmax mask, which would change"
        elif others:
            why = f"its output is also read by {', '.join(repr(o) for o in others)}"
        elif layer.include or layer.exclude or pool.include or pool.exclude:
            why = "phase-specific include/exclude rules on the activation or the pooling"
        elif len(pool.bottom) != 1 or pool.top[0] in (pool.bottom[0], layer.top[0]):
            why = "the pooling runs in place"
        else:
            why = _monotone_refusal(layer, weights)
        if why is not None:
            skipped.append(SkippedCandidate(layer.name, layer.type, pool.name, why))
            break
        chain.insert(0, i)
        key = flow.src.get((i, 0))
        reader = i
        hops += 1
    return chain or None


def _shapes(net: "pb.NetParameter", input_shapes, upto: int) -> tuple[dict[str, tuple] | None, str | None]:
    """Blob shapes of the net as built (for the per-site speedup); None and why when it cannot be built.
    Only layers up to index `upto` are built, so loss/accuracy heads of train_val files do not matter."""
    from ..net import Net
    head = pb.NetParameter()
    head.CopyFrom(net)
    del head.layer[upto + 1:]
    try:
        built = Net(head, _skip_weights=True, memory_cap=0, input_shapes=input_shapes)
    except (RecaffeError, RuntimeError) as e:
        return None, f"blob sizes unknown (the net does not build here: {e}); theoretical speedups omitted"
    return {n: b.shape for n, b in built.blobs.items()}, None


def reorder_activation_pooling(net, weights: Mapping | None = None, *, fuse: bool = False,
                               input_shapes: Mapping[str, tuple] | None = None):
    """Swap every exact activation -> MAX pooling pair of `net` (a NetParameter, prototxt path or text).

    Returns (new NetParameter, weights, ReorderReport). The inputs are not modified; weights are
    passed through (no layer changes its parameters). fuse=True folds a single ReLU/Sigmoid/TanH into
    the pooling layer's output write (recaffe_param.fused_activation) instead of a separate layer.
    input_shapes: {input blob: shape} used only to size the report's per-site counts.
    """
    param = read_net(net)
    weights = dict(weights or {})
    report = ReorderReport()

    chains: dict[int, list[int]] | None = None   # pool index -> activation indices, agreed by every phase
    skipped_all: dict[tuple[str, str], SkippedCandidate] = {}
    for view in _phase_views(param):
        flow = _Dataflow(param, view)
        found = {}
        for i in view:
            if param.layer[i].type != "Pooling":
                continue
            skipped: list[SkippedCandidate] = []
            chain = _find_site(param, flow, i, weights, skipped)
            for s in skipped:
                skipped_all.setdefault((s.activation, s.pooling), s)
            if chain:
                found[i] = chain
        in_view = set(view)
        chains = found if chains is None else {p: c for p, c in chains.items()
                                               if p not in in_view or found.get(p) == c}

    shapes, why = _shapes(param, input_shapes, max(chains)) if chains else (None, None)
    if why:
        report.notes.append(why)

    per_image = lambda blob: (int(np.prod(shapes[blob][1:])) if shapes and blob in shapes else None)  # noqa: E731
    first_of: dict[int, tuple[int, list[int]]] = {}
    moved: set[int] = set()
    for pool_idx, chain in sorted((chains or {}).items()):
        pool = param.layer[pool_idx]
        acts = [param.layer[i] for i in chain]
        can_fuse = fuse and len(acts) == 1 and acts[0].type in _FUSABLE_TYPES
        if fuse and not can_fuse:
            report.notes.append(f"{pool.name}: not fused ({'a chain of activations' if len(acts) > 1 else acts[0].type}"
                                f" cannot be applied by the pooling kernel); swapped instead")
        report.sites.append(ReorderSite([a.name for a in acts], [a.type for a in acts], pool.name,
                                        acts[0].bottom[0], per_image(acts[0].bottom[0]), per_image(pool.top[0]),
                                        fused=can_fuse))
        first_of[chain[0]] = (pool_idx, chain)
        moved.update(chain)
        moved.add(pool_idx)
    report.skipped = list(skipped_all.values())

    out = pb.NetParameter()
    out.CopyFrom(param)
    del out.layer[:]
    for i, layer in enumerate(param.layer):
        if i in first_of:
            pool_idx, chain = first_of[i]
            pool = out.layer.add()
            pool.CopyFrom(param.layer[pool_idx])
            pool.bottom[0] = layer.bottom[0]
            top = pool.top[0]
            site = report.sites[[s.pooling for s in report.sites].index(pool.name)]
            if site.fused:
                act = param.layer[chain[0]]
                pool.recaffe_param.fused_activation = act.type
                if act.type == "ReLU" and act.relu_param.negative_slope:
                    pool.recaffe_param.fused_negative_slope = act.relu_param.negative_slope
                continue
            for a in chain:
                moved_act = out.layer.add()
                moved_act.CopyFrom(param.layer[a])
                moved_act.bottom[:] = [top]
                moved_act.top[:] = [top]
        elif i not in moved:
            out.layer.add().CopyFrom(layer)
    return out, weights, report
