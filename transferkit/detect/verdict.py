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
        The baseline with the best point value of ``metric``.
    difference, low, high : float
        Transferred minus best baseline on ``metric``, oriented so that > 0 means transfer
        is better (for losses: baseline minus transferred), with its paired bootstrap
        interval (NaN when too few rows).
    p_value : float
        Two-sided p-value of that difference: the exact McNemar test for accuracy (which
        then decides the verdict, as the bootstrap is too optimistic when the models
        disagree on few rows), the paired bootstrap for the other metrics.
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
        Index (baseline, metric); columns ``difference``, ``low``, ``high``, ``p_value``
        (McNemar for accuracy, paired bootstrap otherwise).
    per_class : DataFrame or None
        Per target class: rows, recall of the transferred model and of the best baseline,
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
    difference: float
    low: float
    high: float
    p_value: float
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
        """True when transfer is significantly worse than the best baseline."""
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
            "best_baseline": self.best_baseline, "difference": _finite(self.difference),
            "low": _finite(self.low), "high": _finite(self.high),
            "p_value": _finite(self.p_value), "confidence": self.confidence,
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
        """A self-contained HTML fragment; also written (atomically) to ``path`` when given."""
        parts = [f"<h2>Negative-transfer check: {self.verdict}</h2>", f"<p>{self.message}</p>"]
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{n}</li>" for n in self.notes) + "</ul>")
        for title, table in (("Scores", self.scores), ("Differences", self.differences),
                             ("Per class", self.per_class), ("Per segment", self.per_segment)):
            if table is not None:
                parts.append(f"<h3>{title}</h3>" + table.to_html(float_format="%.4f"))
        text = "\n".join(parts)
        if path is not None:
            atomic_write_text(path, text)
        return text

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
