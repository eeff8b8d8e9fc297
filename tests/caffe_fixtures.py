"""Small seeded Caffe nets and files for the I/O tests, written in every form Caffe has used
(V0, V1, V2; legacy input fields; legacy 4-D and double-precision blobs), built with the generated
protobuf classes so that the encodings are the ones protobuf itself produces."""
from __future__ import annotations

import numpy as np

from recaffe.io.proto import pb

# The reference net in V2 form: every parameterised layer kind the core runs, with odd sizes.
TINY_V2 = """
name: "tiny"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 11 dim: 9 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
        convolution_param { num_output: 5 kernel_size: 3 pad: 1 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
        pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "fc1" type: "InnerProduct" bottom: "pool1" top: "fc1"
        param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
        inner_product_param { num_output: 7 } }
layer { name: "prob" type: "Softmax" bottom: "fc1" top: "prob" }
"""

# The same net as Caffe wrote it before 2015: V1 `layers` with enum types, blobs_lr/weight_decay,
# and the legacy top-level input + input_dim.
TINY_V1 = """
name: "tiny"
input: "data"
input_dim: 2 input_dim: 3 input_dim: 11 input_dim: 9
layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1"
         blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0
         convolution_param { num_output: 5 kernel_size: 3 pad: 1 } }
layers { name: "relu1" type: RELU bottom: "conv1" top: "conv1" }
layers { name: "pool1" type: POOLING bottom: "conv1" top: "pool1"
         pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layers { name: "fc1" type: INNER_PRODUCT bottom: "pool1" top: "fc1"
         blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0
         inner_product_param { num_output: 7 } }
layers { name: "prob" type: SOFTMAX bottom: "fc1" top: "prob" }
"""

# And as the first Caffe releases wrote it (V0): nested `layer` with flat fields and a separate
# "padding" layer in front of the convolution.
TINY_V0 = """
name: "tiny"
input: "data"
input_dim: 2 input_dim: 3 input_dim: 11 input_dim: 9
layers { layer { name: "pad1" type: "padding" pad: 1 } bottom: "data" top: "pad1" }
layers { layer { name: "conv1" type: "conv" num_output: 5 kernelsize: 3 blobs_lr: 1 blobs_lr: 2
                 weight_decay: 1 weight_decay: 0 }
         bottom: "pad1" top: "conv1" }
layers { layer { name: "relu1" type: "relu" } bottom: "conv1" top: "conv1" }
layers { layer { name: "pool1" type: "pool" pool: MAX kernelsize: 3 stride: 2 } bottom: "conv1" top: "pool1" }
layers { layer { name: "fc1" type: "innerproduct" num_output: 7 blobs_lr: 1 blobs_lr: 2
                 weight_decay: 1 weight_decay: 0 }
         bottom: "pool1" top: "fc1" }
layers { layer { name: "prob" type: "softmax" } bottom: "fc1" top: "prob" }
"""

TINY_SHAPES = {"conv1": [(5, 3, 3, 3), (5,)], "fc1": [(7, 5 * 5 * 4), (7,)]}


def tiny_weights(seed: int = 0) -> dict[str, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return {name: [rng.standard_normal(s).astype(np.float32) for s in shapes] for name, shapes in TINY_SHAPES.items()}


def tiny_input(seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((2, 3, 11, 9)).astype(np.float32)


def blob(arr: np.ndarray, form: str = "shape") -> "pb.BlobProto":
    """A BlobProto holding `arr` as: "shape" (V2 BlobShape), "legacy" (num/channels/height/width,
    right-aligned to 4-D as old Caffe wrote them) or "double" (BlobShape + double_data)."""
    b = pb.BlobProto()
    flat = np.asarray(arr).reshape(-1)
    if form == "legacy":
        dims = (1,) * (4 - arr.ndim) + tuple(arr.shape)
        b.num, b.channels, b.height, b.width = dims
        b.data.extend(flat.tolist())
    elif form == "double":
        b.shape.dim.extend(arr.shape)
        b.double_data.extend(flat.astype(np.float64).tolist())
    else:
        b.shape.dim.extend(arr.shape)
        b.data.extend(flat.tolist())
    return b


def caffemodel_bytes(text: str, weights: dict, form: str = "shape") -> bytes:
    """A .caffemodel as Caffe's Net::ToProto writes one: the net definition with blobs inside
    its layers (V1 `layers` or V2 `layer`, whichever `text` uses)."""
    net = pb.NetParameter()
    from google.protobuf import text_format
    text_format.Parse(text, net)
    if len(net.layers):
        targets = [l.layer if l.HasField("layer") else l for l in net.layers]
    else:
        targets = list(net.layer)
    for target in targets:
        for arr in weights.get(target.name, []):
            target.blobs.add().CopyFrom(blob(arr, form))
    return net.SerializeToString()
