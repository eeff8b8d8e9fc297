"""One convolution layer as a net of its own, for per-layer benchmarks (ISC's Table 3, engine
sweeps): the prototxt, seeded weights, and inputs with an exact fraction of zeros."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ConvShape:
    """C input channels of H x W, K outputs, a k x k kernel, pad, stride (the paper's Table 2 columns)."""
    C: int
    H: int
    W: int
    K: int
    k: int
    pad: int = 0
    stride: int = 1
    group: int = 1
    N: int = 1

    @property
    def out_hw(self) -> tuple[int, int]:
        # Caffe: (H + 2p - k) / s + 1, floor
        return ((self.H + 2 * self.pad - self.k) // self.stride + 1, (self.W + 2 * self.pad - self.k) // self.stride + 1)

    @property
    def macs(self) -> int:
        """Dense multiply-accumulates of one forward."""
        ho, wo = self.out_hw
        return self.N * self.K * ho * wo * (self.C // self.group) * self.k * self.k


def conv_layer_prototxt(s: ConvShape, name: str = "conv") -> str:
    """Input -> one Convolution layer named `name` (bottom "data", top `name`)."""
    return f"""name: "{name}_alone"
layer {{ name: "data" type: "Input" top: "data"
        input_param {{ shape {{ dim: {s.N} dim: {s.C} dim: {s.H} dim: {s.W} }} }} }}
layer {{ name: "{name}" type: "Convolution" bottom: "data" top: "{name}"
        convolution_param {{ num_output: {s.K} kernel_size: {s.k} pad: {s.pad} stride: {s.stride}
                            group: {s.group} }} }}
"""


def conv_layer_weights(s: ConvShape, seed: int = 0, name: str = "conv") -> dict:
    """Seeded Gaussian weights (He scale) and small biases, as recaffe.Net's `weights` dict."""
    rng = np.random.default_rng(seed)
    fan_in = (s.C // s.group) * s.k * s.k
    w = rng.standard_normal((s.K, s.C // s.group, s.k, s.k)).astype(np.float32) * np.float32(np.sqrt(2.0 / fan_in))
    b = (0.01 * rng.standard_normal(s.K)).astype(np.float32)
    return {name: [w, b]}


def sparse_relu_input(shape, sparsity: float, seed: int = 0) -> np.ndarray:
    """Non-negative values like ReLU outputs, with exactly round(sparsity * size) zeros at seeded
    random positions (the rest uniform in (0, 1])."""
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparsity must be in [0, 1], got {sparsity}")
    rng = np.random.default_rng(seed)
    x = (1.0 - rng.random(shape, dtype=np.float32))  # (0, 1]: no accidental zeros
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, int(round(sparsity * flat.size)), replace=False)] = 0.0
    return x
