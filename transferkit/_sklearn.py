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
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import has_fit_parameter

__all__ = ["StableScaler", "fit_weighted", "sample_weight_params"]


class StableScaler(StandardScaler):
    """``StandardScaler`` that leaves (nearly) constant columns unscaled.

    A column whose standard deviation on the fitted rows is below ``rtol`` times
    ``max(1, |mean|)`` is constant up to rounding: scikit-learn would divide it by that
    rounding noise, so a column constant in the source market but varying in the target
    (blank image borders, a flag one market never sets) would reach the model multiplied by
    a million. Such columns are centred and keep scale 1 instead.

    Examples
    --------
    >>> X = np.array([[0.5, 1.0], [0.5 + 1e-9, 3.0]])
    >>> StableScaler().fit(X).scale_.tolist()
    [1.0, 1.0]
    >>> float(StableScaler().fit(X).transform([[2.5, 2.0]])[0, 0]) < 3
    True
    """

    def __init__(self, *, copy: bool = True, with_mean: bool = True, with_std: bool = True,
                 rtol: float = 1e-4) -> None:
        super().__init__(copy=copy, with_mean=with_mean, with_std=with_std)
        self.rtol = rtol

    def fit(self, X: ArrayLike, y: Any = None, sample_weight: ArrayLike | None = None,
            ) -> StableScaler:
        super().fit(X, y, sample_weight=sample_weight)
        if self.scale_ is not None:
            mean = np.abs(self.mean_) if self.mean_ is not None else 0.0
            constant = np.sqrt(self.var_) < self.rtol * np.maximum(1.0, mean)
            self.scale_ = np.where(constant, 1.0, self.scale_)
        return self


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
