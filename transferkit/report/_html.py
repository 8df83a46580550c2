"""The one look of every report: page template, stylesheet, number formats, tables, figures.

Every HTML file transferkit writes (gap report, run report, verdict) goes through
``page``: one stylesheet, user text escaped, plots inline (SVG), nothing fetched from the
network, readable when printed. Markdown versions use the same number formats and column
explanations.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "Column",
    "escape",
    "figure_html",
    "format_number",
    "legend_html",
    "legend_markdown",
    "page",
    "table_html",
    "table_markdown",
]

Kind = Literal["number", "count", "p", "percent", "signed", "text", "interval"]
MISSING = "–"
COLOURS = {"source": "#1f77b4", "target": "#d62728", "pick": "#2ca02c", "hindsight": "#ff7f0e",
           "baseline": "#555555", "method": "#9467bd"}

CSS = """
.tk-report{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1d1d1f;
 max-width:1100px;margin:0 auto;padding:1em 1.2em;line-height:1.45;font-size:15px}
.tk-report h1{font-size:1.55em;margin:.2em 0 .1em}
.tk-report h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #d8d8d8;padding-bottom:.15em}
.tk-report h3{font-size:1.02em;margin:1.1em 0 .3em}
.tk-report .sub{color:#555;margin:0 0 .8em}
.tk-report table{border-collapse:collapse;font-size:.86em;margin:.4em 0 .3em}
.tk-report th,.tk-report td{border:1px solid #d8d8d8;padding:3px 8px;text-align:right;
 vertical-align:top}
.tk-report th{background:#f3f4f6;font-weight:600}
.tk-report td.l,.tk-report th.l{text-align:left}
.tk-report td{white-space:nowrap}.tk-report td.l{white-space:normal;max-width:32ch}
.tk-report .wide{overflow-x:auto;max-width:100%}
.tk-report tr.pick td{font-weight:600}
.tk-report tr.sev-negligible td{background:#f4f9ee}.tk-report tr.sev-small td{background:#fffbe6}
.tk-report tr.sev-moderate td{background:#fff0dc}.tk-report tr.sev-large td{background:#ffe5e5}
.tk-report .legend{font-size:.8em;color:#555;margin:.2em 0 1em;max-width:100ch}
.tk-report .legend b{color:#333}
.tk-report .card{border:2px solid #999;border-radius:8px;padding:.8em 1.1em;margin:1em 0;
 background:#fafafa}
.tk-report .card.positive{border-color:#2e7d32;background:#f1f8f2}
.tk-report .card.negative{border-color:#c62828;background:#fdf2f2}
.tk-report .card.inconclusive{border-color:#ef8f00;background:#fff8ec}
.tk-report .card h2{border:none;margin:.1em 0 .4em;font-size:1.25em}
.tk-report .card ul{margin:.3em 0;padding-left:1.2em}
.tk-report .card .next{margin-top:.5em}
.tk-report .badge{display:inline-block;padding:1px 9px;border-radius:9px;font-weight:600;
 font-size:.9em;background:#e0e0e0}
.tk-report .badge.positive,.tk-report .badge.none{background:#c8e6c9}
.tk-report .badge.negative,.tk-report .badge.large{background:#ffcdd2}
.tk-report .badge.inconclusive,.tk-report .badge.moderate{background:#ffe0b2}
.tk-report .badge.small{background:#fff3c4}.tk-report .badge.negligible{background:#e6f2d9}
.tk-report .summary{background:#f6f7f9;border-left:4px solid #8a8f98;padding:.6em 1em}
.tk-report .notes li{color:#7a4100}
.tk-report .muted{color:#666;font-size:.85em}
.tk-report .plots{display:flex;flex-wrap:wrap;gap:14px}
.tk-report figure{margin:0;max-width:100%}
.tk-report figure svg{max-width:100%;height:auto}
.tk-report figcaption{font-size:.8em;color:#555;max-width:70ch}
@media print{.tk-report{max-width:none;font-size:11pt}.tk-report .wide{overflow:visible}
 .tk-report h2{break-after:avoid}
 .tk-report figure,.tk-report table,.tk-report .card{break-inside:avoid}
 .tk-report .card{border-width:1.5px}}
"""


@dataclass(frozen=True)
class Column:
    """One table column: the frame's key, its header, what it means, how to format it."""

    key: str
    title: str
    explain: str = ""
    kind: Kind = "number"


def escape(text: object) -> str:
    """``str(text)`` with HTML special characters escaped (quotes too)."""
    return html.escape(str(text), quote=True)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return not math.isfinite(float(value))
    return False


def _significant(value: float, digits: int = 3) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 10 ** digits:
        return f"{value:,.0f}"
    if magnitude < 1e-3:
        return f"{value:.{digits - 1}e}"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(magnitude))))
    text = f"{value:.{decimals}f}"
    if "." in text and decimals > 0 and abs(float(text)) >= 10 ** (digits - 1):
        text = text.rstrip("0").rstrip(".")
    return text


def format_number(value: Any, kind: Kind = "number") -> str:
    """A value as people read it: counts as integers, 3 significant digits, p < 0.001.

    Examples
    --------
    >>> format_number(194.0, "count"), format_number(0.123456), format_number(0.0001, "p")
    ('194', '0.123', '< 0.001')
    >>> [format_number(0.0231, "signed"), format_number(0.145, "percent"),
    ...  format_number(0.05, "percent")]
    ['+0.0231', '14.5%', '5%']
    >>> format_number(float("nan")), format_number(True), format_number(12345.678)
    ('–', 'yes', '12,346')
    """
    if _missing(value):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return " / ".join(format_number(v, kind) for v in value)
    if kind == "text" or isinstance(value, str) or not isinstance(
            value, int | float | np.integer | np.floating):
        return str(value)
    number = float(value)
    if kind == "count":
        return f"{round(number):,}"
    if kind == "p":
        return "< 0.001" if number < 0.001 else _significant(number)
    if kind == "percent":
        text = _significant(100 * number)
        return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"
    if kind == "signed":
        return ("+" if number > 0 else "") + _significant(number)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    return _significant(number)


def _cell(row: pd.Series, column: Column) -> str:
    if column.kind == "interval":
        value, low, high = (row.get(column.key), row.get(f"{column.key}_low"),
                            row.get(f"{column.key}_high"))
        if _missing(value):
            return MISSING
        if _missing(low) or _missing(high):
            return format_number(value)
        return f"{format_number(value)} ({format_number(low)} to {format_number(high)})"
    return format_number(row.get(column.key), column.kind)


def _present(frame: pd.DataFrame, columns: Sequence[Column]) -> list[Column]:
    """The columns ``frame`` has and that hold at least one value (no empty columns)."""
    shown = []
    for column in columns:
        if column.key not in frame.columns:
            continue
        values = frame[column.key]
        if values.map(lambda v: _missing(v) or v == "").all() and len(values):
            continue
        shown.append(column)
    return shown


def table_html(frame: pd.DataFrame, columns: Sequence[Column], *, index: Column | None = None,
               highlight: Iterable[object] = (),
               row_classes: Mapping[object, str] | None = None) -> str:
    """An HTML table of ``frame`` (one header row), then a legend explaining each column.

    Rows whose index is in ``highlight`` are bold; ``row_classes`` adds a CSS class per row
    (``sev-large`` colours a row by severity).
    """
    shown = _present(frame, columns)
    marked = set(highlight)
    head = ([f'<th class="l">{escape(index.title)}</th>'] if index else []) + [
        f'<th class="{"l" if c.kind == "text" else ""}">{escape(c.title)}</th>' for c in shown]
    rows = []
    for key, row in frame.iterrows():
        cells = [f'<td class="l">{escape(_label(key))}</td>'] if index else []
        cells += [f'<td class="{"l" if c.kind == "text" else ""}">{escape(_cell(row, c))}</td>'
                  for c in shown]
        classes = " ".join(c for c in ("pick" if key in marked else "",
                                      (row_classes or {}).get(key, "")) if c)
        cls = f' class="{escape(classes)}"' if classes else ""
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    legend = legend_html([*([index] if index else []), *shown])
    return (f'<div class="wide"><table><thead><tr>{"".join(head)}</tr></thead><tbody>'
            f'{"".join(rows)}</tbody></table></div>{legend}')


def _label(key: object) -> str:
    if isinstance(key, tuple):
        return " · ".join(str(k) for k in key)
    return str(key)


def legend_html(columns: Sequence[Column]) -> str:
    """What each column means, in one small paragraph under its table."""
    items = [f"<b>{escape(c.title)}</b>: {escape(c.explain)}" for c in columns if c.explain]
    return f'<p class="legend">{"; ".join(items)}.</p>' if items else ""


def table_markdown(frame: pd.DataFrame, columns: Sequence[Column], *,
                   index: Column | None = None) -> str:
    """The same table as Markdown, with the legend as a paragraph below it."""
    shown = _present(frame, columns)
    titles = ([index.title] if index else []) + [c.title for c in shown]
    lines = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    for key, row in frame.iterrows():
        cells = ([_label(key)] if index else []) + [_cell(row, c) for c in shown]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    legend = legend_markdown([*([index] if index else []), *shown])
    return "\n".join(lines) + (f"\n\n{legend}" if legend else "")


def legend_markdown(columns: Sequence[Column]) -> str:
    """The legend of ``table_markdown``."""
    items = [f"**{c.title}**: {c.explain}" for c in columns if c.explain]
    return ("_" + "; ".join(items) + "._") if items else ""


def figure_html(figure: Any, caption: str) -> str:
    """A matplotlib ``Figure`` as an inline ``<figure>`` (SVG, text kept as text).

    The figure is rendered by itself (``Figure.savefig``), so the user's pyplot backend
    and open figures are never touched.
    """
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "transferkit"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    svg = text[text.index("<svg"):]
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(caption)}" ', 1)
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def page(title: str, body: str, *, fragment: bool = False) -> str:
    """A whole self-contained HTML page (or, with ``fragment``, a ``<div>`` for notebooks).

    Examples
    --------
    >>> text = page("a <b> report", "<p>hi</p>")
    >>> text.startswith("<!DOCTYPE html>"), "a &lt;b&gt; report" in text, "http" in text
    (True, True, False)
    """
    block = f'<div class="tk-report"><style>{CSS}</style>\n{body}\n</div>'
    if fragment:
        return block
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title></head><body>\n{block}\n</body></html>\n")
