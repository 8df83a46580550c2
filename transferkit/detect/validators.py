"""Unsupervised validators: choose among fitted transfer models without target labels.

Each validator scores one fitted candidate from held-out labelled *source* rows (that no
candidate was trained on) and unlabelled *target* rows. ``select_model``
(``transferkit.detect.selection``) scores every candidate and returns the winner with the
full table. Validators are registered in
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

Candidates are compared in one space. The validators that read a model's outputs
(``dev``, ``snd``, ``domain_auc``) use its predicted class probabilities for every candidate
by default (``representation="auto"``): a shallow model has no learned features, and two
networks' feature spaces (64-256 columns each) are not the same space, so a feature-space
score would compare different things for different candidates (shallow models scored on
probabilities won 12 of 21 picks by construction). ``representation="features"`` is still
there for candidates that share one feature extractor; ``select_model`` notes when it
cannot compare them in one space.

``iwcv`` and ``dev`` rest on a density ratio; when its weights carry too little
information (effective sample size below ``min_ess`` of the source rows, or a held-out
mean weight far from 1) they answer "unreliable" (a NaN score with a reason) instead of a
number, and ``select_model`` ranks only the candidates that could be scored, or hands the
choice to the ``fallback`` validator the caller names.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from transferkit import Domain
>>> X = np.random.default_rng(0).normal(size=(100, 2)); y = (X[:, 0] > 0).astype(int)
>>> model = LogisticRegression().fit(X, y)
>>> score = EntropyValidator().evaluate(model, None, Domain.from_arrays(X + 0.5))
>>> score.reliable, bool(0 <= score.score <= np.log(2))
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike

from transferkit._registry import Registry
from transferkit._validation import check_choice, check_param
from transferkit.detect._density_ratio import estimate_ratio, judge_weights
from transferkit.detect._outputs import Representation, model_classes, model_output
from transferkit.domain import Domain

__all__ = [
    "MIN_ESS",
    "VALIDATORS",
    "DEVValidator",
    "DomainAUCValidator",
    "EntropyValidator",
    "IWCVValidator",
    "SNDValidator",
    "Validator",
    "ValidatorScore",
    "control_variate_risk",
]

VALIDATORS: Registry[type[Validator]] = Registry("validator")
_REPRESENTATIONS = ("auto", "features", "proba")
Loss = Literal["error", "log_loss"]
_EPS = 1e-12
MIN_ESS = 0.1
"""Default ``min_ess``: below this share of the source rows, importance weights carry too
little information, and IWCV / DEV answer "unreliable"."""


@dataclass(frozen=True)
class ValidatorScore:
    """One validator's answer for one candidate, saying whether it can be trusted.

    Attributes
    ----------
    score : float
        The score (see the validator's ``greater_is_better``); NaN when not ``reliable``.
    reliable : bool
        False when the validator cannot answer for this candidate (e.g. importance weights
        with too small an effective sample size).
    reason : str
        Why not, in words ("" when reliable).
    ess : float
        Effective sample size of the importance weights (NaN for validators without them).
    """

    score: float
    reliable: bool = True
    reason: str = ""
    ess: float = float("nan")


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
        """Score of one fitted candidate (see ``greater_is_better``); NaN if unreliable."""
        return self.evaluate(model, source, target).score

    def evaluate(self, model: Any, source: Domain | None, target: Domain) -> ValidatorScore:
        """Score of one candidate with its reliability (``select_model`` calls this).

        Subclasses override ``score`` or this method; the base class marks a NaN score as
        unreliable.
        """
        if type(self).score is Validator.score:
            raise NotImplementedError(f"{type(self).__name__} implements neither score nor "
                                      "evaluate.")
        value = float(self.score(model, source, target))
        if not np.isfinite(value):
            return ValidatorScore(value, False, f"{type(self).__name__} returned {value}")
        return ValidatorScore(value)

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


def _space(owner: Validator, who: str) -> Literal["features", "proba"]:
    """The output space of ``owner.representation``: "auto" is probabilities, for everyone."""
    check_choice(who, "representation", owner.representation, _REPRESENTATIONS)
    return "features" if owner.representation == "features" else "proba"


def _check_ratio_params(owner: Validator, who: str) -> None:
    check_param(who, "n_splits", owner.n_splits, "an int >= 2", lambda v: int(v) == v and v >= 2)
    check_param(who, "n_components", owner.n_components, "an int >= 1",
                lambda v: int(v) == v and v >= 1)
    check_param(who, "max_weight", owner.max_weight, "a float > 1", lambda v: v > 1)
    check_param(who, "min_ess", owner.min_ess, "a float in [0, 1]", lambda v: 0 <= v <= 1)


def _estimated_weights(
    owner: Validator, source_features: np.ndarray, target_features: np.ndarray, *,
    scale_columns: bool,
) -> np.ndarray:
    return estimate_ratio(
        np.asarray(source_features, dtype=float), np.asarray(target_features, dtype=float),
        n_components=int(owner.n_components), max_weight=float(owner.max_weight),
        n_splits=int(owner.n_splits), scale_columns=scale_columns, seed=owner.random_state,
    ).weights


@VALIDATORS.register("iwcv")
class IWCVValidator(Validator):
    """Importance-weighted validation: source risk reweighted toward the target market.

    The risk is the self-normalised weighted mean ``sum(w l) / sum(w)`` over held-out
    source rows. Without ``weights`` or ``weighter`` the ratio is estimated from the
    source and target inputs (``n_splits``, ``n_components``, ``max_weight``); ``min_ess``
    applies to every weight.

    Parameters
    ----------
    weights : array-like of shape (n_source_rows,), optional
        Importance weights ``p_target(x) / p_source(x)`` of the held-out source rows.
    weighter : object with ``compute_weights(X)``, optional
        A fitted reweighter (``transferkit.reweight``) that gives those weights.
    loss : {"error", "log_loss"}, default="error"
        Per-row loss: 0-1 error (the risk estimates 1 - target accuracy) or log loss.
    n_splits : int, default=5
        Folds of the cross-fitted domain classifier of the estimated density ratio.
    n_components : int, default=10
        The ratio is estimated in a space of at most this many dimensions: wider inputs are
        reduced to their leading principal components (IWCV standardises the input columns
        first; DEV keeps the scale of the learned features). A domain classifier on hundreds of
        dimensions separates the markets almost perfectly and gives a few rows all the
        weight. The classifier's regularisation is chosen by held-out log loss.
    max_weight : float, default=20.0
        Estimated weights are clipped at this value.
    min_ess : float, default=0.1
        Below this effective sample size, as a share of the held-out source rows, the
        weights carry too little information: the answer is "unreliable" (NaN score with a
        reason), not a number. Estimated weights whose held-out mean leaves [0.5, 2] (it
        should be about 1) are unreliable too.
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
    >>> spiky = np.r_[1000.0, np.full(9, 0.001)]
    >>> IWCVValidator(weights=spiky, min_ess=0.5).evaluate(model, source, target).reliable
    False
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
        n_components: int = 10,
        max_weight: float = 20.0,
        min_ess: float = MIN_ESS,
        random_state: int = 0,
    ) -> None:
        self.weights = weights
        self.weighter = weighter
        self.loss = loss
        self.n_splits = n_splits
        self.n_components = n_components
        self.max_weight = max_weight
        self.min_ess = min_ess
        self.random_state = random_state

    def evaluate(self, model: Any, source: Domain | None, target: Domain) -> ValidatorScore:
        """Importance-weighted risk on held-out source rows, or "unreliable"."""
        check_choice("IWCVValidator", "loss", self.loss, ("error", "log_loss"))
        _check_ratio_params(self, "IWCVValidator")
        source = self._labelled_source(source)
        losses = _row_losses(model, source, self.loss, "IWCVValidator")
        weights, estimated = self._weights(source, target)
        reliable, reason, ess = judge_weights(weights, min_ess=float(self.min_ess),
                                              check_mean=estimated)
        if not reliable:
            return ValidatorScore(float("nan"), False, reason, ess)
        return ValidatorScore(float(np.sum(weights * losses) / np.sum(weights)), True, "", ess)

    def _weights(self, source: Domain, target: Domain) -> tuple[np.ndarray, bool]:
        """The weights of the held-out source rows and whether they were estimated here."""
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
            estimated = False
        elif self.weighter is not None:
            if not callable(getattr(self.weighter, "compute_weights", None)):
                raise TypeError(
                    f"IWCVValidator: weighter {type(self.weighter).__name__} has no "
                    "compute_weights(X); pass a fitted transferkit reweighter."
                )
            weights = np.asarray(self.weighter.compute_weights(source.X), dtype=float)
            estimated = False
        else:
            weights = _estimated_weights(self, source.X, target.X, scale_columns=True)
            estimated = True
        if not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(
                "IWCVValidator: importance weights must be finite, >= 0 and not all zero."
            )
        return weights, estimated


@VALIDATORS.register("dev")
class DEVValidator(Validator):
    """Deep Embedded Validation: importance-weighted risk with a control variate.

    The density ratio ``w`` is estimated by a cross-fitted, tuned domain classifier on the
    candidate's outputs on source and target rows (its predicted probabilities by default,
    the same space for every candidate; or its features), reduced to a few principal
    components. The weighted risk
    ``mean(w l)`` is corrected with the control variate ``w`` itself, whose expectation is
    1: ``mean(w l) + eta (mean(w) - 1)`` with ``eta = -Cov(w l, w) / Var(w)``. The raw
    (not renormalised) weights are used, as in the paper: renormalised weights have mean
    exactly 1 and the correction vanishes.

    Parameters
    ----------
    loss : {"error", "log_loss"}, default="error"
    representation : {"auto", "proba", "features"}, default="auto"
        Space of the density ratio. ``"auto"`` and ``"proba"``: predicted probabilities,
        available and comparable for every classifier. ``"features"``: the model's
        ``transform`` output (DEV's paper), only meaningful among candidates that share a
        feature space.
    n_splits : int, default=5
        Folds of the cross-fitted domain classifier of the estimated density ratio.
    n_components : int, default=10
        The ratio is estimated in a space of at most this many dimensions: wider inputs are
        reduced to their leading principal components (IWCV standardises the input columns
        first; DEV keeps the scale of the learned features). A domain classifier on hundreds of
        dimensions separates the markets almost perfectly and gives a few rows all the
        weight. The classifier's regularisation is chosen by held-out log loss.
    max_weight : float, default=20.0
        Estimated weights are clipped at this value.
    min_ess : float, default=0.1
        Below this effective sample size, as a share of the held-out source rows, the
        weights carry too little information: the answer is "unreliable" (NaN score with a
        reason), not a number. Estimated weights whose held-out mean leaves [0.5, 2] (it
        should be about 1) are unreliable too.
    random_state : int, default=0

    References
    ----------
    You, Wang, Chen, Wang, Long. "Towards Accurate Model Selection in Deep Unsupervised
    Domain Adaptation", ICML 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from transferkit import Domain
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2)); y = (X[:, 0] > 0).astype(int)
    >>> model = LogisticRegression().fit(X[:200], y[:200])
    >>> source = Domain.from_arrays(X[200:], y[200:])
    >>> target = Domain.from_arrays(rng.normal(size=(200, 2)) + 0.3)
    >>> answer = DEVValidator().evaluate(model, source, target)
    >>> answer.reliable, 0.0 <= answer.score <= 0.2
    (True, True)
    """

    greater_is_better = False
    needs_source = True

    def __init__(
        self,
        *,
        loss: Loss = "error",
        representation: Representation = "auto",
        n_splits: int = 5,
        n_components: int = 10,
        max_weight: float = 20.0,
        min_ess: float = MIN_ESS,
        random_state: int = 0,
    ) -> None:
        self.loss = loss
        self.representation = representation
        self.n_splits = n_splits
        self.n_components = n_components
        self.max_weight = max_weight
        self.min_ess = min_ess
        self.random_state = random_state

    def evaluate(self, model: Any, source: Domain | None, target: Domain) -> ValidatorScore:
        """DEV risk (lower is better), or "unreliable" when the weights cannot carry it."""
        check_choice("DEVValidator", "loss", self.loss, ("error", "log_loss"))
        kind = _space(self, "DEVValidator")
        _check_ratio_params(self, "DEVValidator")
        source = self._labelled_source(source)
        losses = _row_losses(model, source, self.loss, "DEVValidator")
        # Learned features keep their own geometry; probabilities are few columns anyway.
        weights = _estimated_weights(self, model_output(model, source, kind),
                                     model_output(model, target, kind), scale_columns=False)
        reliable, reason, ess = judge_weights(weights, min_ess=float(self.min_ess),
                                              check_mean=True)
        if not reliable:
            return ValidatorScore(float("nan"), False, reason, ess)
        return ValidatorScore(control_variate_risk(losses, weights), True, "", ess)


def control_variate_risk(losses: np.ndarray, weights: np.ndarray) -> float:
    """Weighted risk ``mean(w l)`` corrected with the control variate ``w`` (E[w] = 1).

    ``mean(w l) + eta (mean(w) - 1)`` with ``eta = -Cov(w l, w) / Var(w)`` keeps the
    expectation and removes the part of the variance that the weights explain (DEV,
    You et al. 2019, eq. 7). Pass the raw density-ratio weights: weights renormalised to
    mean 1 make the correction exactly 0.

    Examples
    --------
    >>> import numpy as np
    >>> control_variate_risk(np.array([0.0, 1.0]), np.ones(2))
    0.5
    >>> control_variate_risk(np.array([0.0, 1.0]), np.array([0.5, 1.0]))  # no longer 0.5 * 0.5
    1.0
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
        What is compared; the paper uses the classifier's softmax outputs. ``"auto"`` is
        ``"proba"`` (one space for every candidate).
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
        kind = _space(self, "SNDValidator")
        if target.n_samples > self.max_samples:
            target = target.sample(int(self.max_samples), seed=self.random_state)
        if target.n_samples < 3:
            raise ValueError(f"SNDValidator needs at least 3 target rows; got {target.n_samples}.")
        outputs = model_output(model, target, kind)
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
    """Domain-classifier AUC of the model's outputs (0.5 = indistinguishable markets).

    Measures how alike the candidate's outputs on the two markets are, not whether it
    classifies well: a constant output scores a perfect 0.5. Use it beside a risk-based
    validator, or among candidates of similar source accuracy.

    Parameters
    ----------
    representation : {"auto", "proba", "features"}, default="auto"
        ``"auto"`` / ``"proba"``: predicted probabilities, the same space for every
        candidate. ``"features"``: the ``transform`` output; a shallow model scored on
        probabilities and a network on 256 features are not compared fairly (the former
        wins by construction), so use it only among candidates sharing a feature space.
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

        kind = _space(self, "DomainAUCValidator")
        if source is None:
            raise ValueError(
                "DomainAUCValidator needs source rows (labels not required); pass source=..."
            )
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
