"""TransferVerdict: the outcome of the negative-transfer test, which saves itself."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from transferkit._io import atomic_write_text

__all__ = ["TransferVerdict", "Verdict"]

Verdict = Literal["positive", "negative", "inconclusive"]


@dataclass(frozen=True)
class TransferVerdict:
    """Outcome of :func:`compare`: scores, paired differences, verdict and breakdowns.

    Attributes
    ----------
    verdict : {"positive", "negative", "inconclusive"}
    metric : str
        The metric the verdict is decided on.
    transferred : str
        Name of the transferred model.
    best_baseline : str
        The baseline with the best point value of ``metric`` (the guard serves it when it
        falls back).
    deciding_baseline : str
        The baseline whose comparison decides the verdict. The verdict tests against every
        baseline, not against the one that looks best on these same rows (which inflates
        false alarms): ``negative`` when transfer is significantly worse than at least one
        baseline after Holm's correction over the baselines (the one with the smallest
        adjusted p-value decides), ``positive`` when it is significantly better than every
        baseline (the weakest win decides), else ``inconclusive`` (the comparison nearest
        to a decision is reported).
    difference, low, high : float
        Transferred minus ``deciding_baseline`` on ``metric``, oriented so that > 0 means
        transfer is better (for losses: baseline minus transferred), with the interval of
        the test that decides (NaN when too few rows): for accuracy the Clopper-Pearson
        interval that inverts the exact McNemar test, else the paired bootstrap interval;
        at ``interval_confidence``, so it excludes 0 exactly when the test is significant.
    p_value : float
        p-value of that comparison as the decision uses it: exact McNemar for accuracy
        (the bootstrap is too optimistic when the models disagree on few rows), paired
        bootstrap for the other metrics; Holm-adjusted on the negative side (see ``test``).
    interval_confidence : float
        Level of ``low`` / ``high``: ``confidence``, or higher on the Holm side
        (``1 - (1 - confidence) p_raw / p_holm``).
    test : str
        The test that decided, in words (e.g. ``"exact McNemar, Holm-adjusted over 2
        baselines"``).
    confidence : float
    n_target : int
        Labelled target rows scored.
    extra_labels_needed : int or None
        For ``inconclusive``: about how many more labelled target rows would make a
        difference of the observed size significant (None when the observed difference is
        0, so no number of labels would).
    scores : DataFrame
        Index (model, metric); columns ``value``, ``low``, ``high``, ``n``.
    differences : DataFrame
        Index (baseline, metric); columns ``difference``, ``low``, ``high`` (at
        ``confidence``), ``p_value`` (McNemar for accuracy, paired bootstrap otherwise) and
        ``p_holm`` (Holm-adjusted over the baselines, per metric).
    per_class : DataFrame or None
        Per target class: rows, recall of the transferred model and of the deciding baseline,
        their difference with interval, and ``effect`` (helps / hurts / unclear).
    per_segment : DataFrame or None
        The same on ``metric`` for each segment value, when segments were given.
    message : str
        One paragraph for reports.
    notes : tuple of str
        Problems met on the way (single class, labels unknown to a model, few rows).
    """

    verdict: Verdict
    metric: str
    transferred: str
    best_baseline: str
    deciding_baseline: str
    difference: float
    low: float
    high: float
    p_value: float
    interval_confidence: float
    test: str
    confidence: float
    n_target: int
    extra_labels_needed: int | None
    scores: pd.DataFrame
    differences: pd.DataFrame
    per_class: pd.DataFrame | None
    per_segment: pd.DataFrame | None
    message: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_negative(self) -> bool:
        """True when transfer is significantly worse than at least one baseline (Holm)."""
        return self.verdict == "negative"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (tables as lists of records)."""
        def records(table: pd.DataFrame | None) -> list[dict[str, Any]] | None:
            if table is None:
                return None
            frame = table.reset_index()
            return json.loads(frame.to_json(orient="records"))

        return {
            "verdict": self.verdict, "metric": self.metric, "transferred": self.transferred,
            "best_baseline": self.best_baseline, "deciding_baseline": self.deciding_baseline,
            "difference": _finite(self.difference), "low": _finite(self.low),
            "high": _finite(self.high), "p_value": _finite(self.p_value),
            "interval_confidence": self.interval_confidence, "test": self.test,
            "confidence": self.confidence,
            "n_target": self.n_target, "extra_labels_needed": self.extra_labels_needed,
            "message": self.message, "notes": list(self.notes),
            "scores": records(self.scores), "differences": records(self.differences),
            "per_class": records(self.per_class), "per_segment": records(self.per_segment),
        }

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The verdict as JSON; also written (atomically) to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=2, default=str)
        if path is not None:
            atomic_write_text(path, text)
        return text

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """One self-contained HTML page (the shared report look, user text escaped); also
        written (atomically) to ``path`` when given."""
        from transferkit.report.verdict import render_verdict_html

        text = render_verdict_html(self)
        if path is not None:
            atomic_write_text(path, text)
        return text

    def _repr_html_(self) -> str:
        from transferkit.report.verdict import render_verdict_html

        return render_verdict_html(self, fragment=True)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write ``.json`` or ``.html`` according to the file suffix."""
        suffix = os.path.splitext(os.fspath(path))[1].lower()
        if suffix == ".json":
            self.to_json(path)
        elif suffix in (".html", ".htm"):
            self.to_html(path)
        else:
            raise ValueError(
                f"TransferVerdict.save: unknown suffix {suffix!r} in {os.fspath(path)!r}; "
                "use .json or .html."
            )

    def __str__(self) -> str:
        return self.message


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
