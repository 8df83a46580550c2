"""The few-label contract: checks of the market pair, inner cross-validation, prediction.

Every few-label method is a scikit-learn estimator with ``fit(source, target)``: the
source market fully labelled, the target market holding some labelled rows (and maybe
unlabelled ones), both numeric (harmonised) Domains. ``predict`` / ``predict_proba``
take arrays or Domains. Hyperparameters are chosen by cross-validation inside the
labelled target rows only, with the source rows always in training.

Examples
--------
>>> sorted(FEWLABEL)[:3]
['feature_augmentation', 'pooled', 'regular_transfer']
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils.validation import check_is_fitted

from transferkit._registry import Registry
from transferkit._sklearn import StableScaler
from transferkit._validation import check_array_2d, check_param
from transferkit.domain import Domain
from transferkit.exceptions import DomainMismatchError, TransferWarning

__all__ = [
    "FEWLABEL",
    "PENALTIES",
    "BaseFewLabel",
    "EstimatorOutput",
    "MarketPair",
    "check_pair",
    "check_penalties",
    "choose_by_cv",
    "default_estimator",
    "estimator_output",
    "expand_proba",
    "inner_splits",
    "seeded",
]

FEWLABEL: Registry[type] = Registry("few-label method")
PENALTIES: tuple[float, ...] = (1e4, 1e3, 1e2, 10.0, 1.0, 0.1)
"""Default grid of L2 strengths, strongest (most conservative) first."""
# Probabilities are clipped before the log loss that tunes hyperparameters.
_EPS = 1e-12


@dataclass(frozen=True)
class MarketPair:
    """The arrays a few-label method trains on, checked once.

    ``classes`` is the sorted label set of the source (the model's classes); ``y_*_index``
    are positions in it. Regression pairs have ``classes = None``.
    """

    X_source: np.ndarray
    y_source: np.ndarray
    X_target: np.ndarray
    y_target: np.ndarray
    X_unlabeled: np.ndarray
    task: str
    classes: np.ndarray | None

    @property
    def is_classification(self) -> bool:
        return self.classes is not None

    def index(self, y: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.classes, y)

    @property
    def X_all(self) -> np.ndarray:
        """Every row of both markets (labelled or not), for label-free statistics."""
        return np.vstack([self.X_source, self.X_target, self.X_unlabeled])


def _numeric(domain: Domain, role: str, owner: str) -> np.ndarray:
    if not isinstance(domain, Domain):
        raise TypeError(
            f"{owner}.fit expects fit(source: Domain, target: Domain); the {role} is a "
            f"{type(domain).__name__}. Build it with Domain.from_arrays or Domain.from_frame."
        )
    X = domain.X
    if not isinstance(X, np.ndarray) or X.ndim != 2:
        raise TypeError(
            f"{owner}: the {role} Domain {domain.name!r} has non-numeric or non-tabular "
            "features; harmonize the pair first (transferkit.harmonize) or encode them."
        )
    return np.asarray(X, dtype=float)


def _finite_labels(y: np.ndarray, domain: Domain, owner: str) -> np.ndarray:
    values = np.asarray(y, dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(
            f"{owner}: the regression labels of Domain {domain.name!r} hold NaN or infinite "
            f"values in {int(bad.sum())} labelled rows; drop or fix those rows."
        )
    return values


def check_pair(
    owner: str, source: Domain, target: Domain, *, need_target_labels: bool = True
) -> MarketPair:
    """Validate a (source, target) pair for a few-label method and return its arrays.

    Raises
    ------
    TypeError
        Not Domains, or features that are not numeric.
    ValueError
        No labelled target rows, a one-class labelled target, target labels the source
        never has, different tasks, NaN/inf regression labels, different feature counts.
    """
    X_all_source = _numeric(source, "source", owner)
    X_all_target = _numeric(target, "target", owner)
    if X_all_source.shape[1] != X_all_target.shape[1]:
        raise DomainMismatchError(
            f"{owner}: source {source.name!r} has {X_all_source.shape[1]} features but target "
            f"{target.name!r} has {X_all_target.shape[1]}; harmonize the pair first."
        )
    if source.n_labeled == 0:
        raise ValueError(
            f"{owner}: the source Domain {source.name!r} has no labelled rows; a few-label "
            "method learns from a labelled source market."
        )
    if target.n_labeled == 0 and need_target_labels:
        raise ValueError(
            f"{owner}: the target Domain {target.name!r} has no labelled rows; few-label "
            "methods need some (label a few target rows, or use a label-free method from "
            "transferkit.reweight / transferkit.align)."
        )
    if target.task is not None and source.task != target.task:
        raise DomainMismatchError(
            f"{owner}: the source {source.name!r} is a {source.task} task but the target "
            f"{target.name!r} is {target.task}; pass task=... when building the Domains."
        )
    if target.n_labeled == 0 and target.task is None:
        target = target.with_task(source.task)
    source_mask, target_mask = source.labeled_mask, target.labeled_mask
    labelled_source = source.labeled()
    X_source, X_target = X_all_source[source_mask], X_all_target[target_mask]
    X_unlabeled = X_all_target[~target_mask]
    y_target_raw = target.labeled().y if target.n_labeled else np.array([])
    if not source.is_classification:
        return MarketPair(X_source, _finite_labels(labelled_source.y, source, owner), X_target,
                          _finite_labels(y_target_raw, target, owner), X_unlabeled,
                          "regression", None)
    y_source, y_target = labelled_source.y, y_target_raw
    classes = np.unique(y_source)
    target_classes = np.unique(y_target)
    if target_classes.size < 2 and need_target_labels:
        raise ValueError(
            f"{owner}: the {target.n_labeled} labelled rows of target {target.name!r} all "
            f"have the label {target_classes[0]!r}; a classifier needs labelled target rows "
            "of at least two classes. Label more target rows."
        )
    if classes.size < 2:
        raise ValueError(
            f"{owner}: every labelled source row of {source.name!r} has the label "
            f"{classes[0]!r}; the source market needs at least two classes."
        )
    unseen = np.setdiff1d(target_classes, classes)
    if unseen.size:
        raise DomainMismatchError(
            f"{owner}: target {target.name!r} has labels {unseen.tolist()} that the source "
            f"{source.name!r} never has (source classes: {classes.tolist()}); labels that "
            "exist in one market only cannot be transferred. Map them onto shared labels "
            "or drop those rows."
        )
    return MarketPair(X_source, y_source, X_target, y_target, X_unlabeled, source.task, classes)


def check_penalties(owner: str, penalties: object) -> tuple[float, ...]:
    """The ``penalties`` grid as floats, or the house ``ValueError``."""
    check_param(owner, "penalties", penalties, "a non-empty sequence of floats > 0",
                lambda v: len(v) > 0 and all(float(p) > 0 for p in v))
    return tuple(float(p) for p in penalties)


def inner_splits(
    y: np.ndarray, classification: bool, n_splits: int, random_state: int | None
) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Folds of the labelled target rows for hyperparameter tuning, or None if too few.

    Stratified for classification with as many folds as the rarest class allows (at
    least 2); None when a class has a single labelled row or fewer than 4 rows exist.
    """
    n = len(y)
    if n < 4:
        return None
    if classification:
        _, counts = np.unique(y, return_counts=True)
        folds = min(n_splits, int(counts.min()))
        if folds < 2:
            return None
        splitter = StratifiedKFold(folds, shuffle=True, random_state=random_state)
        return list(splitter.split(np.zeros(n), y))
    splitter = KFold(min(n_splits, n // 2), shuffle=True, random_state=random_state)
    return list(splitter.split(np.zeros(n)))


def choose_by_cv(
    owner: str,
    grid: Sequence[object],
    fit_predict: Callable[[object, np.ndarray, np.ndarray], np.ndarray],
    pair: MarketPair,
    n_splits: int,
    random_state: int | None,
    default: int,
) -> tuple[int, np.ndarray]:
    """Index of the grid value with the best out-of-fold score on the labelled target rows.

    ``fit_predict(value, train, test)`` trains with the source rows plus the target rows
    ``train`` and returns probabilities (classification) or predictions for rows ``test``.
    The score is the log loss (classification) or squared error (regression) of the
    pooled out-of-fold predictions; ties go to the earlier grid value, so grids list the
    most conservative value first. Without enough rows for folds, ``default`` is used
    with a ``TransferWarning``.
    """
    splits = inner_splits(pair.y_target, pair.is_classification, n_splits, random_state)
    if splits is None:
        warnings.warn(
            f"{owner}: too few labelled target rows ({len(pair.y_target)}) to tune by "
            f"cross-validation; using {grid[default]!r}.", TransferWarning, stacklevel=3,
        )
        return default, np.full(len(grid), np.nan)
    losses = np.empty(len(grid))
    for g, value in enumerate(grid):
        total = 0.0
        for train, test in splits:
            output = fit_predict(value, train, test)
            if pair.is_classification:
                rows = np.arange(len(test))
                total -= float(np.sum(np.log(np.clip(
                    output[rows, pair.index(pair.y_target[test])], _EPS, 1.0))))
            else:
                total += float(np.sum((output - pair.y_target[test]) ** 2))
        losses[g] = total
    return int(np.argmin(losses)), losses


def default_estimator(task: str, penalty: float) -> Pipeline:
    """Standardisation then L2 logistic regression (``C = 1 / penalty``) or ridge."""
    if task == "regression":
        return make_pipeline(StableScaler(), Ridge(alpha=penalty))
    return make_pipeline(StableScaler(), LogisticRegression(C=1.0 / penalty, max_iter=2000))


def seeded(estimator: BaseEstimator, random_state: int | None) -> BaseEstimator:
    """An unfitted clone with every ``random_state`` parameter it has set (for reruns)."""
    model = clone(estimator)
    seeds = {k: random_state for k in model.get_params() if k.endswith("random_state")}
    return model.set_params(**seeds) if seeds and random_state is not None else model


def expand_proba(proba: np.ndarray, model_classes: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Probability columns of a model put in the order of ``classes`` (0 where absent)."""
    full = np.zeros((proba.shape[0], len(classes)))
    full[:, np.searchsorted(classes, model_classes)] = proba
    return full


def estimator_output(estimator: BaseEstimator, X: np.ndarray,
                     classes: np.ndarray | None) -> np.ndarray:
    """Predicted values (``classes`` None: regression) or probabilities in ``classes`` order."""
    if classes is None:
        return estimator.predict(X)
    return expand_proba(estimator.predict_proba(X), estimator.classes_, classes)


class EstimatorOutput:
    """Outputs of a method whose fitted learner is one scikit-learn ``estimator_``.

    ``_estimator_inputs`` maps prediction rows to the learner's inputs (identity here).
    """

    def _estimator_inputs(self, X: np.ndarray) -> np.ndarray:
        return X

    def _predict_output(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        classes = None if self.task_ == "regression" else self.classes_
        return estimator_output(self.estimator_, self._estimator_inputs(X), classes)


class BaseFewLabel(ABC, BaseEstimator):
    """Shared prediction face: arrays or Domains in, ``classes_`` order out.

    Subclasses implement ``fit`` (setting ``n_features_in_``, ``task_`` and, for
    classification, ``classes_``) and ``_predict_output(X)``: probabilities of shape
    (n_samples, n_classes) for classifiers, predictions of shape (n_samples,) otherwise.
    """

    def _features(self, X: ArrayLike | Domain) -> np.ndarray:
        check_is_fitted(self, "n_features_in_")
        if isinstance(X, Domain):
            X = X.X
        array = check_array_2d(X, f"{type(self).__name__}.predict input")
        if array.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{type(self).__name__} was fitted on {self.n_features_in_} features; got "
                f"{array.shape[1]}. Pass rows through the same harmonizer."
            )
        return array

    @abstractmethod
    def _predict_output(self, X: np.ndarray) -> np.ndarray:
        """Probabilities (classification) or predictions (regression) for checked rows."""

    def predict(self, X: ArrayLike | Domain) -> np.ndarray:
        """Labels (classification) or values (regression) for target rows."""
        output = self._predict_output(self._features(X))
        if self.task_ == "regression":
            return output
        return self.classes_[np.argmax(output, axis=1)]

    def predict_proba(self, X: ArrayLike | Domain) -> np.ndarray:
        """Class probabilities of shape (n_samples, n_classes), columns in ``classes_``."""
        if getattr(self, "task_", None) == "regression":
            raise AttributeError(
                f"{type(self).__name__} was fitted on a regression task; use predict."
            )
        return self._predict_output(self._features(X))

    def _record(self, pair: MarketPair) -> None:
        self.n_features_in_ = int(pair.X_source.shape[1])
        self.task_ = pair.task
        if pair.is_classification:
            self.classes_ = pair.classes
