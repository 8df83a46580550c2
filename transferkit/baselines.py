"""The two numbers every transfer must beat: source-only and target-only models.

``compare_baselines`` harmonises a market pair, holds out part of the target market, and
scores on it (with bootstrap confidence intervals) a model trained on the source market
alone, one trained on the labelled target rows alone, and one trained on both pooled.

Examples
--------
>>> from transferkit.datasets import load_stackoverflow
>>> markets = load_stackoverflow(["United States", "Germany"])
>>> result = compare_baselines(markets["United States"], markets["Germany"], n_resamples=50)
>>> sorted(result.table.index)
['pooled', 'source_only', 'target_only']
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge

from transferkit._io import atomic_write_text
from transferkit._validation import check_choice, check_param
from transferkit.domain import Domain
from transferkit.evaluation import bootstrap_scores, flat_scores
from transferkit.exceptions import DomainMismatchError
from transferkit.harmonize import Harmonizer

__all__ = ["BaselineComparison", "compare_baselines", "make_model"]

ModelName = Literal["logistic", "gbm"]
_BASELINES: tuple[str, ...] = ("source_only", "target_only", "pooled")


def make_model(name: ModelName | BaseEstimator, task: str, seed: int = 0) -> BaseEstimator:
    """An unfitted sklearn model for ``task``: a named default or a clone of ``name``.

    ``"logistic"`` is (regularised) logistic / ridge regression, ``"gbm"`` histogram
    gradient boosting.
    """
    if isinstance(name, BaseEstimator):
        return clone(name)
    check_choice("make_model", "name", name, ("logistic", "gbm"))
    if task == "regression":
        if name == "logistic":
            return Ridge(random_state=seed)
        return HistGradientBoostingRegressor(random_state=seed)
    if name == "logistic":
        return LogisticRegression(max_iter=2000, random_state=seed)
    return HistGradientBoostingClassifier(random_state=seed)


@dataclass(frozen=True)
class BaselineComparison:
    """Scores of the baselines on held-out target rows.

    Attributes
    ----------
    table : DataFrame
        One row per baseline (``source_only``, ``target_only``, ``pooled``), one column per
        metric, plus ``<metric>_low`` / ``<metric>_high`` bootstrap bounds.
    source, target : str
        Market names.
    n_source, n_target_train, n_target_test : int
        Labelled rows used for training on each side and held-out target rows.
    primary_metric : str
        The metric the summary leads with.
    details : dict
        Task, model, seed, dropped columns and unseen categories of the harmonisation.
    """

    table: pd.DataFrame
    source: str
    target: str
    n_source: int
    n_target_train: int
    n_target_test: int
    primary_metric: str
    details: Mapping[str, object] = field(default_factory=dict)

    def summary(self) -> str:
        """Plain-language result: which baseline wins on the target market and by how much."""
        metric = self.primary_metric
        higher_is_better = metric not in ("log_loss", "mae", "rmse")
        values = self.table[metric]
        best = values.idxmax() if higher_is_better else values.idxmin()
        lines = [
            f"{self.source} -> {self.target}: {self.n_source} labelled source rows, "
            f"{self.n_target_train} labelled target rows for training, "
            f"{self.n_target_test} held-out target rows.",
        ]
        for name in self.table.index:
            row = self.table.loc[name]
            lines.append(
                f"  {name:<12} {metric} {row[metric]:.3f} "
                f"[{row[metric + '_low']:.3f}, {row[metric + '_high']:.3f}]"
            )
        lines.append(f"Best on the target market by {metric}: {best}.")
        others = [n for n in self.table.index if n != best]
        low, high = self.table.loc[best, metric + "_low"], self.table.loc[best, metric + "_high"]
        overlapping = [n for n in others
                       if self.table.loc[n, metric + "_high"] >= low
                       and self.table.loc[n, metric + "_low"] <= high]
        if overlapping:
            lines.append(
                f"Its 95% interval overlaps {', '.join(overlapping)}: not a clear win on "
                f"{self.n_target_test} held-out rows."
            )
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "target": self.target,
            "n_source": self.n_source,
            "n_target_train": self.n_target_train,
            "n_target_test": self.n_target_test,
            "primary_metric": self.primary_metric,
            "scores": json.loads(self.table.to_json(orient="index")),
            "details": dict(self.details),
        }

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write the result as JSON, atomically (an existing file is only replaced whole)."""
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, default=str))

    def __str__(self) -> str:
        return self.summary()


def compare_baselines(
    source: Domain,
    target: Domain,
    *,
    model: ModelName | BaseEstimator = "logistic",
    n_target_labels: int | None = None,
    test_size: float = 0.3,
    n_resamples: int = 1000,
    seed: int = 0,
    harmonize_options: Mapping[str, object] | None = None,
) -> BaselineComparison:
    """Score source-only, target-only and pooled models on held-out target rows.

    Parameters
    ----------
    source, target : Domain
        Labelled markets (raw columns are harmonised here).
    model : {"logistic", "gbm"} or sklearn estimator, default="logistic"
        The model trained for every baseline (cloned each time).
    n_target_labels : int, optional
        Keep only this many labelled target rows for training (few-label setting);
        all of the training part by default.
    test_size : float, default=0.3
        Share of target rows held out for scoring; never used for training or fitting the
        harmonizer.
    n_resamples : int, default=1000
        Bootstrap resamples for the confidence intervals.
    seed : int, default=0
    harmonize_options : mapping, optional
        ``Harmonizer`` parameters (column renames, currencies, ...).
    """
    check_param("compare_baselines", "test_size", test_size, "a float in (0, 1)",
                lambda v: 0 < v < 1)
    if source.task != target.task and target.task is not None and source.task is not None:
        target = target.with_task(source.task)
    if source.schema.label is None or source.n_labeled == 0:
        raise DomainMismatchError(f"Source {source.name!r} has no labels; baselines need them.")
    if target.schema.label is None or target.n_labeled < 4:
        raise DomainMismatchError(
            f"Target {target.name!r} has {target.n_labeled} labelled rows; scoring needs at "
            "least 4 (some to train on, some held out)."
        )
    source = source.labeled()
    train, test = target.labeled().split(test_size, seed=seed)
    if n_target_labels is not None:
        check_param("compare_baselines", "n_target_labels", n_target_labels,
                    f"an int in [2, {train.n_samples}]",
                    lambda v: int(v) == v and 2 <= v <= train.n_samples)
        train = train.hide_labels(int(n_target_labels), seed=seed).labeled()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        harmonizer = Harmonizer(**dict(harmonize_options or {})).fit(source, train)
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename,
                               warning.lineno)
    source_h = harmonizer.transform(source, side="source")
    train_h = harmonizer.transform(train, side="target")
    test_h = harmonizer.transform(test, side="target")
    fits = {
        "source_only": (source_h.X, source_h.y),
        "target_only": (train_h.X, train_h.y),
        "pooled": (np.vstack([source_h.X, train_h.X]), np.concatenate([source_h.y, train_h.y])),
    }
    classification = source.is_classification
    rows = {}
    for name in _BASELINES:
        X_fit, y_fit = fits[name]
        if classification and len(np.unique(y_fit)) < 2:
            raise DomainMismatchError(
                f"The {name} baseline sees a single class in its training labels; give the "
                "target more labelled rows (n_target_labels) or check the label column."
            )
        estimator = make_model(model, source.task or "binary", seed).fit(X_fit, y_fit)
        if classification:
            proba = _proba_over(estimator, test_h.X, harmonizer.classes_)
            table = bootstrap_scores(test_h.y, proba, classes=list(harmonizer.classes_),
                                     n_resamples=n_resamples, seed=seed)
        else:
            table = bootstrap_scores(test_h.y, estimator.predict(test_h.X),
                                     n_resamples=n_resamples, seed=seed)
        rows[name] = flat_scores(table)
    primary = ("roc_auc" if source.task == "binary" else "accuracy") if classification else "mae"
    return BaselineComparison(
        table=pd.DataFrame.from_dict(rows, orient="index"),
        source=source.name,
        target=target.name,
        n_source=source.n_samples,
        n_target_train=train.n_samples,
        n_target_test=test.n_samples,
        primary_metric=primary,
        details={
            "task": source.task,
            "model": model if isinstance(model, str) else type(model).__name__,
            "seed": seed,
            "dropped_columns": harmonizer.dropped_columns_,
            "unseen_categories": harmonizer.unseen_categories_,
        },
    )


def _proba_over(estimator: BaseEstimator, X: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """``predict_proba`` with columns for every class, zeros for classes the model never saw."""
    proba = estimator.predict_proba(X)
    out = np.zeros((len(X), len(classes)))
    lookup = {c: i for i, c in enumerate(classes)}
    for column, cls in enumerate(estimator.classes_):
        out[:, lookup[cls]] = proba[:, column]
    return out
