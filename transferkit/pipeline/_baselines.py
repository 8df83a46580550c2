"""The two reference methods every transfer is judged against, on the Domain face.

``SourceOnlyModel`` reuses the source market's model as it is; ``TargetOnlyModel`` learns
from the labelled target rows alone. Both wrap any scikit-learn estimator and take
``fit(source, target)`` like every other method in the factory.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from transferkit import Domain
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(40, 2)); y = (X[:, 0] > 0).astype(int)
>>> us, ca = Domain.from_arrays(X, y, name="us"), Domain.from_arrays(X + 1, y, name="ca")
>>> SourceOnlyModel(LogisticRegression()).fit(us, ca).predict(X[:3]).tolist()
[1, 1, 0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils import Tags, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from transferkit.domain import Domain

__all__ = ["SourceOnlyModel", "TargetOnlyModel", "feature_rows"]


def feature_rows(data: Domain | ArrayLike) -> np.ndarray:
    """The numeric feature matrix of a (featurized) Domain, or ``data`` as an array."""
    if isinstance(data, Domain):
        X = data.X
        if not isinstance(X, np.ndarray):
            raise TypeError(
                f"Domain {data.name!r} has categorical features; featurize it first (a "
                "TransferPipeline does this for raw rows)."
            )
        return X
    return np.asarray(data)


def _estimator_has(method: str) -> Any:
    def check(self: _OneMarketModel) -> bool:
        return hasattr(getattr(self, "estimator_", self.estimator), method)

    return check


class _OneMarketModel(MetaEstimatorMixin, BaseEstimator):
    """A scikit-learn estimator trained on the labelled rows of one of the two markets."""

    def __init__(self, estimator: BaseEstimator) -> None:
        self.estimator = estimator

    def _training_rows(self, source: Domain, target: Domain | None) -> Domain:
        raise NotImplementedError

    def fit(self, source: Domain, target: Domain | None = None) -> _OneMarketModel:
        """Fit a clone of ``estimator`` on the labelled rows this model learns from."""
        if not isinstance(source, Domain):
            raise TypeError(f"{type(self).__name__}.fit expects Domains; got "
                            f"{type(source).__name__} as the source.")
        rows = self._training_rows(source, target)
        X, y = feature_rows(rows), rows.y
        if rows.is_classification and np.unique(y).size < 2:
            raise ValueError(
                f"{type(self).__name__}: the labelled rows of {rows.name!r} hold a single "
                f"class {np.unique(y).tolist()}; a classifier needs at least two."
            )
        self.estimator_ = clone(self.estimator).fit(X, y)
        if hasattr(self.estimator_, "classes_"):
            self.classes_ = self.estimator_.classes_
        self.n_features_in_ = X.shape[1]
        self.n_training_rows_ = rows.n_samples
        return self

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X: Domain | ArrayLike) -> np.ndarray:
        """Class probabilities, columns in ``classes_`` order."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(feature_rows(X))

    def predict(self, X: Domain | ArrayLike) -> np.ndarray:
        """Predicted labels or values."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(feature_rows(X))

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: Domain | ArrayLike) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(feature_rows(X))

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        base = get_tags(self.estimator)
        tags.estimator_type = base.estimator_type
        tags.classifier_tags = base.classifier_tags
        tags.regressor_tags = base.regressor_tags
        return tags


class SourceOnlyModel(_OneMarketModel):
    """``estimator`` trained on the source market's labelled rows; the target is ignored.

    Parameters
    ----------
    estimator : scikit-learn estimator

    Attributes
    ----------
    estimator_ : estimator
    classes_ : ndarray (classifiers)
    """

    def _training_rows(self, source: Domain, target: Domain | None) -> Domain:
        return source.labeled()


class TargetOnlyModel(_OneMarketModel):
    """``estimator`` trained on the target market's labelled rows alone.

    Parameters
    ----------
    estimator : scikit-learn estimator

    Raises
    ------
    ValueError
        At fit, when the target has no labelled rows.
    """

    def _training_rows(self, source: Domain, target: Domain | None) -> Domain:
        if target is None or target.schema.label is None or target.n_labeled == 0:
            name = "none" if target is None else repr(target.name)
            raise ValueError(
                f"TargetOnlyModel needs labelled target rows; target {name} has none. Label "
                "some target rows, or use a method that needs no target labels."
            )
        return target.labeled()
