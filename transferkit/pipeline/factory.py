"""One factory over every method family: ``create(name, **params)``.

A method is anything with ``fit(source, target)`` on featurized Domains, then ``predict``
(and ``predict_proba`` for classifiers). Families: ``baseline`` (source-only,
target-only), ``reweight`` (any scikit-learn model on importance-weighted source rows),
``align`` (DANN, CDAN, Deep CORAL, MMD and their source-only network), ``finetune``
(the source network fine-tuned on the labelled target rows: L2-SP, LP-FT, probe), ``fewlabel``
(methods that learn from the labelled target rows). Every name is unique across
families; the registry lists them and unknown names fail with "did you mean".

Examples
--------
>>> "kmm" in names() and "dann" in names("align")
True
>>> create("kmm", reg=0.0).weighter.reg
0.0
>>> create("dnn")
Traceback (most recent call last):
...
KeyError: "Unknown method 'dnn'. Did you mean 'dann'? ..."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sklearn.base import BaseEstimator

from transferkit._registry import Registry
from transferkit.align import ALIGNERS
from transferkit.align.estimators import default_config
from transferkit.baselines import make_model
from transferkit.fewlabel import FEWLABEL, SourceOnly, TargetOnly
from transferkit.pipeline._finetune import SourceNetworkFineTune
from transferkit.reweight import BBSE, MLLS, REWEIGHTERS, ReweightedEstimator
from transferkit.training import TrainConfig

__all__ = ["METHODS", "MethodSpec", "create", "describe_methods", "names"]

Family = Literal["baseline", "reweight", "align", "finetune", "fewlabel", "meta"]
FAMILIES: tuple[str, ...] = ("baseline", "reweight", "align", "finetune", "fewlabel", "meta")


@dataclass(frozen=True)
class MethodSpec:
    """How to build one named method.

    Attributes
    ----------
    name : str
    family : str
    build : callable
        ``build(task=..., model=..., random_state=..., **params)`` -> unfitted method.
    uses_target_labels : bool
        Whether ``fit`` learns from labelled target rows.
    summary : str
        One line for ``transferkit list methods``.
    tasks : tuple of str
        ``"classification"`` and / or ``"regression"``: what the method can learn.
    """

    name: str
    family: Family
    build: Callable[..., BaseEstimator]
    uses_target_labels: bool
    summary: str
    tasks: tuple[str, ...] = ("classification", "regression")

    def supports(self, task: str) -> bool:
        """Whether the method learns ``task`` (``"binary"``, ``"multiclass"``, ...)."""
        kind = "regression" if task == "regression" else "classification"
        return kind in self.tasks


METHODS: Registry[MethodSpec] = Registry("method")


def register_method(spec: MethodSpec) -> MethodSpec:
    """Add ``spec`` to ``METHODS`` (names are unique across families)."""
    return METHODS.register(spec.name)(spec)


def create(
    name: str,
    *,
    task: str = "binary",
    model: str | BaseEstimator = "logistic",
    random_state: int | None = None,
    **params: Any,
) -> BaseEstimator:
    """An unfitted method by name.

    Parameters
    ----------
    name : str
        A name in ``names()``.
    task : {"binary", "multiclass", "regression"}, default="binary"
        Picks the scikit-learn model of the baseline, reweighting and few-label methods.
    model : {"logistic", "gbm"} or scikit-learn estimator, default="logistic"
        That model: regularised logistic / ridge regression, gradient boosting, or your own.
    random_state : int, optional
        Seed; changes only the randomness, never the training budget.
    **params
        The method's own parameters; neural methods also take ``train={...}``
        (``TrainConfig`` fields overriding the one default budget).

    Raises
    ------
    KeyError
        Unknown name, with "did you mean".
    ValueError
        The method cannot learn ``task``.
    TypeError
        A parameter the method does not have, naming the ones it has.
    """
    spec = METHODS.get(name)
    if not spec.supports(task):
        raise ValueError(
            f"Method {name!r} learns {' and '.join(spec.tasks)} only; these markets are a "
            f"{task} task. Methods for it: {', '.join(names(task=task))}."
        )
    try:
        return spec.build(task=task, model=model, random_state=random_state, **params)
    except TypeError as exc:
        if "unexpected keyword" not in str(exc):
            raise
        raise TypeError(f"Method {name!r}: {exc}") from exc


def names(family: str | None = None, *, task: str | None = None) -> list[str]:
    """Registered method names, optionally of one family and able to learn ``task``."""
    return [n for n, spec in METHODS.items()
            if (family is None or spec.family == family)
            and (task is None or spec.supports(task))]


def describe_methods() -> list[dict[str, Any]]:
    """One row per method: name, family, whether it uses target labels, summary."""
    return [{"name": spec.name, "family": spec.family,
             "uses_target_labels": spec.uses_target_labels, "tasks": list(spec.tasks),
             "summary": spec.summary}
            for _, spec in METHODS.items()]


def _seed(random_state: int | None) -> int:
    return 0 if random_state is None else int(random_state)


def _accepts(cls: type, parameter: str) -> bool:
    return parameter in inspect.signature(cls.__init__).parameters


def _check_params(name: str, cls: type, params: Mapping[str, Any]) -> None:
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise TypeError(
            f"Method {name!r} got unexpected keyword parameter(s) {unknown}; it takes "
            f"{sorted(allowed)}."
        )


def _train_config(train: Mapping[str, Any] | None, where: str) -> TrainConfig | None:
    if not train:
        return None
    return TrainConfig.from_dict({**default_config().to_dict(), **dict(train)}, source=where)


# ---------------------------------------------------------------------- baselines
def _source_only(*, task: str, model: Any, random_state: int | None) -> BaseEstimator:
    estimator = None if model == "logistic" else make_model(model, task, _seed(random_state))
    return SourceOnly(estimator=estimator, random_state=random_state)


def _target_only(*, task: str, model: Any, random_state: int | None,
                 **params: Any) -> BaseEstimator:
    # With tens of labels the fair target-only reference is a linear model whose L2
    # strength is tuned on those labels, whatever model the transfer methods use.
    _check_params("target_only", TargetOnly, params)
    return TargetOnly(random_state=random_state, **params)


register_method(MethodSpec(
    "source_only", "baseline", _source_only, False,
    "the model trained on the source market alone (reuse it as it is)"))
register_method(MethodSpec(
    "target_only", "baseline", _target_only, True,
    "an L2 linear model on the labelled target rows alone, its strength tuned by CV"))


# ---------------------------------------------------------------------- reweighting
def _reweighting(name: str, weighter_cls: type) -> Callable[..., BaseEstimator]:
    def build(*, task: str, model: Any, random_state: int | None,
              **params: Any) -> BaseEstimator:
        _check_params(name, weighter_cls, params)
        if random_state is not None and _accepts(weighter_cls, "random_state"):
            params.setdefault("random_state", random_state)
        return ReweightedEstimator(make_model(model, task, _seed(random_state)),
                                   weighter_cls(**params))

    return build


for _name, _cls in REWEIGHTERS.items():
    register_method(MethodSpec(
        _name, "reweight", _reweighting(_name, _cls), False,
        f"the model trained on source rows weighted by {_cls.__name__} density ratios"))
for _name, _cls in (("bbse", BBSE), ("mlls", MLLS)):
    register_method(MethodSpec(
        _name, "reweight", _reweighting(_name, _cls), False,
        f"the model trained on source rows weighted for label shift ({_cls.__name__})",
        ("classification",)))


# ---------------------------------------------------------------------- alignment
def _aligner(name: str, cls: type) -> Callable[..., BaseEstimator]:
    def build(*, task: str, model: Any, random_state: int | None,
              train: Mapping[str, Any] | None = None, **params: Any) -> BaseEstimator:
        _check_params(name, cls, params)
        config = params.pop("config", None) or _train_config(train, f"method {name!r}")
        return cls(config=config, random_state=random_state, **params)

    return build


for _name, _cls in ALIGNERS.items():
    register_method(MethodSpec(
        _name, "align", _aligner(_name, _cls), False,
        (_cls.__doc__ or _cls.__name__).strip().splitlines()[0],
        ("classification",) if _cls._classification_only else ("classification",
                                                                "regression")))


# ---------------------------------------------------------------------- fine-tuning
def _finetuning(name: str, strategy: str) -> Callable[..., BaseEstimator]:
    def build(*, task: str, model: Any, random_state: int | None,
              **params: Any) -> BaseEstimator:
        _check_params(name, SourceNetworkFineTune, params)
        return SourceNetworkFineTune(strategy, random_state=random_state, **params)

    return build


for _name, _strategy, _summary in (
        ("finetune_l2sp", "l2sp", "the source network fine-tuned on the target labels with "
                                  "L2-SP towards its source weights"),
        ("finetune_lp_ft", "lp_ft", "the source network probed, then fine-tuned (LP-FT) on "
                                    "the target labels"),
        ("finetune_probe", "linear_probe", "a new head on the frozen source network, fitted "
                                           "on the target labels")):
    register_method(MethodSpec(_name, "finetune", _finetuning(_name, _strategy), True,
                               _summary, ("classification",)))


# ---------------------------------------------------------------------- few-label
def _few_label(name: str, cls: type) -> Callable[..., BaseEstimator]:
    def build(*, task: str, model: Any, random_state: int | None,
              **params: Any) -> BaseEstimator:
        _check_params(name, cls, params)
        # "logistic" keeps each method's own default (a standardised, CV-tuned linear
        # model); any other model replaces its learner.
        if model != "logistic" and _accepts(cls, "estimator"):
            params.setdefault("estimator", make_model(model, task, _seed(random_state)))
        if _accepts(cls, "weighter"):
            weighter = params.get("weighter", "discriminative")
            if isinstance(weighter, str):
                weighter = REWEIGHTERS.get(weighter)(
                    **({"random_state": random_state}
                       if _accepts(REWEIGHTERS.get(weighter), "random_state") else {}))
            params["weighter"] = weighter
        return cls(random_state=random_state, **params)

    return build


# The factory's baselines own the names source_only / target_only.
_FEWLABEL_TASKS: dict[str, tuple[str, ...]] = {
    "tradaboost": ("classification",), "tradaboost_r2": ("regression",),
    "two_stage_tradaboost_r2": ("regression",)}
for _name, _cls in FEWLABEL.items():
    if _name in ("source_only", "target_only"):
        continue
    register_method(MethodSpec(
        _name, "fewlabel", _few_label(_name, _cls), True,
        (_cls.__doc__ or _cls.__name__).strip().splitlines()[0],
        _FEWLABEL_TASKS.get(_name, ("classification", "regression"))))
