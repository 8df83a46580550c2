"""Figures of the run report, each a ``matplotlib.figure.Figure`` (pyplot is never used)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from transferkit.report._html import COLOURS

__all__ = ["calibration_plot", "forest_plot", "history_plot", "per_class_plot", "weights_plot"]

_STYLE = {"font.size": 8, "axes.spines.top": False, "axes.spines.right": False}


def _figure(width: float, height: float) -> Any:
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(width, height), layout="constrained")
    return figure


def forest_plot(rows: pd.DataFrame, *, metric: str, higher_is_better: bool,
                references: Mapping[str, tuple[float, float, float]], pick: str,
                hindsight: str, n_rows: int) -> Any:
    """Every candidate's held-out score with its interval; baselines as reference bands.

    ``rows``: index candidate, columns ``value``, ``low``, ``high``. ``references``:
    ``{name: (value, low, high)}`` of the refitted baselines.
    """
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        figure = _figure(6.6, 0.42 * len(rows) + 1.3)
        axis = figure.subplots()
        positions = np.arange(len(rows))[::-1]
        styles = {"source_only": ("--", COLOURS["source"]),
                  "target_only": (":", COLOURS["target"])}
        for name, (value, low, high) in references.items():
            line, colour = styles.get(name, ("-.", COLOURS["baseline"]))
            if np.isfinite(low) and np.isfinite(high):
                axis.axvspan(low, high, color=colour, alpha=0.07, lw=0)
            axis.axvline(value, ls=line, color=colour, lw=1.2, label=f"{name} baseline (refitted)")
        for y, (name, row) in zip(positions, rows.iterrows(), strict=True):
            colour = (COLOURS["pick"] if name == pick
                      else COLOURS["hindsight"] if name == hindsight else "#444444")
            if np.isfinite(row["low"]) and np.isfinite(row["high"]):
                axis.plot([row["low"], row["high"]], [y, y], color=colour, lw=2)
            marker = "D" if name == pick else "o"
            axis.plot(row["value"], y, marker, color=colour, ms=6)
        labels = []
        for name in rows.index:
            tags = [t for t, hit in (("picked", name == pick),
                                     ("best in hindsight", name == hindsight)) if hit]
            labels.append(f"{name} ({', '.join(tags)})" if tags else str(name))
        axis.set_yticks(positions, labels)
        for tick, name in zip(axis.get_yticklabels(), rows.index, strict=True):
            if name == pick:
                tick.set_color(COLOURS["pick"])
                tick.set_fontweight("bold")
        better = "higher" if higher_is_better else "lower"
        axis.set_xlabel(f"{metric} on {n_rows} held-out target rows ({better} is better; "
                        "bars: 95% bootstrap interval)")
        if references:
            axis.legend(frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0),
                        ncol=len(references))
    return figure


def history_plot(history: Mapping[str, Sequence[Mapping[str, float]]]) -> Any:
    """Per-epoch training logs: one panel per method, one line per logged loss/accuracy."""
    import matplotlib

    skip = {"epoch", "lr", "seconds", "step"}
    methods = [m for m, epochs in history.items() if epochs][:4]
    with matplotlib.rc_context(_STYLE):
        figure = _figure(3.2 * len(methods) + 0.4, 2.5)
        axes = np.atleast_1d(figure.subplots(1, len(methods), squeeze=False)[0])
        for axis, method in zip(axes, methods, strict=True):
            frame = pd.DataFrame(list(history[method]))
            x = frame["epoch"] + 1 if "epoch" in frame else np.arange(1, len(frame) + 1)
            for key in frame.columns:
                if key in skip or not pd.api.types.is_numeric_dtype(frame[key]):
                    continue
                axis.plot(x, frame[key], marker=".", label=str(key))
            axis.set_title(method)
            axis.set_xlabel("epoch")
            axis.legend(frameon=False, fontsize=7)
    return figure


def weights_plot(reports: Mapping[str, Mapping[str, Any]]) -> Any:
    """Histograms of log10 importance weights, one panel per reweighting candidate."""
    import matplotlib

    names = list(reports)[:4]
    with matplotlib.rc_context(_STYLE):
        figure = _figure(3.2 * len(names) + 0.4, 2.3)
        axes = np.atleast_1d(figure.subplots(1, len(names), squeeze=False)[0])
        for axis, name in zip(axes, names, strict=True):
            report = reports[name]
            edges = np.asarray(report.get("histogram_edges") or [], dtype=float)
            counts = np.asarray(report.get("histogram_counts") or [], dtype=float)
            if edges.size == counts.size + 1 and counts.size:
                axis.stairs(counts, edges, fill=True, color=COLOURS["method"], alpha=0.6)
            axis.set_title(f"{name}: ESS {100 * float(report.get('ess_fraction', np.nan)):.3g}%"
                           " of source rows")
            axis.set_xlabel("log10 weight")
            axis.set_ylabel("source rows")
    return figure


def calibration_plot(table: pd.DataFrame, *, event: str) -> Any:
    """Reliability diagram: mean predicted probability against observed frequency."""
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        figure = _figure(3.3, 3.0)
        axis = figure.subplots()
        axis.plot([0, 1], [0, 1], ls="--", color="#999999", lw=1, label="perfect")
        sizes = 12 + 120 * table["n"] / max(float(table["n"].max()), 1.0)
        axis.plot(table["predicted"], table["observed"], color=COLOURS["pick"], lw=1)
        axis.scatter(table["predicted"], table["observed"], s=sizes, color=COLOURS["pick"],
                     label="served model (dot size: rows)", zorder=3)
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1)
        axis.set_xlabel(f"predicted P({event})")
        axis.set_ylabel("observed frequency")
        axis.legend(frameon=False, loc="upper left")
    return figure


def per_class_plot(table: pd.DataFrame, *, transferred: str, baseline: str) -> Any:
    """Recall per target class of the served model and the deciding baseline, with the
    interval of their difference."""
    import matplotlib

    classes = [str(c) for c in table.index]
    with matplotlib.rc_context(_STYLE):
        figure = _figure(6.4, 0.45 * len(classes) + 1.2)
        left, right = figure.subplots(1, 2, sharey=True)
        y = np.arange(len(classes))[::-1]
        left.barh(y + 0.18, table[transferred], height=0.36, color=COLOURS["pick"],
                  label="transferred")
        left.barh(y - 0.18, table[baseline], height=0.36, color=COLOURS["baseline"],
                  label=baseline)
        left.set_yticks(y, [f"{c} (n={int(n)})" for c, n in zip(classes, table["n"],
                                                               strict=True)])
        left.set_xlim(0, 1)
        left.set_xlabel("recall")
        left.legend(frameon=False, fontsize=7)
        difference = table["difference"].to_numpy(dtype=float)
        low = table["low"].to_numpy(dtype=float)
        high = table["high"].to_numpy(dtype=float)
        ok = np.isfinite(low) & np.isfinite(high)
        right.axvline(0, color="#999999", lw=1)
        right.errorbar(difference[ok], y[ok], xerr=[difference[ok] - low[ok],
                                                    high[ok] - difference[ok]],
                       fmt="o", color=COLOURS["pick"], capsize=3)
        right.plot(difference[~ok], y[~ok], "o", mfc="none", color="#999999")
        right.set_xlabel(f"recall difference vs {baseline} (with interval)")
    return figure
