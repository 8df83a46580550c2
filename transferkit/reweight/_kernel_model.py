"""Shared core of the kernel density-ratio models KLIEP and uLSIF.

Both model the ratio as a non-negative combination of Gaussian kernels centred on target
rows, ``w(x) = sum_l alpha_l k(x, c_l)``, and choose the kernel width among multiples of
the median-heuristic width by cross-validation; they differ in the loss.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
from sklearn.preprocessing import StandardScaler

from transferkit._validation import check_param
from transferkit.reweight._kernels import median_gamma, rbf_kernel
from transferkit.reweight.base import BaseReweighter

__all__ = ["KernelRatioModel"]

#: Default kernel widths, as multiples of the median-heuristic gamma.
DEFAULT_GAMMA_FACTORS = (0.1, 0.3, 1.0, 3.0, 10.0)
_CHUNK_ROWS = 20_000


class KernelRatioModel(BaseReweighter):
    """Gaussian-kernel ratio model ``w(x) = max(0, K(x, centres) @ alpha)``.

    Subclasses set ``alpha_`` and ``gamma_`` in ``_fit_ratio`` using ``_prepare``,
    ``_centres_from`` and ``_gamma_grid``.

    Attributes
    ----------
    centres_ : ndarray of shape (n_centres, n_features)
        Kernel centres (standardised target rows).
    alpha_ : ndarray of shape (n_centres,)
    gamma_ : float
        Selected kernel width.
    cv_scores_ : dict of float to float
        Validation score of every candidate width (higher is better).
    """

    def _check_kernel_params(self) -> None:
        name = type(self).__name__
        check_param(name, "n_centres", self.n_centres, "an int >= 1",
                    lambda v: isinstance(v, numbers.Integral) and v >= 1)
        if self.gamma is not None:
            values = self.gamma if isinstance(self.gamma, Sequence) else [self.gamma]
            check_param(name, "gamma", self.gamma, "None, a float > 0 or a list of them",
                        lambda v: len(values) > 0 and all(
                            isinstance(g, numbers.Real) and g > 0 for g in values))
        check_param(name, "max_selection_rows", self.max_selection_rows, "an int >= 10",
                    lambda v: isinstance(v, numbers.Integral) and v >= 10)

    def _prepare(
        self, X_source: np.ndarray, X_target: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.random.Generator]:
        """Standardise both samples on the pooled rows; return them and a seeded RNG."""
        self._check_kernel_params()
        self.scaler_ = StandardScaler(with_mean=self.standardize, with_std=self.standardize)
        self.scaler_.partial_fit(X_source).partial_fit(X_target)
        return (self.scaler_.transform(X_source), self.scaler_.transform(X_target),
                np.random.default_rng(self.random_state))

    def _centres_from(self, X_target: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        size = min(int(self.n_centres), len(X_target))
        return X_target[np.sort(rng.choice(len(X_target), size=size, replace=False))]

    def _gamma_grid(
        self, Xs: np.ndarray, Xt: np.ndarray, rng: np.random.Generator
    ) -> list[float]:
        if self.gamma is not None:
            return [float(g) for g in (self.gamma if isinstance(self.gamma, Sequence)
                                       else [self.gamma])]
        pool = np.concatenate([Xs[rng.choice(len(Xs), min(len(Xs), 500), replace=False)],
                               Xt[rng.choice(len(Xt), min(len(Xt), 500), replace=False)]])
        base = median_gamma(pool, seed=int(rng.integers(1 << 31)))
        return [base * factor for factor in DEFAULT_GAMMA_FACTORS]

    def _subsample(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """At most ``max_selection_rows`` rows, for the width / regularisation search."""
        if len(X) <= self.max_selection_rows:
            return X
        return X[rng.choice(len(X), size=int(self.max_selection_rows), replace=False)]

    @staticmethod
    def _design(X: np.ndarray, centres: np.ndarray, gamma: float) -> np.ndarray:
        # A constant basis function next to the kernels lets the model express a flat or
        # slowly varying ratio in many dimensions, where local kernels alone cannot.
        out = np.empty((len(X), len(centres) + 1))
        out[:, :-1] = rbf_kernel(X, centres, gamma)
        out[:, -1] = 1.0
        return out

    def _ratio(self, X: np.ndarray) -> np.ndarray:
        X = self.scaler_.transform(X)
        out = np.empty(len(X))
        for start in range(0, len(X), _CHUNK_ROWS):
            block = self._design(X[start:start + _CHUNK_ROWS], self.centres_, self.gamma_)
            out[start:start + _CHUNK_ROWS] = block @ self.alpha_
        return np.maximum(out, 0.0)
