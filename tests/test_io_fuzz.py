"""A bounded, derandomized fuzz run over the caffemodel and prototxt readers (hypothesis): mutated
valid files and random bytes either load or raise a RecaffeError; nothing else escapes, nothing
crashes, and a net built from a mutated prototxt stays under the memory cap.

Each property runs 200 examples from a fixed seed (derandomize=True), a few seconds in all; raise
RECAFFE_FUZZ_EXAMPLES for a longer local run."""
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import recaffe  # noqa: E402
from recaffe.errors import RecaffeError  # noqa: E402
from recaffe.io import match_weights, read_caffemodel, read_net, upgrade  # noqa: E402

from caffe_fixtures import TINY_SHAPES, TINY_V0, TINY_V1, TINY_V2, caffemodel_bytes, tiny_weights  # noqa: E402

EXAMPLES = int(os.environ.get("RECAFFE_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))

SEEDS = [caffemodel_bytes(TINY_V2, tiny_weights(), "shape"), caffemodel_bytes(TINY_V1, tiny_weights(), "legacy"),
         caffemodel_bytes(TINY_V2, tiny_weights(), "double"), caffemodel_bytes(TINY_V0, tiny_weights(), "legacy")]
TEXTS = [TINY_V2, TINY_V1, TINY_V0]


@st.composite
def mutated(draw, seeds):
    """A seed with a few byte-level edits: overwrite, insert, delete, truncate, duplicate a span."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["set", "insert", "delete", "truncate", "dup"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "set" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 16))]
        elif op == "truncate":
            del data[pos:]
        elif op == "dup":
            n = draw(st.integers(1, 32))
            data[pos:pos] = data[pos:pos + n]
    return bytes(data)


def read_and_match(raw: bytes) -> None:
    net, stored = read_caffemodel("<fuzz>", raw)
    upgrade.upgrade_net(net, "<fuzz>")
    weights = match_weights(stored, TINY_SHAPES, "<fuzz>")
    for arrays in weights.values():
        for a in arrays:
            assert a.dtype == np.float32


@FUZZ
@given(mutated(SEEDS))
def test_mutated_caffemodels_load_or_raise_recaffe_errors(raw):
    try:
        read_and_match(raw)
    except RecaffeError:
        pass


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes_as_caffemodel(raw):
    try:
        read_and_match(raw)
    except RecaffeError:
        pass


@FUZZ
@given(mutated([t.encode() for t in TEXTS]))
def test_mutated_prototxts_read_build_and_run_or_raise(raw):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    try:
        if text is None or "{" not in text:  # through the file path, as a user would pass it
            return _read_file(raw)
        net = recaffe.Net(read_net(text), memory_cap=64 << 20)
        if net.inputs:
            x = {n: np.ones(net.blobs[n].shape, np.float32) for n in net.inputs}
            net.forward(**x)
    except RecaffeError:
        pass


def _read_file(raw: bytes) -> None:
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".prototxt", delete=False) as f:
        f.write(raw)
    try:
        read_net(f.name)
    except RecaffeError:
        pass
    finally:
        os.unlink(f.name)
