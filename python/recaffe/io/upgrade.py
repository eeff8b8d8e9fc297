"""Upgrading old NetParameters to the V2 form, in the order Caffe's UpgradeNetAsNeeded does:
V0 -> V1, data-transform fields, V1 -> V2 (enum types to strings, blobs_lr to param.lr_mult, ...),
legacy input/input_dim/input_shape to an Input layer, and BatchNorm's 3 param specs."""
from __future__ import annotations

from ..errors import CaffeFileError
from .proto import pb

# V1 enum name -> V2 type string (Caffe's UpgradeV1LayerType)
V1_TYPE_NAMES = {
    "NONE": "", "ABSVAL": "AbsVal", "ACCURACY": "Accuracy", "ARGMAX": "ArgMax", "BNLL": "BNLL",
    "CONCAT": "Concat", "CONTRASTIVE_LOSS": "ContrastiveLoss", "CONVOLUTION": "Convolution",
    "DECONVOLUTION": "Deconvolution", "DATA": "Data", "DROPOUT": "Dropout", "DUMMY_DATA": "DummyData",
    "EUCLIDEAN_LOSS": "EuclideanLoss", "ELTWISE": "Eltwise", "EXP": "Exp", "FLATTEN": "Flatten",
    "HDF5_DATA": "HDF5Data", "HDF5_OUTPUT": "HDF5Output", "HINGE_LOSS": "HingeLoss", "IM2COL": "Im2col",
    "IMAGE_DATA": "ImageData", "INFOGAIN_LOSS": "InfogainLoss", "INNER_PRODUCT": "InnerProduct",
    "LRN": "LRN", "MEMORY_DATA": "MemoryData", "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss",
    "MVN": "MVN", "POOLING": "Pooling", "POWER": "Power", "RELU": "ReLU", "SIGMOID": "Sigmoid",
    "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss", "SILENCE": "Silence", "SOFTMAX": "Softmax",
    "SOFTMAX_LOSS": "SoftmaxWithLoss", "SPLIT": "Split", "SLICE": "Slice", "TANH": "TanH",
    "WINDOW_DATA": "WindowData", "THRESHOLD": "Threshold",
}

# V0 string type -> V1 enum name (Caffe's UpgradeV0LayerType)
V0_TYPE_NAMES = {
    "accuracy": "ACCURACY", "bnll": "BNLL", "concat": "CONCAT", "conv": "CONVOLUTION", "data": "DATA",
    "dropout": "DROPOUT", "euclidean_loss": "EUCLIDEAN_LOSS", "flatten": "FLATTEN", "hdf5_data": "HDF5_DATA",
    "hdf5_output": "HDF5_OUTPUT", "im2col": "IM2COL", "images": "IMAGE_DATA", "infogain_loss": "INFOGAIN_LOSS",
    "innerproduct": "INNER_PRODUCT", "lrn": "LRN", "multinomial_logistic_loss": "MULTINOMIAL_LOGISTIC_LOSS",
    "pool": "POOLING", "relu": "RELU", "sigmoid": "SIGMOID", "softmax": "SOFTMAX", "softmax_loss": "SOFTMAX_LOSS",
    "split": "SPLIT", "tanh": "TANH", "window_data": "WINDOW_DATA",
}

_V1_PARAM_FIELDS = [f.name for f in pb.V1LayerParameter.DESCRIPTOR.fields if f.name.endswith("_param")
                    and f.name in pb.LayerParameter.DESCRIPTOR.fields_by_name]


def net_needs_upgrade(net: "pb.NetParameter") -> bool:
    return bool(net.layers) or bool(net.input) or any(
        l.type == "BatchNorm" and len(l.param) == 3 for l in net.layer)


def upgrade_v0_to_v1(net: "pb.NetParameter", path: str | None = None) -> None:
    """V0 (layers { layer { type: "conv" ... } }) to V1, folding "padding" layers into the pad of
    the following convolution or pooling, as Caffe's UpgradeV0Net does."""
    if not any(l.HasField("layer") for l in net.layers):
        return
    old = list(net.layers)
    del net.layers[:]
    pad_of_blob = {}   # blob produced by a padding layer -> (its input blob, pad)
    for v1 in old:
        if not v1.HasField("layer"):
            net.layers.add().CopyFrom(v1)
            continue
        v0 = v1.layer
        if v0.type == "padding":
            if len(v1.bottom) != 1 or len(v1.top) != 1:
                raise CaffeFileError("a V0 padding layer must have one bottom and one top", path, v0.name)
            pad_of_blob[v1.top[0]] = (v1.bottom[0], v0.pad)
            continue
        new = net.layers.add()
        for b in v1.bottom:
            if b in pad_of_blob:
                src, pad = pad_of_blob[b]
                if v0.type not in ("conv", "pool"):
                    raise CaffeFileError("a V0 padding layer may only feed a conv or pool layer", path, v0.name)
                new.bottom.append(src)
                v0.pad = pad
            else:
                new.bottom.append(b)
        new.top.extend(v1.top)
        new.name = v0.name
        if v0.type not in V0_TYPE_NAMES:
            raise CaffeFileError(f"unknown V0 layer type '{v0.type}'", path, v0.name, "type")
        new.type = pb.V1LayerParameter.LayerType.Value(V0_TYPE_NAMES[v0.type])
        new.blobs.extend(v0.blobs)
        new.blobs_lr.extend(v0.blobs_lr)
        new.weight_decay.extend(v0.weight_decay)
        t = v0.type
        if t == "conv":
            cp = new.convolution_param
            if v0.HasField("num_output"): cp.num_output = v0.num_output
            if v0.HasField("biasterm"): cp.bias_term = v0.biasterm
            if v0.HasField("weight_filler"): cp.weight_filler.CopyFrom(v0.weight_filler)
            if v0.HasField("bias_filler"): cp.bias_filler.CopyFrom(v0.bias_filler)
            if v0.pad: cp.pad.append(v0.pad)
            if v0.HasField("kernelsize"): cp.kernel_size.append(v0.kernelsize)
            if v0.HasField("group"): cp.group = v0.group
            if v0.HasField("stride"): cp.stride.append(v0.stride)
        elif t == "innerproduct":
            ip = new.inner_product_param
            if v0.HasField("num_output"): ip.num_output = v0.num_output
            if v0.HasField("biasterm"): ip.bias_term = v0.biasterm
            if v0.HasField("weight_filler"): ip.weight_filler.CopyFrom(v0.weight_filler)
            if v0.HasField("bias_filler"): ip.bias_filler.CopyFrom(v0.bias_filler)
        elif t == "pool":
            pp = new.pooling_param
            if v0.HasField("kernelsize"): pp.kernel_size = v0.kernelsize
            if v0.HasField("stride"): pp.stride = v0.stride
            if v0.pad: pp.pad = v0.pad
            if v0.HasField("pool"): pp.pool = v0.pool
        elif t == "dropout":
            if v0.HasField("dropout_ratio"): new.dropout_param.dropout_ratio = v0.dropout_ratio
        elif t == "lrn":
            lp = new.lrn_param
            for f in ("local_size", "alpha", "beta", "k"):
                if v0.HasField(f): setattr(lp, f, getattr(v0, f))
        elif t == "concat":
            if v0.HasField("concat_dim"): new.concat_param.concat_dim = v0.concat_dim
        elif t in ("data", "images", "window_data"):
            dp = {"data": new.data_param, "images": new.image_data_param,
                  "window_data": new.window_data_param}[t]
            if v0.HasField("source"): dp.source = v0.source
            if v0.HasField("batchsize"): dp.batch_size = v0.batchsize
            tp = new.transform_param
            if v0.HasField("scale"): tp.scale = v0.scale
            if v0.HasField("meanfile"): tp.mean_file = v0.meanfile
            if v0.HasField("cropsize"): tp.crop_size = v0.cropsize
            if v0.HasField("mirror"): tp.mirror = v0.mirror
        elif t == "hdf5_output" and v0.HasField("hdf5_output_param"):
            new.hdf5_output_param.CopyFrom(v0.hdf5_output_param)


def upgrade_v1_to_v2(net: "pb.NetParameter", path: str | None = None) -> None:
    """Convert every `layers` (V1) entry into a `layer` (V2) entry."""
    if not net.layers:
        return
    if net.layer:
        raise CaffeFileError("the net mixes V1 'layers' and V2 'layer' entries; Caffe refuses such a file", path)
    for v1 in net.layers:
        l2 = net.layer.add()
        l2.name = v1.name
        type_name = pb.V1LayerParameter.LayerType.Name(v1.type) if v1.HasField("type") else "NONE"
        l2.type = V1_TYPE_NAMES.get(type_name, "")
        l2.bottom.extend(v1.bottom)
        l2.top.extend(v1.top)
        for rule in v1.include:
            l2.include.add().CopyFrom(rule)
        for rule in v1.exclude:
            l2.exclude.add().CopyFrom(rule)
        l2.loss_weight.extend(v1.loss_weight)
        n_param = max(len(v1.param), len(v1.blob_share_mode), len(v1.blobs_lr), len(v1.weight_decay))
        for i in range(n_param):
            ps = l2.param.add()
            if i < len(v1.param): ps.name = v1.param[i]
            if i < len(v1.blob_share_mode): ps.share_mode = v1.blob_share_mode[i]
            if i < len(v1.blobs_lr): ps.lr_mult = v1.blobs_lr[i]
            if i < len(v1.weight_decay): ps.decay_mult = v1.weight_decay[i]
        for f in _V1_PARAM_FIELDS:
            if v1.HasField(f):
                getattr(l2, f).CopyFrom(getattr(v1, f))
        l2.blobs.extend(v1.blobs)
    del net.layers[:]


def upgrade_data_transform(net: "pb.NetParameter") -> None:
    """Move scale/mean_file/crop_size/mirror from data params into transform_param."""
    for layer in net.layer:
        for pname in ("data_param", "image_data_param", "window_data_param"):
            if not layer.HasField(pname):
                continue
            dp = getattr(layer, pname)
            for f in ("scale", "mean_file", "crop_size", "mirror"):
                if f in dp.DESCRIPTOR.fields_by_name and dp.HasField(f):
                    setattr(layer.transform_param, f, getattr(dp, f))
                    dp.ClearField(f)


def upgrade_input_fields(net: "pb.NetParameter", path: str | None = None) -> None:
    """Legacy top-level input + input_dim / input_shape become an Input layer at the front."""
    if not net.input:
        return
    if net.input_dim or net.input_shape:
        layer = pb.LayerParameter(name="input", type="Input")
        if net.input_shape:
            if len(net.input_shape) != len(net.input):
                raise CaffeFileError(f"{len(net.input)} inputs but {len(net.input_shape)} input_shape entries",
                                     path, field="input_shape")
            for name, shape in zip(net.input, net.input_shape):
                layer.top.append(name)
                layer.input_param.shape.add().CopyFrom(shape)
        else:
            if len(net.input_dim) != 4 * len(net.input):
                raise CaffeFileError(f"{len(net.input)} inputs need {4 * len(net.input)} input_dim values, "
                                     f"got {len(net.input_dim)}", path, field="input_dim")
            for i, name in enumerate(net.input):
                layer.top.append(name)
                layer.input_param.shape.add().dim.extend(net.input_dim[4 * i:4 * i + 4])
        layers = [layer] + list(net.layer)
        del net.layer[:]
        net.layer.extend(layers)
    del net.input[:]
    del net.input_dim[:]
    del net.input_shape[:]


def upgrade_batchnorm(net: "pb.NetParameter") -> None:
    for layer in net.layer:
        if layer.type == "BatchNorm" and len(layer.param) == 3:
            for ps in layer.param:
                ps.lr_mult = 0.0
                ps.decay_mult = 0.0


def upgrade_net(net: "pb.NetParameter", path: str | None = None) -> "pb.NetParameter":
    """Upgrade in place to V2 (and return it)."""
    upgrade_v0_to_v1(net, path)
    upgrade_v1_to_v2(net, path)
    upgrade_data_transform(net)
    upgrade_input_fields(net, path)
    upgrade_batchnorm(net)
    return net
