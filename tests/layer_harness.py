"""Run one recaffe layer on given numpy inputs: a net of Input layers plus the layer under test,
built from prototxt text, so the whole path (parameter parsing, shape checks, forward) is exercised."""
from __future__ import annotations

import numpy as np

import recaffe


def layer_net(layer_type: str, shapes, params: str = "", n_tops: int = 1, phase: str = "test",
              weights=None, in_place: bool = False, engine: str = "gemm") -> recaffe.Net:
    lines = []
    for i, s in enumerate(shapes):
        dims = " ".join(f"dim: {int(d)}" for d in s)
        lines.append(f'layer {{ name: "in{i}" type: "Input" top: "x{i}" input_param {{ shape {{ {dims} }} }} }}')
    bottoms = " ".join(f'bottom: "x{i}"' for i in range(len(shapes)))
    tops = " ".join(f'top: "{"x0" if in_place and k == 0 else f"y{k}"}"' for k in range(n_tops))
    lines.append(f'layer {{ name: "L" type: "{layer_type}" {bottoms} {tops} {params} }}')
    return recaffe.Net("\n".join(lines) + "\n", weights=None if weights is None else {"L": weights}, phase=phase,
                       engine=engine)


def run_layer(layer_type: str, inputs, params: str = "", n_tops: int = 1, weights=None, phase: str = "test",
              in_place: bool = False, threads: int | None = None, engine: str = "gemm") -> list[np.ndarray]:
    """The layer's tops for `inputs` (a list of arrays)."""
    inputs = [np.asarray(a, np.float32) for a in inputs]
    net = layer_net(layer_type, [a.shape for a in inputs], params, n_tops, phase, weights, in_place, engine)
    if threads is not None:
        recaffe.set_num_threads(threads)
    net.forward(**{f"x{i}": a for i, a in enumerate(inputs)})
    names = ["x0" if in_place and k == 0 else f"y{k}" for k in range(n_tops)]
    return [net.blobs[n].data.copy() for n in names]


def assert_close(got, want, rtol=1e-5, atol=1e-6, what=""):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != reference {want.shape}"
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=rtol, atol=atol, err_msg=what)
