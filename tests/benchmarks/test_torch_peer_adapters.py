"""The skada and pytorch-adapt adapters, run through the benchmark worker in the torch peer
environment.

Each test starts ``python -m benchmarks.suite.worker`` with
``benchmarks/.peers/torch/bin/python`` on a small seeded three-class split (source blobs,
target blobs shifted by a small offset) and skips when that environment is not installed
(the test stage of CI has none; the quick benchmark run after it covers every method).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.suite.contract import Split, save_split
from benchmarks.suite.isolate import run_job

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / "benchmarks" / ".peers" / "torch" / "bin" / "python"
VERSION_KEY = {"skada": "skada", "pytorch_adapt": "pytorch-adapt"}


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
    path = str(tmp_path_factory.mktemp("torch_peers") / "blobs.npz")
    save_split(path, Split("classification", X_source, y_source, X_target, y_target,
                           np.zeros(160, dtype=bool)))
    return path


@pytest.mark.parametrize("library, method", [("skada", "dann"), ("skada", "coral"),
                                             ("pytorch_adapt", "cdan"),
                                             ("pytorch_adapt", "mmd")])
def test_method_beats_chance_and_repeats_with_its_seed(peer_python: str, split_path: str,
                                                       library: str, method: str) -> None:
    spec = {"kind": "predict", "library": library, "method": method,
            "params": {"epochs": 2, "device": "cpu"},
            "items": [{"id": f"blobs-{seed}", "seed": seed, "path": split_path}
                      for seed in (0, 0, 1)]}
    rows = run_job(peer_python, spec, timeout_s=120)
    assert [row["item"] for row in rows] == ["blobs-0", "blobs-0", "blobs-1"]
    for row in rows:
        assert row["status"] == "ok", row.get("error")
        assert row["versions"][VERSION_KEY[library]]
        assert row["metric"] == "accuracy" and row["n_target"] == 160
        assert row["score"] > 0.6  # three balanced classes: chance is about 1/3
    assert rows[0]["losses"] == rows[1]["losses"]  # per-row errors: same seed, same model


def test_skada_kliep_weights_are_scored(peer_python: str) -> None:
    spec = {"kind": "weights", "library": "skada", "method": "kliep",
            "items": [{"id": "300", "seed": 0, "rows": 300}]}
    [row] = run_job(peer_python, spec, timeout_s=120)
    assert row["status"] == "ok", row.get("error")
    assert 0.0 < row["ess_fraction"] <= 1.0 and row["n_source"] == 300
    assert row["score"] > 0.5
