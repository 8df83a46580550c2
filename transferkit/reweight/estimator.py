"""Train any scikit-learn model on importance-weighted source rows.

``ReweightedEstimator(estimator, weighter)`` fits the weighter on the two markets,
then the base estimator on the labelled source rows with ``sample_weight`` routed to
wherever it belongs (the last step of a ``Pipeline``, however nested). It is itself an
sklearn classifier or regressor, so it clones, pickles and tunes in ``GridSearchCV``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.utils import Tags, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from transferkit._sklearn import sample_weight_params
from transferkit.domain import Domain
from transferkit.reweight.base import BaseReweighter
from transferkit.reweight.diagnostics import WeightReport, check_weights, weight_report
from transferkit.reweight.discriminative import DiscriminativeRatio
from transferkit.reweight.label_shift import LabelShiftEstimator

__all__ = ["ReweightedEstimator", "sample_weight_params"]


def _base_has(method: str) -> Callable[[ReweightedEstimator], bool]:
    def check(self: ReweightedEstimator) -> bool:
        inner = self.estimator if self.estimator is not None else self.base_estimator
        target = getattr(self, "estimator_", inner)
        return hasattr(target, method)

    return check


class ReweightedEstimator(MetaEstimatorMixin, BaseEstimator):
    """Fit a weighter on source vs target, then a model on weighted source rows.

    Parameters
    ----------
    estimator : estimator
        Any sklearn classifier or regressor (or ``Pipeline``) whose final step takes
        ``sample_weight`` (scikit-learn's name for the inner model since 1.2).
    weighter : BaseReweighter or LabelShiftEstimator, optional
        ``None`` uses ``DiscriminativeRatio()``. A covariate reweighter weights rows by
        ``p_t(x) / p_s(x)``; a label-shift estimator (``BBSE``, ``MLLS``) by
        ``p_t(y) / p_s(y)``. When ``fit`` gets no target rows, ``weighter`` must be
        already fitted (on the full source vs target), and its ``compute_weights`` gives
        the weights of the rows passed to ``fit``. Inside ``GridSearchCV`` or
        ``cross_validate``, which clone every parameter, wrap the fitted weighter in
        ``sklearn.frozen.FrozenEstimator`` so that the clones keep it fitted.
    base_estimator : estimator, optional
        Deprecated alias of ``estimator``; it warns and will be removed.

    Attributes
    ----------
    estimator_ : estimator
        The fitted base estimator.
    weighter_ : estimator
        The fitted weighter (a clone when fitted here).
    sample_weight_ : ndarray of shape (n_source,)
        Weights the base estimator was trained with.
    classes_ : ndarray
        For classifiers.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from transferkit import Domain
    >>> rng = np.random.default_rng(0)
    >>> X_s, X_t = rng.normal(size=(100, 2)), rng.normal(size=(80, 2)) + 1
    >>> source = Domain.from_arrays(X_s, (X_s[:, 0] > 0.5).astype(int), name="us")
    >>> target = Domain.from_arrays(X_t, name="jp")
    >>> model = ReweightedEstimator(LogisticRegression()).fit(source, target)
    >>> model.predict(X_t[:3]).shape
    (3,)
    """

    def __init__(
        self,
        estimator: BaseEstimator | None = None,
        weighter: BaseReweighter | LabelShiftEstimator | None = None,
        *,
        base_estimator: BaseEstimator | str = "deprecated",
    ) -> None:
        self.estimator = estimator
        self.weighter = weighter
        self.base_estimator = base_estimator

    def _base(self) -> BaseEstimator:
        """``estimator``, or the deprecated ``base_estimator`` with a FutureWarning."""
        if not (isinstance(self.base_estimator, str) and self.base_estimator == "deprecated"):
            if self.estimator is not None:
                raise ValueError("ReweightedEstimator got both estimator and base_estimator; "
                                 "pass estimator only.")
            warnings.warn("ReweightedEstimator(base_estimator=...) is deprecated; use "
                          "estimator=... (scikit-learn's name).", FutureWarning, stacklevel=3)
            return self.base_estimator
        if self.estimator is None:
            raise ValueError("ReweightedEstimator needs an estimator, e.g. "
                             "ReweightedEstimator(LogisticRegression(), KMM()).")
        return self.estimator

    def fit(
        self,
        X: ArrayLike | Domain,
        y: ArrayLike | Domain | None = None,
        *,
        X_target: ArrayLike | None = None,
    ) -> ReweightedEstimator:
        """Fit the weighter (unless prefitted) and the weighted base estimator.

        Parameters
        ----------
        X : array-like of shape (n_source, n_features), or Domain
            Labelled source rows, or the source Domain (its labelled rows are used).
        y : array-like of shape (n_source,), or Domain
            Source labels, or the target Domain (features only are used).
        X_target : array-like of shape (n_target, n_features), optional
            Unlabelled target rows (array face). Without them, ``weighter`` must be fitted.

        Returns
        -------
        self
        """
        if isinstance(X, Domain):
            if not isinstance(y, Domain):
                raise TypeError(
                    "ReweightedEstimator.fit got a source Domain but "
                    f"{type(y).__name__} as target; pass fit(source, target)."
                )
            labelled = X.labeled()
            X, y, X_target = labelled.X, labelled.y, y.X
        if y is None:
            raise ValueError("ReweightedEstimator.fit needs the source labels y.")
        X_arr = np.asarray(X, dtype=float) if not hasattr(X, "iloc") else X
        weighter = DiscriminativeRatio() if self.weighter is None else self.weighter
        if X_target is not None:
            if isinstance(weighter, FrozenEstimator):
                weighter = weighter.estimator
            self.weighter_ = clone(weighter)
            if isinstance(self.weighter_, LabelShiftEstimator):
                self.weighter_.fit(X_arr, y, X_target=X_target)
                weights = self.weighter_.sample_weight_for(y)
            else:
                X_stack = np.concatenate([np.asarray(X_arr, dtype=float),
                                          np.asarray(X_target, dtype=float)])
                is_target = np.r_[np.zeros(len(X_arr), dtype=int),
                                  np.ones(len(X_stack) - len(X_arr), dtype=int)]
                weights = self.weighter_.fit(X_stack, is_target).weights_
        else:
            try:
                check_is_fitted(weighter)
            except NotFittedError as exc:
                raise ValueError(
                    "ReweightedEstimator.fit got no target rows and an unfitted weighter. "
                    "Pass X_target=... (or fit(source, target) with Domains), or a weighter "
                    "already fitted on source vs target."
                ) from exc
            self.weighter_ = weighter
            inner = weighter.estimator if isinstance(weighter, FrozenEstimator) else weighter
            if isinstance(inner, LabelShiftEstimator):
                weights = inner.sample_weight_for(y)
            else:
                weights = inner.compute_weights(X_arr)
        self.sample_weight_ = check_weights(weights, "importance weights")
        self.estimator_ = clone(self._base())
        self.estimator_.fit(X_arr, y, **sample_weight_params(self.estimator_, self.sample_weight_))
        if hasattr(self.estimator_, "classes_"):
            self.classes_ = self.estimator_.classes_
        if hasattr(self.estimator_, "n_features_in_"):
            self.n_features_in_ = self.estimator_.n_features_in_
        return self

    def weight_report(self) -> WeightReport:
        """Diagnostics of the weights the base estimator was trained with."""
        check_is_fitted(self, "sample_weight_")
        return weight_report(self.sample_weight_, method=type(self.weighter_).__name__,
                             clip=getattr(self.weighter_, "clip", None),
                             power=getattr(self.weighter_, "power", None))

    @available_if(_base_has("predict"))
    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predictions of the weighted base estimator."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    @available_if(_base_has("predict_proba"))
    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities of the weighted base estimator."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    @available_if(_base_has("decision_function"))
    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Decision function of the weighted base estimator."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(X)

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """The base estimator's default score (accuracy or R^2)."""
        check_is_fitted(self, "estimator_")
        return float(self.estimator_.score(X, y, sample_weight=sample_weight))

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        base = get_tags(self.estimator if self.estimator is not None else self.base_estimator)
        tags.estimator_type = base.estimator_type
        tags.classifier_tags = base.classifier_tags
        tags.regressor_tags = base.regressor_tags
        tags.input_tags = base.input_tags
        return tags
