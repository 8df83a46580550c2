"""Negative-transfer detection: know before and after training whether transfer helps.

- **Before training** — transferability scores on a few labelled target rows:
  :func:`logme`, :func:`leep`, :func:`h_score`, :func:`nce`, and :func:`rank_sources` to
  rank candidate source markets or backbones.
- **Without target labels** — unsupervised validators (``VALIDATORS``: ``iwcv``, ``dev``,
  ``snd``, ``entropy``, ``domain_auc``) and :func:`select_model`.
- **After training** — :func:`compare` (bootstrap intervals, paired test, verdict
  positive / negative / inconclusive, per-class and per-segment breakdown) and
  :class:`NegativeTransferGuard`, which falls back to the best baseline, loudly.

detect never trains: models arrive fitted (scikit-learn estimators taking arrays, or
transferkit trainers taking Domains).

Examples
--------
>>> import numpy as np
>>> from transferkit import detect
>>> detect.leep(np.eye(2)[[0, 1, 1]], [0, 1, 1])
0.0
"""

from __future__ import annotations

from transferkit.detect.budget import LabelBudgetCurve, label_budget_curve
from transferkit.detect.compare import MIN_ROWS_FOR_CI, TransferVerdict, Verdict, compare
from transferkit.detect.crossval import LabelSelection, select_with_labels
from transferkit.detect.guard import NegativeTransferGuard
from transferkit.detect.selection import ModelSelection, select_model
from transferkit.detect.transferability import SCORES, h_score, leep, logme, nce, rank_sources
from transferkit.detect.validators import (
    VALIDATORS,
    DEVValidator,
    DomainAUCValidator,
    EntropyValidator,
    IWCVValidator,
    SNDValidator,
    Validator,
    ValidatorScore,
)

__all__ = [
    "MIN_ROWS_FOR_CI",
    "SCORES",
    "VALIDATORS",
    "DEVValidator",
    "DomainAUCValidator",
    "EntropyValidator",
    "IWCVValidator",
    "LabelBudgetCurve",
    "LabelSelection",
    "ModelSelection",
    "NegativeTransferGuard",
    "SNDValidator",
    "TransferVerdict",
    "Validator",
    "ValidatorScore",
    "Verdict",
    "compare",
    "h_score",
    "label_budget_curve",
    "leep",
    "logme",
    "nce",
    "rank_sources",
    "select_model",
    "select_with_labels",
]
