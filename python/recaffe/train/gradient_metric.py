"""Denton et al.'s gradient-weighted metric (Sec. 3.1, Eqs. 1-2): weights alpha_p on the coordinates of
one layer's weight tensor from back-propagated "dangerous mistakes".

For each labelled image n and each of the h classes l != y_n with the largest softmax outputs, the
difference between the prediction and that mistake, U(I_n) - e_l, is back-propagated to the layer's
weights: d_{n,l} = (dU/dW)^T (U - e_l). Then alpha_p = (sum_{n,l} d_{n,l}(p)^2)^(1/2). The
approximations use alpha through `denton_factors.separable_alpha` (one factor per output and per
input channel), the part of the reweighting that keeps their low-rank structure.
"""
from __future__ import annotations

import numpy as np
import torch

from ..data import presets
from .torch_net import TorchNet


def gradient_alpha(prototxt, weights, layer: str, images: np.ndarray, labels: np.ndarray, *, h: int = 2,
                   preprocess=presets.cifar10_caffe) -> np.ndarray:
    """alpha (same shape as `layer`'s weight blob) from uint8 N x H x W x C `images` with `labels`."""
    net = TorchNet(prototxt, weights, phase="test")
    net.eval()
    if layer not in net.by_name or not net.by_name[layer].blob_tensors():
        raise ValueError(f"layer '{layer}' has no weights in this net")
    w = net.by_name[layer].blob_tensors()[0]
    for t in net.parameters():
        t.requires_grad_(False)
    w.requires_grad_(True)
    key = net.logits_blob()
    x_all = torch.from_numpy(np.ascontiguousarray(preprocess(images)))
    labels = np.asarray(labels, np.int64)
    acc = torch.zeros_like(w)
    for n in range(len(labels)):
        u = torch.softmax(net(x_all[n:n + 1], outputs=[key])[key].reshape(-1), dim=0)
        order = torch.argsort(u.detach(), descending=True).tolist()
        mistakes = [c for c in order if c != labels[n]][:h]
        for j, l in enumerate(mistakes):
            v = u.detach().clone()
            v[l] -= 1.0   # U - e_l
            (g,) = torch.autograd.grad(u, w, grad_outputs=v, retain_graph=j + 1 < len(mistakes))
            acc += g * g
    return acc.sqrt().numpy().astype(np.float64)
