"""Penalised linear solvers shared by the few-label methods: softmax and ridge with a prior.

Both minimise the summed loss on the rows (log loss, or half the squared error) plus
``penalty / 2 * ||theta - prior||^2``, optionally with a fixed per-row ``offset`` added
to the linear predictor. The softmax penalises its intercepts too (so classes missing
from a few target labels keep their prior probability); ridge leaves its intercept free
(so a shift of the label's level, salaries in another currency or market, costs
nothing). A zero prior is ordinary L2 regularisation; the source model's
coefficients as the prior is Chelba & Acero's (2006) regularised adaptation; the source
model's output as the offset is stacking.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax
from sklearn.utils.validation import check_is_fitted

__all__ = ["LinearOutput", "fit_ridge", "fit_softmax", "softmax_proba"]


def _with_intercept(X: np.ndarray) -> np.ndarray:
    return np.hstack([X, np.ones((X.shape[0], 1))])


def fit_softmax(
    X: np.ndarray,
    y_index: np.ndarray,
    n_classes: int,
    penalty: float,
    *,
    prior: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """Coefficients of shape (n_features + 1, n_classes); the last row is the intercept."""
    Z = _with_intercept(X)
    shape = (Z.shape[1], n_classes)
    theta0 = np.zeros(shape) if prior is None else np.asarray(prior, dtype=float)
    centre = np.zeros(shape) if prior is None else theta0
    onehot = np.zeros((len(y_index), n_classes))
    onehot[np.arange(len(y_index)), y_index] = 1.0
    weight = np.ones(len(y_index)) if sample_weight is None else np.asarray(sample_weight)
    base = np.zeros((len(y_index), n_classes)) if offset is None else offset

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        theta = flat.reshape(shape)
        log_p = log_softmax(Z @ theta + base, axis=1)
        loss = -np.sum(weight * np.sum(onehot * log_p, axis=1))
        diff = theta - centre
        grad = Z.T @ (weight[:, None] * (np.exp(log_p) - onehot)) + penalty * diff
        return loss + 0.5 * penalty * float(np.sum(diff**2)), grad.ravel()

    result = minimize(objective, theta0.ravel(), jac=True, method="L-BFGS-B",
                      options={"maxiter": 500})
    return result.x.reshape(shape)


def softmax_proba(X: np.ndarray, coef: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
    logits = _with_intercept(X) @ coef
    if offset is not None:
        logits = logits + offset
    return np.exp(log_softmax(logits, axis=1))


def fit_ridge(
    X: np.ndarray,
    y: np.ndarray,
    penalty: float,
    *,
    prior: np.ndarray | None = None,
    offset: np.ndarray | None = None,
) -> np.ndarray:
    """Coefficients of shape (n_features + 1,) of ridge regression towards ``prior``.

    The last entry is the (unpenalised) intercept. Solved in the dual on centred rows,
    ``w = prior + Xc^T (Xc Xc^T + penalty I)^-1 rc``, which costs O(n^2 d) for the few
    labelled rows of a target market.
    """
    centre = (np.zeros(X.shape[1] + 1) if prior is None
              else np.asarray(prior, dtype=float))
    residual = np.asarray(y, dtype=float) - X @ centre[:-1] - centre[-1]
    if offset is not None:
        residual = residual - offset
    X_mean, r_mean = X.mean(axis=0), residual.mean()
    Xc, rc = X - X_mean, residual - r_mean
    gram = Xc @ Xc.T + penalty * np.eye(X.shape[0])
    step = Xc.T @ np.linalg.solve(gram, rc)
    return np.r_[centre[:-1] + step, centre[-1] + r_mean - X_mean @ step]


class LinearOutput:
    """Outputs of a fitted linear model with ``coef_`` (last row: intercept) on features
    standardised by ``scaler_``: class probabilities (softmax) or predicted values."""

    @staticmethod
    def _output(X: np.ndarray, coef: np.ndarray, classification: bool) -> np.ndarray:
        if classification:
            return softmax_proba(X, coef)
        return X @ coef[:-1] + coef[-1]

    def _predict_output(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return self._output(self.scaler_.transform(X), self.coef_, self.task_ != "regression")
