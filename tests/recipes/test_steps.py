"""Each recipe step alone: split, default candidates, the choice, the run-folder check."""

from __future__ import annotations

import warnings

import pytest

from transferkit import RecipeError, TransferWarning
from transferkit.recipes import Recipe, check_run_folder, steps


def _recipe(**changes) -> Recipe:
    values = {"name": "steps", "source": {"dataset": "stackoverflow",
                                          "market": "United States", "max_rows": 600},
              "target": {"dataset": "stackoverflow", "market": "Canada"},
              "gap": False, "guard": {"n_resamples": 100}}
    values.update(changes)
    return Recipe.from_dict(values)


def test_split_keeps_the_verdict_rows_apart_and_labels_as_asked():
    recipe = _recipe(split={"target_labels": 25, "test_size": 0.3})
    source, target = steps.load_markets(recipe)
    parts = steps.split_markets(recipe, source, target)
    assert parts.target_train.n_labeled == 25
    assert parts.target_test.n_labeled == parts.target_test.n_samples
    assert parts.target_train.n_samples + parts.target_test.n_samples == target.n_samples
    assert parts.source.n_samples == (parts.source_train.n_samples
                                      + parts.source_validation.n_samples)


def test_asking_for_more_labels_than_remain_warns_and_uses_what_there_is():
    recipe = _recipe(split={"target_labels": 10_000})
    source, target = steps.load_markets(recipe)
    with pytest.warns(TransferWarning, match="asks for 10000 labelled target rows"):
        parts = steps.split_markets(recipe, source, target)
    assert parts.target_train.n_labeled < 10_000


def test_default_candidates_follow_the_task_and_the_labels():
    assert "target_only" not in steps.default_methods("binary", 0)
    assert {"pooled", "regular_transfer"} <= set(steps.default_methods("binary", 50))
    assert "tradaboost" not in steps.default_methods("regression", 50)
    assert "two_stage_tradaboost_r2" in steps.default_methods("regression", 50)


@pytest.mark.parametrize(("labels", "kind"), [(5, "validator"), (40, "cv")])
def test_auto_selection_uses_cv_only_with_enough_labels(labels, kind):
    recipe = _recipe(methods=["source_only", "discriminative", "regular_transfer"],
                     split={"target_labels": labels})
    parts = steps.featurize(recipe, steps.split_markets(recipe, *steps.load_markets(recipe)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransferWarning)  # one-class labels: a candidate out
        candidates, _ = steps.fit_candidates(recipe, parts, progress=False,
                                             say=lambda _: None)
    chosen = steps.choose(recipe, parts, candidates, progress=False)
    assert chosen.kind == kind
    assert chosen.best_name in candidates
    assert "selection: auto" in chosen.reason


def test_run_folder_check_happens_before_any_work(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(RecipeError, match="already exists"):
        check_run_folder(tmp_path / "run", overwrite=False)
    assert check_run_folder(tmp_path / "run", overwrite=True) == tmp_path / "run"
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    with pytest.raises(RecipeError, match="cannot write"):
        check_run_folder(tmp_path / "notes.txt" / "run", overwrite=False)
    assert (tmp_path / "notes.txt").read_text() == "a file, not a folder"


def test_a_candidate_that_cannot_learn_is_left_out_loudly():
    recipe = _recipe(methods=["source_only", "regular_transfer"], split={"target_labels": 3})
    parts = steps.featurize(recipe, steps.split_markets(recipe, *steps.load_markets(recipe)))
    with pytest.warns(TransferWarning, match="'regular_transfer' left out"):
        candidates, _ = steps.fit_candidates(recipe, parts, progress=False,
                                             say=lambda _: None)
    assert list(candidates) == ["source_only"]
