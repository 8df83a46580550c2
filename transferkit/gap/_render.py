"""HTML and Markdown rendering of a GapReport; plots are inline SVG, nothing is fetched."""

from __future__ import annotations

import html
import io
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from transferkit.gap._report import GapReport

__all__ = ["render_html", "render_markdown"]

_COLOURS = {"source": "#1f77b4", "target": "#d62728"}
_SEVERITY_COLOURS = {"none": "#e8f5e9", "negligible": "#f1f8e9", "small": "#fff8e1",
                     "moderate": "#ffe0b2", "large": "#ffcdd2"}
_TABLE_COLUMNS = [
    ("severity", "severity"), ("kind", "kind"), ("test", "test"), ("effect", "effect"),
    ("pvalue", "p-value"), ("pvalue_adjusted", "BH q-value"), ("wasserstein", "W1 (sd)"),
    ("psi", "PSI"), ("mean_shift", "mean shift (sd)"), ("std_ratio", "sd ratio"),
    ("js_divergence", "JS div."), ("missing_source", "missing src"),
    ("missing_target", "missing tgt"), ("importance", "importance"),
    ("model_impact", "model impact"),
    ("only_in_source", "only in source"), ("only_in_target", "only in target"),
    ("note", "note"),
]
_CSS = """
.tk-gap{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#222;
 max-width:1200px;margin:0 auto;padding:1em;line-height:1.45}
.tk-gap h1{font-size:1.6em;margin-bottom:.2em}.tk-gap h2{font-size:1.25em;margin-top:1.6em;
 border-bottom:1px solid #ddd}
.tk-gap table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
.tk-gap th,.tk-gap td{border:1px solid #ddd;padding:3px 7px;text-align:right}
.tk-gap th{background:#f5f5f5}.tk-gap td.l,.tk-gap th.l{text-align:left}
.tk-gap .badge{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:600}
.tk-gap .summary{font-size:1.05em;background:#fafafa;border-left:4px solid #888;padding:.6em 1em}
.tk-gap .plots{display:flex;flex-wrap:wrap;gap:10px}.tk-gap .plots figure{margin:0}
.tk-gap .notes li{color:#8a4b00}.tk-gap .muted{color:#777;font-size:.85em}
"""


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            return ""
        value = float(value)
        if value != 0 and abs(value) < 1e-3:
            return f"{value:.1e}"
        return f"{value:.3f}"
    return str(value)


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _figures(report: GapReport) -> list[tuple[str, str]]:
    """(caption, inline SVG) pairs, text kept as SVG text.

    Figures are ``matplotlib.figure.Figure`` objects rendered directly, so the user's
    pyplot backend and open figures are never touched.
    """
    import matplotlib
    from matplotlib.figure import Figure

    out = []
    style = {"svg.fonttype": "none", "svg.hashsalt": "transferkit", "font.size": 8}
    names = {"source": report.source_name, "target": report.target_name}
    with matplotlib.rc_context(style):
        for item in report.plots.get("features", []):
            if item["kind"] == "numeric":
                figure = Figure(figsize=(6.4, 2.3))
                left, right = figure.subplots(1, 2)
                edges = np.asarray(item["edges"])
                for side in ("source", "target"):
                    left.stairs(item[side], edges, fill=True, alpha=0.35, color=_COLOURS[side],
                                label=names[side])
                    right.plot(item[f"{side}_quantiles"], item["levels"], color=_COLOURS[side],
                               label=names[side])
                left.set_title(f"{item['feature']}: histogram")
                right.set_title("ECDF")
                left.legend(frameon=False)
            else:
                figure = Figure(figsize=(6.4, 2.3))
                left = figure.subplots()
                positions = np.arange(len(item["levels"]))
                for offset, side in ((-0.2, "source"), (0.2, "target")):
                    left.bar(positions + offset, item[side], width=0.4, color=_COLOURS[side],
                             label=names[side])
                left.set_xticks(positions, [str(v)[:14] for v in item["levels"]], rotation=30,
                                ha="right")
                left.set_title(f"{item['feature']}: category shares")
                left.legend(frameon=False)
            out.append((f"Feature {item['feature']}", _svg(figure)))
        if "pca" in report.plots:
            pca = report.plots["pca"]
            figure = Figure(figsize=(4.2, 3.6))
            axis = figure.subplots()
            for side in ("source", "target"):
                points = np.asarray(pca[side])
                axis.scatter(points[:, 0], points[:, 1], s=5, alpha=0.45, color=_COLOURS[side],
                             label=names[side], rasterized=True)
            explained = pca["explained"]
            axis.set_xlabel(f"PC1 ({explained[0]:.0%})")
            axis.set_ylabel(f"PC2 ({explained[1]:.0%})")
            axis.set_title("PCA of both markets")
            axis.legend(frameon=False, markerscale=3)
            out.append(("2-D PCA projection", _svg(figure)))
        if "priors" in report.plots:
            priors = report.plots["priors"]
            figure = Figure(figsize=(4.2, 2.6))
            axis = figure.subplots()
            series = [k for k in ("source", "target", "predicted", "bbse") if k in priors]
            width = 0.8 / len(series)
            positions = np.arange(len(priors["class"]))
            colours = {**_COLOURS, "predicted": "#ff9896", "bbse": "#9467bd"}
            for i, name in enumerate(series):
                label = {"bbse": "target (BBSE)", "predicted": "target (predicted)"}.get(
                    name, names.get(name, name))
                axis.bar(positions + (i - (len(series) - 1) / 2) * width, priors[name],
                         width=width, color=colours[name], label=label)
            axis.set_xticks(positions, [str(c)[:14] for c in priors["class"]])
            axis.set_title("Class priors")
            axis.legend(frameon=False)
            out.append(("Class priors", _svg(figure)))
    return out


def _table_html(frame: pd.DataFrame, columns: list[tuple[str, str]], index_name: str,
                row_colour: pd.Series | None = None) -> str:
    present = [(key, title) for key, title in columns if key in frame.columns]
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title in present)
    rows = []
    for index, row in frame.iterrows():
        style = ""
        if row_colour is not None:
            style = f' style="background:{row_colour.loc[index]}"'
        cells = "".join(
            f'<td class="{"l" if isinstance(row[key], str) else ""}">'
            f"{html.escape(_fmt(row[key]))}</td>" for key, _ in present)
        rows.append(f'<tr{style}><td class="l">{html.escape(str(index))}</td>{cells}</tr>')
    return (f'<table><thead><tr><th class="l">{html.escape(index_name)}</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _body(report: GapReport) -> str:
    parts = [
        f"<h1>Domain-gap report: {html.escape(report.source_name)} &rarr; "
        f"{html.escape(report.target_name)}</h1>",
        f'<p>Severity: <span class="badge" style="background:'
        f'{_SEVERITY_COLOURS[report.severity]}">{report.severity}</span> '
        f'<span class="muted">{report.n_source:,} source rows, {report.n_target:,} target '
        f"rows, FDR {report.alpha:.0%}</span></p>",
        f'<p class="summary">{html.escape(report.summary())}</p>',
    ]
    if report.notes:
        items = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
        parts.append(f'<h2>Notes</h2><ul class="notes">{items}</ul>')
    if len(report.domain_tests):
        parts.append("<h2>Whole-domain tests</h2>")
        parts.append(_table_html(report.domain_tests, [
            ("description", "test"), ("statistic_name", "statistic"), ("statistic", "value"),
            ("standard_error", "std. error"), ("pvalue", "p-value"),
            ("proxy_a_distance", "proxy A-distance"), ("n_source", "source rows"),
            ("n_target", "target rows")], "name"))
    if report.labels is not None and report.labels.classes:
        from transferkit.gap._labels import priors_frame

        labels = report.labels
        parts.append("<h2>Label shift</h2>")
        priors = priors_frame(labels)
        parts.append(_table_html(priors, [(c, c) for c in priors.columns], "class"))
        facts = [f"total variation (observed): {_fmt(labels.total_variation)}",
                 f"chi-squared p-value: {_fmt(labels.pvalue)}",
                 f"total variation (BBSE): {_fmt(labels.bbse_total_variation)}",
                 f"BBSE condition number: {_fmt(labels.bbse_condition_number)}"]
        parts.append("<p>" + "; ".join(html.escape(f) for f in facts) + "</p>")
        for text in labels.notes:
            parts.append(f'<p class="muted">{html.escape(text)}</p>')
    if report.weights:
        weights = pd.DataFrame({"value": pd.Series(report.weights)})
        scalar = weights[weights["value"].map(lambda v: np.isscalar(v))]
        parts.append("<h2>Importance weights</h2>")
        parts.append(_table_html(scalar, [("value", "value")], "diagnostic"))
    parts.append("<h2>Features, most shifted first</h2>")
    colours = report.features["severity"].map(_SEVERITY_COLOURS).fillna("#ffffff")
    parts.append(_table_html(report.features, _TABLE_COLUMNS, "feature", colours))
    parts.append(
        '<p class="muted">effect: KS statistic (numeric) or total variation of category shares '
        "(categorical), both in [0, 1]; severity: none = not significant after "
        "Benjamini-Hochberg, then negligible &lt; 0.05 &le; small &lt; 0.1 &le; moderate "
        "&lt; 0.2 &le; large. importance: drop in the domain classifier's ROC AUC when the "
        "feature is shuffled. model impact: mean change of the source model's output when only "
        "that feature takes the target's distribution.</p>")
    figures = _figures(report)
    if figures:
        parts.append("<h2>Plots</h2><div class=\"plots\">")
        for caption, svg in figures:
            parts.append(f"<figure>{svg}<figcaption class=\"muted\">{html.escape(caption)}"
                         "</figcaption></figure>")
        parts.append("</div>")
    return "\n".join(parts)


def render_html(report: GapReport, *, fragment: bool = False) -> str:
    """The report as a standalone HTML page, or a ``<div>`` for notebooks (``fragment``)."""
    body = f'<div class="tk-gap"><style>{_CSS}</style>\n{_body(report)}\n</div>'
    if fragment:
        return body
    title = html.escape(f"Domain gap: {report.source_name} -> {report.target_name}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title></head><body>\n{body}\n</body></html>\n")


def _markdown_table(frame: pd.DataFrame, columns: list[tuple[str, str]], index_name: str) -> str:
    present = [(key, title) for key, title in columns if key in frame.columns]
    lines = ["| " + " | ".join([index_name, *(t for _, t in present)]) + " |",
             "|" + "---|" * (len(present) + 1)]
    for index, row in frame.iterrows():
        cells = [_fmt(row[key]).replace("|", "\\|") for key, _ in present]
        lines.append("| " + " | ".join([str(index), *cells]) + " |")
    return "\n".join(lines)


def render_markdown(report: GapReport) -> str:
    """The report as Markdown: summary, notes, whole-domain tests, label shift, features."""
    parts = [f"# Domain-gap report: {report.source_name} → {report.target_name}", "",
             f"**Severity: {report.severity}** ({report.n_source:,} source rows, "
             f"{report.n_target:,} target rows, FDR {report.alpha:.0%})", "", report.summary(), ""]
    if report.notes:
        parts += ["## Notes", "", *(f"- {n}" for n in report.notes), ""]
    if len(report.domain_tests):
        parts += ["## Whole-domain tests", "", _markdown_table(report.domain_tests, [
            ("statistic_name", "statistic"), ("statistic", "value"),
            ("standard_error", "std. error"), ("pvalue", "p-value"),
            ("proxy_a_distance", "proxy A-distance")], "test"), ""]
    if report.labels is not None and report.labels.classes:
        from transferkit.gap._labels import priors_frame

        priors = priors_frame(report.labels)
        parts += ["## Label shift", "",
                  _markdown_table(priors, [(c, c) for c in priors.columns], "class"), ""]
    parts += ["## Features, most shifted first", "",
              _markdown_table(report.features, _TABLE_COLUMNS, "feature"), ""]
    return "\n".join(parts)
