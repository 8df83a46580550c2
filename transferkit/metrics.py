"""Gap measures between two markets: per-feature shift statistics, two-sample tests, divergences.

These are the numbers behind the domain-gap report (``transferkit.gap``), the
negative-transfer detector and the meta-learners; they take plain arrays so any layer can
use them. Per-feature statistics sort each column once and derive the Kolmogorov-Smirnov
statistic, the Wasserstein-1 distance and the population stability index from the sorted
values, so a million rows per side cost a sort per column. Whole-domain tests (domain
classifier, kernel MMD) subsample where they are super-linear; ``max_samples`` says where.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X_source = rng.normal(size=(500, 2))
>>> X_target = X_source + [1.0, 0.0]
>>> stats = numeric_shift(X_source, X_target)
>>> stats.ks_statistic.round(2).tolist(), stats.mean_shift.round(2).tolist()
([0.4, 0.0], [1.01, 0.0])
>>> round(mmd2(X_source, X_source), 6)
0.0
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps
from sklearn.base import BaseEstimator, clone
from threadpoolctl import threadpool_limits

from transferkit._validation import check_array_2d, check_choice, check_param, check_same_n_features

__all__ = [
    "ClassifierTestResult",
    "MMDTestResult",
    "NumericShift",
    "auc_standard_error",
    "benjamini_hochberg",
    "chi2_homogeneity",
    "classifier_two_sample_test",
    "domain_classifier_auc",
    "js_divergence",
    "ks_statistics",
    "median_heuristic_gamma",
    "mmd2",
    "mmd_test",
    "numeric_shift",
    "proxy_a_distance",
    "psi",
    "total_variation",
    "wasserstein_standardized",
]

# Probabilities below this are clipped in the PSI so an empty bin gives a large, finite term
# (the usual convention in credit-risk monitoring).
_PSI_EPS = 1e-4
# KS p-values are exact (scipy) while n_source * n_target stays below this; beyond it the
# asymptotic Kolmogorov distribution is accurate to well under 1e-3.
_KS_EXACT_MAX_PRODUCT = 1_000_000
# The exact (quadratic) MMD is used up to this many pooled rows; beyond it random Fourier
# features keep memory and time linear in the number of rows.
_MMD_EXACT_MAX_ROWS = 3000


# --------------------------------------------------------------------------- per-feature shift
@dataclass(frozen=True)
class NumericShift:
    """Per-column shift statistics between two numeric samples; each field has shape (n_features,).

    Attributes
    ----------
    ks_statistic, ks_pvalue : ndarray
        Two-sample Kolmogorov-Smirnov statistic (largest CDF gap, in [0, 1]) and p-value.
    wasserstein : ndarray
        Wasserstein-1 distance divided by the source standard deviation (pooled when the
        source column is constant), so 1.0 means "moved by about one source sd".
    psi : ndarray
        Population stability index over ``n_bins`` quantile bins of the source.
    mean_shift : ndarray
        ``(mean_target - mean_source) / sd_source`` (same scale as ``wasserstein``).
    std_ratio : ndarray
        ``sd_target / sd_source`` (NaN when the source column is constant).
    missing_source, missing_target : ndarray
        Share of missing (NaN) values per column.
    n_source, n_target : ndarray
        Number of non-missing values the statistics are computed on.
    """

    ks_statistic: np.ndarray
    ks_pvalue: np.ndarray
    wasserstein: np.ndarray
    psi: np.ndarray
    mean_shift: np.ndarray
    std_ratio: np.ndarray
    missing_source: np.ndarray
    missing_target: np.ndarray
    n_source: np.ndarray
    n_target: np.ndarray


_NUMERIC_FIELDS = tuple(NumericShift.__dataclass_fields__)


def _column(X: ArrayLike, j: int) -> np.ndarray:
    """Column ``j`` as float; DataFrames are read one column at a time (no full copy)."""
    if hasattr(X, "iloc"):
        return np.asarray(X.iloc[:, j], dtype=float)
    return np.asarray(X[:, j], dtype=float)


def _as_columns(X: ArrayLike, what: str) -> ArrayLike:
    if hasattr(X, "iloc"):
        if X.ndim != 2:
            raise ValueError(f"{what} must be a 2-D table; got {X.ndim} dimensions.")
        return X
    array = np.asarray(X)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise ValueError(
            f"{what} must have shape (n_samples, n_features); got {array.shape}."
        )
    try:
        return array.astype(float, copy=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{what} must be numeric ({exc}); encode categorical columns first or pass them "
            "to the categorical tests."
        ) from exc


def _column_shift(source: np.ndarray, target: np.ndarray, n_bins: int) -> dict[str, float]:
    n_rows_s, n_rows_t = source.size, target.size
    s = np.sort(source[~np.isnan(source)])
    t = np.sort(target[~np.isnan(target)])
    row = dict.fromkeys(_NUMERIC_FIELDS, np.nan)
    row.update(
        missing_source=1.0 - s.size / n_rows_s if n_rows_s else np.nan,
        missing_target=1.0 - t.size / n_rows_t if n_rows_t else np.nan,
        n_source=float(s.size), n_target=float(t.size),
    )
    if s.size == 0 or t.size == 0:
        return row
    # Both halves are sorted, so the stable sort (timsort) only merges two runs: linear time.
    pooled = np.concatenate([s, t])
    order = np.argsort(pooled, kind="stable")
    values = pooled[order]
    below_s = np.cumsum(order < s.size)
    # Empirical CDFs are compared at the last copy of each distinct value (ties included).
    last = np.flatnonzero(np.r_[values[1:] != values[:-1], True])
    gap = np.abs(below_s[last] / s.size - (last + 1 - below_s[last]) / t.size)
    ks = float(gap.max())
    if s.size * t.size <= _KS_EXACT_MAX_PRODUCT:
        pvalue = float(sps.ks_2samp(s, t, method="auto").pvalue)
    else:
        pvalue = float(sps.kstwo.sf(ks, round(s.size * t.size / (s.size + t.size))))
    mean_s, mean_t = float(s.mean()), float(t.mean())
    sd_s = float(s.std(ddof=1)) if s.size > 1 else 0.0
    sd_t = float(t.std(ddof=1)) if t.size > 1 else 0.0
    sd_pooled = float(values.std())
    scale = sd_s if sd_s > 0 else sd_pooled if sd_pooled > 0 else 1.0
    row.update(
        ks_statistic=ks,
        ks_pvalue=min(1.0, pvalue),
        wasserstein=float(np.dot(gap[:-1], np.diff(values[last]))) / scale,
        psi=_psi_sorted(s, t, n_bins),
        mean_shift=(mean_t - mean_s) / scale,
        std_ratio=sd_t / sd_s if sd_s > 0 else np.nan,
    )
    return row


def _sorted_quantiles(values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """``np.quantile`` (linear interpolation) of an already sorted array, without re-sorting."""
    position = levels * (values.size - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, values.size - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _psi_sorted(s: np.ndarray, t: np.ndarray, n_bins: int) -> float:
    edges = np.unique(_sorted_quantiles(s, np.arange(1, n_bins) / n_bins))
    shares = []
    for values in (s, t):
        cuts = np.searchsorted(values, edges, side="right")
        counts = np.diff(np.concatenate([[0], cuts, [values.size]]))
        shares.append(np.clip(counts / values.size, _PSI_EPS, None))
    p_source, p_target = shares
    return float(np.sum((p_target - p_source) * np.log(p_target / p_source)))


def numeric_shift(
    X_source: ArrayLike, X_target: ArrayLike, *, n_bins: int = 10, n_jobs: int | None = None
) -> NumericShift:
    """Per-column shift statistics (KS, Wasserstein, PSI, mean/sd/missing shift) in one pass.

    Each column is sorted once per market and every statistic is read off the sorted
    values; missing values (NaN) are left out of the distributional statistics and counted
    in ``missing_source``/``missing_target``. KS p-values are exact for small samples
    (``n_source * n_target <= 1e6``) and asymptotic beyond.

    Parameters
    ----------
    X_source, X_target : array-like or DataFrame of shape (n_samples, n_features)
        Numeric features of each market, same columns in the same order; NaN allowed.
        DataFrames are read column by column, so no second copy of the data is made.
    n_bins : int, default=10
        Quantile bins of the source used by the PSI.
    n_jobs : int, optional
        Threads working on columns in parallel (numpy releases the GIL while sorting);
        None uses one per CPU core, at most 8.

    Returns
    -------
    NumericShift

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> shift = numeric_shift(rng.normal(size=(400, 1)), rng.normal(0.5, 1, size=(400, 1)))
    >>> bool(shift.ks_pvalue[0] < 1e-6), round(float(shift.wasserstein[0]), 1)
    (True, 0.5)
    """
    check_param("numeric_shift", "n_bins", n_bins, "an int >= 2",
                lambda v: int(v) == v and v >= 2)
    source = _as_columns(X_source, "X_source")
    target = _as_columns(X_target, "X_target")
    if source.shape[1] != target.shape[1]:
        check_same_n_features(np.empty((0, source.shape[1])), np.empty((0, target.shape[1])))
    check_param("numeric_shift", "n_jobs", n_jobs, "None or an int >= 1",
                lambda v: v is None or (int(v) == v and v >= 1))
    workers = n_jobs if n_jobs is not None else min(8, os.cpu_count() or 1)

    def one(j: int) -> dict[str, float]:
        return _column_shift(_column(source, j), _column(target, j), int(n_bins))

    if workers == 1 or source.shape[1] == 1:
        rows = [one(j) for j in range(source.shape[1])]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            rows = list(pool.map(one, range(source.shape[1])))
    return NumericShift(**{
        name: np.array([row[name] for row in rows], dtype=float) for name in _NUMERIC_FIELDS
    })


def ks_statistics(X_source: ArrayLike, X_target: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Two-sample Kolmogorov-Smirnov statistic and p-value of each column.

    Examples
    --------
    >>> import numpy as np
    >>> statistic, pvalue = ks_statistics([[0.0], [1.0], [2.0]], [[10.0], [11.0], [12.0]])
    >>> statistic.tolist(), pvalue.round(3).tolist()
    ([1.0], [0.1])
    """
    shift = numeric_shift(X_source, X_target)
    return shift.ks_statistic, shift.ks_pvalue


def wasserstein_standardized(X_source: ArrayLike, X_target: ArrayLike) -> np.ndarray:
    """Wasserstein-1 distance of each column in units of the source standard deviation.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(10.0).reshape(-1, 1)
    >>> wasserstein_standardized(x, x + x.std(ddof=1)).round(6).tolist()
    [1.0]
    """
    return numeric_shift(X_source, X_target).wasserstein


def psi(X_source: ArrayLike, X_target: ArrayLike, *, n_bins: int = 10) -> np.ndarray:
    """Population stability index of each column, with quantile bins of the source.

    ``sum((p_target - p_source) * log(p_target / p_source))`` over the bins; shares are
    clipped at 1e-4. Rules of thumb: < 0.1 stable, 0.1-0.25 moderate, > 0.25 large shift.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(1000.0).reshape(-1, 1)
    >>> psi(x, x).tolist()
    [0.0]
    >>> bool(psi(x, x + 500)[0] > 0.25)
    True
    """
    return numeric_shift(X_source, X_target, n_bins=n_bins).psi


# --------------------------------------------------------------------------- distributions
def _distributions(p: ArrayLike, q: ArrayLike, owner: str) -> tuple[np.ndarray, np.ndarray]:
    p_arr = np.asarray(p, dtype=float).ravel()
    q_arr = np.asarray(q, dtype=float).ravel()
    if p_arr.shape != q_arr.shape or p_arr.size == 0:
        raise ValueError(
            f"{owner} needs two count or probability vectors over the same categories; got "
            f"lengths {p_arr.size} and {q_arr.size}."
        )
    for name, values in (("p", p_arr), ("q", q_arr)):
        if not np.isfinite(values).all() or (values < 0).any() or values.sum() <= 0:
            raise ValueError(
                f"{owner}: {name} must hold finite, non-negative counts or probabilities with "
                f"a positive sum; got {values.tolist()[:6]}."
            )
    return p_arr / p_arr.sum(), q_arr / q_arr.sum()


def total_variation(p: ArrayLike, q: ArrayLike) -> float:
    """Total-variation distance ``0.5 * sum|p - q|`` between two distributions (in [0, 1]).

    ``p`` and ``q`` are counts or probabilities over the same categories (normalised here).

    Examples
    --------
    >>> total_variation([0.7, 0.3], [0.55, 0.45])
    0.15
    """
    p_norm, q_norm = _distributions(p, q, "total_variation")
    return round(float(0.5 * np.abs(p_norm - q_norm).sum()), 15)


def js_divergence(p: ArrayLike, q: ArrayLike) -> float:
    """Jensen-Shannon divergence in bits (0 = identical, 1 = disjoint supports).

    Examples
    --------
    >>> js_divergence([1, 0], [0, 1])
    1.0
    >>> js_divergence([5, 5], [1, 1])
    0.0
    """
    p_norm, q_norm = _distributions(p, q, "js_divergence")
    middle = 0.5 * (p_norm + q_norm)

    def kl(a: np.ndarray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / middle[mask])))

    return float(np.clip(0.5 * kl(p_norm) + 0.5 * kl(q_norm), 0.0, 1.0))


def chi2_homogeneity(counts_source: ArrayLike, counts_target: ArrayLike) -> tuple[float, float]:
    """Chi-squared test that two markets share one category distribution.

    Categories absent from both markets are dropped; with a single category left the two
    distributions are identical by construction (statistic 0, p-value 1).

    Returns
    -------
    statistic, pvalue : float

    Examples
    --------
    >>> statistic, pvalue = chi2_homogeneity([50, 50], [80, 20])
    >>> round(statistic, 2), pvalue < 0.001
    (19.78, True)
    """
    table = np.vstack([np.asarray(counts_source, dtype=float).ravel(),
                       np.asarray(counts_target, dtype=float).ravel()])
    if table.shape[1] == 0 or not np.isfinite(table).all() or (table < 0).any():
        raise ValueError("chi2_homogeneity needs two non-negative count vectors of equal length.")
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0
    result = sps.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def benjamini_hochberg(pvalues: ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN entries stay NaN and are not counted.

    A feature is flagged at false-discovery rate ``alpha`` when its adjusted p-value is
    ``<= alpha``. Under the global null (no feature shifted) this also bounds the chance of
    flagging any feature by ``alpha``.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, float("nan")]).round(3).tolist()
    [0.03, 0.04, 0.04, nan]
    """
    p = np.asarray(pvalues, dtype=float).ravel()
    adjusted = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    if valid.size == 0:
        return adjusted
    if ((p[valid] < 0) | (p[valid] > 1)).any():
        raise ValueError(f"p-values must lie in [0, 1]; got {p[valid].tolist()[:6]}.")
    order = valid[np.argsort(p[valid])]
    ranked = p[order] * valid.size / np.arange(1, valid.size + 1)
    adjusted[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return adjusted


# --------------------------------------------------------------------------- domain classifier
@dataclass(frozen=True)
class ClassifierTestResult:
    """Outcome of the classifier two-sample test.

    Attributes
    ----------
    auc : float
        Cross-validated ROC AUC of telling target rows from source rows (0.5 = no shift).
    auc_se : float
        Hanley-McNeil standard error of ``auc`` (sampling error, including subsampling).
    pvalue : float
        Permutation p-value of ``auc`` under "same distribution".
    balanced_error : float
        Cross-validated balanced error rate of the domain classifier.
    proxy_a_distance : float
        ``2 * (1 - 2 * balanced_error)``, clipped at 0.
    n_source, n_target : int
        Rows used (after subsampling).
    n_permutations : int
    """

    auc: float
    auc_se: float
    pvalue: float
    balanced_error: float
    proxy_a_distance: float
    n_source: int
    n_target: int
    n_permutations: int


def _default_domain_classifier(random_state: int | None) -> BaseEstimator:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=100, max_leaf_nodes=15, learning_rate=0.1, early_stopping=False,
        random_state=random_state,
    )


def _subsample(X: np.ndarray, max_samples: int | None, rng: np.random.Generator) -> np.ndarray:
    if max_samples is None or len(X) <= max_samples:
        return X
    return X[np.sort(rng.choice(len(X), size=max_samples, replace=False))]


def _check_two_samples(
    X_source: ArrayLike, X_target: ArrayLike, *, allow_nan: bool, min_samples: int
) -> tuple[np.ndarray, np.ndarray]:
    source = check_array_2d(X_source, "X_source", allow_nan=allow_nan, min_samples=min_samples)
    target = check_array_2d(X_target, "X_target", allow_nan=allow_nan, min_samples=min_samples)
    check_same_n_features(source, target)
    return source, target


def auc_standard_error(auc: float, n_positive: int, n_negative: int) -> float:
    """Hanley-McNeil (1982) standard error of a ROC AUC.

    Examples
    --------
    >>> round(auc_standard_error(0.5, 1000, 1000), 4)
    0.0129
    """
    q1 = auc / (2 - auc)
    q2 = 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (n_positive - 1) * (q1 - auc**2)
                + (n_negative - 1) * (q2 - auc**2)) / (n_positive * n_negative)
    return float(np.sqrt(max(variance, 0.0)))


def _out_of_fold_scores(
    X: np.ndarray, is_target: np.ndarray, classifier: BaseEstimator | None, cv: int,
    random_state: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold target scores and balanced hard predictions of a domain classifier."""
    from sklearn.model_selection import StratifiedKFold

    estimator = classifier if classifier is not None else _default_domain_classifier(random_state)
    scores = np.empty(len(X))
    predicted = np.empty(len(X), dtype=int)
    splitter = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    for train, test in splitter.split(X, is_target):
        model = clone(estimator).fit(X[train], is_target[train])
        # A probability above the training share of target rows means a likelihood ratio
        # above 1: the balanced-error decision, with no sample weights (which would send
        # gradient boosting down its slow weighted-binning path).
        if hasattr(model, "predict_proba"):
            fold_scores = model.predict_proba(X[test])[:, 1]
            fold_predicted = (fold_scores >= is_target[train].mean()).astype(int)
        else:
            fold_scores = np.asarray(model.decision_function(X[test]), dtype=float)
            fold_predicted = (fold_scores >= 0).astype(int)
        scores[test], predicted[test] = fold_scores, fold_predicted
    return scores, predicted


def _holdout_pvalue(
    X: np.ndarray, is_target: np.ndarray, classifier: BaseEstimator | None,
    n_permutations: int, random_state: int | None, rng: np.random.Generator,
) -> float:
    """Permutation p-value of the held-out AUC of a classifier fitted on the other half.

    The held-out scores are a fixed function of the training half, so under "same
    distribution" the held-out market labels are exchangeable given them: permuting those
    labels gives an exact test. (Permuting labels over cross-validated out-of-fold scores
    would not: every score depends on other folds' labels, and such a test rejects far
    too often.)
    """
    from sklearn.model_selection import train_test_split

    if n_permutations == 0:
        return np.nan
    train, test = train_test_split(np.arange(len(X)), test_size=0.5, stratify=is_target,
                                   random_state=random_state)
    estimator = classifier if classifier is not None else _default_domain_classifier(random_state)
    model = clone(estimator).fit(X[train], is_target[train])
    if hasattr(model, "predict_proba"):
        scores = model.predict_proba(X[test])[:, 1]
    else:
        scores = np.asarray(model.decision_function(X[test]), dtype=float)
    ranks = sps.rankdata(scores)
    labels = is_target[test]
    n_pos = int(labels.sum())
    observed = float(ranks[labels == 1].sum())
    keys = rng.random((n_permutations, ranks.size))
    chosen = np.argpartition(keys, n_pos - 1, axis=1)[:, :n_pos]
    null = ranks[chosen].sum(axis=1)
    return (1 + int(np.sum(null >= observed - 1e-9))) / (1 + n_permutations)


def classifier_two_sample_test(
    X_source: ArrayLike,
    X_target: ArrayLike,
    *,
    classifier: BaseEstimator | None = None,
    cv: int = 5,
    n_permutations: int = 1000,
    max_samples: int | None = None,
    random_state: int | None = 0,
    n_jobs: int | None = None,
) -> ClassifierTestResult:
    """Classifier two-sample test: can a model tell the markets apart?

    A domain classifier (gradient boosting by default, or any sklearn classifier) is trained
    to separate target rows from source rows; out-of-fold scores give the ROC AUC
    (0.5 = indistinguishable) and, thresholded at the training share of target rows (a
    likelihood ratio of 1), the balanced error behind the proxy A-distance. The p-value is
    an exact permutation test of the AUC on a held-out half (classifier fitted on the
    other half, as in Lopez-Paz & Oquab); ``benchmarks/gap_fpr.py`` checks its
    false-positive rate.

    Parameters
    ----------
    X_source, X_target : array-like of shape (n_samples, n_features)
        Numeric features; NaN is allowed when the classifier accepts it (the default does).
    classifier : sklearn classifier, optional
        Default ``HistGradientBoostingClassifier(max_iter=100, max_leaf_nodes=15)``.
    cv : int, default=5
        Cross-validation folds.
    n_permutations : int, default=1000
        Label permutations for the p-value (0 skips it and its extra classifier fit; the
        p-value is then NaN).
    max_samples : int, optional
        Rows per market kept (random subsample) so the cost stays bounded; the AUC's
        standard error ``auc_se`` states the resulting sampling error.
    random_state : int or None, default=0
    n_jobs : int, optional
        OpenMP threads of the classifier. None means 1: OpenMP-parallel gradient boosting
        slows down many times over on a busy shared machine.

    Returns
    -------
    ClassifierTestResult

    References
    ----------
    Lopez-Paz & Oquab, "Revisiting classifier two-sample tests", ICLR 2017.
    Ben-David et al., "Analysis of representations for domain adaptation", NeurIPS 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> result = classifier_two_sample_test(rng.normal(size=(200, 2)),
    ...                                     rng.normal(size=(200, 2)) + [1.5, 0],
    ...                                     classifier=LogisticRegression(), n_permutations=200)
    >>> result.auc > 0.8, result.pvalue < 0.01
    (True, True)
    """
    check_param("classifier_two_sample_test", "cv", cv, "an int >= 2",
                lambda v: int(v) == v and v >= 2)
    check_param("classifier_two_sample_test", "n_permutations", n_permutations, "an int >= 0",
                lambda v: int(v) == v and v >= 0)
    check_param("classifier_two_sample_test", "max_samples", max_samples,
                "None or an int >= 2", lambda v: v is None or (int(v) == v and v >= 2))
    source, target = _check_two_samples(X_source, X_target, allow_nan=True, min_samples=cv)
    rng = np.random.default_rng(random_state)
    source = _subsample(source, max_samples, rng)
    target = _subsample(target, max_samples, rng)
    X = np.concatenate([source, target])
    is_target = np.r_[np.zeros(len(source), dtype=int), np.ones(len(target), dtype=int)]
    with threadpool_limits(limits=n_jobs or 1, user_api="openmp"):
        scores, predicted = _out_of_fold_scores(X, is_target, classifier, int(cv), random_state)
        pvalue = _holdout_pvalue(X, is_target, classifier, int(n_permutations), random_state,
                                 rng)
    ranks = sps.rankdata(scores)
    n_t, n_s = len(target), len(source)
    rank_sum = float(ranks[is_target == 1].sum())
    auc = (rank_sum - n_t * (n_t + 1) / 2) / (n_t * n_s)
    error = 0.5 * (np.mean(predicted[is_target == 0] != 0)
                   + np.mean(predicted[is_target == 1] != 1))
    return ClassifierTestResult(
        auc=float(auc), auc_se=auc_standard_error(float(auc), n_t, n_s), pvalue=float(pvalue),
        balanced_error=float(error), proxy_a_distance=float(max(0.0, 2 * (1 - 2 * error))),
        n_source=n_s, n_target=n_t, n_permutations=int(n_permutations),
    )


def domain_classifier_auc(
    X_source: ArrayLike,
    X_target: ArrayLike,
    *,
    classifier: BaseEstimator | None = None,
    cv: int = 5,
    random_state: int | None = 0,
    n_jobs: int | None = None,
) -> float:
    """Cross-validated ROC AUC of a classifier telling target rows from source rows.

    0.5 means the markets look alike to the classifier; 1.0 means they are separable.
    See ``classifier_two_sample_test`` for the p-value and standard error.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.random.default_rng(0).normal(size=(300, 2))
    >>> domain_classifier_auc(X[:150], X[150:] + 3, classifier=LogisticRegression())
    1.0
    """
    return classifier_two_sample_test(
        X_source, X_target, classifier=classifier, cv=cv, n_permutations=0,
        random_state=random_state, n_jobs=n_jobs,
    ).auc


def proxy_a_distance(
    X_source: ArrayLike,
    X_target: ArrayLike,
    *,
    classifier: BaseEstimator | None = None,
    cv: int = 5,
    random_state: int | None = 0,
    n_jobs: int | None = None,
) -> float:
    """Proxy A-distance ``2 * (1 - 2 * err)`` of a cross-validated domain classifier.

    ``err`` is the balanced error rate; the result lies in [0, 2] (values a worse-than-chance
    classifier would make negative are reported as 0).

    References
    ----------
    Ben-David et al., "Analysis of representations for domain adaptation", NeurIPS 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.random.default_rng(0).normal(size=(300, 2))
    >>> proxy_a_distance(X[:150], X[150:] + 5, classifier=LogisticRegression())
    2.0
    """
    return classifier_two_sample_test(
        X_source, X_target, classifier=classifier, cv=cv, n_permutations=0,
        random_state=random_state, n_jobs=n_jobs,
    ).proxy_a_distance


# --------------------------------------------------------------------------- kernel MMD
@dataclass(frozen=True)
class MMDTestResult:
    """Outcome of the kernel MMD permutation test.

    Attributes
    ----------
    statistic : float
        Biased (V-statistic) estimate of MMD² with the RBF kernel ``exp(-gamma ||x - y||²)``.
    pvalue : float
        Permutation p-value.
    gamma : float
        Kernel parameter used (median heuristic unless given).
    method : {"exact", "rff"}
        Exact kernel sums, or random Fourier features (linear in the number of rows).
    n_source, n_target : int
        Rows used (after subsampling).
    n_permutations : int
    """

    statistic: float
    pvalue: float
    gamma: float
    method: str
    n_source: int
    n_target: int
    n_permutations: int


def median_heuristic_gamma(
    X: ArrayLike, *, max_samples: int = 1000, random_state: int | None = 0
) -> float:
    """RBF ``gamma = 1 / median(||x_i - x_j||²)`` over pairs of (at most ``max_samples``) rows.

    Falls back to the mean non-zero squared distance when more than half the pairs
    coincide, and to 1.0 when all rows are identical.

    Examples
    --------
    >>> median_heuristic_gamma([[0.0], [1.0], [2.0]])
    1.0
    """
    array = check_array_2d(X, "X", min_samples=1)
    array = _subsample(array, max_samples, np.random.default_rng(random_state))
    squared = np.sum(array**2, axis=1)
    distances = squared[:, None] + squared[None, :] - 2 * array @ array.T
    pairs = np.clip(distances[np.triu_indices(len(array), k=1)], 0, None)
    if pairs.size == 0 or not (pairs > 0).any():
        return 1.0
    median = float(np.median(pairs))
    if median <= 0:
        median = float(pairs[pairs > 0].mean())
    with np.errstate(over="ignore", divide="ignore"):
        gamma = 1.0 / median
    # Distances of a few ulps (near-duplicate rows) would give an infinite width.
    return gamma if np.isfinite(gamma) else 1.0


def _rbf_kernel(X: np.ndarray, gamma: float) -> np.ndarray:
    squared = np.sum(X**2, axis=1)
    distances = np.clip(squared[:, None] + squared[None, :] - 2 * X @ X.T, 0, None)
    return np.exp(-gamma * distances)


def _fourier_features(
    X: np.ndarray, gamma: float, n_components: int, rng: np.random.Generator
) -> np.ndarray:
    # Rahimi & Recht: E[z(x) . z(y)] = exp(-gamma ||x - y||^2) for omega ~ N(0, 2 gamma I).
    omega = rng.normal(scale=np.sqrt(2 * gamma), size=(X.shape[1], n_components))
    phase = rng.uniform(0, 2 * np.pi, size=n_components)
    return np.sqrt(2.0 / n_components) * np.cos(X @ omega + phase)


def _mmd_setup(
    X_source: ArrayLike, X_target: ArrayLike, gamma: float | None, method: str,
    n_components: int, max_samples: int | None, random_state: int | None, owner: str,
) -> tuple[np.ndarray, int, float, str, np.random.Generator]:
    check_param(owner, "gamma", gamma, "None or a float > 0", lambda v: v is None or v > 0)
    check_choice(owner, "method", method, ("auto", "exact", "rff"))
    check_param(owner, "n_components", n_components, "an int >= 1",
                lambda v: int(v) == v and v >= 1)
    check_param(owner, "max_samples", max_samples, "None or an int >= 1",
                lambda v: v is None or (int(v) == v and v >= 1))
    source, target = _check_two_samples(X_source, X_target, allow_nan=False, min_samples=1)
    rng = np.random.default_rng(random_state)
    source = _subsample(source, max_samples, rng)
    target = _subsample(target, max_samples, rng)
    X = np.concatenate([source, target])
    if gamma is None:
        gamma = median_heuristic_gamma(X, random_state=random_state)
    if method == "auto":
        method = "exact" if len(X) <= _MMD_EXACT_MAX_ROWS else "rff"
    return X, len(source), float(gamma), method, rng


def _signed_means(n_source: int, n_total: int) -> np.ndarray:
    n_target = n_total - n_source
    return np.r_[np.full(n_source, 1.0 / n_source), np.full(n_target, -1.0 / n_target)]


def mmd2(
    X_source: ArrayLike,
    X_target: ArrayLike,
    *,
    gamma: float | None = None,
    method: Literal["auto", "exact", "rff"] = "auto",
    n_components: int = 512,
    max_samples: int | None = None,
    random_state: int | None = 0,
) -> float:
    """Squared maximum mean discrepancy with an RBF kernel (median heuristic by default).

    The biased (V-statistic) estimate ``mean K_ss + mean K_tt - 2 mean K_st``: non-negative
    and exactly 0 for identical samples. ``method="rff"`` replaces the kernel by
    ``n_components`` random Fourier features (error ~ 1/sqrt(n_components)) so the cost is
    linear in the rows; ``"auto"`` uses exact sums up to 3,000 pooled rows. Standardise the
    features first: the kernel is not scale-invariant.

    Parameters
    ----------
    X_source, X_target : array-like of shape (n_samples, n_features)
    gamma : float, optional
        Kernel ``exp(-gamma ||x - y||²)``; None uses the median heuristic on the pooled rows.
    method : {"auto", "exact", "rff"}, default="auto"
    n_components : int, default=512
        Random Fourier features when ``method="rff"``.
    max_samples : int, optional
        Random subsample of rows per market.
    random_state : int or None, default=0

    Returns
    -------
    float

    References
    ----------
    Gretton et al., "A kernel two-sample test", JMLR 2012. Rahimi & Recht, "Random features
    for large-scale kernel machines", NeurIPS 2007.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((5, 2))
    >>> mmd2(X, X)
    0.0
    >>> mmd2([[0.0], [0.1]], [[5.0], [5.1]], gamma=1.0) > 1.9
    True
    """
    X, n_source, gamma_used, method_used, rng = _mmd_setup(
        X_source, X_target, gamma, method, n_components, max_samples, random_state, "mmd2")
    weights = _signed_means(n_source, len(X))
    if method_used == "exact":
        value = float(weights @ _rbf_kernel(X, gamma_used) @ weights)
    else:
        embedded = weights @ _fourier_features(X, gamma_used, int(n_components), rng)
        value = float(embedded @ embedded)
    # Round-off can leave tiny negative values for identical samples.
    return max(0.0, round(value, 12))


def mmd_test(
    X_source: ArrayLike,
    X_target: ArrayLike,
    *,
    gamma: float | None = None,
    method: Literal["auto", "exact", "rff"] = "auto",
    n_components: int = 512,
    n_permutations: int = 200,
    max_samples: int | None = 5000,
    random_state: int | None = 0,
) -> MMDTestResult:
    """Kernel two-sample test: MMD² with a permutation p-value.

    The features (exact kernel or random Fourier features) are computed once; each
    permutation reshuffles the market labels, so the test is exact at any sample size.
    ``max_samples`` (per market) bounds the cost at large n.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> same = mmd_test(rng.normal(size=(100, 2)), rng.normal(size=(100, 2)))
    >>> moved = mmd_test(rng.normal(size=(100, 2)), rng.normal(size=(100, 2)) + 1)
    >>> same.pvalue > 0.05, moved.pvalue < 0.01
    (True, True)
    """
    check_param("mmd_test", "n_permutations", n_permutations, "an int >= 1",
                lambda v: int(v) == v and v >= 1)
    X, n_source, gamma_used, method_used, rng = _mmd_setup(
        X_source, X_target, gamma, method, n_components, max_samples, random_state, "mmd_test")
    weights = _signed_means(n_source, len(X))
    permuted = np.stack([rng.permutation(weights) for _ in range(int(n_permutations))])
    if method_used == "exact":
        kernel = _rbf_kernel(X, gamma_used)
        statistic = float(weights @ kernel @ weights)
        null = np.einsum("ij,ij->i", permuted @ kernel, permuted)
    else:
        features = _fourier_features(X, gamma_used, int(n_components), rng)
        embedded = weights @ features
        statistic = float(embedded @ embedded)
        null = np.sum((permuted @ features) ** 2, axis=1)
    pvalue = (1 + int(np.sum(null >= statistic - 1e-12))) / (1 + int(n_permutations))
    return MMDTestResult(
        statistic=max(0.0, statistic), pvalue=float(pvalue), gamma=gamma_used,
        method=method_used, n_source=n_source, n_target=len(X) - n_source,
        n_permutations=int(n_permutations),
    )
