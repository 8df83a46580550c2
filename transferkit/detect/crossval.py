"""Choose a few-label method with the labelled target rows: repeated, nested CV.

When the target market has labels, they are the best judge of which transfer to serve.
``select_with_labels`` runs repeated (stratified) K-fold cross-validation inside the
labelled target rows: every candidate is cloned and fitted on all source rows plus the
training folds (the held-out fold and any unlabelled rows are passed unlabelled), so a
candidate's own hyperparameter tuning only ever sees training folds (nested CV). The
result says how sure the choice is: per-candidate mean and spread, how often each wins a
repeat, and a confidence interval of the winner's margin over the runner-up.

Rule: a candidate is *within noise* of the best when its mean gap to the best, paired
over folds x repeats, is at most ``within_se`` standard errors of that gap, the
standard error corrected for overlapping training folds (Nadeau & Bengio, 2003). Among
the candidates within noise, the simplest is chosen: first in ``simplicity`` when
given, else the one with the smallest mean fit time. The default ``within_se=0.25`` is
deliberately tighter than the classic one-standard-error rule: with 50 labelled rows
one standard error is several points of accuracy, and in a check on real pairs
(Amazon-400 and Stack Overflow salaries, K = 50; ``benchmarks/fewlabel_benchmark.py
rule``) the 1-SE rule served simpler candidates at a cost of about one point of
accuracy and 1 % of RMSE against 0.25 SE.

References
----------
Nadeau, C. and Bengio, Y. (2003). Inference for the generalization error. Machine
Learning, 52(3), 239-281.

Examples
--------
>>> import numpy as np
>>> from transferkit import Domain
>>> from transferkit.fewlabel import RegularTransfer, SourceOnly, TargetOnly
>>> rng = np.random.default_rng(0)
>>> X_s, X_t = rng.normal(size=(300, 3)), rng.normal(size=(60, 3))
>>> source = Domain.from_arrays(X_s, (X_s[:, 0] > 0).astype(int), name="us")
>>> target = Domain.from_arrays(X_t, (X_t[:, 0] + X_t[:, 1] > 0).astype(int), name="de")
>>> choice = select_with_labels(
...     {"source_only": SourceOnly(), "target_only": TargetOnly(),
...      "regular_transfer": RegularTransfer()}, source, target, n_repeats=2)
>>> choice.winner in choice.table.index
True
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold

from transferkit._validation import check_choice, check_param
from transferkit.detect._paired import LOWER_IS_BETTER
from transferkit.domain import Domain
from transferkit.evaluation import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    classification_scores,
    regression_scores,
)
from transferkit.exceptions import TransferWarning

__all__ = ["LabelSelection", "corrected_interval", "corrected_se", "select_with_labels"]


@dataclass(frozen=True)
class LabelSelection:
    """The outcome of ``select_with_labels``.

    Attributes
    ----------
    winner : str
        The candidate to serve (the simplest within noise of the best).
    best_by_mean : str
        The candidate with the best mean score.
    runner_up : str
        The best other candidate by mean score.
    metric : str
    margin, margin_low, margin_high : float
        Mean paired difference winner - runner-up over folds x repeats (oriented so that
        > 0 favours the winner, also for error metrics) and its corrected t-interval.
    table : DataFrame
        Index candidate; columns ``mean``, ``std`` (over repeats), ``win_rate`` (share of
        repeats it scored best, ties shared), ``fit_seconds`` (mean per fit),
        ``within_noise`` (gap to the best at most ``within_se`` corrected standard
        errors),
        ``simplicity`` (0 = simplest).
    fold_scores : DataFrame
        Index (repeat, fold), one column per candidate.
    n_labeled, n_splits, n_repeats : int
    confidence : float
    reason : str
        One sentence on why the winner was chosen.
    """

    winner: str
    best_by_mean: str
    runner_up: str
    metric: str
    margin: float
    margin_low: float
    margin_high: float
    table: pd.DataFrame
    fold_scores: pd.DataFrame
    n_labeled: int
    n_splits: int
    n_repeats: int
    confidence: float
    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The per-candidate table (a copy)."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the per-candidate table as records)."""
        return {
            "winner": self.winner, "best_by_mean": self.best_by_mean,
            "runner_up": self.runner_up, "metric": self.metric, "margin": self.margin,
            "margin_low": self.margin_low, "margin_high": self.margin_high,
            "n_labeled": self.n_labeled, "n_splits": self.n_splits,
            "n_repeats": self.n_repeats, "confidence": self.confidence,
            "reason": self.reason,
            "table": self.table.reset_index().to_dict(orient="records"),
        }

    def summary(self) -> str:
        """Plain-language account of the choice and its uncertainty."""
        pct = f"{self.confidence:.0%}"
        lines = [
            f"Chose {self.winner!r} by {self.n_repeats}x{self.n_splits}-fold cross-validation "
            f"on {self.n_labeled} labelled target rows ({self.metric}).",
            self.reason,
            f"Margin over {self.runner_up!r}: {self.margin:+.4f} "
            f"({pct} CI {self.margin_low:+.4f} to {self.margin_high:+.4f}).",
        ]
        for name, row in self.table.iterrows():
            lines.append(f"  {name:<24} {row['mean']:.4f} +/- {row['std']:.4f}  wins "
                         f"{row['win_rate']:.0%}  {row['fit_seconds']:.2f}s/fit")
        return "\n".join(lines)


def _folds(
    y: np.ndarray, classification: bool, n_splits: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    n = len(y)
    if classification:
        _, counts = np.unique(y, return_counts=True)
        if counts.min() >= n_splits:
            return list(StratifiedKFold(n_splits, shuffle=True, random_state=seed)
                        .split(np.zeros(n), y))
        folds = int(counts.min())
        warnings.warn(
            f"select_with_labels: the rarest class has {folds} labelled target rows, fewer "
            f"than n_splits={n_splits}; using "
            + (f"{folds} stratified folds." if folds >= 2 else "unstratified folds."),
            TransferWarning, stacklevel=3,
        )
        if folds >= 2:
            return list(StratifiedKFold(folds, shuffle=True, random_state=seed)
                        .split(np.zeros(n), y))
    return list(KFold(n_splits, shuffle=True, random_state=seed).split(np.zeros(n)))


def _training_target(target: Domain, labelled: np.ndarray, y: np.ndarray,
                     keep: np.ndarray) -> Domain:
    """The target market with only the ``keep`` labelled rows still labelled."""
    numeric = y.dtype.kind in "biuf"
    labels = np.full(target.n_samples, np.nan, dtype=float if numeric else object)
    labels[labelled[keep]] = y[keep]
    return Domain.from_arrays(target.X, labels, name=target.name, task=target.task,
                              allow_unlabeled=True)


def held_out_score(model: Any, X: np.ndarray, y: np.ndarray, metric: str,
                   classification: bool) -> float:
    """``metric`` of a fitted model on held-out rows (probabilities for classifiers)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if classification:
            return classification_scores(y, model.predict_proba(X),
                                         classes=list(model.classes_))[metric]
        return regression_scores(y, model.predict(X))[metric]


def corrected_se(differences: np.ndarray, test_share: float) -> float:
    """Nadeau-Bengio corrected standard error of the mean of CV fold differences.

    Folds share training rows, so their differences are correlated; the variance of
    the mean is inflated from ``s^2 / J`` to ``(1 / J + n_test / n_train) s^2``.

    >>> round(corrected_se(np.array([0.1, 0.2, 0.0, 0.1]), 0.5), 4)
    0.0913
    """
    finite = differences[np.isfinite(differences)]
    if finite.size < 2:
        return math.nan
    ratio = test_share / (1.0 - test_share)
    return float(finite.std(ddof=1) * math.sqrt(1.0 / finite.size + ratio))


def corrected_interval(
    differences: np.ndarray, test_share: float, confidence: float
) -> tuple[float, float, float]:
    """Mean and t-interval of CV fold differences with the corrected standard error.

    >>> mean, low, high = corrected_interval(np.array([0.1, 0.2, 0.0, 0.1]), 0.5, 0.95)
    >>> round(mean, 3), low < 0 < high
    (0.1, True)
    """
    finite = differences[np.isfinite(differences)]
    if finite.size < 2:
        mean = float(finite.mean()) if finite.size else math.nan
        return mean, math.nan, math.nan
    mean = float(finite.mean())
    half = stats.t.ppf(0.5 + confidence / 2, finite.size - 1) * corrected_se(finite,
                                                                             test_share)
    return mean, float(mean - half), float(mean + half)


def select_with_labels(
    candidates: Mapping[str, Any],
    source: Domain,
    target: Domain,
    *,
    n_repeats: int = 3,
    n_splits: int = 3,
    metric: str | None = None,
    simplicity: Sequence[str] | None = None,
    within_se: float = 0.25,
    confidence: float = 0.95,
    random_state: int = 0,
) -> LabelSelection:
    """Choose among few-label candidates by repeated, nested CV on the labelled target rows.

    Parameters
    ----------
    candidates : mapping of str to estimator
        Unfitted estimators with ``fit(source, target)`` and ``predict`` (and
        ``predict_proba`` / ``classes_`` for classification), e.g. from
        ``transferkit.fewlabel.FEWLABEL``. Each is cloned for every fold.
    source, target : Domain
        Numeric (harmonised) markets; the source labelled, the target with at least
        ``2 * n_splits`` labelled rows (unlabelled rows are passed on, unlabelled).
    n_repeats : int, default=3
        Repeats of the K-fold split with different shuffles.
    n_splits : int, default=3
        Folds (stratified by class for classification; fewer when the rarest class has
        fewer rows).
    metric : str, optional
        One of ``evaluation.CLASSIFICATION_METRICS`` (default ``"accuracy"``) or
        ``REGRESSION_METRICS`` (default ``"rmse"``); lower-is-better metrics are handled.
    simplicity : sequence of str, optional
        Candidate names from simplest to most complex; None orders by mean fit time.
        Candidates not listed come after, by fit time.
    within_se : float, default=0.25
        A candidate whose mean gap to the best is at most this many corrected standard
        errors counts as within noise; the simplest such candidate wins. 0 picks the
        best mean (the simpler one on exact ties); 1 is the one-standard-error rule.
    confidence : float, default=0.95
        Level of the margin's interval.
    random_state : int, default=0

    Returns
    -------
    LabelSelection

    Raises
    ------
    ValueError
        Fewer than two candidates, too few labelled target rows, unknown metric.
    """
    check_param("select_with_labels", "candidates", candidates,
                "a mapping of at least two names to estimators",
                lambda c: isinstance(c, Mapping) and len(c) >= 2)
    for name in ("n_repeats", "n_splits"):
        value = {"n_repeats": n_repeats, "n_splits": n_splits}[name]
        check_param("select_with_labels", name, value, "an int >= 1" if name == "n_repeats"
                    else "an int >= 2", lambda v, low=1 + (name == "n_splits"):
                    int(v) == v and v >= low)
    check_param("select_with_labels", "confidence", confidence, "a float in (0, 1)",
                lambda v: 0 < v < 1)
    check_param("select_with_labels", "within_se", within_se, "a float >= 0",
                lambda v: float(v) >= 0)
    if not isinstance(target, Domain) or not isinstance(source, Domain):
        raise TypeError("select_with_labels expects source and target Domains.")
    classification = target.is_classification
    allowed = CLASSIFICATION_METRICS if classification else REGRESSION_METRICS
    metric = metric or ("accuracy" if classification else "rmse")
    check_choice("select_with_labels", "metric", metric, allowed)
    if target.n_labeled < 2 * n_splits:
        raise ValueError(
            f"select_with_labels needs at least {2 * n_splits} labelled target rows for "
            f"{n_splits}-fold cross-validation; target {target.name!r} has "
            f"{target.n_labeled}. Label more rows, lower n_splits, or choose with an "
            "unsupervised validator (transferkit.detect.select_model)."
        )
    labelled = np.flatnonzero(target.labeled_mask)
    y = target.labeled().y
    X = np.asarray(target.X)[labelled]
    names = list(candidates)
    rows, repeat_scores, seconds = [], {n: [] for n in names}, {n: [] for n in names}
    test_shares, failed = [], {}
    for repeat in range(int(n_repeats)):
        folds = _folds(y, classification, int(n_splits), random_state + repeat)
        fold_values = {n: [] for n in names}
        for fold, (train, test) in enumerate(folds):
            train_target = _training_target(target, labelled, y, train)
            test_shares.append(len(test) / len(y))
            row = {"repeat": repeat, "fold": fold}
            for name in list(names):
                start = time.perf_counter()
                try:
                    model = clone(candidates[name]).fit(source, train_target)
                except (ValueError, TypeError) as exc:
                    # It cannot learn from some training folds (one class, say), so it
                    # cannot be compared on these labels: left out, loudly.
                    failed[name] = f"repeat {repeat}, fold {fold}: {exc}"
                    names.remove(name)
                    continue
                seconds[name].append(time.perf_counter() - start)
                row[name] = held_out_score(model, X[test], y[test], metric, classification)
                fold_values[name].append((row[name], len(test)))
            rows.append(row)
        for name in names:
            values = np.array([v for v, _ in fold_values[name]])
            sizes = np.array([s for _, s in fold_values[name]])
            repeat_scores[name].append(float(np.nansum(values * sizes) / sizes.sum()))
    if failed:
        warnings.warn(
            "select_with_labels: left out " + "; ".join(
                f"{name!r} (failed on {why})" for name, why in failed.items()),
            TransferWarning, stacklevel=2)
    if len(names) < 2:
        raise ValueError(
            f"select_with_labels: fewer than two candidates could be fitted on every "
            f"training fold ({'; '.join(f'{k}: {v}' for k, v in failed.items())}). Label "
            "more target rows or choose with an unsupervised validator."
        )
    repeat_scores = {n: repeat_scores[n] for n in names}
    seconds = {n: seconds[n] for n in names}
    fold_scores = pd.DataFrame(rows).set_index(["repeat", "fold"])[names]
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    repeats = pd.DataFrame(repeat_scores)
    oriented = sign * repeats
    best_per_repeat = oriented.max(axis=1)
    winners = oriented.eq(best_per_repeat, axis=0)
    win_rate = winners.div(winners.sum(axis=1), axis=0).mean()
    table = pd.DataFrame({
        "mean": repeats.mean(), "std": repeats.std(ddof=1).fillna(0.0),
        "win_rate": win_rate, "fit_seconds": pd.Series({n: float(np.mean(seconds[n]))
                                                        for n in names}),
    })
    table.index.name = "candidate"
    order = _simplicity(table, simplicity)
    table["simplicity"] = [order.index(n) for n in table.index]
    best = str((sign * table["mean"]).idxmax())
    test_share = float(np.mean(test_shares))
    oriented_folds = sign * fold_scores

    def gap(first: str, second: str) -> tuple[float, float, float]:
        return corrected_interval((oriented_folds[first] - oriented_folds[second]).to_numpy(),
                                  test_share, confidence)

    def noise(name: str) -> bool:
        differences = (oriented_folds[best] - oriented_folds[name]).to_numpy()
        se = corrected_se(differences, test_share)
        return not np.isfinite(se) or float(np.nanmean(differences)) <= within_se * se

    within = {n: n == best or noise(n) for n in names}
    table["within_noise"] = pd.Series(within)
    winner = next(n for n in order if within[n])
    others = table.drop(index=winner)
    runner_up = str((sign * others["mean"]).idxmax())
    margin, low, high = gap(winner, runner_up)
    if winner == best:
        reason = (f"{winner!r} has the best mean {metric}"
                  + (f"; every other candidate is more than {within_se:g} standard errors "
                     "worse." if
                     sum(within.values()) == 1 else
                     f", and it is the simplest of the {sum(within.values())} candidates "
                     "within noise of each other."))
    else:
        reason = (f"{best!r} has the best mean {metric}, but {winner!r} is within noise of "
                  f"it ({_describe_gap(gap(best, winner), confidence)}) and simpler, so it is "
                  "preferred.")
    table = table.sort_values("mean", ascending=sign < 0, kind="stable")
    return LabelSelection(
        winner=winner, best_by_mean=best, runner_up=runner_up, metric=metric,
        margin=margin, margin_low=low, margin_high=high, table=table,
        fold_scores=fold_scores, n_labeled=int(len(y)), n_splits=int(n_splits),
        n_repeats=int(n_repeats), confidence=float(confidence), reason=reason,
        details={"simplicity_order": order, "test_share": test_share, "failed": failed,
                 "within_se": float(within_se),
                 "rule": f"simplest candidate whose mean gap to the best is at most "
                         f"{within_se:g} corrected (Nadeau-Bengio) standard errors"},
    )


def _describe_gap(values: tuple[float, float, float], confidence: float) -> str:
    mean, low, high = values
    return f"gap {mean:+.4f}, {confidence:.0%} CI {low:+.4f} to {high:+.4f}"


def _simplicity(table: pd.DataFrame, simplicity: Sequence[str] | None) -> list[str]:
    by_time = list(table.sort_values("fit_seconds", kind="stable").index)
    if simplicity is None:
        return by_time
    unknown = [n for n in simplicity if n not in table.index]
    if unknown:
        raise ValueError(
            f"select_with_labels: simplicity names {unknown} are not candidates "
            f"({list(table.index)})."
        )
    listed = list(dict.fromkeys(simplicity))
    return listed + [n for n in by_time if n not in listed]
