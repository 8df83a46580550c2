"""The shared shape of every covariate-shift reweighter, and the ``REWEIGHTERS`` registry.

A reweighter estimates the density ratio ``w(x) = p_target(x) / p_source(x)`` and turns
it into importance weights for the source rows. It is a scikit-learn estimator whose
``y`` is the domain indicator (1 = target row), so it needs no metadata routing:

>>> import numpy as np
>>> from transferkit import Domain, stack
>>> from transferkit.reweight import DiscriminativeRatio
>>> rng = np.random.default_rng(0)
>>> source = Domain.from_arrays(rng.normal(size=(60, 2)), name="us")
>>> target = Domain.from_arrays(rng.normal(size=(40, 2)) + 1, name="jp")
>>> X, is_target = stack(source, target)
>>> w = DiscriminativeRatio().fit(X, is_target).compute_weights(source.X)
>>> w.shape, bool(w.min() >= 0)
((60,), True)

``fit(source, target)`` with two Domains does the stacking for you.
"""

from __future__ import annotations

import numbers
from abc import abstractmethod
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.utils import ClassifierTags, Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from transferkit._registry import Registry
from transferkit._validation import check_finite, check_param
from transferkit.domain import Domain, stack
from transferkit.reweight.diagnostics import WeightReport, warn_if_low_ess, weight_report

__all__ = ["REWEIGHTERS", "BaseReweighter", "split_domains"]

#: Every covariate-shift reweighter by name (``"kmm"``, ``"kliep"``, ...).
REWEIGHTERS: Registry[type[BaseReweighter]] = Registry("reweighter")


def split_domains(
    owner: BaseEstimator, X: Any, y: Any, *, reset: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """``(X_source, X_target)`` from either two Domains or stacked ``(X, is_target)``.

    ``y`` is the domain indicator: with two distinct values, the greater one (``1`` /
    ``True``) marks target rows, as for any binary sklearn classifier.
    """
    name = type(owner).__name__
    if isinstance(X, Domain):
        if not isinstance(y, Domain):
            raise TypeError(
                f"{name}.fit got a source Domain but {type(y).__name__} as target; pass two "
                "Domains, fit(source, target), or stacked arrays, fit(X, is_target)."
            )
        X, y = stack(X, y)
        if X.ndim != 2:
            raise ValueError(
                f"{name} needs tabular features; the Domains hold {X.shape[1:]} tensors per "
                "row. Encode them into feature vectors first."
            )
    elif isinstance(y, Domain):
        raise TypeError(
            f"{name}.fit got a target Domain but {type(X).__name__} as source; pass two Domains."
        )
    if y is None:
        raise ValueError(
            f"{name} requires y to be passed, but the target y is None. y is the domain "
            "indicator: fit(X, is_target) with is_target = 1 on target rows (see "
            "transferkit.stack), or fit(source, target) with two Domains."
        )
    X, y = validate_data(
        owner, X, y, reset=reset, ensure_all_finite=False, dtype=np.float64, ensure_min_samples=1
    )
    check_finite(X, f"{name}: X")
    labels = np.unique(y)
    if labels.size != 2:
        raise ValueError(
            f"{name}.fit needs both source (0) and target (1) rows in is_target; y holds "
            f"{labels.size} class{'es' if labels.size != 1 else ''} {labels.tolist()[:5]}. "
            + ("Pass target rows: a reweighter compares the two markets."
               if labels.size < 2 else "Use a 0/1 indicator (transferkit.stack builds one).")
        )
    is_target = y == labels[1]
    return X[~is_target], X[is_target]


def _clip_threshold(values: np.ndarray, clip: float) -> float:
    """Largest ``c`` with ``c = clip * mean(min(values, c))``: after capping at ``c``, no
    value exceeds ``clip`` times the mean. The map is monotone, so iterating from
    ``clip * mean(values)`` decreases to the fixed point.
    """
    threshold = clip * float(values.mean())
    for _ in range(200):
        updated = clip * float(np.minimum(values, threshold).mean())
        if updated >= threshold * (1 - 1e-12):
            break
        threshold = updated
    return threshold


class BaseReweighter(BaseEstimator):
    """Base class: fit a density ratio, then serve normalised, optionally flattened weights.

    Subclasses implement ``_fit_ratio(X_source, X_target)`` and ``_ratio(X)`` (the raw,
    non-negative density-ratio estimate). The base class validates inputs, applies the
    flattening ``w ** power`` and the clip, normalises weights to mean 1 on the fitted
    source rows, warns when the effective sample size is below 10 %, and reports.

    Post-processing parameters shared by every reweighter (defaults keep the weights
    unbiased; flatten or clip when ``weight_report()`` shows a low ESS):

    - ``power`` (default 1.0): flattening exponent α in ``w ** α``; 0 gives uniform weights,
      0.5 is a common compromise between bias and variance (Shimodaira, 2000).
    - ``clip`` (default None): the largest weight allowed, as a multiple of the mean weight
      (the cap is chosen so that it still holds after renormalisation).

    Attributes
    ----------
    weights_ : ndarray of shape (n_source,)
        Weights of the fitted source rows, mean 1.
    n_source_, n_target_ : int
        Rows of each market seen in ``fit``.
    normalizer_ : float
        Mean of the flattened, clipped raw ratio on the fitted source rows.
    clip_value_ : float
        Clip threshold on the flattened raw ratio (``inf`` without clipping).
    n_features_in_ : int
    """

    @abstractmethod
    def _fit_ratio(self, X_source: np.ndarray, X_target: np.ndarray) -> None:
        """Learn the density ratio from the two samples."""

    @abstractmethod
    def _ratio(self, X: np.ndarray) -> np.ndarray:
        """Raw non-negative density-ratio estimate at rows of ``X``."""

    def _fitted_source_ratio(self, X_source: np.ndarray) -> np.ndarray:
        """Raw ratio at the fitted source rows (KMM overrides: its weights live there)."""
        return self._ratio(X_source)

    def _check_common_params(self) -> None:
        name = type(self).__name__
        check_param(name, "power", self.power, "a float in [0, 1]",
                    lambda v: isinstance(v, numbers.Real) and 0 <= v <= 1)
        if self.clip is not None:
            check_param(name, "clip", self.clip, "None or a float > 1",
                        lambda v: isinstance(v, numbers.Real) and v > 1)

    def fit(self, X: ArrayLike | Domain, y: ArrayLike | Domain | None = None) -> BaseReweighter:
        """Estimate the density ratio and the weights of the source rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or Domain
            Stacked source and target rows (``transferkit.stack``), or the source Domain.
        y : array-like of shape (n_samples,), or Domain
            The domain indicator (1 = target row), or the target Domain.

        Returns
        -------
        self
        """
        self._check_common_params()
        X_source, X_target = split_domains(self, X, y)
        self.n_source_, self.n_target_ = len(X_source), len(X_target)
        self._fit_ratio(X_source, X_target)
        raw = self._checked_ratio(self._fitted_source_ratio(X_source))
        flat = raw ** float(self.power)
        if not (flat > 0).any():
            raise ValueError(
                f"{type(self).__name__} gave every source row a zero weight: the source does "
                "not overlap the target market. Check the features (scaling, harmonisation)."
            )
        self.clip_value_ = float("inf")
        if self.clip is not None:
            self.clip_value_ = _clip_threshold(flat, float(self.clip))
            flat = np.minimum(flat, self.clip_value_)
        self.normalizer_ = float(flat.mean())
        self.weights_ = flat / self.normalizer_
        warn_if_low_ess(self.weights_, type(self).__name__)
        return self

    def compute_weights(self, X: ArrayLike) -> np.ndarray:
        """Importance weights of source rows, on the same scale as ``weights_``.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Source-market rows (the fitted ones or new ones).

        Returns
        -------
        ndarray of shape (n_rows,)
            Non-negative weights; the fitted source rows average 1.
        """
        check_is_fitted(self, "weights_")
        X = validate_data(self, X, reset=False, ensure_all_finite=False, dtype=np.float64)
        check_finite(X, f"{type(self).__name__}.compute_weights: X")
        flat = self._checked_ratio(self._ratio(X)) ** float(self.power)
        return np.minimum(flat, self.clip_value_) / self.normalizer_

    def weight_report(self) -> WeightReport:
        """ESS, weight shares, quantiles and histogram of ``weights_`` (see ``WeightReport``)."""
        check_is_fitted(self, "weights_")
        return weight_report(self.weights_, clip=self.clip, power=self.power,
                             method=type(self).__name__)

    def _checked_ratio(self, ratio: np.ndarray) -> np.ndarray:
        ratio = np.asarray(ratio, dtype=float)
        if not np.isfinite(ratio).all():
            raise ValueError(
                f"{type(self).__name__} produced non-finite density ratios; the kernel width "
                "is probably too small for the feature scale. Standardise the features."
            )
        return np.maximum(ratio, 0.0)

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        # y is a two-valued domain indicator, so sklearn's checks must send binary y.
        tags.classifier_tags = ClassifierTags(multi_class=False)
        tags.non_deterministic = False
        return tags
