"""The run report: one decision card, then the evidence, plots and tables explained in place.

Rendered from a ``RunResult`` (``transferkit.recipes``) passed in; nothing here imports
the recipes layer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from transferkit.report._html import (
    Column,
    escape,
    figure_html,
    format_number,
    page,
    table_html,
    table_markdown,
)
from transferkit.report.verdict import comparisons, verdict_tables_html, verdict_tables_markdown

__all__ = ["render_run_html", "render_run_markdown", "run_decision"]

_LOWER_IS_BETTER = {"log_loss", "brier", "mse", "rmse", "mae", "error"}
_WARNING_GROUPS = {"data": "loading and featurizing the data", "methods": "training the methods",
                   "selection": "choosing the candidate", "verdict": "the negative-transfer check"}
_CV_COLUMNS = [
    Column("mean", "mean", "the candidate's mean cross-validated score on the labelled "
           "target training rows"),
    Column("std", "sd", "standard deviation of that mean over repeats"),
    Column("win_rate", "wins", "share of repeats in which it scored best", "percent"),
    Column("within_noise", "within noise", "gap to the best is at most one corrected standard "
           "error, so the two cannot be told apart"),
    Column("simplicity", "simplicity", "0 = simplest; within noise the simpler one is chosen",
           "count"),
    Column("fit_seconds", "fit s", "mean seconds per fit"),
]
_VALIDATOR_COLUMNS = [
    Column("rank", "rank", "1 = chosen; unreliable candidates are not ranked", "count"),
    Column("score", "score", "", "number"),
    Column("reliable", "reliable", "whether the validator could score the candidate"),
    Column("reason", "why not", "why the validator could not score it", "text"),
    Column("ess", "weight ESS", "effective sample size of the validator's importance weights",
           "number"),
]
_WEIGHT_COLUMNS = [
    Column("ess", "ESS", "Kish effective sample size of the importance weights", "count"),
    Column("n_source", "source rows", "weighted source rows", "count"),
    Column("ess_fraction", "ESS share", "ESS / source rows; below 10% the weights (and any "
           "choice resting on them) are not to be trusted", "percent"),
    Column("max_weight_share", "heaviest row", "share of the total weight on one row",
           "percent"),
]
_COUNT_NAMES = {
    "source_train": "source rows the candidates were trained on",
    "source_validation": "source rows held out for validators",
    "source_refit": "source rows the served model was refitted on",
    "target_train": "target rows the methods could use",
    "target_train_labelled": "of which labelled",
    "target_test": "labelled target rows held out for the verdict",
}


def _higher_is_better(metric: str) -> bool:
    return metric not in _LOWER_IS_BETTER


def _score_metric(result: Any) -> str:
    """The verdict's metric when the candidate table has it, else its first metric."""
    columns = [c for c in result.candidate_scores.columns
               if not str(c).endswith(("_low", "_high"))]
    metric = result.verdict.metric
    return metric if metric in columns else (columns[0] if columns else metric)


def _hindsight(result: Any, metric: str) -> str | None:
    if metric not in result.candidate_scores.columns:
        return None
    values = result.candidate_scores[metric].astype(float)
    if values.notna().sum() == 0:
        return None
    return str(values.idxmax() if _higher_is_better(metric) else values.idxmin())


def _warnings(result: Any) -> dict[str, list[tuple[str, int]]]:
    """Every recorded warning by group, duplicates counted once."""
    groups = dict(result.details.get("warnings", {}) or {})
    out = {}
    for group, messages in groups.items():
        counted = Counter(str(m) for m in messages or [])
        if counted:
            out[str(group)] = list(counted.items())
    return out


def run_decision(result: Any) -> dict[str, Any]:
    """The decision card's facts: what is served, against each baseline, what to do next.

    Returns
    -------
    dict
        ``served``, ``chosen``, ``fell_back``, ``verdict``, ``metric``,
        ``higher_is_better``, ``comparisons`` (one dict per baseline: ``difference``,
        ``low``, ``high``, ``confidence``, ``p_value``, ``p_holm``, ``same_model``),
        ``extra_labels_needed``, ``reason`` (the verdict's paragraph), ``next_step`` and
        ``n_warnings``.
    """
    verdict = result.verdict
    rows = []
    for baseline, row in comparisons(verdict).iterrows():
        rows.append({
            "baseline": str(baseline), "difference": float(row["difference"]),
            "low": float(row["low"]), "high": float(row["high"]),
            "confidence": float(row["level"]), "p_value": float(row.get("p_value", np.nan)),
            "p_holm": float(row.get("p_holm", np.nan)),
            "same_model": str(baseline) == result.chosen_method,
        })
    n_warnings = sum(len(v) for v in _warnings(result).values())
    return {
        "served": result.served, "chosen": result.chosen_method,
        "fell_back": bool(result.fell_back), "verdict": verdict.verdict,
        "metric": verdict.metric, "higher_is_better": _higher_is_better(verdict.metric),
        "n_target": int(verdict.n_target), "comparisons": rows,
        "extra_labels_needed": verdict.extra_labels_needed,
        "reason": verdict.message, "next_step": _next_step(result, n_warnings),
        "n_warnings": n_warnings,
    }


def _next_step(result: Any, n_warnings: int) -> str:
    verdict = result.verdict
    served, chosen = result.served, result.chosen_method
    baselines = {str(b) for b in comparisons(verdict).index}
    if chosen in baselines:
        text = (f"The choice fell on the {chosen} baseline itself: no transfer method beat it "
                f"when choosing, so there is no transfer to verify and {served} is served. To "
                "try transfer again, add labelled target rows or other candidates.")
        if n_warnings:
            text += (f" Read the {n_warnings} warning{'s' if n_warnings > 1 else ''} below "
                     "before relying on the choice.")
        return text
    if verdict.verdict == "negative":
        text = (f"Keep serving {served}: {chosen} is significantly worse than "
                f"{verdict.deciding_baseline} on the held-out target rows. Look at the gap "
                "report's main drivers, then try other candidates or more target labels.")
    elif verdict.verdict == "positive":
        text = (f"Serve {served}: it beats every baseline on held-out target rows. Re-check "
                "with fresh labelled target rows when the market moves.")
    elif verdict.extra_labels_needed is not None:
        total = verdict.n_target + int(verdict.extra_labels_needed)
        text = (f"Label about {format_number(verdict.extra_labels_needed, 'count')} more "
                f"target rows (about {format_number(total, 'count')} held out in all) and "
                f"rerun to settle the comparison with {verdict.deciding_baseline}; until then "
                f"{served} is served.")
    else:
        text = (f"{chosen} and {verdict.deciding_baseline} score the same on these rows, and "
                f"more labels would not separate a difference of zero; {served} is served.")
    if result.fell_back and served != chosen and verdict.verdict != "negative":
        text += f" (The guard fell back from {chosen} because transfer was not proven better.)"
    if n_warnings:
        text += (f" Read the {n_warnings} warning{'s' if n_warnings > 1 else ''} below before "
                 "relying on the choice.")
    return text


def _difference_text(row: Mapping[str, Any], metric: str) -> str:
    if row["same_model"]:
        return "the chosen candidate is this baseline (difference 0 by construction)"
    direction = "beats" if row["difference"] > 0 else "trails" if row["difference"] < 0 \
        else "ties"
    interval = ""
    if np.isfinite(row["low"]) and np.isfinite(row["high"]):
        interval = (f" ({format_number(row['confidence'], 'percent')} CI "
                    f"{format_number(row['low'], 'signed')} to "
                    f"{format_number(row['high'], 'signed')}")
        interval += (f", Holm p {format_number(row['p_holm'], 'p')})"
                     if np.isfinite(row["p_holm"]) else ")")
    return (f"{direction} it by {format_number(abs(row['difference']))} {metric}{interval}")


def _card_html(result: Any, decision: Mapping[str, Any]) -> str:
    verdict = decision["verdict"]
    served = escape(decision["served"])
    head = f"Serving <b>{served}</b>"
    if decision["fell_back"] and decision["served"] != decision["chosen"]:
        head += f" instead of the chosen <b>{escape(decision['chosen'])}</b> (fallback)"
    items = "".join(
        f"<li>{escape(decision['chosen'])} vs <b>{escape(row['baseline'])}</b>: "
        f"{escape(_difference_text(row, decision['metric']))}</li>"
        for row in decision["comparisons"])
    extra = ""
    if decision["extra_labels_needed"] is not None and verdict == "inconclusive":
        extra = (f"<p>About <b>{format_number(decision['extra_labels_needed'], 'count')}</b> "
                 "more labelled target rows would settle it.</p>")
    better = "higher" if decision["higher_is_better"] else "lower"
    return (
        f'<section class="card {escape(verdict)}" id="decision">'
        f'<h2>{head} <span class="badge {escape(verdict)}">transfer {escape(verdict)}</span>'
        "</h2>"
        f"<p>Compared on <b>{format_number(decision['n_target'], 'count')}</b> held-out "
        f"labelled target rows by {escape(decision['metric'])} ({better} is better):</p>"
        f"<ul>{items}</ul>{extra}"
        f'<p class="muted">Decided by {escape(result.verdict.test)} against '
        f"{escape(result.verdict.deciding_baseline)}; the full reasoning is under "
        '"Negative-transfer check in detail".</p>'
        f'<p class="next"><b>Next:</b> {escape(decision["next_step"])}</p></section>'
    )


def _candidate_rows(result: Any, metric: str) -> pd.DataFrame:
    scores = result.candidate_scores
    rows = pd.DataFrame({
        "value": scores[metric].astype(float),
        "low": scores.get(f"{metric}_low", pd.Series(np.nan, index=scores.index)).astype(float),
        "high": scores.get(f"{metric}_high", pd.Series(np.nan, index=scores.index)).astype(
            float),
    })
    return rows


def _references(result: Any, metric: str) -> dict[str, tuple[float, float, float]]:
    scores = result.verdict.scores
    out = {}
    for name in ("source_only", "target_only"):
        key = (name, metric)
        if key in scores.index:
            row = scores.loc[key]
            out[name] = (float(row["value"]), float(row["low"]), float(row["high"]))
    return out


def _selection_columns(result: Any) -> list[Column]:
    table = result.selection
    if "reliable" in table.columns:
        validator = result.details.get("selection", {}).get("validator", "")
        columns = list(_VALIDATOR_COLUMNS)
        columns[1] = Column("score", "score", f"the label-free validator's score "
                            f"({str(validator).split('(')[0] or 'see selection'}); it never "
                            "saw target labels")
        return columns
    return _CV_COLUMNS


def _scores_columns(result: Any) -> list[Column]:
    metrics = [c for c in result.candidate_scores.columns
               if not str(c).endswith(("_low", "_high"))]
    return [Column(m, m, f"{'higher' if _higher_is_better(m) else 'lower'} is better; "
                   "95% bootstrap interval in brackets" if i == 0 else
                   f"{'higher' if _higher_is_better(m) else 'lower'} is better", "interval")
            for i, m in enumerate(metrics)]


def _weights(result: Any) -> dict[str, Mapping[str, Any]]:
    reports = result.details.get("weights") or {}
    return {str(k): v for k, v in dict(reports).items() if isinstance(v, Mapping)}


def _figures(result: Any, metric: str) -> dict[str, str]:
    from transferkit.report._plots import (
        calibration_plot,
        forest_plot,
        history_plot,
        per_class_plot,
        weights_plot,
    )

    figures = {}
    if metric in result.candidate_scores.columns and len(result.candidate_scores):
        rows = _candidate_rows(result, metric)
        hindsight = _hindsight(result, metric) or ""
        figures["forest"] = figure_html(forest_plot(
            rows, metric=metric, higher_is_better=_higher_is_better(metric),
            references=_references(result, metric), pick=result.chosen_method,
            hindsight=hindsight, n_rows=result.verdict.n_target),
            f"Every candidate's {metric} on the held-out target rows with its 95% interval. "
            f"Diamond: the pick ({result.chosen_method}, chosen by {result.selection_how}); "
            f"orange: the best in hindsight ({hindsight}); lines and bands: the source-only "
            "and target-only baselines refitted on every row.")
    weights = _weights(result)
    if weights:
        figures["weights"] = figure_html(weights_plot(weights),
                                         "Importance weights of each reweighting candidate.")
    calibration = result.details.get("calibration")
    if calibration:
        table = pd.DataFrame(calibration.get("table") or [])
        if len(table):
            figures["calibration"] = figure_html(
                calibration_plot(table, event=str(calibration.get("event", "positive"))),
                "Calibration of the served model on the held-out target rows.")
    verdict = result.verdict
    if verdict.per_class is not None and verdict.deciding_baseline in verdict.per_class:
        figures["per_class"] = figure_html(per_class_plot(
            verdict.per_class, transferred="transferred", baseline=verdict.deciding_baseline),
            "Recall per target class: the transferred model against the deciding baseline, "
            "and their difference with its interval (hollow: too few rows for an interval).")
    history = {k: v for k, v in dict(result.details.get("history") or {}).items() if v}
    if history:
        figures["history"] = figure_html(history_plot(history),
                                         "Training curves of the trained candidates "
                                         "(per epoch, on their training rows).")
    if result.budget is not None:
        figures["budget"] = figure_html(
            result.budget.plot(),
            f"Label budget: held-out {result.budget.metric} of source-only, target-only and "
            f"{result.budget.method_name} against the number of labelled target rows.")
    return figures


def _budget_columns(result: Any) -> list[Column]:
    name = result.budget.method_name
    return [Column("source_only", "source-only", "mean over repeats, with interval",
                   "interval"),
            Column("target_only", "target-only", "trained on the K labelled target rows only",
                   "interval"),
            Column("method", name, "the chosen method with K labelled target rows",
                   "interval"),
            Column("gain", "gain", f"{name} minus the better baseline (> 0 favours it)",
                   "interval")]


def _warnings_html(groups: Mapping[str, list[tuple[str, int]]]) -> str:
    if not groups:
        return ""
    parts = ['<h2 id="warnings">Warnings</h2>']
    for group, items in groups.items():
        lines = "".join(f"<li>{escape(text)}{f' (×{count})' if count > 1 else ''}</li>"
                        for text, count in items)
        parts.append(f"<h3>While {escape(_WARNING_GROUPS.get(group, group))}</h3>"
                     f'<ul class="notes">{lines}</ul>')
    return "\n".join(parts)


def _trust_lines(result: Any) -> list[str]:
    """Plain sentences on how far the choice can be trusted."""
    table, chosen = result.selection, result.chosen_method
    lines = []
    if "reliable" in table.columns:
        reliable = int(table["reliable"].sum())
        lines.append(f"The label-free validator could score {reliable} of {len(table)} "
                     "candidates reliably" + ("." if reliable == len(table) else
                                              "; the others are not ranked."))
    elif "within_noise" in table.columns:
        tied = [str(n) for n in table.index[table["within_noise"].astype(bool)] if n != chosen]
        lines.append(f"Cross-validation cannot tell {chosen} apart from {', '.join(tied)}."
                     if tied else f"{chosen} is ahead of every other candidate by more than "
                     "the cross-validation noise.")
    hindsight = _hindsight(result, _score_metric(result))
    if hindsight is not None:
        lines.append(f"On the held-out rows the best candidate in hindsight was {hindsight}"
                     + (" — the pick." if hindsight == chosen else "."))
    low_ess = [m for group in _warnings(result).values() for m, _ in group
               if "effective sample size" in m]
    if low_ess:
        lines.append(f"{len(low_ess)} warning{'s' if len(low_ess) > 1 else ''} about the "
                     "effective sample size of importance weights (see Warnings): "
                     "candidates and validators that rest on those weights are unreliable.")
    if not _weights(result):
        lines.append("Per-candidate weight diagnostics were not recorded for this run.")
    return lines


def _counts_frame(result: Any) -> pd.DataFrame:
    return pd.DataFrame({"rows": pd.Series(dict(result.counts), dtype=float),
                         "meaning": pd.Series({k: _COUNT_NAMES.get(k, "")
                                               for k in result.counts})})


_COUNT_COLUMNS = [Column("rows", "rows", "", "count"), Column("meaning", "meaning", "", "text")]


def render_run_html(result: Any, *, fragment: bool = False) -> str:
    """The run report as one self-contained page (or a ``<div>`` with ``fragment``)."""
    decision = run_decision(result)
    metric = _score_metric(result)
    figures = _figures(result, metric)
    recipe = result.recipe
    hindsight = _hindsight(result, metric)
    parts = [f"<h1>Transfer run: {escape(recipe.name)}</h1>",
             f'<p class="sub">{escape(result.source)} &rarr; {escape(result.target)}. '
             f"{escape(recipe.description or '')}</p>",
             _card_html(result, decision)]
    parts.append(_warnings_html(_warnings(result)))
    parts.append("<h2>Candidates</h2>")
    if "forest" in figures:
        parts.append(figures["forest"])
    pick_note = ""
    if hindsight is not None and hindsight != result.chosen_method:
        pick_note = (f" In hindsight {escape(hindsight)} scored best on the held-out rows; the "
                     "choice could not see them.")
    parts.append(f"<h3>How the choice was made: {escape(result.selection_how)}</h3>"
                 f"<p>{escape(result.selection_reason)}{pick_note}</p>")
    parts.append(table_html(result.selection, _selection_columns(result),
                            index=Column("candidate", "candidate", "", "text"),
                            highlight=[result.chosen_method]))
    parts.append("<h3>Held-out target scores of every candidate (never used to choose)</h3>")
    parts.append(table_html(result.candidate_scores, _scores_columns(result),
                            index=Column("candidate", "candidate", "trained on the source "
                                         "training rows; bold: the pick", "text"),
                            highlight=[result.chosen_method]))
    parts.append("<h2>Can the choice be trusted?</h2>")
    parts.append("<ul>" + "".join(f"<li>{escape(line)}</li>" for line in _trust_lines(result))
                 + "</ul>")
    weights = _weights(result)
    if weights:
        frame = pd.DataFrame(weights).T
        parts.append("<h3>Importance weights</h3>" + figures.get("weights", "")
                     + table_html(frame, _WEIGHT_COLUMNS,
                                  index=Column("candidate", "candidate", "", "text")))
    if "calibration" in figures:
        parts.append("<h3>Calibration of the served model</h3>" + figures["calibration"])
    if "per_class" in figures:
        parts.append("<h3>Per-class recall</h3>" + figures["per_class"])
    parts.append("<h3>Negative-transfer check in detail</h3>")
    parts.append(f"<p>{escape(result.verdict.message)}</p>")
    parts.append(verdict_tables_html(result.verdict))
    if "history" in figures:
        parts.append("<h2>Training curves</h2>" + figures["history"])
    if result.budget is not None:
        parts.append("<h2>Label budget</h2>" + figures["budget"])
        parts.append(f"<p>{escape(result.budget.catch_up_note)}</p>")
        parts.append(table_html(result.budget.to_frame(), _budget_columns(result),
                                index=Column("k", "labelled target rows", "", "count")))
    if result.gap is not None:
        parts.append("<h2>Domain gap</h2>"
                     f'<p class="summary">{escape(result.gap.summary())}</p>'
                     '<p>Full report: <a href="gap.html">gap.html</a> in the run folder.</p>')
    parts.append("<h2>Rows</h2>")
    parts.append(table_html(_counts_frame(result), _COUNT_COLUMNS,
                            index=Column("part", "part", "", "text")))
    return page(f"transferkit run {recipe.name}", "\n".join(p for p in parts if p),
                fragment=fragment)


def _markdown_text(text: str) -> str:
    """User text for Markdown: HTML tags escaped so no viewer runs them."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_run_markdown(result: Any) -> str:
    """The same report as Markdown (tables and text; plots are in the HTML)."""
    decision = run_decision(result)
    metric = _score_metric(result)
    hindsight = _hindsight(result, metric)
    serving = f"**Serving {decision['served']}**"
    if decision["fell_back"] and decision["served"] != decision["chosen"]:
        serving += f" instead of the chosen {decision['chosen']} (fallback)"
    lines = [f"# Transfer run: {result.recipe.name}", "",
             _markdown_text(f"{result.source} → {result.target}. "
                            f"{result.recipe.description or ''}".strip()), "",
             "## Decision", "", f"{serving} — transfer **{decision['verdict']}**, compared on "
             f"{format_number(decision['n_target'], 'count')} held-out labelled target rows by "
             f"{decision['metric']}:", ""]
    lines += [f"- {decision['chosen']} vs {row['baseline']}: "
              f"{_difference_text(row, decision['metric'])}" for row in decision["comparisons"]]
    if decision["extra_labels_needed"] is not None and decision["verdict"] == "inconclusive":
        lines += ["", f"About {format_number(decision['extra_labels_needed'], 'count')} more "
                  "labelled target rows would settle it."]
    lines += ["", f"Decided by {result.verdict.test} against "
              f"{result.verdict.deciding_baseline}.", "",
              f"**Next:** {decision['next_step']}", ""]
    groups = _warnings(result)
    if groups:
        lines += ["## Warnings", ""]
        for group, items in groups.items():
            lines += [f"While {_WARNING_GROUPS.get(group, group)}:", ""]
            lines += [f"- {text}{f' (×{count})' if count > 1 else ''}" for text, count in items]
            lines.append("")
    lines += [f"## How the choice was made: {result.selection_how}", "",
              result.selection_reason + (f" In hindsight {hindsight} scored best on the "
                                         "held-out rows." if hindsight and hindsight !=
                                         result.chosen_method else ""), "",
              table_markdown(result.selection, _selection_columns(result),
                             index=Column("candidate", "candidate", "", "text")), "",
              "## Held-out target scores of every candidate (never used to choose)", "",
              table_markdown(result.candidate_scores, _scores_columns(result),
                             index=Column("candidate", "candidate", "", "text")), "",
              "## Can the choice be trusted?", "",
              *(f"- {line}" for line in _trust_lines(result)), "",
              "## Negative-transfer check in detail", "", result.verdict.message, "",
              verdict_tables_markdown(result.verdict), ""]
    weights = _weights(result)
    if weights:
        lines += ["## Importance weights", "",
                  table_markdown(pd.DataFrame(weights).T, _WEIGHT_COLUMNS,
                                 index=Column("candidate", "candidate", "", "text")), ""]
    if result.budget is not None:
        lines += ["## Label budget", "", result.budget.catch_up_note, "",
                  table_markdown(result.budget.to_frame(), _budget_columns(result),
                                 index=Column("k", "labelled target rows", "", "count")), ""]
    if result.gap is not None:
        lines += ["## Domain gap", "", result.gap.summary(), "", "Full report: gap.html", ""]
    lines += ["## Rows", "", table_markdown(_counts_frame(result), _COUNT_COLUMNS,
                                            index=Column("part", "part", "", "text")), ""]
    return "\n".join(lines)
