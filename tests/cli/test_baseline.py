"""The README's main job, run in-process on the bundled data."""

from __future__ import annotations

import json

from transferkit.cli.main import main


def test_readme_main_job_prints_baselines(capsys, tmp_path):
    out = tmp_path / "baseline.json"
    assert main(["baseline", "--resamples", "50", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "United States -> Canada" in printed
    for name in ("source_only", "target_only", "pooled"):
        assert name in printed
    assert json.loads(out.read_text())["source"] == "United States"


def test_same_market_twice_is_an_error(capsys):
    assert main(["baseline", "--source", "Germany", "--target", "Germany"]) == 2
    assert "must be different markets" in capsys.readouterr().err
