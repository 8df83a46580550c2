"""Every bundled recipe runs end to end on a slice; recipe files are validated; a run
folder holds one run and a model that `transferkit predict` serves."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from transferkit import DataNotFoundError, RecipeError
from transferkit.cli.main import main
from transferkit.pipeline import METHODS
from transferkit.recipes import Recipe, bundled_recipes, load_market, load_recipe, run_recipe

RECIPES = list(bundled_recipes().values())


# Cheap candidates for the slices (all of them are exercised in tests/pipeline).
_QUICK = ("source_only", "target_only", "regular_transfer", "stacking", "discriminative",
          "kmm", "deep_coral", "cdan")


def _quick(recipe: Recipe) -> Recipe:
    """The same recipe on a few hundred rows, cheap candidates, two epochs, few resamples."""
    methods = tuple(m for m in recipe.methods or _QUICK[:4] if m in _QUICK)[:4]
    aligners = {m: {"train": {"epochs": 2}} for m in methods
                if METHODS.get(m).family in ("align", "finetune")}
    params = {m: {**recipe.method_params.get(m, {}), **aligners.get(m, {})}
              for m in methods if m in aligners or m in recipe.method_params}
    return dataclasses.replace(
        recipe, methods=methods,
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
    result = run_recipe(recipe, out_dir=tmp_path / "run", progress=False)
    candidates = set(result.candidate_scores.index)
    assert result.chosen_method in candidates
    assert candidates == set(recipe.methods)
    assert result.verdict.verdict in ("positive", "negative", "inconclusive")
    assert result.served in (result.chosen_method, "source_only", "target_only")
    if result.served != result.chosen_method:
        assert result.fell_back
    saved = json.loads((tmp_path / "run" / "result.json").read_text())
    assert saved["served"] == result.served
    assert (tmp_path / "run" / "model" / "MODEL_CARD.md").is_file()
    page = (tmp_path / "run" / "report.html").read_text()
    assert 'id="decision"' in page and f"Serving <b>{result.served}</b>" in page
    assert result.target in page and page.count(f"transfer {result.verdict.verdict}") == 1
    assert result.selection_reason.startswith(("selection:", "the recipe lists one candidate"))
    if result.counts["target_train_labelled"] < 20:
        assert "cross-validation" not in result.selection_how


def test_cli_run_writes_report(tmp_path, capsys):
    recipe = _quick(load_recipe("stackoverflow_us_to_canada"))
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
        recipe, methods=("kmm",),
        target=dataclasses.replace(recipe.target, market="Japan"))
    with pytest.raises(RecipeError, match="no market 'Japan'"):
        run_recipe(wrong_market, save=False, progress=False)


def test_regression_from_a_csv_mixing_labelled_and_unlabelled_rows(tmp_path):
    from transferkit.datasets import stackoverflow_frame

    frame = stackoverflow_frame()
    germany = frame[frame.Country == "Germany"].drop(columns="Country").reset_index(drop=True)
    germany.loc[germany.index[::3], "Salary"] = None   # blank label = unlabelled row
    germany.to_csv(tmp_path / "de.csv", index=False)
    head = ("name: de_salary\nsource: {dataset: stackoverflow, market: United States, "
            "options: {label: Salary}, max_rows: 800}\n"
            "target: {path: de.csv, label: Salary}\ngap: false\n"
            "guard: {metric: rmse, n_resamples: 100}\n")
    (tmp_path / "r.yaml").write_text(
        head + "methods: [source_only, regular_transfer]\nsplit: {target_labels: 40}\n")
    recipe = load_recipe(tmp_path / "r.yaml")
    target = load_market(recipe.target)
    assert (target.n_samples, target.n_labeled) == (757, 504)
    result = run_recipe(recipe, save=False, progress=False)
    assert result.verdict.metric == "rmse"
    assert "cross-validation" in result.selection_how
    assert result.pipeline.predict(target).shape == (757,)
    (tmp_path / "r.yaml").write_text(head + "methods: [source_only, kmm]\n")
    with pytest.raises(RecipeError, match="validators score classifiers"):
        run_recipe(load_recipe(tmp_path / "r.yaml"), save=False, progress=False)


def _small_recipe(tmp_path: Path) -> Path:
    recipe = _quick(load_recipe("stackoverflow_us_to_canada"))
    recipe = dataclasses.replace(recipe, methods=("source_only", "discriminative"),
                                 method_params={}, gap=False)
    path = tmp_path / "recipe.yaml"
    path.write_text(json.dumps(dataclasses.asdict(recipe)))
    return path


def test_run_folder_is_never_overwritten_without_asking(tmp_path):
    recipe = load_recipe(_small_recipe(tmp_path))
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "report.md").write_text("my own notes")
    with pytest.raises(RecipeError, match="already exists.*overwrite"):
        run_recipe(recipe, out_dir=folder, progress=False)
    assert (folder / "report.md").read_text() == "my own notes"
    assert main(["run", str(tmp_path / "recipe.yaml"), "--out", str(folder), "--quiet"]) == 2
    assert (folder / "report.md").read_text() == "my own notes"
    run_recipe(recipe, out_dir=folder, overwrite=True, progress=False)
    assert (folder / "report.md").read_text() != "my own notes"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_predict_in_a_fresh_process_reproduces_the_run(tmp_path):
    import subprocess
    import sys

    import pandas as pd

    from transferkit.recipes import steps

    path = _small_recipe(tmp_path)
    recipe = load_recipe(path)
    result = run_recipe(recipe, out_dir=tmp_path / "run", progress=False)
    parts = steps.split_markets(recipe, *steps.load_markets(recipe))
    rows = parts.target_test.frame.drop(columns=[parts.target_test.schema.label])
    rows.to_csv(tmp_path / "rows.csv", index=False)
    expected = result.pipeline.predict_frame(parts.target_test)
    code = ("import sys; from transferkit.cli.main import main; sys.exit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", code, "predict", str(tmp_path / "run"),
                           str(tmp_path / "rows.csv"), "--out", str(tmp_path / "p.csv")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    served = pd.read_csv(tmp_path / "p.csv")
    assert (served["prediction"].to_numpy() == expected["prediction"].to_numpy()).all()
    proba = [c for c in expected.columns if c.startswith("proba_")]
    assert (served[proba].to_numpy() == expected[proba].to_numpy()).all()
    again = subprocess.run([sys.executable, "-c", code, "predict", str(tmp_path / "run"),
                            str(tmp_path / "rows.csv"), "--out", str(tmp_path / "p.csv")],
                           capture_output=True, text=True)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_predict_cli_names_bad_rows_and_bad_model_folders(tmp_path, capsys):
    path = _small_recipe(tmp_path)
    run_recipe(load_recipe(path), out_dir=tmp_path / "run", progress=False)
    (tmp_path / "rows.csv").write_text("Salary,YearsCodedJob\n1.0,2\n")
    assert main(["predict", str(tmp_path / "run"), str(tmp_path / "rows.csv"),
                 "--out", str(tmp_path / "p.csv")]) == 2
    assert "lack columns" in capsys.readouterr().err
    (tmp_path / "empty.csv").write_text("")
    assert main(["predict", str(tmp_path / "run"), str(tmp_path / "empty.csv"),
                 "--out", str(tmp_path / "p.csv")]) == 2
    assert "empty.csv" in capsys.readouterr().err
    (tmp_path / "run" / "model" / "method.skops").write_bytes(b"junk")
    assert main(["predict", str(tmp_path / "run"), str(tmp_path / "rows.csv"),
                 "--out", str(tmp_path / "p.csv")]) == 2
    assert "method.skops" in capsys.readouterr().err
    assert not (tmp_path / "p.csv").exists()


def test_validate_list_and_init_commands(tmp_path, capsys):
    assert main(["validate", "stackoverflow_us_to_canada"]) == 0
    assert ": ok" in capsys.readouterr().out
    (tmp_path / "bad.yaml").write_text(
        "name: x\nsource: {dataset: stackoverflow, market: United States}\n"
        "target: {dataset: stackoverflow, market: Canada}\nmethods: [kmn]\n")
    assert main(["validate", str(tmp_path / "bad.yaml")]) == 2
    assert "line 4" in capsys.readouterr().err
    assert main(["list", "methods"]) == 0
    assert "target_only" in capsys.readouterr().out
    assert main(["list", "recipes"]) == 0
    assert "stackoverflow_us_to_canada" in capsys.readouterr().out

    from transferkit.datasets import stackoverflow_frame

    frame = stackoverflow_frame()
    frame[frame.Country == "Germany"].to_csv(tmp_path / "de.csv", index=False)
    frame[frame.Country == "India"].to_csv(tmp_path / "in.csv", index=False)
    out = tmp_path / "starter.yaml"
    assert main(["init", "--source", str(tmp_path / "de.csv"), "--target",
                 str(tmp_path / "in.csv"), "--label", "Remote", "--out", str(out)]) == 0
    assert main(["validate", str(out)]) == 0
    assert main(["init", "--source", str(tmp_path / "de.csv"), "--target",
                 str(tmp_path / "in.csv"), "--label", "Remote", "--out", str(out)]) == 2


def test_ctrl_c_prints_one_line_and_exits_130(monkeypatch, capsys):
    import transferkit.cli.validate as command

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "validate", interrupted)
    assert main(["validate", "stackoverflow_us_to_canada"]) == 130
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
