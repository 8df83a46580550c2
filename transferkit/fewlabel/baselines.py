"""The two reference points as few-label methods: source-only and target-only.

They follow the same contract as the transfer methods, so the label-aware choice
(``detect.select_with_labels``) can pick them: when no transfer beats them within noise,
the simpler baseline is served.

Examples
--------
>>> import numpy as np
>>> from transferkit import Domain
>>> rng = np.random.default_rng(0)
>>> X_s, X_t = rng.normal(size=(200, 3)), rng.normal(size=(40, 3)) + 0.5
>>> source = Domain.from_arrays(X_s, (X_s[:, 0] > 0).astype(int), name="us")
>>> target = Domain.from_arrays(X_t, (X_t[:, 0] > 0.5).astype(int), name="jp")
>>> TargetOnly(random_state=0).fit(source, target).predict(X_t[:4]).shape
(4,)
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from transferkit._sklearn import StableScaler
from transferkit.domain import Domain
from transferkit.fewlabel._linear import LinearOutput, fit_ridge, fit_softmax
from transferkit.fewlabel.base import (
    FEWLABEL,
    PENALTIES,
    BaseFewLabel,
    EstimatorOutput,
    check_pair,
    check_penalties,
    choose_by_cv,
    default_estimator,
    seeded,
)

__all__ = ["SourceOnly", "TargetOnly"]

@FEWLABEL.register("source_only")
class SourceOnly(EstimatorOutput, BaseFewLabel):
    """A model trained on the labelled source rows alone; target labels are ignored.

    Parameters
    ----------
    estimator : estimator, optional
        Any sklearn classifier or regressor; None uses standardisation + logistic
        regression (``C = 0.1``) or ridge (``alpha = 10``).
    random_state : int, optional
        Seeds the estimator's ``random_state`` parameters.

    Attributes
    ----------
    estimator_ : estimator
        Fitted on the source rows.
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    """

    def __init__(self, estimator: BaseEstimator | None = None,
                 random_state: int | None = None) -> None:
        self.estimator = estimator
        self.random_state = random_state

    def fit(self, source: Domain, target: Domain) -> SourceOnly:
        """Fit on the source rows (the target is only checked for compatibility)."""
        pair = check_pair(type(self).__name__, source, target, need_target_labels=False)
        base = default_estimator(pair.task, 10.0) if self.estimator is None else self.estimator
        self.estimator_ = seeded(base, self.random_state).fit(pair.X_source, pair.y_source)
        self._record(pair)
        return self



@FEWLABEL.register("target_only")
class TargetOnly(LinearOutput, BaseFewLabel):
    """L2 logistic (softmax) or ridge regression on the labelled target rows alone.

    The L2 strength is chosen by cross-validation on the target rows. The label set is
    the source's, so classes absent from the few target labels keep a small probability.

    Parameters
    ----------
    penalties : sequence of float, default=(1e4, 1e3, 100, 10, 1, 0.1)
        Candidate L2 strengths (on standardised features, summed loss).
    cv : int, default=3
        Folds of the inner cross-validation.
    random_state : int, optional

    Attributes
    ----------
    scaler_ : StableScaler
        Fitted on every row of both markets.
    coef_ : ndarray of shape (n_features + 1, n_classes) or (n_features + 1,)
        Last row / entry: intercept.
    penalty_ : float
        The chosen L2 strength.
    cv_losses_ : ndarray of shape (n_penalties,)
    """

    def __init__(self, penalties: tuple[float, ...] = PENALTIES, cv: int = 3,
                 random_state: int | None = None) -> None:
        self.penalties = penalties
        self.cv = cv
        self.random_state = random_state

    def fit(self, source: Domain, target: Domain) -> TargetOnly:
        """Tune the L2 strength on the labelled target rows, then fit on all of them."""
        owner = type(self).__name__
        grid = check_penalties(owner, self.penalties)
        pair = check_pair(owner, source, target)
        self.scaler_ = StableScaler().fit(pair.X_all)
        X = self.scaler_.transform(pair.X_target)

        def fit_rows(penalty: float, rows: np.ndarray) -> np.ndarray:
            if pair.is_classification:
                return fit_softmax(X[rows], pair.index(pair.y_target[rows]),
                                   len(pair.classes), penalty)
            return fit_ridge(X[rows], pair.y_target[rows], penalty)

        def fit_predict(penalty: float, train: np.ndarray, test: np.ndarray) -> np.ndarray:
            return self._output(X[test], fit_rows(penalty, train), pair.is_classification)

        best, self.cv_losses_ = choose_by_cv(owner, grid, fit_predict, pair, self.cv,
                                             self.random_state, default=len(grid) // 2)
        self.penalty_ = grid[best]
        self.coef_ = fit_rows(self.penalty_, np.arange(len(X)))
        self._record(pair)
        return self

