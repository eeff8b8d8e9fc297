"""Balanced k-means: k clusters of equal size (sizes differ by at most one when k does not divide n).

Denton et al. (Sec. 3.3) cluster filters into equal-size groups so every thread gets the same work
and the approximation maps onto grouped convolutions. Each iteration assigns points to clusters by an
exact balanced assignment (scipy's linear_sum_assignment over k x capacity slots) and then updates the
centres. Two distances:

- "euclidean": ||x - c||^2, centre = weighted mean;
- "subspace": distance of x to the line spanned by the unit centre c, ||x||^2 - (x.c)^2 (the paper's
  "subspace projection distance"; sign-blind, as singular vectors are), centre = top eigenvector of
  sum_i w_i x_i x_i^T.

Seeding uses scikit-learn's k-means++ (on sign-normalised points for the subspace distance).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Clustering:
    labels: np.ndarray      # (n,) cluster index per point
    centers: np.ndarray     # (k, d)
    cost: float             # sum of weighted distances at the end
    iterations: int

    def members(self, j: int) -> np.ndarray:
        return np.flatnonzero(self.labels == j)

    def order(self) -> np.ndarray:
        """Point indices sorted by cluster (stable within a cluster): cluster j occupies a contiguous run."""
        return np.argsort(self.labels, kind="stable")


def cluster_sizes(n: int, k: int) -> np.ndarray:
    """Sizes of k balanced clusters of n points: n // k, the first n % k one larger."""
    if k < 1 or k > n:
        raise ValueError(f"cannot split {n} points into {k} clusters")
    sizes = np.full(k, n // k, np.int64)
    sizes[: n % k] += 1
    return sizes


def _distances(X: np.ndarray, C: np.ndarray, metric: str) -> np.ndarray:
    if metric == "euclidean":
        return ((X[:, None, :] - C[None, :, :]) ** 2).sum(-1)
    # subspace: centres are unit vectors
    return np.maximum((X ** 2).sum(1)[:, None] - (X @ C.T) ** 2, 0.0)


def _update(X: np.ndarray, w: np.ndarray, idx: np.ndarray, old: np.ndarray, metric: str) -> np.ndarray:
    if len(idx) == 0:
        return old
    Xi, wi = X[idx], w[idx]
    if metric == "euclidean":
        return (wi[:, None] * Xi).sum(0) / max(wi.sum(), 1e-30)
    # top eigenvector of sum w x x^T = top right singular vector of the (few) weighted points,
    # from the small Gram matrix of the points
    Y = Xi * np.sqrt(wi)[:, None]
    vals, vecs = np.linalg.eigh(Y @ Y.T)
    c = Y.T @ vecs[:, -1]
    c = c / max(np.linalg.norm(c), 1e-30)
    return c if c @ old >= 0 else -c


def _balanced_assign(D: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    from scipy.optimize import linear_sum_assignment
    slots = np.repeat(np.arange(len(sizes)), sizes)          # one column per seat in each cluster
    rows, cols = linear_sum_assignment(D[:, slots])
    labels = np.empty(D.shape[0], np.int64)
    labels[rows] = slots[cols]
    return labels


def _sign_normalise(X: np.ndarray) -> np.ndarray:
    s = np.sign(X[np.arange(len(X)), np.abs(X).argmax(1)])
    s[s == 0] = 1
    return X * s[:, None]


def balanced_kmeans(X, k: int, *, metric: str = "euclidean", weights=None, iters: int = 30, seed: int = 0,
                    restarts: int = 3) -> Clustering:
    """Cluster the rows of X (n x d) into k equal-size clusters; the best of `restarts` seeded runs.

    weights: per-point weights w_i >= 0 (the cost is sum_i w_i d(x_i, c_{label i})); None means 1.
    """
    if metric not in ("euclidean", "subspace"):
        raise ValueError(f"metric must be 'euclidean' or 'subspace', got {metric!r}")
    X = np.asarray(X, np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (points x features), got shape {X.shape}")
    n = X.shape[0]
    sizes = cluster_sizes(n, k)
    w = np.ones(n) if weights is None else np.asarray(weights, np.float64)
    if w.shape != (n,) or (w < 0).any():
        raise ValueError("weights must be n non-negative numbers")
    from sklearn.cluster import kmeans_plusplus

    best = None
    for r in range(max(1, restarts)):
        rs = np.random.RandomState(seed + r)
        if metric == "subspace":
            Xs = _sign_normalise(X)
            norms = np.linalg.norm(Xs, axis=1, keepdims=True)
            Xs = Xs / np.maximum(norms, 1e-30)
            C, _ = kmeans_plusplus(Xs, k, random_state=rs)
            C = C / np.maximum(np.linalg.norm(C, axis=1, keepdims=True), 1e-30)
        else:
            C, _ = kmeans_plusplus(X, k, random_state=rs)
        labels = None
        it = 0
        for it in range(1, iters + 1):
            D = _distances(X, C, metric) * w[:, None]
            new = _balanced_assign(D, sizes)
            if labels is not None and np.array_equal(new, labels):
                break
            labels = new
            C = np.stack([_update(X, w, np.flatnonzero(labels == j), C[j], metric) for j in range(k)])
        cost = float((_distances(X, C, metric)[np.arange(n), labels] * w).sum())
        if best is None or cost < best.cost:
            best = Clustering(labels, C, cost, it)
    return best
