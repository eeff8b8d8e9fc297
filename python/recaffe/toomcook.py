"""Toom-Cook (Winograd minimal filtering) transforms F(m, r), built exactly from interpolation points.

    t = recaffe.toomcook.transform(4, 3)              # F(4,3) with the default points (0, 1, -1, 1/2, -2, inf)
    y = t.correlate(d, g)                             # = A^T [(G g) * (B^T d)], d: 6 inputs, g: 3 taps
    t.multiplications, t.direct_multiplications       # 6 and 12 per tile
    t2 = recaffe.toomcook.transform2d(t, t)            # F(4x4, 3x3) by nesting: A^T [(G g G^T) * (B^T d B)] A

A CNN "convolution" is a correlation y_i = sum_j d_{i+j} g_j (i < m, j < r) over alpha = m + r - 1
inputs. Cook-Toom computes the linear convolution s = h * x of an r-tap h and an m-long x by
evaluating both at alpha points (one may be infinity: the leading coefficient), multiplying and
interpolating: s = V^-1 [(E_r h) * (E_m x)]. The correlation is the transpose of that map (the
transposition principle), so y = E_m^T [(E_r g) * (V^-T d)]: A^T = E_m^T, G = E_r, B^T = V^-T.
Each row of B^T is scaled to small integers and the factor moved into G (transformed once per
filter, off the hot path), as wincnn does. All arithmetic is in Fractions, so the matrices are exact.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import reduce
from math import gcd, lcm
from typing import Sequence

import numpy as np

INF = "inf"

# The default point sequence: F(m, r) takes its first alpha - 1 entries, plus infinity. These give the
# lowest fp32 error of the sets measured in REFERENCE_NOTES C: F(2,3) (0, 1, -1); F(4,3) (0, 1, -1, 1/2, -2),
# Barabasz et al.'s "good points"; F(6,3) (0, +-1, +-2, +-1/2), NNPACK's stable set.
DEFAULT_POINTS = (Fraction(0), Fraction(1), Fraction(-1), Fraction(1, 2), Fraction(-2), Fraction(2),
                  Fraction(-1, 2), Fraction(3), Fraction(-3), Fraction(1, 3), Fraction(-1, 3), Fraction(4),
                  Fraction(-4), Fraction(1, 4), Fraction(-1, 4))

Matrix = list  # list of rows of Fractions


def _parse_point(p):
    if isinstance(p, str) and p.strip().lower() in ("inf", "infinity", "∞"):
        return INF
    if isinstance(p, float):
        return Fraction(p).limit_denominator(1 << 20)
    return Fraction(p)


def default_points(m: int, r: int) -> tuple:
    alpha = m + r - 1
    if alpha - 1 > len(DEFAULT_POINTS):
        raise ValueError(f"F({m},{r}) needs {alpha - 1} finite points; give them with points=")
    return tuple(DEFAULT_POINTS[:alpha - 1]) + (INF,)


def _eval_row(a, n: int) -> list:
    """Row evaluating a polynomial with n coefficients (low degree first) at point a."""
    if a == INF:
        return [Fraction(0)] * (n - 1) + [Fraction(1)]
    return [a ** j for j in range(n)]


def _inverse(M: Matrix) -> Matrix:
    """Exact Gauss-Jordan inverse; raises ValueError on a singular matrix (repeated points)."""
    n = len(M)
    A = [list(row) + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(M)]
    for col in range(n):
        piv = next((i for i in range(col, n) if A[i][col] != 0), None)
        if piv is None:
            raise ValueError("the interpolation points are not distinct (singular Vandermonde matrix)")
        A[col], A[piv] = A[piv], A[col]
        p = A[col][col]
        A[col] = [x / p for x in A[col]]
        for i in range(n):
            if i != col and A[i][col] != 0:
                f = A[i][col]
                A[i] = [x - f * y for x, y in zip(A[i], A[col])]
    return [row[n:] for row in A]


def _transpose(M: Matrix) -> Matrix:
    return [list(c) for c in zip(*M)]


@dataclass(frozen=True)
class ToomCook:
    """F(m, r): m outputs of an r-tap correlation from alpha = m + r - 1 inputs, alpha multiplications.
    AT: m x alpha, G: alpha x r, BT: alpha x alpha, exact Fractions; points: the alpha points."""
    m: int
    r: int
    points: tuple
    AT: tuple
    G: tuple
    BT: tuple

    @property
    def alpha(self) -> int:
        return self.m + self.r - 1

    @property
    def multiplications(self) -> int:
        return self.alpha

    @property
    def direct_multiplications(self) -> int:
        return self.m * self.r

    @property
    def reduction(self) -> float:
        return self.direct_multiplications / self.multiplications

    @property
    def name(self) -> str:
        return f"F({self.m},{self.r})"

    def matrices(self, dtype=np.float64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(AT, G, BT) as float arrays."""
        return tuple(np.array([[float(x) for x in row] for row in M], dtype=dtype) for M in (self.AT, self.G, self.BT))

    def transform_additions(self) -> dict:
        """Nonzero, non-unit entries (multiplications by constants) and additions of the three
        transforms applied naively; the filter transform is amortised over every tile."""
        def cost(M):
            nz = sum(1 for row in M for x in row if x != 0)
            return {"const_mults": sum(1 for row in M for x in row if x not in (0, 1, -1)),
                    "adds": nz - len(M)}
        return {"input": cost(self.BT), "filter": cost(self.G), "output": cost(self.AT)}

    def correlate(self, d: Sequence, g: Sequence) -> list:
        """Exact y = A^T [(G g) * (B^T d)] on Fractions (or any numbers the Fractions multiply)."""
        if len(d) != self.alpha or len(g) != self.r:
            raise ValueError(f"{self.name} takes {self.alpha} inputs and {self.r} taps, got {len(d)} and {len(g)}")
        u = [sum(G_i[j] * g[j] for j in range(self.r)) for G_i in self.G]
        v = [sum(B_i[j] * d[j] for j in range(self.alpha)) for B_i in self.BT]
        w = [a * b for a, b in zip(u, v)]
        return [sum(A_i[k] * w[k] for k in range(self.alpha)) for A_i in self.AT]

    def __str__(self) -> str:
        pts = ", ".join("∞" if p == INF else str(p) for p in self.points)
        return f"{self.name} points ({pts}): {self.alpha} multiplications vs {self.direct_multiplications} direct"


def transform(m: int, r: int, points: Sequence | None = None) -> ToomCook:
    """Build F(m, r). points: alpha - 1 finite points (infinity is added) or alpha points (one of
    which may be "inf"); default: default_points(m, r)."""
    if m < 1 or r < 1:
        raise ValueError(f"F(m, r) needs m >= 1 and r >= 1, got F({m},{r})")
    alpha = m + r - 1
    pts = default_points(m, r) if points is None else tuple(_parse_point(p) for p in points)
    if len(pts) == alpha - 1 and INF not in pts:
        pts = pts + (INF,)
    if len(pts) != alpha:
        raise ValueError(f"F({m},{r}) needs {alpha - 1} finite points (plus infinity) or {alpha} points, "
                         f"got {len(pts)}")
    if len(set(pts)) != alpha:
        raise ValueError(f"F({m},{r}): interpolation points must be distinct, got {pts}")
    V = [_eval_row(a, alpha) for a in pts]          # evaluates the alpha-coefficient product
    Em = [_eval_row(a, m) for a in pts]             # evaluates the m-long data polynomial
    Er = [_eval_row(a, r) for a in pts]             # evaluates the r-tap filter polynomial
    BT = _transpose(_inverse(V))                    # V^-T
    G = [list(row) for row in Er]
    for i, row in enumerate(BT):                    # integer rows in B^T, the factor moves into G
        den = reduce(lcm, (x.denominator for x in row), 1)
        num = reduce(gcd, (abs(x.numerator) for x in row if x != 0), 0) or 1
        s = Fraction(den, num)
        if next((x for x in row if x != 0), Fraction(1)) < 0:
            s = -s                                  # first nonzero entry positive, as wincnn
        BT[i] = [x * s for x in row]
        G[i] = [x / s for x in G[i]]
    AT = _transpose(Em)
    freeze = lambda M: tuple(tuple(row) for row in M)  # noqa: E731
    return ToomCook(m, r, pts, freeze(AT), freeze(G), freeze(BT))


@dataclass(frozen=True)
class ToomCook2D:
    """F(mh x mw, rh x rw) by nesting: Y = AT_h [(G_h g G_w^T) * (BT_h d BT_w^T)] AT_w^T."""
    vertical: ToomCook
    horizontal: ToomCook

    @property
    def name(self) -> str:
        v, h = self.vertical, self.horizontal
        return f"F({v.m}x{h.m},{v.r}x{h.r})"

    @property
    def multiplications(self) -> int:
        return self.vertical.alpha * self.horizontal.alpha

    @property
    def direct_multiplications(self) -> int:
        return self.vertical.direct_multiplications * self.horizontal.direct_multiplications

    @property
    def reduction(self) -> float:
        return self.direct_multiplications / self.multiplications

    def correlate(self, d: np.ndarray, g: np.ndarray) -> np.ndarray:
        """In float64 (d: alpha_h x alpha_w, g: rh x rw)."""
        ATh, Gh, BTh = self.vertical.matrices()
        ATw, Gw, BTw = self.horizontal.matrices()
        return ATh @ ((Gh @ g @ Gw.T) * (BTh @ d @ BTw.T)) @ ATw.T


def transform2d(vertical: ToomCook, horizontal: ToomCook | None = None) -> ToomCook2D:
    return ToomCook2D(vertical, horizontal or vertical)


def correlate_direct(d: Sequence, g: Sequence, m: int) -> list:
    """The m outputs of y_i = sum_j d_{i+j} g_j, the definition the transforms must reproduce."""
    return [sum(d[i + j] * g[j] for j in range(len(g))) for i in range(m)]


def check_exact(t: ToomCook, trials: int = 5, seed: int = 0) -> bool:
    """True when F(m, r) reproduces the direct correlation exactly on random rational inputs."""
    rng = np.random.default_rng(seed)
    for _ in range(trials):
        d = [Fraction(int(v), int(q)) for v, q in zip(rng.integers(-50, 50, t.alpha), rng.integers(1, 9, t.alpha))]
        g = [Fraction(int(v), int(q)) for v, q in zip(rng.integers(-50, 50, t.r), rng.integers(1, 9, t.r))]
        if t.correlate(d, g) != correlate_direct(d, g, t.m):
            return False
    return True


def fp32_error(t: ToomCook | ToomCook2D, trials: int = 1000, seed: int = 0) -> float:
    """Mean over trials of the max |error| of one tile computed in float32 (filter transformed in
    float64 then rounded, as the engines do) against float64 direct correlation; N(0,1) data and taps."""
    rng = np.random.default_rng(seed)
    two_d = isinstance(t, ToomCook2D)
    if two_d:
        v, h = t.vertical, t.horizontal
        ATh, Gh, BTh = (x.astype(np.float32) for x in v.matrices())
        ATw, Gw, BTw = (x.astype(np.float32) for x in h.matrices())
        Gh64, Gw64 = v.matrices()[1], h.matrices()[1]
        d = rng.standard_normal((trials, v.alpha, h.alpha)).astype(np.float32)
        g = rng.standard_normal((trials, v.r, h.r)).astype(np.float32)
        U = (Gh64 @ g.astype(np.float64) @ Gw64.T).astype(np.float32)
        Y = ATh @ (U * (BTh @ d @ BTw.T)) @ ATw.T
        ref = np.stack([[[np.sum(d[k, i:i + v.r, j:j + h.r].astype(np.float64) * g[k])
                          for j in range(h.m)] for i in range(v.m)] for k in range(trials)])
        return float(np.mean(np.max(np.abs(Y - ref), axis=(1, 2))))
    AT, G, BT = (x.astype(np.float32) for x in t.matrices())
    G64 = t.matrices()[1]
    d = rng.standard_normal((trials, t.alpha)).astype(np.float32)
    g = rng.standard_normal((trials, t.r)).astype(np.float32)
    U = (g.astype(np.float64) @ G64.T).astype(np.float32)
    Y = (U * (d @ BT.T)) @ AT.T
    ref = np.stack([[np.dot(d[k, i:i + t.r].astype(np.float64), g[k]) for i in range(t.m)] for k in range(trials)])
    return float(np.mean(np.max(np.abs(Y - ref), axis=1)))


__all__ = ["ToomCook", "ToomCook2D", "transform", "transform2d", "default_points", "correlate_direct",
           "check_exact", "fp32_error", "INF", "DEFAULT_POINTS"]
