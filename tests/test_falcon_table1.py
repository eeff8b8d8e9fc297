"""The multiplication counts of experiments/falcon_vgg16.py (Table 1 of the 1D-FALCON paper): VGG16's
conv layers from our prototxt, against the paper's rows (within 3%) and an independent count."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exp():
    spec = importlib.util.spec_from_file_location("falcon_vgg16", ROOT / "experiments" / "falcon_vgg16.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def dims(exp):
    return exp.conv_dims(exp.vgg16_trunk())


def test_vgg16_direct_count_is_the_known_figure(exp, dims):
    # independent: VGG16's blocks (channels, map size, number of convs)
    blocks = [(3, 64, 224, 1), (64, 64, 224, 1), (64, 128, 112, 1), (128, 128, 112, 1), (128, 256, 56, 1),
              (256, 256, 56, 2), (256, 512, 28, 1), (512, 512, 28, 2), (512, 512, 14, 3)]
    expected = sum(n * s * s * ci * co * 9 for ci, co, s, n in blocks)
    assert len(dims) == 13
    assert sum(exp.muls_direct(d) for d in dims.values()) == expected
    assert expected == pytest.approx(15.3e9, rel=0.01)


def test_rows_within_3_percent_of_the_paper(exp, dims):
    rep = exp.Report("t", out="/nonexistent", quiet=True)
    t = exp.table1(rep, dims)
    assert t["direct"] == pytest.approx(15.3e9, rel=0.03)
    assert t["winograd"] == pytest.approx(3.8e9, rel=0.03)
    assert t["falcon_toomcook"] == pytest.approx(1.3e9, rel=0.03)
    # F(4,3) halves each stage exactly when the maps divide by 4 (all of VGG16's do except 14x14)
    assert t["falcon_lowrank"] / t["falcon_toomcook"] == pytest.approx(2.0, rel=0.03)
    assert 5 < t["compression_1_3G"] < 7 and 2.5 < t["compression_paper_reading"] < 3.5


def test_falcon_stage_count_by_hand(exp):
    d = dict(F_I=64, F_O=128, k=3, H=14, W=14, Ho=14, Wo=14)
    assert exp.muls_falcon(d, 10) == 14 * 14 * 10 * 64 * 3 + 14 * 14 * 128 * 10 * 3
    # F(4,3): ceil(14/4) = 4 tiles of 6 products along each stage's axis
    assert exp.muls_falcon(d, 10, m=4) == 4 * 14 * 10 * 64 * 6 + 14 * 4 * 128 * 10 * 6
    assert exp.muls_winograd(d, 4) == 16 * 36 * 128 * 64
