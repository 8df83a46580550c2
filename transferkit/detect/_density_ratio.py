"""Density ratio p_target / p_source at held-out source rows, and whether it can be trusted.

The importance-weighted validators (IWCV, DEV) are only as good as their weights. A domain
classifier on hundreds of raw or learned feature dimensions separates the markets almost
perfectly, so a few rows get weights in the thousands and the "estimate" of the target
risk rests on three or four rows. Here the ratio is estimated the way that keeps it
usable:

- in a low-dimensional space: the given columns when there are few (e.g. predicted
  probabilities), else the leading principal components of the standardised pooled rows;
- with a logistic-regression domain classifier whose regularisation is chosen by the
  cross-fitted (held-out) log loss, so the probabilities are not over-confident;
- cross-fitted, so no row's weight comes from a classifier that saw it;
- clipped at ``max_weight``;

and it is judged: the effective sample size (ESS) of the weights must reach ``min_ess``
of the source rows, and the mean weight over held-out source rows must be near 1 (its
expectation under the source), or the validator reports "unreliable" instead of a number.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> ratio = estimate_ratio(rng.normal(size=(200, 2)), rng.normal(size=(200, 2)) + 0.3)
>>> ratio.weights.shape, judge_weights(ratio.weights, min_ess=0.1, check_mean=True)[0]
((200,), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["C_GRID", "DensityRatio", "estimate_ratio", "judge_weights"]

C_GRID: tuple[float, ...] = (1e-3, 1e-2, 0.1, 1.0, 10.0)
"""Inverse regularisation strengths of the domain classifier, chosen by held-out log loss."""
# E_source[w] = 1 for the true ratio; a held-out mean outside this band means the domain
# classifier's probabilities are badly calibrated or much mass was clipped away.
_MEAN_BAND = (0.5, 2.0)
_EPS = 1e-12


@dataclass(frozen=True)
class DensityRatio:
    """Cross-fitted importance weights of held-out source rows and how they were made.

    Attributes
    ----------
    weights : ndarray of shape (n_source,)
        Estimated ``p_target(x) / p_source(x)``, clipped at ``max_weight`` (not normalised).
    n_components : int
        Dimension of the space the domain classifier saw.
    C : float
        Regularisation chosen by held-out log loss.
    log_loss : float
        Its cross-fitted log loss (the prior-only classifier has ``prior_log_loss``).
    prior_log_loss : float
    n_clipped : int
        Rows whose weight hit ``max_weight``.
    """

    weights: np.ndarray
    n_components: int
    C: float
    log_loss: float
    prior_log_loss: float
    n_clipped: int


def _standardised(X: np.ndarray) -> np.ndarray:
    centre, scale = X.mean(axis=0), X.std(axis=0)
    keep = scale > _EPS
    return (X[:, keep] - centre[keep]) / scale[keep]


def _reduce(X: np.ndarray, n_components: int, seed: int, scale_columns: bool) -> np.ndarray:
    """Pooled rows projected on their leading principal components if wide, standardised.

    ``scale_columns`` standardises every column before the PCA (inputs in unrelated
    units); without it the PCA sees the columns' own scales, which carry meaning in a
    learned feature space.
    """
    Z = _standardised(X) if scale_columns else X - X.mean(axis=0)
    if Z.shape[1] <= n_components:
        return _standardised(Z)
    from sklearn.decomposition import PCA

    # Unsupervised and blind to which market a row is from, so fitting it on the pooled
    # rows leaks nothing into the cross-fitted domain classifier.
    k = min(n_components, Z.shape[0] - 1)
    return _standardised(PCA(n_components=k, random_state=seed).fit_transform(Z))


def estimate_ratio(
    source_features: np.ndarray,
    target_features: np.ndarray,
    *,
    n_components: int = 10,
    max_weight: float = 20.0,
    n_splits: int = 5,
    scale_columns: bool = True,
    seed: int = 0,
) -> DensityRatio:
    """Cross-fitted density ratio at each source row from a tuned, low-dimensional classifier.

    Parameters
    ----------
    source_features, target_features : ndarray of shape (n, d)
    n_components : int, default=10
        Wider inputs are reduced to this many principal components first.
    max_weight : float, default=20.0
        Weights are clipped at this value.
    n_splits : int, default=5
        Folds of the cross-fitting (capped by the rows of the smaller side).
    scale_columns : bool, default=True
        Standardise each column before the PCA (raw inputs in unrelated units); False
        keeps the columns' scales (a learned feature space).
    seed : int, default=0

    Returns
    -------
    DensityRatio
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    n_source, n_target = len(source_features), len(target_features)
    n_splits = min(n_splits, n_source, n_target)
    if n_splits < 2:
        raise ValueError(
            f"Density-ratio estimation needs at least 2 source and 2 target rows; got "
            f"{n_source} and {n_target}."
        )
    X = _reduce(np.vstack([source_features, target_features]).astype(float),
                n_components, seed, scale_columns)
    is_target = np.r_[np.zeros(n_source), np.ones(n_target)]
    folds = list(StratifiedKFold(n_splits=n_splits, shuffle=True,
                                 random_state=seed).split(X, is_target))
    share = n_target / (n_source + n_target)
    prior_loss = float(-(share * np.log(share) + (1 - share) * np.log(1 - share)))
    best_loss, best_C, best_p = np.inf, C_GRID[0], np.full(len(X), share)
    if X.shape[1] > 0:
        for C in C_GRID:
            p_target = np.empty(len(X))
            for train, test in folds:
                classifier = LogisticRegression(C=C, max_iter=1000)
                classifier.fit(X[train], is_target[train])
                p_target[test] = classifier.predict_proba(X[test])[:, 1]
            p = np.clip(p_target, 1e-6, 1 - 1e-6)
            loss = float(-np.mean(is_target * np.log(p) + (1 - is_target) * np.log(1 - p)))
            if loss < best_loss:
                best_loss, best_C, best_p = loss, C, p
    p = np.clip(best_p[:n_source], 1e-6, 1 - 1e-6)
    raw = (n_source / n_target) * p / (1 - p)
    weights = np.minimum(raw, max_weight)
    return DensityRatio(weights=weights, n_components=int(X.shape[1]), C=float(best_C),
                        log_loss=best_loss if np.isfinite(best_loss) else prior_loss,
                        prior_log_loss=prior_loss,
                        n_clipped=int(np.sum(raw >= max_weight)))


def judge_weights(
    weights: np.ndarray, *, min_ess: float, check_mean: bool
) -> tuple[bool, str, float]:
    """Whether importance weights can carry a risk estimate: (reliable, reason, ESS).

    Unreliable when the effective sample size ``sum(w)^2 / sum(w^2)`` is below ``min_ess``
    of the rows, or (``check_mean``, for estimated ratios) when the mean weight over
    held-out source rows, whose expectation is 1, leaves [0.5, 2].
    """
    n = len(weights)
    ess = float(weights.sum() ** 2 / max(float((weights**2).sum()), _EPS))
    if ess < min_ess * n:
        return (False, f"effective sample size of the importance weights is {ess:.1f} of {n} "
                f"source rows, below min_ess={min_ess:g} of them", ess)
    mean = float(weights.mean())
    if check_mean and not _MEAN_BAND[0] <= mean <= _MEAN_BAND[1]:
        return (False, f"the mean importance weight over held-out source rows is {mean:.3g} "
                "(it should be about 1): the density ratio is miscalibrated or heavily clipped",
                ess)
    return True, "", ess
