"""The steps of a recipe run, each a small function on Domains and pipelines.

load -> split -> featurize -> gap -> candidates -> choose -> serve -> verdict. The
runner (``transferkit.recipes.runner``) calls them in order; each is tested alone.

Examples
--------
>>> from transferkit.recipes import Recipe
>>> recipe = Recipe.from_dict({
...     "name": "doc", "source": {"dataset": "stackoverflow", "market": "United States"},
...     "target": {"dataset": "stackoverflow", "market": "Canada"},
...     "split": {"target_labels": 40}})
>>> source, target = load_markets(recipe)
>>> parts = split_markets(recipe, source, target)
>>> parts.target_train.n_labeled, parts.target_test.n_labeled == parts.target_test.n_samples
(40, True)
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from transferkit.datasets import load_dataset
from transferkit.domain import Domain
from transferkit.evaluation import bootstrap_scores, flat_scores
from transferkit.exceptions import DomainMismatchError, RecipeError, TransferWarning
from transferkit.pipeline import Featurizer, TransferPipeline, create
from transferkit.recipes.config import DataSpec, Recipe

__all__ = [
    "FeaturizedParts",
    "Parts",
    "Selection",
    "budget_curve",
    "candidate_scores",
    "choose",
    "default_methods",
    "featurize",
    "fit_candidates",
    "fit_pipeline",
    "load_market",
    "load_markets",
    "split_markets",
]

# Fewer labelled target rows than this cannot train a target-only model worth comparing.
MIN_TARGET_ONLY_LABELS = 10
# The verdict needs at least this many labelled target rows to hold out.
MIN_TARGET_LABELS = 10
# selection: auto chooses by cross-validation from this many labelled training rows on.
MIN_CV_LABELS = 20
# Default candidates. Without target labels only label-free methods can learn anything
# new, and the validator must compare them in one space: the source-only network and the
# aligners on the same network. On 23 real pairs x 3 seeds (benchmarks/RESULTS.md, study
# "choice_rules"), domain_auc picking among them served 61.0 % mean accuracy, against 59.5 %
# from the former mix of source-only logistic regression, reweighters and two aligners, 60.6
# for a random candidate and 63.1 for the best in hindsight; no other validator, rank vote or
# soft vote was significantly better. With target labels, the few-label methods (cheap,
# linear, CV-tuned) are the candidates the evidence favours (few-label section), beside the
# baselines.
_LABEL_FREE = ("nn_source_only", "dann", "cdan", "deep_coral", "mmd")
_FEW_LABEL = ("source_only", "target_only", "pooled", "regular_transfer",
              "feature_augmentation", "stacking", "weighted_pooled", "tradaboost",
              "two_stage_tradaboost_r2")


@dataclass(frozen=True)
class Parts:
    """Raw rows of one run: every source row, its split, and the target's split.

    ``target_train`` holds the ``split.target_labels`` labelled rows methods may learn
    from plus every unlabelled row; ``target_test`` holds the labelled rows of the verdict,
    which no step before the verdict sees.
    """

    source: Domain
    source_train: Domain
    source_validation: Domain
    target_train: Domain
    target_test: Domain


@dataclass(frozen=True)
class FeaturizedParts:
    """The same parts in the featurizer's numeric space (fitted on ``source_train`` and
    ``target_train``)."""

    featurizer: Featurizer
    source_train: Domain
    source_validation: Domain
    target_train: Domain
    target_test: Domain


def load_market(spec: DataSpec, *, seed: int = 0) -> Domain:
    """The Domain a recipe's ``source`` or ``target`` section points at.

    A file may mix labelled and unlabelled rows: a blank label marks an unlabelled row.
    """
    if spec.dataset is not None:
        try:
            markets = load_dataset(spec.dataset, **dict(spec.options))
        except KeyError as exc:
            raise RecipeError(f"dataset {spec.dataset!r}: {exc.args[0]}") from exc
        if spec.market not in markets:
            raise RecipeError(
                f"dataset {spec.dataset!r} has no market {spec.market!r}; it has "
                f"{sorted(markets)}."
            )
        domain = markets[spec.market]
    else:
        from transferkit._io import read_table

        frame = read_table(Path(spec.path))
        domain = Domain.from_frame(frame, label=spec.label, name=Path(spec.path).stem,
                                   allow_unlabeled=True, **dict(spec.schema))
    if spec.max_rows is not None and domain.n_samples > spec.max_rows:
        domain = domain.sample(int(spec.max_rows), seed=seed)
    return domain


def load_markets(recipe: Recipe) -> tuple[Domain, Domain]:
    """Source and target Domains of ``recipe``, checked for what a run needs."""
    source = load_market(recipe.source, seed=recipe.seed)
    target = load_market(recipe.target, seed=recipe.seed)
    if source.schema.label is None or source.n_labeled == 0:
        raise RecipeError(f"recipe {recipe.name!r}: the source {source.name!r} has no "
                          "labelled rows; name its label column.")
    if target.schema.label is None or target.n_labeled < MIN_TARGET_LABELS:
        raise RecipeError(
            f"recipe {recipe.name!r}: target {target.name!r} has {target.n_labeled} labelled "
            f"rows; the verdict needs labelled target rows to hold out (at least "
            f"{MIN_TARGET_LABELS})."
        )
    if target.task != source.task and not (source.is_classification
                                            and target.is_classification):
        raise RecipeError(
            f"recipe {recipe.name!r}: the source is a {source.task} task but the target "
            f"looks like {target.task}; make the label columns mean the same thing."
        )
    return source, target.with_task(source.task)


def split_markets(recipe: Recipe, source: Domain, target: Domain) -> Parts:
    """Hold out labelled target rows for the verdict and keep ``target_labels`` for training."""
    seed = recipe.seed
    target_train, target_test = target.labeled().split(recipe.split.test_size, seed=seed)
    n_labels = min(recipe.split.target_labels, target_train.n_labeled)
    if recipe.split.target_labels > target_train.n_labeled:
        warnings.warn(
            f"recipe {recipe.name!r} asks for {recipe.split.target_labels} labelled target "
            f"rows for training but only {target_train.n_labeled} remain after holding out "
            f"{target_test.n_samples} for the verdict; using {n_labels}.",
            TransferWarning, stacklevel=2)
    target_train = target_train.hide_labels(n_labels, seed=seed)
    if target.n_labeled < target.n_samples:  # unlabelled target rows help the methods
        target_train = target_train.concat(target.unlabeled())
    labelled = source.labeled()
    source_train, source_validation = labelled.split(recipe.split.source_validation, seed=seed)
    return Parts(labelled, source_train, source_validation, target_train, target_test)


def _pipeline_options(recipe: Recipe) -> dict[str, Any]:
    return {"encoder": recipe.encoder, "harmonize": dict(recipe.harmonize) or None,
            "cache_dir": ".transferkit_cache" if recipe.encoder else None,
            "model": recipe.model, "random_state": recipe.seed}


def featurize(recipe: Recipe, parts: Parts) -> FeaturizedParts:
    """Fit the recipe's featurizer on the training parts and transform every part."""
    options = _pipeline_options(recipe)
    featurizer = Featurizer(encoder=options["encoder"], harmonize=options["harmonize"],
                            cache_dir=options["cache_dir"])
    try:
        featurizer.fit(parts.source_train, parts.target_train)
        return FeaturizedParts(
            featurizer,
            featurizer.transform(parts.source_train, side="source"),
            featurizer.transform(parts.source_validation, side="source"),
            featurizer.transform(parts.target_train, side="target"),
            featurizer.transform(parts.target_test, side="target"),
        )
    except DomainMismatchError as exc:
        raise RecipeError(f"recipe {recipe.name!r}: {exc}") from exc


def _method_params(recipe: Recipe, name: str, progress: bool | str) -> dict[str, Any]:
    params = {k: dict(v) if isinstance(v, Mapping) else v
              for k, v in dict(recipe.method_params.get(name, {})).items()}
    from transferkit.pipeline import METHODS

    if METHODS.get(name).family in ("align", "finetune"):
        params["train"] = {"progress": progress, **dict(params.get("train") or {})}
    return params


def default_methods(task: str, n_target_labels: int) -> tuple[str, ...]:
    """The candidates of a recipe without ``methods``: for its task and its target labels.

    Examples
    --------
    >>> default_methods("binary", 0)
    ('nn_source_only', 'dann', 'cdan', 'deep_coral', 'mmd')
    >>> "regular_transfer" in default_methods("regression", 50)
    True
    """
    from transferkit.pipeline import METHODS

    chosen = _FEW_LABEL if n_target_labels >= MIN_TARGET_ONLY_LABELS else _LABEL_FREE
    return tuple(n for n in chosen if METHODS.get(n).supports(task))


def candidate_names(recipe: Recipe, parts: FeaturizedParts) -> tuple[str, ...]:
    """``recipe.methods``, or the default set for the task and the target labels."""
    if recipe.methods is not None:
        return recipe.methods
    return default_methods(parts.source_train.task, parts.target_train.n_labeled)


def _new_method(recipe: Recipe, name: str, task: str, progress: bool | str) -> Any:
    """The unfitted method ``name`` with the recipe's model, seed and parameters."""
    return create(name, task=task, model=recipe.model, random_state=recipe.seed,
                  **_method_params(recipe, name, progress))


def fit_candidates(recipe: Recipe, parts: FeaturizedParts, *, progress: bool | str,
                   say: Any) -> tuple[dict[str, Any], dict[str, float]]:
    """Every candidate method fitted on the featurized training parts, with fit seconds.

    A candidate that cannot learn from these data (a one-class labelled target for a
    few-label method, say) is left out with a ``TransferWarning`` naming it and why; the
    run fails only when no candidate is left.
    """
    candidates, seconds, skipped = {}, {}, {}
    task = parts.source_train.task
    for name in candidate_names(recipe, parts):
        say(f"      {name}")
        tick = time.perf_counter()
        method = _new_method(recipe, name, task, progress)
        try:
            candidates[name] = method.fit(parts.source_train, parts.target_train)
        except (ValueError, TypeError) as exc:
            skipped[name] = str(exc)
            warnings.warn(f"candidate {name!r} left out: {exc}", TransferWarning, stacklevel=2)
            continue
        seconds[name] = time.perf_counter() - tick
    if not candidates:
        reasons = "; ".join(f"{k}: {v}" for k, v in skipped.items())
        raise RecipeError(f"recipe {recipe.name!r}: no candidate method could be fitted "
                          f"({reasons}).")
    return candidates, seconds


@dataclass(frozen=True)
class Selection:
    """Which candidate is served and how it was chosen.

    Attributes
    ----------
    best_name : str
    kind : {"cv", "validator", "only"}
    description : str
        How, in words ("3x3-fold cross-validation on 50 labelled target rows (accuracy)").
    reason : str
        Why this way and why this candidate.
    table : DataFrame
        One row per candidate: the CV table or the validator's scores.
    details : dict
        The selection's own summary (``LabelSelection.to_dict()`` or validator notes).
    """

    best_name: str
    kind: str
    description: str
    reason: str
    table: pd.DataFrame
    details: Mapping[str, Any]


def choose(recipe: Recipe, parts: FeaturizedParts, candidates: Mapping[str, Any], *,
           progress: bool | str) -> Selection:
    """Choose the candidate to serve: CV on the target labels, or a label-free validator."""
    from transferkit.detect import select_model, select_with_labels

    n_labels = parts.target_train.n_labeled
    if len(candidates) == 1:
        name = next(iter(candidates))
        return Selection(name, "only", "the recipe (its only candidate)",
                         f"the recipe lists one candidate, {name!r}; nothing to choose",
                         pd.DataFrame({"candidate": [name]}).set_index("candidate"), {})
    kind = recipe.selection
    if kind == "auto":
        kind = "cv" if n_labels >= MIN_CV_LABELS else recipe.validator
        why = (f"selection: auto used cross-validation because the target has {n_labels} "
               f"labelled training rows (>= {MIN_CV_LABELS})" if kind == "cv" else
               f"selection: auto used the label-free validator {recipe.validator!r} because "
               f"the target has {n_labels} labelled training rows (< {MIN_CV_LABELS} for "
               "cross-validation)")
    else:
        why = f"selection: {kind} (set in the recipe)"
    if kind == "cv":
        task = parts.source_train.task
        unfitted = {name: _new_method(recipe, name, task, False) for name in candidates}
        try:
            chosen = select_with_labels(unfitted, parts.source_train, parts.target_train,
                                        metric=_cv_metric(recipe, task),
                                        simplicity=list(candidates), random_state=recipe.seed)
        except ValueError as exc:
            if recipe.selection == "cv":
                raise RecipeError(f"recipe {recipe.name!r}: selection: cv is impossible "
                                  f"here: {exc}") from exc
            # auto: the labels exist but cannot separate the candidates (too few rows of a
            # class for the folds); say so and let the label-free validator choose.
            kind = recipe.validator
            why += (f", but cross-validation could not compare the candidates ({exc}); the "
                    f"label-free validator {kind!r} chose instead")
        else:
            description = (f"{chosen.n_repeats}x{chosen.n_splits}-fold cross-validation on "
                           f"{chosen.n_labeled} labelled target rows ({chosen.metric})")
            return Selection(chosen.winner, "cv", description, f"{why}. {chosen.reason}",
                             chosen.table, chosen.to_dict())
    if parts.source_train.task == "regression":
        raise RecipeError(
            f"recipe {recipe.name!r}: the label-free validators score classifiers, so they "
            f"cannot choose among regression candidates ({why}). Give the target labelled "
            f"training rows (split: target_labels >= {MIN_CV_LABELS}) so that "
            "cross-validation chooses, or list one method."
        )
    # A validator that can score no candidate reliably hands over to domain_auc, the
    # label-free validator closest to the oracle over 24 real pairs (RESULTS.md).
    fallback = None if kind == "domain_auc" else "domain_auc"
    selection = select_model(candidates, kind, target=parts.target_train,
                             source=parts.source_validation, fallback=fallback)
    if selection.fallback_from is not None:
        why += (f"; {selection.fallback_from} could score no candidate reliably, so "
                f"domain_auc chose")
    return Selection(selection.best_name, "validator", f"label-free validator {kind!r}", why,
                     selection.table, {"validator": selection.validator})


def budget_curve(recipe: Recipe, parts: FeaturizedParts, name: str) -> Any:
    """Held-out score of source-only, target-only and method ``name`` against K labels.

    Uses the labelled target training rows only (the verdict's rows stay unseen).
    """
    from transferkit.detect import label_budget_curve

    task = parts.source_train.task
    make = {key: _new_method(recipe, key, task, False)
            for key in {name, "source_only", "target_only"}}
    return label_budget_curve(make[name], parts.source_train, parts.target_train,
                              source_only=make["source_only"],
                              target_only=make["target_only"], method_name=name,
                              metric=_cv_metric(recipe, task), random_state=recipe.seed)


def _cv_metric(recipe: Recipe, task: str) -> str | None:
    """The guard's metric when cross-validation can score it, else CV's default."""
    from transferkit.evaluation import CLASSIFICATION_METRICS, REGRESSION_METRICS

    metric = recipe.guard.metric
    allowed = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
    return metric if metric in allowed else None


def fit_pipeline(recipe: Recipe, name: str, source: Domain, target: Domain, *,
                 progress: bool | str = False) -> TransferPipeline:
    """A full pipeline of method ``name`` fitted on raw ``source`` and ``target`` rows."""
    options = _pipeline_options(recipe)
    return TransferPipeline(name, method_params=_method_params(recipe, name, progress),
                            **options).fit(source, target)


def candidate_scores(candidates: Mapping[str, Any], test: Domain, *, n_resamples: int,
                     seed: int) -> pd.DataFrame:
    """Held-out target scores of every candidate: shown for insight, never used to choose."""
    rows = {}
    for name, model in candidates.items():
        if test.is_classification:
            output = model.predict_proba(test.X)
            classes = list(model.classes_)
        else:
            output, classes = np.asarray(model.predict(test.X)), None
        table = bootstrap_scores(test.y, output, classes=classes,
                                 n_resamples=min(int(n_resamples), 500), seed=seed)
        rows[name] = flat_scores(table)
    return pd.DataFrame.from_dict(rows, orient="index")
