"""recaffe.Net: pycaffe's Net, on recaffe's C++ core.

    net = recaffe.Net("deploy.prototxt", "weights.caffemodel")   # phase="test"
    probs = net.forward(data=batch)["prob"]
    net.blobs["conv1"].data        # live view; after a full forward an in-place ReLU's output
    net.params["conv1"][0].data    # weights, writable
    print(net.time(iterations=10)) # per-layer medians, like `caffe time`
"""
from __future__ import annotations

import os
from collections import OrderedDict
from typing import Callable, Mapping

import numpy as np

from . import _core
from .errors import CaffeFileError, InputError, LayerError, RecaffeError, ResourceError, UnknownLayerError
from .graph import check_tops, filter_net, insert_splits, net_outputs
from .io import is_prototxt_text, match_weights, read_net, read_weights, shape_equals
from .io.proto import pb
from .params import layer_to_dict

_PYTHON_LAYERS: dict[str, Callable] = {}



def register_layer(type_name: str, factory: Callable) -> None:
    """Register a Python layer for `type_name`. `factory(layer_param)` returns an object with
    `reshape(bottom_shapes) -> [top_shape, ...]` and `forward(bottoms, tops)` (numpy arrays;
    write into tops[i][...]). Registered types take precedence over built-in ones."""
    if not callable(factory):
        raise TypeError("register_layer needs a callable returning a layer object")
    _PYTHON_LAYERS[type_name] = factory


def unregister_layer(type_name: str) -> None:
    _PYTHON_LAYERS.pop(type_name, None)


def default_memory_cap() -> int:
    env = os.environ.get("RECAFFE_MEMORY_CAP")
    if env:
        return int(float(env))
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 16 << 30
    return int(total * 0.75)


class Blob:
    """A tensor of the net: `.data` is a numpy view of its memory (no copy)."""

    __slots__ = ("_t", "_param", "name", "_sync")

    def __init__(self, tensor, name: str, param: bool = False, sync=None):
        self._t, self.name, self._param, self._sync = tensor, name, param, sync

    @property
    def data(self) -> np.ndarray:
        if self._param:
            self._t.bump_version()  # the caller may write: engines (and the GPU copy) refresh
        elif self._sync is not None:
            self._sync(self._t)     # a GPU net: bring the device data to the host first
        return self._t.view()

    @data.setter
    def data(self, value) -> None:
        self._t.set(np.asarray(value, dtype=np.float32))

    @property
    def shape(self) -> tuple:
        return tuple(self._t.shape)

    @property
    def count(self) -> int:
        return self._t.count

    def _legacy(self, i: int) -> int:
        s = self.shape
        return s[i] if -len(s) <= i < len(s) else 1

    num = property(lambda self: self._legacy(-4))
    channels = property(lambda self: self._legacy(-3))
    height = property(lambda self: self._legacy(-2))
    width = property(lambda self: self._legacy(-1))

    def reshape(self, *shape) -> None:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        self._t.reshape([int(d) for d in shape])

    def __repr__(self) -> str:
        return f"Blob({self.name!r}, shape={self.shape})"


class Net:
    """A Caffe network on the CPU.

    prototxt: path, prototxt text, or a NetParameter. weights: a .caffemodel path, a
    {layer: [ndarray]} dict (as recaffe.load returns), or None (the prototxt's fillers, as Caffe).
    engine: the default convolution engine ("gemm", Caffe's im2col+sgemm); engines: per-layer
    overrides {layer name: engine or (engine, {option: value})}.
    """

    def __init__(self, prototxt, weights=None, phase: str = "test", *, engine: str = "gemm",
                 engines: Mapping | None = None, level: int = 0, stages=(), memory_cap: int | None = None,
                 input_shapes: Mapping[str, tuple] | None = None, device: str = "cpu",
                 _skip_weights: bool = False):
        self._path = os.fspath(prototxt) if isinstance(prototxt, (str, os.PathLike)) and \
            not is_prototxt_text(prototxt) else None
        self.phase = phase
        self.net_param = read_net(prototxt, self._path)
        filtered = filter_net(self.net_param, phase, level, stages, self._path)
        check_tops(filtered, self._path)
        from .data_layers import replace_data_layers
        filtered, self._data_inputs = replace_data_layers(filtered, input_shapes, self._path)
        self.graph = insert_splits(filtered, self._path)  # the exact layer list the core runs
        self.memory_cap = default_memory_cap() if memory_cap is None else int(memory_cap)
        engines = dict(engines or {})
        conv_names = {l.name for l in self.graph.layer if l.type == "Convolution"}
        for name in engines:
            if name not in conv_names:
                raise LayerError(f"engines: no convolution layer named '{name}'", name)
        self._core = _core.Net()
        for layer in self.graph.layer:
            extra = None
            if layer.type == "Convolution":
                choice = engines.get(layer.name)
                if choice is None and not layer.recaffe_param.engine:
                    choice = engine
                if choice is not None:
                    ename, opts = (choice, {}) if isinstance(choice, str) else choice
                    extra = {"engine": ename, "engine_option": [f"{k}={v}" for k, v in dict(opts).items()]}
            params = layer_to_dict(layer, extra)
            args = (layer.name, layer.type, params, list(layer.bottom), list(layer.top), phase)
            try:
                if layer.type in _PYTHON_LAYERS:
                    self._core.add_python_layer(*args, _PYTHON_LAYERS[layer.type](layer))
                elif layer.type in _core_types():
                    self._core.add_layer(*args)
                else:
                    raise UnknownLayerError(
                        f"unknown layer type '{layer.type}' (layer '{layer.name}'"
                        f"{' in ' + self._path if self._path else ''}); recaffe implements: "
                        f"{', '.join(sorted(_core_types()))}. Register a Python layer with "
                        f"recaffe.register_layer('{layer.type}', factory) to run it.",
                        layer.name, layer.type)
            except LayerError as e:
                if self._path and self._path not in str(e):
                    e.args = (f"{self._path}: {e.args[0]}",)
                raise
        try:
            self._core.init(self.memory_cap)
        except LayerError as e:
            if self._path and self._path not in str(e):
                e.args = (f"{self._path}: {e.args[0]}",)
            raise
        self._layer_names = [self._core.layer_name(i) for i in range(self._core.num_layers())]
        self._index = {n: i for i, n in enumerate(self._layer_names)}
        self.inputs = [t for l in self.graph.layer if l.type == "Input" for t in l.top]
        self.outputs = net_outputs(self.graph)
        self.device = device
        self._gpu = _make_gpu(self._core, device) if device != "cpu" else None
        sync = self._gpu.download if self._gpu is not None else None
        self._blobs = OrderedDict((n, Blob(self._core.blob(n), n, sync=sync)) for n in self._core.blob_names())
        self._params = OrderedDict()
        for i, name in enumerate(self._layer_names):
            blobs = self._core.layer_blobs(i)
            if blobs:
                self._params[name] = [Blob(t, f"{name}[{k}]", param=True) for k, t in enumerate(blobs)]
        if not _skip_weights:
            if weights is None:
                from .fillers import fill_weights
                self.copy_from(fill_weights(self, seed=0, defaults="caffe"))
            elif isinstance(weights, (str, os.PathLike)):
                self.copy_from_file(weights)
            else:
                self.copy_from(weights)

    # --- pycaffe's attributes -------------------------------------------------------------
    @property
    def blobs(self) -> "OrderedDict[str, Blob]":
        return self._blobs

    @property
    def params(self) -> "OrderedDict[str, list[Blob]]":
        return self._params

    @property
    def layer_names(self) -> list[str]:
        return list(self._layer_names)

    @property
    def layer_types(self) -> list[str]:
        return [self._core.layer_type(i) for i in range(len(self._layer_names))]

    @property
    def top_names(self) -> "OrderedDict[str, list[str]]":
        return OrderedDict((n, list(self._core.top_names(i))) for i, n in enumerate(self._layer_names))

    @property
    def bottom_names(self) -> "OrderedDict[str, list[str]]":
        return OrderedDict((n, list(self._core.bottom_names(i))) for i, n in enumerate(self._layer_names))

    def layer_backends(self) -> dict[str, str]:
        """On a GPU net, which layers run as CUDA kernels ("gpu") and which fall back to the CPU."""
        if self._gpu is None:
            return {n: "cpu" for n in self._layer_names}
        return {n: self._gpu.layer_kind(i) for i, n in enumerate(self._layer_names)}

    def layer_index(self, name: str) -> int:
        if name not in self._index:
            raise LayerError(f"no layer named '{name}'", name)
        return self._index[name]

    def engine_of(self, layer: str) -> str:
        return self._core.conv_engine(self.layer_index(layer))

    def set_engine(self, layer: str, engine: str, **options) -> None:
        """Switch one convolution layer's engine (e.g. "isc", "winograd")."""
        self._core.set_conv_engine(self.layer_index(layer), engine, [f"{k}={v}" for k, v in options.items()])

    def memory_bytes(self) -> int:
        return self._core.memory_bytes()

    # --- weights ---------------------------------------------------------------------------
    def param_shapes(self) -> dict[str, list[tuple]]:
        return {name: [b.shape for b in blobs] for name, blobs in self._params.items()}

    def copy_from(self, weights: Mapping[str, list]) -> None:
        """Copy {layer: [arrays]} in (shapes must match exactly, or as legacy 4-D right-aligned)."""
        for name, arrays in weights.items():
            if name not in self._params:
                if name in self._index:
                    raise LayerError(f"weights given for layer '{name}', which has no parameters", name)
                continue  # Caffe ignores source layers the net lacks
            target = self._params[name]
            if len(arrays) != len(target):
                raise LayerError(f"layer '{name}': {len(arrays)} weight arrays given but the layer has "
                                 f"{len(target)} blobs", name)
            for k, (arr, blob) in enumerate(zip(arrays, target)):
                a = np.asarray(arr)
                if a.dtype.kind not in "fiu":
                    raise LayerError(f"layer '{name}': weight blob {k} has dtype {a.dtype}, expected float32", name)
                if a.shape != blob.shape:
                    if a.size == blob.count and a.ndim == 4 and tuple(s for s in a.shape if s != 1) == \
                            tuple(s for s in blob.shape if s != 1) and a.shape[-len(blob.shape):] == blob.shape:
                        a = a.reshape(blob.shape)
                    else:
                        raise LayerError(f"layer '{name}': weight blob {k} has shape {a.shape} but the layer needs "
                                         f"{blob.shape}", name)
                blob.data = a

    def copy_from_file(self, caffemodel) -> None:
        path = os.fspath(caffemodel)
        _, stored = read_weights(path)
        self.copy_from(match_weights(stored, self.param_shapes(), path))

    def weights(self) -> dict[str, list[np.ndarray]]:
        """A copy of all parameters as {layer: [ndarray]}."""
        return {name: [b.data.copy() for b in blobs] for name, blobs in self._params.items()}

    # --- running ------------------------------------------------------------------------------
    def _check_input(self, name: str, value) -> np.ndarray:
        blob = self._blobs[name]
        arr = np.asarray(value)
        if arr.dtype.kind not in "fiub":
            raise InputError(f"input '{name}': expected a numeric array, got dtype {arr.dtype}")
        if arr.ndim != len(blob.shape):
            raise InputError(f"input '{name}' is {len(blob.shape)}-D with shape {blob.shape}; got an array of "
                             f"shape {arr.shape}")
        if arr.size == 0:
            raise InputError(f"input '{name}': empty array of shape {arr.shape}")
        return np.asarray(arr, dtype=np.float32, order="C")  # ascontiguousarray would make 0-d 1-d

    def set_input(self, **inputs) -> None:
        """Copy arrays into the input blobs; a new shape reshapes the whole net (checked against
        the memory cap before anything is allocated)."""
        unknown = set(inputs) - set(self.inputs)
        if unknown:
            raise InputError(f"unknown input(s) {sorted(unknown)}; the net's inputs are {self.inputs}")
        arrays = {n: self._check_input(n, v) for n, v in inputs.items()}
        old = {n: self._blobs[n].shape for n in arrays}
        if any(a.shape != old[n] for n, a in arrays.items()):
            try:
                for n, a in arrays.items():
                    self._blobs[n].reshape(a.shape)
                self._core.reshape()
                if self.memory_bytes() > self.memory_cap:
                    raise ResourceError(
                        f"with inputs {{{', '.join(f'{n}: {a.shape}' for n, a in arrays.items())}}} the net needs "
                        f"{self.memory_bytes() >> 20} MiB, more than the memory cap of {self.memory_cap >> 20} MiB")
            except Exception:
                for n, s in old.items():
                    self._blobs[n].reshape(s)
                self._core.reshape()
                raise
        for n, a in arrays.items():
            self._blobs[n]._t.set(a)

    def reshape(self) -> None:
        """Re-run shape inference after inputs were reshaped (pycaffe's net.reshape())."""
        self._core.reshape()

    def _range(self, start: str | None, end: str | None) -> tuple[int, int]:
        i0 = 0 if start is None else self.layer_index(start)
        i1 = len(self._layer_names) - 1 if end is None else self.layer_index(end)
        if i1 < i0:
            raise LayerError(f"end layer '{end}' comes before start layer '{start}'")
        return i0, i1

    def forward(self, blobs=None, start: str | None = None, end: str | None = None, **inputs) -> dict:
        """Run the net (layers start..end inclusive) and return copies of the output blobs
        (the net's outputs, or the end layer's tops) plus any extra `blobs`."""
        if inputs:
            self.set_input(**inputs)
        i0, i1 = self._range(start, end)
        if self._gpu is not None:
            self._gpu.forward(i0, i1)
        else:
            self._core.forward(i0, i1)
        names = self.outputs if end is None else list(self._core.top_names(i1))
        names = list(names) + [b for b in (blobs or []) if b not in names]
        for b in names:
            if b not in self._blobs:
                raise LayerError(f"no blob named '{b}'")
        return {b: self._blobs[b].data.copy() for b in names}

    def forward_timed(self, start: str | None = None, end: str | None = None) -> list[float]:
        """One forward; each layer's wall time in milliseconds (index = layer index)."""
        i0, i1 = self._range(start, end)
        if self._gpu is not None:
            return list(self._gpu.forward_timed(i0, i1))  # CUDA events, synchronised per layer
        return list(self._core.forward_timed(i0, i1))

    def time(self, iterations: int = 10, warmup: int = 1, verbose: bool = True):
        """Time the forward pass like `caffe time` (but TEST phase, forward only, medians):
        returns a recaffe.bench.NetTiming with per-layer median ms and noise-to-signal ratios."""
        from .bench import time_net
        timing = time_net(self, iterations=iterations, warmup=warmup)
        if verbose:
            print(timing.table())
        return timing

    def __repr__(self) -> str:
        return f"<recaffe.Net {self.net_param.name or ''} {len(self._layer_names)} layers, inputs {self.inputs}>"


def cuda_available() -> tuple[bool, str]:
    """(True, "") when recaffe was built with RECAFFE_CUDA=ON and a CUDA device is present,
    else (False, the reason)."""
    if not getattr(_core, "cuda_built", False):
        return False, "recaffe was built without CUDA (rebuild with RECAFFE_CUDA=ON pip install .)"
    ok, why = _core.cuda.available()
    return bool(ok), why


def _make_gpu(core_net, device: str):
    if not device.startswith("cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda[:N]', got {device!r}")
    ok, why = cuda_available()
    if not ok:
        raise RecaffeError(f"device={device!r} is not available: {why}")
    index = int(device.split(":", 1)[1]) if ":" in device else 0
    return _core.cuda.GpuNet(core_net, index)


_TYPES_CACHE: set[str] | None = None


def _core_types() -> set[str]:
    global _TYPES_CACHE
    if _TYPES_CACHE is None:
        _TYPES_CACHE = set(_core.layer_types())
    return _TYPES_CACHE


def expected_param_shapes(net_param, phase: str = "test", input_shapes=None) -> dict[str, list[tuple]]:
    """{layer: [blob shape]} as the built net needs them (used to match caffemodel blobs)."""
    return Net(net_param, phase=phase, _skip_weights=True, memory_cap=0, input_shapes=input_shapes).param_shapes()
