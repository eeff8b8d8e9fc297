"""recaffe.transforms.vip: virtual pooling, ViP (paper 5, ../shared/papers/vip_virtual_pooling.txt).

Each named convolution gets twice its stride, so it computes a quarter of its outputs; a ViP layer
inserted after the activation that follows it interpolates the reduced map back to the original
size (the paper's Eq. 5), and every later reader of the convolution's output reads the ViP layer's
output instead. Weights are unchanged.

    param, weights = recaffe.load("vgg16.prototxt")
    new_param, new_weights, report = vip(param, weights, layers=["conv1_2", "conv5_3"])
    recaffe.save(new_param, new_weights, "vgg16_vip.prototxt", "vgg16_vip.caffemodel")

Where the ViP layer goes (the authors' "afterAct" files): after the chain of element-wise layers that
follow the convolution (ReLU; BatchNorm, Scale then ReLU in ResNet; BatchNorm and Scale alone before an
Eltwise), in place or not; right after the convolution when its output goes straight to something
else (a pooling layer, as in cifar10_quick). The layer is named ``lininterp/<conv>`` as in the
authors' files, and always states its output size (vip_param height/width: 2H-1 for odd sizes).

``implicit=True`` (beyond the paper) gives the readers that are convolutions or poolings the reduced map
itself, as type "ViPConvolution" or "ViPPooling" with the output size in vip_param: a convolution
interpolates while it builds its column matrix, a pooling interpolates each plane into a scratch plane
that stays in cache, so the full-size map is never written; other readers keep an explicit ViP layer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from ..errors import LayerError
from ..io import read_net
from ..io.proto import pb

# Element-wise layers that follow a convolution before its ViP layer (ViP goes after them).
ELEMENTWISE_TYPES = ("ReLU", "PReLU", "ELU", "Sigmoid", "TanH", "BatchNorm", "Scale", "Bias", "AbsVal", "Clip",
                     "Power", "BNLL", "Swish", "Threshold")


# The readers implicit=True fuses with the interpolation, and the fused layer type.
IMPLICIT_TYPES = {"Convolution": "ViPConvolution", "Pooling": "ViPPooling"}


@dataclass
class ViPSite:
    """One convolution given ViP."""
    conv: str
    vip_layer: str | None        # the inserted layer's name (None when implicit left no reader for it)
    after: str                   # the layer it follows (the conv, or the last activation after it)
    input_blob: str              # the reduced map
    output_blob: str             # the restored map every later reader now reads
    reduced_size: tuple          # (H, W) of the conv output with the doubled stride
    restored_size: tuple         # (H, W) of the original conv output
    readers: list = field(default_factory=list)           # layers rewired to output_blob
    implicit_readers: list = field(default_factory=list)  # made ViPConvolution / ViPPooling

    @property
    def theoretical_speedup(self) -> float:
        """Multiply-accumulates of the conv before / after (4 for even sizes)."""
        (h, w), (H, W) = self.reduced_size, self.restored_size
        return (H * W) / (h * w)


def _conv_strides(cp) -> tuple[int, int]:
    if cp.HasField("stride_h") or cp.HasField("stride_w"):
        return cp.stride_h or 1, cp.stride_w or 1
    s = list(cp.stride)
    if not s:
        return 1, 1
    return s[0], s[-1]


def _double_stride(layer) -> None:
    cp = layer.convolution_param
    sh, sw = _conv_strides(cp)
    del cp.stride[:]
    cp.ClearField("stride_h")
    cp.ClearField("stride_w")
    if sh == sw:
        cp.stride.append(2 * sh)
    else:
        cp.stride_h, cp.stride_w = 2 * sh, 2 * sw


def _is_in_place(layer) -> bool:
    return len(layer.top) == 1 and len(layer.bottom) >= 1 and layer.top[0] == layer.bottom[0]


def _readers(net, blob: str, start: int) -> list[int]:
    """Indices of layers from `start` on that read `blob`, up to the next layer that re-produces it
    other than in place."""
    out = []
    for i in range(start, len(net.layer)):
        layer = net.layer[i]
        if blob in layer.bottom:
            out.append(i)
        if blob in layer.top and not (_is_in_place(layer) and layer.bottom[0] == blob):
            break
    return out


def insertion_point(net: "pb.NetParameter", conv_index: int) -> tuple[int, str]:
    """(index of the layer ViP follows, the blob it interpolates): the convolution, followed through
    the element-wise layers (in place or not) that are the sole readers of its output."""
    idx = conv_index
    blob = net.layer[conv_index].top[0]
    while True:
        readers = _readers(net, blob, idx + 1)
        if len(readers) < 1:
            break
        nxt = net.layer[readers[0]]
        if nxt.type not in ELEMENTWISE_TYPES or len(nxt.bottom) != 1 or len(nxt.top) != 1:
            break
        if _is_in_place(nxt):
            idx = readers[0]
            continue
        if len(readers) != 1:  # a non-in-place activation that is one of several readers
            break
        idx, blob = readers[0], nxt.top[0]
    return idx, blob


def _blob_shapes(param, input_shapes) -> dict[str, tuple]:
    """Blob shapes of the test-phase net (nothing is allocated). Layers recaffe cannot build (a
    train_val file's loss and accuracy layers) and everything after them are left out: shapes of
    the trunk do not depend on them."""
    from ..data_layers import DATA_TYPES
    from ..net import Net, _PYTHON_LAYERS, _core_types
    known = _core_types() | set(_PYTHON_LAYERS) | set(DATA_TYPES)
    trunk = pb.NetParameter()
    trunk.CopyFrom(param)
    del trunk.layer[:]
    dropped = set()
    for layer in param.layer:
        if layer.type not in known or any(b in dropped for b in layer.bottom):
            dropped.update(t for t in layer.top if t not in layer.bottom)
            continue
        trunk.layer.add().CopyFrom(layer)
    net = Net(trunk, _skip_weights=True, memory_cap=0, input_shapes=input_shapes)
    return {n: b.shape for n, b in net.blobs.items()}


def vip(param: "pb.NetParameter", weights: Mapping | None = None, layers: Sequence[str] = (), *,
        implicit: bool = False, input_shapes: Mapping | None = None):
    """Give each convolution in `layers` virtual pooling. Returns (new NetParameter, weights (the same
    arrays), report {"sites": [ViPSite], "theoretical_conv_speedup": {conv: x}}). The result is checked
    by building it: every restored map has the original map's shape."""
    net = read_net(param)
    layers = list(layers)
    if len(set(layers)) != len(layers):
        raise LayerError(f"vip: a layer is named twice in {layers}")
    names = [l.name for l in net.layer]
    before = _blob_shapes(net, input_shapes)
    plans = []
    for conv in layers:
        if conv not in names:
            raise LayerError(f"vip: no layer named '{conv}'", conv)
        ci = names.index(conv)
        layer = net.layer[ci]
        if layer.type != "Convolution":
            raise LayerError(f"vip: layer '{conv}' is a {layer.type}, not a Convolution", conv)
        if len(layer.top) != 1:
            raise LayerError(f"vip: convolution '{conv}' has {len(layer.top)} tops; ViP needs one", conv)
        after_index, blob = insertion_point(net, ci)
        after = net.layer[after_index].name
        shape = before[layer.top[0]]
        if len(shape) != 4:
            raise LayerError(f"vip: convolution '{conv}' output is not 4-D ({shape})", conv)
        plans.append((conv, after, blob, (int(shape[2]), int(shape[3]))))

    out = pb.NetParameter()
    out.CopyFrom(net)
    sites = []
    # insert from the back so earlier indices stay valid
    for conv, after, blob, size in sorted(plans, key=lambda p: -names.index(p[1])):
        ci = [l.name for l in out.layer].index(conv)
        _double_stride(out.layer[ci])
        ai = [l.name for l in out.layer].index(after)
        vip_name = f"lininterp/{conv}"
        readers = _readers(out, blob, ai + 1)
        site = ViPSite(conv, vip_name, after, blob, vip_name, (0, 0), size)
        explicit_readers = []
        for ri in readers:
            r = out.layer[ri]
            fusable = ((r.type == "Convolution" and r.convolution_param.group <= 1) or
                       (r.type == "Pooling" and len(r.top) == 1))
            if implicit and fusable and len(r.bottom) == 1:
                r.type = IMPLICIT_TYPES[r.type]
                r.vip_param.height, r.vip_param.width = size
                site.implicit_readers.append(r.name)
            else:
                explicit_readers.append(ri)
        for ri in explicit_readers:
            r = out.layer[ri]
            in_place = _is_in_place(r) and r.bottom[0] == blob
            for j, b in enumerate(r.bottom):
                if b == blob:
                    r.bottom[j] = vip_name
            if in_place:
                r.top[0] = vip_name
            site.readers.append(r.name)
        if explicit_readers or not readers:
            v = pb.LayerParameter(name=vip_name, type="ViP")
            v.bottom.append(blob)
            v.top.append(vip_name)
            v.vip_param.height, v.vip_param.width = size
            v.include.extend(out.layer[ci].include)
            out.layer.insert(ai + 1, v)
        else:
            site.vip_layer = None
            site.output_blob = blob
        sites.append(site)

    after_shapes = _blob_shapes(out, input_shapes)
    for site in sites:
        red = after_shapes[site.input_blob]
        site.reduced_size = (int(red[2]), int(red[3]))
        if site.vip_layer is not None:
            got = after_shapes[site.output_blob]
            want = before[site.input_blob]
            if tuple(got) != tuple(want):
                raise LayerError(f"vip: restored map of '{site.conv}' has shape {got}, the original {want}",
                                 site.conv)
    sites.sort(key=lambda s: layers.index(s.conv))
    report = {"sites": sites, "theoretical_conv_speedup": {s.conv: s.theoretical_speedup for s in sites}}
    return out, (dict(weights) if weights is not None else None), report
