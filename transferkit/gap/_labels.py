"""Label shift between markets: class priors, their distance, and BBSE for unlabelled targets."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from transferkit.domain import Domain
from transferkit.exceptions import TransferWarning
from transferkit.metrics import chi2_homogeneity, numeric_shift, total_variation
from transferkit.reweight.label_shift import MAX_CONDITION_NUMBER

__all__ = ["LabelShift", "label_shift", "priors_frame"]

# BBSE needs enough labelled source rows per class for its cross-fitted confusion matrix.
_BBSE_MIN_PER_CLASS = 5
# A BBSE class share this close to 0 or 1 was clipped by the solver: not an estimate.
_BOUNDARY = 1e-3


@dataclass(frozen=True)
class LabelShift:
    """How the label differs between markets.

    Attributes
    ----------
    task : str
        The source Domain's task.
    classes : tuple
        Class labels (classification), empty for regression.
    source_priors : tuple of float
        Class shares among labelled source rows.
    target_priors : tuple of float or None
        Class shares among labelled target rows (None when the target has no labels).
    n_target_labeled : int
    total_variation, pvalue : float
        Distance between ``source_priors`` and ``target_priors`` and the chi-squared test
        (regression: KS statistic and p-value of the label distributions). NaN when the
        target has no labels.
    predicted_priors : tuple of float or None
        Shares of the source model's predicted classes on the target (classify and count).
    bbse_priors : tuple of float or None
        Black-box shift estimate of the target priors from unlabelled target rows.
    bbse_total_variation : float
        Distance between ``source_priors`` and ``bbse_priors``.
    bbse_condition_number : float
        Of BBSE's confusion matrix; above ``MAX_CONDITION_NUMBER`` (30, the threshold BBSE
        itself warns at) the estimate is unreliable.
    bbsd_pvalue : float
        BBSD test (Lipton et al. 2018) for unlabelled targets: chi-squared test that
        held-out source rows and target rows have the same distribution of the source
        classifier's predicted labels. NaN when BBSE did not run.
    notes : tuple of str
    """

    task: str
    classes: tuple
    source_priors: tuple[float, ...]
    target_priors: tuple[float, ...] | None
    n_target_labeled: int
    total_variation: float
    pvalue: float
    predicted_priors: tuple[float, ...] | None
    bbse_priors: tuple[float, ...] | None
    bbse_total_variation: float
    bbse_condition_number: float
    bbsd_pvalue: float
    notes: tuple[str, ...]

    @property
    def test_pvalue(self) -> float:
        """p-value of the test that gates the label-shift severity: the chi-squared test of
        the observed priors when the target is labelled, else BBSD (NaN: no test, so no
        severity is claimed)."""
        if np.isfinite(self.pvalue):
            return self.pvalue
        return self.bbsd_pvalue

    @property
    def bbse_problem(self) -> str | None:
        """Why BBSE's prior estimate is not estimable, in words; None when it is usable.

        Not estimable: BBSE did not run, its confusion matrix is ill-conditioned
        (condition number above ``MAX_CONDITION_NUMBER``), or the estimate sits on the
        boundary (a class share of 0 or 1, where the solver clipped a negative share).
        """
        if self.bbse_priors is None:
            return "BBSE did not run"
        if not self.bbse_condition_number <= MAX_CONDITION_NUMBER:
            return (f"the source classifier's confusion matrix is ill-conditioned (condition "
                    f"number {self.bbse_condition_number:.3g} > {MAX_CONDITION_NUMBER:g})")
        priors = np.asarray(self.bbse_priors, dtype=float)
        if len(priors) >= 2 and (priors.min() <= _BOUNDARY or priors.max() >= 1 - _BOUNDARY):
            return ("the estimate hit the boundary (a class share of 0 or 1): the source "
                    "classifier cannot tell the classes apart well enough on target rows")
        return None

    @property
    def shift_estimate(self) -> float:
        """Best available prior distance: observed when the target is labelled, else BBSE's
        (NaN when BBSE's estimate is not estimable, see ``bbse_problem``)."""
        if np.isfinite(self.total_variation):
            return self.total_variation
        if self.bbse_problem is not None:
            return np.nan
        return self.bbse_total_variation

    def to_dict(self) -> dict:
        return {
            "task": self.task,
            "classes": [_plain(c) for c in self.classes],
            "source_priors": list(self.source_priors),
            "target_priors": None if self.target_priors is None else list(self.target_priors),
            "n_target_labeled": self.n_target_labeled,
            "total_variation": self.total_variation,
            "pvalue": self.pvalue,
            "predicted_priors": None if self.predicted_priors is None
            else list(self.predicted_priors),
            "bbse_priors": None if self.bbse_priors is None else list(self.bbse_priors),
            "bbse_total_variation": self.bbse_total_variation,
            "bbse_condition_number": self.bbse_condition_number,
            "bbsd_pvalue": self.bbsd_pvalue,
            "bbse_estimable": self.bbse_problem is None,
            "bbse_problem": self.bbse_problem,
            "notes": list(self.notes),
        }


def _plain(value: object) -> object:
    return value.item() if hasattr(value, "item") else value


def _shares(labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes.tolist())}
    counts = np.zeros(len(classes))
    for value, count in zip(*np.unique(labels, return_counts=True), strict=True):
        if value in index:
            counts[index[value]] += count
    return counts


def _numeric_matrix(design_source: np.ndarray, design_target: np.ndarray) -> tuple:
    """NaN-free copies for estimators that need finite inputs (missing -> source median)."""
    medians = np.nanmedian(np.where(np.isnan(design_source).all(axis=0), 0.0, design_source),
                           axis=0)
    medians = np.nan_to_num(medians)
    fill = np.broadcast_to(medians, design_source.shape)
    source = np.where(np.isnan(design_source), fill, design_source)
    target = np.where(np.isnan(design_target),
                      np.broadcast_to(medians, design_target.shape), design_target)
    return source, target


def label_shift(
    source: Domain,
    target: Domain,
    *,
    source_X: np.ndarray,
    target_X: np.ndarray,
    source_model: BaseEstimator | None,
    categorical: np.ndarray | None = None,
    random_state: int,
) -> LabelShift | None:
    """Label-shift section of the report; None when the source has no labels.

    ``source_X`` / ``target_X`` are the numeric design rows (labelled source rows and target
    rows) used for BBSE when no prefit ``source_model`` is given; ``categorical`` marks
    their category-code columns.
    """
    if source.schema.label is None or source.n_labeled == 0:
        return None
    notes: list[str] = []
    target_labels = (target.labeled().y if target.schema.label is not None and target.n_labeled
                     else None)
    if not source.is_classification:
        if target_labels is None:
            return LabelShift(source.task or "regression", (), (), None, 0, np.nan, np.nan,
                              None, None, np.nan, np.nan, np.nan, ("target has no labels",))
        shift = numeric_shift(np.asarray(source.labeled().y, float).reshape(-1, 1),
                              np.asarray(target_labels, float).reshape(-1, 1))
        return LabelShift(source.task or "regression", (), (), None, len(target_labels),
                          float(shift.ks_statistic[0]), float(shift.ks_pvalue[0]), None, None,
                          np.nan, np.nan, np.nan, ("regression label compared with a KS test",))
    y_source = source.labeled().y
    classes = np.unique(y_source if target_labels is None
                        else np.concatenate([y_source, target_labels]))
    counts_s = _shares(y_source, classes)
    source_priors = counts_s / counts_s.sum()
    target_priors, tv, pvalue = None, np.nan, np.nan
    if target_labels is not None:
        counts_t = _shares(target_labels, classes)
        target_priors = counts_t / counts_t.sum()
        tv = total_variation(counts_s, counts_t)
        pvalue = chi2_homogeneity(counts_s, counts_t)[1]
        unseen = classes[(counts_s == 0) & (counts_t > 0)]
        if unseen.size:
            notes.append(f"target classes never seen in the source: {unseen.tolist()}")
    bbse_priors, bbse_tv, condition, predicted, bbsd = None, np.nan, np.nan, None, np.nan
    per_class = np.bincount(np.searchsorted(classes, y_source), minlength=len(classes))
    present = per_class[per_class > 0]
    if present.size >= 2 and present.min() >= _BBSE_MIN_PER_CLASS:
        try:
            # BBSE's own warnings (an ill-conditioned confusion matrix) become report notes.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TransferWarning)
                estimate, target_used = _bbse(source_X, y_source, target_X, source_model,
                                              categorical, random_state)
        except (ValueError, TypeError) as exc:
            notes.append(f"BBSE skipped: {exc}")
            warnings.warn(f"gap_report: BBSE skipped: {exc}", TransferWarning, stacklevel=3)
        else:
            order = np.searchsorted(classes, estimate.classes_)
            bbse = np.zeros(len(classes))
            bbse[order] = estimate.target_priors_
            bbse_priors = bbse
            bbse_tv = total_variation(source_priors, bbse)
            condition = float(estimate.condition_number_)
            bbsd = float(estimate.shift_pvalue_)
            proba = estimate.estimator_.predict_proba(target_used)
            counts_p = _shares(estimate.classes_[np.argmax(proba, axis=1)], classes)
            predicted = counts_p / counts_p.sum()
            if condition > MAX_CONDITION_NUMBER:
                notes.append(f"BBSE confusion matrix is ill-conditioned ({condition:.0f}); "
                             "its prior estimate is unreliable")
    else:
        notes.append(f"BBSE skipped: needs >= {_BBSE_MIN_PER_CLASS} labelled source rows in "
                     "each of at least two classes")

    def as_tuple(values: np.ndarray | None) -> tuple[float, ...] | None:
        return None if values is None else tuple(float(v) for v in values)

    return LabelShift(
        task=str(source.task), classes=tuple(_plain(c) for c in classes),
        source_priors=as_tuple(source_priors), target_priors=as_tuple(target_priors),
        n_target_labeled=0 if target_labels is None else len(target_labels),
        total_variation=float(tv), pvalue=float(pvalue), predicted_priors=as_tuple(predicted),
        bbse_priors=as_tuple(bbse_priors), bbse_total_variation=float(bbse_tv),
        bbse_condition_number=condition, bbsd_pvalue=bbsd, notes=tuple(notes),
    )


def _bbse(
    source_X: np.ndarray, y_source: np.ndarray, target_X: np.ndarray,
    source_model: BaseEstimator | None, categorical: np.ndarray | None, random_state: int,
) -> tuple[BaseEstimator, np.ndarray]:
    from transferkit.reweight import BBSE

    if source_model is not None:
        # The source rows are the held-out rows of a prefit model (see gap_report).
        estimate = BBSE(source_model, prefit=True).fit(source_X, y_source, X_target=target_X)
        return estimate, target_X
    source, target = _numeric_matrix(source_X, target_X)
    model = None  # BBSE's default: standardised logistic regression, best for numeric rows.
    if categorical is not None and categorical.any():
        from sklearn.ensemble import HistGradientBoostingClassifier

        # Category codes are not ordered: gradient boosting splits them natively.
        model = HistGradientBoostingClassifier(max_iter=100, early_stopping=False,
                                               categorical_features=categorical,
                                               random_state=random_state)
    estimate = BBSE(model, random_state=random_state).fit(source, y_source, X_target=target)
    return estimate, target


def priors_frame(shift: LabelShift) -> pd.DataFrame:
    """Class priors per market (and BBSE's estimate) as a table, one row per class.

    BBSE's column is NaN when its estimate is not estimable (``shift.bbse_problem``).
    """
    frame = pd.DataFrame({"source": shift.source_priors}, index=list(shift.classes))
    for name, values in (("target", shift.target_priors), ("predicted", shift.predicted_priors),
                         ("bbse", shift.bbse_priors)):
        if values is not None:
            frame[name] = np.nan if name == "bbse" and shift.bbse_problem else values
    frame.index.name = "class"
    return frame
