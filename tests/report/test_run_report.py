"""The run report: decision card first, verdict once, numbers for people, every warning kept."""

from __future__ import annotations

import dataclasses
import html
import json
import re

import numpy as np
import pandas as pd
import pytest

from transferkit.report import calibration_table, format_number, run_decision
from transferkit.report._html import Column, table_html, table_markdown


def _text(page: str) -> str:
    body = re.sub(r"<svg.*?</svg>", " ", page.split("</style>", 1)[1], flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_page_opens_with_one_decision_card(run_result):
    page = run_result.to_html()
    body = page.split("</style>", 1)[1]
    assert body.index('id="decision"') < body.index("<h2>Candidates")
    verdict = run_result.verdict.verdict
    assert page.count(f"transfer {verdict}") == 1
    assert _text(page).lower().count(f"verdict: {verdict}") == 0
    decision = run_decision(run_result)
    card = body.split('id="decision"')[1].split("</section>")[0]
    assert f"Serving <b>{run_result.served}</b>" in card
    for row in decision["comparisons"]:
        assert f"<b>{row['baseline']}</b>" in card
    if verdict == "inconclusive" and decision["extra_labels_needed"] is not None:
        assert format_number(decision["extra_labels_needed"], "count") in card
        assert "more labelled target rows would settle it" in card
    assert "Next:" in card


def test_plots_are_inline_and_the_page_self_contained(run_result):
    page = run_result.to_html()
    assert page.count("<svg") >= 4  # forest, per-class recall, training curves, label budget
    for forbidden in ('src="http', 'href="http', "<script", "@import", "url(http", "<img src="):
        assert forbidden not in page
    assert "@media print" in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in page
    fragment = run_result._repr_html_()
    assert fragment.startswith('<div class="tk-report">') and "<html" not in fragment


def _too_precise(text: str) -> list[str]:
    """Decimal numbers written with more than 3 significant digits."""
    numbers = re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", text)
    return [n for n in numbers if len(n.replace(".", "").lstrip("0")) > 3]


def test_numbers_are_formatted_for_people(run_result):
    # Paragraphs quoted from the verdict and the selection keep their own precision.
    quoted = (run_result.verdict.message, run_result.selection_reason,
              run_result.budget.catch_up_note)
    for text, escape in ((_text(run_result.to_html()), html.escape),
                         (run_result.to_markdown(), str)):
        for paragraph in quoted:
            text = text.replace(escape(paragraph), "")
        assert not _too_precise(text)
        assert not re.search(r"\('\w+', '\w+'\)", text)  # no tuple row labels
        assert "1.0000" not in text and "194.0000" not in text
    markdown = run_result.to_markdown()
    assert f"| target_test | {run_result.counts['target_test']} |" in markdown
    assert "| |" not in markdown


def test_every_column_is_explained(run_result):
    markdown = run_result.to_markdown()
    assert "**wins**: share of repeats in which it scored best" in markdown
    assert "**roc_auc**: higher is better" in markdown and "**log_loss**: lower is better" in \
        markdown
    assert "**difference**: transferred minus baseline, oriented so > 0" in markdown


def test_warnings_reach_the_report_and_result_json(run_result):
    groups = run_result.details["warnings"]
    messages = {m for group in groups.values() for m in group}
    assert any("effective sample size" in m for m in messages)
    page, markdown = run_result.to_html(), run_result.to_markdown()
    saved = json.loads((run_result.folder / "result.json").read_text())
    assert saved["details"]["warnings"] == {k: list(v) for k, v in groups.items()}
    for message in messages:
        assert message in markdown
        assert message.replace("'", "&#x27;") in page
    assert saved["decision"]["served"] == run_result.served
    assert saved["decision"]["n_warnings"] == sum(
        len(set(v)) for v in groups.values())


def test_markdown_carries_the_same_sections(run_result):
    markdown = run_result.to_markdown()
    for heading in ("## Decision", "## Warnings", "## How the choice was made",
                    "## Held-out target scores", "## Negative-transfer check in detail",
                    "## Label budget", "## Domain gap", "## Rows"):
        assert heading in markdown
    assert (run_result.folder / "report.md").read_text() == markdown
    assert "&lt;script&gt;" in markdown and "<script>" not in markdown


def test_recorded_weights_and_calibration_are_plotted(run_result):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    proba = np.clip(0.3 + 0.4 * y + rng.normal(0, 0.15, 200), 0, 1)
    table = calibration_table(y, np.column_stack([1 - proba, proba]), [0, 1])
    weights = {"discriminative": {"ess": 5.6, "n_source": 480, "ess_fraction": 0.012,
                                  "max_weight_share": 0.4, "histogram_counts": [400, 70, 10],
                                  "histogram_edges": [-2.0, -1.0, 0.0, 1.0]}}
    details = {**run_result.details, "weights": weights,
               "calibration": {"event": table.attrs["event"],
                               "table": table.to_dict(orient="records")}}
    page = dataclasses.replace(run_result, details=details).to_html()
    assert "Calibration of the served model" in page and "Importance weights" in page
    assert "discriminative: ESS 1.2% of source rows" in page
    assert "1.2%" in page


def test_calibration_table_bins_and_checks():
    table = calibration_table([0, 1, 1, 0], [[0.8, 0.2], [0.1, 0.9], [0.4, 0.6], [0.6, 0.4]],
                              [0, 1], n_bins=2)
    assert table["n"].tolist() == [2, 2] and table["observed"].tolist() == [0.0, 1.0]
    multi = calibration_table(["a", "b", "c"], np.eye(3), ["a", "b", "c"])
    assert multi.attrs["event"] == "predicted class is right" and multi["observed"].eq(1).all()
    with pytest.raises(ValueError, match="expected \\(2, 2\\)"):
        calibration_table([0, 1], [[1.0], [0.0]], [0, 1])


def test_format_number_and_tables():
    assert [format_number(v, k) for v, k in [(194.0, "count"), (0.98765, "number"),
                                             (0.0004, "p"), (-0.0389, "signed"),
                                             (np.float64(12.5), "number")]] == [
        "194", "0.988", "< 0.001", "-0.0389", "12.5"]
    frame = pd.DataFrame({"score": [0.5, np.nan], "score_low": [0.4, np.nan],
                          "score_high": [0.6, np.nan], "empty": [np.nan, np.nan],
                          "who": ["<b>", "x"]}, index=["a", "b"])
    columns = [Column("score", "score", "the score", "interval"), Column("empty", "empty"),
               Column("who", "who", "", "text")]
    html = table_html(frame, columns, index=Column("name", "name", "", "text"))
    assert "0.500 (0.400 to 0.600)" in html and "empty" not in html
    assert "&lt;b&gt;" in html and "<b>score</b>: the score" in html
    markdown = table_markdown(frame, columns)
    assert markdown.splitlines()[0] == "| score | who |"


def test_verdict_html_escapes_and_states_the_verdict_once(run_result):
    verdict = dataclasses.replace(run_result.verdict, message="<img src=x onerror=alert(1)>",
                                  notes=("a < b",))
    page = verdict.to_html()
    assert "<img" not in page and "&lt;img src=x" in page and "a &lt; b" in page
    assert page.startswith("<!DOCTYPE html>") and page.count('class="badge') == 1
    assert verdict._repr_html_().startswith('<div class="tk-report">')
    assert "('" not in page
