"""Density ratio from a probabilistic domain classifier.

A classifier trained to tell target rows (1) from source rows (0) gives
``P(target | x) / P(source | x) = (n_t p_t(x)) / (n_s p_s(x))``, so the density ratio
is the classifier's odds times the prior correction ``n_s / n_t`` (Bickel et al., 2009).
The odds are only as good as the probabilities, so a classifier that is not fitted with
the log loss is calibrated first.
"""

from __future__ import annotations

import numbers
from typing import Literal

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from transferkit._validation import check_choice, check_param
from transferkit.reweight.base import REWEIGHTERS, BaseReweighter

__all__ = ["DiscriminativeRatio"]


@REWEIGHTERS.register("discriminative")
class DiscriminativeRatio(BaseReweighter):
    """Importance weights from a calibrated source-vs-target classifier.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``, default=None
        Any sklearn classifier. ``None`` uses a standardised ``LogisticRegression(C=1)``.
    calibration : {"auto", "sigmoid", "isotonic", "none"}, default="auto"
        Calibration of the classifier by ``CalibratedClassifierCV`` (3 folds). ``"auto"``
        calibrates every classifier except the default logistic regression, whose
        probabilities are already fitted by log loss.
    max_proba : float, default=0.999
        ``P(target | x)`` is clipped to ``[1 - max_proba, max_proba]`` so that a source row
        the classifier is certain about cannot get an infinite weight.
    power : float in [0, 1], default=1.0
        Flattening exponent α: weights ``w ** α`` (see ``BaseReweighter``).
    clip : float > 1, optional
        Largest weight, as a multiple of the mean weight.
    random_state : int, optional
        Seeds the calibration folds and any randomised classifier (its ``random_state``
        parameter, when it has one); nothing else changes.

    Attributes
    ----------
    classifier_ : classifier
        The fitted (and calibrated) domain classifier.
    prior_ratio_ : float
        ``n_source / n_target``.
    weights_ : ndarray of shape (n_source,)
        Mean-1 weights of the fitted source rows.

    References
    ----------
    Bickel, S., Brückner, M., Scheffer, T. (2009). Discriminative learning under covariate
    shift. JMLR 10.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(size=(80, 2)), rng.normal(size=(40, 2)) + 1]
    >>> is_target = np.r_[np.zeros(80), np.ones(40)]
    >>> weighter = DiscriminativeRatio().fit(X, is_target)
    >>> round(float(weighter.weights_.mean()), 6)
    1.0
    """

    def __init__(
        self,
        estimator: BaseEstimator | None = None,
        *,
        calibration: Literal["auto", "sigmoid", "isotonic", "none"] = "auto",
        max_proba: float = 0.999,
        power: float = 1.0,
        clip: float | None = None,
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.calibration = calibration
        self.max_proba = max_proba
        self.power = power
        self.clip = clip
        self.random_state = random_state

    def _fit_ratio(self, X_source: np.ndarray, X_target: np.ndarray) -> None:
        check_choice("DiscriminativeRatio", "calibration", self.calibration,
                     ("auto", "sigmoid", "isotonic", "none"))
        check_param("DiscriminativeRatio", "max_proba", self.max_proba, "a float in (0.5, 1)",
                    lambda v: isinstance(v, numbers.Real) and 0.5 < v < 1)
        if self.estimator is None:
            classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        else:
            if not hasattr(self.estimator, "predict_proba"):
                raise TypeError(
                    f"DiscriminativeRatio needs a classifier with predict_proba; got "
                    f"{type(self.estimator).__name__}. Use e.g. LogisticRegression or "
                    "HistGradientBoostingClassifier."
                )
            classifier = clone(self.estimator)
            if self.random_state is not None and "random_state" in classifier.get_params():
                classifier.set_params(random_state=self.random_state)
        method = self.calibration
        if method == "auto":
            method = "none" if self.estimator is None else "sigmoid"
        if method != "none":
            folds = StratifiedKFold(3, shuffle=self.random_state is not None,
                                    random_state=self.random_state)
            classifier = CalibratedClassifierCV(classifier, method=method, cv=folds)
        X = np.concatenate([X_source, X_target])
        is_target = np.r_[np.zeros(len(X_source)), np.ones(len(X_target))]
        self.classifier_ = classifier.fit(X, is_target)
        self.prior_ratio_ = len(X_source) / len(X_target)

    def _ratio(self, X: np.ndarray) -> np.ndarray:
        proba = self.classifier_.predict_proba(X)[:, 1]
        proba = np.clip(proba, 1 - self.max_proba, self.max_proba)
        return self.prior_ratio_ * proba / (1 - proba)
