"""Domain-gap report: how far the target market is from the source market, and where.

``gap_report(source, target)`` tests every feature (KS / chi-squared with
Benjamini-Hochberg correction, effect sizes and a severity), the whole domain (domain
classifier AUC with a permutation p-value, proxy A-distance, kernel MMD), the label mix
(priors, total variation, BBSE) and names the features that drive the shift. The
``GapReport`` it returns prints a plain-language summary and saves itself as HTML, JSON or
Markdown.

Examples
--------
>>> from transferkit.datasets import load_stackoverflow
>>> markets = load_stackoverflow(["United States", "Germany"])
>>> report = gap_report(markets["United States"], markets["Germany"], tests=("mmd",),
...                     importances=False, top_plots=0)
>>> report.features.index[0], bool(report.features.loc["Salary", "shifted"])
('Salary', True)
"""

from __future__ import annotations

from transferkit.gap._domain_tests import GAP_METRICS, Design
from transferkit.gap._features import SEVERITIES, severity_of
from transferkit.gap._labels import LabelShift
from transferkit.gap._report import GapReport, gap_report

__all__ = [
    "GAP_METRICS",
    "SEVERITIES",
    "Design",
    "GapReport",
    "LabelShift",
    "gap_report",
    "severity_of",
]
