"""Calibration of a classifier's probabilities on labelled rows, as a small table."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = ["calibration_table"]


def calibration_table(y_true: ArrayLike, proba: ArrayLike, classes: Sequence[object], *,
                      n_bins: int = 10) -> pd.DataFrame:
    """Predicted probability against observed frequency, in equal-width bins.

    Binary tasks use the probability of the last (positive) class; multiclass tasks the
    confidence of the predicted class against how often it is right. Empty bins are left
    out.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    proba : array-like of shape (n_samples, n_classes)
    classes : sequence
        Column order of ``proba``.
    n_bins : int, default=10

    Returns
    -------
    DataFrame
        One row per non-empty bin: ``low``, ``high``, ``n``, ``predicted`` (mean predicted
        probability) and ``observed`` (observed frequency); ``attrs["event"]`` names what
        the probability is of.

    Examples
    --------
    >>> import numpy as np
    >>> proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.1, 0.9]])
    >>> table = calibration_table([0, 0, 1, 1], proba, [0, 1], n_bins=2)
    >>> table["n"].tolist(), table["observed"].tolist()
    ([2, 2], [0.0, 1.0])
    """
    if not (isinstance(n_bins, int) and n_bins >= 2):
        raise ValueError(f"calibration_table needs n_bins an int >= 2; got {n_bins!r}.")
    y = np.asarray(y_true)
    p = np.asarray(proba, dtype=float)
    classes = list(classes)
    if p.ndim != 2 or p.shape != (len(y), len(classes)):
        raise ValueError(f"calibration_table: proba has shape {p.shape}; expected "
                         f"({len(y)}, {len(classes)}) for {len(y)} rows and classes {classes}.")
    if len(classes) == 2:
        score = p[:, 1]
        hit = (y == classes[1]).astype(float)
        event = f"label = {classes[1]}"
    else:
        score = p.max(axis=1)
        hit = (np.asarray(classes, dtype=object)[p.argmax(axis=1)] == y).astype(float)
        event = "predicted class is right"
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            rows.append({"low": float(edges[b]), "high": float(edges[b + 1]),
                         "n": int(inside.sum()), "predicted": float(score[inside].mean()),
                         "observed": float(hit[inside].mean())})
    table = pd.DataFrame(rows, columns=["low", "high", "n", "predicted", "observed"])
    table.attrs["event"] = event
    return table
