"""The factorizations of Denton et al., "Exploiting Linear Structure Within Convolutional Networks
for Efficient Evaluation" (NIPS 2014), on a weight tensor W of shape (F, C, kh, kw) (Caffe's order):

- `monochromatic`: per filter a rank-1 colour x spatial SVD (Eq. 8), the F colour vectors clustered into
  C' equal-size clusters (Eq. 9); each filter then reads one of C' projected colour channels.
- `bicluster`: input channels and output filters each clustered into G and H equal-size groups; every
  (input group, output group) sub-tensor approximated (a) by a rank-K outer-product decomposition found
  greedily by alternating least squares (Eqs. 6-7) or (b) by an SVD
  with input rank K1 and output rank K2 (a Tucker-2 form: project Cg -> K1, conv K1 -> K2, expand K2 -> Fh).
- Metrics: plain Frobenius, or the data-covariance metric ||Sigma^1/2 W|| (Eq. 3) with Sigma the
  covariance of the layer's input over channels. The channel covariance keeps the low-rank structure:
  we approximate A W (A = Sigma^1/2 acting on the channel axis) and map the channel factors back with A^-1.
  For biclustering A is block-diagonal (one block per input group) so the groups stay independent.
- The gradient-weighted metric ||alpha .* W|| (Eq. 1; alpha from `recaffe.train.gradient_alpha`, Eq. 2).
  Reweighting every coordinate and dividing it out again (as the paper words it) would break the
  factor structure, so alpha enters through its separable part a_f b_c (`separable_alpha`): the
  approximation is fitted to diag(a) W diag(b) and the output / input factors are unscaled.
- Operation and parameter counts of the paper's Tables 1 and 4.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .balanced_kmeans import balanced_kmeans


def _one_blas_thread(fn):
    """Run with numpy's BLAS on one thread: the factorizations are many small products, and a BLAS
    pool spinning on a loaded machine made them 15x slower (measured on 2 shared cores)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from threadpoolctl import threadpool_limits
        with threadpool_limits(1, user_api="blas"):
            return fn(*args, **kwargs)
    return wrapper


def _sqrt_and_inverse(cov: np.ndarray, eps: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric square root of a covariance and its inverse (eigenvalues floored at eps * max)."""
    cov = 0.5 * (cov + cov.T)
    vals, vecs = np.linalg.eigh(cov)
    vals = np.maximum(vals, eps * max(vals.max(), 1e-30))
    r = np.sqrt(vals)
    return (vecs * r) @ vecs.T, (vecs / r) @ vecs.T


def separable_alpha(alpha, shape) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel a_f and per-input-channel b_c with a_f b_c the best rank-1 fit (in the
    energy alpha^2 averaged over the kernel window) to the weights alpha of Eq. 1; both scaled to a
    geometric mean of 1."""
    alpha = np.asarray(alpha, np.float64)
    if alpha.shape != tuple(shape):
        raise ValueError(f"alpha has shape {alpha.shape}, the weights {tuple(shape)}")
    E = np.sqrt((alpha ** 2).mean(axis=(2, 3)))            # F x C energy per channel pair
    U, S, Vt = np.linalg.svd(E, full_matrices=False)
    a, b = np.abs(U[:, 0]) * np.sqrt(S[0]), np.abs(Vt[0]) * np.sqrt(S[0])
    floor = lambda v: np.maximum(v, 1e-3 * max(v.max(), 1e-30))  # noqa: E731  (no zero weights)
    a, b = floor(a), floor(b)
    return a / np.exp(np.log(a).mean()), b / np.exp(np.log(b).mean())


def _one_metric(input_cov, alpha) -> None:
    if input_cov is not None and alpha is not None:
        raise ValueError("give input_cov (data metric) or alpha (gradient metric), not both")


def _metric(W, input_cov, alpha):
    """(A, Ainv, a): the channel transform of the data or gradient metric and the output weights."""
    _one_metric(input_cov, alpha)
    F, C = W.shape[:2]
    if alpha is not None:
        a, b = separable_alpha(alpha, W.shape)
        return np.diag(b), np.diag(1.0 / b), a
    if input_cov is not None:
        A, Ainv = _sqrt_and_inverse(np.asarray(input_cov, np.float64))
        return A, Ainv, np.ones(F)
    return np.eye(C), np.eye(C), np.ones(F)


def _check_weights(W) -> np.ndarray:
    W = np.asarray(W, np.float64)
    if W.ndim != 4:
        raise ValueError(f"convolution weights must be 4-D (F, C, kh, kw), got shape {W.shape}")
    return W


# --------------------------------------------------------------------------------------------------
# Monochromatic approximation (Sec. 3.2.1)
# --------------------------------------------------------------------------------------------------
@dataclass
class MonochromaticFactors:
    colors: np.ndarray        # (C', C): row j is colour transform j (input channels -> colour channel j)
    assignment: np.ndarray    # (F,): the colour channel each filter reads
    spatial: np.ndarray       # (F, kh, kw): the filter applied to that channel

    @property
    def n_colors(self) -> int:
        return self.colors.shape[0]

    def weights(self) -> np.ndarray:
        """The approximated (F, C, kh, kw) tensor: W~_f = colour_{c_f} (x) spatial_f."""
        return self.colors[self.assignment][:, :, None, None] * self.spatial[:, None, :, :]


@_one_blas_thread
def monochromatic(W, n_colors: int, *, input_cov=None, alpha=None, seed: int = 0,
                  iters: int = 30) -> MonochromaticFactors:
    """Monochromatic approximation of a first layer W (F, C, kh, kw) with `n_colors` = C' colour channels.

    Each filter's C x (kh*kw) matrix gets its rank-1 SVD u_f s_f v_f^T (Eq. 8); the u_f are clustered into
    C' balanced clusters with the subspace distance weighted by s_f^2 (so the clustering cost is the
    Frobenius error the shared colour adds); given its cluster colour c, each filter's spatial part is
    refit by least squares, c^T W_f (never worse than s_f v_f, and sign-consistent with c).
    input_cov: C x C covariance of the input channels for the data metric (Eq. 3), or None (Frobenius).
    alpha: the gradient weights of Eq. 1 (shape of W) for the gradient metric: the input-channel
    factor acts like the data metric's channel transform, the output factor a_f weighs filter f's
    share of the clustering cost (a per-filter scale does not change its own rank-1 fit).
    """
    W = _check_weights(W)
    F, C, kh, kw = W.shape
    if not 1 <= n_colors <= F:
        raise ValueError(f"n_colors must be in 1..{F} (the number of filters), got {n_colors}")
    A, Ainv, a = _metric(W, input_cov, alpha)
    Wp = np.einsum("ij,fjs->fis", A, W.reshape(F, C, kh * kw))
    U, S, _ = np.linalg.svd(Wp, full_matrices=False)
    u, s = U[:, :, 0], S[:, 0]
    cl = balanced_kmeans(u, n_colors, metric="subspace", weights=(a * s) ** 2, iters=iters, seed=seed)
    centers = cl.centers / np.maximum(np.linalg.norm(cl.centers, axis=1, keepdims=True), 1e-30)
    spatial = np.einsum("fi,fis->fs", centers[cl.labels], Wp)
    colors = centers @ Ainv  # back to the input space: W~_f = A^-1 c (c^T A W_f)
    return MonochromaticFactors(colors.astype(np.float32), cl.labels.astype(np.int64),
                                spatial.reshape(F, kh, kw).astype(np.float32))


# --------------------------------------------------------------------------------------------------
# Biclustering + outer product / SVD (Sec. 3.3)
# --------------------------------------------------------------------------------------------------
@dataclass
class BiclusterBlock:
    """One (input group, output group) sub-tensor as project -> core conv -> expand:
    W~[f, c] = sum_{a, b} expand[f, a] core[a, b] project[b, c]."""
    project: np.ndarray   # (r_in, Cg): input channels of the group -> r_in intermediate channels
    core: np.ndarray      # (r_out, r_in, kh, kw), or (r, 1, kh, kw) when depthwise (outer product)
    expand: np.ndarray    # (Fh, r_out)
    depthwise: bool

    def weights(self) -> np.ndarray:
        if self.depthwise:
            # rank-K outer products: sum_k expand[:, k] (x) project[k] (x) core[k]
            return np.einsum("fk,kc,kxy->fcxy", self.expand, self.project, self.core[:, 0], optimize=True)
        return np.einsum("fa,abxy,bc->fcxy", self.expand, self.core, self.project, optimize=True)


@dataclass
class BiclusterFactors:
    in_groups: list            # G arrays of input channel indices
    out_groups: list           # H arrays of output filter indices
    blocks: dict               # (g, h) -> BiclusterBlock
    method: str                # "outer" or "svd"
    ranks: tuple               # (K,) for outer, (K1, K2) for svd
    shape: tuple               # (F, C, kh, kw)

    @property
    def G(self) -> int:
        return len(self.in_groups)

    @property
    def H(self) -> int:
        return len(self.out_groups)

    def weights(self) -> np.ndarray:
        out = np.zeros(self.shape, np.float64)
        for (g, h), b in self.blocks.items():
            out[np.ix_(self.out_groups[h], self.in_groups[g])] = b.weights()
        return out.astype(np.float32)


def rank1_als(T: np.ndarray, n_iter: int = 100, tol: float = 1e-7):
    """Best rank-1 approximation a (x) b (x) c of a 3-tensor T by alternating least squares (Eq. 6),
    started from the leading singular vectors of T's unfoldings (as tensorly's init="svd").
    Written out rather than calling tensorly.parafac(rank=1): each step is three tensor-vector
    contractions, and parafac's generic machinery made the ~1000 calls of a G=48 MattNet layer take minutes."""
    I, J, K = T.shape
    b = _leading_left(T.transpose(1, 0, 2).reshape(J, -1), 1)[:, 0]
    c = _leading_left(T.transpose(2, 0, 1).reshape(K, -1), 1)[:, 0]
    T2 = T.reshape(I, J * K)
    a = T2 @ np.outer(b, c).ravel()
    prev = np.inf
    for _ in range(n_iter):
        M = (a @ T2).reshape(J, K)  # T contracted with a
        b = M @ c / max((a @ a) * (c @ c), 1e-300)
        c = b @ M / max((a @ a) * (b @ b), 1e-300)
        a = T2 @ np.outer(b, c).ravel() / max((b @ b) * (c @ c), 1e-300)
        # ||T - abc||^2 = ||T||^2 - ||a||^2 ||b||^2 ||c||^2 at the least-squares a
        fit = (a @ a) * (b @ b) * (c @ c)
        if abs(fit - prev) <= tol * max(fit, 1e-300):
            break
        prev = fit
    nb, nc = np.linalg.norm(b), np.linalg.norm(c)
    if nb > 0 and nc > 0:
        a, b, c = a * nb * nc, b / nb, c / nc
    return a, b, c


def _greedy_outer_product(T: np.ndarray, K: int):
    """Rank-K approximation of a 3-tensor T (Fh, Cg, XY) as a sum of K rank-1 terms, each the ALS
    rank-1 fit of the residual of the previous ones (Eq. 7)."""
    R = T.copy()
    a_s, b_s, c_s = [], [], []
    for _ in range(K):
        if np.linalg.norm(R) < 1e-12 * max(np.linalg.norm(T), 1e-30):
            a, b, c = np.zeros(T.shape[0]), np.zeros(T.shape[1]), np.zeros(T.shape[2])
        else:
            a, b, c = rank1_als(R)
        R = R - np.einsum("i,j,k->ijk", a, b, c)
        a_s.append(a), b_s.append(b), c_s.append(c)
    return np.stack(a_s, 1), np.stack(b_s, 0), np.stack(c_s, 0)  # (Fh, K), (K, Cg), (K, XY)


def _leading_left(M: np.ndarray, k: int) -> np.ndarray:
    """The k leading left singular vectors of a wide matrix M (rows x cols), from its rows x rows Gram
    matrix (much cheaper than an SVD when cols >> rows)."""
    vals, vecs = np.linalg.eigh(M @ M.T)
    return vecs[:, ::-1][:, :k]


def _tucker2(T: np.ndarray, K1: int, K2: int, n_iter: int = 10):
    """Input rank K1 / output rank K2 approximation of T (Fh, Cg, kh, kw): T ~ Q core P with
    P (K1, Cg), Q (Fh, K2) orthonormal. Truncated HOSVD start, then higher-order orthogonal
    iteration (each factor = leading singular vectors of T projected on the other)."""
    Fh, Cg = T.shape[:2]
    K1, K2 = min(K1, Cg), min(K2, Fh)
    unfold_c = T.transpose(1, 0, 2, 3).reshape(Cg, -1)
    P = _leading_left(unfold_c, K1).T
    Q = _leading_left(T.reshape(Fh, -1), K2)
    for _ in range(n_iter):
        TP = np.einsum("fcxy,kc->fkxy", T, P, optimize=True)
        Q = _leading_left(TP.reshape(Fh, -1), K2)
        QT = np.einsum("fcxy,fk->kcxy", T, Q, optimize=True)
        P = _leading_left(QT.transpose(1, 0, 2, 3).reshape(Cg, -1), K1).T
    core = np.einsum("fcxy,fa,bc->abxy", T, Q, P, optimize=True)
    return P, core, Q


@_one_blas_thread
def bicluster(W, G: int, H: int, *, method: str = "svd", K: int | None = None, K1: int | None = None,
              K2: int | None = None, input_cov=None, alpha=None, seed: int = 0, iters: int = 30) -> BiclusterFactors:
    """Biclustering approximation of W (F, C, kh, kw): G input groups, H output groups (balanced
    k-means with the subspace distance on the rows of W_C and the columns of W_F), each sub-tensor
    approximated by `method` "outer" (rank K) or "svd" (ranks K1, K2).
    input_cov: C x C input-channel covariance for the data metric, or None (Frobenius).
    alpha: gradient weights (shape of W) for the gradient metric: every sub-tensor is fitted to
    diag(a) T diag(b) and the expand / project factors are unscaled."""
    W = _check_weights(W)
    F, C, kh, kw = W.shape
    if method not in ("outer", "svd"):
        raise ValueError(f"method must be 'outer' or 'svd', got {method!r}")
    if method == "outer" and not (K and K >= 1):
        raise ValueError("method 'outer' needs a rank K >= 1")
    if method == "svd" and not (K1 and K2 and K1 >= 1 and K2 >= 1):
        raise ValueError("method 'svd' needs ranks K1 >= 1 and K2 >= 1")
    if not (1 <= G <= C and 1 <= H <= F):
        raise ValueError(f"need 1 <= G <= C={C} and 1 <= H <= F={F}, got G={G}, H={H}")
    _one_metric(input_cov, alpha)
    cov = None if input_cov is None else np.asarray(input_cov, np.float64)
    s_out, s_in = separable_alpha(alpha, W.shape) if alpha is not None else (np.ones(F), np.ones(C))
    Wab = W * s_out[:, None, None, None] * s_in[None, :, None, None]
    # rows of W_C (one per input channel), scaled by the channel's input energy under the data metric
    rows = Wab.transpose(1, 0, 2, 3).reshape(C, -1)
    if cov is not None:
        rows = rows * np.sqrt(np.maximum(np.diag(cov), 0))[:, None]
    cin = balanced_kmeans(rows, G, metric="subspace", iters=iters, seed=seed) if G > 1 else None
    cout = balanced_kmeans(Wab.reshape(F, -1), H, metric="subspace", iters=iters, seed=seed + 7) if H > 1 else None
    in_groups = [np.arange(C)] if cin is None else [cin.members(g) for g in range(G)]
    out_groups = [np.arange(F)] if cout is None else [cout.members(h) for h in range(H)]
    blocks = {}
    for g, cs in enumerate(in_groups):
        A, Ainv = (None, None) if cov is None else _sqrt_and_inverse(cov[np.ix_(cs, cs)])
        for h, fs in enumerate(out_groups):
            T = Wab[np.ix_(fs, cs)]
            if A is not None:
                T = np.einsum("ij,fjxy->fixy", A, T)
            if method == "outer":
                a, b, c = _greedy_outer_product(T.reshape(len(fs), len(cs), kh * kw), K)
                P, core, Q = b, c.reshape(K, 1, kh, kw), a
            else:
                P, core, Q = _tucker2(T, K1, K2)
            if Ainv is not None:
                P = P @ Ainv
            P, Q = P / s_in[cs][None, :], Q / s_out[fs][:, None]
            blocks[(g, h)] = BiclusterBlock(P.astype(np.float32), core.astype(np.float32), Q.astype(np.float32),
                                            method == "outer")
    ranks = (K,) if method == "outer" else (K1, K2)
    return BiclusterFactors(in_groups, out_groups, blocks, method, ranks, (F, C, kh, kw))


# --------------------------------------------------------------------------------------------------
# Counts (Tables 1 and 4) and errors
# --------------------------------------------------------------------------------------------------
def conv_ops(C: int, F: int, kh: int, kw: int, out_hw: int) -> float:
    """Table 1, no approximation: X Y C F N M / Delta^2 (out_hw = N M / Delta^2, the output pixels)."""
    return float(kh * kw * C * F * out_hw)


def monochromatic_ops(C: int, F: int, kh: int, kw: int, n_colors: int, in_hw: int, out_hw: int) -> float:
    """Table 1: C' C N M + X Y F N M / Delta^2 (the colour transform runs at the input resolution)."""
    return float(n_colors * C * in_hw + kh * kw * F * out_hw)


def bicluster_outer_ops(C, F, kh, kw, G, H, K, in_hw, out_hw) -> float:
    """Table 1: G H K (N M C/G + X Y N M / Delta^2 + F/H N M / Delta^2)."""
    return float(G * H * K * (in_hw * C / G + kh * kw * out_hw + F / H * out_hw))


def bicluster_svd_ops(C, F, kh, kw, G, H, K1, K2, in_hw, out_hw) -> float:
    """Table 1: G H (N M C/G K1 + K1 X Y K2 N M / Delta^2 + K2 F/H N M / Delta^2)."""
    return float(G * H * (in_hw * C / G * K1 + K1 * kh * kw * K2 * out_hw + K2 * F / H * out_hw))


def conv_params(C, F, kh, kw) -> int:
    return C * kh * kw * F


def monochromatic_params(C, F, kh, kw, n_colors) -> int:
    """Table 4: C C' + X Y F."""
    return C * n_colors + kh * kw * F


def bicluster_outer_params(C, F, kh, kw, G, H, K) -> float:
    """Table 4: G H K (C/G + X Y + F/H)."""
    return G * H * K * (C / G + kh * kw + F / H)


def bicluster_svd_params(C, F, kh, kw, G, H, K1, K2) -> float:
    """Table 4: G H (C/G K1 + K1 X Y K2 + K2 F/H)."""
    return G * H * (C / G * K1 + K1 * kh * kw * K2 + K2 * F / H)


def relative_error(W, W_approx, input_cov=None, alpha=None) -> float:
    """||W~ - W|| / ||W|| in the Frobenius metric, in the data metric ||Sigma^1/2 W|| over channels,
    or in the gradient metric ||alpha .* W|| (Eq. 1, every coordinate weighted)."""
    W = np.asarray(W, np.float64)
    D = np.asarray(W_approx, np.float64) - W
    if alpha is not None:
        al = np.asarray(alpha, np.float64)
        return float(np.linalg.norm(al * D) / max(np.linalg.norm(al * W), 1e-30))
    if input_cov is None:
        return float(np.linalg.norm(D) / max(np.linalg.norm(W), 1e-30))
    A, _ = _sqrt_and_inverse(np.asarray(input_cov, np.float64))
    n = lambda X: np.linalg.norm(np.einsum("ij,fjxy->fixy", A, X))  # noqa: E731
    return float(n(D) / max(n(W), 1e-30))
