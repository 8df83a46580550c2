"""Stacking: the source model's output as an offset and a feature of a target model.

A source model is trained on the source rows; the target model is a penalised linear
model on the labelled target rows whose linear predictor starts from the source model's
log-probabilities (classification) or prediction (regression), and which also sees that
output as a feature, so it can rescale the source model's confidence and correct it
with the raw features. With a strong penalty it serves the source model unchanged; the
penalty is chosen by cross-validation on the target rows.

Examples
--------
>>> import numpy as np
>>> from transferkit import Domain
>>> rng = np.random.default_rng(0)
>>> X_s, X_t = rng.normal(size=(300, 3)), rng.normal(size=(30, 3))
>>> source = Domain.from_arrays(X_s, X_s @ [1.0, 1.0, 0.0], name="us")
>>> target = Domain.from_arrays(X_t, X_t @ [1.0, 1.0, 0.0] + 2.0, name="de")
>>> model = SourceStacking(random_state=0).fit(source, target)
>>> bool(abs(np.mean(model.predict(X_t) - target.y)) < 0.5)
True
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from transferkit._sklearn import StableScaler
from transferkit.domain import Domain
from transferkit.fewlabel._linear import fit_ridge, fit_softmax, softmax_proba
from transferkit.fewlabel.base import (
    FEWLABEL,
    PENALTIES,
    BaseFewLabel,
    check_pair,
    check_penalties,
    choose_by_cv,
    default_estimator,
    seeded,
)

__all__ = ["SourceStacking"]
_EPS = 1e-6


@FEWLABEL.register("stacking")
class SourceStacking(BaseFewLabel):
    """A target model on top of the source model's output (offset + feature).

    Parameters
    ----------
    source_estimator : estimator, optional
        Any sklearn classifier (with ``predict_proba``) or regressor; None uses
        standardisation + logistic regression (``C = 0.1``) or ridge (``alpha = 10``).
    penalties : sequence of float, default=(1e4, 1e3, 100, 10, 1, 0.1)
        Candidate L2 strengths of the correction, strongest first.
    cv : int, default=3
        Folds of the inner cross-validation on the labelled target rows.
    random_state : int, optional

    Attributes
    ----------
    source_estimator_ : estimator
        Fitted on the source rows.
    scaler_ : StableScaler
        Standardises the raw features (fitted on every row of both markets).
    coef_ : ndarray
        Correction coefficients over ``[scaled x, source output]`` plus intercept.
    penalty_ : float
    cv_losses_ : ndarray of shape (n_penalties,)
    classes_, n_features_in_
    """

    def __init__(self, source_estimator: BaseEstimator | None = None,
                 penalties: tuple[float, ...] = PENALTIES, cv: int = 3,
                 random_state: int | None = None) -> None:
        self.source_estimator = source_estimator
        self.penalties = penalties
        self.cv = cv
        self.random_state = random_state

    def _source_output(self, X: np.ndarray) -> np.ndarray:
        if self.task_ == "regression":
            return self.source_estimator_.predict(X)[:, None]
        proba = self.source_estimator_.predict_proba(X)
        return np.log(np.clip(proba, _EPS, 1.0))

    def fit(self, source: Domain, target: Domain) -> SourceStacking:
        """Fit the source model, then the correction on the labelled target rows."""
        owner = type(self).__name__
        grid = check_penalties(owner, self.penalties)
        pair = check_pair(owner, source, target)
        base = (default_estimator(pair.task, 10.0) if self.source_estimator is None
                else self.source_estimator)
        self.source_estimator_ = seeded(base, self.random_state)
        self.source_estimator_.fit(pair.X_source, pair.y_source)
        self._record(pair)
        if pair.is_classification and not np.array_equal(self.source_estimator_.classes_,
                                                         pair.classes):
            raise ValueError(
                f"{owner}: the source estimator's classes {self.source_estimator_.classes_!r} "
                f"differ from the source labels {pair.classes!r}."
            )
        self.scaler_ = StableScaler().fit(pair.X_all)
        offset = self._source_output(pair.X_target)
        Z = np.hstack([self.scaler_.transform(pair.X_target), offset])

        def fit_rows(penalty: float, rows: np.ndarray) -> np.ndarray:
            if pair.is_classification:
                return fit_softmax(Z[rows], pair.index(pair.y_target[rows]),
                                   len(pair.classes), penalty, offset=offset[rows])
            return fit_ridge(Z[rows], pair.y_target[rows], penalty, offset=offset[rows, 0])

        def fit_predict(penalty: float, train: np.ndarray, test: np.ndarray) -> np.ndarray:
            return self._combine(Z[test], offset[test], fit_rows(penalty, train))

        best, self.cv_losses_ = choose_by_cv(owner, grid, fit_predict, pair, self.cv,
                                             self.random_state, default=0)
        self.penalty_ = grid[best]
        self.coef_ = fit_rows(self.penalty_, np.arange(len(Z)))
        return self

    def _combine(self, Z: np.ndarray, offset: np.ndarray, coef: np.ndarray) -> np.ndarray:
        if self.task_ == "regression":
            return offset[:, 0] + Z @ coef[:-1] + coef[-1]
        return softmax_proba(Z, coef, offset=offset)

    def _predict_output(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "coef_")
        offset = self._source_output(X)
        return self._combine(np.hstack([self.scaler_.transform(X), offset]), offset, self.coef_)
