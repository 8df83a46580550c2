"""Small helpers for scikit-learn estimators that several method families share.

Examples
--------
>>> from sklearn.linear_model import LogisticRegression
>>> model = fit_weighted(LogisticRegression(), [[0.0], [1.0]], [0, 1], [1.0, 2.0])
>>> model.predict([[0.9]]).tolist()
[1]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import has_fit_parameter

__all__ = ["fit_weighted", "sample_weight_params"]


def sample_weight_params(estimator: BaseEstimator, sample_weight: np.ndarray) -> dict[str, Any]:
    """``fit`` keyword arguments that deliver ``sample_weight`` to ``estimator``'s learner.

    For a ``Pipeline`` the weights go to its final step (``"model__sample_weight"``),
    recursively for nested pipelines.

    Raises
    ------
    TypeError
        When the final learner's ``fit`` takes no ``sample_weight``.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.linear_model import LogisticRegression
    >>> list(sample_weight_params(make_pipeline(StandardScaler(), LogisticRegression()), [1.0]))
    ['logisticregression__sample_weight']
    """
    prefix, final = "", estimator
    while isinstance(final, Pipeline):
        name, final = final.steps[-1]
        prefix += f"{name}__"
    if final is None or final == "passthrough" or not has_fit_parameter(final, "sample_weight"):
        raise TypeError(
            f"{type(final).__name__}.fit does not accept sample_weight, so importance weights "
            "cannot be applied. Use a learner that does (LogisticRegression, "
            "HistGradientBoostingClassifier, Ridge, ...)."
        )
    return {f"{prefix}sample_weight": sample_weight}


def fit_weighted(estimator: BaseEstimator, X: ArrayLike, y: ArrayLike,
                 sample_weight: ArrayLike) -> BaseEstimator:
    """``estimator.fit(X, y)`` with ``sample_weight`` delivered to its final learner."""
    weights = np.asarray(sample_weight, dtype=float)
    return estimator.fit(X, y, **sample_weight_params(estimator, weights))
