"""What a recipe run produced, and the report files it saves.

Examples
--------
>>> from transferkit.recipes.result import RunResult
>>> RunResult.__dataclass_fields__.keys() >= {"verdict", "served", "fell_back"}
True
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from transferkit._io import atomic_directory, atomic_write_text
from transferkit._json import to_jsonable
from transferkit.detect import LabelBudgetCurve, TransferVerdict
from transferkit.gap import GapReport
from transferkit.recipes.config import Recipe
from transferkit.report import run_decision

__all__ = ["RunResult"]

@dataclass(frozen=True)
class RunResult:
    """Outcome of ``run_recipe``.

    Attributes
    ----------
    recipe : Recipe
    source, target : str
        Market names.
    chosen_method : str
        Candidate picked by the selection step.
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
        The selection's score of every candidate (CV table or validator scores).
    selection_how : str
        How the candidate was chosen, in words.
    selection_reason : str
        Why that way (``selection: auto`` says which rule applied) and why that candidate.
    candidate_scores : DataFrame
        Held-out target scores of every candidate (for insight; never used to choose).
    gap : GapReport or None
    budget : LabelBudgetCurve or None
        The label-budget curve (``budget: true`` in the recipe).
    counts : dict
        Rows in each part of the split.
    details : dict
        ``featurizer`` facts, ``fit_seconds`` and ``history`` (per-epoch training logs of
        trained candidates), ``selection`` (the choice's own summary), ``warnings``
        (``data``, ``methods``, ``selection``, ``verdict``: every warning raised on the
        way), ``seconds`` in total. The report also draws ``weights`` (``{candidate:
        WeightReport.to_dict()}``) and ``calibration`` (``{"event": ..., "table": records of
        transferkit.report.calibration_table}``) when present.
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
    selection_how: str
    selection_reason: str
    candidate_scores: pd.DataFrame
    gap: GapReport | None
    counts: Mapping[str, int]
    budget: LabelBudgetCurve | None = None
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
            f"Chosen by {self.selection_how}: {self.chosen_method}.",
            f"Verdict on {self.counts['target_test']} held-out target rows: "
            f"{self.verdict.verdict}. {self.verdict.message}",
        ]
        if self.fell_back and self.served != self.chosen_method:
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
            "selection_how": self.selection_how,
            "selection_reason": self.selection_reason,
            "candidate_scores": table(self.candidate_scores),
            "gap_summary": self.gap.summary() if self.gap is not None else None,
            "budget": None if self.budget is None else to_jsonable(
                self.budget.to_frame().reset_index().to_dict(orient="records")),
            "counts": dict(self.counts),
            "details": to_jsonable(dict(self.details)),
            "folder": None if self.folder is None else str(self.folder),
            "decision": to_jsonable(run_decision(self)),
        }

    def to_markdown(self) -> str:
        """The run report as Markdown: the decision, warnings, tables (plots are in HTML)."""
        from transferkit.report import render_run_markdown

        return render_run_markdown(self)

    def to_html(self) -> str:
        """One self-contained page: the decision card, then plots and explained tables."""
        from transferkit.report import render_run_html

        return render_run_html(self)

    def _repr_html_(self) -> str:
        from transferkit.report import render_run_html

        return render_run_html(self, fragment=True)

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
