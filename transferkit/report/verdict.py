"""The negative-transfer verdict as report sections: the decision and its evidence tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from transferkit.report._html import Column, escape, page, table_html, table_markdown

if TYPE_CHECKING:
    from transferkit.detect.verdict import TransferVerdict

__all__ = ["comparisons", "render_verdict_html", "verdict_tables_html",
           "verdict_tables_markdown"]

_MODEL = Column("model", "model", "transferred = the chosen candidate refitted on every "
               "source row; the baselines likewise", "text")
_DIFFERENCE_COLUMNS = [
    Column("baseline", "baseline", "", "text"),
    Column("metric", "metric", "", "text"),
    Column("difference", "difference",
           "transferred minus baseline, oriented so > 0 means transfer is better (for losses: "
           "baseline minus transferred), with its paired interval", "interval"),
    Column("p_value", "p", "exact McNemar (accuracy) or paired bootstrap p-value", "p"),
    Column("p_holm", "p (Holm)", "p-value adjusted over the baselines (Holm)", "p"),
]
_PER_CLASS_COLUMNS = [
    Column("n", "rows", "held-out target rows of the class", "count"),
    Column("transferred", "recall (transferred)", "share of the class predicted right"),
    Column("difference", "difference", "recall difference (transferred minus baseline) with "
           "its interval", "interval"),
    Column("effect", "effect", "helps / hurts when the interval excludes 0, else unclear",
           "text"),
]


def comparisons(verdict: TransferVerdict) -> pd.DataFrame:
    """One row per baseline on the verdict's metric: difference, interval and level, p-values.

    The deciding baseline carries the interval of the test that decided (at
    ``interval_confidence``); the others the table's interval at ``confidence``.
    """
    table = verdict.differences
    if "metric" in (table.index.names or []):
        rows = table.xs(verdict.metric, level="metric")
    else:
        rows = table
    rows = rows.copy()
    rows["level"] = verdict.confidence
    if verdict.deciding_baseline in rows.index:
        rows.loc[verdict.deciding_baseline, ["difference", "low", "high", "level"]] = [
            verdict.difference, verdict.low, verdict.high, verdict.interval_confidence]
    rows.index.name = "baseline"
    return rows


def _wide_scores(verdict: TransferVerdict) -> tuple[pd.DataFrame, list[Column]]:
    """Scores as one row per model and one column per metric (value with its interval)."""
    scores = verdict.scores
    models = list(dict.fromkeys(scores.index.get_level_values(0)))
    metrics = list(dict.fromkeys(scores.index.get_level_values(1)))
    wide = pd.DataFrame(index=pd.Index(models, name="model"))
    for metric in metrics:
        part = scores.xs(metric, level=1)
        wide[metric] = part["value"]
        wide[f"{metric}_low"] = part["low"]
        wide[f"{metric}_high"] = part["high"]
    rows = int(scores["n"].max()) if "n" in scores and len(scores) else verdict.n_target
    columns = [Column(m, m, (f"on {rows} held-out labelled target rows, {verdict.confidence:.0%} "
                             "interval in brackets") if i == 0 else "", "interval")
               for i, m in enumerate(metrics)]
    return wide, columns


def _differences(verdict: TransferVerdict) -> pd.DataFrame:
    return verdict.differences.reset_index().rename(
        columns={"low": "difference_low", "high": "difference_high"})


def _per_class(verdict: TransferVerdict) -> tuple[pd.DataFrame, list[Column]]:
    table = verdict.per_class.rename(columns={"low": "difference_low",
                                              "high": "difference_high"})
    baseline = verdict.deciding_baseline
    columns = [*_PER_CLASS_COLUMNS[:2],
               Column(baseline, f"recall ({baseline})", "the deciding baseline's recall"),
               *_PER_CLASS_COLUMNS[2:]]
    return table, columns


def verdict_tables_html(verdict: TransferVerdict) -> str:
    """Scores, paired differences, per-class and per-segment tables, every column explained."""
    wide, columns = _wide_scores(verdict)
    parts = ["<h3>Scores on the held-out target rows</h3>",
             table_html(wide, columns, index=_MODEL),
             "<h3>Paired differences</h3>",
             table_html(_differences(verdict), _DIFFERENCE_COLUMNS)]
    if verdict.per_class is not None:
        table, columns = _per_class(verdict)
        parts += [f"<h3>Recall per target class (vs {escape(verdict.deciding_baseline)})</h3>",
                  table_html(table, columns, index=Column("class", "class", "", "text"))]
    if verdict.per_segment is not None:
        table = verdict.per_segment.rename(columns={"low": "difference_low",
                                                    "high": "difference_high"})
        columns = [Column(c, c, "", "count" if c == "n" else "number") for c in table.columns
                   if not c.startswith("difference") and c != "effect"]
        columns += [Column("difference", "difference", "transferred minus baseline on "
                           f"{verdict.metric}", "interval"),
                    Column("effect", "effect", "", "text")]
        parts += ["<h3>Per segment</h3>",
                  table_html(table, columns, index=Column("segment", "segment", "", "text"))]
    if verdict.notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>"
                                                   for n in verdict.notes) + "</ul>")
    return "\n".join(parts)


def verdict_tables_markdown(verdict: TransferVerdict) -> str:
    """The same tables as Markdown."""
    wide, columns = _wide_scores(verdict)
    parts = ["### Scores on the held-out target rows", "",
             table_markdown(wide, columns, index=_MODEL), "",
             "### Paired differences", "",
             table_markdown(_differences(verdict), _DIFFERENCE_COLUMNS), ""]
    if verdict.per_class is not None:
        table, columns = _per_class(verdict)
        parts += [f"### Recall per target class (vs {verdict.deciding_baseline})", "",
                  table_markdown(table, columns, index=Column("class", "class", "", "text")),
                  ""]
    parts += [f"- {n}" for n in verdict.notes]
    return "\n".join(parts)


def render_verdict_html(verdict: TransferVerdict, *, fragment: bool = False) -> str:
    """The verdict as a page: a decision card (stated once), then the evidence tables."""
    body = (f'<div class="card {escape(verdict.verdict)}"><h2>Negative-transfer check: '
            f'<span class="badge {escape(verdict.verdict)}">{escape(verdict.verdict)}</span>'
            f"</h2><p>{escape(verdict.message)}</p></div>\n{verdict_tables_html(verdict)}")
    return page(f"transferkit verdict: {verdict.verdict}", body, fragment=fragment)
