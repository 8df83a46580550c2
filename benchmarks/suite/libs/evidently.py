"""Evidently adapter for the gap-report track: the columns its default drift report flags.

A new user's call, the 0.7 API with every default: ``Report([DataDriftPreset()])`` run with
``reference_data=source`` and ``current_data=target``. The preset picks the test per column
from its type and size (above 1000 rows: normed Wasserstein distance for numeric columns,
Jensen-Shannon distance for categorical ones, threshold 0.1; at 1000 rows or fewer: K-S and
chi-squared p-values at 0.05). ``include_tests=True`` only makes the report carry Evidently's
own per-column verdict ("Value Drift for column ...", FAIL = drift detected) in the result
dict, so the flag is read from there rather than re-derived from scores and thresholds.

Environment: ``benchmarks/.peers/evidently`` (evidently 0.7.23 needs pandas < 3: it imports
``pandas.core.dtypes.common.infer_dtype_from_object``, which pandas 3 removed).
Runs single-threaded; no ``set_threads`` is needed.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

METHODS: dict[str, tuple[str, ...]] = {"gap": ("drift",)}


def versions() -> dict[str, str]:
    """Versions of evidently and the pandas/scipy it computes with."""
    return {name: version(name) for name in ("evidently", "pandas", "scipy")}


def gap(method: str, source: Any, target: Any) -> list[str]:
    """Columns the default ``DataDriftPreset`` report flags as drifted, in column order."""
    if method != "drift":
        raise ValueError(f"evidently offers the gap method 'drift'; got {method!r}")
    from evidently import Report
    from evidently.presets import DataDriftPreset

    report = Report([DataDriftPreset()], include_tests=True)
    result = report.run(reference_data=source, current_data=target).dict()
    flagged = set()
    for test in result["tests"]:
        params = test["metric_config"]["params"]
        if params.get("type") == "evidently:metric_v2:ValueDrift" and test["status"] == "FAIL":
            flagged.add(params["column"])
    return [column for column in source.columns if column in flagged]
