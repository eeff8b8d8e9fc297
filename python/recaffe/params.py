"""LayerParameter -> the plain dict the C++ core reads (core/params.h): every scalar field with its
value or its proto default, repeated fields as lists, nested messages as dicts, and "__set__"
listing the fields given explicitly (proto2 has-ness, which Caffe's rules depend on)."""
from __future__ import annotations

import re

from google.protobuf.descriptor import FieldDescriptor

from .io.proto import pb

# Layer type -> its parameter message field, where the snake_case rule does not give it.
_PARAM_FIELD_OVERRIDES = {
    "Deconvolution": "convolution_param", "TanH": "tanh_param", "ReLU": "relu_param", "LRN": "lrn_param",
    "ArgMax": "argmax_param", "BatchNorm": "batch_norm_param", "ELU": "elu_param", "PReLU": "prelu_param",
    "MVN": "mvn_param", "SPP": "spp_param", "HDF5Data": "hdf5_data_param", "HDF5Output": "hdf5_output_param",
    "ViP": "vip_param", "Interp": "vip_param", "SoftmaxWithLoss": "softmax_param", "ROIPooling": "roi_pooling_param",
}
_LAYER_FIELDS = pb.LayerParameter.DESCRIPTOR.fields_by_name


def _is_repeated(f) -> bool:
    rep = getattr(f, "is_repeated", None)
    if rep is not None:
        return rep() if callable(rep) else bool(rep)
    return f.label == FieldDescriptor.LABEL_REPEATED


def param_field_for(layer_type: str) -> str | None:
    name = _PARAM_FIELD_OVERRIDES.get(layer_type)
    if name is None:
        name = re.sub(r"(?<!^)(?=[A-Z])", "_", layer_type).lower() + "_param"
    return name if name in _LAYER_FIELDS else None


def message_to_dict(msg, skip=()) -> dict:
    d = {}
    set_fields = []
    for f in msg.DESCRIPTOR.fields:
        if f.name in skip:
            continue
        value = getattr(msg, f.name)
        if _is_repeated(f):
            if f.message_type is not None:
                d[f.name] = [message_to_dict(v) for v in value]
            else:
                d[f.name] = list(value)
            if len(value):
                set_fields.append(f.name)
        elif f.message_type is not None:
            if msg.HasField(f.name):
                d[f.name] = message_to_dict(value)
                set_fields.append(f.name)
        else:
            d[f.name] = value
            if msg.HasField(f.name):
                set_fields.append(f.name)
    d["__set__"] = set_fields
    return d


def layer_to_dict(layer: "pb.LayerParameter", extra_recaffe: dict | None = None) -> dict:
    """The dict for one layer: its own parameter message is always present (defaults filled)."""
    d = message_to_dict(layer, skip=("blobs",))
    own = param_field_for(layer.type)
    if own and own not in d:
        d[own] = message_to_dict(getattr(pb.LayerParameter(), own))
    if "recaffe_param" not in d:
        d["recaffe_param"] = message_to_dict(pb.RecaffeParameter())
    if extra_recaffe:
        rp = d["recaffe_param"]
        for k, v in extra_recaffe.items():
            rp[k] = v
            if k not in rp["__set__"]:
                rp["__set__"].append(k)
    return d
