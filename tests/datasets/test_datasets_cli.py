"""``transferkit datasets``: lists every data set, found or not, and where it belongs."""

from __future__ import annotations

import argparse
import json

from transferkit.cli import datasets as datasets_command
from transferkit.datasets import DATASETS


def main(argv: list[str]) -> int:
    """Run the command as ``transferkit.cli.main`` does once it lists it in COMMANDS."""
    parser = argparse.ArgumentParser(prog="transferkit")
    datasets_command.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args) or 0)


def test_listing_names_every_data_set_and_its_location(tmp_path, capsys) -> None:
    (tmp_path / "office_caltech10_surf").mkdir()
    assert main(["datasets", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in DATASETS.names():
        assert f"\n{name} [" in out
    assert "office_caltech_surf [found]" in out
    assert "mnist_usps [MISSING]" in out
    assert f"location: {tmp_path.resolve()}/mnist_usps_256/MNIST_vs_USPS.mat" in out
    assert "United Kingdom (2361), Germany (63), France (56)" in out
    # the SURF folder, the embedded survey, MovieLens and the three scanner panels
    assert "6 of 12 data sets found." in out


def test_json_listing(tmp_path, capsys) -> None:
    assert main(["datasets", "--root", str(tmp_path), "--json"]) == 0
    records = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(records) == set(DATASETS.names())
    assert records["stackoverflow"]["available"] is True
    assert records["amazon_sentiment"]["available"] is False
    assert records["amazon_sentiment"]["location"] == str(tmp_path.resolve()
                                                          / "amazon_review_400")
