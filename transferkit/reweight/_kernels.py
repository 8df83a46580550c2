"""Gaussian kernels for the kernel reweighters: widths, exact blocks, low-rank features.

Kernel ``k(x, z) = exp(-gamma * ||x - z||^2)``. The median heuristic sets
``gamma = 1 / (2 * median(||x - z||)^2)`` over a subsample of the pooled rows.

Examples
--------
>>> import numpy as np
>>> X = np.array([[0.0], [1.0], [3.0]])
>>> median_gamma(X)
0.125
>>> rbf_kernel(X[:1], X[:1], 0.5).tolist()
[[1.0]]
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax
from threadpoolctl import threadpool_limits

__all__ = [
    "kernel_row_sums",
    "median_gamma",
    "nystroem_features",
    "nystroem_projection",
    "random_fourier_features",
    "rbf_kernel",
    "smooth_values",
]

_CHUNK_ELEMENTS = 4_000_000  # kernel entries per block: 32 MB in float64


def median_gamma(X: np.ndarray, *, max_rows: int = 1000, seed: int = 0) -> float:
    """``1 / (2 * median distance^2)`` over at most ``max_rows`` random rows of ``X``."""
    if len(X) > max_rows:
        X = X[np.random.default_rng(seed).choice(len(X), size=max_rows, replace=False)]
    sq = np.sum(X**2, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0.0)
    upper = d2[np.triu_indices(len(X), k=1)]
    positive = upper[upper > 0]
    if positive.size == 0:
        return 1.0
    return float(1.0 / (2.0 * np.median(positive)))


def _sq_distances(X: np.ndarray, Z: np.ndarray) -> np.ndarray:
    d2 = np.sum(X**2, axis=1)[:, None] + np.sum(Z**2, axis=1)[None, :] - 2 * X @ Z.T
    return np.maximum(d2, 0.0)


def rbf_kernel(X: np.ndarray, Z: np.ndarray, gamma: float) -> np.ndarray:
    """Dense Gaussian kernel matrix of shape (len(X), len(Z))."""
    return np.exp(-gamma * _sq_distances(X, Z))


def kernel_row_sums(X: np.ndarray, Z: np.ndarray, gamma: float) -> np.ndarray:
    """``K(X, Z).sum(axis=1)`` in blocks, without holding the full matrix."""
    out = np.empty(len(X))
    step = max(1, _CHUNK_ELEMENTS // max(1, len(Z)))
    for start in range(0, len(X), step):
        out[start:start + step] = rbf_kernel(X[start:start + step], Z, gamma).sum(axis=1)
    return out


def random_fourier_features(
    X: np.ndarray, gamma: float, n_components: int, seed: int, dtype: type = np.float32
) -> np.ndarray:
    """Random Fourier features ``z(x)`` with ``z(x) . z(x') ~ k(x, x')`` (Rahimi & Recht, 2007)."""
    rng = np.random.default_rng(seed)
    W = rng.normal(scale=np.sqrt(2 * gamma), size=(X.shape[1], n_components)).astype(dtype)
    b = rng.uniform(0, 2 * np.pi, size=n_components).astype(dtype)
    out = np.empty((len(X), n_components), dtype=dtype)
    step = max(1, _CHUNK_ELEMENTS // n_components)
    scale = dtype(np.sqrt(2.0 / n_components))
    for start in range(0, len(X), step):
        block = X[start:start + step].astype(dtype) @ W + b
        out[start:start + step] = scale * np.cos(block)
    return out


def nystroem_projection(landmarks: np.ndarray, gamma: float, dtype: type = np.float32
                        ) -> np.ndarray:
    """``U diag(s)^-1/2`` from ``K(L, L) = U diag(s) U^T``, dropping null directions."""
    # A small dense eigenproblem: BLAS threads only add contention here.
    with threadpool_limits(limits=1):
        values, vectors = np.linalg.eigh(rbf_kernel(landmarks, landmarks, gamma))
    keep = values > values.max() * 1e-10
    return (vectors[:, keep] / np.sqrt(values[keep])).astype(dtype)


def nystroem_features(
    X: np.ndarray, landmarks: np.ndarray, projection: np.ndarray, gamma: float
) -> np.ndarray:
    """Nyström features ``K(X, L) U diag(s)^-1/2`` (see ``nystroem_projection``).

    Their inner products equal ``K(X, L) K(L, L)^+ K(L, X)``, the best approximation of
    the kernel in the span of the landmarks (Williams & Seeger, 2001).
    """
    out = np.empty((len(X), projection.shape[1]), dtype=projection.dtype)
    step = max(1, _CHUNK_ELEMENTS // len(landmarks))
    for start in range(0, len(X), step):
        block = rbf_kernel(X[start:start + step], landmarks, gamma).astype(projection.dtype)
        out[start:start + step] = block @ projection
    return out


def smooth_values(
    X: np.ndarray, centres: np.ndarray, values: np.ndarray, gamma: float
) -> np.ndarray:
    """Nadaraya-Watson average of ``values`` at ``centres`` with the Gaussian kernel.

    Uses a softmax over ``-gamma * distance^2`` so that rows far from every centre still
    get the value of their nearest centres instead of 0 / 0.
    """
    out = np.empty(len(X))
    step = max(1, _CHUNK_ELEMENTS // len(centres))
    for start in range(0, len(X), step):
        logits = -gamma * _sq_distances(X[start:start + step], centres)
        out[start:start + step] = softmax(logits, axis=1) @ values
    return out
