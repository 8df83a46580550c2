"""How many target labels do I need? A label-budget curve with confidence intervals.

For each budget K of labelled target rows, the held-out target score of source-only,
target-only and a chosen few-label method, over repeated random draws of the K rows,
with bootstrap intervals over the repeats; and the budget at which target-only alone
would catch up with the method, observed or extrapolated from a power-law fit to the
target-only curve (reported as beyond the available labels when it is).

Examples
--------
>>> import numpy as np
>>> from transferkit import Domain
>>> from transferkit.fewlabel import RegularTransfer
>>> rng = np.random.default_rng(0)
>>> X_s, X_t = rng.normal(size=(300, 3)), rng.normal(size=(200, 3))
>>> source = Domain.from_arrays(X_s, (X_s[:, 0] > 0).astype(int), name="us")
>>> target = Domain.from_arrays(X_t, (X_t[:, 0] + 0.5 * X_t[:, 1] > 0).astype(int), name="de")
>>> curve = label_budget_curve(RegularTransfer(), source, target, budgets=(0, 10, 40),
...                            n_repeats=2)
>>> curve.to_frame().index.tolist()
[0, 10, 40]
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.optimize import curve_fit
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import make_pipeline

from transferkit._sklearn import StableScaler
from transferkit._validation import check_choice, check_param
from transferkit.baselines import make_model
from transferkit.detect._paired import LOWER_IS_BETTER
from transferkit.detect.crossval import held_out_score
from transferkit.domain import Domain
from transferkit.evaluation import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
)

__all__ = ["LabelBudgetCurve", "label_budget_curve"]

MODELS: tuple[str, ...] = ("source_only", "target_only", "method")


class _Baseline(BaseEstimator):
    """Standardised logistic / ridge regression on one market's labelled rows."""

    def __init__(self, side: str = "source") -> None:
        self.side = side

    def fit(self, source: Domain, target: Domain) -> _Baseline:
        rows = (source if self.side == "source" else target).labeled()
        self.model_ = make_pipeline(StableScaler(), make_model("logistic", source.task))
        self.model_.fit(rows.X, rows.y)
        if source.is_classification:
            self.classes_ = np.unique(source.labeled().y)
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        return self.model_.predict(X)

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        full = np.zeros((len(X), len(self.classes_)))
        full[:, np.searchsorted(self.classes_, self.model_.classes_)] = \
            self.model_.predict_proba(X)
        return full


@dataclass(frozen=True)
class LabelBudgetCurve:
    """Held-out target scores against the number of labelled target rows.

    Attributes
    ----------
    table : DataFrame
        Index K; for each of ``source_only``, ``target_only``, ``method``: ``<model>``
        (mean over repeats), ``<model>_low``, ``<model>_high``; plus ``gain`` (method
        minus the better baseline, oriented so > 0 favours the method) with
        ``gain_low`` / ``gain_high``. Target-only and the method are NaN at K = 0.
    scores : DataFrame
        Long format: ``repeat``, ``k``, ``model``, ``score``.
    metric : str
    method_name : str
    catch_up_k : int or None
        Budget at which target-only reaches the method (observed, or extrapolated);
        None when it does not within the fitted curve or cannot be estimated.
    catch_up_note : str
        How ``catch_up_k`` was obtained, in words.
    n_available : int
        Labelled target rows available for training in each repeat.
    n_test : int
        Held-out labelled target rows per repeat.
    confidence : float
    """

    table: pd.DataFrame
    scores: pd.DataFrame
    metric: str
    method_name: str
    catch_up_k: int | None
    catch_up_note: str
    n_available: int
    n_test: int
    confidence: float

    def to_frame(self) -> pd.DataFrame:
        """The per-budget table (a copy)."""
        return self.table.copy()

    def summary(self) -> str:
        """One line per budget and the catch-up estimate."""
        lines = [f"{self.metric} on {self.n_test} held-out target rows (mean over repeats):"]
        for k, row in self.table.iterrows():
            parts = [f"{m} {row[m]:.4f}" for m in MODELS if np.isfinite(row[m])]
            lines.append(f"  K={k:<5} " + ", ".join(parts))
        lines.append(self.catch_up_note)
        return "\n".join(lines)

    def plot(self) -> Any:
        """A matplotlib ``Figure`` of the three curves with their intervals."""
        from matplotlib.figure import Figure

        figure = Figure(figsize=(6.4, 4.0))
        axes = figure.subplots()
        budgets = self.table.index.to_numpy()
        labels = {"source_only": "source-only", "target_only": "target-only",
                  "method": self.method_name}
        for model in MODELS:
            values = self.table[model].to_numpy(dtype=float)
            shown = np.isfinite(values)
            if model == "source_only":
                axes.axhline(np.nanmean(values), color="grey", linestyle="--",
                             label=labels[model])
                continue
            axes.plot(budgets[shown], values[shown], marker="o", label=labels[model])
            axes.fill_between(budgets[shown], self.table[f"{model}_low"].to_numpy()[shown],
                              self.table[f"{model}_high"].to_numpy()[shown], alpha=0.2)
        if self.catch_up_k is not None and self.catch_up_k <= budgets.max():
            axes.axvline(self.catch_up_k, color="black", linestyle=":",
                         label=f"target-only catches up (K={self.catch_up_k})")
        axes.set_xlabel("labelled target rows (K)")
        axes.set_ylabel(self.metric)
        axes.set_title("How many target labels do I need?")
        axes.legend(loc="best", fontsize="small")
        figure.tight_layout()
        return figure


def _default_budgets(n_available: int) -> list[int]:
    budgets, k = [0, 10, 25, 50, 100, 200], 400
    while k < n_available:
        budgets.append(k)
        k *= 2
    kept = [b for b in budgets if b <= n_available]
    if kept[-1] < n_available:
        kept.append(n_available)
    return kept


def _bootstrap(values: np.ndarray, confidence: float, seed: int) -> tuple[float, float]:
    """Percentile interval of the mean over repeats (resampling the repeats)."""
    finite = values[np.isfinite(values)]
    if finite.size < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = finite[rng.integers(0, finite.size, size=(2000, finite.size))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


def _power_law(k: np.ndarray, ceiling: float, scale: float, rate: float) -> np.ndarray:
    return ceiling - scale * k ** (-rate)


def _catch_up(table: pd.DataFrame, sign: float, n_available: int) -> tuple[int | None, str]:
    """Observed or extrapolated budget at which target-only reaches the method."""
    rows = table[table.index > 0]
    target_only = sign * rows["target_only"]
    method = sign * rows["method"]
    reached = rows.index[(target_only >= method).to_numpy()]
    if len(reached):
        k = int(reached[0])
        return k, f"Target-only alone matches the method from K={k} (observed)."
    goal = float(method.iloc[-1])
    if len(rows) < 3:
        return None, "Catch-up not estimable: fewer than 3 budgets with labels."
    k_values = rows.index.to_numpy(dtype=float)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (ceiling, scale, rate), _ = curve_fit(
                _power_law, k_values, target_only.to_numpy(dtype=float),
                p0=(float(target_only.max()) + 0.05, 1.0, 0.5),
                bounds=([-np.inf, 0.0, 0.05], [np.inf, np.inf, 3.0]), maxfev=5000)
    except (RuntimeError, ValueError):
        return None, "Catch-up not estimable: the power-law fit to target-only failed."
    if ceiling <= goal or scale <= 0:
        return None, (
            f"Target-only does not catch up: its fitted ceiling ({sign * ceiling:.4f}) "
            f"is not above the method's score at K={int(k_values[-1])} "
            f"({sign * goal:.4f}); beyond the {n_available} available labels."
        )
    k = int(math.ceil((scale / (ceiling - goal)) ** (1.0 / rate)))
    where = ("beyond" if k > n_available else "within")
    return k, (
        f"Target-only would reach the method's K={int(k_values[-1])} score after about "
        f"{k} labels (power-law extrapolation of the target-only curve; {where} the "
        f"{n_available} available labels; the method itself keeps improving, so this "
        "is a lower bound)."
    )


def label_budget_curve(
    method: Any,
    source: Domain,
    target: Domain,
    *,
    budgets: Sequence[int] | None = None,
    source_only: Any = None,
    target_only: Any = None,
    n_repeats: int = 5,
    test_size: float = 0.3,
    metric: str | None = None,
    method_name: str = "method",
    confidence: float = 0.95,
    random_state: int = 0,
) -> LabelBudgetCurve:
    """Held-out target score of source-only, target-only and ``method`` against K labels.

    Parameters
    ----------
    method : estimator
        Unfitted, with ``fit(source, target)`` (a few-label method); cloned per fit.
    source, target : Domain
        Numeric (harmonised) markets; the target's labelled rows are split into a
        held-out test part and a pool the K training labels are drawn from.
    budgets : sequence of int, optional
        K values; default 0, 10, 25, 50, 100, 200, 400, 800, ... up to the pool size
        (which is included). Budgets above the pool size are an error.
    source_only, target_only : estimator, optional
        Baselines with the same contract; None uses standardised logistic / ridge
        regression on the source rows or on the K target rows.
    n_repeats : int, default=5
        Random test splits and draws of the K rows (seeds ``random_state + r``).
    test_size : float, default=0.3
        Share of the labelled target rows held out in each repeat.
    metric : str, optional
        Default ``"accuracy"`` (classification) or ``"rmse"`` (regression).
    method_name : str, default="method"
        Label of the method in the plot and summary.
    confidence : float, default=0.95
    random_state : int, default=0

    Returns
    -------
    LabelBudgetCurve

    Raises
    ------
    ValueError
        A budget larger than the labelled rows available for training, or bad settings.
    """
    check_param("label_budget_curve", "n_repeats", n_repeats, "an int >= 1",
                lambda v: int(v) == v and v >= 1)
    check_param("label_budget_curve", "test_size", test_size, "a float in (0, 1)",
                lambda v: 0 < v < 1)
    check_param("label_budget_curve", "confidence", confidence, "a float in (0, 1)",
                lambda v: 0 < v < 1)
    if not isinstance(target, Domain) or not isinstance(source, Domain):
        raise TypeError("label_budget_curve expects source and target Domains.")
    if target.n_labeled < 4:
        raise ValueError(
            f"label_budget_curve needs labelled target rows to hold out; target "
            f"{target.name!r} has {target.n_labeled}."
        )
    classification = target.is_classification
    metric = metric or ("accuracy" if classification else "rmse")
    check_choice("label_budget_curve", "metric", metric,
                 CLASSIFICATION_METRICS if classification else REGRESSION_METRICS)
    labelled = target.labeled()
    n_test = max(2, int(round(test_size * labelled.n_samples)))
    n_available = labelled.n_samples - n_test
    chosen = _default_budgets(n_available) if budgets is None else sorted(set(map(int, budgets)))
    too_many = [k for k in chosen if k > n_available or k < 0]
    if too_many:
        raise ValueError(
            f"label_budget_curve: budgets {too_many} exceed the {n_available} labelled "
            f"target rows available for training ({labelled.n_samples} labelled, "
            f"{n_test} held out); use budgets up to {n_available}."
        )
    unlabelled = target.unlabeled() if target.n_labeled < target.n_samples else None
    baselines = {
        "source_only": _Baseline("source") if source_only is None else source_only,
        "target_only": _Baseline("target") if target_only is None else target_only,
    }
    records = []
    for repeat in range(int(n_repeats)):
        seed = random_state + repeat
        pool, test = labelled.split(n_test, seed=seed)
        X_test, y_test = np.asarray(test.X), test.y
        source_model = clone(baselines["source_only"]).fit(source, pool)
        source_score = held_out_score(source_model, X_test, y_test, metric, classification)
        for k in chosen:
            records.append({"repeat": repeat, "k": k, "model": "source_only",
                            "score": source_score})
            if k == 0:
                continue
            train = pool.hide_labels(k, seed=seed)
            if unlabelled is not None:
                train = _with_rows(train, unlabelled)
            for name, estimator in (("target_only", baselines["target_only"]),
                                    ("method", method)):
                model = clone(estimator).fit(source, train)
                records.append({"repeat": repeat, "k": k, "model": name,
                                "score": held_out_score(model, X_test, y_test, metric,
                                                classification)})
    scores = pd.DataFrame(records)
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    wide = scores.pivot_table(index=["k", "repeat"], columns="model", values="score")
    rows = {}
    for k in chosen:
        part = wide.loc[k]
        row: dict[str, float] = {}
        for model in MODELS:
            values = part[model].to_numpy(dtype=float) if model in part else np.array([])
            row[model] = float(np.mean(values)) if values.size else math.nan
            row[f"{model}_low"], row[f"{model}_high"] = _bootstrap(values, confidence, k)
        if k > 0:
            better = np.maximum(sign * part["source_only"], sign * part["target_only"])
            gains = (sign * part["method"] - better).to_numpy(dtype=float)
            row["gain"] = float(np.mean(gains))
            row["gain_low"], row["gain_high"] = _bootstrap(gains, confidence, k + 1)
        else:
            row["gain"] = row["gain_low"] = row["gain_high"] = math.nan
        rows[k] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "k"
    catch_up_k, note = _catch_up(table, sign, n_available)
    return LabelBudgetCurve(table=table, scores=scores, metric=metric,
                            method_name=method_name, catch_up_k=catch_up_k,
                            catch_up_note=note, n_available=int(n_available),
                            n_test=int(n_test), confidence=float(confidence))


def _with_rows(labelled_part: Domain, unlabelled: Domain) -> Domain:
    """One target Domain of the pool (some labelled) plus the market's unlabelled rows."""
    mask = labelled_part.labeled_mask
    y = labelled_part.labeled().y
    numeric = y.dtype.kind in "biuf"
    labels = np.full(labelled_part.n_samples + unlabelled.n_samples, np.nan,
                     dtype=float if numeric else object)
    labels[np.flatnonzero(mask)] = y
    X = np.vstack([np.asarray(labelled_part.X), np.asarray(unlabelled.X)])
    return Domain.from_arrays(X, labels, name=labelled_part.name, task=labelled_part.task,
                              allow_unlabeled=True)
