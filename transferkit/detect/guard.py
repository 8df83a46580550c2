"""NegativeTransferGuard: keep the transferred model only when it does not lose to a baseline.

Recipes wrap their final step in the guard: it runs :func:`compare` on held-out labelled
target rows and, when the verdict is ``negative`` (significantly worse than at least one
baseline, Holm-corrected over the baselines), serves the baseline with the best point
score instead. Regression models work the same way (``predict``; rmse / mae / r2). The
switch is never silent: a ``TransferWarning`` is raised, ``fell_back_`` is set and the
verdict's message starts with ``NEGATIVE TRANSFER`` and names the fallback.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from transferkit._validation import check_choice, check_fitted_model, check_param
from transferkit.detect._outputs import model_output
from transferkit.detect.compare import TransferVerdict, _named_baselines, compare
from transferkit.domain import Domain
from transferkit.exceptions import TransferWarning

__all__ = ["NegativeTransferGuard"]


class NegativeTransferGuard:
    """Choose between a transferred model and its baselines from a negative-transfer test.

    Parameters
    ----------
    metric : str, optional
        Metric of the verdict (see :func:`compare`); default accuracy / rmse.
    confidence : float, default=0.95
    n_resamples : int, default=1000
    on_inconclusive : {"keep", "fallback"}, default="keep"
        What to serve when the test cannot tell: the transferred model (default), or the
        best baseline (the cautious choice when a wrong transfer is costly).
    seed : int, default=0

    Attributes
    ----------
    verdict_ : TransferVerdict
        The full comparison, with per-class and per-segment breakdowns.
    model_ : object
        The model now served by ``predict`` / ``predict_proba``.
    chosen_ : str
        Its name (``"transferred"`` or a baseline name).
    fell_back_ : bool
        True when the guard replaced the transferred model by a baseline.
    report_ : str
        A paragraph for run reports, saying loudly when the guard fell back.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from transferkit import Domain
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2)); y = (X[:, 0] > 0).astype(int)
    >>> test = Domain.from_arrays(X[200:], y[200:])
    >>> target_only = LogisticRegression().fit(X[:200], y[:200])
    >>> wrong = LogisticRegression().fit(X[:200], 1 - y[:200])
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     guard = NegativeTransferGuard(n_resamples=100).fit(
    ...         wrong, {"target_only": target_only}, test)
    >>> guard.chosen_, guard.fell_back_
    ('target_only', True)
    """

    def __init__(
        self,
        *,
        metric: str | None = None,
        confidence: float = 0.95,
        n_resamples: int = 1000,
        on_inconclusive: Literal["keep", "fallback"] = "keep",
        seed: int = 0,
    ) -> None:
        self.metric = metric
        self.confidence = confidence
        self.n_resamples = n_resamples
        self.on_inconclusive = on_inconclusive
        self.seed = seed

    def fit(
        self,
        transferred: Any,
        baselines: Mapping[str, Any] | Sequence[Any] | Any,
        target_labeled: Domain,
        *,
        segments: str | ArrayLike | None = None,
        seen: Domain | Sequence[Domain] | None = None,
    ) -> NegativeTransferGuard:
        """Run the negative-transfer test and choose the model to serve.

        Parameters are those of :func:`compare`; the models must be fitted objects (not
        cached outputs), since the guard serves one of them.
        """
        check_choice("NegativeTransferGuard", "on_inconclusive", self.on_inconclusive,
                     ("keep", "fallback"))
        check_param("NegativeTransferGuard", "n_resamples", self.n_resamples, "an int >= 10",
                    lambda v: int(v) == v and v >= 10)
        named = _named_baselines(baselines)
        for name, model in {"transferred": transferred, **named}.items():
            if isinstance(model, np.ndarray):
                raise TypeError(
                    f"NegativeTransferGuard: {name!r} is an array of outputs; the guard serves "
                    "one of the models, so pass fitted models (use compare() for cached "
                    "outputs)."
                )
            check_fitted_model(model, target_labeled.n_features,
                               f"NegativeTransferGuard ({name!r})")
        verdict = compare(
            transferred, named, target_labeled, metric=self.metric, segments=segments,
            seen=seen, confidence=self.confidence, n_resamples=self.n_resamples,
            seed=self.seed,
        )
        fall_back = verdict.verdict == "negative" or (
            verdict.verdict == "inconclusive" and self.on_inconclusive == "fallback"
        )
        self.verdict_: TransferVerdict = verdict
        self.fell_back_ = fall_back
        self.chosen_ = verdict.best_baseline if fall_back else verdict.transferred
        self.model_ = named[verdict.best_baseline] if fall_back else transferred
        if fall_back:
            reason = (f"transfer is significantly worse than {verdict.deciding_baseline!r}"
                      if verdict.is_negative
                      else "the test is inconclusive and on_inconclusive='fallback'")
            self.report_ = (
                f"FALLBACK: the transferred model is NOT used; serving baseline "
                f"{verdict.best_baseline!r} because {reason}. {verdict.message}"
            )
            warnings.warn(self.report_, TransferWarning, stacklevel=2)
        else:
            self.report_ = f"Serving the transferred model. {verdict.message}"
        return self

    def _check_is_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise AttributeError(
                "This NegativeTransferGuard is not fitted yet; call fit(transferred, "
                "baselines, target_labeled) first."
            )

    def predict(self, data: Domain | ArrayLike) -> np.ndarray:
        """Predictions of the chosen model (a Domain, or arrays for scikit-learn models)."""
        return self._delegate("predict", data)

    def predict_proba(self, data: Domain | ArrayLike) -> np.ndarray:
        """Class probabilities of the chosen model."""
        return self._delegate("predict_proba", data)

    @property
    def classes_(self) -> np.ndarray:
        """Classes of the chosen model."""
        self._check_is_fitted()
        return self.model_.classes_

    def _delegate(self, method: str, data: Domain | ArrayLike) -> np.ndarray:
        self._check_is_fitted()
        if isinstance(data, Domain):
            kind = "predict" if method == "predict" else "proba"
            return model_output(self.model_, data, kind)
        return getattr(self.model_, method)(data)

    def __repr__(self) -> str:
        state = f", chosen_={self.chosen_!r}" if hasattr(self, "chosen_") else ""
        return (f"NegativeTransferGuard(metric={self.metric!r}, confidence={self.confidence!r}, "
                f"on_inconclusive={self.on_inconclusive!r}{state})")
