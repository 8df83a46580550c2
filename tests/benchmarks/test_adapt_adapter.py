"""The ADAPT adapter, run through the benchmark worker in the adapt peer environment.

The worker tests start ``python -m benchmarks.suite.worker`` with
``benchmarks/.peers/adapt/bin/python`` (adapt + TensorFlow) on small seeded splits: a
three-class split (source blobs, target blobs shifted by a small offset) and a regression
split on a salary-like scale with 40 labelled target rows. They skip when that environment
is not installed (CI has none). The argument checks run in the main environment: they fail
before ADAPT is imported.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.suite.contract import Split, save_split
from benchmarks.suite.isolate import run_job
from benchmarks.suite.libs import adapt as adapter

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / "benchmarks" / ".peers" / "adapt" / "bin" / "python"


def _blobs(labeled: int) -> Split:
    rng = np.random.default_rng(0)
    centers = 2.0 * rng.normal(size=(3, 8))
    y_source, y_target = rng.integers(0, 3, size=240), rng.integers(0, 3, size=160)
    X_source = centers[y_source] + rng.normal(size=(240, 8))
    X_target = centers[y_target] + rng.normal(size=(160, 8)) + 0.5
    mask = np.zeros(160, dtype=bool)
    mask[:labeled] = True
    return Split("classification", X_source, y_source, X_target, y_target, mask)


def _salaries() -> Split:
    rng = np.random.default_rng(1)
    X_source, X_target = rng.normal(size=(240, 6)), rng.normal(size=(160, 6)) + 0.5
    beta = rng.normal(size=6)
    y_source = 1e5 + 2e4 * X_source @ beta + 3e3 * rng.normal(size=240)
    y_target = 1.1e5 + 2e4 * X_target @ (beta + 0.2) + 3e3 * rng.normal(size=160)
    mask = np.zeros(160, dtype=bool)
    mask[rng.choice(160, size=40, replace=False)] = True
    return Split("regression", X_source, y_source, X_target, y_target, mask)


@pytest.fixture(scope="module")
def peer_python() -> str:
    if not PYTHON.exists():
        pytest.skip(f"adapt peer environment not installed: {PYTHON} "
                    "(bash benchmarks/setup_peers.sh adapt)")
    return str(PYTHON)


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("adapt")
    splits = {"blobs": _blobs(0), "blobs_few": _blobs(30), "salaries": _salaries()}
    for name, split in splits.items():
        save_split(str(folder / f"{name}.npz"), split)
    return {name: str(folder / f"{name}.npz") for name in splits}


def _predict(python: str, method: str, items: list[dict]) -> list[dict]:
    spec = {"kind": "predict", "library": "adapt", "method": method,
            "params": {"epochs": 2, "device": "cpu"}, "items": items}
    return run_job(python, spec, timeout_s=120)


@pytest.mark.parametrize(("method", "seeds"), [("dann", (0,)), ("kmm", (0, 1))],
                         ids=["dann", "kmm"])
def test_label_free_method_beats_chance(peer_python: str, paths: dict[str, str],
                                        method: str, seeds: tuple[int, ...]) -> None:
    rows = _predict(peer_python, method, [{"id": f"blobs-{seed}", "seed": seed,
                                           "path": paths["blobs"]} for seed in seeds])
    assert [row["item"] for row in rows] == [f"blobs-{seed}" for seed in seeds]
    for row in rows:
        assert row["status"] == "ok", row.get("error")
        assert row["versions"]["adapt"] and row["versions"]["tensorflow-cpu"]
        assert row["metric"] == "accuracy" and row["n_target"] == 160
        assert row["score"] > 0.6  # three balanced classes: chance is about 1/3


def test_regular_transfer_dispatches_on_the_task(peer_python: str,
                                                 paths: dict[str, str]) -> None:
    rows = _predict(peer_python, "regular_transfer", [
        {"id": "blobs_few", "seed": 0, "path": paths["blobs_few"]},
        {"id": "salaries", "seed": 0, "path": paths["salaries"]}])
    by_item = {row["item"]: row for row in rows}
    for row in rows:
        assert row["status"] == "ok", row.get("error")
    assert by_item["blobs_few"]["metric"] == "accuracy"
    assert by_item["blobs_few"]["score"] > 0.6
    split = _salaries()
    spread = float(np.std(split.y_target[split.test]))
    assert by_item["salaries"]["metric"] == "rmse"
    assert by_item["salaries"]["score"] < 0.5 * spread


def test_ulsif_weights_are_scored(peer_python: str) -> None:
    spec = {"kind": "weights", "library": "adapt", "method": "ulsif",
            "items": [{"id": "300", "seed": 0, "rows": 300}]}
    [row] = run_job(peer_python, spec, timeout_s=120)
    assert row["status"] == "ok", row.get("error")
    assert 0.0 < row["ess_fraction"] <= 1.0 and row["n_source"] == 300
    assert row["score"] > 0.5


def test_unknown_label_free_method_names_the_offered_ones() -> None:
    with pytest.raises(ValueError, match="no_such_method.*dann"):
        adapter.predict("no_such_method", _blobs(0), 0, {})


def test_classification_booster_is_refused_for_regression() -> None:
    with pytest.raises(ValueError, match="'tradaboost' for regression.*tradaboost_r2"):
        adapter.predict("tradaboost", _salaries(), 0, {})


def test_fewlabel_method_needs_labelled_target_rows() -> None:
    with pytest.raises(ValueError, match="split.labeled is all False"):
        adapter.predict("feature_augmentation", _blobs(0), 0, {})
