"""The CIFAR-10 networks the project trains, written as Caffe prototxt text.

With batchnorm=True every convolution is followed by BatchNorm + Scale (Caffe's BN pair), which
trains in far fewer epochs; `fold_batchnorm` removes them afterwards, so the deployed net has
exactly the paper architecture (convolutions, ReLU, pooling, classifier)."""
from __future__ import annotations

VGG16_CIFAR_WIDTHS = (32, 64, 128, 256, 256)   # VGG-16's (64, 128, 256, 512, 512), halved
ALLCNN_C_WIDTHS = (96, 192)                    # Springenberg et al. 2015, All-CNN-C


def _input(name: str, batch: int) -> str:
    return (f'name: "{name}"\nlayer {{ name: "data" type: "Input" top: "data"\n'
            f'  input_param {{ shape {{ dim: {batch} dim: 3 dim: 32 dim: 32 }} }} }}\n')


def _conv(name: str, bottom: str, n: int, k: int, stride: int, pad: int, batchnorm: bool, suffix: str,
          relu: bool = True) -> str:
    bias = "" if batchnorm else ' bias_filler { type: "constant" }'
    s = (f'layer {{ name: "{name}" type: "Convolution" bottom: "{bottom}" top: "{name}"\n'
         f'  convolution_param {{ num_output: {n} kernel_size: {k} stride: {stride} pad: {pad}'
         f'{" bias_term: false" if batchnorm else ""}\n'
         f'    weight_filler {{ type: "msra" }}{bias} }} }}\n')
    if batchnorm:
        s += (f'layer {{ name: "bn{suffix}" type: "BatchNorm" bottom: "{name}" top: "{name}"\n'
              f'  batch_norm_param {{ moving_average_fraction: 0.9 }} }}\n'
              f'layer {{ name: "scale{suffix}" type: "Scale" bottom: "{name}" top: "{name}"\n'
              f'  scale_param {{ bias_term: true }} }}\n')
    if relu:
        s += f'layer {{ name: "relu{suffix}" type: "ReLU" bottom: "{name}" top: "{name}" }}\n'
    return s


def vgg16_cifar(widths=VGG16_CIFAR_WIDTHS, batchnorm: bool = True, batch: int = 1) -> str:
    """VGG-16's 13 3x3 convolutions in five stages (2, 2, 3, 3, 3), each stage ending in 2x2
    max pooling (32 -> 1), then one classifier (fc8) and softmax (prob)."""
    depth = (2, 2, 3, 3, 3)
    if len(widths) != 5:
        raise ValueError("vgg16_cifar needs five stage widths")
    s = _input("VGG16_CIFAR", batch)
    bottom = "data"
    for stage, (n, d) in enumerate(zip(widths, depth), 1):
        for i in range(1, d + 1):
            name = f"conv{stage}_{i}"
            s += _conv(name, bottom, n, 3, 1, 1, batchnorm, f"{stage}_{i}")
            bottom = name
        s += (f'layer {{ name: "pool{stage}" type: "Pooling" bottom: "{bottom}" top: "pool{stage}"\n'
              f'  pooling_param {{ pool: MAX kernel_size: 2 stride: 2 }} }}\n')
        bottom = f"pool{stage}"
    s += ('layer { name: "fc8" type: "InnerProduct" bottom: "pool5" top: "fc8"\n'
          '  inner_product_param { num_output: 10 weight_filler { type: "msra" } bias_filler { type: "constant" } } }\n'
          'layer { name: "prob" type: "Softmax" bottom: "fc8" top: "prob" }\n')
    return s


def allcnn_c(widths=ALLCNN_C_WIDTHS, batchnorm: bool = True, batch: int = 1, dropout: bool = False) -> str:
    """All-CNN-C: 3x3 convs (a, a, a/2), (b, b, b/2) where /2 is a stride-2 convolution in place of
    pooling, then 3x3 valid (b), 1x1 (b), 1x1 (10) and global average pooling. `dropout` adds the
    paper's dropout (0.2 on the input, 0.5 after each stride-2 stage)."""
    a, b = widths
    s = _input("AllCNN_C", batch)
    bottom = "data"
    if dropout:
        s += 'layer { name: "drop0" type: "Dropout" bottom: "data" top: "data" dropout_param { dropout_ratio: 0.2 } }\n'
    spec = [(a, 3, 1, 1), (a, 3, 1, 1), (a, 3, 2, 1), (b, 3, 1, 1), (b, 3, 1, 1), (b, 3, 2, 1),
            (b, 3, 1, 0), (b, 1, 1, 0), (10, 1, 1, 0)]
    for i, (n, k, st, pad) in enumerate(spec, 1):
        last = i == len(spec)
        s += _conv(f"conv{i}", bottom, n, k, st, pad, batchnorm and not last, str(i), relu=not last)
        bottom = f"conv{i}"
        if dropout and st == 2:
            s += f'layer {{ name: "drop{i}" type: "Dropout" bottom: "{bottom}" top: "{bottom}" ' \
                 f'dropout_param {{ dropout_ratio: 0.5 }} }}\n'
    s += ('layer { name: "pool" type: "Pooling" bottom: "conv9" top: "pool"\n'
          '  pooling_param { pool: AVE global_pooling: true } }\n'
          'layer { name: "prob" type: "Softmax" bottom: "pool" top: "prob" }\n')
    return s


ZF_CIFAR_WIDTHS = (96, 128, 192, 256)          # conv1 (ZF/MattNet's 96), conv2, conv3-5, fc6/fc7


def zf_cifar(widths=ZF_CIFAR_WIDTHS, batchnorm: bool = True, batch: int = 1) -> str:
    """A Zeiler-Fergus-style net for 32x32 CIFAR-10 (Denton et al.'s MattNet geometry, scaled down):
    conv1 3->96 7x7 stride 2 pad 3 (16x16), max pool 3x3/2 (8x8), conv2 5x5 pad 2, max pool 3x3/2
    (4x4), conv3-conv5 3x3 pad 1, max pool 3x3/2 (2x2), fc6, fc7 (ReLU, dropout 0.5), fc8 (10).
    Pooling uses Caffe's ceil rounding. widths = (conv1, conv2, conv3/conv4, fc6/fc7); conv5 has
    conv2's width, as in ZF (256 after 384, 384)."""
    if len(widths) != 4:
        raise ValueError("zf_cifar needs four widths (conv1, conv2, conv3/4, fc)")
    c1, c2, c3, fc = widths
    s = _input("ZF_CIFAR", batch)
    bottom = "data"

    def pool(i: int, b: str) -> str:
        return (f'layer {{ name: "pool{i}" type: "Pooling" bottom: "{b}" top: "pool{i}"\n'
                f'  pooling_param {{ pool: MAX kernel_size: 3 stride: 2 }} }}\n')

    s += _conv("conv1", bottom, c1, 7, 2, 3, batchnorm, "1") + pool(1, "conv1")
    s += _conv("conv2", "pool1", c2, 5, 1, 2, batchnorm, "2") + pool(2, "conv2")
    s += _conv("conv3", "pool2", c3, 3, 1, 1, batchnorm, "3")
    s += _conv("conv4", "conv3", c3, 3, 1, 1, batchnorm, "4")
    s += _conv("conv5", "conv4", c2, 3, 1, 1, batchnorm, "5") + pool(5, "conv5")
    bottom = "pool5"
    for i, n in ((6, fc), (7, fc), (8, 10)):
        s += (f'layer {{ name: "fc{i}" type: "InnerProduct" bottom: "{bottom}" top: "fc{i}"\n'
              f'  inner_product_param {{ num_output: {n} weight_filler {{ type: "msra" }} '
              f'bias_filler {{ type: "constant" }} }} }}\n')
        bottom = f"fc{i}"
        if i < 8:
            s += (f'layer {{ name: "relu{i}" type: "ReLU" bottom: "fc{i}" top: "fc{i}" }}\n'
                  f'layer {{ name: "drop{i}" type: "Dropout" bottom: "fc{i}" top: "fc{i}"\n'
                  f'  dropout_param {{ dropout_ratio: 0.5 }} }}\n')
    s += 'layer { name: "prob" type: "Softmax" bottom: "fc8" top: "prob" }\n'
    return s
