"""Per-feature shift table of two tabular markets: tests, effect sizes, severity, notes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from transferkit._columns import date_like_columns, id_like_columns
from transferkit.domain import Domain
from transferkit.exceptions import DomainMismatchError
from transferkit.metrics import (
    benjamini_hochberg,
    chi2_homogeneity,
    js_divergence,
    numeric_shift,
    total_variation,
)

__all__ = [
    "SEVERITIES",
    "FeatureFrames",
    "category_counts",
    "feature_frames",
    "feature_table",
    "set_aside_ids_and_dates",
    "severity_of",
]

SEVERITIES: tuple[str, ...] = ("none", "negligible", "small", "moderate", "large")
# Effect-size cut points on the total-variation scale shared by every feature kind (KS
# statistic for numeric columns, total variation of the category shares for categorical
# ones): 0.05 is a 0.12 sd mean shift or a 5-point category swing.
_EFFECT_CUTS: tuple[float, ...] = (0.05, 0.1, 0.2)
_MISSING_LEVEL = "(missing)"
# Shares of junk a categorical-looking column may hold and still be read as numeric.
_MAX_JUNK_SHARE = 0.5


def severity_of(effect: float, significant: bool) -> str:
    """Severity of one shift: "none" unless significant, then graded by effect size.

    Examples
    --------
    >>> severity_of(0.02, True), severity_of(0.3, True), severity_of(0.3, False)
    ('negligible', 'large', 'none')
    """
    if not significant or not np.isfinite(effect):
        return "none"
    level = 1 + int(np.searchsorted(_EFFECT_CUTS, effect, side="right"))
    return SEVERITIES[level]


@dataclass
class FeatureFrames:
    """The two markets' shared features as frames, with kinds and per-column notes."""

    source: pd.DataFrame
    target: pd.DataFrame
    numeric: list[str]
    categorical: list[str]
    notes: dict[str, list[str]] = field(default_factory=dict)
    one_sided: dict[str, str] = field(default_factory=dict)
    set_aside: dict[str, str] = field(default_factory=dict)

    def note(self, column: str, text: str) -> None:
        self.notes.setdefault(column, []).append(text)


def _frame(domain: Domain) -> pd.DataFrame:
    X = domain.X
    if isinstance(X, pd.DataFrame):
        return X
    if X.ndim != 2:
        raise TypeError(
            f"Domain {domain.name!r} holds a {X.shape[1:]} tensor per row; pass "
            "encoder=... to gap_report to compare embeddings instead."
        )
    return pd.DataFrame(X, columns=domain.feature_names, copy=False)


def _is_numeric(series: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(series)
            and not isinstance(series.dtype, pd.CategoricalDtype))


def _coerce(series: pd.Series, column: str, market: str, frames: FeatureFrames) -> pd.Series | None:
    """A categorical-typed column read as numbers, or None when it is mostly non-numeric."""
    values = pd.to_numeric(series.astype(object), errors="coerce")
    junk = values.isna() & series.notna()
    present = int(series.notna().sum())
    if present and junk.sum() > _MAX_JUNK_SHARE * present:
        return None
    if junk.any():
        examples = pd.Series(series[junk].astype(str)).value_counts().head(3)
        shown = ", ".join(f"{value!r} x{count}" for value, count in examples.items())
        frames.note(column, f"non-numeric values in {market} ({shown}) read as missing")
    return values.astype(float)


def feature_frames(source: Domain, target: Domain, label: str | None = None) -> FeatureFrames:
    """Shared features of both markets, each classified numeric or categorical."""
    frame_s, frame_t = _frame(source), _frame(target)
    if label is not None:
        frame_s = frame_s.drop(columns=[label], errors="ignore")
        frame_t = frame_t.drop(columns=[label], errors="ignore")
    shared = [c for c in frame_s.columns if c in set(frame_t.columns)]
    frames = FeatureFrames(frame_s.loc[:, shared], frame_t.loc[:, shared], [], [])
    for column in frame_s.columns:
        if column not in shared:
            frames.one_sided[str(column)] = f"only in source {source.name!r}; not compared"
    for column in frame_t.columns:
        if column not in set(frame_s.columns):
            frames.one_sided[str(column)] = f"only in target {target.name!r}; not compared"
    if not shared:
        raise DomainMismatchError(
            f"Source {source.name!r} and target {target.name!r} share no feature columns "
            f"(source: {list(map(str, frame_s.columns))[:8]}, target: "
            f"{list(map(str, frame_t.columns))[:8]}). Rename them to match, or use "
            "transferkit.harmonize with target_columns={...}."
        )
    for column in shared:
        s, t = frames.source[column], frames.target[column]
        numeric_s, numeric_t = _is_numeric(s), _is_numeric(t)
        if numeric_s and numeric_t:
            frames.numeric.append(column)
            continue
        if numeric_s != numeric_t:
            market, other = (target.name, t) if numeric_s else (source.name, s)
            coerced = _coerce(other, column, repr(market), frames)
            if coerced is not None:
                side = frames.target if numeric_s else frames.source
                side[column] = coerced.to_numpy()
                frames.numeric.append(column)
                continue
            frames.note(column, f"numeric in one market, text in {market!r}: compared as "
                                "categories")
        frames.categorical.append(column)
    return frames


def set_aside_ids_and_dates(frames: FeatureFrames) -> list[str]:
    """Move row-ID-like and date/time columns out of the tested features; returns them.

    A row ID differs between any two markets and a date between any two periods, so a
    drift test on them says nothing about the features (and a date would drive the
    domain classifier's AUC to 1). They stay in the table as ``kind="set aside"`` with the
    note "row ID: not tested" or "date or time: not tested".
    """
    found: dict[str, str] = {}
    for frame in (frames.source, frames.target):
        for column in date_like_columns(frame):
            found.setdefault(column, "date or time")
        for column in id_like_columns(frame, exclude=tuple(found)):
            found.setdefault(column, "row ID")
    for column, what in found.items():
        frames.set_aside[column] = f"{what}: not tested"
    if found:
        frames.numeric = [c for c in frames.numeric if c not in found]
        frames.categorical = [c for c in frames.categorical if c not in found]
        kept = [c for c in frames.source.columns if c not in found]
        frames.source, frames.target = frames.source.loc[:, kept], frames.target.loc[:, kept]
    return list(found)


def _missing_pvalue(n_missing: tuple[int, int], n_rows: tuple[int, int]) -> float:
    if sum(n_missing) == 0:
        return np.nan
    present = (n_rows[0] - n_missing[0], n_rows[1] - n_missing[1])
    return chi2_homogeneity([n_missing[0], present[0]], [n_missing[1], present[1]])[1]


def _numeric_rows(frames: FeatureFrames, n_jobs: int | None) -> list[dict]:
    if not frames.numeric:
        return []
    shift = numeric_shift(frames.source.loc[:, frames.numeric],
                          frames.target.loc[:, frames.numeric], n_jobs=n_jobs)
    n_s, n_t = len(frames.source), len(frames.target)
    rows = []
    for j, column in enumerate(frames.numeric):
        miss_s, miss_t = shift.missing_source[j], shift.missing_target[j]
        p_missing = _missing_pvalue((round(miss_s * n_s), round(miss_t * n_t)), (n_s, n_t))
        p_ks = shift.ks_pvalue[j]
        # One p-value per feature: the distribution test and, when values are missing, a
        # test on the missing rate, Bonferroni-combined so the feature-level level holds.
        if np.isnan(p_missing):
            pvalue = p_ks
        elif np.isnan(p_ks):
            pvalue = p_missing
        else:
            pvalue = min(1.0, 2 * min(p_ks, p_missing))
        missing_gap = abs(miss_t - miss_s)
        ks = shift.ks_statistic[j]
        effect = float(np.nanmax([ks, missing_gap])) if np.isfinite([ks, missing_gap]).any() \
            else np.nan
        for market, n_present in (("source", shift.n_source[j]), ("target", shift.n_target[j])):
            if n_present == 0:
                frames.note(column, f"all values missing in {market}")
        for market, values in (("source", frames.source[column]),
                               ("target", frames.target[column])):
            low, high = values.min(), values.max()
            if pd.notna(low) and low == high:
                frames.note(column, f"constant in {market} ({low:g})")
        rows.append({
            "feature": column, "kind": "numeric", "test": "ks", "statistic": ks,
            "pvalue": pvalue, "effect": effect, "wasserstein": shift.wasserstein[j],
            "psi": shift.psi[j], "mean_shift": shift.mean_shift[j],
            "std_ratio": shift.std_ratio[j], "js_divergence": np.nan,
            "missing_source": miss_s, "missing_target": miss_t,
            "only_in_source": "", "only_in_target": "",
        })
    return rows


def category_counts(values: pd.Series) -> pd.Series:
    """Counts per category with missing values as their own "(missing)" level."""
    counts = values.value_counts(dropna=False, sort=False)
    counts.index = [_MISSING_LEVEL if pd.isna(level) else str(level) for level in counts.index]
    return counts.groupby(level=0).sum()


def _categorical_rows(frames: FeatureFrames) -> list[dict]:
    rows = []
    for column in frames.categorical:
        counts_s = category_counts(frames.source[column])
        counts_t = category_counts(frames.target[column])
        levels = counts_s.index.union(counts_t.index)
        cs = counts_s.reindex(levels, fill_value=0).to_numpy(dtype=float)
        ct = counts_t.reindex(levels, fill_value=0).to_numpy(dtype=float)
        statistic, pvalue = chi2_homogeneity(cs, ct)
        only_s = [str(v) for v in levels[(cs > 0) & (ct == 0)]]
        only_t = [str(v) for v in levels[(ct > 0) & (cs == 0)]]
        if len(levels) == 1:
            frames.note(column, "constant in both markets")
        rows.append({
            "feature": column, "kind": "categorical", "test": "chi2", "statistic": statistic,
            "pvalue": pvalue, "effect": total_variation(cs, ct), "wasserstein": np.nan,
            "psi": np.nan, "mean_shift": np.nan, "std_ratio": np.nan,
            "js_divergence": js_divergence(cs, ct),
            "missing_source": float(frames.source[column].isna().mean()),
            "missing_target": float(frames.target[column].isna().mean()),
            "only_in_source": ", ".join(only_s[:5]) + (" ..." if len(only_s) > 5 else ""),
            "only_in_target": ", ".join(only_t[:5]) + (" ..." if len(only_t) > 5 else ""),
        })
    return rows


def feature_table(frames: FeatureFrames, *, alpha: float, n_jobs: int | None) -> pd.DataFrame:
    """One row per feature, most shifted first: test, p-value, BH q-value, effect, severity."""
    rows = _numeric_rows(frames, n_jobs) + _categorical_rows(frames)
    table = pd.DataFrame(rows)
    table["pvalue_adjusted"] = benjamini_hochberg(table["pvalue"].to_numpy(dtype=float))
    table["shifted"] = table["pvalue_adjusted"].le(alpha)
    table["severity"] = [severity_of(e, s) for e, s in zip(table["effect"], table["shifted"],
                                                            strict=True)]
    table["note"] = ["; ".join(frames.notes.get(f, [])) for f in table["feature"]]
    extra = [{"feature": column, "kind": kind, "test": "", "note": note,
              "shifted": False, "severity": "none"}
             for kind, notes in (("set aside", frames.set_aside), ("unmatched", frames.one_sided))
             for column, note in notes.items()]
    if extra:
        table = pd.concat([table, pd.DataFrame(extra)], ignore_index=True)
    order = table["severity"].map(SEVERITIES.index).fillna(0)
    table = table.assign(_rank=order).sort_values(
        ["shifted", "_rank", "effect", "pvalue"], ascending=[False, False, False, True],
        na_position="last", kind="stable",
    )
    columns = ["feature", "kind", "test", "statistic", "pvalue", "pvalue_adjusted", "shifted",
               "effect", "severity", "wasserstein", "psi", "mean_shift", "std_ratio",
               "js_divergence", "missing_source", "missing_target", "only_in_source",
               "only_in_target", "note"]
    return table.loc[:, columns].set_index("feature")
