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
    "candidate_scores",
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


def fit_candidates(recipe: Recipe, parts: FeaturizedParts, *, progress: bool | str,
                   say: Any) -> tuple[dict[str, Any], dict[str, float]]:
    """Every candidate method fitted on the featurized training parts, with fit seconds."""
    candidates, seconds = {}, {}
    task = parts.source_train.task
    for name in recipe.methods:
        say(f"      {name}")
        tick = time.perf_counter()
        method = create(name, task=task, model=recipe.model, random_state=recipe.seed,
                        **_method_params(recipe, name, progress))
        try:
            candidates[name] = method.fit(parts.source_train, parts.target_train)
        except (ValueError, TypeError) as exc:
            raise RecipeError(f"recipe {recipe.name!r}, method {name!r}: {exc}") from exc
        seconds[name] = time.perf_counter() - tick
    return candidates, seconds


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
