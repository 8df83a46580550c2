"""After training: did transfer help the target market? A paired test against baselines.

``compare`` scores the transferred model and its baselines (source-only, target-only, ...)
on labelled target rows none of them saw, with bootstrap confidence intervals, a paired
test of each difference (exact McNemar for accuracy, paired bootstrap otherwise) and a
verdict against *every* baseline. Testing only against the baseline that looks best on
the same rows would pick the luckiest one and inflate false alarms, so:

- ``positive``: transfer is significantly better than every baseline;
- ``negative``: transfer is significantly worse than at least one baseline, after Holm's
  correction over the baselines (negative transfer);
- ``inconclusive``: neither. The verdict then says roughly how many more labelled target
  rows would settle it.

The reported interval is the one of the test that decides (for accuracy the interval
inverted from the exact McNemar test), at the level that test used, so interval and
verdict always agree. Classification and regression targets (``rmse``, ``mae``, ``r2``)
work the same way.

Per-class and per-segment tables show where transfer helps and where it hurts.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from transferkit import Domain
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(400, 2)); y = (X[:, 0] > 0).astype(int)
>>> test = Domain.from_arrays(X[200:], y[200:], name="jp")
>>> good = LogisticRegression().fit(X[:200], y[:200])
>>> noisy = LogisticRegression().fit(X[:200], np.where(rng.random(200) < 0.4, 1 - y[:200], y[:200]))
>>> result = compare(noisy, {"target_only": good}, test, n_resamples=100)
>>> result.verdict
'negative'
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from transferkit._validation import check_param
from transferkit.detect._outputs import model_classes, model_output
from transferkit.detect._paired import (
    LOWER_IS_BETTER,
    MIN_ROWS_FOR_CI,
    decide,
    extra_labels,
    extra_labels_mcnemar,
    holm,
    interval,
    mcnemar_interval,
    mcnemar_pvalues,
    oriented,
    paired_draws,
    point_scores,
    recall_breakdown,
    segment_breakdown,
)
from transferkit.detect.verdict import TransferVerdict, Verdict
from transferkit.domain import Domain
from transferkit.evaluation import CLASSIFICATION_METRICS, REGRESSION_METRICS, bootstrap_scores
from transferkit.exceptions import DomainMismatchError, TransferWarning

__all__ = ["MIN_ROWS_FOR_CI", "TransferVerdict", "Verdict", "compare"]


# --------------------------------------------------------------------------- inputs
def _named_baselines(baselines: Mapping[str, Any] | Sequence[Any] | Any) -> dict[str, Any]:
    if isinstance(baselines, Mapping):
        named = {str(k): v for k, v in baselines.items()}
    elif isinstance(baselines, Sequence) and not isinstance(baselines, (str, np.ndarray)):
        named = {}
        for model in baselines:
            base = type(model).__name__
            name, i = base, 1
            while name in named:
                i += 1
                name = f"{base}_{i}"
            named[name] = model
    else:
        named = {"baseline": baselines}
    if not named:
        raise ValueError(
            "compare: no baselines given; pass e.g. {'source_only': m1, 'target_only': m2}."
        )
    return named


def _labelled_target(target_labeled: Domain) -> Domain:
    if not isinstance(target_labeled, Domain):
        raise TypeError(
            f"compare: target_labeled must be a Domain; got {type(target_labeled).__name__}. "
            "Build one with Domain.from_arrays(X, y) or Domain.from_frame(frame, label=...)."
        )
    if target_labeled.schema.label is None or target_labeled.n_labeled == 0:
        raise ValueError(
            f"Domain {target_labeled.name!r} has no labelled rows; compare needs labelled "
            "target rows that no model was trained on. Label a held-out sample of the target "
            "market, or use detect.select_model with an unsupervised validator instead."
        )
    return target_labeled.labeled()


def _row_keys(domain: Domain) -> pd.Index:
    """A hash per row of a Domain's inputs, to find rows shared with training data."""
    if domain.schema.text:
        return pd.Index(pd.util.hash_array(np.asarray(domain.texts, dtype=object)))
    if domain.schema.image:
        return pd.Index(pd.util.hash_array(np.asarray(domain.image_paths, dtype=object)))
    X = domain.X
    if isinstance(X, pd.DataFrame):
        return pd.Index(pd.util.hash_pandas_object(X, index=False).to_numpy())
    flat = np.ascontiguousarray(np.asarray(X, dtype=float).reshape(len(X), -1))
    return pd.Index([hash(row.tobytes()) for row in flat])


def _unseen_rows(
    test: Domain, seen: Domain | Sequence[Domain] | None, notes: list[str]
) -> np.ndarray:
    """Mask of test rows whose inputs appear in none of the training Domains ``seen``.

    Shared rows are dropped (and reported): an exact duplicate may be a natural repeat
    in the market, but a model has seen its answer, so it cannot count as held out.
    """
    keep = np.ones(test.n_samples, dtype=bool)
    if seen is None:
        return keep
    keys = _row_keys(test)
    for domain in [seen] if isinstance(seen, Domain) else list(seen):
        shared = np.asarray(keys.isin(_row_keys(domain)))
        if shared.any():
            notes.append(
                f"{int(shared.sum())} of the {test.n_samples} target rows also appear in "
                f"{domain.name!r}, which a model was trained on; they are left out of the "
                "comparison, which would otherwise be optimistic."
            )
        keep &= ~shared
    if not keep.any():
        raise DomainMismatchError(
            f"Every one of the {test.n_samples} target rows appears in the training data "
            "(seen=...); compare needs rows no model saw. Split the target market first "
            "(target.split(...)) and compare on the held-out part."
        )
    return keep


def _predictions(
    models: Mapping[str, Any], test: Domain, notes: list[str]
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Probabilities on a shared class list (classification) or predictions (regression)."""
    if not test.is_classification:
        outputs = {}
        for name, model in models.items():
            values = model if isinstance(model, np.ndarray) else model_output(model, test,
                                                                               "predict")
            outputs[name] = np.asarray(values, dtype=float).reshape(test.n_samples)
        return outputs, None
    y = test.y
    raw = {}
    for name, model in models.items():
        proba = (np.asarray(model, dtype=float) if isinstance(model, np.ndarray)
                 else model_output(model, test, "proba"))
        if proba.ndim != 2 or proba.shape[0] != test.n_samples:
            raise ValueError(
                f"compare: model {name!r} gives probabilities of shape {proba.shape}; expected "
                f"({test.n_samples}, n_classes)."
            )
        fitted = None if isinstance(model, np.ndarray) else model
        classes = model_classes(fitted, proba.shape[1], test.classes, f"compare: {name!r}")
        raw[name] = (proba, classes)
    labels = set(np.unique(y).tolist())
    for _, classes in raw.values():
        labels.update(classes.tolist())
    try:
        union = np.array(sorted(labels))
    except TypeError:  # labels of mixed types (ints and strings) sort by their text
        union = np.array(sorted(labels, key=str), dtype=object)
    outputs = {}
    for name, (proba, classes) in raw.items():
        unknown = sorted(set(np.unique(y).tolist()) - set(classes.tolist()), key=str)
        if unknown:
            n_rows = int(np.isin(y, unknown).sum())
            notes.append(
                f"Target labels {unknown} are not among the classes of model {name!r} "
                f"({classes.tolist()}); it gets probability 0 for them, so its predictions on "
                f"those {n_rows} rows count as wrong."
            )
        aligned = np.zeros((len(proba), len(union)))
        position = {c: i for i, c in enumerate(union.tolist())}
        aligned[:, [position[c] for c in classes.tolist()]] = proba
        outputs[name] = aligned
    return outputs, union


def _segments_of(
    test: Domain, segments: str | ArrayLike | None, original: Domain
) -> np.ndarray | None:
    if segments is None:
        return None
    if isinstance(segments, str):
        frame = original.frame if original.modality != "tensor" else None
        if frame is None or segments not in frame.columns:
            columns = [] if frame is None else list(map(str, frame.columns))
            raise ValueError(
                f"compare: segment column {segments!r} is not in Domain {original.name!r} "
                f"(columns {columns}); pass a column name or one segment value per row."
            )
        values = frame[segments].to_numpy()[original.labeled_mask]
    else:
        values = np.asarray(segments)
        if values.shape[0] == original.n_samples and original.n_samples != test.n_samples:
            values = values[original.labeled_mask]
    if values.shape != (test.n_samples,):
        raise ValueError(
            f"compare: segments have shape {values.shape}; expected one value per labelled "
            f"target row ({test.n_samples},)."
        )
    return values.astype(object)


# --------------------------------------------------------------------------- compare
def compare(
    transferred: Any,
    baselines: Mapping[str, Any] | Sequence[Any] | Any,
    target_labeled: Domain,
    *,
    metric: str | None = None,
    segments: str | ArrayLike | None = None,
    seen: Domain | Sequence[Domain] | None = None,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
    transferred_name: str = "transferred",
) -> TransferVerdict:
    """Test whether the transferred model beats its baselines on held-out target rows.

    Parameters
    ----------
    transferred : fitted model or ndarray
        The transferred model (``predict_proba`` for classification, ``predict`` for
        regression; scikit-learn or Domain face), or its cached outputs on the labelled
        rows of ``target_labeled``.
    baselines : mapping of name -> model (or outputs), or a sequence of models
        Typically ``{"source_only": ..., "target_only": ...}``.
    target_labeled : Domain
        Target rows none of the models saw in training; only labelled rows are scored.
    metric : str, optional
        Metric of the verdict: one of ``accuracy``, ``balanced_accuracy``, ``macro_f1``,
        ``log_loss``, ``roc_auc`` (binary classification only; a multiclass target is an
        error), default ``accuracy``; or ``mae``, ``rmse``, ``r2`` (regression, default
        ``rmse``), each with paired bootstrap intervals.
    segments : str or array-like, optional
        A column of ``target_labeled`` (e.g. product category) or one value per row, for
        the per-segment breakdown.
    seen : Domain or sequence of Domains, optional
        Data the models were trained on. Target rows whose inputs also appear there are
        left out (with a ``TransferWarning``); if none is left, ``DomainMismatchError``.
    confidence : float, default=0.95
        Level of the intervals; the verdict's test has size ``1 - confidence``.
    n_resamples : int, default=1000
        Bootstrap resamples (each scores every model once; the cost is linear in it).
    seed : int, default=0
    transferred_name : str, default="transferred"

    Returns
    -------
    TransferVerdict

    Raises
    ------
    ValueError
        No labelled target rows, a metric that does not fit the task, outputs of the
        wrong shape. Fewer than ``MIN_ROWS_FOR_CI`` labelled rows is *not* an error: the
        verdict is ``inconclusive`` and says how many more labels are needed.
    DomainMismatchError
        Every target row appears in the training data (``seen``).
    """
    check_param("compare", "confidence", confidence, "a float in (0, 1)", lambda v: 0 < v < 1)
    check_param("compare", "n_resamples", n_resamples, "an int >= 10",
                lambda v: int(v) == v and v >= 10)
    notes: list[str] = []
    test = _labelled_target(target_labeled)
    unseen = _unseen_rows(test, seen, notes)
    named = _named_baselines(baselines)
    if transferred_name in named:
        raise ValueError(
            f"compare: a baseline is called {transferred_name!r} like the transferred model; "
            "rename it or pass transferred_name=..."
        )
    allowed = CLASSIFICATION_METRICS if test.is_classification else REGRESSION_METRICS
    metric = metric or ("accuracy" if test.is_classification else "rmse")
    check_param("compare", "metric", metric,
                f"one of {', '.join(allowed)} for a {test.task} target", lambda m: m in allowed)
    segment_values = _segments_of(test, segments, target_labeled)
    if not unseen.all():
        test = test.subset(unseen)
        segment_values = None if segment_values is None else segment_values[unseen]
    models = {transferred_name: transferred, **named}
    if not unseen.all():  # cached outputs cover every labelled row; drop the seen ones too
        models = {name: model[unseen] if isinstance(model, np.ndarray)
                  and len(model) == len(unseen) else model for name, model in models.items()}
    outputs, classes = _predictions(models, test, notes)
    y = test.y
    n = test.n_samples
    if metric == "roc_auc" and classes is not None and len(classes) != 2:
        raise ValueError(
            f"compare: metric='roc_auc' is the binary ROC AUC, but this target has "
            f"{len(classes)} classes ({classes.tolist()}), so there is no single AUC to test. "
            "Use metric='log_loss', 'macro_f1', 'balanced_accuracy' or 'accuracy' for a "
            "multiclass target."
        )
    if test.is_classification and np.unique(y).size < 2:
        notes.append(
            f"The {n} labelled target rows hold a single class ({np.unique(y).tolist()}); "
            "balanced accuracy and AUC say little. Label rows of the other classes too."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        point = {name: point_scores(y, out, classes) for name, out in outputs.items()}
    by_metric = {name: oriented(metric, s[metric]) for name, s in point.items() if name in named}
    finite = {k: v for k, v in by_metric.items() if np.isfinite(v)}
    best = max(finite, key=finite.get) if finite else next(iter(named))
    enough = n >= MIN_ROWS_FOR_CI
    if enough:
        scores = _score_table(y, outputs, classes, n_resamples=int(n_resamples),
                              confidence=confidence, seed=seed)
        draws = paired_draws(y, outputs, classes, n_resamples=int(n_resamples), seed=seed)
    else:
        notes.append(
            f"Only {n} labelled target rows: at least {MIN_ROWS_FOR_CI} are needed for a "
            f"confidence interval, so no interval or test is reported. Label "
            f"{MIN_ROWS_FOR_CI - n} or more further target rows."
        )
        scores = pd.concat(
            {name: pd.DataFrame({"value": s, "low": math.nan, "high": math.nan, "n": n})
             for name, s in point.items()}, names=["model", "metric"])
        draws = None
    correct = ({name: classes[out.argmax(axis=1)] == y for name, out in outputs.items()}
               if classes is not None else {})

    def paired(name: str, m: str, level: float) -> tuple[float, float, float]:
        """Interval and p-value of transferred minus baseline ``name`` on metric ``m``."""
        if draws is None:
            return math.nan, math.nan, math.nan
        if m == "accuracy" and correct:
            # Few discordant rows make the percentile bootstrap anti-conservative; the
            # exact McNemar test decides accuracy (Dietterich 1998), and its inverted
            # (Clopper-Pearson) interval is the one reported, so the two always agree.
            first, second = correct[transferred_name], correct[name]
            b, c = int(np.sum(first & ~second)), int(np.sum(~first & second))
            low, high = mcnemar_interval(b, c, n, level)
            return low, high, float(mcnemar_pvalues(np.array(b), np.array(c)))
        delta_draws = np.asarray(oriented(m, draws[transferred_name][m] - draws[name][m]))
        return interval(delta_draws, level)

    difference_rows = []
    for m in point[transferred_name]:
        rows = []
        for name in named:
            delta = float(oriented(m, point[transferred_name][m] - point[name][m]))
            low, high, p_value = paired(name, m, confidence)
            rows.append({"baseline": name, "metric": m, "difference": delta, "low": low,
                         "high": high, "p_value": p_value})
        adjusted = holm(np.array([row["p_value"] for row in rows], dtype=float))
        for row, p_holm in zip(rows, adjusted, strict=True):
            row["p_holm"] = float(p_holm) if draws is not None else math.nan
        difference_rows.extend(rows)
    names = list(named)
    differences = pd.DataFrame(difference_rows).set_index(["baseline", "metric"]).loc[names]
    main = differences.xs(metric, level="metric").loc[names]
    alpha = 1 - confidence
    exact = metric == "accuracy" and bool(correct) and enough
    if draws is None:
        code, deciding_name = 0, best
        difference = float(main.loc[best, "difference"])
        low = high = p_value = math.nan
        level, holm_side = alpha, False
    else:
        codes, index, p_decide, level_decide, holm_flag = decide(
            main["difference"].to_numpy(), main["p_value"].to_numpy(dtype=float), alpha)
        code, deciding_name = int(codes), names[int(index)]
        p_value, level, holm_side = float(p_decide), float(level_decide), bool(holm_flag)
        difference = float(main.loc[deciding_name, "difference"])
        low, high, _ = paired(deciding_name, metric, 1 - level)
    verdict: Verdict = "positive" if code == 1 else "negative" if code == -1 else "inconclusive"
    if verdict != "inconclusive" or n < MIN_ROWS_FOR_CI:
        extra = None if verdict != "inconclusive" else MIN_ROWS_FOR_CI - n
    elif exact:
        extra = extra_labels_mcnemar(correct[transferred_name], correct[deciding_name],
                                     1 - level)
    else:
        extra = extra_labels(n, difference, low, high)
    per_class = per_segment = None
    if classes is not None and enough:
        per_class = recall_breakdown(y, correct[transferred_name], correct[deciding_name],
                                      (transferred_name, deciding_name),
                                      n_resamples=int(n_resamples), confidence=confidence,
                                      seed=seed)
    if segment_values is not None:
        per_segment = segment_breakdown(
            y, outputs[transferred_name], outputs[deciding_name], segment_values, classes,
            metric, (transferred_name, deciding_name), n_resamples=int(n_resamples),
            confidence=confidence, seed=seed, group_name="segment",
        )
    for note in notes:
        warnings.warn(note, TransferWarning, stacklevel=2)
    test = _test_name(exact, len(named), holm_side=holm_side)
    message = _message(verdict, metric, transferred_name, deciding_name, best, difference,
                       low, high, p_value, 1 - level, n, extra, point, test, len(named),
                       int(n_resamples))
    return TransferVerdict(
        verdict=verdict, metric=metric, transferred=transferred_name, best_baseline=best,
        deciding_baseline=deciding_name, difference=difference, low=low, high=high,
        p_value=p_value, interval_confidence=1 - level, test=test, confidence=confidence,
        n_target=n, extra_labels_needed=extra, scores=scores, differences=differences,
        per_class=per_class, per_segment=per_segment, message=message, notes=tuple(notes),
    )


def _test_name(exact: bool, n_baselines: int, *, holm_side: bool) -> str:
    base = "exact McNemar" if exact else "paired bootstrap"
    if n_baselines == 1:
        return base
    if holm_side:
        return f"{base}, Holm-adjusted over {n_baselines} baselines"
    return f"{base}, against each of {n_baselines} baselines"


def _score_table(
    y: np.ndarray,
    outputs: Mapping[str, np.ndarray],
    classes: np.ndarray | None,
    *,
    n_resamples: int,
    confidence: float,
    seed: int,
) -> pd.DataFrame:
    tables = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, prediction in outputs.items():
            tables[name] = bootstrap_scores(
                y, prediction, classes=None if classes is None else list(classes),
                n_resamples=n_resamples, confidence=confidence, seed=seed,
            )
    return pd.concat(tables, names=["model", "metric"])


def _message(
    verdict: Verdict,
    metric: str,
    transferred: str,
    deciding: str,
    best: str,
    difference: float,
    low: float,
    high: float,
    p_value: float,
    level: float,
    n: int,
    extra: int | None,
    point: Mapping[str, Mapping[str, float]],
    test: str,
    n_baselines: int,
    n_resamples: int,
) -> str:
    values = (f"{transferred} {point[transferred][metric]:.4f} vs {deciding} "
              f"{point[deciding][metric]:.4f}")
    if best != deciding:
        values += f" (best baseline {best} {point[best][metric]:.4f})"
    direction = "lower" if metric in LOWER_IS_BETTER else "higher"
    p_text = f"< {1 / n_resamples:.2g}" if p_value == 0 else f"= {p_value:.3g}"
    ci_text = (f"{level:.1%} CI of the improvement [{low:+.4f}, {high:+.4f}], "
               f"{test} p {p_text}" if np.isfinite(low) else "no confidence interval")
    head = f"{metric} ({direction} is better) on {n} held-out target rows: {values}; {ci_text}."
    every = "" if n_baselines == 1 else f" and every other of the {n_baselines} baselines"
    if verdict == "positive":
        return (f"POSITIVE transfer: {transferred} is significantly better than {deciding}"
                f"{every}. {head}")
    if verdict == "negative":
        return (f"NEGATIVE TRANSFER: {transferred} is significantly worse than baseline "
                f"{deciding}. {head}")
    if extra is None:
        settle = ("The two are indistinguishable on these rows; more labels would not "
                  "separate an observed difference of zero.")
    else:
        settle = (f"About {extra} more labelled target rows (≈{n + extra} in all) would make "
                  "a difference of this size significant; if the true difference is smaller, "
                  "the models are practically equivalent.")
    return f"INCONCLUSIVE: {transferred} vs {deciding} cannot be told apart. {head} {settle}"
