"""recaffe.toomcook: exact F(m, r) transforms against direct correlation, multiplication counts,
2-D nesting, and the C++ engines' matrices against the Python construction."""
from fractions import Fraction

import numpy as np
import pytest

import recaffe
from recaffe import toomcook as tc

TILES = [(2, 3), (3, 3), (4, 3), (6, 3), (2, 5), (4, 5), (2, 2), (1, 3), (3, 1)]


@pytest.mark.parametrize("m,r", TILES)
def test_exact_against_direct_correlation(m, r):
    t = tc.transform(m, r)
    assert tc.check_exact(t, trials=4)
    # an independent check on the matrices themselves: A^T diag(G g) B^T == the correlation matrix
    rng = np.random.default_rng(m * 10 + r)
    g = [Fraction(int(v), int(q)) for v, q in zip(rng.integers(-9, 9, r), rng.integers(1, 5, r))]
    u = [sum(row[j] * g[j] for j in range(r)) for row in t.G]
    for i in range(m):
        for k in range(t.alpha):
            entry = sum(t.AT[i][a] * u[a] * t.BT[a][k] for a in range(t.alpha))
            assert entry == (g[k - i] if 0 <= k - i < r else 0)


def test_lavin_f23_and_known_shapes():
    t = tc.transform(2, 3)
    assert t.points == (0, 1, -1, tc.INF)
    assert [list(map(int, row)) for row in t.BT] == [[1, 0, -1, 0], [0, 1, 1, 0], [0, 1, -1, 0], [0, 1, 0, -1]]
    assert [list(map(int, row)) for row in t.AT] == [[1, 1, 1, 0], [0, 1, -1, 1]]
    assert t.G[1] == (Fraction(1, 2),) * 3
    # every B^T entry is an integer: the fractions live in G
    for m, r in TILES:
        assert all(x.denominator == 1 for row in tc.transform(m, r).BT for x in row)


@pytest.mark.parametrize("m,r,mults,direct", [(2, 3, 4, 6), (3, 3, 5, 9), (4, 3, 6, 12), (6, 3, 8, 18)])
def test_multiplication_counts_1d(m, r, mults, direct):
    t = tc.transform(m, r)
    assert (t.multiplications, t.direct_multiplications) == (mults, direct)


@pytest.mark.parametrize("m,mults,direct", [(2, 16, 36), (4, 36, 144), (6, 64, 324)])
def test_2d_nesting(m, mults, direct):
    t2 = tc.transform2d(tc.transform(m, 3))
    assert (t2.multiplications, t2.direct_multiplications) == (mults, direct)
    rng = np.random.default_rng(m)
    d = rng.integers(-5, 5, (m + 2, m + 2)).astype(np.float64)
    g = rng.integers(-5, 5, (3, 3)).astype(np.float64)
    ref = np.array([[np.sum(d[i:i + 3, j:j + 3] * g) for j in range(m)] for i in range(m)])
    np.testing.assert_allclose(t2.correlate(d, g), ref, rtol=0, atol=1e-9)


def test_custom_points_and_errors():
    t = tc.transform(4, 3, points=[0, 1, -1, 2, -2])       # Lavin's default F(4,3)
    assert tc.check_exact(t)
    assert tc.transform(2, 3, points=["0", "1", "-1", "inf"]).points[-1] == tc.INF
    assert tc.check_exact(tc.transform(2, 3, points=[0, 1, -1, 2]))  # all finite points
    with pytest.raises(ValueError, match="distinct"):
        tc.transform(2, 3, points=[0, 1, 1])
    with pytest.raises(ValueError, match="needs 5 finite points"):
        tc.transform(4, 3, points=[0, 1, -1])


def test_fp32_error_grows_with_tile_and_good_points_help():
    e2, e4, e6 = (tc.fp32_error(tc.transform(m, 3), trials=400) for m in (2, 4, 6))
    assert e2 < e4 < e6 < 2e-6
    bad = tc.fp32_error(tc.transform(6, 3, points=[0, 1, -1, 2, -2, 3, -3]), trials=400)
    assert bad > 3 * e6   # REFERENCE_NOTES C: (0, +-1, +-2, +-3) is several times worse than +-1/2


@pytest.mark.parametrize("m,r,points", [(2, 3, []), (4, 3, []), (6, 3, []), (2, 5, []), (4, 5, []),
                                        (4, 3, ["0", "1", "-1", "2", "-2"]), (3, 2, ["0", "1/3", "-3/2", "inf"])])
def test_cpp_matrices_equal_python(m, r, points):
    c = recaffe._core.toomcook_matrices(m, r, points)
    p = tc.transform(m, r, points=points or None)
    AT, G, BT = p.matrices()
    np.testing.assert_array_equal(c["AT"], AT)
    np.testing.assert_array_equal(c["G"], G)
    np.testing.assert_array_equal(c["BT"], BT)
    assert c["points"] == ["inf" if x == tc.INF else str(x) for x in p.points]


def test_cpp_matrices_errors():
    with pytest.raises(ValueError, match="distinct"):
        recaffe._core.toomcook_matrices(2, 3, ["0", "1", "1"])
    with pytest.raises(ValueError, match="p/q"):
        recaffe._core.toomcook_matrices(2, 3, ["0", "x", "1"])
