"""NannyML adapter for the gap-report track: the columns its univariate drift check alerts on.

A new user's call with every default: ``UnivariateDriftCalculator(column_names=...)``
fitted on the source (reference) and run on the target (analysis). NannyML 0.13's defaults
are Jensen-Shannon distance for continuous and categorical columns alike, and an alert
threshold of the reference chunks' mean + 3 standard deviations. Chunking is the default
(10 chunks per period, ``DefaultChunker``): a single chunk per market is not usable because
the threshold is learned from the spread across reference chunks, and with one chunk the
spread is zero, the threshold collapses to ~0 and every column alerts (NannyML itself warns
that the number of chunks is too low). A column counts as flagged when any analysis chunk
raises an alert.

Environment: ``benchmarks/.peers/nannyml`` (nannyml 0.13.1 imports statsmodels, which its
pinned dependencies no longer pull in; the environment installs it alongside).
Usage logging is switched off (``NML_DISABLE_USAGE_LOGGING``: the benchmark machines have no
network). Runs single-threaded; no ``set_threads`` is needed.
"""

from __future__ import annotations

import os
import warnings
from importlib.metadata import version
from typing import Any

METHODS: dict[str, tuple[str, ...]] = {"gap": ("drift",)}


def versions() -> dict[str, str]:
    """Versions of nannyml and the pandas/scipy it computes with."""
    return {name: version(name) for name in ("nannyml", "pandas", "scipy")}


def gap(method: str, source: Any, target: Any) -> list[str]:
    """Columns with an alert in any analysis chunk of the default univariate drift check."""
    if method != "drift":
        raise ValueError(f"nannyml offers the gap method 'drift'; got {method!r}")
    os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
    import nannyml

    columns = [str(column) for column in source.columns]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calculator = nannyml.UnivariateDriftCalculator(column_names=columns)
        calculator.fit(source)
        result = calculator.calculate(target).filter(period="analysis").to_df()
    alerts = result.xs("alert", axis=1, level=2)
    flagged = {column for (column, _method), alert in alerts.any().items() if alert}
    return [column for column in columns if column in flagged]
