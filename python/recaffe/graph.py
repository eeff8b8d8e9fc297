"""Net-level surgery on a NetParameter before the C++ net is built, as Caffe's Net::Init does:
phase/level/stage filtering (FilterNet, StateMeetsRule) and Split insertion (insert_splits.cpp)."""
from __future__ import annotations

from collections import defaultdict

from .errors import CaffeFileError
from .io.proto import pb

PHASES = {"train": pb.TRAIN, "test": pb.TEST}


def state_meets_rule(state: "pb.NetState", rule: "pb.NetStateRule") -> bool:
    if rule.HasField("phase") and rule.phase != state.phase:
        return False
    if rule.HasField("min_level") and state.level < rule.min_level:
        return False
    if rule.HasField("max_level") and state.level > rule.max_level:
        return False
    stages = set(state.stage)
    if any(s not in stages for s in rule.stage):
        return False
    if any(s in stages for s in rule.not_stage):
        return False
    return True


def filter_net(net: "pb.NetParameter", phase: str = "test", level: int = 0, stages=(),
               path: str | None = None) -> "pb.NetParameter":
    """Keep the layers whose include/exclude rules admit this state (a copy is returned)."""
    if phase not in PHASES:
        raise ValueError(f"phase must be 'train' or 'test', got {phase!r}")
    state = pb.NetState(phase=PHASES[phase], level=level, stage=list(stages))
    out = pb.NetParameter()
    out.CopyFrom(net)
    del out.layer[:]
    for layer in net.layer:
        if layer.include and layer.exclude:
            raise CaffeFileError("a layer may give include or exclude rules, not both", path, layer.name,
                                 "include/exclude")
        if layer.include:
            keep = any(state_meets_rule(state, r) for r in layer.include)
        else:
            keep = not any(state_meets_rule(state, r) for r in layer.exclude)
        if keep:
            out.layer.add().CopyFrom(layer)
    return out


def split_layer_name(blob: str, layer: str, top_idx: int) -> str:
    return f"{blob}_{layer}_{top_idx}_split"


def split_blob_name(blob: str, layer: str, top_idx: int, k: int) -> str:
    return f"{blob}_{layer}_{top_idx}_split_{k}"


def insert_splits(net: "pb.NetParameter", path: str | None = None) -> "pb.NetParameter":
    """Give every blob read by more than one bottom (or by a bottom and a loss) a Split layer,
    named as Caffe names it: <blob>_<layer>_<top index>_split with tops ..._split_<k>."""
    producer = {}                   # blob -> (layer index, top index) of its latest producer
    consumers = defaultdict(int)    # (layer idx, top idx) -> number of bottoms reading it
    loss = {}
    bottom_src = {}                 # (layer idx, bottom idx) -> producer key
    for i, layer in enumerate(net.layer):
        for j, b in enumerate(layer.bottom):
            if b not in producer:
                raise CaffeFileError(f"bottom blob '{b}' is not produced by any earlier layer", path, layer.name,
                                     "bottom")
            key = producer[b]
            bottom_src[(i, j)] = key
            consumers[key] += 1
        for j, t in enumerate(layer.top):
            producer[t] = (i, j)
            lw = layer.loss_weight[j] if j < len(layer.loss_weight) else 0.0
            if lw:
                loss[(i, j)] = lw
    out = pb.NetParameter()
    out.CopyFrom(net)
    del out.layer[:]
    next_split = defaultdict(int)
    for i, layer in enumerate(net.layer):
        new = out.layer.add()
        new.CopyFrom(layer)
        for j, b in enumerate(layer.bottom):
            key = bottom_src[(i, j)]
            n = consumers[key] + (1 if key in loss else 0)
            if n > 1:
                src = net.layer[key[0]]
                new.bottom[j] = split_blob_name(src.top[key[1]], src.name, key[1], next_split[key])
                next_split[key] += 1
        for j, t in enumerate(layer.top):
            key = (i, j)
            n = consumers[key] + (1 if key in loss else 0)
            if n > 1:
                split = out.layer.add(name=split_layer_name(t, layer.name, j), type="Split")
                split.bottom.append(t)
                for k in range(n):
                    split.top.append(split_blob_name(t, layer.name, j, k))
                if key in loss:
                    split.loss_weight.extend([0.0] * (n - 1) + [loss[key]])
    return out


def check_tops(net: "pb.NetParameter", path: str | None = None) -> None:
    """Caffe's AppendTop: a top may reuse a name only in place (same name as the bottom at the
    same index); any other duplicate is 'produced by multiple sources'."""
    seen = set()
    for layer in net.layer:
        for j, t in enumerate(layer.top):
            in_place = j < len(layer.bottom) and layer.bottom[j] == t
            if t in seen and not in_place:
                raise CaffeFileError(f"top blob '{t}' is produced by multiple sources", path, layer.name, "top")
            if in_place and t not in seen:
                raise CaffeFileError(f"in-place top '{t}' has no producer", path, layer.name, "top")
            seen.add(t)
        if len(set(layer.top)) != len(layer.top):
            raise CaffeFileError("a layer lists the same top twice", path, layer.name, "top")


def net_outputs(net: "pb.NetParameter") -> list[str]:
    """Blobs produced and never consumed, in lexicographic order (Caffe keeps them in a std::set)."""
    available = set()
    for layer in net.layer:
        for b in layer.bottom:
            available.discard(b)
        for t in layer.top:
            available.add(t)
    return sorted(available)
