"""Run a recipe: gap report, candidate methods, unsupervised choice, guarded verdict, report.

Examples
--------
>>> from transferkit.recipes import Recipe, run_recipe
>>> recipe = Recipe.from_dict({
...     "name": "doc_us_to_canada", "methods": ["source_only", "discriminative"],
...     "source": {"dataset": "stackoverflow", "market": "United States"},
...     "target": {"dataset": "stackoverflow", "market": "Canada"},
...     "split": {"target_labels": 60}, "guard": {"n_resamples": 100}, "gap": False,
... })
>>> result = run_recipe(recipe, save=False, progress=False)
>>> result.verdict.verdict in ("positive", "negative", "inconclusive")
True
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from transferkit.backbones import encode
from transferkit.baselines import make_model
from transferkit.datasets import load_dataset
from transferkit.detect import NegativeTransferGuard, select_model
from transferkit.domain import Domain
from transferkit.evaluation import bootstrap_scores, flat_scores
from transferkit.exceptions import DomainMismatchError, RecipeError, TransferWarning
from transferkit.gap import gap_report
from transferkit.harmonize import Harmonizer
from transferkit.recipes.candidates import fit_candidate
from transferkit.recipes.config import DataSpec, Recipe
from transferkit.recipes.result import RunResult

__all__ = ["load_market", "run_recipe"]

logger = logging.getLogger(__name__)

# Fewer labelled target rows than this cannot train a target-only model worth comparing.
_MIN_TARGET_ONLY_LABELS = 10


def load_market(spec: DataSpec, *, seed: int = 0) -> Domain:
    """The Domain a recipe's ``source`` or ``target`` section points at."""
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
        path = Path(spec.path)
        if not path.is_file():
            raise RecipeError(f"data file {str(path)!r} does not exist.")
        reader = pd.read_parquet if path.suffix in (".parquet", ".pq") else pd.read_csv
        try:
            frame = reader(path)
        except Exception as exc:  # pandas raises many types for corrupt files
            raise RecipeError(f"could not read {str(path)!r}: {exc}") from exc
        domain = Domain.from_frame(frame, label=spec.label, name=path.stem, **dict(spec.schema))
    if spec.max_rows is not None and domain.n_samples > spec.max_rows:
        domain = domain.sample(int(spec.max_rows), seed=seed)
    return domain


def run_recipe(
    recipe: Recipe,
    *,
    out_dir: str | Path | None = None,
    save: bool = True,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> RunResult:
    """Run every step of ``recipe`` and return (and by default save) its ``RunResult``.

    Steps: load both markets; hold out labelled target rows for the verdict; harmonise
    (or encode text/images); write the domain-gap report; train every candidate method on
    labelled source rows and unlabelled target rows; choose one with the recipe's
    unsupervised validator; compare it with the source-only and target-only baselines on
    the held-out rows; let the negative-transfer guard serve the transfer or fall back.

    Parameters
    ----------
    recipe : Recipe
    out_dir : path, optional
        Run folder; defaults to ``recipe.run_dir``.
    save : bool, default=True
        Write the report files (HTML, Markdown, JSON, gap report).
    progress : bool, default=True
        Progress bars for training.
    log : callable, optional
        Receives one line per step (the CLI prints them).
    """
    say = log or logger.info
    started = time.perf_counter()
    try:
        return _run(recipe, out_dir, save, progress, say, started)
    except (RecipeError, KeyboardInterrupt):
        raise
    except (ValueError, TypeError, FileNotFoundError, KeyError) as exc:
        raise RecipeError(f"recipe {recipe.name!r}: {exc}") from exc


def _run(recipe: Recipe, out_dir: str | Path | None, save: bool, progress: bool,
         say: Callable[[str], None], started: float) -> RunResult:
    seed = recipe.seed
    say(f"[1/6] loading {recipe.source.describe()} -> {recipe.target.describe()}")
    source = load_market(recipe.source, seed=seed)
    target = load_market(recipe.target, seed=seed)
    if not source.is_classification:
        raise RecipeError(
            f"recipe {recipe.name!r}: source {source.name!r} is a {source.task} task; recipes "
            "transfer classifiers. Use transferkit.baselines.compare_baselines and "
            "transferkit.reweight for regression."
        )
    if target.n_labeled < 10:
        raise RecipeError(
            f"recipe {recipe.name!r}: target {target.name!r} has {target.n_labeled} labelled "
            "rows; the verdict needs labelled target rows to hold out (at least 10)."
        )
    target = target.with_task(source.task)
    labelled_target = target.labeled()
    target_train, target_test = labelled_target.split(recipe.split.test_size, seed=seed)
    if target.n_labeled < target.n_samples:  # unlabelled target rows help the methods
        target_train = _concat(target_train, target.unlabeled())
    n_labels = min(recipe.split.target_labels, target_train.n_labeled)
    target_train = target_train.hide_labels(n_labels, seed=seed)
    source_train, source_val = source.labeled().split(recipe.split.source_validation, seed=seed)

    say("[2/6] harmonising the two markets")
    source_train, source_val, target_train, target_test, details = _featurize(
        recipe, source_train, source_val, target_train, target_test)

    gap = None
    if recipe.gap:
        say("[3/6] domain-gap report")
        gap = gap_report(source_train, target_train, random_state=seed,
                         n_permutations=200, importances=True)
        say("      " + gap.summary().splitlines()[0])
    else:
        say("[3/6] domain-gap report skipped (gap: false)")

    say(f"[4/6] training {len(recipe.methods)} candidate methods")
    candidates, fit_seconds = {}, {}
    for name in recipe.methods:
        say(f"      {name}")
        tick = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TransferWarning)
            candidates[name] = fit_candidate(
                name, recipe.method_params.get(name, {}), model=recipe.model,
                task=source.task, source=source_train, target=target_train, seed=seed,
                progress=progress,
            )
        fit_seconds[name] = time.perf_counter() - tick

    say(f"[5/6] choosing without target labels ({recipe.validator})")
    selection = select_model(candidates, recipe.validator, target=target_train, source=source_val)
    say(f"      chose {selection.best_name}")

    say("[6/6] negative-transfer check on held-out target rows")
    baselines = {"source_only": fit_candidate(
        "source_only", {}, model=recipe.model, task=source.task, source=source_train,
        target=target_train, seed=seed, progress=False)}
    if target_train.n_labeled >= _MIN_TARGET_ONLY_LABELS:
        labelled = target_train.labeled()
        if len(np.unique(labelled.y)) >= 2:
            baselines["target_only"] = make_model(recipe.model, source.task, seed).fit(
                labelled.X, labelled.y)
    guard_spec = recipe.guard
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TransferWarning)
        guard = NegativeTransferGuard(
            metric=guard_spec.metric, confidence=guard_spec.confidence,
            n_resamples=guard_spec.n_resamples, on_inconclusive=guard_spec.on_inconclusive,
            seed=seed,
        ).fit(selection.best, baselines, target_test)
    guard_warnings = tuple(str(w.message) for w in caught)
    if guard.fell_back_ and guard.verdict_.is_negative and guard_spec.on_negative == "error":
        raise RecipeError(f"recipe {recipe.name!r}: negative transfer. {guard.report_}")
    say("      " + guard.report_)

    candidate_scores = _candidate_scores(candidates, target_test, guard_spec, seed)
    result = RunResult(
        recipe=recipe,
        source=source.name,
        target=target.name,
        chosen_method=selection.best_name,
        served=guard.chosen_ if guard.fell_back_ else selection.best_name,
        fell_back=guard.fell_back_,
        verdict=guard.verdict_,
        guard_report=guard.report_,
        selection=selection.table,
        candidate_scores=candidate_scores,
        gap=gap,
        counts={
            "source_train": source_train.n_samples, "source_validation": source_val.n_samples,
            "target_train": target_train.n_samples,
            "target_train_labelled": target_train.n_labeled,
            "target_test": target_test.n_samples,
        },
        details={**details, "fit_seconds": fit_seconds, "warnings": guard_warnings,
                 "seconds": time.perf_counter() - started},
        model=guard.model_,
    )
    if save:
        folder = Path(out_dir) if out_dir is not None else recipe.run_dir
        paths = result.save(folder)
        say(f"wrote {paths['html']}")
    return result


def _concat(first: Domain, second: Domain) -> Domain:
    """Rows of two Domains of the same market and schema, one after the other."""
    frame = pd.concat([first.frame, second.frame], ignore_index=True)
    schema = first.schema
    return Domain.from_frame(
        frame, label=schema.label, numeric=schema.numeric, categorical=schema.categorical,
        text=schema.text, image=schema.image, id=schema.id, time=schema.time,
        weight=schema.weight, name=first.name, country=first.metadata.country,
        language=first.metadata.language, currency=first.metadata.currency,
        extra=first.metadata.extra, task=first.task, allow_unlabeled=True,
    )


def _featurize(
    recipe: Recipe, source_train: Domain, source_val: Domain, target_train: Domain,
    target_test: Domain,
) -> tuple[Domain, Domain, Domain, Domain, dict[str, Any]]:
    """Numeric, aligned features for every part: encoded (text, images) then harmonised."""
    details: dict[str, Any] = {}
    encoder = recipe.encoder
    parts = [source_train, source_val, target_train, target_test]
    if any(p.modality in ("text", "image", "mixed") for p in parts):
        if encoder is None:
            raise RecipeError(
                f"recipe {recipe.name!r}: the markets hold {parts[0].modality} data; name a "
                "backbone with 'encoder: use_multilingual' (see transferkit.backbones)."
            )
        parts = [encode(p, encoder, cache_dir=".transferkit_cache") for p in parts]
        details["encoder"] = encoder
    # Unlabelled target rows are available, so scaling statistics come from both markets
    # unless the recipe says otherwise: source-only statistics blow up features that are
    # near-constant in the source but not in the target (MNIST border pixels on USPS).
    options = {"fit_on": "both", **dict(recipe.harmonize)}
    if parts[0].modality == "tensor":
        return (*parts, details)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TransferWarning)
        harmonizer = Harmonizer(**options).fit(parts[0], parts[2])
    details["harmonize_warnings"] = [str(w.message) for w in caught]
    details["dropped_columns"] = harmonizer.dropped_columns_
    details["unseen_categories"] = harmonizer.unseen_categories_
    sides = ("source", "source", "target", "target")
    try:
        transformed = [harmonizer.transform(p, side=s) for p, s in zip(parts, sides, strict=True)]
    except DomainMismatchError as exc:
        raise RecipeError(f"recipe {recipe.name!r}: {exc}") from exc
    return (*transformed, details)


def _candidate_scores(candidates: dict[str, Any], test: Domain, guard: Any,
                      seed: int) -> pd.DataFrame:
    """Held-out target scores of every candidate: shown for insight, never used to choose."""
    rows = {}
    for name, model in candidates.items():
        table = bootstrap_scores(test.y, model.predict_proba(test.X),
                                 classes=list(model.classes_),
                                 n_resamples=min(int(guard.n_resamples), 500), seed=seed)
        rows[name] = flat_scores(table)
    return pd.DataFrame.from_dict(rows, orient="index")
