"""Every recipe under recipes/ runs end to end on a slice; recipe files are validated."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from transferkit import DataNotFoundError, RecipeError
from transferkit.align import ALIGNERS
from transferkit.cli.main import main
from transferkit.recipes import Recipe, load_market, load_recipe, run_recipe

RECIPES = sorted((Path(__file__).resolve().parents[1] / "recipes").glob("*.yaml"))


def _quick(recipe: Recipe) -> Recipe:
    """The same recipe on a few hundred rows, two epochs, few resamples."""
    aligners = {m: {"train": {"epochs": 2}} for m in recipe.methods
                if m in ALIGNERS and m != "source_only" or m == "nn_source_only"}
    params = {m: {**recipe.method_params.get(m, {}), **aligners.get(m, {})}
              for m in recipe.methods if m in aligners or m in recipe.method_params}
    return dataclasses.replace(
        recipe,
        source=dataclasses.replace(recipe.source, max_rows=400),
        target=dataclasses.replace(recipe.target, max_rows=300),
        method_params=params,
        split=dataclasses.replace(recipe.split, target_labels=min(recipe.split.target_labels, 30)),
        guard=dataclasses.replace(recipe.guard, n_resamples=100),
    )


@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_recipe_runs_on_a_slice(path, tmp_path):
    recipe = _quick(load_recipe(path))
    try:
        load_market(recipe.target)
    except DataNotFoundError as exc:
        pytest.skip(f"data for {path.name} not available: {exc}")
    result = run_recipe(recipe, out_dir=tmp_path, progress=False)
    assert result.chosen_method in recipe.methods
    assert result.verdict.verdict in ("positive", "negative", "inconclusive")
    assert result.served in (result.chosen_method, "source_only", "target_only")
    assert result.fell_back == (result.served != result.chosen_method)
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["served"] == result.served
    page = (tmp_path / "report.html").read_text()
    assert "Verdict" in page and result.target in page
    assert set(result.candidate_scores.index) == set(recipe.methods)


def test_cli_run_writes_report(tmp_path, capsys):
    recipe = _quick(load_recipe(RECIPES[-1].parent / "stackoverflow_us_to_canada.yaml"))
    recipe = dataclasses.replace(recipe, methods=("source_only", "discriminative"),
                                 method_params={}, gap=False)
    path = tmp_path / "recipe.yaml"
    path.write_text(json.dumps(dataclasses.asdict(recipe)))  # JSON is valid YAML
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert "Recipe stackoverflow_us_to_canada" in capsys.readouterr().out
    assert (tmp_path / "run" / "report.html").is_file()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nsource: {dataset: stackoverflow, market: Canada}\n", "'target' section"),
        ("name: x\nsource: {dataset: stackoverflow, market: Canada, colour: red}\n"
         "target: {dataset: stackoverflow, market: Canada}\n", r"unknown key\(s\) \['colour'\]"),
        ("name: x\nmethod: [kmm]\nsource: {dataset: stackoverflow, market: Canada}\n"
         "target: {dataset: stackoverflow, market: Canada}\n", r"unknown key\(s\) \['method'\]"),
        ("name: x\nsource: {dataset: stackoverflow}\n"
         "target: {dataset: stackoverflow, market: Canada}\n", "'market' is required"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_recipe_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(RecipeError, match=message) as info:
        load_recipe(path)
    assert "bad.yaml" in str(info.value)


def test_unknown_method_and_market_are_named(tmp_path):
    recipe = Recipe.from_dict({
        "name": "x", "methods": ["kmn"], "gap": False,
        "source": {"dataset": "stackoverflow", "market": "United States", "max_rows": 200},
        "target": {"dataset": "stackoverflow", "market": "Canada"},
    })
    with pytest.raises(RecipeError, match="Did you mean 'kmm'"):
        run_recipe(recipe, save=False, progress=False)
    wrong_market = dataclasses.replace(
        recipe, target=dataclasses.replace(recipe.target, market="Japan"))
    with pytest.raises(RecipeError, match="no market 'Japan'"):
        run_recipe(wrong_market, save=False, progress=False)


def test_csv_markets_and_regression_is_refused(tmp_path):
    from transferkit.datasets import stackoverflow_frame

    frame = stackoverflow_frame()
    frame[frame.Country == "Germany"].drop(columns="Country").to_csv(tmp_path / "de.csv",
                                                                    index=False)
    (tmp_path / "r.yaml").write_text(
        "name: de_salary\nsource: {dataset: stackoverflow, market: United States, "
        "options: {label: Salary}}\ntarget: {path: de.csv, label: Salary}\n")
    recipe = load_recipe(tmp_path / "r.yaml")
    assert load_market(recipe.target).n_samples == 757
    with pytest.raises(RecipeError, match="regression"):
        run_recipe(recipe, save=False, progress=False)
