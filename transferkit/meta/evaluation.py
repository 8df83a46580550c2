"""Per-task scores of adapted models, with bootstrap confidence intervals over tasks.

Tasks (users, households, markets) are the unit of replication: a learner's score is the
mean of its per-task scores, its interval a percentile bootstrap over tasks, and two
learners are compared on the same episodes with a paired bootstrap of per-task
differences.

Examples
--------
>>> rows = [{"task": f"t{i}", "mae": 1.0 + 0.1 * i} for i in range(5)]
>>> result = MetaEvaluation.from_rows("pooled", rows, adapt_seconds=0.01, fit_seconds=1.0)
>>> result.mean("mae")
1.2
>>> better = MetaEvaluation.from_rows("maml", [{"task": r["task"], "mae": r["mae"] - 0.2}
...                                            for r in rows], adapt_seconds=0.1)
>>> diff = paired_difference(better, result, "mae")
>>> diff["mean"], diff["significant"]
(-0.2, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from transferkit._validation import check_param
from transferkit.meta.tasks import Episode

__all__ = ["LOWER_IS_BETTER", "MetaEvaluation", "comparison_table", "ndcg_at_k",
           "paired_difference", "score_episode"]

#: Metrics where smaller is better; the others (accuracy) are maximised.
LOWER_IS_BETTER: frozenset[str] = frozenset({"mae", "rmse", "mse", "log_loss"})
_EPS = 1e-15


def score_episode(model: Any, episode: Episode) -> dict[str, float]:
    """Scores of an adapted model on an episode's query set.

    Regression: ``mae``, ``rmse`` and ``ndcg_at_10`` (the query rows ranked by prediction,
    relevance = label minus the smallest query label: for ratings, how well the model
    orders a new user's items). Classification: ``accuracy`` and ``log_loss``; a query
    label outside the model's ``classes_`` counts as wrong with probability ``1e-15``.
    """
    if episode.kind == "regression":
        truth = np.asarray(episode.y_query, dtype=float)
        predicted = model.predict(episode.X_query)
        error = predicted - truth
        return {"mae": float(np.mean(np.abs(error))), "rmse": float(np.sqrt(np.mean(error ** 2))),
                "ndcg_at_10": ndcg_at_k(truth, predicted, 10)}
    proba = model.predict_proba(episode.X_query)
    classes = model.classes_.tolist()
    predicted = np.asarray(model.classes_)[proba.argmax(axis=1)]
    column = {value: i for i, value in enumerate(classes)}
    picked = np.array([proba[row, column[v]] if v in column else 0.0
                       for row, v in enumerate(np.asarray(episode.y_query).tolist())])
    return {"accuracy": float(np.mean(predicted == episode.y_query)),
            "log_loss": float(-np.mean(np.log(np.clip(picked, _EPS, 1.0))))}


def ndcg_at_k(truth: np.ndarray, predicted: np.ndarray, k: int = 10) -> float:
    """Normalised discounted cumulative gain of the top ``k`` rows ranked by ``predicted``.

    Examples
    --------
    >>> ndcg_at_k(np.array([3.0, 1.0, 2.0]), np.array([0.9, 0.1, 0.5]))
    1.0
    """
    relevance = truth - truth.min()
    discounts = 1.0 / np.log2(np.arange(2, min(k, len(truth)) + 2))
    ideal = float(np.sort(relevance)[::-1][:k] @ discounts)
    if ideal == 0:
        return 1.0
    # Stable sort on the negated prediction, so ties keep their order deterministically.
    ranked = relevance[np.argsort(-predicted, kind="stable")][:k]
    return float(ranked @ discounts) / ideal


def _bootstrap_means(values: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(values), size=(n_resamples, len(values)))
    return values[picks].mean(axis=1)


@dataclass(frozen=True)
class MetaEvaluation:
    """Scores of one learner on a set of tasks.

    Attributes
    ----------
    learner : str
    scores : DataFrame
        One row per task (index ``task``; repeats averaged), one column per metric.
    adapt_seconds : float
        Mean wall time of one ``adapt`` call (the per-task cost).
    fit_seconds : float
        Wall time of ``meta_fit``.
    confidence : float
    n_resamples : int
    seed : int
    """

    learner: str
    scores: pd.DataFrame
    adapt_seconds: float
    fit_seconds: float = 0.0
    confidence: float = 0.95
    n_resamples: int = 2000
    seed: int = 0

    @classmethod
    def from_rows(cls, learner: str, rows: Sequence[Mapping[str, Any]], *,
                  adapt_seconds: float, fit_seconds: float = 0.0, confidence: float = 0.95,
                  n_resamples: int = 2000, seed: int = 0) -> MetaEvaluation:
        """Build from one dict per episode (``task`` plus metric values)."""
        check_param("MetaEvaluation", "confidence", confidence, "a float in (0, 1)",
                    lambda v: 0 < v < 1)
        frame = pd.DataFrame(list(rows))
        if frame.empty or "task" not in frame:
            raise ValueError("MetaEvaluation needs one row per episode with a 'task' key.")
        scores = frame.groupby("task", sort=False).mean(numeric_only=True)
        return cls(learner, scores, float(adapt_seconds), float(fit_seconds),
                   float(confidence), int(n_resamples), int(seed))

    @property
    def metrics(self) -> list[str]:
        return list(self.scores.columns)

    @property
    def n_tasks(self) -> int:
        return len(self.scores)

    def mean(self, metric: str) -> float:
        """Mean of the per-task scores."""
        return round(float(self.scores[self._check(metric)].mean()), 12)

    def interval(self, metric: str) -> tuple[float, float]:
        """Percentile bootstrap interval of the mean over tasks."""
        values = self.scores[self._check(metric)].to_numpy(dtype=float)
        means = _bootstrap_means(values, self.n_resamples, self.seed)
        tail = (1 - self.confidence) / 2 * 100
        low, high = np.percentile(means, [tail, 100 - tail])
        return float(low), float(high)

    def summary(self) -> pd.DataFrame:
        """One row per metric: mean, CI bounds, number of tasks."""
        rows = []
        for metric in self.metrics:
            low, high = self.interval(metric)
            rows.append({"metric": metric, "mean": self.mean(metric), "ci_low": low,
                         "ci_high": high, "n_tasks": self.n_tasks})
        return pd.DataFrame(rows).set_index("metric")

    def _check(self, metric: str) -> str:
        if metric not in self.scores:
            raise KeyError(f"No metric {metric!r}; this evaluation has {self.metrics}.")
        return metric

    def __repr__(self) -> str:
        parts = ", ".join(f"{m}={self.mean(m):.4g}" for m in self.metrics)
        return f"MetaEvaluation({self.learner!r}, {self.n_tasks} tasks, {parts})"


def paired_difference(a: MetaEvaluation, b: MetaEvaluation, metric: str, *,
                      confidence: float = 0.95, n_resamples: int = 2000,
                      seed: int = 0) -> dict[str, float | bool]:
    """Paired bootstrap of ``a - b`` over the tasks both were scored on.

    Returns
    -------
    dict
        ``mean``, ``ci_low``, ``ci_high`` of the per-task difference, ``n_tasks``,
        ``significant`` (the interval excludes 0) and ``a_better`` (significant in
        ``a``'s favour, for the metric's direction).
    """
    common = a.scores.index.intersection(b.scores.index)
    if len(common) == 0:
        raise ValueError(f"{a.learner!r} and {b.learner!r} were scored on no common task; "
                         "evaluate both on the same episodes.")
    diff = (a.scores.loc[common, metric] - b.scores.loc[common, metric]).to_numpy(dtype=float)
    means = _bootstrap_means(diff, n_resamples, seed)
    tail = (1 - confidence) / 2 * 100
    low, high = (float(v) for v in np.percentile(means, [tail, 100 - tail]))
    significant = low > 0 or high < 0
    lower = metric in LOWER_IS_BETTER
    a_better = significant and (high < 0 if lower else low > 0)
    return {"mean": round(float(diff.mean()), 12), "ci_low": low, "ci_high": high,
            "n_tasks": len(common), "significant": bool(significant),
            "a_better": bool(a_better)}


def comparison_table(evaluations: Sequence[MetaEvaluation], metric: str, *,
                     reference: str, confidence: float = 0.95,
                     n_resamples: int = 2000) -> pd.DataFrame:
    """Each learner's mean and CI, and its paired difference from the ``reference`` one.

    Returns
    -------
    DataFrame
        Indexed by learner: ``mean``, ``ci_low``, ``ci_high``, ``diff_vs_<reference>``,
        ``diff_ci_low``, ``diff_ci_high``, ``better``/``worse`` (significant), the
        ``adapt_ms`` cost and ``n_tasks``.
    """
    by_name = {e.learner: e for e in evaluations}
    if reference not in by_name:
        raise KeyError(f"No evaluation of {reference!r}; have {sorted(by_name)}.")
    base = by_name[reference]
    rows = []
    for evaluation in evaluations:
        low, high = evaluation.interval(metric)
        diff = paired_difference(evaluation, base, metric, confidence=confidence,
                                 n_resamples=n_resamples)
        rows.append({"learner": evaluation.learner, "mean": evaluation.mean(metric),
                     "ci_low": low, "ci_high": high, f"diff_vs_{reference}": diff["mean"],
                     "diff_ci_low": diff["ci_low"], "diff_ci_high": diff["ci_high"],
                     "better": diff["a_better"],
                     "worse": diff["significant"] and not diff["a_better"],
                     "adapt_ms": 1000 * evaluation.adapt_seconds,
                     "n_tasks": evaluation.n_tasks})
    return pd.DataFrame(rows).set_index("learner")
