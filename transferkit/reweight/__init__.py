"""Instance reweighting: weight source-market rows by how much they look like the target.

Covariate-shift reweighters (all in ``REWEIGHTERS``) estimate ``p_target(x) / p_source(x)``:
``DiscriminativeRatio``, ``KMM``, ``KLIEP`` and ``ULSIF`` (RuLSIF with ``alpha > 0``).
Label-shift estimators ``BBSE`` and ``MLLS`` estimate ``p_target(y) / p_source(y)``.
``ReweightedEstimator`` trains any sklearn model with the weights; ``weight_report`` and
``effective_sample_size`` say whether the weights can be trusted.

Examples
--------
>>> import numpy as np
>>> from transferkit.reweight import REWEIGHTERS
>>> REWEIGHTERS.names()
['discriminative', 'kliep', 'kmm', 'ulsif']
"""

from __future__ import annotations

from transferkit.reweight.base import REWEIGHTERS, BaseReweighter
from transferkit.reweight.diagnostics import (
    WeightReport,
    effective_sample_size,
    weight_report,
)
from transferkit.reweight.discriminative import DiscriminativeRatio
from transferkit.reweight.estimator import ReweightedEstimator, sample_weight_params
from transferkit.reweight.kliep import KLIEP
from transferkit.reweight.kmm import KMM
from transferkit.reweight.label_shift import BBSE, MLLS, LabelShiftEstimator
from transferkit.reweight.ulsif import ULSIF

__all__ = [
    "BBSE",
    "KLIEP",
    "KMM",
    "MLLS",
    "REWEIGHTERS",
    "ULSIF",
    "BaseReweighter",
    "DiscriminativeRatio",
    "LabelShiftEstimator",
    "ReweightedEstimator",
    "WeightReport",
    "effective_sample_size",
    "sample_weight_params",
    "weight_report",
]
