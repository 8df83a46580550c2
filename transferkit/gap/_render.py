"""HTML and Markdown rendering of a GapReport in the shared report look (transferkit.report).

Plots are inline SVG drawn on ``matplotlib.figure.Figure`` objects; nothing is fetched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from transferkit.report._html import (
    COLOURS,
    Column,
    escape,
    figure_html,
    format_number,
    page,
    table_html,
    table_markdown,
)

if TYPE_CHECKING:
    from transferkit.gap._report import GapReport

__all__ = ["render_html", "render_markdown"]

NOT_ESTIMABLE = "not estimable"
_FEATURE_COLUMNS = [
    Column("driver", "driver", "rank among the main drivers (shifted features only)", "count"),
    Column("severity", "severity", "none = not significant after Benjamini-Hochberg; then by "
           "effect: negligible < 0.05 ≤ small < 0.1 ≤ moderate < 0.2 ≤ large", "text"),
    Column("kind", "kind", "numeric / categorical; set aside = row ID or date, not tested",
           "text"),
    Column("effect", "effect", "KS statistic (numeric) or total variation of the category "
           "shares (categorical), both in [0, 1]"),
    Column("pvalue_adjusted", "q-value", "Benjamini-Hochberg adjusted p-value", "p"),
    Column("mean_source", "mean (source)", "in the units shown above the table"),
    Column("mean_target", "mean (target)", ""),
    Column("mean_shift", "mean shift (sd)", "target minus source mean, in source sds"),
    Column("std_ratio", "sd ratio", "target sd / source sd"),
    Column("psi", "PSI", "population stability index (> 0.25 is usually called a big shift)"),
    Column("missing_source", "missing (source)", "share of missing values", "percent"),
    Column("missing_target", "missing (target)", "", "percent"),
    Column("importance", "importance", "drop in the domain classifier's ROC AUC when the "
           "feature is shuffled (what tells the markets apart)"),
    Column("model_impact", "model impact", "mean change of the source model's output when "
           "only this feature takes the target's distribution"),
    Column("only_in_target", "only in target", "categories the source never shows", "text"),
    Column("note", "note", "", "text"),
]
_TEST_COLUMNS = [
    Column("description", "test", "", "text"),
    Column("shown", "value", "the test's statistic (AUC: 0.5 = indistinguishable markets)",
           "text"),
    Column("standard_error", "std. error", ""),
    Column("pvalue", "p-value", "permutation p-value", "p"),
    Column("proxy_a_distance", "proxy A-distance", "2 (1 - 2 error) of the domain "
           "classifier, in [0, 2]"),
    Column("n_source", "source rows", "rows per market the test used", "count"),
    Column("n_target", "target rows", "", "count"),
]
_PRIOR_TITLES = {"source": "source", "target": "target (observed)",
                 "predicted": "target (source model's predictions)",
                 "bbse": "target (BBSE estimate)"}


def _feature_frame(report: GapReport) -> pd.DataFrame:
    table = report.features.copy()
    ranks = {name: i + 1 for i, name in enumerate(report.drivers)}
    table["driver"] = [ranks.get(str(f), np.nan) for f in table.index]
    missing = [c for c in ("missing_source", "missing_target") if c in table]
    if missing and not table[missing].fillna(0).to_numpy().any():
        table = table.drop(columns=missing)  # no missing values anywhere: no columns for them
    return table


def _tests_frame(report: GapReport) -> pd.DataFrame:
    tests = report.domain_tests.copy()
    tests["shown"] = [
        f"{row.get('statistic_name', '')} {format_number(row['statistic'])}".strip()
        if np.isfinite(row["statistic"]) else NOT_ESTIMABLE for _, row in tests.iterrows()]
    return tests


def _priors(report: GapReport) -> tuple[pd.DataFrame, list[Column]]:
    from transferkit.gap._labels import priors_frame

    labels = report.labels
    frame = priors_frame(labels).astype(object)
    if "bbse" in frame and labels.bbse_problem is not None:
        frame["bbse"] = NOT_ESTIMABLE
    columns = [Column(c, _PRIOR_TITLES.get(c, c),
                      "share of rows per class" if c == "source" else "",
                      "text" if c == "bbse" and labels.bbse_problem else "percent")
               for c in frame.columns]
    return frame, columns


def _label_facts(report: GapReport) -> list[str]:
    labels = report.labels
    facts = []
    if np.isfinite(labels.total_variation):
        facts.append(f"total variation of the observed priors "
                     f"{format_number(labels.total_variation)} (chi-squared p "
                     f"{format_number(labels.pvalue, 'p')})")
    if labels.bbse_problem is None:
        facts.append(f"total variation of BBSE's estimate "
                     f"{format_number(labels.bbse_total_variation)} (condition number "
                     f"{format_number(labels.bbse_condition_number)}; BBSD p "
                     f"{format_number(labels.bbsd_pvalue, 'p')})")
    elif labels.bbse_priors is not None:
        facts.append(f"BBSE's prior estimate is {NOT_ESTIMABLE}: {labels.bbse_problem}")
    return facts


def _bars(axis: Any, item: dict, names: dict[str, str]) -> None:
    positions = np.arange(len(item["levels"]))
    for offset, side in ((-0.2, "source"), (0.2, "target")):
        axis.bar(positions + offset, item[side], width=0.4, color=COLOURS[side],
                 label=names[side])
    rotate = len(item["levels"]) > 4 or max((len(v) for v in item["levels"]), default=0) > 6
    axis.set_xticks(positions, [str(v)[:16] for v in item["levels"]],
                    rotation=30 if rotate else 0, ha="right" if rotate else "center")
    axis.set_ylabel("share of rows")
    axis.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _readable_ticks(axis: Any, edges: np.ndarray) -> None:
    """At most 5 x ticks, large values with thousands separators (salaries, prices)."""
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter

    axis.xaxis.set_major_locator(MaxNLocator(nbins=5))
    if np.nanmax(np.abs(edges)) >= 1000:
        axis.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def _figures(report: GapReport) -> list[str]:
    """Inline figures: per feature (histogram + ECDF, or side-by-side shares), PCA, priors."""
    import matplotlib
    from matplotlib.figure import Figure

    out = []
    names = {"source": report.source_name, "target": report.target_name}
    units = report.settings.get("units", "the units passed in")
    with matplotlib.rc_context({"font.size": 8, "axes.spines.top": False,
                                "axes.spines.right": False}):
        for item in report.plots.get("features", []):
            if item["kind"] == "numeric":
                figure = Figure(figsize=(6.4, 2.4), layout="constrained")
                left, right = figure.subplots(1, 2)
                edges = np.asarray(item["edges"])
                widths = np.diff(edges)
                for side in ("source", "target"):
                    # Shares of rows per bin read in any unit; densities of salaries do not.
                    left.stairs(np.asarray(item[side]) * widths, edges, fill=True, alpha=0.35,
                                color=COLOURS[side], label=names[side])
                    right.plot(item[f"{side}_quantiles"], item["levels"], color=COLOURS[side],
                               label=names[side])
                left.set_title(f"{item['feature']}: distribution")
                left.set_xlabel(item["feature"])
                left.set_ylabel("share of rows")
                for axis in (left, right):
                    _readable_ticks(axis, edges)
                right.set_title("cumulative share")
                right.set_xlabel(item["feature"])
                left.legend(frameon=False)
                caption = f"{item['feature']} in {units}."
            else:
                figure = Figure(figsize=(6.4 if len(item["levels"]) > 4 else 4.0, 2.5),
                                layout="constrained")
                axis = figure.subplots()
                _bars(axis, item, names)
                level = "value" if item["kind"] == "binary" else "category"
                axis.set_title(f"{item['feature']}: share of rows per {level}")
                caption = f"{item['feature']}: share of rows per {level} in each market."
            out.append(figure_html(figure, caption))
        if "pca" in report.plots:
            pca = report.plots["pca"]
            figure = Figure(figsize=(4.2, 3.6), layout="constrained")
            axis = figure.subplots()
            for side in ("source", "target"):
                points = np.asarray(pca[side])
                axis.scatter(points[:, 0], points[:, 1], s=5, alpha=0.45, color=COLOURS[side],
                             label=names[side], rasterized=True)
            explained = pca["explained"]
            axis.set_xlabel(f"PC1 ({explained[0]:.0%} of variance)")
            axis.set_ylabel(f"PC2 ({explained[1]:.0%})")
            axis.set_title("Both markets, first two principal components")
            axis.legend(frameon=False, markerscale=3)
            out.append(figure_html(figure, "Rows of both markets projected on the first two "
                                           "principal components of the tested features."))
        if report.labels is not None and report.labels.classes and "priors" in report.plots:
            priors = report.plots["priors"]
            series = [k for k in ("source", "target", "predicted", "bbse") if k in priors
                      and not (k == "bbse" and report.labels.bbse_problem)]
            figure = Figure(figsize=(4.4, 2.6), layout="constrained")
            axis = figure.subplots()
            width = 0.8 / len(series)
            positions = np.arange(len(priors["class"]))
            colours = {**COLOURS, "predicted": "#ff9896", "bbse": "#9467bd"}
            for i, name in enumerate(series):
                label = {"bbse": "target (BBSE)", "predicted": "target (predicted)"}.get(
                    name, names.get(name, name))
                axis.bar(positions + (i - (len(series) - 1) / 2) * width, priors[name],
                         width=width, color=colours[name], label=label)
            axis.set_xticks(positions, [str(c)[:16] for c in priors["class"]])
            axis.set_ylabel("share of rows")
            axis.set_title("Label mix")
            axis.legend(frameon=False)
            out.append(figure_html(figure, "Class shares per market."))
    return out


def _row_classes(report: GapReport) -> dict[object, str]:
    return {f: f"sev-{s}" for f, s in report.features["severity"].items()}


def _body(report: GapReport) -> str:
    units = report.settings.get("units", "the units passed in")
    parts = [
        f"<h1>Domain-gap report: {escape(report.source_name)} &rarr; "
        f"{escape(report.target_name)}</h1>",
        f'<p class="sub">Severity: <span class="badge {escape(report.severity)}">'
        f"{escape(report.severity)}</span> · {format_number(report.n_source, 'count')} source "
        f"rows, {format_number(report.n_target, 'count')} target rows · FDR "
        f"{format_number(report.alpha, 'percent')} · values in {escape(units)}</p>",
        f'<p class="summary">{escape(report.summary())}</p>',
    ]
    notes = list(report.notes)
    if report.labels is not None:
        notes += [n for n in report.labels.notes if n not in notes]
    if notes:
        items = "".join(f"<li>{escape(n)}</li>" for n in notes)
        parts.append(f'<h2>Notes</h2><ul class="notes">{items}</ul>')
    if len(report.domain_tests):
        parts.append("<h2>Whole-domain tests</h2>")
        parts.append(table_html(_tests_frame(report), _TEST_COLUMNS))
    if report.labels is not None and report.labels.classes:
        frame, columns = _priors(report)
        parts.append("<h2>Label shift</h2>")
        parts.append(table_html(frame, columns, index=Column("class", "class", "", "text")))
        facts = _label_facts(report)
        if facts:
            parts.append("<p>" + "; ".join(escape(f) for f in facts) + ".</p>")
    if report.weights:
        weights = pd.DataFrame({"value": pd.Series(report.weights)})
        scalar = weights[weights["value"].map(np.isscalar)]
        parts.append("<h2>Importance weights</h2>")
        parts.append(table_html(scalar, [Column("value", "value", "")],
                                index=Column("diagnostic", "diagnostic", "", "text")))
    parts.append(f"<h2>Features, most shifted first</h2><p class=\"muted\">Main drivers are "
                 f"ranked by {escape(report.drivers_ranked_by)} among the shifted features. "
                 f"Values in {escape(units)}.</p>")
    parts.append(table_html(_feature_frame(report), _FEATURE_COLUMNS,
                            index=Column("feature", "feature", "", "text"),
                            highlight=report.drivers, row_classes=_row_classes(report)))
    figures = _figures(report)
    if figures:
        parts.append('<h2>Plots</h2><div class="plots">' + "".join(figures) + "</div>")
    return "\n".join(parts)


def render_html(report: GapReport, *, fragment: bool = False) -> str:
    """The report as a standalone HTML page, or a ``<div>`` for notebooks (``fragment``)."""
    return page(f"Domain gap: {report.source_name} -> {report.target_name}", _body(report),
                fragment=fragment)


def render_markdown(report: GapReport) -> str:
    """The report as Markdown: summary, notes, whole-domain tests, label shift, features."""
    units = report.settings.get("units", "the units passed in")
    parts = [f"# Domain-gap report: {report.source_name} → {report.target_name}", "",
             f"**Severity: {report.severity}** ({format_number(report.n_source, 'count')} "
             f"source rows, {format_number(report.n_target, 'count')} target rows, FDR "
             f"{format_number(report.alpha, 'percent')}; values in {units})", "",
             report.summary(), ""]
    notes = list(report.notes)
    if report.labels is not None:
        notes += [n for n in report.labels.notes if n not in notes]
    if notes:
        parts += ["## Notes", "", *(f"- {n}" for n in notes), ""]
    if len(report.domain_tests):
        parts += ["## Whole-domain tests", "",
                  table_markdown(_tests_frame(report), _TEST_COLUMNS), ""]
    if report.labels is not None and report.labels.classes:
        frame, columns = _priors(report)
        parts += ["## Label shift", "",
                  table_markdown(frame, columns, index=Column("class", "class", "", "text")),
                  "", *(f"- {f}" for f in _label_facts(report)), ""]
    parts += ["## Features, most shifted first", "",
              f"Main drivers are ranked by {report.drivers_ranked_by} among the shifted "
              "features.", "",
              table_markdown(_feature_frame(report), _FEATURE_COLUMNS,
                             index=Column("feature", "feature", "", "text")), ""]
    return "\n".join(parts)
