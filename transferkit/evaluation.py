"""Target-market scores of a model, with bootstrap confidence intervals.

The same metric definitions serve the baseline comparison, the negative-transfer verdict
and recipe reports, so a number means the same thing everywhere.

Examples
--------
>>> import numpy as np
>>> y = np.array([0, 1, 1, 0])
>>> proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
>>> scores = classification_scores(y, proba, classes=[0, 1])
>>> scores["accuracy"], scores["roc_auc"]
(0.75, 0.75)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn import metrics as skm

from transferkit._validation import check_param

__all__ = [
    "CLASSIFICATION_METRICS",
    "REGRESSION_METRICS",
    "bootstrap_scores",
    "bootstrap_weights",
    "classification_scores",
    "flat_scores",
    "regression_scores",
    "resampled_scores",
]

CLASSIFICATION_METRICS: tuple[str, ...] = (
    "accuracy", "balanced_accuracy", "macro_f1", "log_loss", "roc_auc",
)
REGRESSION_METRICS: tuple[str, ...] = ("mae", "rmse", "r2")
# Probabilities are clipped before the log loss so one confident mistake stays finite.
_EPS = 1e-15


def _check_proba(y_true: np.ndarray, proba: np.ndarray, classes: Sequence[object]) -> None:
    if proba.ndim != 2 or proba.shape != (len(y_true), len(classes)):
        raise ValueError(
            f"proba must have shape (n_samples, n_classes) = ({len(y_true)}, {len(classes)}); "
            f"got {proba.shape}."
        )
    if not np.isfinite(proba).all():
        raise ValueError("proba contains NaN or infinite values.")
    unknown = sorted(set(np.unique(y_true).tolist()) - set(np.asarray(classes).tolist()), key=str)
    if unknown:
        raise ValueError(
            f"Labels {unknown} are not among the model's classes {list(classes)}; the "
            "model cannot be scored on them."
        )


def classification_scores(
    y_true: ArrayLike, proba: ArrayLike, *, classes: Sequence[object]
) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro-F1, log loss and (binary) ROC AUC.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, each one of ``classes``.
    proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities, columns in the order of ``classes``.
    classes : sequence
        Class labels of the model (``model.classes_``).

    Returns
    -------
    dict of str to float
        ``roc_auc`` only for two classes with both present in ``y_true`` (else NaN).
    """
    y = np.asarray(y_true)
    p = np.asarray(proba, dtype=float)
    classes = list(classes)
    _check_proba(y, p, classes)
    y_index = np.array([classes.index(v) for v in y.tolist()])
    predicted = p.argmax(axis=1)
    labels = list(range(len(classes)))
    clipped = np.clip(p, _EPS, 1.0)
    clipped /= clipped.sum(axis=1, keepdims=True)
    scores = {
        "accuracy": float(skm.accuracy_score(y_index, predicted)),
        "balanced_accuracy": float(_balanced_accuracy(y_index, predicted)),
        "macro_f1": float(skm.f1_score(y_index, predicted, average="macro", labels=labels,
                                       zero_division=0)),
        "log_loss": float(skm.log_loss(y_index, clipped, labels=labels)),
        "roc_auc": float("nan"),
    }
    if len(classes) == 2 and len(np.unique(y_index)) == 2:
        scores["roc_auc"] = float(skm.roc_auc_score(y_index == 1, p[:, 1]))
    return scores


def _balanced_accuracy(y_true: np.ndarray, predicted: np.ndarray) -> float:
    """Mean recall over the classes present in ``y_true`` (sklearn's, without its warning)."""
    recalls = [np.mean(predicted[y_true == c] == c) for c in np.unique(y_true)]
    return float(np.mean(recalls))


def regression_scores(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    """Mean absolute error, root mean squared error and R².

    >>> regression_scores([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])["mae"]
    0.333...
    """
    y = np.asarray(y_true, dtype=float)
    pred = np.asarray(y_pred, dtype=float)
    if pred.shape != y.shape:
        raise ValueError(f"y_pred has shape {pred.shape}; y_true has {y.shape}.")
    return {
        "mae": float(skm.mean_absolute_error(y, pred)),
        "rmse": float(np.sqrt(skm.mean_squared_error(y, pred))),
        "r2": float(skm.r2_score(y, pred)) if len(y) > 1 else float("nan"),
    }


def bootstrap_weights(n_samples: int, n_resamples: int, seed: int = 0) -> np.ndarray:
    """Row counts of ``n_resamples`` bootstrap resamples, shape (n_resamples, n_samples).

    Scoring two models with the same counts gives a paired bootstrap of their difference.
    """
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_samples, np.full(n_samples, 1.0 / n_samples), size=n_resamples)


def resampled_scores(
    y_true: ArrayLike,
    prediction: ArrayLike,
    *,
    weights: np.ndarray,
    classes: Sequence[object] | None = None,
) -> dict[str, np.ndarray]:
    """Every metric on every bootstrap resample at once, vectorised over row ``weights``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    prediction : array-like
        Probabilities (n_samples, n_classes) with ``classes``, else predicted values.
    weights : ndarray of shape (n_resamples, n_samples)
        Row counts from ``bootstrap_weights``.
    classes : sequence, optional
        Selects classification metrics.

    Returns
    -------
    dict of str to ndarray of shape (n_resamples,)
        Same metrics and definitions as ``classification_scores`` / ``regression_scores``.
    """
    y = np.asarray(y_true)
    W = np.asarray(weights, dtype=float)
    total = W.sum(axis=1)
    if classes is None:
        error = np.asarray(prediction, dtype=float) - y.astype(float)
        mean_y = (W @ y.astype(float)) / total
        ss_tot = W @ (y.astype(float) ** 2) - total * mean_y**2
        ss_res = W @ error**2
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(ss_tot > 0, 1 - ss_res / ss_tot, np.nan)
        return {"mae": (W @ np.abs(error)) / total, "rmse": np.sqrt(ss_res / total), "r2": r2}
    proba = np.asarray(prediction, dtype=float)
    classes = list(classes)
    _check_proba(y, proba, classes)
    y_index = np.array([classes.index(v) for v in y.tolist()])
    predicted = proba.argmax(axis=1)
    correct = (predicted == y_index).astype(float)
    scores: dict[str, np.ndarray] = {"accuracy": (W @ correct) / total}
    recalls, f1s = [], []
    for k in range(len(classes)):
        is_k, said_k = (y_index == k), (predicted == k)
        support = W @ is_k
        tp, fp, fn = W @ (is_k & said_k), W @ (~is_k & said_k), W @ (is_k & ~said_k)
        with np.errstate(divide="ignore", invalid="ignore"):
            recalls.append(np.where(support > 0, tp / support, np.nan))
            f1s.append(np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a resample may miss a class
        scores["balanced_accuracy"] = np.nanmean(np.vstack(recalls), axis=0)
    scores["macro_f1"] = np.mean(np.vstack(f1s), axis=0)
    clipped = np.clip(proba, _EPS, 1.0)
    clipped /= clipped.sum(axis=1, keepdims=True)
    scores["log_loss"] = (W @ -np.log(clipped[np.arange(len(y)), y_index])) / total
    scores["roc_auc"] = np.full(len(W), np.nan)
    if len(classes) == 2:
        scores["roc_auc"] = _weighted_auc(y_index == 1, proba[:, 1], W)
    return scores


def _weighted_auc(positive: np.ndarray, score: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Mann-Whitney ROC AUC for every row of count weights ``W`` (ties count one half)."""
    unique, inverse = np.unique(score, return_inverse=True)
    onehot = np.zeros((len(score), len(unique)))
    onehot[np.arange(len(score)), inverse] = 1.0
    pos = (W * positive) @ onehot
    neg = (W * ~positive) @ onehot
    below = np.cumsum(neg, axis=1) - neg
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (pos * (below + 0.5 * neg)).sum(axis=1) / (n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)


def flat_scores(table: pd.DataFrame) -> dict[str, float]:
    """One row of a ``bootstrap_scores`` table: ``{metric, metric_low, metric_high, ...}``.

    >>> import pandas as pd
    >>> flat_scores(pd.DataFrame({"value": [0.9], "low": [0.8], "high": [1.0]}, index=["acc"]))
    {'acc': 0.9, 'acc_low': 0.8, 'acc_high': 1.0}
    """
    row: dict[str, float] = {}
    for metric, values in table.iterrows():
        row[metric] = float(values["value"])
        row[f"{metric}_low"] = float(values["low"])
        row[f"{metric}_high"] = float(values["high"])
    return row


def bootstrap_scores(
    y_true: ArrayLike,
    prediction: ArrayLike,
    *,
    classes: Sequence[object] | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Scores with percentile bootstrap confidence intervals over target rows.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    prediction : array-like
        Class probabilities of shape (n_samples, n_classes) when ``classes`` is given
        (classification), else predicted values of shape (n_samples,) (regression).
    classes : sequence, optional
        The model's classes; selects classification metrics.
    n_resamples : int, default=1000
    confidence : float, default=0.95
    seed : int, default=0

    Returns
    -------
    DataFrame
        Index ``metric``; columns ``value`` (on all rows), ``low``, ``high``, ``n``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> proba = np.c_[1 - y * 0.8, y * 0.8 + 0.1]
    >>> table = bootstrap_scores(y, proba, classes=[0, 1], n_resamples=200)
    >>> bool(table.loc["accuracy", "low"] <= table.loc["accuracy", "value"])
    True
    """
    check_param("bootstrap_scores", "n_resamples", n_resamples, "an int >= 10",
                lambda v: int(v) == v and v >= 10)
    check_param("bootstrap_scores", "confidence", confidence, "a float in (0, 1)",
                lambda v: 0 < v < 1)
    y = np.asarray(y_true)
    if len(y) < 2:
        raise ValueError(f"bootstrap_scores needs at least 2 target rows; got {len(y)}.")
    if classes is not None:
        point = classification_scores(y, prediction, classes=classes)
    else:
        point = regression_scores(y, prediction)
    draws = resampled_scores(y, prediction, classes=classes,
                             weights=bootstrap_weights(len(y), int(n_resamples), seed))
    alpha = (1 - confidence) / 2
    rows = {}
    for name, value in point.items():
        finite = draws[name][np.isfinite(draws[name])]
        low, high = (np.quantile(finite, [alpha, 1 - alpha]) if finite.size
                     else (np.nan, np.nan))
        rows[name] = {"value": value, "low": float(low), "high": float(high)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["n"] = len(y)
    table.index.name = "metric"
    return table
