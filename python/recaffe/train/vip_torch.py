"""The ViP interpolation layer (type "ViP", or the authors' "Interp") for the PyTorch bridge, so a
net with virtual pooling can be fine-tuned (the paper's Algorithm 1). Same operations in the same
order as the C++ kernel (kernels/vip_interp.h): odd columns average a pixel and its clamped right
neighbour, odd rows interpolate the mean of a row and the clamped next row."""
from __future__ import annotations

import torch

from ..errors import LayerError
from .torch_net import CaffeLayer


def _shift_clamped(x: torch.Tensor, dim: int) -> torch.Tensor:
    """x shifted by one towards the start along dim, the last slice repeated (the clamped border)."""
    n = x.shape[dim]
    return torch.cat([x.narrow(dim, 1, n - 1), x.narrow(dim, n - 1, 1)], dim=dim)


def _interp_rows(r: torch.Tensor) -> torch.Tensor:
    """N x C x H x W -> N x C x H x 2W: r[j], 0.5 * (r[j] + r[j+1]) interleaved."""
    m = 0.5 * (r + _shift_clamped(r, 3))
    return torch.stack([r, m], dim=-1).flatten(-2)


def vip_interpolate(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Eq. 5 with the clamped border: N x C x H x W -> N x C x height x width (2H-1 or 2H, 2W-1 or 2W)."""
    even = _interp_rows(x)
    odd = _interp_rows(0.5 * (x + _shift_clamped(x, 2)))
    out = torch.stack([even, odd], dim=-2).flatten(-3, -2)
    return out[:, :, :height, :width]


class ViP(CaffeLayer):
    def __init__(self, layer, shapes=None):
        super().__init__(layer)
        p = layer.vip_param
        self.height = int(p.height) if p.HasField("height") else None
        self.width = int(p.width) if p.HasField("width") else None

    def forward(self, bottoms):
        x = bottoms[0]
        H, W = int(x.shape[2]), int(x.shape[3])
        rule = H == 4  # the authors' Interp: (2H-1) x (2W-1) when the height is 4
        Ho = self.height if self.height is not None else (2 * H - 1 if rule else 2 * H)
        Wo = self.width if self.width is not None else (2 * W - 1 if rule else 2 * W)
        for field, n, o in (("height", H, Ho), ("width", W, Wo)):
            if o not in (2 * n - 1, 2 * n):
                raise LayerError(f"layer '{self.name}', field 'vip_param.{field}': {o} cannot come from {n} "
                                 f"(ViP gives {2 * n - 1} or {2 * n})", self.name)
        return [vip_interpolate(x, Ho, Wo)]
