"""Unsupervised validators: choose among fitted transfer models without target labels.

Each validator scores one fitted candidate from held-out labelled *source* rows (that no
candidate was trained on) and unlabelled *target* rows. ``select_model`` scores every
candidate and returns the winner with the full table. Validators are registered in
``VALIDATORS``, so recipes and the CLI can name them.

==============  ================================================  =================
name            what it measures                                  better
==============  ================================================  =================
``iwcv``        importance-weighted source risk                   lower
``dev``         IWCV with DEV's control variate (lower variance)  lower
``snd``         soft neighbourhood density of target predictions  higher
``entropy``     mean entropy of target predictions                lower
``domain_auc``  domain-classifier AUC of the model's outputs      lower (0.5 ideal)
==============  ================================================  =================

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from transferkit import Domain
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 2)); y = (X[:, 0] > 0).astype(int)
>>> source = Domain.from_arrays(X[:100], y[:100]); target = Domain.from_arrays(X[100:] + 0.5)
>>> good = LogisticRegression().fit(X[:100], y[:100])
>>> bad = LogisticRegression().fit(X[:100], rng.integers(0, 2, 100))
>>> selection = select_model({"good": good, "bad": bad}, "entropy", target=target)
>>> selection.best_name
'good'
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from transferkit._registry import Registry
from transferkit._validation import check_choice, check_param
from transferkit.detect._outputs import (
    Representation,
    model_classes,
    model_output,
    representation_of,
)
from transferkit.domain import Domain
from transferkit.exceptions import TransferWarning

__all__ = [
    "VALIDATORS",
    "DEVValidator",
    "DomainAUCValidator",
    "EntropyValidator",
    "IWCVValidator",
    "ModelSelection",
    "SNDValidator",
    "Validator",
    "control_variate_risk",
    "select_model",
]

VALIDATORS: Registry[type[Validator]] = Registry("validator")
Loss = Literal["error", "log_loss"]
_EPS = 1e-12
# Below this share of the source rows, importance weights carry too little information.
_LOW_ESS = 0.1


class Validator:
    """Base class: ``score(model, source, target)`` without target labels.

    Attributes
    ----------
    greater_is_better : bool
        Direction of the score, used by :func:`select_model`.
    needs_source : bool
        Whether held-out labelled source rows are required.
    """

    greater_is_better: ClassVar[bool] = True
    needs_source: ClassVar[bool] = False

    def score(self, model: Any, source: Domain | None, target: Domain) -> float:
        """Score of one fitted candidate (see ``greater_is_better``)."""
        raise NotImplementedError

    def _labelled_source(self, source: Domain | None) -> Domain:
        name = type(self).__name__
        if source is None:
            raise ValueError(
                f"{name} needs held-out labelled source rows; pass source=... with rows no "
                "candidate was trained on (e.g. source.split(0.2)[1])."
            )
        if source.schema.label is None or source.n_labeled == 0:
            raise ValueError(
                f"{name}: source Domain {source.name!r} has no labelled rows; it needs them "
                "to estimate the target risk."
            )
        if not source.is_classification:
            raise ValueError(
                f"{name} scores classifiers; source Domain {source.name!r} is a "
                f"{source.task} task."
            )
        return source.labeled()

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({params})"


def _row_losses(model: Any, source: Domain, loss: Loss, who: str) -> np.ndarray:
    """Per-row 0-1 error or log loss of ``model`` on labelled source rows."""
    proba = model_output(model, source, "proba")
    y = source.y
    classes = model_classes(model, proba.shape[1], np.unique(y), who)
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    unknown = sorted({v for v in y.tolist() if v not in lookup}, key=str)
    if unknown:
        raise ValueError(
            f"{who}: source labels {unknown} are not among the model's classes "
            f"{classes.tolist()}; validate on rows of the classes the model was trained on."
        )
    columns = np.array([lookup[v] for v in y.tolist()])
    if loss == "error":
        return (proba.argmax(axis=1) != columns).astype(float)
    return -np.log(np.clip(proba[np.arange(len(y)), columns], _EPS, None))


def _domain_ratio(
    source_features: np.ndarray, target_features: np.ndarray, *, n_splits: int, seed: int
) -> np.ndarray:
    """Cross-fitted density ratio p_target / p_source at each source row.

    A logistic-regression domain classifier is fitted on the other folds and evaluated on
    the held-out fold, so no row's weight comes from a classifier that saw it.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.vstack([source_features, target_features])
    is_target = np.r_[np.zeros(len(source_features)), np.ones(len(target_features))]
    n_splits = min(n_splits, len(source_features), len(target_features))
    if n_splits < 2:
        raise ValueError(
            f"Density-ratio estimation needs at least 2 source and 2 target rows; got "
            f"{len(source_features)} and {len(target_features)}."
        )
    p_target = np.empty(len(X))
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    for train, test in folds.split(X, is_target):
        classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        classifier.fit(X[train], is_target[train])
        p_target[test] = classifier.predict_proba(X[test])[:, 1]
    p = np.clip(p_target[: len(source_features)], 1e-6, 1 - 1e-6)
    prior = len(source_features) / len(target_features)
    return prior * p / (1 - p)


def _normalised(weights: np.ndarray, who: str) -> np.ndarray:
    total = weights.sum()
    if not np.isfinite(weights).all() or (weights < 0).any() or total <= 0:
        raise ValueError(f"{who}: importance weights must be finite, >= 0 and not all zero.")
    weights = weights * (len(weights) / total)
    ess = weights.sum() ** 2 / (weights**2).sum()
    if ess < _LOW_ESS * len(weights):
        warnings.warn(
            f"{who}: the importance weights have an effective sample size of {ess:.0f} of "
            f"{len(weights)} source rows; the estimate of the target risk is noisy. Clip the "
            "weights or validate on more source rows.",
            TransferWarning, stacklevel=3,
        )
    return weights


@VALIDATORS.register("iwcv")
class IWCVValidator(Validator):
    """Importance-weighted validation: source risk reweighted toward the target market.

    Parameters
    ----------
    weights : array-like of shape (n_source_rows,), optional
        Importance weights ``p_target(x) / p_source(x)`` of the held-out source rows.
    weighter : object with ``compute_weights(X)``, optional
        A fitted reweighter (``transferkit.reweight``) that gives those weights.
    loss : {"error", "log_loss"}, default="error"
        Per-row loss: 0-1 error (the risk estimates 1 - target accuracy) or log loss.
    n_splits : int, default=5
        Folds of the cross-fitted domain classifier used when neither ``weights`` nor
        ``weighter`` is given (then the ratio is estimated in the input space).
    random_state : int, default=0

    References
    ----------
    Sugiyama, Krauledat, Müller. "Covariate Shift Adaptation by Importance Weighted Cross
    Validation", JMLR 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from transferkit import Domain
    >>> X = np.r_[np.zeros((5, 1)), np.ones((5, 1))]; y = np.r_[[0] * 5, [1] * 5]
    >>> model = LogisticRegression().fit(X, y)
    >>> source = Domain.from_arrays(X, y); target = Domain.from_arrays(X)
    >>> IWCVValidator(weights=np.ones(10)).score(model, source, target)
    0.0
    """

    greater_is_better = False
    needs_source = True

    def __init__(
        self,
        weights: ArrayLike | None = None,
        weighter: Any = None,
        *,
        loss: Loss = "error",
        n_splits: int = 5,
        random_state: int = 0,
    ) -> None:
        self.weights = weights
        self.weighter = weighter
        self.loss = loss
        self.n_splits = n_splits
        self.random_state = random_state

    def score(self, model: Any, source: Domain | None, target: Domain) -> float:
        """Importance-weighted risk on held-out source rows (estimates the target risk)."""
        check_choice("IWCVValidator", "loss", self.loss, ("error", "log_loss"))
        source = self._labelled_source(source)
        losses = _row_losses(model, source, self.loss, "IWCVValidator")
        weights = self._weights(source, target)
        return float(np.mean(weights * losses))

    def _weights(self, source: Domain, target: Domain) -> np.ndarray:
        if self.weights is not None and self.weighter is not None:
            raise ValueError("IWCVValidator: pass weights or weighter, not both.")
        if self.weights is not None:
            weights = np.asarray(self.weights, dtype=float)
            if weights.shape != (source.n_samples,):
                raise ValueError(
                    f"IWCVValidator: weights have shape {weights.shape} but the source "
                    f"validation Domain has {source.n_samples} labelled rows; pass one weight "
                    "per held-out source row."
                )
        elif self.weighter is not None:
            if not callable(getattr(self.weighter, "compute_weights", None)):
                raise TypeError(
                    f"IWCVValidator: weighter {type(self.weighter).__name__} has no "
                    "compute_weights(X); pass a fitted transferkit reweighter."
                )
            weights = np.asarray(self.weighter.compute_weights(source.X), dtype=float)
        else:
            check_param("IWCVValidator", "n_splits", self.n_splits, "an int >= 2",
                        lambda v: int(v) == v and v >= 2)
            weights = _domain_ratio(np.asarray(source.X, dtype=float),
                                    np.asarray(target.X, dtype=float),
                                    n_splits=int(self.n_splits), seed=self.random_state)
        return _normalised(weights, "IWCVValidator")


@VALIDATORS.register("dev")
class DEVValidator(Validator):
    """Deep Embedded Validation: importance-weighted risk in the model's feature space.

    The density ratio is estimated by a cross-fitted domain classifier on the candidate's
    own features (``transform``) of source and target rows, and the weighted risk is
    corrected with the control variate ``eta = -Cov(w l, w) / Var(w)``, which uses that
    the weights have mean 1 to cut the variance of the estimate.

    Parameters
    ----------
    loss : {"error", "log_loss"}, default="error"
    representation : {"auto", "features", "proba"}, default="auto"
        Space of the density ratio: the model's features (``transform``), its predicted
        probabilities, or ``"auto"`` (features when the model has ``transform``).
    n_splits : int, default=5
    random_state : int, default=0

    References
    ----------
    You, Wang, Chen, Wang, Long. "Towards Accurate Model Selection in Deep Unsupervised
    Domain Adaptation", ICML 2019.
    """

    greater_is_better = False
    needs_source = True

    def __init__(
        self,
        *,
        loss: Loss = "error",
        representation: Representation = "auto",
        n_splits: int = 5,
        random_state: int = 0,
    ) -> None:
        self.loss = loss
        self.representation = representation
        self.n_splits = n_splits
        self.random_state = random_state

    def score(self, model: Any, source: Domain | None, target: Domain) -> float:
        """DEV risk (lower is better); estimates the target risk of ``model``."""
        check_choice("DEVValidator", "loss", self.loss, ("error", "log_loss"))
        check_choice("DEVValidator", "representation", self.representation,
                     ("auto", "features", "proba"))
        check_param("DEVValidator", "n_splits", self.n_splits, "an int >= 2",
                    lambda v: int(v) == v and v >= 2)
        source = self._labelled_source(source)
        losses = _row_losses(model, source, self.loss, "DEVValidator")
        kind = representation_of(model, self.representation)
        weights = _domain_ratio(model_output(model, source, kind),
                                model_output(model, target, kind),
                                n_splits=int(self.n_splits), seed=self.random_state)
        return control_variate_risk(losses, _normalised(weights, "DEVValidator"))


def control_variate_risk(losses: np.ndarray, weights: np.ndarray) -> float:
    """Weighted risk ``mean(w l)`` corrected with the control variate ``w`` (E[w] = 1).

    ``mean(w l) + eta (mean(w) - 1)`` with ``eta = -Cov(w l, w) / Var(w)`` keeps the
    expectation and removes the part of the variance that the weights explain (DEV,
    You et al. 2019, eq. 7).

    Examples
    --------
    >>> import numpy as np
    >>> control_variate_risk(np.array([0.0, 1.0]), np.ones(2))
    0.5
    """
    weighted = weights * losses
    variance = np.var(weights, ddof=1) if len(weights) > 1 else 0.0
    if variance <= _EPS:
        return float(np.mean(weighted))
    eta = -np.cov(weighted, weights, ddof=1)[0, 1] / variance
    return float(np.mean(weighted) + eta * (np.mean(weights) - 1.0))


def _row_entropy(proba: np.ndarray) -> np.ndarray:
    clipped = np.clip(proba, _EPS, 1.0)
    return -(proba * np.log(clipped)).sum(axis=1)


@VALIDATORS.register("snd")
class SNDValidator(Validator):
    """Soft Neighbourhood Density: are target predictions clustered with their neighbours?

    Target outputs are L2-normalised, each row's cosine similarities to the other rows
    are turned into a softmax with a low temperature, and the score is the mean entropy
    of those neighbourhood distributions. A model whose target predictions form dense,
    consistent neighbourhoods scores high. Outputs that are all alike (a collapsed model)
    also spread every neighbourhood evenly and reach the maximum ``log(n - 1)``, so use
    SND among candidates that all classify the source well.

    Parameters
    ----------
    temperature : float, default=0.05
        Softmax temperature of the paper.
    representation : {"proba", "features", "auto"}, default="proba"
        What is compared; the paper uses the classifier's softmax outputs.
    max_samples : int, default=2000
        Target rows used (a seeded sample above that, the similarity matrix is n x n).
    random_state : int, default=0

    References
    ----------
    Saito, Kim, Teterwak, Sclaroff, Darrell, Saenko. "Tune it the Right Way: Unsupervised
    Validation of Domain Adaptation via Soft Neighborhood Density", ICCV 2021.
    """

    greater_is_better = True

    def __init__(
        self,
        *,
        temperature: float = 0.05,
        representation: Representation = "proba",
        max_samples: int = 2000,
        random_state: int = 0,
    ) -> None:
        self.temperature = temperature
        self.representation = representation
        self.max_samples = max_samples
        self.random_state = random_state

    def score(self, model: Any, source: Domain | None, target: Domain) -> float:
        """Mean soft-neighbourhood entropy of target rows (higher is better)."""
        check_param("SNDValidator", "temperature", self.temperature, "a float > 0",
                    lambda v: v > 0)
        check_param("SNDValidator", "max_samples", self.max_samples, "an int >= 3",
                    lambda v: int(v) == v and v >= 3)
        check_choice("SNDValidator", "representation", self.representation,
                     ("auto", "features", "proba"))
        if target.n_samples > self.max_samples:
            target = target.sample(int(self.max_samples), seed=self.random_state)
        if target.n_samples < 3:
            raise ValueError(f"SNDValidator needs at least 3 target rows; got {target.n_samples}.")
        outputs = model_output(model, target, representation_of(model, self.representation))
        norms = np.linalg.norm(outputs, axis=1, keepdims=True)
        unit = outputs / np.maximum(norms, _EPS)
        logits = unit @ unit.T / self.temperature
        np.fill_diagonal(logits, -np.inf)
        logits -= logits.max(axis=1, keepdims=True)
        neighbours = np.exp(logits)
        neighbours /= neighbours.sum(axis=1, keepdims=True)
        return float(np.mean(_row_entropy(neighbours)))


@VALIDATORS.register("entropy")
class EntropyValidator(Validator):
    """Mean entropy of the model's predicted class probabilities on target rows.

    Confident target predictions (low entropy) often go with lower target error, but a
    model can be confidently wrong; prefer ``dev`` or ``snd`` when source rows are at
    hand.

    References
    ----------
    Morerio, Cavazza, Murino. "Minimal-Entropy Correlation Alignment for Unsupervised Deep
    Domain Adaptation", ICLR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from transferkit import Domain
    >>> class Unsure:
    ...     def predict_proba(self, X):
    ...         return np.full((len(X), 2), 0.5)
    >>> round(EntropyValidator().score(Unsure(), None, Domain.from_arrays(np.zeros((4, 1)))), 4)
    0.6931
    """

    greater_is_better = False

    def score(self, model: Any, source: Domain | None, target: Domain) -> float:
        """Mean prediction entropy in nats (lower is better)."""
        return float(np.mean(_row_entropy(model_output(model, target, "proba"))))


@VALIDATORS.register("domain_auc")
class DomainAUCValidator(Validator):
    """Domain-classifier AUC of the model's learned features (0.5 = indistinguishable).

    Measures how well the candidate aligned the two markets, not whether it classifies
    well: a constant feature map scores a perfect 0.5. Use it beside a risk-based
    validator, or among candidates of similar source accuracy.

    Parameters
    ----------
    representation : {"auto", "features", "proba"}, default="auto"
    classifier : sklearn classifier, optional
        The domain classifier. None uses logistic regression on standardised outputs:
        learned features are meant to be linearly usable, and it is fast enough to score
        many candidates (``transferkit.metrics`` defaults to gradient boosting).
    cv : int, default=5
        Folds of the cross-validated domain classifier.
    random_state : int, default=0
    """

    greater_is_better = False

    def __init__(
        self,
        *,
        representation: Representation = "auto",
        classifier: Any = None,
        cv: int = 5,
        random_state: int = 0,
    ) -> None:
        self.representation = representation
        self.classifier = classifier
        self.cv = cv
        self.random_state = random_state

    def score(self, model: Any, source: Domain | None, target: Domain) -> float:
        """Cross-validated AUC of a source-vs-target classifier on the model's outputs."""
        from transferkit.metrics import domain_classifier_auc

        check_choice("DomainAUCValidator", "representation", self.representation,
                     ("auto", "features", "proba"))
        if source is None:
            raise ValueError(
                "DomainAUCValidator needs source rows (labels not required); pass source=..."
            )
        kind = representation_of(model, self.representation)
        outputs = [model_output(model, source, kind), model_output(model, target, kind)]
        classifier = self.classifier
        if classifier is None:
            from sklearn.linear_model import LogisticRegression

            # Standardise with the pooled statistics (no labels involved, so no leak).
            pooled = np.vstack(outputs)
            centre, scale = pooled.mean(axis=0), pooled.std(axis=0)
            outputs = [(o - centre) / np.where(scale > 0, scale, 1.0) for o in outputs]
            classifier = LogisticRegression(max_iter=1000)
        return float(domain_classifier_auc(
            outputs[0], outputs[1], classifier=classifier, cv=self.cv,
            random_state=self.random_state,
        ))


@dataclass(frozen=True)
class ModelSelection:
    """Result of :func:`select_model`.

    Attributes
    ----------
    best_name : str
        Name of the winning candidate.
    best : object
        The winning fitted candidate.
    validator : str
        The validator, as its repr.
    greater_is_better : bool
        Direction of ``table["score"]``.
    table : DataFrame
        Index ``candidate``; columns ``score`` and ``rank`` (1 = chosen), best first.
    """

    best_name: str
    best: Any
    validator: str
    greater_is_better: bool
    table: pd.DataFrame


def _named(candidates: Mapping[str, Any] | Sequence[Any]) -> dict[str, Any]:
    if isinstance(candidates, Mapping):
        named = {str(k): v for k, v in candidates.items()}
    else:
        named = {}
        for i, model in enumerate(candidates):
            named[f"{i}:{type(model).__name__}"] = model
    if not named:
        raise ValueError("select_model: no candidates given; pass {name: fitted model}.")
    return named


def select_model(
    candidates: Mapping[str, Any] | Sequence[Any],
    validator: str | Validator,
    *,
    target: Domain,
    source: Domain | None = None,
) -> ModelSelection:
    """Score every fitted candidate with an unsupervised validator and pick the best.

    Parameters
    ----------
    candidates : mapping of name -> fitted model, or a sequence of fitted models
        Each has ``predict_proba`` (and ``transform`` for feature-space validators); it may
        take arrays (scikit-learn) or Domains (transferkit trainers).
    validator : str or Validator
        A name in ``VALIDATORS`` (default parameters) or a configured instance.
    target : Domain
        Target rows; their labels, if any, are not used.
    source : Domain, optional
        Held-out labelled source rows no candidate was trained on (``iwcv``, ``dev``,
        ``domain_auc`` need it).

    Returns
    -------
    ModelSelection
        Winner, its name and the score table. Ties go to the first candidate.

    Raises
    ------
    ValueError, TypeError
        Naming the candidate whose scoring failed.
    """
    if isinstance(validator, str):
        validator = VALIDATORS.get(validator)()
    if not isinstance(validator, Validator):
        raise TypeError(
            f"select_model: validator must be a name in VALIDATORS {VALIDATORS.names()} or a "
            f"Validator instance; got {type(validator).__name__}."
        )
    named = _named(candidates)
    scores = {}
    for name, model in named.items():
        try:
            scores[name] = validator.score(model, source, target)
        except (TypeError, ValueError) as exc:
            kind = TypeError if isinstance(exc, TypeError) else ValueError
            raise kind(f"select_model: candidate {name!r}: {exc}") from exc
    table = pd.DataFrame({"score": pd.Series(scores, dtype=float)})
    if table["score"].isna().any():
        raise ValueError(
            f"select_model: {validator!r} gave NaN for candidates "
            f"{table.index[table['score'].isna()].tolist()}."
        )
    table = table.sort_values("score", ascending=not validator.greater_is_better, kind="stable")
    table["rank"] = np.arange(1, len(table) + 1)
    table.index.name = "candidate"
    best_name = str(table.index[0])
    return ModelSelection(best_name, named[best_name], repr(validator),
                          validator.greater_is_better, table)
