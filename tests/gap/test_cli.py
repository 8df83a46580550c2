"""``transferkit gap`` in-process: files and bundled data sets in, summary and report out."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from transferkit.cli import gap


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="transferkit")
    gap.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["gap", *argv])
    return args.handler(args)


@pytest.fixture
def market_files(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for name, shift in (("us", 0.0), ("jp", 1.0)):
        frame = pd.DataFrame({
            "order_id": np.arange(300), "price": rng.normal(10 + 2 * shift, 2, 300).round(2),
            "days": rng.normal(3, 1, 300).round(1),
            "channel": rng.choice(["web", "app"], 300),
            "bought": (rng.random(300) < 0.3 + 0.2 * shift).astype(int),
        })
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        paths.append(path)
    return paths


def test_cli_writes_html_and_prints_summary(market_files, tmp_path, capsys):
    us, jp = market_files
    out = tmp_path / "report.html"
    code = run(["--source", str(us), "--target", str(jp), "--label", "bought",
                "--exclude", "order_id", "--out", str(out), "--tests", "classifier"])
    assert code == 0
    captured = capsys.readouterr()
    assert "Target 'jp' differs" in captured.out
    assert captured.out.splitlines()[4].startswith("price")
    assert "[gap] per-feature tests" in captured.err
    page = out.read_text()
    assert "Domain-gap report: us &rarr; jp" in page and "Label shift" in page


def test_cli_json_and_bundled_dataset(tmp_path, capsys):
    out = tmp_path / "report.json"
    code = run(["--source", "stackoverflow:United States", "--target", "stackoverflow:India",
                "--out", str(out), "--tests", "mmd"])
    assert code == 0
    data = json.loads(out.read_text())
    assert data["features"][0]["feature"] == "Salary"
    assert data["labels"]["classes"] == ["Not remote", "Remote"]


def test_cli_errors_are_clear(market_files, tmp_path):
    us, _ = market_files
    with pytest.raises(FileNotFoundError, match="No such file"):
        run(["--source", str(tmp_path / "missing.csv"), "--target", str(us)])
    with pytest.raises(ValueError, match="has no market 'Japan'"):
        run(["--source", "stackoverflow:Japan", "--target", str(us)])
    with pytest.raises(ValueError, match="neither a table file"):
        run(["--source", "us_shop", "--target", str(us)])
    with pytest.raises(ValueError, match="use a .html, .json or .md"):
        run(["--source", str(us), "--target", str(us), "--out", "report.pdf"])
