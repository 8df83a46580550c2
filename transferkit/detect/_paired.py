"""Paired statistics behind ``compare``: bootstrap intervals, McNemar, label counts, breakdowns.

Every model is scored on the *same* resamples (``evaluation.bootstrap_weights``), so
differences between models are paired; the metrics themselves come from
``transferkit.evaluation``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from transferkit.evaluation import (
    bootstrap_weights,
    classification_scores,
    regression_scores,
    resampled_scores,
)

__all__ = [
    "LOWER_IS_BETTER",
    "MIN_ROWS_FOR_CI",
    "decide",
    "extra_labels",
    "extra_labels_mcnemar",
    "holm",
    "interval",
    "mcnemar",
    "mcnemar_interval",
    "mcnemar_pvalues",
    "oriented",
    "paired_draws",
    "point_scores",
    "recall_breakdown",
    "segment_breakdown",
]

# Metrics where a smaller value is better; differences are oriented so that > 0 favours
# the transferred model whatever the metric.
LOWER_IS_BETTER = frozenset({"log_loss", "mae", "rmse"})
MIN_ROWS_FOR_CI = 10
"""Fewest labelled target rows for which ``compare`` reports confidence intervals."""


def point_scores(
    y: np.ndarray, prediction: np.ndarray, classes: np.ndarray | None
) -> dict[str, float]:
    """Every metric of ``evaluation`` for one model on all rows."""
    if classes is None:
        return regression_scores(y, prediction)
    return classification_scores(y, prediction, classes=list(classes))


def oriented(metric: str, value: np.ndarray | float) -> np.ndarray | float:
    return -value if metric in LOWER_IS_BETTER else value


def interval(draws: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Percentile interval and two-sided bootstrap p-value of H0: difference = 0.

    The p-value ``2 min(#draws <= 0, #draws >= 0) / #draws`` is the one the percentile
    interval inverts: the interval at level ``1 - a`` excludes 0 when it is below ``a``
    (up to the interpolation of the quantiles), so the two never tell different stories.
    It is 0 when every draw is on one side (p < 1 / #draws).
    """
    finite = draws[np.isfinite(draws)]
    if finite.size < 2:
        return math.nan, math.nan, math.nan
    alpha = (1 - confidence) / 2
    low, high = np.quantile(finite, [alpha, 1 - alpha])
    tail = min(np.sum(finite <= 0), np.sum(finite >= 0))
    p_value = min(1.0, 2 * tail / finite.size)
    return float(low), float(high), float(p_value)


def paired_draws(
    y: np.ndarray,
    outputs: Mapping[str, np.ndarray],
    classes: np.ndarray | None,
    *,
    n_resamples: int,
    seed: int,
) -> dict[str, dict[str, np.ndarray]]:
    """Every metric of every model on the *same* bootstrap resamples (a paired bootstrap).

    Uses the resample counts of ``evaluation.bootstrap_weights`` with the seed that
    ``bootstrap_scores`` uses, so the paired differences and the per-model intervals come
    from identical resamples.
    """
    weights = bootstrap_weights(len(y), n_resamples, seed)
    class_list = None if classes is None else list(classes)
    return {name: resampled_scores(y, prediction, weights=weights, classes=class_list)
            for name, prediction in outputs.items()}


def effect(low: float, high: float) -> str:
    if not np.isfinite(low):
        return "too few rows"
    if low > 0:
        return "helps"
    if high < 0:
        return "hurts"
    return "unclear"


def segment_breakdown(
    y: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    groups: np.ndarray,
    classes: np.ndarray | None,
    metric: str,
    names: tuple[str, str],
    *,
    n_resamples: int,
    confidence: float,
    seed: int,
    group_name: str,
) -> pd.DataFrame:
    """Per-group metric of two models with a paired bootstrap interval of the difference."""
    rows = []
    for value in pd.unique(groups):
        mask = groups == value
        n = int(mask.sum())
        outputs = {names[0]: first[mask], names[1]: second[mask]}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            point = {k: point_scores(y[mask], v, classes)[metric] for k, v in outputs.items()}
        difference = float(oriented(metric, point[names[0]] - point[names[1]]))
        low = high = math.nan
        if n >= MIN_ROWS_FOR_CI:
            draws = paired_draws(y[mask], outputs, classes, n_resamples=n_resamples, seed=seed)
            delta = np.asarray(oriented(metric, draws[names[0]][metric]
                                         - draws[names[1]][metric]))
            low, high, _ = interval(delta, confidence)
        rows.append({group_name: value, "n": n, names[0]: point[names[0]],
                     names[1]: point[names[1]], "difference": difference, "low": low,
                     "high": high, "effect": effect(low, high)})
    return pd.DataFrame(rows).set_index(group_name).sort_values("difference", kind="stable")


def recall_breakdown(
    y: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    names: tuple[str, str],
    *,
    n_resamples: int,
    confidence: float,
    seed: int,
) -> pd.DataFrame:
    """Per-class recall of two models and a paired bootstrap interval of its difference."""
    rng = np.random.default_rng(seed)
    rows = []
    for value in np.unique(y):
        index = np.flatnonzero(y == value)
        a, b = first[index].astype(float), second[index].astype(float)
        difference = float(a.mean() - b.mean())
        low = high = math.nan
        if index.size >= MIN_ROWS_FOR_CI:
            resamples = rng.integers(0, index.size, size=(n_resamples, index.size))
            low, high, _ = interval((a[resamples] - b[resamples]).mean(axis=1), confidence)
        rows.append({"class": value, "n": int(index.size), names[0]: float(a.mean()),
                     names[1]: float(b.mean()), "difference": difference, "low": low,
                     "high": high, "effect": effect(low, high)})
    return pd.DataFrame(rows).set_index("class").sort_values("difference", kind="stable")


def extra_labels(n: int, difference: float, low: float, high: float) -> int | None:
    """Rows to add so that an effect of the observed size would be significant.

    The interval's half-width shrinks like 1 / sqrt(n), so it excludes 0 once
    n' = n * (half-width / |difference|)^2.
    """
    if not (np.isfinite(low) and np.isfinite(high)) or difference == 0:
        return None
    half_width = (high - low) / 2
    needed = math.ceil(n * (half_width / abs(difference)) ** 2)
    return max(needed - n, 1)


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values along the last axis (NaN counts as 1).

    >>> holm(np.array([0.01, 0.04, 0.03])).round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.where(np.isfinite(p_values), p_values, 1.0)
    m = p.shape[-1]
    order = np.argsort(p, axis=-1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=-1) * (m - np.arange(m))
    ranked = np.minimum(np.maximum.accumulate(ranked, axis=-1), 1.0)
    adjusted = np.empty_like(ranked)
    np.put_along_axis(adjusted, order, ranked, axis=-1)
    return adjusted


def decide(
    differences: np.ndarray, p_values: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Verdict of the transferred model against ``k`` baselines, vectorised over trials.

    ``differences`` and two-sided ``p_values`` have shape (..., k), oriented so that a
    difference > 0 favours the transferred model.

    - negative: significantly worse than *at least one* baseline, with Holm's correction
      over the ``k`` baselines (family-wise error <= ``alpha``; the size per side is
      ``alpha / 2`` as for one test);
    - positive: significantly better than *every* baseline, each at ``alpha`` (an
      intersection-union test, which needs no correction);
    - inconclusive otherwise.

    Returns ``(verdict, deciding, p_value, level, holm_side)``: the verdict as -1 / +1 / 0,
    the index of the baseline that decides it (for negative the one with the smallest adjusted
    p-value among those it loses to; for positive the weakest win; for inconclusive the
    baseline nearest to a decision), that comparison's p-value as the decision uses it
    (Holm-adjusted on the negative side, raw for positive) and the level its interval
    needs to agree with the decision: ``alpha * p / p_holm`` on the Holm side (so that the
    interval excludes 0 exactly when the adjusted p-value is below ``alpha``), ``alpha``
    on the positive side; ``holm_side`` says which side decided.

    >>> verdict, deciding, p, level, _ = decide(np.array([-0.05, 0.02, -0.01]),
    ...                                      np.array([0.03, 0.4, 0.6]), 0.05)
    >>> int(verdict), int(deciding), round(float(p), 2)
    (0, 0, 0.09)
    """
    d = np.asarray(differences, dtype=float)
    raw = np.where(np.isfinite(p_values), p_values, 1.0)
    adjusted = holm(raw)
    loses = (d < 0) & (adjusted < alpha)
    negative = loses.any(axis=-1)
    positive = ((d > 0) & (raw < alpha)).all(axis=-1)
    behind = d <= 0
    holm_side = negative | behind.any(axis=-1)
    candidates = np.where(loses, adjusted, np.inf)
    nearest = np.argmin(np.where(behind, adjusted, np.inf), axis=-1)
    deciding = np.where(negative, np.argmin(candidates, axis=-1),
                        np.where(holm_side, nearest, np.argmax(raw, axis=-1)))
    pick = deciding[..., None]
    p_raw = np.take_along_axis(raw, pick, axis=-1)[..., 0]
    p_adj = np.take_along_axis(adjusted, pick, axis=-1)[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        holm_level = np.where(p_adj > 0, alpha * p_raw / p_adj, alpha)
    verdict = np.where(negative, -1, np.where(positive, 1, 0))
    return (verdict, deciding, np.where(holm_side, p_adj, p_raw),
            np.where(holm_side, holm_level, alpha), holm_side)


def mcnemar_pvalues(only_first: np.ndarray, only_second: np.ndarray) -> np.ndarray:
    """Exact two-sided McNemar p-values from discordant counts, vectorised.

    Under H0 the discordant rows split Binomial(b + c, 1/2); the p-value is twice the
    smaller tail (the central test, which the Clopper-Pearson interval of
    :func:`mcnemar_interval` inverts exactly; for p = 1/2 it equals scipy's ``binomtest``).
    """
    from scipy.stats import binom

    b, c = np.asarray(only_first), np.asarray(only_second)
    total = b + c
    tail = binom.cdf(np.minimum(b, c), total, 0.5)
    return np.where(total > 0, np.minimum(1.0, 2 * tail), 1.0)


def mcnemar_interval(
    only_first: int, only_second: int, n: int, confidence: float
) -> tuple[float, float]:
    """Interval of the accuracy difference that agrees with the exact McNemar test.

    Conditional on the ``b + c`` discordant rows, ``b ~ Binomial(b + c, theta)`` and the
    accuracy difference is ``(b + c) (2 theta - 1) / n``; the Clopper-Pearson interval of
    ``theta`` maps onto it. It excludes 0 exactly when :func:`mcnemar_pvalues` is below
    ``1 - confidence``.
    """
    from scipy.stats import beta

    b, c = int(only_first), int(only_second)
    total = b + c
    if total == 0:
        return 0.0, 0.0
    alpha = 1 - confidence
    low = 0.0 if b == 0 else float(beta.ppf(alpha / 2, b, c + 1))
    high = 1.0 if c == 0 else float(beta.ppf(1 - alpha / 2, b + 1, c))
    scale = total / n
    return scale * (2 * low - 1), scale * (2 * high - 1)


def mcnemar(first: np.ndarray, second: np.ndarray) -> float:
    """Two-sided exact McNemar p-value: do two classifiers err on the same rows equally?"""
    only_first = int(np.sum(first & ~second))
    only_second = int(np.sum(~first & second))
    return float(mcnemar_pvalues(np.array(only_first), np.array(only_second)))


def extra_labels_mcnemar(first: np.ndarray, second: np.ndarray, confidence: float) -> int | None:
    """Rows to add until the same discordance rates would pass the exact McNemar test."""
    from scipy.stats import binomtest

    n = len(first)
    only_first = int(np.sum(first & ~second))
    only_second = int(np.sum(~first & second))
    if only_first == only_second:
        return None

    def significant(total: int) -> bool:
        scale = total / n
        a, b = round(only_first * scale), round(only_second * scale)
        return a + b > 0 and binomtest(a, a + b, 0.5).pvalue < 1 - confidence

    high = 2 * n
    while not significant(high):
        high *= 2
        if high > 10**8:
            return None
    low = n
    while high - low > max(1, n // 100):
        middle = (low + high) // 2
        low, high = (low, middle) if significant(middle) else (middle, high)
    return max(high - n, 1)
