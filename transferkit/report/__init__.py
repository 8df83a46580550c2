"""Reports people read: the run report, and the one look every transferkit HTML shares.

``render_run_html(result)`` / ``render_run_markdown(result)`` turn a ``RunResult`` into a
page that opens with the decision (what is served, by how much it beats or trails each
baseline, what to do next), then plots and tables with every column explained.
``page``, ``table_html`` and ``format_number`` are the shared template used by the gap
report and the verdict as well.

Examples
--------
>>> format_number(0.98765), format_number(1200.0, "count")
('0.988', '1,200')
"""

from __future__ import annotations

from transferkit.report._calibration import calibration_table
from transferkit.report._html import (
    Column,
    escape,
    figure_html,
    format_number,
    page,
    table_html,
    table_markdown,
)
from transferkit.report.run import render_run_html, render_run_markdown, run_decision

__all__ = [
    "Column",
    "calibration_table",
    "escape",
    "figure_html",
    "format_number",
    "page",
    "render_run_html",
    "render_run_markdown",
    "run_decision",
    "table_html",
    "table_markdown",
]
