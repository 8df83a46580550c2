"""Whole-domain shift tests on a shared numeric design, and the features that drive the shift.

Each entry of ``GAP_METRICS`` turns a ``Design`` (both markets' rows as numbers, categorical
columns as integer codes) into one result row: a statistic, a p-value and an effect size.
``gap_report(tests=...)`` runs the named ones; a new test is one function plus one
registration line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from transferkit._registry import Registry
from transferkit.gap._features import FeatureFrames
from transferkit.metrics import classifier_two_sample_test, mmd_test

__all__ = ["GAP_METRICS", "Design", "build_design", "domain_classifier", "shift_drivers"]

GAP_METRICS: Registry[Callable[..., dict]] = Registry("gap metric")
# HistGradientBoosting handles at most 255 categories per column (one bin is for missing).
_MAX_CODES = 254
# Categorical levels one-hot encoded for the kernel test; rarer levels share one column.
_KERNEL_LEVELS = 20


@dataclass(frozen=True)
class Design:
    """Subsampled rows of both markets as numbers (NaN = missing).

    Attributes
    ----------
    source, target : ndarray of shape (n_rows, n_features)
    names : list of str
    categorical : ndarray of bool, shape (n_features,)
        Columns holding integer category codes.
    """

    source: np.ndarray
    target: np.ndarray
    names: list[str]
    categorical: np.ndarray

    def kernel_inputs(self) -> tuple[np.ndarray, np.ndarray]:
        """Standardised numeric columns (pooled mean and sd; missing -> mean, plus a missing
        flag) and one-hot categories, scaled so a changed category moves a row about one sd."""
        blocks_s, blocks_t = [], []
        for j in range(len(self.names)):
            s, t = self.source[:, j], self.target[:, j]
            if self.categorical[j]:
                codes = np.concatenate([s, t])
                levels, counts = np.unique(codes[~np.isnan(codes)], return_counts=True)
                kept = levels[np.argsort(-counts)[:_KERNEL_LEVELS]]
                for block, values in ((blocks_s, s), (blocks_t, t)):
                    onehot = (values[:, None] == kept[None, :]).astype(float)
                    block.append(onehot / np.sqrt(2))
                continue
            # Pooled statistics keep the inputs invariant to which rows are called source,
            # which the permutation test's exactness relies on.
            pooled = np.concatenate([s, t])
            present = pooled[~np.isnan(pooled)]
            centre = float(present.mean()) if present.size else 0.0
            scale = float(present.std()) if present.size > 1 and present.std() > 0 else 1.0
            for block, values in ((blocks_s, s), (blocks_t, t)):
                standardized = np.nan_to_num((values - centre) / scale, nan=0.0)
                block.append(standardized[:, None])
                if np.isnan(s).any() or np.isnan(t).any():
                    block.append(np.isnan(values)[:, None].astype(float))
        return np.hstack(blocks_s), np.hstack(blocks_t)


def _codes(source: pd.Series, target: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    counts = pd.concat([source.astype(object), target.astype(object)]).value_counts()
    mapping = {level: min(i, _MAX_CODES) for i, level in enumerate(counts.index)}

    def encode(values: pd.Series) -> np.ndarray:
        return values.astype(object).map(mapping).to_numpy(dtype=float)

    return encode(source), encode(target)


def build_design(frames: FeatureFrames, max_samples: int | None, random_state: int) -> Design:
    """Both markets' shared features as numbers, at most ``max_samples`` random rows each."""
    rng = np.random.default_rng(random_state)

    def rows(n: int) -> np.ndarray:
        if max_samples is None or n <= max_samples:
            return np.arange(n)
        return np.sort(rng.choice(n, size=max_samples, replace=False))

    index_s, index_t = rows(len(frames.source)), rows(len(frames.target))
    sub_s, sub_t = frames.source.iloc[index_s], frames.target.iloc[index_t]
    names = [*frames.numeric, *frames.categorical]
    columns_s, columns_t = [], []
    for column in frames.numeric:
        columns_s.append(sub_s[column].to_numpy(dtype=float))
        columns_t.append(sub_t[column].to_numpy(dtype=float))
    for column in frames.categorical:
        codes_s, codes_t = _codes(sub_s[column], sub_t[column])
        columns_s.append(codes_s)
        columns_t.append(codes_t)
    categorical = np.array([False] * len(frames.numeric) + [True] * len(frames.categorical))
    return Design(np.column_stack(columns_s), np.column_stack(columns_t), names, categorical)


def domain_classifier(design: Design, random_state: int) -> BaseEstimator:
    """The default domain classifier: gradient boosting with native categorical splits."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    mask = design.categorical if design.categorical.any() else None
    return HistGradientBoostingClassifier(
        max_iter=100, max_leaf_nodes=15, learning_rate=0.1, early_stopping=False,
        categorical_features=mask, random_state=random_state,
    )


@GAP_METRICS.register("classifier")
def _classifier_test(
    design: Design, *, classifier: BaseEstimator | None, random_state: int, n_permutations: int
) -> dict:
    estimator = classifier if classifier is not None else domain_classifier(design, random_state)
    result = classifier_two_sample_test(
        design.source, design.target, classifier=estimator, cv=5,
        n_permutations=n_permutations, random_state=random_state,
    )
    return {
        "test": "classifier", "description": "domain classifier two-sample test (ROC AUC)",
        "statistic": result.auc, "statistic_name": "AUC", "standard_error": result.auc_se,
        "pvalue": result.pvalue, "proxy_a_distance": result.proxy_a_distance,
        "n_source": result.n_source, "n_target": result.n_target,
    }


@GAP_METRICS.register("mmd")
def _mmd_test(
    design: Design, *, classifier: BaseEstimator | None, random_state: int, n_permutations: int
) -> dict:
    source, target = design.kernel_inputs()
    result = mmd_test(source, target, n_permutations=max(n_permutations // 5, 100),
                      max_samples=None, random_state=random_state)
    return {
        "test": "mmd", "description": f"kernel MMD² permutation test (RBF, median heuristic, "
                                      f"{result.method})",
        "statistic": result.statistic, "statistic_name": "MMD²", "standard_error": np.nan,
        "pvalue": result.pvalue, "proxy_a_distance": np.nan,
        "n_source": result.n_source, "n_target": result.n_target,
    }


def shift_drivers(
    design: Design, classifier: BaseEstimator | None, random_state: int, n_repeats: int = 3
) -> pd.DataFrame:
    """Permutation importances of the domain classifier on held-out rows (drop in ROC AUC).

    A feature the classifier leans on to tell the markets apart gets a large drop; the
    standard deviation over ``n_repeats`` shuffles says how stable that is.
    """
    from sklearn.base import clone
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import train_test_split

    X = np.concatenate([design.source, design.target])
    is_target = np.r_[np.zeros(len(design.source), int), np.ones(len(design.target), int)]
    # At most 2,000 held-out rows: the importance's noise is reported as importance_std.
    train, test = train_test_split(np.arange(len(X)), test_size=min(0.3, 2000 / len(X)),
                                   stratify=is_target, random_state=random_state)
    estimator = classifier if classifier is not None else domain_classifier(design, random_state)
    model = clone(estimator).fit(X[train], is_target[train])
    result = permutation_importance(model, X[test], is_target[test], scoring="roc_auc",
                                    n_repeats=n_repeats, random_state=random_state)
    return pd.DataFrame({"importance": result.importances_mean,
                         "importance_std": result.importances_std}, index=design.names)
