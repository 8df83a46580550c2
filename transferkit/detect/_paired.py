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
    "extra_labels",
    "extra_labels_mcnemar",
    "interval",
    "mcnemar",
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
    """Percentile interval and two-sided bootstrap p-value of H0: difference = 0."""
    finite = draws[np.isfinite(draws)]
    if finite.size < 2:
        return math.nan, math.nan, math.nan
    alpha = (1 - confidence) / 2
    low, high = np.quantile(finite, [alpha, 1 - alpha])
    tail = min(np.sum(finite <= 0), np.sum(finite >= 0))
    p_value = min(1.0, 2 * (tail + 1) / (finite.size + 1))
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


def mcnemar(first: np.ndarray, second: np.ndarray) -> float:
    """Two-sided exact McNemar p-value: do two classifiers err on the same rows equally?"""
    from scipy.stats import binomtest

    only_first = int(np.sum(first & ~second))
    only_second = int(np.sum(~first & second))
    if only_first + only_second == 0:
        return 1.0
    return float(binomtest(only_first, only_first + only_second, 0.5).pvalue)


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
