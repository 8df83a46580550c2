"""Label shift: the class mix changes between markets while ``p(x | y)`` stays put.

When Japanese customers buy a different mix of categories but each category looks the
same in both shops, covariate weights are the wrong tool: the right correction is a
weight per class, ``p_target(y) / p_source(y)``. Two estimators recover the target class
priors from unlabelled target rows and a source classifier:

- ``BBSE`` (black-box shift estimation, Lipton et al. 2018) solves ``C w = mu`` with the
  source confusion matrix ``C`` and the target's predicted-label distribution ``mu``.
- ``MLLS`` (maximum-likelihood label shift, Saerens et al. 2002) runs EM on the target
  posteriors; with bias-corrected temperature scaling (Alexandari et al. 2020) of the
  source classifier it is the most accurate estimator in their comparison.

Both expose ``classes_``, ``source_priors_``, ``target_priors_``, ``class_weights_`` and
a ``predict_proba`` adjusted to the target priors.

Examples
--------
>>> import numpy as np
>>> from transferkit import Domain
>>> rng = np.random.default_rng(0)
>>> def market(n, share):
...     y = (rng.random(n) < share).astype(int)
...     return Domain.from_arrays(rng.normal(size=(n, 2)) + 2.5 * y[:, None], y)
>>> est = MLLS().fit(market(600, 0.5), market(600, 0.2))
>>> round(float(est.target_priors_[1]), 1)
0.2
"""

from __future__ import annotations

import numbers
import warnings
from abc import abstractmethod
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize, nnls
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.utils.validation import check_is_fitted, validate_data

from transferkit._sklearn import StableScaler
from transferkit._validation import check_choice, check_finite, check_param
from transferkit.domain import Domain
from transferkit.exceptions import TransferWarning
from transferkit.metrics import chi2_homogeneity

__all__ = ["BBSE", "MAX_CONDITION_NUMBER", "MLLS", "LabelShiftEstimator"]

_EPS = 1e-12
MAX_CONDITION_NUMBER = 30.0
"""Above this condition number of BBSE's confusion matrix its prior estimate is unreliable:
errors in the target's predicted-label mix are amplified up to this factor in the priors (a
binary classifier with 55 % accuracy already gives 10). The gap report uses the same value."""


class LabelShiftEstimator(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Base class: a source classifier plus estimated target class priors.

    Subclasses implement ``_estimate(proba_holdout, y_holdout, proba_target)`` returning
    the target priors. The base class fits (or takes) the classifier, computes held-out
    source predictions and the target predictions, and adjusts ``predict_proba``.
    """

    def __init__(
        self,
        estimator: BaseEstimator | None = None,
        *,
        prefit: bool = False,
        cv: int = 5,
        random_state: int | None = 0,
    ) -> None:
        self.estimator = estimator
        self.prefit = prefit
        self.cv = cv
        self.random_state = random_state

    @abstractmethod
    def _estimate(
        self, proba_source: np.ndarray, y_source: np.ndarray, proba_target: np.ndarray
    ) -> np.ndarray:
        """Target priors from held-out source and target probabilities."""

    def _calibrate(self, proba: np.ndarray) -> np.ndarray:
        """Probabilities as the prior estimator sees them (MLLS recalibrates)."""
        return proba

    def fit(
        self,
        X: ArrayLike | Domain,
        y: ArrayLike | Domain | None = None,
        *,
        X_target: ArrayLike | None = None,
    ) -> LabelShiftEstimator:
        """Fit (or take) the source classifier and estimate the target class priors.

        Parameters
        ----------
        X : array-like of shape (n_source, n_features), or Domain
            Labelled source rows, or the source Domain (its labelled rows are used).
        y : array-like of shape (n_source,), or Domain
            Source labels, or the target Domain (its labels, if any, are ignored).
        X_target : array-like of shape (n_target, n_features)
            Unlabelled target rows (array face only).

        With ``prefit=True`` the given source rows must not be the classifier's training
        rows: they are the held-out rows the confusion matrix / calibration is learned on.
        Otherwise the classifier is cross-fitted (``cv`` folds): the fold models give the
        held-out source predictions and, averaged, the target predictions used to estimate
        the priors; ``estimator_`` is then refitted on every source row for
        ``predict_proba``.

        Returns
        -------
        self
        """
        name = type(self).__name__
        check_param(name, "cv", self.cv, "an int >= 2",
                    lambda v: isinstance(v, numbers.Integral) and v >= 2)
        if isinstance(X, Domain):
            if not isinstance(y, Domain):
                raise TypeError(
                    f"{name}.fit got a source Domain but {type(y).__name__} as target; pass "
                    "fit(source, target) with two Domains or fit(X, y, X_target=...)."
                )
            source, target = X, y
            if not source.is_classification:
                raise ValueError(
                    f"{name} needs a classification task; source {source.name!r} is "
                    f"{source.task}."
                )
            X, y, X_target = source.labeled().X, source.labeled().y, target.X
        if X_target is None:
            raise ValueError(
                f"{name}.fit needs unlabelled target rows: fit(X, y, X_target=...) or "
                "fit(source, target) with two Domains."
            )
        if y is None:
            raise ValueError(f"{name}.fit needs the source labels y.")
        X, y = validate_data(self, X, y, ensure_all_finite=False, dtype=np.float64)
        check_finite(X, f"{name}: source X")
        X_target = validate_data(self, X_target, reset=False, ensure_all_finite=False,
                                 dtype=np.float64)
        check_finite(X_target, f"{name}: X_target")
        classes, counts = np.unique(y, return_counts=True)
        if classes.size < 2:
            raise ValueError(
                f"{name}.fit got source labels with 1 class ({classes.tolist()}); label "
                "shift needs at least two classes."
            )
        if self.prefit:
            check_is_fitted(self.estimator)
            self.estimator_ = self.estimator
            self.classes_ = np.asarray(self.estimator_.classes_)
            unknown = np.setdiff1d(classes, self.classes_)
            if unknown.size:
                raise ValueError(
                    f"{name}: source labels {unknown.tolist()} are not among the prefit "
                    f"classifier's classes {self.classes_.tolist()}."
                )
            proba_source = self.estimator_.predict_proba(X)
            proba_target = self.estimator_.predict_proba(X_target)
            self._one_fold_target = proba_target
        else:
            base = self.estimator
            if base is None:
                base = make_pipeline(StableScaler(), LogisticRegression(C=0.1, max_iter=1000))
            if counts.min() < self.cv:
                raise ValueError(
                    f"{name}: the smallest source class has {counts.min()} rows, fewer than "
                    f"cv={self.cv} folds; pass fewer folds or more labelled rows."
                )
            self.estimator_ = clone(base).fit(X, y)
            self.classes_ = np.asarray(self.estimator_.classes_)
            proba_source, proba_target = self._cross_fit(base, X, y, X_target)
        index = np.searchsorted(self.classes_, y)
        source_counts = np.bincount(index, minlength=self.classes_.size)
        if (source_counts == 0).any():
            missing = self.classes_[source_counts == 0].tolist()
            raise ValueError(
                f"{name}: classes {missing} have no source rows, so their prior ratio is "
                "undefined; give labelled source rows of every class."
            )
        self.source_priors_ = source_counts / source_counts.sum()
        k = self.classes_.size
        self.shift_pvalue_ = chi2_homogeneity(
            np.bincount(np.argmax(proba_source, axis=1), minlength=k),
            np.bincount(np.argmax(self._one_fold_target, axis=1), minlength=k))[1]
        del self._one_fold_target
        self._fit_calibration(proba_source, index)
        proba_source = self._calibrate(proba_source)
        proba_target = self._calibrate(proba_target)
        priors = np.clip(self._estimate(proba_source, index, proba_target), 0.0, None)
        self.target_priors_ = priors / priors.sum()
        self.class_weights_ = self.target_priors_ / self.source_priors_
        return self

    def _cross_fit(
        self, base: BaseEstimator, X: np.ndarray, y: np.ndarray, X_target: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Held-out source probabilities and the matching target probabilities.

        Each fold's model predicts its held-out source rows and every target row; the
        target probabilities are averaged over the folds. Statistics of the source
        (confusion matrix, calibration) and of the target then come from the same models:
        the model refitted on all rows is more confident than the fold models, and mixing
        the two biases the prior estimate.
        """
        folds = StratifiedKFold(int(self.cv), shuffle=True, random_state=self.random_state)
        proba_source = np.zeros((len(X), self.classes_.size))
        proba_target = np.zeros((len(X_target), self.classes_.size))
        # Each target row is also predicted by one fold model picked at random, so that
        # under "no shift" its prediction is exchangeable with the held-out source ones
        # (the fold average is smoother than any single fold model): the BBSD test.
        one_fold = np.zeros_like(proba_target)
        assignment = np.random.default_rng(self.random_state).integers(0, int(self.cv),
                                                                       len(X_target))
        for fold, (train, test) in enumerate(folds.split(X, y)):
            model = clone(base).fit(X[train], y[train])
            columns = np.searchsorted(self.classes_, model.classes_)
            proba_source[np.ix_(test, columns)] = model.predict_proba(X[test])
            proba = model.predict_proba(X_target)
            proba_target[:, columns] += proba / int(self.cv)
            mine = assignment == fold
            one_fold[np.ix_(mine, columns)] = proba[mine]
        self._one_fold_target = one_fold
        return proba_source, proba_target

    def _fit_calibration(self, proba: np.ndarray, y_index: np.ndarray) -> None:
        """Learn a recalibration of held-out source probabilities (none by default)."""

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities adjusted to the estimated target priors.

        ``p_target(y | x) ∝ p_source(y | x) * target_prior(y) / source_prior(y)``.
        """
        check_is_fitted(self, "class_weights_")
        X = validate_data(self, X, reset=False, ensure_all_finite=False, dtype=np.float64)
        check_finite(X, f"{type(self).__name__}.predict_proba: X")
        proba = self._calibrate(self.estimator_.predict_proba(X)) * self.class_weights_
        return proba / np.maximum(proba.sum(axis=1, keepdims=True), _EPS)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Most probable class under the target priors."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def sample_weight_for(self, y: ArrayLike) -> np.ndarray:
        """Label-shift importance weights ``class_weights_[y]`` for labelled source rows.

        Use them to retrain any model for the target market:
        ``model.fit(X_source, y_source, sample_weight=est.sample_weight_for(y_source))``.
        """
        check_is_fitted(self, "class_weights_")
        y = np.asarray(y)
        index = np.searchsorted(self.classes_, y)
        index = np.clip(index, 0, self.classes_.size - 1)
        unknown = self.classes_[index] != y
        if unknown.any():
            raise ValueError(
                f"{type(self).__name__}: labels {np.unique(y[unknown]).tolist()[:5]} are not "
                f"among the fitted classes {self.classes_.tolist()}."
            )
        return self.class_weights_[index]


class BBSE(LabelShiftEstimator):
    """Black-box shift estimation of target class priors from a confusion matrix.

    Under label shift, the target's distribution of *predicted* labels is
    ``mu = C w`` where ``C[i, j] = P_source(prediction = i, y = j)`` and
    ``w = p_target(y) / p_source(y)``. BBSE estimates ``C`` on held-out source rows and
    ``mu`` on the target, then solves for ``w`` by non-negative least squares (the plain
    inverse of the paper, made robust to a noisy ``C``).

    Parameters
    ----------
    estimator : classifier with ``predict_proba``, default=None
        Source classifier; ``None`` uses a standardised ``LogisticRegression(C=0.1)``.
    prefit : bool, default=False
        Use ``estimator`` as already fitted; the rows passed to ``fit`` then serve as the
        held-out source data for ``C``.
    cv : int, default=5
        Folds for the held-out source predictions when the classifier is fitted here.
    confusion : {"hard", "soft"}, default="hard"
        ``"hard"`` counts predicted labels (the paper's BBSE-hard); ``"soft"`` uses the
        predicted probabilities (BBSE-soft), which is less noisy with few rows.
    random_state : int or None, default=0
        Seed of the cross-fitting folds.

    Attributes
    ----------
    estimator_ : classifier
    classes_ : ndarray of shape (n_classes,)
    source_priors_, target_priors_ : ndarray of shape (n_classes,)
    class_weights_ : ndarray of shape (n_classes,)
        ``target_priors_ / source_priors_``.
    confusion_matrix_ : ndarray of shape (n_classes, n_classes)
        Joint ``P_source(prediction = i, y = j)``.
    condition_number_ : float
        Of ``confusion_matrix_``: how much noise in the target's predicted-label mix is
        amplified in the priors. Above 30 a ``TransferWarning`` says the estimate is
        unreliable.
    shift_pvalue_ : float
        p-value of the BBSD test (Lipton et al. 2018): a chi-squared test that held-out
        source rows and target rows have the same distribution of predicted labels. Small
        means the target differs (label shift, or covariate shift the classifier sees);
        under no shift it is uniform, unlike the prior estimate, which is biased upward in
        total variation.

    References
    ----------
    Lipton, Z., Wang, Y.-X., Smola, A. (2018). Detecting and Correcting for Label Shift with
    Black Box Predictors. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> y_s = rng.integers(0, 2, 800)
    >>> y_t = (rng.random(800) < 0.8).astype(int)
    >>> X_s = rng.normal(size=(800, 1)) + 3 * y_s[:, None]
    >>> X_t = rng.normal(size=(800, 1)) + 3 * y_t[:, None]
    >>> round(float(BBSE().fit(X_s, y_s, X_target=X_t).target_priors_[1]), 1)
    0.8
    """

    def __init__(
        self,
        estimator: BaseEstimator | None = None,
        *,
        prefit: bool = False,
        cv: int = 5,
        confusion: Literal["hard", "soft"] = "hard",
        random_state: int | None = 0,
    ) -> None:
        super().__init__(estimator, prefit=prefit, cv=cv, random_state=random_state)
        self.confusion = confusion

    def _estimate(
        self, proba_source: np.ndarray, y_source: np.ndarray, proba_target: np.ndarray
    ) -> np.ndarray:
        check_choice("BBSE", "confusion", self.confusion, ("hard", "soft"))
        k = self.classes_.size
        if self.confusion == "hard":
            predicted = np.eye(k)[np.argmax(proba_source, axis=1)]
            mu = np.eye(k)[np.argmax(proba_target, axis=1)].mean(axis=0)
        else:
            predicted = proba_source
            mu = proba_target.mean(axis=0)
        onehot = np.eye(k)[y_source]
        self.confusion_matrix_ = predicted.T @ onehot / len(y_source)
        self.condition_number_ = float(np.linalg.cond(self.confusion_matrix_))
        if self.condition_number_ > MAX_CONDITION_NUMBER:
            warnings.warn(
                f"BBSE: the source confusion matrix is nearly singular (condition number "
                f"{self.condition_number_:.3g}); the classifier barely separates some classes, "
                "so the estimated target priors are unreliable. Use a better classifier or "
                "MLLS.",
                TransferWarning,
                stacklevel=3,
            )
        weights, _ = nnls(self.confusion_matrix_, mu)
        return weights * self.source_priors_


class MLLS(LabelShiftEstimator):
    """Maximum-likelihood target class priors by EM (Saerens et al.), with BCTS calibration.

    EM alternates between re-weighting the source posteriors of the target rows by
    ``pi_target / pi_source`` and setting ``pi_target`` to their mean. It needs calibrated
    posteriors, so by default the source classifier is recalibrated on held-out source rows
    with bias-corrected temperature scaling (one temperature and one bias per class).

    Parameters
    ----------
    estimator : classifier with ``predict_proba``, default=None
        Source classifier; ``None`` uses a standardised ``LogisticRegression(C=0.1)``.
    prefit : bool, default=False
        Use ``estimator`` as already fitted; the rows passed to ``fit`` are held-out source
        rows used for calibration.
    cv : int, default=5
        Folds for the held-out source predictions when the classifier is fitted here.
    calibration : {"bcts", "none"}, default="bcts"
        Bias-corrected temperature scaling of the classifier, or trust it as is.
    max_iter : int, default=1000
    tol : float, default=1e-8
        EM stops when the priors move less than this (max absolute change).
    random_state : int or None, default=0
        Seed of the cross-fitting folds.

    Attributes
    ----------
    estimator_ : classifier
    classes_ : ndarray of shape (n_classes,)
    source_priors_, target_priors_, class_weights_ : ndarray of shape (n_classes,)
    temperature_ : float
    bias_ : ndarray of shape (n_classes,)
        Calibration parameters (1 and 0 without calibration).
    n_iter_ : int
        EM iterations run.
    shift_pvalue_ : float
        p-value of the BBSD test (Lipton et al. 2018): a chi-squared test that held-out
        source rows and target rows have the same distribution of predicted labels. Small
        means the target differs (label shift, or covariate shift the classifier sees);
        under no shift it is uniform, unlike the prior estimate, which is biased upward in
        total variation.

    References
    ----------
    Saerens, M., Latinne, P., Decaestecker, C. (2002). Adjusting the outputs of a classifier
    to new a priori probabilities: a simple procedure. Neural Computation 14(1).
    Alexandari, A., Kundaje, A., Shrikumar, A. (2020). Maximum likelihood with bias-corrected
    calibration is hard-to-beat at label shift adaptation. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> y_s = rng.integers(0, 2, 800)
    >>> y_t = (rng.random(800) < 0.3).astype(int)
    >>> X_s = rng.normal(size=(800, 1)) + 3 * y_s[:, None]
    >>> X_t = rng.normal(size=(800, 1)) + 3 * y_t[:, None]
    >>> round(float(MLLS().fit(X_s, y_s, X_target=X_t).target_priors_[1]), 1)
    0.3
    """

    def __init__(
        self,
        estimator: BaseEstimator | None = None,
        *,
        prefit: bool = False,
        cv: int = 5,
        calibration: Literal["bcts", "none"] = "bcts",
        max_iter: int = 1000,
        tol: float = 1e-8,
        random_state: int | None = 0,
    ) -> None:
        super().__init__(estimator, prefit=prefit, cv=cv, random_state=random_state)
        self.calibration = calibration
        self.max_iter = max_iter
        self.tol = tol

    def _fit_calibration(self, proba: np.ndarray, y_index: np.ndarray) -> None:
        check_choice("MLLS", "calibration", self.calibration, ("bcts", "none"))
        check_param("MLLS", "max_iter", self.max_iter, "an int >= 1",
                    lambda v: isinstance(v, numbers.Integral) and v >= 1)
        check_param("MLLS", "tol", self.tol, "a float > 0",
                    lambda v: isinstance(v, numbers.Real) and v > 0)
        k = self.classes_.size
        self.temperature_, self.bias_ = 1.0, np.zeros(k)
        if self.calibration == "none":
            return
        logits = np.log(np.clip(proba, _EPS, 1.0))

        def nll(params: np.ndarray) -> tuple[float, np.ndarray]:
            inv_t, bias = params[0], params[1:]
            logp = log_softmax(logits * inv_t + bias, axis=1)
            loss = -logp[np.arange(len(y_index)), y_index].mean()
            residual = softmax(logits * inv_t + bias, axis=1)
            residual[np.arange(len(y_index)), y_index] -= 1.0
            residual /= len(y_index)
            grad = np.r_[(residual * logits).sum(), residual.sum(axis=0)]
            return float(loss), grad

        result = minimize(nll, np.r_[1.0, np.zeros(k)], jac=True, method="L-BFGS-B",
                          bounds=[(1e-3, None)] + [(None, None)] * k)
        self.temperature_ = float(1.0 / result.x[0])
        self.bias_ = result.x[1:]

    def _calibrate(self, proba: np.ndarray) -> np.ndarray:
        if self.temperature_ == 1.0 and not self.bias_.any():
            return proba
        logits = np.log(np.clip(proba, _EPS, 1.0))
        return softmax(logits / self.temperature_ + self.bias_, axis=1)

    def _estimate(
        self, proba_source: np.ndarray, y_source: np.ndarray, proba_target: np.ndarray
    ) -> np.ndarray:
        # The calibrated posteriors encode the held-out source label mix, which is the prior
        # EM divides out.
        base = self.source_priors_
        priors = base.copy()
        for iteration in range(1, int(self.max_iter) + 1):
            self.n_iter_ = iteration
            posterior = proba_target * (priors / base)
            posterior /= np.maximum(posterior.sum(axis=1, keepdims=True), _EPS)
            updated = posterior.mean(axis=0)
            converged = np.abs(updated - priors).max() < self.tol
            priors = updated
            if converged:
                break
        else:
            warnings.warn(
                f"MLLS: EM did not converge in {self.max_iter} iterations; raise max_iter.",
                TransferWarning,
                stacklevel=3,
            )
        return priors
