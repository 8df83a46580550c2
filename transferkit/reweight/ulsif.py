"""uLSIF / RuLSIF: least-squares density-ratio fitting with a closed-form solution.

With ``w(x) = sum_l alpha_l k(x, c_l)`` (Gaussian kernels on target rows), uLSIF
(Kanamori et al., 2009) minimises the squared error to the true ratio under the source,
which is ``1/2 alpha^T H alpha - h^T alpha + lambda/2 ||alpha||^2`` with
``H = mean_source phi phi^T`` and ``h = mean_target phi``; the solution is
``alpha = (H + lambda I)^-1 h`` clipped at 0. RuLSIF (Yamada et al., 2013) estimates the
*relative* ratio ``p_t / (alpha p_t + (1 - alpha) p_s)``, bounded by ``1 / alpha``, by
mixing the target into ``H``. The width and ``lambda`` are chosen by exact leave-one-out
cross-validation, computed in closed form for all held-out pairs at once.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy.optimize import nnls

from transferkit._validation import check_choice, check_param
from transferkit.exceptions import TransferWarning
from transferkit.reweight._kernel_model import KernelRatioModel
from transferkit.reweight.base import REWEIGHTERS

__all__ = ["FLAT_SCORE", "ULSIF", "loo_score"]

DEFAULT_LAMBDAS = (1e-3, 1e-2, 1e-1, 1.0)
FLAT_SCORE = 0.5
"""Negated leave-one-out loss of uniform weights ``r = 1``: ``-(1/2 - 1)`` for any alpha."""


def loo_score(Phi_s: np.ndarray, Phi_t: np.ndarray, alpha: float, lam: float) -> float:
    """Exact leave-one-pair-out squared-error score of (Ru)LSIF (lower is better).

    Pair ``i`` holds out source row ``i`` and target row ``i`` together (for
    ``i < min(n_s, n_t)``). Removing them is a rank-2 update of ``H + lambda I``, so
    every held-out solution follows from one ``b x b`` inverse by the Woodbury identity.
    The score is the held-out (Ru)LSIF loss
    ``1/2 [(1 - alpha) r(x_i)^2 + alpha r(x'_i)^2] - r(x'_i)`` averaged over pairs, with
    held-out coefficients clipped at 0 as in the final fit.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> Phi = np.abs(rng.normal(size=(30, 4)))
    >>> loo_score(Phi, Phi + 0.1, 0.0, 0.1) < 0
    True
    """
    n_s, n_t = len(Phi_s), len(Phi_t)
    n = min(n_s, n_t)
    c_s = (1 - alpha) / (n_s - 1)
    c_t = alpha / (n_t - 1)
    b = Phi_s.shape[1]
    system = c_s * (Phi_s.T @ Phi_s) + lam * np.eye(b)
    if alpha > 0:
        system += c_t * (Phi_t.T @ Phi_t)
    G = np.linalg.inv(system)
    phi, psi = Phi_s[:n].T, Phi_t[:n].T  # b x n
    P, Q = G @ phi, G @ psi
    g_full = G @ Phi_t.sum(axis=0)
    g = (g_full[:, None] - Q) / (n_t - 1)  # G h_{-i}, column i
    u1 = np.sqrt(c_s) * np.einsum("bi,bi->i", phi, g)
    u2 = np.sqrt(c_t) * np.einsum("bi,bi->i", psi, g)
    m11 = 1 - c_s * np.einsum("bi,bi->i", phi, P)
    m12 = -np.sqrt(c_s * c_t) * np.einsum("bi,bi->i", phi, Q)
    m22 = 1 - c_t * np.einsum("bi,bi->i", psi, Q)
    det = m11 * m22 - m12 * m12
    z1 = (m22 * u1 - m12 * u2) / det
    z2 = (m11 * u2 - m12 * u1) / det
    coef = np.maximum(g + np.sqrt(c_s) * P * z1 + np.sqrt(c_t) * Q * z2, 0.0)
    r_s = np.einsum("bi,bi->i", phi, coef)
    r_t = np.einsum("bi,bi->i", psi, coef)
    return float(np.mean(0.5 * ((1 - alpha) * r_s**2 + alpha * r_t**2) - r_t))


@REWEIGHTERS.register("ulsif")
class ULSIF(KernelRatioModel):
    """Unconstrained least-squares importance fitting; RuLSIF with ``alpha > 0``.

    Parameters
    ----------
    alpha : float in [0, 1), default=0.0
        Relative-ratio mixing. 0 is uLSIF (the plain ratio). ``alpha > 0`` is RuLSIF: the
        weights estimate ``p_t / (alpha p_t + (1 - alpha) p_s)``, which never exceeds
        ``1 / alpha`` and so trades a little bias for much smaller variance.
    n_centres : int, default=100
        Gaussian kernels centred on this many random target rows.
    gamma : float or list of float, optional
        Candidate kernel widths on the standardised features. ``None`` tries 0.1, 0.3, 1,
        3 and 10 times the median-heuristic width.
    lambdas : list of float, optional
        Candidate ridge penalties; ``None`` tries 1e-3, 1e-2, 0.1 and 1.
    max_selection_rows : int, default=2000
        Rows of each market used for leave-one-out selection (all rows are used for the
        final fit).
    standardize : bool, default=True
        Scale features on the pooled rows first.
    solver : {"closed_form", "nonnegative"}, default="closed_form"
        ``"closed_form"`` is uLSIF: the unconstrained ridge solution, clipped at 0.
        ``"nonnegative"`` solves the constrained problem (LSIF's ``alpha >= 0``) exactly
        by non-negative least squares, which keeps the coefficients consistent with each
        other instead of zeroing the negative ones after the fact. Width and ``lambda``
        are chosen by uLSIF's closed-form leave-one-out score in both cases.
    flat_margin : float, default=0.01
        The fit is flagged as flat (``flat_fit_``, with a ``TransferWarning``) when the
        best leave-one-out score beats that of uniform weights by less than this, or when
        the flattest corner of a two-way grid (widest kernel, largest ``lambda``) wins: the
        method then has no usable fit and the weights are close to uniform whatever the
        true ratio (common in more than a few dimensions).
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
        Kernel coefficients (not to be confused with the ``alpha`` parameter).
    gamma_, lambda_ : float
        Selected width and ridge penalty.
    cv_scores_ : ndarray of shape (n_gammas, n_lambdas)
        Negated leave-one-out loss per width ``cv_gammas_[i]`` and penalty
        ``cv_lambdas_[j]`` (higher is better; empty when nothing was selected). Uniform
        weights score ``FLAT_SCORE`` = 0.5.
    cv_gammas_, cv_lambdas_ : ndarray
        The grid of ``cv_scores_``.
    flat_fit_ : bool
        True when the selection found no fit clearly better than uniform weights (see
        ``flat_margin``); the weights then say little about the true ratio.

    References
    ----------
    Kanamori, T., Hido, S., Sugiyama, M. (2009). A least-squares approach to direct
    importance estimation. JMLR 10. Yamada, M., Suzuki, T., Kanamori, T., Hachiya, H.,
    Sugiyama, M. (2013). Relative density-ratio estimation for robust distribution
    comparison. Neural Computation 25(5).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(size=(200, 1)), rng.normal(size=(100, 1)) + 1]
    >>> is_target = np.r_[np.zeros(200), np.ones(100)]
    >>> ulsif = ULSIF(n_centres=20).fit(X, is_target)
    >>> bool(ulsif.compute_weights([[2.0]])[0] > ulsif.compute_weights([[-2.0]])[0])
    True
    """

    def __init__(
        self,
        *,
        alpha: float = 0.0,
        n_centres: int = 100,
        gamma: float | Sequence[float] | None = None,
        lambdas: Sequence[float] | None = None,
        max_selection_rows: int = 2000,
        standardize: bool = True,
        solver: Literal["closed_form", "nonnegative"] = "closed_form",
        flat_margin: float = 0.01,
        power: float = 1.0,
        clip: float | None = None,
        random_state: int = 0,
    ) -> None:
        self.alpha = alpha
        self.n_centres = n_centres
        self.gamma = gamma
        self.lambdas = lambdas
        self.max_selection_rows = max_selection_rows
        self.standardize = standardize
        self.solver = solver
        self.flat_margin = flat_margin
        self.power = power
        self.clip = clip
        self.random_state = random_state

    def _fit_ratio(self, X_source: np.ndarray, X_target: np.ndarray) -> None:
        check_param("ULSIF", "alpha", self.alpha, "a float in [0, 1)",
                    lambda v: isinstance(v, numbers.Real) and 0 <= v < 1)
        lambdas = DEFAULT_LAMBDAS if self.lambdas is None else tuple(self.lambdas)
        check_param("ULSIF", "lambdas", self.lambdas, "None or a non-empty list of floats > 0",
                    lambda v: len(lambdas) > 0 and all(
                        isinstance(x, numbers.Real) and x > 0 for x in lambdas))
        check_choice("ULSIF", "solver", self.solver, ("closed_form", "nonnegative"))
        check_param("ULSIF", "flat_margin", self.flat_margin, "a float >= 0",
                    lambda v: isinstance(v, numbers.Real) and v >= 0)
        Xs, Xt, rng = self._prepare(X_source, X_target)
        gammas = self._gamma_grid(Xs, Xt, rng)
        self.centres_ = self._centres_from(Xt, rng)
        alpha = float(self.alpha)
        self.cv_gammas_ = np.asarray(gammas, dtype=float)
        self.cv_lambdas_ = np.asarray(lambdas, dtype=float)
        self.cv_scores_ = np.empty((0, 0))
        if len(gammas) * len(lambdas) == 1:
            self.gamma_, self.lambda_ = gammas[0], float(lambdas[0])
        else:
            if min(len(Xs), len(Xt)) < 2:
                raise ValueError(
                    "ULSIF: leave-one-out selection needs at least 2 rows per market; pass "
                    "a single gamma and lambdas=[value]."
                )
            Xs_sel, Xt_sel = self._subsample(Xs, rng), self._subsample(Xt, rng)
            # The leave-one-out pairs source row i with target row i: shuffle both so the
            # pairs (and, when n_s != n_t, the rows held out) do not follow the input order.
            Xs_sel = Xs_sel[rng.permutation(len(Xs_sel))]
            Xt_sel = Xt_sel[rng.permutation(len(Xt_sel))]
            scores = np.empty((len(gammas), len(lambdas)))
            for i, gamma in enumerate(gammas):
                Phi_s = self._design(Xs_sel, self.centres_, gamma)
                Phi_t = self._design(Xt_sel, self.centres_, gamma)
                for j, lam in enumerate(lambdas):
                    scores[i, j] = -loo_score(Phi_s, Phi_t, alpha, lam)
            self.cv_scores_ = scores
            i, j = np.unravel_index(int(np.argmax(scores)), scores.shape)
            self.gamma_, self.lambda_ = float(gammas[i]), float(lambdas[j])
        self.flat_fit_ = self._check_flat(gammas, lambdas)
        H = np.zeros((len(self.centres_) + 1, len(self.centres_) + 1))
        h = np.zeros(len(self.centres_) + 1)
        for start in range(0, len(Xs), 20_000):
            block = self._design(Xs[start:start + 20_000], self.centres_, self.gamma_)
            H += (1 - alpha) * (block.T @ block) / len(Xs)
        for start in range(0, len(Xt), 20_000):
            block = self._design(Xt[start:start + 20_000], self.centres_, self.gamma_)
            h += block.sum(axis=0) / len(Xt)
            if alpha > 0:
                H += alpha * (block.T @ block) / len(Xt)
        system = H + self.lambda_ * np.eye(len(h))
        if self.solver == "closed_form":
            self.alpha_ = np.maximum(np.linalg.solve(system, h), 0.0)
        else:
            # min 1/2 a^T S a - h^T a over a >= 0 with S = L L^T is the non-negative least
            # squares problem min ||L^T a - L^-1 h||^2.
            lower = np.linalg.cholesky(system)
            self.alpha_, _ = nnls(lower.T, np.linalg.solve(lower, h), maxiter=50 * len(h))

    def _check_flat(self, gammas: Sequence[float], lambdas: Sequence[float]) -> bool:
        """Warn when the selected fit is no better than uniform weights or on the flat corner."""
        if self.cv_scores_.size == 0:
            return False
        best = float(self.cv_scores_.max())
        gain = best - FLAT_SCORE
        corner = (len(gammas) > 1 and len(lambdas) > 1 and self.gamma_ == min(gammas)
                  and self.lambda_ == max(float(v) for v in lambdas))
        if gain >= float(self.flat_margin) and not corner:
            return False
        why = (f"the best leave-one-out score beats uniform weights by only {gain:.3g} "
               f"(flat_margin={self.flat_margin:g})" if gain < float(self.flat_margin)
               else "the flattest corner of the grid won (widest kernel, largest lambda)")
        warnings.warn(
            f"ULSIF found no usable fit: {why}, so the weights are close to uniform whatever "
            "the true ratio. Reduce the features to the few that shift, widen the grids "
            "(gamma=..., lambdas=...), or use a discriminative reweighter.",
            TransferWarning, stacklevel=4,
        )
        return True
