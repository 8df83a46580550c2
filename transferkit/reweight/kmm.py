"""Kernel mean matching: source weights that make the two kernel mean embeddings agree.

KMM (Huang et al., 2007; Gretton et al., 2009) solves

``min_beta || 1/n_s sum_i beta_i phi(x_i) - 1/n_t sum_j phi(x'_j) ||^2``
``s.t. 0 <= beta_i <= B,  |sum_i beta_i - n_s| <= n_s * epsilon``

a quadratic programme in ``n_s`` variables. Up to ``max_exact`` source rows it is solved
on the exact kernel matrix; above, the kernel is replaced by a rank-``n_components``
Nyström (default) or random-Fourier-feature approximation ``K ~ Phi Phi^T``, so one
gradient costs ``O(n_s * n_components)`` time and no ``n_s x n_s`` matrix is formed. The
same accelerated projected-gradient solver (exact projection onto the box and the sum
band) handles both.

By default the kernel width and the ridge are chosen inside ``fit`` by a held-out
criterion (see ``KMM``): no fixed pair served every data set measured in
``benchmarks/defaults_benchmark.py``.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Literal

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh
from sklearn.preprocessing import StandardScaler

from transferkit._validation import check_choice, check_param
from transferkit.exceptions import TransferWarning
from transferkit.reweight._kernels import (
    kernel_row_sums,
    median_gamma,
    nystroem_features,
    nystroem_projection,
    random_fourier_features,
    rbf_kernel,
    smooth_values,
)
from transferkit.reweight._qp import solve_box_sum_qp
from transferkit.reweight.base import REWEIGHTERS, BaseReweighter

__all__ = ["GAMMA_FACTORS", "KMM", "REG_GRID"]

_MAX_SMOOTHING_CENTRES = 2000

#: Kernel widths tried by ``gamma="auto"``, as multiples of the median-heuristic width.
GAMMA_FACTORS: tuple[float, ...] = (0.25, 1.0, 4.0)
#: Ridge penalties tried by ``reg="auto"``.
REG_GRID: tuple[float, ...] = (0.0, 1e-3, 1e-2, 1e-1)
_HELD_OUT = 0.3
# Settings reaching at least this share of the best held-out MMD reduction count as ties.
_SHARE_OF_BEST = 0.8
# The selection's MMD matrices are dense: at most this many rows per side.
_MAX_CRITERION_ROWS = 2000
# The selection solves 12 settings: on at most this many rows per side (a random subsample).
_MAX_SELECTION_ROWS = 5000


def _largest_eigenvalue(K: np.ndarray | LinearOperator) -> float:
    """Largest eigenvalue of a PSD matrix by Lanczos, padded 1 % for a safe step size."""
    if K.shape[0] <= 50:
        dense = K if isinstance(K, np.ndarray) else K @ np.eye(K.shape[0])
        return float(np.linalg.eigvalsh(dense)[-1]) * 1.01
    value = eigsh(K, k=1, which="LA", tol=1e-3, return_eigenvectors=False)[0]
    return float(value) * 1.01


def _split(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(kept, held_out)``, ``_HELD_OUT`` of them held out (at least 1 each)."""
    order = rng.permutation(n)
    n_held = min(n - 1, max(1, int(round(_HELD_OUT * n))))
    return order[n_held:], order[:n_held]


def _chosen(criterion: list[float], ess_fraction: list[float]) -> int:
    """Index of the setting served: the flattest weights among the near-best ones.

    A setting's held-out *reduction* is ``1 - criterion`` (0 = no better than uniform
    weights). Settings within ``_SHARE_OF_BEST`` of the largest reduction are ties the
    held-out rows cannot separate, and the one with the largest effective sample size wins.
    When no setting beats uniform weights, the flattest setting is served.
    """
    reductions = [1.0 - c for c in criterion]
    largest = max(reductions)
    near = [i for i, r in enumerate(reductions)
            if largest <= 0 or r >= _SHARE_OF_BEST * largest]
    return max(near, key=lambda i: ess_fraction[i])


class _MMDTerms:
    """Squared MMD between weighted source rows and held-out target rows, one kernel.

    The target-only term and the source-target kernel sums are computed once, so a
    candidate's weights cost one matrix-vector product.
    """

    def __init__(self, Xs: np.ndarray, Xt: np.ndarray, gamma: float) -> None:
        self.K = rbf_kernel(Xs, Xs, gamma)
        self.cross = kernel_row_sums(Xs, Xt, gamma) / len(Xt)
        self.target = float(kernel_row_sums(Xt, Xt, gamma).mean()) / len(Xt)
        self.uniform = self.squared(np.ones(len(Xs)))

    def squared(self, beta: np.ndarray) -> float:
        w = beta / beta.mean()
        n = len(w)
        return float(w @ self.K @ w / n**2 - 2 * self.cross @ w / n + self.target)

    def ratio(self, beta: np.ndarray) -> float:
        """Squared MMD of ``beta`` over that of uniform weights (1 = no better)."""
        return self.squared(beta) / max(self.uniform, 1e-12)


@REWEIGHTERS.register("kmm")
class KMM(BaseReweighter):
    """Kernel mean matching with an exact QP for small sources and a low-rank fast path.

    Parameters
    ----------
    B : float, default=1000.0
        Upper bound on each weight (before normalisation to mean 1).
    epsilon : float, optional
        Allowed relative deviation of ``sum(beta)`` from ``n_source``. ``None`` uses
        ``(sqrt(n_source) - 1) / sqrt(n_source)`` (Huang et al., 2007).
    reg : float or "auto", default="auto"
        Ridge penalty ``reg / (2 n_source) * ||beta - 1||^2`` added to the QP. The
        empirical KMM objective is nearly flat along the kernel's small eigen-directions,
        so the unpenalised optimum chases sampling noise; the penalty shrinks towards
        uniform weights and makes the solution unique. ``reg=0`` is the original KMM.
        ``"auto"`` chooses it from ``REG_GRID`` by the held-out criterion below.
    gamma : float, "auto" or "median", default="auto"
        Width of the Gaussian kernel ``exp(-gamma ||x - z||^2)`` on the standardised
        features. ``"median"`` uses the median heuristic ``gamma_med`` on the pooled rows;
        ``"auto"`` chooses among ``GAMMA_FACTORS`` times ``gamma_med`` by the held-out
        criterion. ``None`` is the same as ``"median"`` (the former default).
    solver : {"auto", "exact", "nystroem", "rff"}, default="auto"
        ``"exact"`` uses the full kernel matrix (memory ``8 n_source^2`` bytes);
        ``"nystroem"`` / ``"rff"`` a rank-``n_components`` approximation. ``"auto"`` is
        exact up to ``max_exact`` source rows, Nyström above.
    max_exact : int, default=3000
    n_components : int, default=300
        Landmarks (Nyström) or random features (RFF) of the fast path.
    standardize : bool, default=True
        Scale features to zero mean and unit variance on the pooled rows first, so one
        large-valued column (a price, a salary) does not decide the kernel alone.
    max_iter : int, default=1000
    tol : float, default=1e-4
        Solver stops when no weight (on the scale where the mean weight is 1) moves by
        more than ``tol`` in one step.
    power : float in [0, 1], default=1.0
        Flattening exponent (see ``BaseReweighter``).
    clip : float > 1, optional
        Largest weight as a multiple of the mean weight.
    random_state : int, default=0
        Seed for the landmarks / random features, the width subsample and the held-out
        split of the selection.

    Attributes
    ----------
    weights_ : ndarray of shape (n_source,)
        Mean-1 weights of the fitted source rows (the QP solution, rescaled).
    beta_ : ndarray of shape (n_source,)
        The raw QP solution.
    gamma_ : float
        Kernel width used (chosen, median heuristic or given).
    reg_ : float
        Ridge used (chosen or given).
    selection_ : dict of str to list, or None
        The selection table when ``gamma`` or ``reg`` is ``"auto"`` (``None`` otherwise):
        columns ``gamma``, ``reg``, ``criterion`` (lower is better), ``ess_fraction`` and
        ``chosen`` (bool), one entry per setting tried; ``pandas.DataFrame(selection_)``
        shows it.
    selection_rows_ : tuple of (int, int), or None
        Source and target rows the selection compared the settings on: all of them up to
        5,000 per side, a random 5,000 above (the served weights always use every row).
    solver_ : str
        Solver used.
    n_iter_ : int
    objective_ : float
        Squared MMD between the weighted source and the target under the kernel the solver
        used (the low-rank one on the fast path).

    Notes
    -----
    **Choosing the width and the ridge.** Each candidate setting solves the QP on 70 % of
    the source and target rows; the other 30 % of both judge it: the criterion is the squared
    MMD between the held-out source rows (weighted the way ``compute_weights`` weights new
    rows) and the held-out target rows, divided by that of uniform weights, under each
    evaluation kernel ``GAMMA_FACTORS * gamma_med``, and its *maximum* over those kernels: a
    setting must improve the match at every scale, not only at its own. Weights resting on
    few rows pay through the held-out rows, which they do not fit. Reweighting cannot fix a
    support mismatch, so on real pairs the best reduction is often below 1 % of the uniform
    weights' MMD; settings reaching 80 % of the best reduction count as ties, and the one
    with the largest effective sample size is served. On the sets of
    ``benchmarks/sections/defaults.md`` this rule is within 1 point of the best fixed
    setting chosen in hindsight on eight of nine sets and never significantly worse on
    any, where both the former default (median width,
    ``reg=1e-2``) and the peers' setting (``gamma=1/d, reg=0``) lose several points on some
    set. The selection solves 12 settings on at most 5,000 rows per side; on small
    sources fixing ``gamma`` and ``reg`` is about 12 times faster, on large ones the
    selection adds a fixed cost.

    KMM defines weights only at the fitted source rows. ``compute_weights`` returns them
    exactly for those rows and extends them to new rows by Nadaraya-Watson smoothing of
    ``beta_`` with the same kernel (over at most 2,000 fitted rows).

    References
    ----------
    Huang, J., Smola, A., Gretton, A., Borgwardt, K., Schölkopf, B. (2007). Correcting
    sample selection bias by unlabeled data. NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(size=(100, 2)), rng.normal(size=(50, 2)) + 1]
    >>> is_target = np.r_[np.zeros(100), np.ones(50)]
    >>> kmm = KMM().fit(X, is_target)
    >>> kmm.solver_, kmm.weights_.shape
    ('exact', (100,))
    >>> len(kmm.selection_["criterion"]), kmm.reg_ in REG_GRID
    (12, True)
    """

    def __init__(
        self,
        *,
        B: float = 1000.0,
        epsilon: float | None = None,
        reg: float | Literal["auto"] = "auto",
        gamma: float | Literal["auto", "median"] | None = "auto",
        solver: Literal["auto", "exact", "nystroem", "rff"] = "auto",
        max_exact: int = 3000,
        n_components: int = 300,
        standardize: bool = True,
        max_iter: int = 1000,
        tol: float = 1e-4,
        power: float = 1.0,
        clip: float | None = None,
        random_state: int = 0,
    ) -> None:
        self.B = B
        self.epsilon = epsilon
        self.reg = reg
        self.gamma = gamma
        self.solver = solver
        self.max_exact = max_exact
        self.n_components = n_components
        self.standardize = standardize
        self.max_iter = max_iter
        self.tol = tol
        self.power = power
        self.clip = clip
        self.random_state = random_state

    def _check_params(self) -> None:
        check_param("KMM", "reg", self.reg, 'a float >= 0 or "auto"',
                    lambda v: v == "auto" or (isinstance(v, numbers.Real) and v >= 0))
        check_param("KMM", "B", self.B, "a float > 1",
                    lambda v: isinstance(v, numbers.Real) and v > 1)
        if self.epsilon is not None:
            check_param("KMM", "epsilon", self.epsilon, "None or a float in [0, 1)",
                        lambda v: isinstance(v, numbers.Real) and 0 <= v < 1)
        if self.gamma is not None:
            check_param("KMM", "gamma", self.gamma, 'a float > 0, "auto" or "median"',
                        lambda v: v in ("auto", "median")
                        or (isinstance(v, numbers.Real) and v > 0))
        check_choice("KMM", "solver", self.solver, ("auto", "exact", "nystroem", "rff"))
        for name in ("max_exact", "n_components", "max_iter"):
            check_param("KMM", name, getattr(self, name), "an int >= 1",
                        lambda v: isinstance(v, numbers.Integral) and v >= 1)
        check_param("KMM", "tol", self.tol, "a float > 0",
                    lambda v: isinstance(v, numbers.Real) and v > 0)

    def _fit_ratio(self, X_source: np.ndarray, X_target: np.ndarray) -> None:
        self._check_params()
        self.scaler_ = StandardScaler(with_mean=self.standardize, with_std=self.standardize)
        self.scaler_.partial_fit(X_source).partial_fit(X_target)
        Xs, Xt = self.scaler_.transform(X_source), self.scaler_.transform(X_target)
        seed = int(self.random_state)
        rng = np.random.default_rng(seed)
        pool = np.concatenate([Xs[rng.choice(len(Xs), min(len(Xs), 500), replace=False)],
                               Xt[rng.choice(len(Xt), min(len(Xt), 500), replace=False)]])
        median = median_gamma(pool, seed=seed)
        n = len(Xs)
        solver = self.solver
        if solver == "auto":
            solver = "exact" if n <= self.max_exact else "nystroem"
        self.solver_ = solver
        gammas = ([median * f for f in GAMMA_FACTORS] if self.gamma == "auto"
                  else [median] if self.gamma in (None, "median") else [float(self.gamma)])
        regs = list(REG_GRID) if self.reg == "auto" else [float(self.reg)]
        self.selection_, self.selection_rows_ = None, None
        if len(gammas) * len(regs) > 1 and min(len(Xs), len(Xt)) >= 2:
            # Above _MAX_SELECTION_ROWS per side the settings are compared on a random
            # subsample: the ranking needs far fewer rows than the served solution.
            sample_s, sample_t = (X[rng.choice(len(X), _MAX_SELECTION_ROWS, replace=False)]
                                  if len(X) > _MAX_SELECTION_ROWS else X for X in (Xs, Xt))
            self.selection_rows_ = (len(sample_s), len(sample_t))
            self.gamma_, self.reg_ = self._select(sample_s, sample_t, gammas, regs, median,
                                                  seed)
        else:
            self.gamma_, self.reg_ = gammas[0], regs[0]
        beta, self.n_iter_, self.objective_ = self._solve(Xs, Xt, self.gamma_, self.reg_, seed)
        self.beta_ = beta
        self._row_index = {hash(row.tobytes()): i
                           for i, row in enumerate(np.ascontiguousarray(X_source))}
        centres = rng.choice(n, size=min(n, _MAX_SMOOTHING_CENTRES), replace=False)
        self._centres, self._centre_beta = Xs[centres], beta[centres]

    def _select(self, Xs: np.ndarray, Xt: np.ndarray, gammas: list[float], regs: list[float],
                median: float, seed: int) -> tuple[float, float]:
        """The (gamma, reg) with the lowest held-out criterion; fills ``selection_``.

        Each setting is solved on 70 % of the source and target rows; the other 30 % of
        both judge it (the held-out source rows weighted by the smoothing of
        ``compute_weights``).
        """
        rng = np.random.default_rng(seed + 1)
        fit_s, held_s = _split(len(Xs), rng)
        fit_t, held_t = _split(len(Xt), rng)
        held_source = Xs[held_s[:_MAX_CRITERION_ROWS]]
        held_target = Xt[held_t[:_MAX_CRITERION_ROWS]]
        evaluation = [_MMDTerms(held_source, held_target, median * f) for f in GAMMA_FACTORS]
        centres = fit_s[:_MAX_SMOOTHING_CENTRES]
        table: dict[str, list] = {"gamma": [], "reg": [], "criterion": [], "ess_fraction": []}
        for gamma in gammas:
            for reg in regs:
                beta = self._solve(Xs[fit_s], Xt[fit_t], gamma, reg, seed, warn=False)[0]
                # Held-out source rows get their weights the way compute_weights gives
                # new rows theirs, so the criterion judges the weights that are served.
                extended = smooth_values(held_source, Xs[centres], beta[:len(centres)], gamma)
                table["gamma"].append(float(gamma))
                table["reg"].append(float(reg))
                table["criterion"].append(max(term.ratio(extended) for term in evaluation))
                table["ess_fraction"].append(float(beta.sum() ** 2 / (beta @ beta) / len(beta)))
        best = _chosen(table["criterion"], table["ess_fraction"])
        table["chosen"] = [i == best for i in range(len(table["criterion"]))]
        self.selection_ = table
        return table["gamma"][best], table["reg"][best]

    def _solve(self, Xs: np.ndarray, Xt: np.ndarray, gamma: float, reg: float, seed: int,
               *, warn: bool = True) -> tuple[np.ndarray, int, float]:
        """The QP solution ``beta``, its iterations and the squared MMD it reached.

        ``warn=False`` for the selection's candidates: only the served solution's
        convergence concerns the user.
        """
        rng = np.random.default_rng(seed)
        n, n_t = len(Xs), len(Xt)
        epsilon = (np.sqrt(n) - 1) / np.sqrt(n) if self.epsilon is None else self.epsilon
        lo, hi = n * (1 - epsilon), n * (1 + epsilon)
        if self.solver_ == "exact":
            K = rbf_kernel(Xs, Xs, gamma)
            kappa = kernel_row_sums(Xs, Xt, gamma) / n_t

            def gradient(beta: np.ndarray) -> np.ndarray:
                return (K @ beta / n - kappa) / n + reg * (beta - 1.0) / n

            lipschitz = _largest_eigenvalue(K) / n**2 + reg / n
        else:
            if self.solver_ == "nystroem":
                size = min(int(self.n_components), n + n_t)
                chosen = rng.choice(n + n_t, size=size, replace=False)
                landmarks = np.concatenate([Xs[chosen[chosen < n]], Xt[chosen[chosen >= n] - n]])
                projection = nystroem_projection(landmarks, gamma)

                def features(X: np.ndarray) -> np.ndarray:
                    return nystroem_features(X, landmarks, projection, gamma)
            else:
                def features(X: np.ndarray) -> np.ndarray:
                    return random_fourier_features(X, gamma, int(self.n_components), seed)
            Phi = features(Xs)
            target_sum = np.zeros(Phi.shape[1])
            for start in range(0, n_t, 20_000):
                target_sum += features(Xt[start:start + 20_000]).sum(axis=0, dtype=np.float64)
            target_mean = (target_sum / n_t).astype(np.float32)

            def gradient(beta: np.ndarray) -> np.ndarray:
                residual = Phi.T @ (beta / n).astype(np.float32) - target_mean
                return (Phi @ residual).astype(np.float64) / n + reg * (beta - 1.0) / n

            gram = LinearOperator((Phi.shape[1], Phi.shape[1]), dtype=np.float64,
                                  matvec=lambda v: (Phi.T @ (Phi @ v.astype(np.float32)))
                                  .astype(np.float64))
            lipschitz = _largest_eigenvalue(gram) / n**2 + reg / n
        beta, n_iter, converged = solve_box_sum_qp(
            gradient, lipschitz, n, upper=float(self.B), lo=lo, hi=hi,
            max_iter=int(self.max_iter), tol=float(self.tol),
        )
        if warn and not converged:
            warnings.warn(
                f"KMM: the QP solver stopped after max_iter={self.max_iter} iterations "
                f"before converging (gamma={gamma:.3g}, reg={reg:g}); raise max_iter or tol.",
                TransferWarning,
                stacklevel=5,
            )
        if self.solver_ == "exact":
            mean_target_kernel = float(kernel_row_sums(Xt[:2000], Xt, gamma).mean()) / n_t
            objective = float(beta @ (K @ beta) / n**2 - 2 * kappa @ beta / n
                              + mean_target_kernel)
        else:
            embedding = Phi.T @ (beta / n).astype(np.float32) - target_mean
            objective = float(embedding @ embedding)
        return beta, n_iter, objective

    def _fitted_source_ratio(self, X_source: np.ndarray) -> np.ndarray:
        return self.beta_

    def _ratio(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        index = np.array([self._row_index.get(hash(row.tobytes()), -1) for row in X], dtype=int)
        out = np.empty(len(X))
        known = index >= 0
        out[known] = self.beta_[index[known]]
        if not known.all():
            out[~known] = smooth_values(self.scaler_.transform(X[~known]), self._centres,
                                        self._centre_beta, self.gamma_)
        return out
