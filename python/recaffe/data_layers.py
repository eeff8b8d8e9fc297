"""Caffe's data layers read databases recaffe does not have; in a loaded net each becomes an
Input layer with the shape its parameters imply, so train_val files load and run (feed the
data with net.forward(data=..., label=...))."""
from __future__ import annotations

from .errors import CaffeFileError
from .io.proto import pb

DATA_TYPES = ("Data", "ImageData", "WindowData", "HDF5Data", "MemoryData", "DummyData")


def _shape_for(layer: "pb.LayerParameter", top_index: int, input_shapes, path):
    name = layer.top[top_index]
    if input_shapes and name in input_shapes:
        return [int(d) for d in input_shapes[name]]
    t = layer.type
    if t == "MemoryData":
        p = layer.memory_data_param
        dims = [p.batch_size, p.channels, p.height, p.width]
        return dims if top_index == 0 else [p.batch_size]
    if t == "DummyData":
        p = layer.dummy_data_param
        if p.shape:
            s = p.shape[top_index if len(p.shape) > 1 else 0]
            return list(s.dim)
        pick = lambda v: v[top_index if len(v) > 1 else 0]  # noqa: E731
        return [pick(p.num), pick(p.channels), pick(p.height), pick(p.width)]
    batch = {"Data": layer.data_param.batch_size, "ImageData": layer.image_data_param.batch_size,
             "WindowData": layer.window_data_param.batch_size,
             "HDF5Data": layer.hdf5_data_param.batch_size}[t] or 1
    if top_index > 0:
        return [batch]
    crop = layer.transform_param.crop_size
    if t == "ImageData" and not crop and layer.image_data_param.new_height:
        h, w = layer.image_data_param.new_height, layer.image_data_param.new_width
    elif crop:
        h = w = crop
    else:
        raise CaffeFileError(
            f"the {t} layer's image size is not in the file (no crop_size): give it with "
            f"Net(..., input_shapes={{'{name}': (N, C, H, W)}})", path, layer.name, "transform_param.crop_size")
    channels = 1 if (t == "ImageData" and not layer.image_data_param.is_color) or layer.transform_param.force_gray else 3
    return [batch, channels, h, w]


def replace_data_layers(net: "pb.NetParameter", input_shapes=None, path=None):
    """Returns (net with data layers replaced by Input layers, [names of those inputs])."""
    if not any(l.type in DATA_TYPES for l in net.layer):
        return net, []
    out = pb.NetParameter()
    out.CopyFrom(net)
    del out.layer[:]
    names = []
    for layer in net.layer:
        if layer.type not in DATA_TYPES:
            out.layer.add().CopyFrom(layer)
            continue
        new = out.layer.add(name=layer.name, type="Input")
        new.top.extend(layer.top)
        for j in range(len(layer.top)):
            new.input_param.shape.add().dim.extend(_shape_for(layer, j, input_shapes, path))
        names.extend(layer.top)
    return out, names
