"""Pooled training: source rows plus the labelled target rows, target share tuned by CV.

Pooling is the strongest few-label baseline when the markets are close and the
labelled target rows are many; the question is how much weight the few target rows
should carry. ``PooledTransfer`` gives the target rows a share ``alpha`` of the total
training weight and chooses ``alpha`` by cross-validation on the target rows (source
rows always in training). ``WeightedPooledTransfer`` also reweights the source rows by
an importance weighter (any reweighter passed in: ``p_t(x) / p_s(x)``).

Examples
--------
>>> import numpy as np
>>> from transferkit import Domain
>>> rng = np.random.default_rng(0)
>>> X_s, X_t = rng.normal(size=(200, 3)), rng.normal(size=(30, 3)) + 0.5
>>> source = Domain.from_arrays(X_s, (X_s[:, 0] > 0).astype(int), name="us")
>>> target = Domain.from_arrays(X_t, (X_t[:, 0] > 0.5).astype(int), name="jp")
>>> model = PooledTransfer(random_state=0).fit(source, target)
>>> 0 < model.target_share_ < 1
True
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone

from transferkit._sklearn import fit_weighted
from transferkit._validation import check_param
from transferkit.domain import Domain
from transferkit.fewlabel.base import (
    FEWLABEL,
    BaseFewLabel,
    EstimatorOutput,
    MarketPair,
    check_pair,
    choose_by_cv,
    default_estimator,
    estimator_output,
    seeded,
)

__all__ = ["PooledTransfer", "WeightedPooledTransfer"]

TARGET_SHARES: tuple[float, ...] = (0.02, 0.1, 0.3, 0.5, 0.7, 0.9)


def pooled_weights(source_weight: np.ndarray, n_target: int, share: float) -> np.ndarray:
    """Row weights (mean 1) giving the target rows ``share`` of the total weight."""
    n = len(source_weight) + n_target
    source = (1 - share) * n * source_weight / source_weight.sum()
    return np.r_[source, np.full(n_target, share * n / n_target)]


@FEWLABEL.register("pooled")
class PooledTransfer(EstimatorOutput, BaseFewLabel):
    """Train one model on source and labelled target rows, the target share tuned by CV.

    Parameters
    ----------
    estimator : estimator, optional
        Any sklearn classifier or regressor whose (final step's) ``fit`` takes
        ``sample_weight``; None uses standardisation + logistic regression (``C = 0.1``)
        or ridge (``alpha = 10``).
    target_shares : sequence of float, default=(0.02, 0.1, 0.3, 0.5, 0.7, 0.9)
        Candidate shares of the total training weight carried by the target rows.
    cv : int, default=3
        Folds of the inner cross-validation on the labelled target rows.
    random_state : int, optional

    Attributes
    ----------
    estimator_ : estimator
        Fitted on all rows with the chosen share.
    target_share_ : float
    source_weight_ : ndarray of shape (n_source,)
        Relative weights of the source rows (all 1 here; importance weights in
        ``WeightedPooledTransfer``).
    cv_losses_ : ndarray of shape (n_shares,)
    classes_, n_features_in_
    """

    def __init__(self, estimator: BaseEstimator | None = None,
                 target_shares: tuple[float, ...] = TARGET_SHARES, cv: int = 3,
                 random_state: int | None = None) -> None:
        self.estimator = estimator
        self.target_shares = target_shares
        self.cv = cv
        self.random_state = random_state

    def _source_weight(self, pair: MarketPair) -> np.ndarray:
        return np.ones(len(pair.X_source))

    def fit(self, source: Domain, target: Domain) -> PooledTransfer:
        """Choose the target share by cross-validation, then fit on every labelled row."""
        owner = type(self).__name__
        check_param(owner, "target_shares", self.target_shares,
                    "a non-empty sequence of floats in (0, 1)",
                    lambda v: len(v) > 0 and all(0 < float(s) < 1 for s in v))
        pair = check_pair(owner, source, target)
        self.source_weight_ = self._source_weight(pair)
        base = default_estimator(pair.task, 10.0) if self.estimator is None else self.estimator
        grid = [float(s) for s in self.target_shares]

        def fit_rows(share: float, rows: np.ndarray) -> BaseEstimator:
            X = np.vstack([pair.X_source, pair.X_target[rows]])
            y = np.r_[pair.y_source, pair.y_target[rows]]
            weight = pooled_weights(self.source_weight_, len(rows), share)
            return fit_weighted(seeded(base, self.random_state), X, y, weight)

        def fit_predict(share: float, train: np.ndarray, test: np.ndarray) -> np.ndarray:
            return estimator_output(fit_rows(share, train), pair.X_target[test],
                                    pair.classes if pair.is_classification else None)

        best, self.cv_losses_ = choose_by_cv(owner, grid, fit_predict, pair, self.cv,
                                             self.random_state, default=len(grid) // 2)
        self.target_share_ = grid[best]
        self.estimator_ = fit_rows(self.target_share_, np.arange(len(pair.X_target)))
        self._record(pair)
        return self



@FEWLABEL.register("weighted_pooled")
class WeightedPooledTransfer(PooledTransfer):
    """Importance-weighted source rows plus the labelled target rows, share tuned by CV.

    The weighter is fitted once on the source rows against every target row (labelled
    or not); its weights ``p_t(x) / p_s(x)`` set the relative weight of the source rows,
    and the target share is tuned as in ``PooledTransfer``.

    Parameters
    ----------
    weighter : estimator
        An unfitted reweighter with ``fit(X, is_target).weights_`` (weights of the
        ``is_target == 0`` rows), e.g. ``transferkit.reweight.DiscriminativeRatio()``.
        Required; it is passed in so that this family imports no other.
    estimator, target_shares, cv, random_state
        As in ``PooledTransfer``.

    Attributes
    ----------
    weighter_ : estimator
        The fitted clone of ``weighter``.
    source_weight_ : ndarray of shape (n_source,)
        Importance weights of the source rows.
    """

    def __init__(self, weighter: BaseEstimator | None = None,
                 estimator: BaseEstimator | None = None,
                 target_shares: tuple[float, ...] = TARGET_SHARES, cv: int = 3,
                 random_state: int | None = None) -> None:
        super().__init__(estimator=estimator, target_shares=target_shares, cv=cv,
                         random_state=random_state)
        self.weighter = weighter

    def _source_weight(self, pair: MarketPair) -> np.ndarray:
        if self.weighter is None or not hasattr(self.weighter, "fit"):
            raise TypeError(
                "WeightedPooledTransfer needs an unfitted reweighter, e.g. "
                "weighter=transferkit.reweight.DiscriminativeRatio(); got "
                f"{self.weighter!r}."
            )
        X_target = np.vstack([pair.X_target, pair.X_unlabeled])
        X = np.vstack([pair.X_source, X_target])
        is_target = np.r_[np.zeros(len(pair.X_source), dtype=int),
                          np.ones(len(X_target), dtype=int)]
        self.weighter_ = clone(self.weighter).fit(X, is_target)
        weights = np.asarray(self.weighter_.weights_, dtype=float)
        if weights.shape != (len(pair.X_source),) or not np.all(np.isfinite(weights)) \
                or (weights < 0).any() or not (weights > 0).any():
            raise ValueError(
                f"{type(self.weighter).__name__}.weights_ must hold one finite weight >= 0 "
                f"per source row ({len(pair.X_source)}), not all zero; got shape "
                f"{weights.shape}."
            )
        return weights
