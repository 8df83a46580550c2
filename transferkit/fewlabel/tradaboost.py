"""TrAdaBoost (classification) and TrAdaBoost.R2 / two-stage TrAdaBoost.R2 (regression).

Boosting over source and labelled target rows in which source rows the current model
gets wrong lose weight (they look unlike the target) while target rows it gets wrong
gain weight, as in AdaBoost. Pardoe & Stone's two-stage variant first shrinks the total
source weight step by step, keeping the step whose inner AdaBoost.R2 (with the source
weights frozen) has the lowest cross-validated error on the target rows.

References
----------
Dai, W., Yang, Q., Xue, G.-R. and Yu, Y. (2007). Boosting for transfer learning. ICML.
Pardoe, D. and Stone, P. (2010). Boosting for regression transfer. ICML.

Examples
--------
>>> import numpy as np
>>> from transferkit import Domain
>>> rng = np.random.default_rng(0)
>>> X_s, X_t = rng.normal(size=(200, 2)), rng.normal(size=(30, 2))
>>> source = Domain.from_arrays(X_s, X_s[:, 0] + 0.1 * rng.normal(size=200), name="us")
>>> target = Domain.from_arrays(X_t, X_t[:, 0] + 1.0, name="de")
>>> TrAdaBoostR2(n_estimators=6, random_state=0).fit(source, target).predict(X_t[:3]).shape
(3,)
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils.validation import check_is_fitted

from transferkit._sklearn import fit_weighted
from transferkit._validation import check_param
from transferkit.domain import Domain
from transferkit.fewlabel.base import (
    FEWLABEL,
    BaseFewLabel,
    MarketPair,
    check_pair,
    default_estimator,
    expand_proba,
    inner_splits,
    seeded,
)

__all__ = ["TrAdaBoost", "TrAdaBoostR2", "TwoStageTrAdaBoostR2"]
# Target errors are kept inside (0, 1/2) so each learner's vote log(1/beta) stays finite.
_ERROR_RANGE = (1e-10, 0.499)


def _check_rounds(owner: str, name: str, value: int) -> int:
    check_param(owner, name, value, "an int >= 1", lambda v: int(v) == v and v >= 1)
    return int(value)


def _normalised(weight: np.ndarray) -> np.ndarray:
    """Weights rescaled to mean 1, the scale sklearn's regularised learners expect."""
    return weight * (len(weight) / weight.sum())


def _default_regressor(random_state: int | None) -> DecisionTreeRegressor:
    return DecisionTreeRegressor(max_depth=4, random_state=random_state)


def weighted_median(predictions: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row-wise weighted median of ``predictions`` (n_learners, n_samples)."""
    order = np.argsort(predictions, axis=0)
    sorted_predictions = np.take_along_axis(predictions, order, axis=0)
    cumulative = np.cumsum(weights[order], axis=0)
    first = np.argmax(cumulative >= 0.5 * cumulative[-1], axis=0)
    return sorted_predictions[first, np.arange(predictions.shape[1])]


@FEWLABEL.register("tradaboost")
class TrAdaBoost(BaseFewLabel):
    """TrAdaBoost (Dai et al., 2007) for binary and multiclass classification.

    Parameters
    ----------
    estimator : estimator, optional
        A classifier whose (final step's) ``fit`` takes ``sample_weight`` and which has
        ``predict_proba``; None uses standardisation + logistic regression (``C = 0.1``).
    n_estimators : int, default=10
        Boosting rounds; the last half vote, weighted by ``log(1 / beta_t)``.
    random_state : int, optional

    Attributes
    ----------
    estimators_ : list of estimators
        The voting learners (the second half of the rounds).
    estimator_weights_ : ndarray of shape (n_voting,)
    target_errors_ : ndarray of shape (n_estimators,)
        Weighted error on the labelled target rows in each round.
    classes_, n_features_in_
    """

    def __init__(self, estimator: BaseEstimator | None = None, n_estimators: int = 10,
                 random_state: int | None = None) -> None:
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.random_state = random_state

    def fit(self, source: Domain, target: Domain) -> TrAdaBoost:
        """Boost over source and labelled target rows."""
        owner = type(self).__name__
        rounds = _check_rounds(owner, "n_estimators", self.n_estimators)
        pair = check_pair(owner, source, target)
        if not pair.is_classification:
            raise ValueError(
                f"{owner} is for classification; the pair is a regression task. Use "
                "TrAdaBoostR2 or TwoStageTrAdaBoostR2 ('tradaboost_r2', "
                "'two_stage_tradaboost_r2')."
            )
        base = default_estimator(pair.task, 10.0) if self.estimator is None else self.estimator
        X = np.vstack([pair.X_source, pair.X_target])
        y = np.r_[pair.y_source, pair.y_target]
        n_source = len(pair.X_source)
        is_target = np.arange(len(y)) >= n_source
        beta_source = 1.0 / (1.0 + math.sqrt(2.0 * math.log(n_source) / rounds))
        weight = np.ones(len(y))
        learners, votes, errors = [], [], []
        for _ in range(rounds):
            model = fit_weighted(seeded(base, self.random_state), X, y, _normalised(weight))
            wrong = (model.predict(X) != y).astype(float)
            error = float(np.clip(np.sum(weight[is_target] * wrong[is_target])
                                  / weight[is_target].sum(), *_ERROR_RANGE))
            beta = error / (1.0 - error)
            weight = np.where(is_target, weight * beta ** -wrong, weight * beta_source ** wrong)
            weight = _normalised(weight)
            learners.append(model)
            votes.append(math.log(1.0 / beta))
            errors.append(error)
        start = rounds // 2 if rounds > 1 else 0
        self.estimators_ = learners[start:]
        self.estimator_weights_ = np.asarray(votes[start:])
        self.target_errors_ = np.asarray(errors)
        self._record(pair)
        return self

    def _predict_output(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "estimators_")
        weights = self.estimator_weights_
        if weights.sum() <= 0:
            weights = np.ones_like(weights)
        total = sum(w * expand_proba(m.predict_proba(X), m.classes_, self.classes_)
                    for w, m in zip(weights, self.estimators_, strict=True))
        return total / weights.sum()


def _boost_r2(
    base: BaseEstimator,
    X: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    is_target: np.ndarray,
    rounds: int,
    beta_source: float | None,
    random_state: int | None,
) -> tuple[list[BaseEstimator], list[float]]:
    """Rounds of AdaBoost.R2 over source + target rows (linear loss).

    With ``beta_source`` (TrAdaBoost.R2) badly predicted source rows lose weight by
    ``beta_source ** e``; without it (AdaBoost.R2' of the two-stage method) the source
    weights stay frozen. Target rows are reweighted as in AdaBoost.R2.
    """
    learners, votes = [], []
    weight = weight.copy()
    for _ in range(rounds):
        model = fit_weighted(seeded(base, random_state), X, y, _normalised(weight))
        residual = np.abs(model.predict(X) - y)
        largest = residual.max()
        loss = residual / largest if largest > 0 else np.zeros_like(residual)
        error = float(np.clip(np.sum(weight[is_target] * loss[is_target])
                              / weight[is_target].sum(), *_ERROR_RANGE))
        beta = error / (1.0 - error)
        learners.append(model)
        votes.append(math.log(1.0 / beta))
        target_weight = weight * beta ** (1.0 - loss)
        source_weight = weight if beta_source is None else weight * beta_source ** loss
        weight = np.where(is_target, target_weight, source_weight)
    return learners, votes


class _BoostedRegressor(BaseFewLabel):
    """Weighted-median prediction over fitted learners (shared by both R2 variants)."""

    def _predict_output(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "estimators_")
        predictions = np.vstack([m.predict(X) for m in self.estimators_])
        return weighted_median(predictions, self.estimator_weights_)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        raise AttributeError(f"{type(self).__name__} is a regressor; it has no predict_proba.")

    @staticmethod
    def _stacked(pair: MarketPair) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Source rows then labelled target rows: ``X``, ``y`` and the target-row mask."""
        X = np.vstack([pair.X_source, pair.X_target])
        y = np.r_[pair.y_source, pair.y_target]
        return X, y, np.arange(len(y)) >= len(pair.X_source)

    @staticmethod
    def _regression_pair(owner: str, source: Domain, target: Domain) -> MarketPair:
        pair = check_pair(owner, source, target)
        if pair.is_classification:
            raise ValueError(
                f"{owner} is for regression; the pair is a {pair.task} task. Use "
                "TrAdaBoost ('tradaboost')."
            )
        return pair


@FEWLABEL.register("tradaboost_r2")
class TrAdaBoostR2(_BoostedRegressor):
    """TrAdaBoost.R2 (Pardoe & Stone, 2010) for regression.

    Parameters
    ----------
    estimator : estimator, optional
        A regressor whose ``fit`` takes ``sample_weight``; None uses a depth-4 tree.
    n_estimators : int, default=10
        Boosting rounds; the last half vote through a weighted median.
    random_state : int, optional

    Attributes
    ----------
    estimators_ : list of estimators
    estimator_weights_ : ndarray of shape (n_voting,)
    n_features_in_ : int
    """

    def __init__(self, estimator: BaseEstimator | None = None, n_estimators: int = 10,
                 random_state: int | None = None) -> None:
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.random_state = random_state

    def fit(self, source: Domain, target: Domain) -> TrAdaBoostR2:
        """Boost over source and labelled target rows."""
        owner = type(self).__name__
        rounds = _check_rounds(owner, "n_estimators", self.n_estimators)
        pair = self._regression_pair(owner, source, target)
        base = (_default_regressor(self.random_state) if self.estimator is None
                else self.estimator)
        X, y, is_target = self._stacked(pair)
        beta_source = 1.0 / (1.0 + math.sqrt(2.0 * math.log(len(pair.X_source)) / rounds))
        learners, votes = _boost_r2(base, X, y, np.ones(len(y)), is_target, rounds,
                                    beta_source, self.random_state)
        start = rounds // 2 if rounds > 1 else 0
        self.estimators_ = learners[start:]
        self.estimator_weights_ = np.asarray(votes[start:])
        self._record(pair)
        return self


@FEWLABEL.register("two_stage_tradaboost_r2")
class TwoStageTrAdaBoostR2(_BoostedRegressor):
    """Two-stage TrAdaBoost.R2 (Pardoe & Stone, 2010) for regression.

    Stage 1 runs ``n_steps`` steps; at step ``t`` the target rows carry the share
    ``m / (n + m) + t / (n_steps - 1) * (1 - m / (n + m))`` of the weight, reached by
    shrinking the weights of the source rows a learner predicts worst (``beta ** e``).
    Stage 2 scores each step's AdaBoost.R2 with frozen source weights by
    cross-validation on the target rows (source rows always in training) and keeps the
    best step.

    Parameters
    ----------
    estimator : estimator, optional
        A regressor whose ``fit`` takes ``sample_weight``; None uses a depth-4 tree.
    n_steps : int, default=10
        Steps of source-weight shrinkage (the last one trains on target rows only).
    n_estimators : int, default=5
        Rounds of the inner AdaBoost.R2.
    cv : int, default=3
        Folds of the cross-validation on the labelled target rows.
    random_state : int, optional

    Attributes
    ----------
    estimators_ : list of estimators
        Inner AdaBoost.R2 learners of the chosen step.
    estimator_weights_ : ndarray of shape (n_estimators,)
    best_step_ : int
    step_errors_ : ndarray of shape (n_steps,)
        Cross-validated squared error per step (NaN without enough target rows).
    target_shares_ : ndarray of shape (n_steps,)
    n_features_in_ : int
    """

    def __init__(self, estimator: BaseEstimator | None = None, n_steps: int = 10,
                 n_estimators: int = 5, cv: int = 3, random_state: int | None = None) -> None:
        self.estimator = estimator
        self.n_steps = n_steps
        self.n_estimators = n_estimators
        self.cv = cv
        self.random_state = random_state

    def fit(self, source: Domain, target: Domain) -> TwoStageTrAdaBoostR2:
        """Shrink the source weight step by step and keep the best cross-validated step."""
        owner = type(self).__name__
        steps = _check_rounds(owner, "n_steps", self.n_steps)
        rounds = _check_rounds(owner, "n_estimators", self.n_estimators)
        pair = self._regression_pair(owner, source, target)
        base = (_default_regressor(self.random_state) if self.estimator is None
                else self.estimator)
        X, y, is_target = self._stacked(pair)
        n_source, n_target = len(pair.X_source), len(pair.X_target)
        splits = inner_splits(pair.y_target, False, self.cv, self.random_state)
        start_share = n_target / (n_source + n_target)
        shares = (np.linspace(start_share, 1.0, steps) if steps > 1
                  else np.array([start_share]))
        weight = np.ones(len(y))
        errors, weights = [], []
        for step, share in enumerate(shares):
            if step > 0:
                weight = _shrink_source(base, X, y, weight, is_target, share,
                                        self.random_state)
            weights.append(weight.copy())
            errors.append(np.nan if splits is None else _cv_error(
                base, X, y, weight, is_target, splits, rounds, self.random_state))
        self.step_errors_ = np.asarray(errors)
        self.target_shares_ = shares
        self.best_step_ = 0 if splits is None else int(np.nanargmin(self.step_errors_))
        learners, votes = _boost_r2(base, X, y, weights[self.best_step_], is_target, rounds,
                                    None, self.random_state)
        self.estimators_ = learners
        self.estimator_weights_ = np.asarray(votes)
        self._record(pair)
        return self


def _shrink_source(
    base: BaseEstimator,
    X: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    is_target: np.ndarray,
    share: float,
    random_state: int | None,
) -> np.ndarray:
    """Source weights times ``beta ** e`` with beta found so the target rows hold ``share``."""
    target_total = weight[is_target].sum()
    if share >= 1.0:
        return np.where(is_target, weight, 0.0)
    model = fit_weighted(seeded(base, random_state), X, y, _normalised(weight))
    residual = np.abs(model.predict(X) - y)
    largest = residual.max()
    loss = residual[~is_target] / largest if largest > 0 else np.zeros(int((~is_target).sum()))
    wanted_source = target_total * (1.0 - share) / share
    low, high = -50.0, 0.0  # bisection on log(beta): the source total falls as beta does
    for _ in range(60):
        middle = (low + high) / 2
        total = np.sum(weight[~is_target] * np.exp(middle * loss))
        low, high = (low, middle) if total > wanted_source else (middle, high)
    source = weight[~is_target] * np.exp(low * loss)
    # Rows with zero error keep their weight whatever beta is; a final uniform rescale
    # reaches the share exactly.
    source *= wanted_source / source.sum()
    shrunk = weight.copy()
    shrunk[~is_target] = source
    return shrunk


def _cv_error(
    base: BaseEstimator,
    X: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    is_target: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    rounds: int,
    random_state: int | None,
) -> float:
    """Squared error of AdaBoost.R2' on held-out target folds (source rows always kept)."""
    target_rows = np.flatnonzero(is_target)
    total = 0.0
    for train, test in splits:
        keep = np.r_[np.flatnonzero(~is_target), target_rows[train]]
        learners, votes = _boost_r2(base, X[keep], y[keep], weight[keep], is_target[keep],
                                    rounds, None, random_state)
        held_out = target_rows[test]
        predictions = np.vstack([m.predict(X[held_out]) for m in learners])
        total += float(np.sum((weighted_median(predictions, np.asarray(votes))
                               - y[held_out]) ** 2))
    return total
