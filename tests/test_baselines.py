"""Source-only vs target-only baselines on the bundled real markets."""

from __future__ import annotations

import json

import pytest

from transferkit import DomainMismatchError
from transferkit.baselines import compare_baselines
from transferkit.datasets import load_stackoverflow


@pytest.fixture(scope="module")
def markets():
    return load_stackoverflow(["United States", "India", "Canada"], label="Salary")


def test_salary_from_us_does_not_transfer_to_india(markets):
    # US salaries are ~10x Indian ones: reusing the US model must lose clearly.
    result = compare_baselines(markets["United States"], markets["India"], n_resamples=200)
    table = result.table
    assert result.primary_metric == "mae"
    assert table.loc["source_only", "mae_low"] > table.loc["target_only", "mae_high"]
    assert "target_only" in result.summary().splitlines()[-1] or "target_only" in result.summary()


def test_few_target_labels_and_json(tmp_path, markets):
    result = compare_baselines(markets["United States"], markets["Canada"], n_target_labels=30,
                               n_resamples=50, model="gbm")
    assert result.n_target_train == 30
    path = tmp_path / "baseline.json"
    result.to_json(path)
    saved = json.loads(path.read_text())
    assert saved["target"] == "Canada"
    assert set(saved["scores"]) == {"source_only", "target_only", "pooled"}


def test_unlabelled_target_is_rejected(markets):
    unlabeled = markets["Canada"].hide_labels(2)
    with pytest.raises(DomainMismatchError, match="2 labelled rows"):
        compare_baselines(markets["United States"], unlabeled)
