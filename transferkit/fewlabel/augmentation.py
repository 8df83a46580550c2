"""Feature augmentation ("frustratingly easy domain adaptation", Daumé III, 2007).

Each feature gets a shared copy and a market-specific copy: source rows become
``[x, x, 0]`` and target rows ``[x, 0, x]``, after standardising ``x`` over both
markets (a zero block must mean "average", not an extreme value). One model trained on
both markets learns what transfers in the shared block and what is specific to the
target in the last one; target rows are predicted as ``[x, 0, x]``. A constant feature
in each copy gives each market its own intercept.

References
----------
Daumé III, H. (2007). Frustratingly easy domain adaptation. ACL, 256-263.

Examples
--------
>>> import numpy as np
>>> from transferkit import Domain
>>> rng = np.random.default_rng(0)
>>> X_s, X_t = rng.normal(size=(200, 3)), rng.normal(size=(30, 3))
>>> source = Domain.from_arrays(X_s, (X_s[:, 0] > 0).astype(int), name="us")
>>> target = Domain.from_arrays(X_t, (X_t[:, 1] > 0).astype(int), name="jp")
>>> FeatureAugmentation().fit(source, target).predict_proba(X_t[:2]).shape
(2, 2)
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression, Ridge

from transferkit._sklearn import StableScaler
from transferkit.domain import Domain
from transferkit.fewlabel.base import (
    FEWLABEL,
    BaseFewLabel,
    EstimatorOutput,
    check_pair,
    seeded,
)

__all__ = ["FeatureAugmentation"]


def augment(X: np.ndarray, market: str) -> np.ndarray:
    """``[x, x, 0]`` for source rows, ``[x, 0, x]`` for target rows, ``x`` with a 1 appended.

    The appended constant gives each market its own intercept (Daumé's augmented bias),
    so a shift of the label's level between markets is one coefficient.
    """
    X = np.hstack([X, np.ones((X.shape[0], 1))])
    zeros = np.zeros_like(X)
    return np.hstack([X, X, zeros] if market == "source" else [X, zeros, X])


@FEWLABEL.register("feature_augmentation")
class FeatureAugmentation(EstimatorOutput, BaseFewLabel):
    """Daumé's augmented feature space: shared, source-only and target-only copies.

    Parameters
    ----------
    estimator : estimator, optional
        Any sklearn classifier or regressor, fitted on the augmented standardised
        features; None uses logistic regression (``C = 0.1``) or ridge (``alpha = 10``).
    random_state : int, optional

    Attributes
    ----------
    scaler_ : StableScaler
        Fitted on every row of both markets, applied before augmenting.
    estimator_ : estimator
        Fitted on the augmented rows of both markets.
    classes_, n_features_in_
    """

    def __init__(self, estimator: BaseEstimator | None = None,
                 random_state: int | None = None) -> None:
        self.estimator = estimator
        self.random_state = random_state

    def fit(self, source: Domain, target: Domain) -> FeatureAugmentation:
        """Fit one model on the augmented source and labelled target rows."""
        pair = check_pair(type(self).__name__, source, target)
        if self.estimator is not None:
            base = self.estimator
        elif pair.is_classification:
            base = LogisticRegression(C=0.1, max_iter=2000)
        else:
            base = Ridge(alpha=10.0)
        self.scaler_ = StableScaler().fit(pair.X_all)
        X = np.vstack([augment(self.scaler_.transform(pair.X_source), "source"),
                       augment(self.scaler_.transform(pair.X_target), "target")])
        y = np.r_[pair.y_source, pair.y_target]
        self.estimator_ = seeded(base, self.random_state).fit(X, y)
        self._record(pair)
        return self

    def _estimator_inputs(self, X: np.ndarray) -> np.ndarray:
        return augment(self.scaler_.transform(X), "target")
