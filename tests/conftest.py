"""Shared fixtures. Tests that need ../shared/data use `data_file(...)`: they skip with the reason
when it is absent, except under RECAFFE_REQUIRE_DATA=1 (as .ci/run sets), where that fails."""
from __future__ import annotations

import os

import numpy as np
import pytest

import recaffe
from recaffe.data import DataMissing, data_path

REQUIRE_DATA = os.environ.get("RECAFFE_REQUIRE_DATA") == "1"


def need_data(*parts):
    try:
        return data_path(*parts)
    except DataMissing as e:
        if REQUIRE_DATA:
            pytest.fail(f"RECAFFE_REQUIRE_DATA=1 but {e}")
        pytest.skip(str(e))


@pytest.fixture
def data_file():
    return need_data


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _restore_threads():
    yield
    recaffe.set_num_threads(0)
