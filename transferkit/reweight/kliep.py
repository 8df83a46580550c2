"""KLIEP: the density ratio that makes the reweighted source closest to the target in KL.

With ``w(x) = sum_l alpha_l k(x, c_l)`` (Gaussian kernels on target rows), KLIEP
(Sugiyama et al., 2008) maximises the target log-likelihood ``sum_j log w(x'_j)`` under
``mean_i w(x_i) = 1`` over the source and ``alpha >= 0``. The constraint is folded into
the scale-free objective ``mean_j log w(x'_j) - log mean_i w(x_i)``, maximised by L-BFGS-B
with bounds; the kernel width is chosen by likelihood cross-validation on the target.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from transferkit._validation import check_param
from transferkit.reweight._kernel_model import KernelRatioModel
from transferkit.reweight.base import REWEIGHTERS

__all__ = ["KLIEP"]

_TINY = 1e-300


def _design_means(X: np.ndarray, centres: np.ndarray, gamma: float) -> np.ndarray:
    """Column means of the design matrix over ``X``, in row blocks."""
    total = np.zeros(len(centres) + 1)
    for start in range(0, len(X), 20_000):
        total += KernelRatioModel._design(X[start:start + 20_000], centres, gamma).sum(axis=0)
    return total / len(X)


def _solve(A: np.ndarray, b: np.ndarray, max_iter: int) -> np.ndarray:
    """Maximise ``mean log(A alpha) - log(b . alpha)`` over ``alpha >= 0``; ``b . alpha = 1``.

    Solved in the mixture parametrisation ``pi = b * alpha`` (a point of the simplex at
    the optimum), which makes every column of ``A / b`` a density over the source and
    conditions the problem independently of the kernel width.
    """
    b = np.maximum(b, _TINY)
    scaled = A / b

    def loss(pi: np.ndarray) -> tuple[float, np.ndarray]:
        fitted = np.maximum(scaled @ pi, _TINY)
        total = float(pi.sum())
        # The (total - 1)^2 term pins the free overall scale of the otherwise scale-free
        # objective at the constraint, without moving the optimum.
        value = -np.log(fitted).mean() + np.log(total) + 0.5 * (total - 1.0) ** 2
        grad = -scaled.T @ (1.0 / fitted) / len(A) + 1.0 / total + (total - 1.0)
        return float(value), grad

    start = np.full(A.shape[1], 1.0 / A.shape[1])
    # L-BFGS-B's small dense updates only lose time to BLAS threads (3x on 2 busy cores).
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(loss, start, jac=True, method="L-BFGS-B",
                          bounds=[(0.0, None)] * A.shape[1], options={"maxiter": max_iter})
    pi = np.maximum(result.x, 0.0)
    return pi / max(float(pi.sum()), _TINY) / b


@REWEIGHTERS.register("kliep")
class KLIEP(KernelRatioModel):
    """Kullback-Leibler importance estimation with likelihood-cross-validated kernel width.

    Parameters
    ----------
    n_centres : int, default=100
        Gaussian kernels centred on this many random target rows.
    gamma : float or list of float, optional
        Candidate kernel widths on the standardised features. ``None`` tries 0.1, 0.3, 1,
        3 and 10 times the median-heuristic width.
    cv : int, default=5
        Folds of the target rows for likelihood cross-validation of the width.
    max_selection_rows : int, default=2000
        Rows of each market used for the width search (all rows are used for the final
        fit), which keeps the search cost independent of the data size.
    standardize : bool, default=True
        Scale features on the pooled rows first.
    max_iter : int, default=500
        L-BFGS-B iterations per fit.
    power : float in [0, 1], default=1.0
        Flattening exponent (see ``BaseReweighter``).
    clip : float > 1, optional
        Largest weight as a multiple of the mean weight.
    random_state : int, default=0

    Attributes
    ----------
    weights_ : ndarray of shape (n_source,)
    centres_ : ndarray of shape (n_centres, n_features)
    alpha_ : ndarray of shape (n_centres,)
    gamma_ : float
        Selected width.
    cv_scores_ : dict of float to float
        Held-out mean target log-likelihood per candidate width.

    References
    ----------
    Sugiyama, M., Suzuki, T., Nakajima, S., Kashima, H., von Bünau, P., Kawanabe, M.
    (2008). Direct importance estimation for covariate shift adaptation. AISM 60.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(size=(200, 1)), rng.normal(size=(100, 1)) + 1]
    >>> is_target = np.r_[np.zeros(200), np.ones(100)]
    >>> kliep = KLIEP(n_centres=20).fit(X, is_target)
    >>> bool(kliep.compute_weights([[2.0]])[0] > kliep.compute_weights([[-2.0]])[0])
    True
    """

    def __init__(
        self,
        *,
        n_centres: int = 100,
        gamma: float | Sequence[float] | None = None,
        cv: int = 5,
        max_selection_rows: int = 2000,
        standardize: bool = True,
        max_iter: int = 500,
        power: float = 1.0,
        clip: float | None = None,
        random_state: int = 0,
    ) -> None:
        self.n_centres = n_centres
        self.gamma = gamma
        self.cv = cv
        self.max_selection_rows = max_selection_rows
        self.standardize = standardize
        self.max_iter = max_iter
        self.power = power
        self.clip = clip
        self.random_state = random_state

    def _fit_ratio(self, X_source: np.ndarray, X_target: np.ndarray) -> None:
        check_param("KLIEP", "cv", self.cv, "an int >= 2",
                    lambda v: isinstance(v, numbers.Integral) and v >= 2)
        check_param("KLIEP", "max_iter", self.max_iter, "an int >= 1",
                    lambda v: isinstance(v, numbers.Integral) and v >= 1)
        Xs, Xt, rng = self._prepare(X_source, X_target)
        gammas = self._gamma_grid(Xs, Xt, rng)
        self.cv_scores_ = {}
        if len(gammas) == 1:
            self.gamma_ = gammas[0]
        else:
            if len(Xt) < self.cv:
                raise ValueError(
                    f"KLIEP: {len(Xt)} target rows are too few for cv={self.cv} folds of "
                    "likelihood cross-validation; pass gamma=<float> or fewer folds."
                )
            Xs_sel, Xt_sel = self._subsample(Xs, rng), self._subsample(Xt, rng)
            folds = list(KFold(int(self.cv), shuffle=True,
                               random_state=int(rng.integers(1 << 31))).split(Xt_sel))
            for gamma in gammas:
                scores = []
                for train, test in folds:
                    centres = self._centres_from(Xt_sel[train], rng)
                    alpha = _solve(self._design(Xt_sel[train], centres, gamma),
                                   _design_means(Xs_sel, centres, gamma), int(self.max_iter))
                    held_out = self._design(Xt_sel[test], centres, gamma) @ alpha
                    scores.append(float(np.log(np.maximum(held_out, _TINY)).mean()))
                self.cv_scores_[gamma] = float(np.mean(scores))
            self.gamma_ = max(self.cv_scores_, key=self.cv_scores_.get)
        self.centres_ = self._centres_from(Xt, rng)
        self.alpha_ = _solve(self._design(Xt, self.centres_, self.gamma_),
                             _design_means(Xs, self.centres_, self.gamma_), int(self.max_iter))
