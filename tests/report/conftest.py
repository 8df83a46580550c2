"""One small recipe run shared by the report tests (about 5 s on 2 cores)."""

from __future__ import annotations

import pytest

from transferkit.recipes import Recipe, run_recipe

RECIPE = {
    "name": "report_check", "description": "Remote work <script>alert('x')</script> & more",
    "methods": ["source_only", "target_only", "discriminative", "dann"],
    "method_params": {"dann": {"train": {"epochs": 3}}},
    "source": {"dataset": "stackoverflow", "market": "United States", "max_rows": 600},
    "target": {"dataset": "stackoverflow", "market": "Canada"},
    "split": {"target_labels": 60}, "guard": {"n_resamples": 200, "metric": "roc_auc"},
    "budget": True,
}


@pytest.fixture(scope="session")
def run_result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report") / "run"
    return run_recipe(Recipe.from_dict(RECIPE), out_dir=folder, progress=False)
