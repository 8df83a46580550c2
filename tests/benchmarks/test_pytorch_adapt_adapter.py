"""The pytorch-adapt adapter, run through the benchmark worker in the torch peer environment.

Each test starts ``python -m benchmarks.suite.worker`` with
``benchmarks/.peers/torch/bin/python`` on a small seeded three-class split (source blobs,
target blobs shifted by a small offset) and skips when that environment is not installed
(CI has none).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.suite.contract import Split, save_split
from benchmarks.suite.isolate import run_job

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / "benchmarks" / ".peers" / "torch" / "bin" / "python"


@pytest.fixture(scope="module")
def peer_python() -> str:
    if not PYTHON.exists():
        pytest.skip(f"torch peer environment not installed: {PYTHON} "
                    "(bash benchmarks/setup_peers.sh torch)")
    return str(PYTHON)


@pytest.fixture(scope="module")
def split_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    rng = np.random.default_rng(0)
    centers = 2.0 * rng.normal(size=(3, 8))
    y_source, y_target = rng.integers(0, 3, size=240), rng.integers(0, 3, size=160)
    X_source = centers[y_source] + rng.normal(size=(240, 8))
    X_target = centers[y_target] + rng.normal(size=(160, 8)) + 0.5
    path = str(tmp_path_factory.mktemp("pytorch_adapt") / "blobs.npz")
    save_split(path, Split("classification", X_source, y_source, X_target, y_target,
                           np.zeros(160, dtype=bool)))
    return path


def _predict(python: str, method: str, path: str, seeds: tuple[int, ...]) -> list[dict]:
    spec = {"kind": "predict", "library": "pytorch_adapt", "method": method,
            "params": {"epochs": 2, "device": "cpu"},
            "items": [{"id": f"blobs-{seed}", "seed": seed, "path": path} for seed in seeds]}
    return run_job(python, spec, timeout_s=120)


@pytest.mark.parametrize("method", ["cdan", "mmd"])
def test_method_beats_chance_and_repeats_with_its_seed(peer_python: str, split_path: str,
                                                       method: str) -> None:
    rows = _predict(peer_python, method, split_path, seeds=(0, 0, 1))
    assert [row["item"] for row in rows] == ["blobs-0", "blobs-0", "blobs-1"]
    for row in rows:
        assert row["status"] == "ok", row.get("error")
        assert row["versions"]["pytorch-adapt"]
        assert row["metric"] == "accuracy" and row["n_target"] == 160
        assert row["score"] > 0.6  # three balanced classes: chance is about 1/3
    assert rows[0]["losses"] == rows[1]["losses"]  # per-row errors: same seed, same model
