"""gap_report on two ordinary shop tables: IDs and dates set aside, money in the user's
units, binary columns as bars, drivers that agree with the table, "not estimable"."""

from __future__ import annotations

import argparse
import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from transferkit import Domain, TransferWarning
from transferkit.cli import gap as gap_cli
from transferkit.gap import gap_report

FAST = {"n_permutations": 100, "top_plots": 6}
RATES = {"USD": 1.0, "EUR": 1.08}


def shop(n: int, rng: np.random.Generator, *, start: str, member: float, eur: bool,
         first_id: int) -> pd.DataFrame:
    salary_usd = rng.normal(60_000, 10_000, n)
    return pd.DataFrame({
        "customer_id": np.arange(first_id, first_id + n),
        "signup_date": pd.date_range(start, periods=n, freq="D").strftime("%Y-%m-%d"),
        "is_member": (rng.random(n) < member).astype(int),
        "salary": (salary_usd / RATES["EUR"] if eur else salary_usd).round(2),
        "region": rng.choice(["north", "south", "east"], n),
        "bought": (rng.random(n) < 0.3).astype(int),
    })


@pytest.fixture(scope="module")
def shops() -> tuple[Domain, Domain]:
    rng = np.random.default_rng(0)
    us = Domain.from_frame(shop(600, rng, start="2020-01-01", member=0.3, eur=False,
                                first_id=1), label="bought", name="us", currency="USD")
    de = Domain.from_frame(shop(500, rng, start="2023-01-01", member=0.6, eur=True,
                                first_id=5000), label="bought", name="de", currency="EUR")
    return us, de


@pytest.fixture(scope="module")
def converted(shops):
    us, de = shops
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransferWarning)
        return gap_report(us, de, harmonize={"money_columns": ["salary"],
                                             "exchange_rates": RATES}, **FAST)


def test_ids_and_dates_are_set_aside_with_a_note(converted):
    table = converted.features
    for column in ("customer_id", "signup_date"):
        assert table.loc[column, "kind"] == "set aside"
        assert table.loc[column, "note"].endswith(": not tested")
        assert any(column in note and "left out of the drift tests" in note
                   for note in converted.notes)
        assert column not in converted.drivers
    # Without the date, the markets are told apart by membership only, not perfectly.
    assert converted.domain_tests.loc["classifier", "statistic"] < 0.9
    html = converted.to_html()
    assert "customer_id" in html and "set aside" in html


def test_ids_and_dates_can_be_tested_on_request(shops):
    us, de = shops
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransferWarning)
        report = gap_report(us, de, include_ids_and_dates=True, tests=(), importances=False,
                            top_plots=0)
    assert report.features.loc["customer_id", "kind"] == "numeric"
    assert report.features.loc["customer_id", "shifted"]


def test_money_is_compared_in_the_source_currency(shops, converted):
    table = converted.features
    assert table.loc["salary", "mean_source"] == pytest.approx(60_000, rel=0.05)
    assert table.loc["salary", "mean_target"] == pytest.approx(60_000, rel=0.05)
    assert not table.loc["salary", "shifted"]
    assert "converted to USD" in converted.settings["units"]
    plot = next(p for p in converted.plots["features"] if p["feature"] == "salary")
    assert plot["edges"][0] > 10_000  # salary axis in dollars, not standard deviations
    us, de = shops
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransferWarning)
        raw = gap_report(us, de, tests=(), importances=False, top_plots=0)
    assert raw.features.loc["salary", "shifted"]  # euros against dollars: a fake shift


def test_binary_and_categorical_features_are_bars(converted):
    plots = {p["feature"]: p for p in converted.plots["features"]}
    assert plots["is_member"]["kind"] == "binary"
    assert plots["is_member"]["levels"] == ["0", "1"]
    assert plots["is_member"]["target"][1] == pytest.approx(0.6, abs=0.06)
    assert "region" not in plots or plots["region"]["kind"] == "categorical"
    assert "is_member: share of rows per value" in converted.to_html()


def test_main_drivers_agree_with_the_table(converted):
    table = converted.features
    assert converted.drivers == ["is_member"]
    for feature in converted.drivers:
        assert table.loc[feature, "shifted"]
        assert table.loc[feature, "severity"] in ("small", "moderate", "large")
    assert (f"Main drivers (by {converted.drivers_ranked_by}): is_member."
            in converted.summary())
    data = converted.to_dict()
    assert data["drivers"] == ["is_member"] and data["drivers_ranked_by"]
    assert "| is_member | 1 |" in converted.to_markdown()


def test_degenerate_bbse_is_shown_as_not_estimable():
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(2):
        y = (rng.random(300) < 0.3).astype(int)
        frames.append(pd.DataFrame({"price": rng.normal(10, 2, 300) + 1.0 * y,
                                    "days": rng.normal(3, 1, 300), "bought": y}))
    source = Domain.from_frame(frames[0], label="bought", name="us")
    target = Domain.from_frame(frames[1], label="bought", name="jp").hide_labels(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransferWarning)
        report = gap_report(source, target, tests=(), importances=False, top_plots=0)
    labels = report.labels
    assert labels.bbse_priors == (1.0, 0.0) and labels.bbse_problem is not None
    assert np.isnan(labels.shift_estimate)
    assert "not estimable" in report.summary() and "BBSD test p" in report.summary()
    html, markdown = report.to_html(), report.to_markdown()
    assert "not estimable" in html and "not estimable" in markdown
    assert "100%" not in html.split("Label shift")[1].split("</table>")[0]
    assert report.to_dict()["labels"]["bbse_estimable"] is False
    # A well-conditioned estimate on the boundary is not estimable either.
    boundary = dataclasses.replace(labels, bbse_condition_number=5.0)
    assert "boundary" in boundary.bbse_problem
    usable = dataclasses.replace(boundary, bbse_priors=(0.6, 0.4))
    assert usable.bbse_problem is None and usable.shift_estimate == usable.bbse_total_variation


def test_harmonized_view_uses_the_methods_features(shops):
    us, de = shops
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransferWarning)
        report = gap_report(us, de, harmonize={"money_columns": ["salary"],
                                               "exchange_rates": RATES},
                            view="harmonized", tests=(), importances=False, top_plots=0)
    assert "standardised" in report.settings["units"]
    assert "region_north" in report.features.index
    assert abs(report.features.loc["salary", "mean_source"]) < 1e-6


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="transferkit")
    gap_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["gap", *argv])
    return args.handler(args)


def test_cli_takes_currency_options_from_flags_and_from_a_recipe(tmp_path, capsys):
    rng = np.random.default_rng(1)
    us, de = tmp_path / "us.csv", tmp_path / "de.csv"
    shop(300, rng, start="2020-01-01", member=0.3, eur=False, first_id=1).to_csv(us, index=False)
    frame = shop(300, rng, start="2023-01-01", member=0.3, eur=True, first_id=900)
    frame.rename(columns={"salary": "gehalt"}).to_csv(de, index=False)
    out = tmp_path / "gap.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransferWarning)
        assert _cli(["--source", str(us), "--target", str(de), "--label", "bought",
                     "--tests", "mmd", "--out", str(out), "--rename", "gehalt=salary",
                     "--money", "salary", "--rate", "USD=1", "EUR=1.08",
                     "--source-currency", "USD", "--target-currency", "EUR"]) == 0
        rows = {r["feature"]: r for r in json.loads(out.read_text())["features"]}
        assert rows["salary"]["mean_target"] == pytest.approx(60_000, rel=0.05)
        assert rows["signup_date"]["kind"] == "set aside"
        recipe = tmp_path / "recipe.yaml"
        recipe.write_text(
            "name: shops\n"
            f"source: {{path: {us}, label: bought, schema: {{currency: USD}}}}\n"
            f"target: {{path: {de}, label: bought, schema: {{currency: EUR}}}}\n"
            "harmonize: {target_columns: {gehalt: salary}, money_columns: [salary],\n"
            "            exchange_rates: {USD: 1.0, EUR: 1.08}}\n")
        assert _cli(["--source", str(us), "--target", str(de), "--label", "bought",
                     "--tests", "mmd", "--out", str(out), "--recipe", str(recipe)]) == 0
    rows = {r["feature"]: r for r in json.loads(out.read_text())["features"]}
    assert rows["salary"]["mean_target"] == pytest.approx(60_000, rel=0.05)
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        _cli(["--source", str(us), "--target", str(de), "--rate", "EUR"])
