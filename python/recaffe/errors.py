"""recaffe's exceptions. Every error names what it can of the file, the layer and the field."""
from __future__ import annotations


class RecaffeError(ValueError):
    """Base class: a network, file, parameter or input recaffe refuses."""


class LayerError(RecaffeError):
    """A layer's parameters, weights or input shapes are wrong (raised by the C++ core too)."""

    def __init__(self, message: str, layer: str | None = None):
        super().__init__(message)
        self.layer = layer or None


class UnknownLayerError(LayerError):
    """A layer type recaffe does not implement (and no Python layer is registered for)."""

    def __init__(self, message: str, layer: str | None = None, layer_type: str | None = None):
        super().__init__(message, layer)
        self.layer_type = layer_type


class CaffeFileError(RecaffeError):
    """A .prototxt or .caffemodel that cannot be read: malformed, truncated, inconsistent."""

    def __init__(self, message: str, path: str | None = None, layer: str | None = None,
                 field: str | None = None, line: int | None = None):
        where = []
        if path:
            where.append(f"{path}" + (f":{line}" if line else ""))
        if layer:
            where.append(f"layer '{layer}'")
        if field:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.path, self.layer, self.field, self.line = path, layer, field, line


class ShapeMismatchError(CaffeFileError):
    """Weights whose shape or count does not match what the layer needs."""


class ResourceError(RecaffeError, MemoryError):
    """A network or input that would need more memory than the configured cap (or absurd sizes)."""


class InputError(RecaffeError):
    """An input array of the wrong name, shape or dtype passed to Net.forward."""
