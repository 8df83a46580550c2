"""What a recipe run produced, and the report files it saves.

Examples
--------
>>> from transferkit.recipes.result import RunResult
>>> RunResult.__dataclass_fields__.keys() >= {"verdict", "served", "fell_back"}
True
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from transferkit._io import atomic_directory, atomic_write_text
from transferkit._json import to_jsonable
from transferkit.detect import TransferVerdict
from transferkit.gap import GapReport
from transferkit.recipes.config import Recipe

__all__ = ["RunResult"]

_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "log_loss", "roc_auc")
_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}
.verdict{padding:.8em 1em;border-radius:6px;margin:1em 0}
.positive{background:#e6f4ea}.negative{background:#fde7e9}.inconclusive{background:#fff4e0}
.fallback{font-weight:bold;color:#a00}
"""


@dataclass(frozen=True)
class RunResult:
    """Outcome of ``run_recipe``.

    Attributes
    ----------
    recipe : Recipe
    source, target : str
        Market names.
    chosen_method : str
        Candidate picked by the unsupervised validator.
    served : str
        What the guard serves: the chosen method's name, or a baseline after a fallback.
    fell_back : bool
        True when negative transfer (or an inconclusive test with ``on_inconclusive:
        fallback``) made the guard serve a baseline.
    verdict : TransferVerdict
        The comparison on held-out target rows, with intervals and breakdowns.
    guard_report : str
        The guard's paragraph (says FALLBACK loudly when it fell back).
    selection : DataFrame
        Validator score of every candidate.
    candidate_scores : DataFrame
        Held-out target scores of every candidate (for insight; never used to choose).
    gap : GapReport or None
    counts : dict
        Rows in each part of the split.
    details : dict
        Featurizer facts, fit times, warnings, total seconds.
    pipeline : TransferPipeline
        The served, fitted pipeline (saved to ``model/`` in the run folder).
    folder : Path or None
        The run folder, once saved.
    """

    recipe: Recipe
    source: str
    target: str
    chosen_method: str
    served: str
    fell_back: bool
    verdict: TransferVerdict
    guard_report: str
    selection: pd.DataFrame
    candidate_scores: pd.DataFrame
    gap: GapReport | None
    counts: Mapping[str, int]
    details: Mapping[str, Any] = field(default_factory=dict)
    pipeline: Any = field(default=None, repr=False, compare=False)
    folder: Path | None = None

    @property
    def model(self) -> Any:
        """The served ``TransferPipeline`` (``pipeline``)."""
        return self.pipeline

    def summary(self) -> str:
        """Plain-language outcome in a few lines."""
        lines = [
            f"Recipe {self.recipe.name}: {self.source} -> {self.target}",
            f"Chosen without target labels ({self.recipe.validator}): {self.chosen_method}.",
            f"Verdict on {self.counts['target_test']} held-out target rows: "
            f"{self.verdict.verdict}. {self.verdict.message}",
        ]
        if self.fell_back:
            lines.append(f"FALLBACK: serving {self.served}, not {self.chosen_method}.")
        else:
            lines.append(f"Serving {self.served}.")
        if self.gap is not None:
            lines.insert(1, "Gap: " + self.gap.summary().splitlines()[0])
        if self.folder is not None:
            lines.append(f"Model saved in {self.folder / 'model'}; apply it to new rows with:")
            lines.append(f"  transferkit predict {self.folder} new_rows.csv --out "
                         "predictions.csv")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        def table(frame: pd.DataFrame) -> Any:
            return json.loads(frame.to_json(orient="index"))

        return {
            "recipe": to_jsonable(dataclasses.asdict(self.recipe)),
            "source": self.source,
            "target": self.target,
            "chosen_method": self.chosen_method,
            "served": self.served,
            "fell_back": self.fell_back,
            "guard_report": self.guard_report,
            "verdict": self.verdict.to_dict(),
            "selection": table(self.selection),
            "candidate_scores": table(self.candidate_scores),
            "gap_summary": self.gap.summary() if self.gap is not None else None,
            "counts": dict(self.counts),
            "details": to_jsonable(dict(self.details)),
            "folder": None if self.folder is None else str(self.folder),
        }

    def to_markdown(self) -> str:
        metrics = [m for m in _METRICS if m in self.candidate_scores.columns]
        parts = [
            f"# Transfer run: {self.recipe.name}",
            "",
            "```",
            self.summary(),
            "```",
            "",
            f"## Candidates (validator: {self.recipe.validator})",
            "",
            self.selection.to_markdown(floatfmt=".4f"),
            "",
            "## Held-out target scores of every candidate (not used to choose)",
            "",
            self.candidate_scores[metrics].to_markdown(floatfmt=".3f"),
            "",
            "## Negative-transfer check",
            "",
            self.verdict.scores.to_markdown(floatfmt=".4f"),
        ]
        return "\n".join(parts) + "\n"

    def to_html(self) -> str:
        """One self-contained page: verdict, candidates, scores; links the gap report."""
        metrics = [m for m in _METRICS if m in self.candidate_scores.columns]
        verdict = self.verdict.verdict
        fallback = (f"<p class='fallback'>FALLBACK: serving {html.escape(self.served)}, not "
                    f"{html.escape(self.chosen_method)}.</p>" if self.fell_back else "")
        gap = ""
        if self.gap is not None:
            gap = (f"<h2>Domain gap</h2><p>{html.escape(self.gap.summary())}</p>"
                   "<p><a href='gap.html'>Full domain-gap report</a></p>")
        body = "\n".join([
            f"<h1>Transfer run: {html.escape(self.recipe.name)}</h1>",
            f"<p>{html.escape(self.source)} &rarr; {html.escape(self.target)}. "
            f"{html.escape(self.recipe.description)}</p>",
            f"<div class='verdict {verdict}'><b>Verdict: {verdict}</b>. "
            f"{html.escape(self.guard_report)}</div>",
            fallback,
            gap,
            f"<h2>Candidates, chosen without target labels ({html.escape(self.recipe.validator)})"
            "</h2>",
            self.selection.to_html(float_format="%.4f"),
            "<h2>Held-out target scores of every candidate</h2>"
            "<p>Shown for insight; the choice above never saw these rows.</p>",
            self.candidate_scores[metrics].to_html(float_format="%.3f"),
            self.verdict.to_html(),
            "<h2>Rows</h2>",
            pd.Series(dict(self.counts), name="rows").to_frame().to_html(),
        ])
        return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>"
                f"transferkit run {html.escape(self.recipe.name)}</title><style>{_STYLE}"
                f"</style></head><body>{body}</body></html>")

    def card_facts(self) -> dict[str, Any]:
        """What the model card says about the run: verdict with intervals, gap, warnings."""
        verdict = self.verdict.to_dict()
        comparisons = [
            {"baseline": row.get("baseline"), "difference": row.get("difference"),
             "low": row.get("low"), "high": row.get("high")}
            for row in verdict.get("differences") or []
            if all(isinstance(row.get(k), int | float) for k in ("difference", "low", "high"))
        ]
        warnings_ = [w for group in dict(self.details.get("warnings", {})).values()
                     for w in group]
        return {
            "verdict": {"verdict": verdict["verdict"], "metric": verdict["metric"],
                        "message": verdict["message"], "comparisons": comparisons,
                        "n_target": verdict["n_target"]},
            "served": self.served, "fell_back": self.fell_back,
            "recipe": self.recipe.name,
            "gap_summary": self.gap.summary() if self.gap is not None else None,
            "warnings": warnings_,
        }

    def save(self, folder: str | Path, *, overwrite: bool = False) -> RunResult:
        """Write the run folder whole: ``model/``, ``report.html``, ``report.md``,
        ``result.json`` (and ``gap.html`` / ``gap.json``).

        The folder is built in a temporary sibling and renamed into place at the end, so
        it always holds exactly one run. Returns the result with ``folder`` set.

        Raises
        ------
        FileExistsError
            The folder exists and ``overwrite`` is False.
        """
        folder = Path(folder)
        saved = dataclasses.replace(self, folder=folder)
        with atomic_directory(folder, overwrite=overwrite) as tmp:
            if self.pipeline is not None:
                self.pipeline.save(tmp / "model", card=self.card_facts())
            atomic_write_text(tmp / "report.html", saved.to_html())
            atomic_write_text(tmp / "report.md", saved.to_markdown())
            atomic_write_text(tmp / "result.json",
                              json.dumps(to_jsonable(saved.to_dict()), indent=2))
            if self.gap is not None:
                self.gap.to_html(tmp / "gap.html")
                self.gap.to_json(tmp / "gap.json")
        return saved
