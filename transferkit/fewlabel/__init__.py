"""Few-label transfer: methods that learn from the labelled target rows a user has.

Every method is registered in ``FEWLABEL`` and follows one contract:
``fit(source, target)`` with a fully labelled source Domain and a target Domain holding
some labelled rows (and maybe unlabelled ones), then ``predict`` / ``predict_proba`` on
arrays or Domains. Hyperparameters are tuned by cross-validation inside the labelled
target rows. Choose between methods with ``transferkit.detect.select_with_labels``.

- ``source_only``, ``target_only`` — the two reference points.
- ``pooled`` — source + target rows, the target share of the weight tuned by CV.
- ``weighted_pooled`` — the same with importance-weighted source rows (a reweighter is
  passed in).
- ``regular_transfer`` — a linear model regularised towards the source model
  (Chelba & Acero, 2006).
- ``feature_augmentation`` — Daumé (2007).
- ``tradaboost`` (classification), ``tradaboost_r2`` and ``two_stage_tradaboost_r2``
  (regression) — Dai et al. (2007), Pardoe & Stone (2010).
- ``stacking`` — the source model's output as offset and feature of a target model.

Examples
--------
>>> import numpy as np
>>> from transferkit import Domain
>>> from transferkit.fewlabel import FEWLABEL
>>> rng = np.random.default_rng(0)
>>> X_s, X_t = rng.normal(size=(200, 3)), rng.normal(size=(40, 3)) + 0.5
>>> source = Domain.from_arrays(X_s, (X_s[:, 0] > 0).astype(int), name="us")
>>> target = Domain.from_arrays(X_t, (X_t[:, 0] > 0.5).astype(int), name="jp")
>>> model = FEWLABEL.get("regular_transfer")(random_state=0).fit(source, target)
>>> model.predict_proba(target).shape
(40, 2)
"""

from __future__ import annotations

from transferkit.fewlabel.augmentation import FeatureAugmentation
from transferkit.fewlabel.base import FEWLABEL, BaseFewLabel
from transferkit.fewlabel.baselines import SourceOnly, TargetOnly
from transferkit.fewlabel.pooled import PooledTransfer, WeightedPooledTransfer
from transferkit.fewlabel.regular import RegularTransfer
from transferkit.fewlabel.stacking import SourceStacking
from transferkit.fewlabel.tradaboost import TrAdaBoost, TrAdaBoostR2, TwoStageTrAdaBoostR2

__all__ = [
    "FEWLABEL",
    "BaseFewLabel",
    "FeatureAugmentation",
    "PooledTransfer",
    "RegularTransfer",
    "SourceOnly",
    "SourceStacking",
    "TargetOnly",
    "TrAdaBoost",
    "TrAdaBoostR2",
    "TwoStageTrAdaBoostR2",
    "WeightedPooledTransfer",
]
