"""Regularised transfer: a linear model pulled towards the source model's coefficients.

Chelba & Acero (2006) adapt a maximum-entropy (logistic) model to a new domain by
training it on the few in-domain rows with a Gaussian prior centred on the out-of-domain
model's weights; the ridge version does the same for regression. With a strong pull the
source model is kept; with a weak one the target rows decide. The strength is chosen by
cross-validation on the labelled target rows.

References
----------
Chelba, C. and Acero, A. (2006). Adaptation of maximum entropy capitalizer: little data
can help a lot. Computer Speech & Language, 20(4), 382-399.

Examples
--------
>>> import numpy as np
>>> from transferkit import Domain
>>> rng = np.random.default_rng(0)
>>> X_s, X_t = rng.normal(size=(300, 4)), rng.normal(size=(30, 4))
>>> source = Domain.from_arrays(X_s, X_s @ [1.0, 2.0, 0.0, 0.0], name="us")
>>> target = Domain.from_arrays(X_t, X_t @ [1.0, 2.5, 0.0, 0.0], name="de")
>>> model = RegularTransfer(random_state=0).fit(source, target)
>>> model.predict(X_t[:2]).shape
(2,)
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge

from transferkit._sklearn import StableScaler
from transferkit._validation import check_param
from transferkit.domain import Domain
from transferkit.fewlabel._linear import LinearOutput, fit_ridge, fit_softmax
from transferkit.fewlabel.base import (
    FEWLABEL,
    PENALTIES,
    BaseFewLabel,
    check_pair,
    check_penalties,
    choose_by_cv,
)

__all__ = ["RegularTransfer"]


@FEWLABEL.register("regular_transfer")
class RegularTransfer(LinearOutput, BaseFewLabel):
    """Logistic (softmax) or ridge regression regularised towards the source model.

    Minimises the summed loss on the labelled target rows plus
    ``penalty / 2 * ||theta - theta_source||^2`` over coefficients and intercepts, on
    features standardised over both markets.

    Parameters
    ----------
    penalties : sequence of float, default=(1e4, 1e3, 100, 10, 1, 0.1)
        Candidate strengths of the pull towards the source model, strongest first (ties
        in the inner cross-validation keep the source model).
    source_penalty : float, default=10.0
        L2 strength of the source model (``C = 1 / source_penalty`` for the logistic one,
        ``alpha`` for ridge).
    cv : int, default=3
        Folds of the inner cross-validation on the labelled target rows.
    random_state : int, optional

    Attributes
    ----------
    scaler_ : StableScaler
    source_coef_, coef_ : ndarray of shape (n_features + 1, n_classes) or (n_features + 1,)
        Source model and adapted model; last row / entry is the intercept.
    penalty_ : float
        Chosen strength.
    cv_losses_ : ndarray of shape (n_penalties,)
        Out-of-fold log loss (classification) or squared error per candidate strength.
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    """

    def __init__(self, penalties: tuple[float, ...] = PENALTIES, source_penalty: float = 10.0,
                 cv: int = 3, random_state: int | None = None) -> None:
        self.penalties = penalties
        self.source_penalty = source_penalty
        self.cv = cv
        self.random_state = random_state

    def fit(self, source: Domain, target: Domain) -> RegularTransfer:
        """Fit the source model, then adapt it on the labelled target rows."""
        owner = type(self).__name__
        grid = check_penalties(owner, self.penalties)
        check_param(owner, "source_penalty", self.source_penalty, "a float > 0",
                    lambda v: float(v) > 0)
        pair = check_pair(owner, source, target)
        self.scaler_ = StableScaler().fit(pair.X_all)
        X_source = self.scaler_.transform(pair.X_source)
        X = self.scaler_.transform(pair.X_target)
        if pair.is_classification:
            model = LogisticRegression(C=1.0 / self.source_penalty, max_iter=2000)
            model.fit(X_source, pair.y_source)
            coef = np.vstack([model.coef_.T, model.intercept_[None, :]])
            if len(pair.classes) == 2:
                # sklearn's binary model has one logit; as a softmax it is [0, logit].
                coef = np.hstack([np.zeros_like(coef), coef])
        else:
            model = Ridge(alpha=self.source_penalty).fit(X_source, pair.y_source)
            coef = np.r_[model.coef_, model.intercept_]
        self.source_coef_ = coef

        def fit_rows(penalty: float, rows: np.ndarray) -> np.ndarray:
            if pair.is_classification:
                return fit_softmax(X[rows], pair.index(pair.y_target[rows]),
                                   len(pair.classes), penalty, prior=coef)
            return fit_ridge(X[rows], pair.y_target[rows], penalty, prior=coef)

        def fit_predict(penalty: float, train: np.ndarray, test: np.ndarray) -> np.ndarray:
            return self._output(X[test], fit_rows(penalty, train), pair.is_classification)

        best, self.cv_losses_ = choose_by_cv(owner, grid, fit_predict, pair, self.cv,
                                             self.random_state, default=0)
        self.penalty_ = grid[best]
        self.coef_ = fit_rows(self.penalty_, np.arange(len(X)))
        self._record(pair)
        return self

