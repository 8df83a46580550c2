"""Run a recipe: gap report, candidate methods, a choice, a guarded verdict, a run folder.

Examples
--------
>>> import tempfile
>>> from transferkit.recipes import Recipe, run_recipe
>>> recipe = Recipe.from_dict({
...     "name": "doc_us_to_canada", "methods": ["source_only", "discriminative"],
...     "source": {"dataset": "stackoverflow", "market": "United States"},
...     "target": {"dataset": "stackoverflow", "market": "Canada"},
...     "split": {"target_labels": 60}, "guard": {"n_resamples": 100}, "gap": False,
... })
>>> result = run_recipe(recipe, out_dir=tempfile.mkdtemp() + "/run", progress=False)
>>> result.verdict.verdict in ("positive", "negative", "inconclusive")
True
>>> sorted(p.name for p in result.folder.iterdir())[:3]
['model', 'report.html', 'report.md']
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from transferkit.detect import NegativeTransferGuard
from transferkit.exceptions import RecipeError, TransferWarning
from transferkit.gap import gap_report
from transferkit.recipes import steps
from transferkit.recipes.config import Recipe, check_names
from transferkit.recipes.result import RunResult

__all__ = ["check_run_folder", "run_recipe"]

logger = logging.getLogger(__name__)


def check_run_folder(folder: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """Refuse, before any work, a run folder that exists (without ``overwrite``) or that
    cannot be written."""
    folder = Path(folder)
    if folder.exists() and not overwrite:
        raise RecipeError(
            f"run folder {str(folder)!r} already exists; pass overwrite=True (CLI: "
            "--overwrite) to replace it, or --out another folder. Nothing was changed."
        )
    if folder.exists() and not folder.is_dir():
        raise RecipeError(f"run folder {str(folder)!r} is a file; choose a folder.")
    parent = folder.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise RecipeError(f"cannot write the run folder {str(folder)!r}: {exc.strerror}."
                          ) from None
    return folder


def run_recipe(
    recipe: Recipe,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    save: bool = True,
    overwrite: bool = False,
    progress: bool | str = "auto",
    log: Callable[[str], None] | None = None,
) -> RunResult:
    """Run every step of ``recipe`` and return (and by default save) its ``RunResult``.

    Steps: load both markets; hold out labelled target rows for the verdict; featurize;
    write the domain-gap report; train every candidate method; choose one
    (cross-validation on the labelled target training rows, or a label-free validator);
    refit it on every source row as a ``TransferPipeline``; compare it with the
    source-only and target-only pipelines on the held-out rows; let the negative-transfer
    guard serve the transfer or fall back; save the run folder.

    Parameters
    ----------
    recipe : Recipe
    out_dir : path, optional
        Run folder; defaults to ``recipe.run_dir``. It is written whole at the end (built
        in a temporary sibling, then renamed), so an interrupted run leaves the previous
        good run intact.
    save : bool, default=True
        Write the run folder (model, reports, ``result.json``).
    overwrite : bool, default=False
        Replace an existing run folder; without it an existing folder is refused before
        any work starts.
    progress : bool or "auto", default="auto"
        Progress bars for training ("auto": on a terminal only).
    log : callable, optional
        Receives one line per step (the CLI prints them).
    """
    say = log or logger.info
    check_names(recipe, where=f"recipe {recipe.name!r}")
    folder = Path(out_dir) if out_dir is not None else recipe.run_dir
    if save:
        check_run_folder(folder, overwrite=overwrite)
    try:
        result = _run(recipe, progress, say)
    except (RecipeError, KeyboardInterrupt):
        raise
    except (ValueError, TypeError, FileNotFoundError, KeyError) as exc:
        raise RecipeError(f"recipe {recipe.name!r}: {exc}") from exc
    if save:
        result = result.save(folder, overwrite=overwrite)
        say(f"wrote {folder}")
    return result


def _run(recipe: Recipe, progress: bool | str, say: Callable[[str], None]) -> RunResult:
    started = time.perf_counter()
    seed = recipe.seed
    say(f"[1/7] loading {recipe.source.describe()} -> {recipe.target.describe()}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TransferWarning)
        source, target = steps.load_markets(recipe)
        parts = steps.split_markets(recipe, source, target)
        say("[2/7] featurizing the two markets")
        featurized = steps.featurize(recipe, parts)
    notes = [str(w.message) for w in caught]
    for note in notes:
        say(f"      note: {note}")

    gap = None
    if recipe.gap:
        say("[3/7] domain-gap report")
        if recipe.encoder is None and parts.source_train.modality == "tabular":
            # Tables are compared in the user's own units; the harmonizer options only
            # align columns and currencies (the report can show the standardised view).
            gap = gap_report(parts.source_train, parts.target_train,
                             harmonize=dict(recipe.harmonize) or None, random_state=seed,
                             n_permutations=200, importances=True)
        else:
            gap = gap_report(featurized.source_train, featurized.target_train,
                             random_state=seed, n_permutations=200, importances=True)
        say("      " + gap.summary().splitlines()[0])
    else:
        say("[3/7] domain-gap report skipped (gap: false)")

    names = steps.candidate_names(recipe, featurized)
    say(f"[4/7] training {len(names)} candidate methods")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TransferWarning)
        candidates, fit_seconds = steps.fit_candidates(recipe, featurized, progress=progress,
                                                       say=say)
    method_warnings = [str(w.message) for w in caught]

    say("[5/7] choosing the candidate to serve")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TransferWarning)
        selection = steps.choose(recipe, featurized, candidates, progress=progress)
    selection_warnings = [str(w.message) for w in caught]
    say(f"      chose {selection.best_name} by {selection.description}")

    say(f"[6/7] refitting {selection.best_name} and the baselines on every source row")
    served = steps.fit_pipeline(recipe, selection.best_name, parts.source, parts.target_train,
                                progress=progress)
    baselines = {"source_only": steps.fit_pipeline(recipe, "source_only", parts.source,
                                                   parts.target_train)}
    labelled = parts.target_train.n_labeled
    if labelled >= steps.MIN_TARGET_ONLY_LABELS and (
            not parts.target_train.is_classification
            or np.unique(parts.target_train.labeled().y).size >= 2):
        baselines["target_only"] = steps.fit_pipeline(recipe, "target_only", parts.source,
                                                      parts.target_train)

    say("[7/7] negative-transfer check on held-out target rows")
    spec = recipe.guard
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TransferWarning)
        guard = NegativeTransferGuard(
            metric=spec.metric, confidence=spec.confidence, n_resamples=spec.n_resamples,
            on_inconclusive=spec.on_inconclusive, seed=seed,
        ).fit(served, baselines, parts.target_test)
    guard_warnings = [str(w.message) for w in caught]
    if guard.fell_back_ and guard.verdict_.is_negative and spec.on_negative == "error":
        raise RecipeError(f"recipe {recipe.name!r}: negative transfer. {guard.report_}")
    say("      " + guard.report_)

    scores = steps.candidate_scores(candidates, featurized.target_test,
                                    n_resamples=spec.n_resamples, seed=seed)
    budget = None
    if recipe.budget:
        say(f"      label-budget curve for {selection.best_name}")
        budget = steps.budget_curve(recipe, featurized, selection.best_name)
    history = {name: list(getattr(model, "history_", []) or [])
               for name, model in candidates.items() if getattr(model, "history_", None)}
    weights = {name: model.weight_report().to_dict() for name, model in candidates.items()
               if callable(getattr(model, "weight_report", None))}
    calibration = None
    if parts.target_test.is_classification:
        from transferkit.report import calibration_table

        table = calibration_table(parts.target_test.y, guard.model_.predict_proba(
            parts.target_test), guard.model_.classes_)
        calibration = {"event": table.attrs.get("event"),
                       "table": table.to_dict(orient="records")}
    return RunResult(
        recipe=recipe,
        source=source.name,
        target=target.name,
        chosen_method=selection.best_name,
        served=guard.chosen_ if guard.fell_back_ else selection.best_name,
        fell_back=guard.fell_back_,
        verdict=guard.verdict_,
        guard_report=guard.report_,
        selection=selection.table,
        selection_how=selection.description,
        selection_reason=selection.reason,
        candidate_scores=scores,
        gap=gap,
        budget=budget,
        counts={
            "source_train": parts.source_train.n_samples,
            "source_validation": parts.source_validation.n_samples,
            "source_refit": parts.source.n_samples,
            "target_train": parts.target_train.n_samples,
            "target_train_labelled": parts.target_train.n_labeled,
            "target_test": parts.target_test.n_samples,
        },
        details={"featurizer": featurized.featurizer.description, "fit_seconds": fit_seconds,
                 "history": history, "weights": weights, "calibration": calibration,
                 "selection": selection.details,
                 "warnings": {"data": notes, "methods": method_warnings,
                              "selection": selection_warnings, "verdict": guard_warnings},
                 "seconds": time.perf_counter() - started},
        pipeline=guard.model_,
    )
