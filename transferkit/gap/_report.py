"""``gap_report``: how far the target market is from the source market, and where."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from threadpoolctl import threadpool_limits

from transferkit._io import atomic_write_text
from transferkit._json import to_jsonable
from transferkit._validation import check_param
from transferkit.domain import Domain
from transferkit.exceptions import TransferWarning
from transferkit.gap._domain_tests import GAP_METRICS, Design, build_design, shift_drivers
from transferkit.gap._features import (
    SEVERITIES,
    FeatureFrames,
    category_counts,
    feature_frames,
    feature_table,
    set_aside_ids_and_dates,
)
from transferkit.gap._impact import model_impact
from transferkit.gap._labels import LabelShift, label_shift, priors_frame

__all__ = ["GapReport", "gap_report"]

# Domain-classifier AUC cut points for "negligible", "small", "moderate", "large".
_AUC_CUTS: tuple[float, ...] = (0.55, 0.65, 0.8)
# Total-variation cut points of the class priors for the same levels.
_PRIOR_CUTS: tuple[float, ...] = (0.02, 0.05, 0.15)
_MIN_ROWS_FOR_DOMAIN_TESTS = 10
_MAX_IMPACT_FEATURES = 20
# A domain-classifier importance counts when it is above this and twice its own noise.
_MIN_IMPORTANCE = 0.005
_DRIVER_SEVERITIES = ("small", "moderate", "large")
_PHRASES = {
    "none": "shows no detectable shift from",
    "negligible": "differs only negligibly from",
    "small": "differs slightly from",
    "moderate": "differs moderately from",
    "large": "differs strongly from",
}


def _level(value: float, cuts: Sequence[float]) -> str:
    if not np.isfinite(value):
        return "none"
    return SEVERITIES[1 + int(np.searchsorted(cuts, value, side="right"))]


@dataclass(frozen=True)
class GapReport:
    """A domain-gap report: per-feature shifts, whole-domain tests, label shift, summary.

    Built by ``gap_report``; saves itself as HTML, JSON or Markdown.

    Attributes
    ----------
    source_name, target_name : str
    n_source, n_target : int
        Rows per market.
    features : DataFrame
        One row per feature, most shifted first: test, statistic, ``pvalue``,
        Benjamini-Hochberg ``pvalue_adjusted``, ``shifted`` (adjusted p <= ``alpha``),
        ``effect`` (KS statistic or total variation, in [0, 1]), ``severity``, Wasserstein,
        PSI, mean/sd/missing shift, ``mean_source`` / ``mean_target`` (numeric features, in
        the units of ``settings["units"]``), categories seen in one market only,
        domain-classifier ``importance`` and a ``note`` for problems (constant, all
        missing, coerced cells). Row IDs and dates set aside have ``kind="set aside"``.
    domain_tests : DataFrame
        One row per whole-domain test (``classifier``, ``mmd``): statistic, standard error,
        p-value, proxy A-distance, rows used.
    labels : LabelShift or None
    weights : dict or None
        ``weighter.weight_report().to_dict()`` when a fitted reweighter was given.
    severity : {"none", "negligible", "small", "moderate", "large"}
        Overall: the larger of the feature shift's and the label shift's
        (``label_severity``); each is "none" unless its test is significant at ``alpha``.
    alpha : float
    notes : tuple of str
        Warnings raised while building the report (skipped tests, subsampling).
    plots : dict
        Compact plot data (histograms, ECDFs, 2-D PCA points) used by ``to_html``.
    """

    source_name: str
    target_name: str
    n_source: int
    n_target: int
    features: pd.DataFrame
    domain_tests: pd.DataFrame
    labels: LabelShift | None
    weights: dict | None
    severity: str
    alpha: float
    notes: tuple[str, ...]
    settings: dict = field(default_factory=dict)
    plots: dict = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ text
    @property
    def label_severity(self) -> str:
        """Severity of the label shift alone: "none" unless a test (chi-squared of observed
        priors, or BBSD for an unlabelled target) rejects an unchanged label mix."""
        return _label_severity(self.labels, self.alpha)

    @property
    def drivers(self) -> list[str]:
        """The (at most 3) features that drive the shift, ranked by ``drivers_ranked_by``.

        Only shifted features of severity small or more are candidates, so the drivers
        always agree with the table. When at least one of them has a stable domain-classifier
        permutation importance (above 0.005 and twice its standard deviation) they are
        ranked by it, stable ones first; else by effect size.
        """
        return [str(f) for f in self._driver_table().index[:3]]

    @property
    def drivers_ranked_by(self) -> str:
        """What ranks ``drivers``: "domain-classifier importance" or "effect size"."""
        return ("domain-classifier importance" if self._stable_importance().any()
                else "effect size")

    def _driver_candidates(self) -> pd.DataFrame:
        table = self.features
        return table[table["shifted"] & table["severity"].isin(_DRIVER_SEVERITIES)]

    def _stable_importance(self) -> pd.Series:
        candidates = self._driver_candidates()
        if "importance" not in candidates or candidates["importance"].isna().all():
            return pd.Series(False, index=candidates.index)
        std = candidates["importance_std"].fillna(0.0)
        return (candidates["importance"] > _MIN_IMPORTANCE) & (
            candidates["importance"] > 2 * std)

    def _driver_table(self) -> pd.DataFrame:
        candidates = self._driver_candidates()
        stable = self._stable_importance()
        if stable.any():
            return candidates.assign(_stable=stable).sort_values(
                ["_stable", "importance"], ascending=False, kind="stable").drop(
                columns="_stable")
        return candidates.sort_values("effect", ascending=False, kind="stable")

    def summary(self) -> str:
        """One plain-language paragraph: how different, driven by what, label mix change."""
        parts = [f"Target {self.target_name!r} {_PHRASES[self.severity]} source "
                 f"{self.source_name!r} (severity: {self.severity})."]
        tests = self.domain_tests
        evidence = []
        if "classifier" in tests.index:
            row = tests.loc["classifier"]
            evidence.append(f"domain-classifier AUC {row['statistic']:.2f} ± "
                            f"{row['standard_error']:.2f}, p {_p_text(row['pvalue'])}")
        if "mmd" in tests.index:
            evidence.append(f"MMD p {_p_text(tests.loc['mmd', 'pvalue'])}")
        if evidence:
            parts.append("Whole-domain tests: " + "; ".join(evidence) + ".")
        table = self.features[~self.features["kind"].isin(["unmatched", "set aside"])]
        shifted = table[table["shifted"]]
        tiny = int((shifted["severity"] == "negligible").sum())
        parts.append(
            f"{len(shifted)} of {len(table)} features shifted after Benjamini-Hochberg "
            f"correction at {self.alpha:.0%} FDR" + (f" ({tiny} of them certain but negligible "
                                                      "in size)" if tiny else "") + ".")
        if self.drivers:
            parts.append(f"Main drivers (by {self.drivers_ranked_by}): "
                         + ", ".join(self.drivers) + ".")
        if "model_impact" in table and table["model_impact"].notna().any():
            impact = table["model_impact"].dropna().sort_values(ascending=False)
            parts.append("Shifts that move the source model most: " + ", ".join(
                f"{f} ({v:.3f})" for f, v in impact.head(3).items()) + ".")
        if self.labels is not None and self.labels.classes:
            parts.append(_label_sentence(self.labels))
        if self.weights:
            ess = self.weights.get("ess_fraction")
            if ess is not None:
                parts.append(f"Importance weights keep an effective sample size of {ess:.0%} "
                             "of the source.")
        return " ".join(parts)

    def to_frame(self) -> pd.DataFrame:
        """The per-feature table (a copy), most shifted first."""
        return self.features.copy()

    def to_dict(self) -> dict:
        """Everything in the report as JSON-ready Python objects (NaN becomes None)."""
        return to_jsonable({
            "source": self.source_name, "target": self.target_name,
            "n_source": self.n_source, "n_target": self.n_target,
            "severity": self.severity, "alpha": self.alpha, "summary": self.summary(),
            "drivers": self.drivers, "drivers_ranked_by": self.drivers_ranked_by,
            "features": self.features.reset_index().to_dict(orient="records"),
            "domain_tests": self.domain_tests.reset_index().to_dict(orient="records"),
            "labels": None if self.labels is None else self.labels.to_dict(),
            "weights": self.weights, "notes": list(self.notes), "settings": self.settings,
        })

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """JSON text of ``to_dict()``; also written (atomically) to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        if path is not None:
            atomic_write_text(path, text)
        return text

    def to_markdown(self, path: str | os.PathLike[str] | None = None) -> str:
        """Markdown text (summary, tests, feature table); also written to ``path`` when given."""
        from transferkit.gap._render import render_markdown

        text = render_markdown(self)
        if path is not None:
            atomic_write_text(path, text)
        return text

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """One self-contained HTML page (inline CSS and SVG plots, no network access)."""
        from transferkit.gap._render import render_html

        text = render_html(self)
        if path is not None:
            atomic_write_text(path, text)
        return text

    def _repr_html_(self) -> str:
        from transferkit.gap._render import render_html

        return render_html(self, fragment=True)

    def __repr__(self) -> str:
        shifted = int(self.features["shifted"].sum())
        return (f"GapReport({self.source_name!r} -> {self.target_name!r}: severity "
                f"{self.severity!r}, {shifted}/{len(self.features)} features shifted)")


def _p_text(pvalue: float) -> str:
    if not np.isfinite(pvalue):
        return "n/a"
    return "< 0.001" if pvalue < 0.001 else f"= {pvalue:.3f}"


def _label_sentence(labels: LabelShift) -> str:
    # The positive (last) class for binary tasks, the class that moved most otherwise.
    target = labels.target_priors if labels.target_priors is not None else labels.bbse_priors
    if target is None:
        return "Label prior of the target unknown (no target labels; BBSE skipped)."
    if labels.target_priors is None and labels.bbse_problem is not None:
        return (f"Label prior of the target not estimable (no target labels, and BBSE "
                f"cannot say: {labels.bbse_problem}); BBSD test p "
                f"{_p_text(labels.bbsd_pvalue)}.")
    source = np.asarray(labels.source_priors)
    target = np.asarray(target)
    k = len(source) - 1 if len(source) == 2 else int(np.argmax(np.abs(target - source)))
    how = "observed" if labels.target_priors is not None else "estimated by BBSE"
    test = "chi-squared" if labels.target_priors is not None else "BBSD"
    distance = labels.shift_estimate
    return (f"Label prior of {labels.classes[k]!r}: {source[k]:.0%} → {target[k]:.0%} "
            f"({how}; total variation {distance:.2f}; {test} test p "
            f"{_p_text(labels.test_pvalue)}).")


def _encode(domain: Domain, encoder: object) -> Domain:
    if callable(encoder) and not isinstance(encoder, str) and not hasattr(encoder, "encode") \
            and not _is_module(encoder):
        result = encoder(domain)
        return result if isinstance(result, Domain) else domain.with_features(result)
    from transferkit.backbones import encode

    return encode(domain, encoder)


def _is_module(obj: object) -> bool:
    try:
        import torch
    except ImportError:
        return False
    return isinstance(obj, torch.nn.Module)


def _number_counts(values: pd.Series) -> pd.Series:
    """Counts of a numeric column's values, labelled as people write them ("0", "1")."""
    counts = values.value_counts(dropna=False, sort=False)
    counts.index = ["(missing)" if pd.isna(v) else f"{float(v):g}" for v in counts.index]
    return counts.groupby(level=0).sum()


def _shares_item(feature: object, kind: str, source: pd.Series, target: pd.Series) -> dict:
    """Plot data of a category-share bar chart: the 12 commonest levels of both markets."""
    count = _number_counts if kind == "binary" else category_counts
    counts_s, counts_t = count(source), count(target)
    levels_all = (counts_s / counts_s.sum()).add(counts_t / counts_t.sum(), fill_value=0)
    kept = levels_all.sort_values(ascending=False).index[:12]
    if kind == "binary":
        kept = sorted(kept, key=str)
    return {
        "feature": str(feature), "kind": kind, "levels": [str(k) for k in kept],
        "source": (counts_s / counts_s.sum()).reindex(kept, fill_value=0).tolist(),
        "target": (counts_t / counts_t.sum()).reindex(kept, fill_value=0).tolist(),
    }


def _plot_data(
    frames: FeatureFrames, table: pd.DataFrame, design: Design | None, top: int, seed: int
) -> dict:
    from sklearn.decomposition import PCA

    plots: dict[str, Any] = {"features": []}
    shown = [f for f in table.index if table.loc[f, "kind"] in ("numeric", "categorical")][:top]
    for feature in shown:
        s, t = frames.source[feature], frames.target[feature]
        if table.loc[feature, "kind"] == "numeric":
            s_values = s.to_numpy(dtype=float)
            t_values = t.to_numpy(dtype=float)
            s_values, t_values = s_values[~np.isnan(s_values)], t_values[~np.isnan(t_values)]
            if not s_values.size or not t_values.size:
                continue
            values = np.unique(np.concatenate([s_values[:100_000], t_values[:100_000]]))
            if values.size <= 2:
                # Binary (0/1) columns: side-by-side shares, not a histogram and an ECDF.
                plots["features"].append(_shares_item(feature, "binary", s, t))
                continue
            both = np.concatenate([np.quantile(s_values, [0.005, 0.995]),
                                   np.quantile(t_values, [0.005, 0.995])])
            low, high = float(both.min()), float(both.max())
            if high <= low:
                low, high = low - 0.5, high + 0.5
            edges = np.linspace(low, high, 31)
            levels = np.linspace(0, 1, 101)
            plots["features"].append({
                "feature": str(feature), "kind": "numeric", "edges": edges.tolist(),
                "source": np.histogram(s_values, edges, density=True)[0].tolist(),
                "target": np.histogram(t_values, edges, density=True)[0].tolist(),
                "levels": levels.tolist(),
                "source_quantiles": np.quantile(s_values, levels).tolist(),
                "target_quantiles": np.quantile(t_values, levels).tolist(),
            })
        else:
            plots["features"].append(_shares_item(feature, "categorical", s, t))
    if design is not None and design.source.shape[1] >= 2:
        source, target = design.kernel_inputs()
        rng = np.random.default_rng(seed)
        pick_s = rng.choice(len(source), size=min(600, len(source)), replace=False)
        pick_t = rng.choice(len(target), size=min(600, len(target)), replace=False)
        pca = PCA(n_components=2, random_state=seed).fit(np.concatenate([source, target]))
        plots["pca"] = {
            "source": pca.transform(source[pick_s]).tolist(),
            "target": pca.transform(target[pick_t]).tolist(),
            "explained": pca.explained_variance_ratio_.tolist(),
        }
    return plots


def gap_report(
    source: Domain,
    target: Domain,
    *,
    label: str | None = None,
    weighter: object | None = None,
    source_model: BaseEstimator | None = None,
    encoder: object | None = None,
    harmonize: Mapping[str, Any] | None = None,
    view: Literal["original", "harmonized"] = "original",
    include_ids_and_dates: bool = False,
    tests: Sequence[str] = ("classifier", "mmd"),
    classifier: BaseEstimator | None = None,
    alpha: float = 0.05,
    max_samples: int | None = 5000,
    n_permutations: int = 1000,
    importances: bool = True,
    top_plots: int = 6,
    n_jobs: int | None = None,
    random_state: int = 0,
    progress: Callable[[str], None] | None = None,
) -> GapReport:
    """Measure how far the target market is from the source market, feature by feature.

    Per feature: a two-sample test (Kolmogorov-Smirnov for numeric columns, combined with a
    missing-rate test when values are missing; chi-squared for categorical ones), an effect
    size on one scale for both (KS statistic / total variation, in [0, 1]) plus Wasserstein,
    PSI, mean/sd/missing shift and Jensen-Shannon divergence, Benjamini-Hochberg correction
    across features, and a severity that separates "certain but tiny" (``negligible``) from
    ``large``. Whole domain: a gradient-boosted domain classifier (cross-validated AUC,
    permutation p-value, proxy A-distance), a kernel MMD permutation test, and permutation
    importances of the domain classifier (the shift's drivers) and, given a
    ``source_model``, how much each shift moves that model's output. Labels: class priors
    per market, their total variation, and a BBSE estimate of the target priors from
    unlabelled target rows.

    Per-feature statistics use every row. The whole-domain tests, importances and BBSE use
    at most ``max_samples`` random rows per market (their standard errors and p-values
    account for it).

    Columns that identify rows (unique per row, monotone integer keys, ``*_id`` names) and
    date/time columns are left out of every test with a note: they differ between any two
    markets and would dominate the whole-domain tests. Distributions are compared in the
    user's own units: with ``harmonize`` options, columns are renamed and amounts converted
    to one currency first, but nothing is standardised unless ``view="harmonized"``.

    Parameters
    ----------
    source, target : Domain
        Tabular Domains with the same column names, or text/image Domains with ``encoder``.
    label : str, optional
        A feature column of both markets to treat as the label (excluded from the features,
        analysed for label shift). Default: the Domains' own label column.
    weighter : fitted reweighter, optional
        Anything with ``weight_report().to_dict()``; its weight diagnostics are included.
    source_model : fitted estimator, optional
        The source market's model over the Domains' ``X``. Adds ``model_impact`` per
        feature (mean change of its output on source rows when only that feature takes the
        target's distribution) and serves as the prefit classifier of BBSE: the labelled
        source rows are its held-out rows, so pass source rows it was not trained on.
        Default: no impact column, and BBSE cross-fits its own classifier.
    encoder : callable, backbone name or module, optional
        Turns text/image Domains into features: a callable ``encoder(domain)`` returning a
        Domain or an array, else ``transferkit.backbones.encode(domain, encoder)``.
    harmonize : mapping, optional
        ``Harmonizer`` options (``target_columns`` renames, ``money_columns`` with
        ``exchange_rates`` and the Domains' currencies, ``unit_factors``,
        ``missing_columns``, ``label_map``): the markets are compared after these, in the
        source's units. A recipe's ``harmonize:`` section is this mapping.
    view : {"original", "harmonized"}, default="original"
        ``"original"``: values in the users' units (renamed and converted, not
        standardised). ``"harmonized"``: the harmonizer's output features (standardised
        numbers, one column per category), the space the methods learn in.
    include_ids_and_dates : bool, default=False
        Test ID-like and date/time columns too instead of setting them aside.
    tests : sequence of str, default=("classifier", "mmd")
        Whole-domain tests from ``GAP_METRICS``.
    classifier : sklearn classifier, optional
        Domain classifier (must accept NaN); default gradient boosting.
    alpha : float, default=0.05
        False-discovery rate for flagging features.
    max_samples : int or None, default=5000
        Rows per market for the whole-domain tests (None: all rows).
    n_permutations : int, default=1000
        Permutations of the classifier test (the MMD test uses a fifth, at least 100).
    importances : bool, default=True
        Compute domain-classifier permutation importances.
    top_plots : int, default=6
        Most-shifted features plotted in the HTML report.
    n_jobs : int, optional
        Threads for the per-feature statistics (None: one per core) and OpenMP threads of
        the gradient-boosting models (None: 1, since OpenMP threads slow down many times
        over on a busy shared machine).
    random_state : int, default=0
    progress : callable, optional
        Called with a short message before each slow step (the CLI prints them).

    Returns
    -------
    GapReport

    Raises
    ------
    DomainMismatchError
        The markets share no feature columns.
    TypeError
        Text/image Domains without an ``encoder``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from transferkit import Domain
    >>> rng = np.random.default_rng(0)
    >>> us = Domain.from_frame(pd.DataFrame({"price": rng.normal(10, 2, 300),
    ...                                      "days": rng.normal(3, 1, 300)}), name="us")
    >>> jp = Domain.from_frame(pd.DataFrame({"price": rng.normal(13, 2, 300),
    ...                                      "days": rng.normal(3, 1, 300)}), name="jp")
    >>> report = gap_report(us, jp, tests=("mmd",), importances=False)
    >>> report.features.index[0], report.severity
    ('price', 'large')
    """
    owner = "gap_report"
    check_param(owner, "alpha", alpha, "a float in (0, 1)", lambda v: 0 < v < 1)
    check_param(owner, "max_samples", max_samples, "None or an int >= 20",
                lambda v: v is None or (int(v) == v and v >= 20))
    check_param(owner, "n_permutations", n_permutations, "an int >= 0",
                lambda v: int(v) == v and v >= 0)
    check_param(owner, "top_plots", top_plots, "an int >= 0", lambda v: int(v) == v and v >= 0)
    check_param(owner, "view", view, 'one of "original", "harmonized"',
                lambda v: v in ("original", "harmonized"))
    for name in tests:
        GAP_METRICS.get(name)
    for market, domain in (("source", source), ("target", target)):
        if not isinstance(domain, Domain):
            raise TypeError(f"gap_report expects Domains; {market} is {type(domain).__name__}. "
                            "Build it with Domain.from_frame or Domain.from_arrays.")
    if weighter is not None and not callable(getattr(weighter, "weight_report", None)):
        raise TypeError(f"weighter must be a fitted reweighter with weight_report(); got "
                        f"{type(weighter).__name__}.")
    say = progress or (lambda message: None)
    notes: list[str] = []

    def note(message: str) -> None:
        notes.append(message)
        warnings.warn(f"gap_report: {message}", TransferWarning, stacklevel=3)

    if encoder is not None:
        say("encoding both markets")
        source, target = _encode(source, encoder), _encode(target, encoder)
    for domain in (source, target):
        if domain.modality in ("text", "image", "mixed"):
            raise TypeError(f"Domain {domain.name!r} holds {domain.modality} features; pass "
                            "encoder=... (a backbone name or a callable) to compare embeddings.")
    if harmonize is not None or view == "harmonized":
        say("harmonising the two markets")
        source, target = _harmonized(source, target, dict(harmonize or {}), view)
    source, target, label_column = _with_label(source, target, label)

    say("per-feature tests")
    frames = feature_frames(source, target)
    for market, domain in (("source", source), ("target", target)):
        for column, count in dict(domain.metadata.extra.get("coerced_cells") or {}).items():
            if column in frames.source.columns:
                text = (f"{int(count):,} non-numeric cells in {market} {domain.name!r} read as "
                        "missing (bad_numeric='coerce')")
                frames.note(str(column), text)
                notes.append(f"column {column!r}: {text}")
    if not include_ids_and_dates:
        for column in set_aside_ids_and_dates(frames):
            what = frames.set_aside[column].split(":")[0]
            notes.append(f"column {column!r} looks like a {what}: left out of the drift "
                         "tests (include_ids_and_dates=True tests it)")
        if not frames.numeric and not frames.categorical:
            raise ValueError(
                f"gap_report: every shared column of {source.name!r} and {target.name!r} "
                f"looks like a row ID or a date ({sorted(frames.set_aside)}); pass "
                "include_ids_and_dates=True to test them anyway.")
    table = feature_table(frames, alpha=alpha, n_jobs=n_jobs)
    if frames.numeric:
        table["mean_source"] = frames.source[frames.numeric].mean()
        table["mean_target"] = frames.target[frames.numeric].mean()
    for column, text in frames.one_sided.items():
        note(f"column {column!r} is {text}")

    with threadpool_limits(limits=n_jobs or 1, user_api="openmp"):
        domain_tests, table, design = _domain_section(
            frames, table, tests, importances, top_plots, classifier, max_samples,
            n_permutations, random_state, len(source), len(target), say, note, notes)
        labels = None
        if label_column is not None:
            say("label shift (BBSE)")
            labels = _label_section(source, target, frames, source_model, max_samples,
                                    random_state)
            notes.extend(text for text in (labels.notes if labels else ())
                         if text.startswith("BBSE skipped"))
    weights = weighter.weight_report().to_dict() if weighter is not None else None
    if source_model is not None:
        say("model impact of each shift")
        table = _with_model_impact(table, source, target, source_model, random_state, note)

    severity = _overall_severity(table, domain_tests, labels, alpha)
    plots = _plot_data(frames, table, design, top_plots, random_state) if top_plots else {}
    if labels is not None and labels.classes:
        plots["priors"] = priors_frame(labels).reset_index().to_dict(orient="list")
    return GapReport(
        source_name=source.name, target_name=target.name, n_source=len(source),
        n_target=len(target), features=table, domain_tests=domain_tests, labels=labels,
        weights=weights, severity=severity, alpha=float(alpha), notes=tuple(notes),
        settings={"tests": list(tests), "max_samples": max_samples,
                  "n_permutations": n_permutations, "random_state": random_state,
                  "label": label_column, "view": view,
                  "harmonize": dict(harmonize) if harmonize is not None else None,
                  "include_ids_and_dates": bool(include_ids_and_dates),
                  "units": _units(source, harmonize, view)},
        plots=plots,
    )


def _harmonized(source: Domain, target: Domain, options: dict[str, Any],
                view: str) -> tuple[Domain, Domain]:
    """Both markets after the harmonizer: renamed and converted, or fully harmonised."""
    from transferkit.harmonize import Harmonizer

    harmonizer = Harmonizer(**options).fit(source, target)
    if view == "harmonized":
        return (harmonizer.transform(source, side="source"),
                harmonizer.transform(target, side="target"))
    return (harmonizer.canonical(source, side="source"),
            harmonizer.canonical(target, side="target"))


def _units(source: Domain, harmonize: Mapping[str, Any] | None, view: str) -> str:
    """The units the report's numbers are in, in words."""
    if view == "harmonized":
        return "harmonised features (numeric columns standardised with source statistics)"
    money = list((harmonize or {}).get("money_columns") or ())
    base = (harmonize or {}).get("base_currency") or source.metadata.currency
    if money and base:
        return (f"the units passed in, nothing standardised; amounts ({', '.join(money)}) "
                f"converted to {base}")
    return "the units passed in, nothing standardised"


def _domain_section(
    frames: FeatureFrames, table: pd.DataFrame, tests: Sequence[str], importances: bool,
    top_plots: int, classifier: BaseEstimator | None, max_samples: int | None,
    n_permutations: int, random_state: int, n_source: int, n_target: int,
    say: Callable[[str], None], note: Callable[[str], None], notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame, Design | None]:
    """Whole-domain tests and shift drivers; the feature table gains importance columns."""
    design = None
    rows = []
    if (tests or importances) and min(n_source, n_target) < _MIN_ROWS_FOR_DOMAIN_TESTS:
        note(f"whole-domain tests skipped: they need >= {_MIN_ROWS_FOR_DOMAIN_TESTS} rows per "
             f"market, got {n_source} source and {n_target} target rows")
    elif tests or importances or top_plots:
        design = build_design(frames, max_samples, random_state)
        if max_samples is not None and max(n_source, n_target) > max_samples:
            notes.append(f"whole-domain tests use {max_samples} random rows per market")
    if design is not None:
        for name in tests:
            say(f"whole-domain test: {name}")
            rows.append(GAP_METRICS.get(name)(
                design, classifier=classifier, random_state=random_state,
                n_permutations=n_permutations))
        if importances:
            say("shift drivers (permutation importances)")
            table = table.join(shift_drivers(design, classifier, random_state), how="left")
    domain_tests = (pd.DataFrame(rows).set_index("test") if rows
                    else pd.DataFrame(columns=["statistic", "pvalue"]).rename_axis("test"))
    return domain_tests, table, design


def _with_model_impact(
    table: pd.DataFrame, source: Domain, target: Domain, model: BaseEstimator,
    random_state: int, note: Callable[[str], None],
) -> pd.DataFrame:
    """The feature table with ``model_impact`` for the (at most 20) most shifted features."""
    candidates = table[table["kind"].isin(["numeric", "categorical"])]
    features = [str(f) for f in candidates.index[:_MAX_IMPACT_FEATURES]]
    try:
        impact = model_impact(source, target, model, features, random_state=random_state)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        note(f"model impact skipped: the source model could not score the source rows "
             f"with one feature moved ({exc})")
        return table
    return table.join(impact, how="left")


def _with_label(
    source: Domain, target: Domain, label: str | None
) -> tuple[Domain, Domain, str | None]:
    """Domains whose label is ``label``: a shared feature column moved into the label role."""
    if label is None:
        return source, target, source.schema.label
    if source.schema.label == label:
        return source, target, label
    converted = []
    for domain in (source, target):
        if domain.schema.label == label:
            converted.append(domain)
            continue
        frame = domain.frame
        if label not in frame.columns:
            raise ValueError(
                f"Domain {domain.name!r} has no column {label!r} to use as the label; its "
                f"columns are {list(map(str, frame.columns))[:10]}."
            )
        features = [c for c in domain.feature_names if c != label]
        converted.append(Domain.from_frame(
            frame.loc[:, [*features, label]], label=label, name=domain.name,
            numeric=[c for c in domain.schema.numeric if c != label],
            categorical=[c for c in domain.schema.categorical if c != label],
            allow_unlabeled=True, country=domain.metadata.country,
            language=domain.metadata.language, currency=domain.metadata.currency))
    return converted[0], converted[1], label


def _label_section(
    source: Domain, target: Domain, frames: FeatureFrames, source_model: BaseEstimator | None,
    max_samples: int | None, random_state: int,
) -> LabelShift | None:
    if source.schema.label is None or source.n_labeled == 0:
        return None
    rng = np.random.default_rng(random_state)
    # BBSE's confusion matrix needs more rows than the two-sample tests: up to 4x max_samples.
    limit = None if max_samples is None else 4 * max_samples

    def cap(rows: np.ndarray) -> np.ndarray:
        if limit is None or rows.size <= limit:
            return rows
        return np.sort(rng.choice(rows, size=limit, replace=False))

    rows_s = cap(np.flatnonzero(source.labeled_mask))
    rows_t = cap(np.arange(len(target)))
    labeled, target_rows = source.subset(rows_s), target.subset(rows_t)
    categorical = None
    if source_model is not None:
        source_X, target_X = labeled.X, target_rows.X
    else:
        sub = FeatureFrames(frames.source.iloc[rows_s], frames.target.iloc[rows_t],
                            frames.numeric, frames.categorical)
        design = build_design(sub, None, random_state)
        source_X, target_X, categorical = design.source, design.target, design.categorical
    return label_shift(labeled, target_rows, source_X=source_X, target_X=target_X,
                       source_model=source_model, categorical=categorical,
                       random_state=random_state)


def _overall_severity(
    table: pd.DataFrame, tests: pd.DataFrame, labels: LabelShift | None, alpha: float
) -> str:
    levels = []
    if "classifier" in tests.index:
        row = tests.loc["classifier"]
        significant = not np.isfinite(row["pvalue"]) or row["pvalue"] <= alpha
        levels.append(_level(row["statistic"], _AUC_CUTS) if significant else "none")
    else:
        features = table[~table["kind"].isin(["unmatched", "set aside"])]
        levels.append(max(features["severity"], key=SEVERITIES.index, default="none"))
    levels.append(_label_severity(labels, alpha))
    return max(levels, key=SEVERITIES.index)


def _label_severity(labels: LabelShift | None, alpha: float) -> str:
    """Severity of the label shift, gated on a test (never on a point estimate alone).

    The level comes from the total variation of the priors (observed, or BBSE's estimate,
    which is biased upward), but only when a test rejects "same label mix" at ``alpha``:
    the chi-squared test of the observed priors, or BBSD for an unlabelled target. No
    test (NaN) means no claim: "none".
    """
    if labels is None or not labels.classes:
        return "none"
    pvalue = labels.test_pvalue
    if not (np.isfinite(pvalue) and pvalue <= alpha):
        return "none"
    return _level(labels.shift_estimate, _PRIOR_CUTS)
