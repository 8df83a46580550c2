"""How much each feature's shift matters to a source model.

For one feature at a time, source rows get that feature moved to the target market's
distribution (numeric: quantile mapping, which keeps each row's rank; categorical: a draw
from the target's category shares) while every other feature stays put. The mean change
in the model's output is the feature's impact: a large, certain shift the model ignores
scores near 0; a small shift in a feature the model leans on scores high.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from transferkit.domain import Domain

__all__ = ["model_impact"]


def _moved(values: np.ndarray, target_values: np.ndarray, numeric: bool,
           rng: np.random.Generator) -> np.ndarray:
    present = target_values[~pd.isna(target_values)]
    if present.size == 0:
        return values
    if not numeric:
        return rng.choice(present, size=values.size)
    ranks = pd.Series(values.astype(float)).rank(pct=True).to_numpy()
    ranks = np.nan_to_num(ranks, nan=0.5)
    return np.quantile(present.astype(float), np.clip(ranks, 0, 1))


def _outputs(model: BaseEstimator, X: np.ndarray | pd.DataFrame) -> np.ndarray:
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(X), dtype=float)
    return np.asarray(model.predict(X), dtype=float).reshape(len(X), -1)


def model_impact(
    source: Domain, target: Domain, model: BaseEstimator, features: list[str], *,
    max_rows: int = 2000, random_state: int = 0,
) -> pd.Series:
    """Mean change of ``model``'s output on source rows when one feature takes the target's
    distribution, per feature.

    Classifiers: mean total-variation change of the predicted class probabilities (0 to 1).
    Regressors: mean absolute change of the prediction over the sd of the source predictions.
    """
    rng = np.random.default_rng(random_state)
    rows = np.arange(len(source))
    if rows.size > max_rows:
        rows = np.sort(rng.choice(rows, size=max_rows, replace=False))
    X = source.subset(rows).X
    X_target = target.X
    baseline = _outputs(model, X)
    classifier = hasattr(model, "predict_proba")
    scale = 1.0 if classifier else float(baseline.std()) or 1.0
    names = source.feature_names
    impact = {}
    for feature in features:
        if isinstance(X, pd.DataFrame):
            moved = X.copy()
            numeric = pd.api.types.is_numeric_dtype(X[feature]) and not isinstance(
                X[feature].dtype, pd.CategoricalDtype)
            values = _moved(X[feature].to_numpy(), np.asarray(X_target[feature]), numeric, rng)
            if isinstance(X[feature].dtype, pd.CategoricalDtype):
                values = pd.Categorical(values, categories=X[feature].cat.categories)
            moved[feature] = values
        else:
            j = names.index(feature)
            moved = X.copy()
            target_column = X_target[:, j] if isinstance(X_target, np.ndarray) \
                else X_target[feature].to_numpy(dtype=float)
            moved[:, j] = _moved(X[:, j], target_column, True, rng)
        change = np.abs(_outputs(model, moved) - baseline)
        impact[feature] = float(0.5 * change.sum(axis=1).mean() if classifier
                                else change.mean() / scale)
    return pd.Series(impact, name="model_impact", dtype=float)
