"""Reading and writing text .prototxt files."""
from __future__ import annotations

import os
import re

from google.protobuf import text_format

from ..errors import CaffeFileError
from .proto import pb

_LINE_RE = re.compile(r"^(\d+):(\d+)\s*:\s*(.*)$", re.S)


def parse_text(text: str, message, path: str | None = None):
    """Parse protobuf text into `message` as Caffe's ReadProtoFromTextFile does (TextFormat::Parse:
    a singular field given twice is an error); a syntax error names the file and line."""
    try:
        text_format.Parse(text, message, allow_unknown_extension=False)
    except RecursionError:
        raise CaffeFileError("prototxt nested too deeply", path) from None
    except text_format.ParseError as e:
        msg = str(e)
        m = _LINE_RE.match(msg)
        line = None
        if m:
            line, col, msg = int(m.group(1)), int(m.group(2)), m.group(3)
            msg = f"column {col}: {msg}"
        raise CaffeFileError(f"prototxt syntax error: {msg}", path, line=line) from None
    return message


def read_prototxt(path: str | os.PathLike, message=None):
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise CaffeFileError("no such file", path) from None
    except IsADirectoryError:
        raise CaffeFileError("is a directory, not a .prototxt file", path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise CaffeFileError("not a text file (invalid UTF-8); is this a binary .caffemodel?", path,
                             line=line) from None
    if message is not None:
        return parse_text(text, message, path)
    try:
        return parse_text(text, pb.NetParameter(), path)
    except CaffeFileError:
        solver = _as_solver(text)
        if solver is not None:
            raise CaffeFileError(f"this is a solver definition (SolverParameter), not a network; the network it "
                                 f"trains is '{solver.net or solver.train_net or '?'}'", path) from None
        raise


def _as_solver(text: str):
    try:
        return text_format.Parse(text, pb.SolverParameter())
    except (text_format.ParseError, RecursionError):
        return None


def write_prototxt(net, path: str | os.PathLike) -> None:
    text = text_format.MessageToString(net, use_short_repeated_primitives=False, as_utf8=True)
    tmp = os.fspath(path) + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def to_text(net) -> str:
    return text_format.MessageToString(net)
