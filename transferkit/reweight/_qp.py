"""The KMM quadratic programme: box constraints plus a two-sided sum constraint.

``minimise 1/2 ||A beta - m||^2  s.t.  0 <= beta_i <= B,  lo <= sum(beta) <= hi``

solved by FISTA (accelerated projected gradient) with adaptive restart. The projection
onto the feasible set is exact: ``clip(v - nu, 0, B)`` with the scalar ``nu`` found by
safeguarded Newton steps on the piecewise-linear sum. ``A`` is never formed: the solver
only needs ``grad(beta)``, so it serves both the exact kernel (``A^T A = K``) and
low-rank features.

Examples
--------
>>> import numpy as np
>>> project_box_sum(np.array([2.0, 2.0, -1.0]), upper=1.5, lo=1.0, hi=2.0).tolist()
[1.0, 1.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["project_box_sum", "solve_box_sum_qp"]


def project_box_sum(v: np.ndarray, *, upper: float, lo: float, hi: float) -> np.ndarray:
    """Euclidean projection of ``v`` onto ``{0 <= x <= upper, lo <= sum(x) <= hi}``."""
    x = np.clip(v, 0.0, upper)
    total = x.sum()
    if lo <= total <= hi:
        return x
    goal = hi if total > hi else lo
    # sum(clip(v - nu, 0, upper)) is non-increasing and piecewise linear in nu.
    low_nu, high_nu = float(v.min() - upper), float(v.max())
    nu = 0.0
    for _ in range(100):
        x = np.clip(v - nu, 0.0, upper)
        gap = x.sum() - goal
        if abs(gap) <= 1e-10 * max(1.0, goal):
            return x
        if gap > 0:
            low_nu = nu
        else:
            high_nu = nu
        free = np.count_nonzero((v - nu > 0) & (v - nu < upper))
        step = nu + gap / free if free else None
        nu = step if step is not None and low_nu < step < high_nu else 0.5 * (low_nu + high_nu)
    return np.clip(v - nu, 0.0, upper)


def solve_box_sum_qp(
    gradient: Callable[[np.ndarray], np.ndarray],
    lipschitz: float,
    n: int,
    *,
    upper: float,
    lo: float,
    hi: float,
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, int, bool]:
    """FISTA with gradient-based adaptive restart; returns ``(beta, n_iter, converged)``.

    Starts from uniform weights. Converged means the largest change of a coordinate in one
    step fell below ``tol`` (absolute, as KMM's ``tol`` documents; the weights have mean
    about 1, so it is also relative to a typical weight): a projected-gradient
    stationarity test.
    """
    beta = project_box_sum(np.ones(n), upper=upper, lo=lo, hi=hi)
    momentum_point, t = beta.copy(), 1.0
    step = 1.0 / lipschitz
    for iteration in range(1, max_iter + 1):
        updated = project_box_sum(momentum_point - step * gradient(momentum_point),
                                  upper=upper, lo=lo, hi=hi)
        change = float(np.abs(updated - beta).max())
        if np.dot(momentum_point - updated, updated - beta) > 0:
            # O'Donoghue & Candes (2015): restart the momentum when it points uphill.
            t, momentum_point = 1.0, updated.copy()
        else:
            t_next = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
            momentum_point = updated + ((t - 1) / t_next) * (updated - beta)
            t = t_next
        beta = updated
        if change < tol:
            return beta, iteration, True
    return beta, max_iter, False
