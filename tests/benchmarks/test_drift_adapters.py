"""The Evidently and NannyML gap adapters, run through the benchmark worker in their own envs.

Each test starts ``python -m benchmarks.suite.worker`` with the library's peer interpreter
(``benchmarks/.peers/<library>/bin/python``) on a 2000-row ``synthetic.gap_markets`` pair and
skips when that environment is not installed (CI has none).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.suite.isolate import run_job
from benchmarks.suite.synthetic import PLANTED

ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = ("evidently", "nannyml")


def _peer_python(library: str) -> str:
    python = ROOT / "benchmarks" / ".peers" / library / "bin" / "python"
    if not python.exists():
        pytest.skip(f"peer environment for {library} not installed: {python} "
                    f"(bash benchmarks/setup_peers.sh {library})")
    return str(python)


def _spec(library: str, method: str) -> dict:
    return {"kind": "gap", "library": library, "method": method,
            "items": [{"id": "2k", "seed": 0, "rows": 2000}]}


@pytest.mark.parametrize("library", LIBRARIES)
def test_default_report_flags_the_strong_shift(library: str) -> None:
    rows = run_job(_peer_python(library), _spec(library, "drift"), timeout_s=120)
    assert len(rows) == 1
    row = rows[0]
    assert row["status"] == "ok", row.get("error")
    assert library in row["versions"]
    assert "num_01" in row["found"]
    unshifted = 50 - len(PLANTED)
    assert row["false_alarms"] < unshifted - 5, "the report flags (nearly) every column"


@pytest.mark.parametrize("library", LIBRARIES)
def test_unknown_method_comes_back_as_an_error_row(library: str) -> None:
    rows = run_job(_peer_python(library), _spec(library, "ks"), timeout_s=60)
    assert [row["status"] for row in rows] == ["error"]
    assert "'drift'" in rows[0]["error"]
