"""Names of the registered methods and validators, readable without importing torch.

``transferkit validate`` and ``transferkit --help`` must answer in about a second, before
torch (seconds to import) is loaded, so recipe names are checked against these lists.
``tests/test_catalog.py`` asserts that they equal the registries, so they cannot drift.

Examples
--------
>>> "kmm" in METHOD_NAMES and "dev" in VALIDATOR_NAMES
True
"""

from __future__ import annotations

__all__ = ["METHOD_NAMES", "VALIDATOR_NAMES"]

METHOD_NAMES: tuple[str, ...] = (
    "bbse", "cdan", "cdan_e", "dann", "deep_coral", "discriminative", "feature_augmentation",
    "finetune_l2sp", "finetune_lp_ft", "finetune_probe", "kliep", "kmm", "mlls", "mmd",
    "nn_source_only", "pooled", "regular_transfer", "source_only", "stacking", "target_only",
    "tradaboost", "tradaboost_r2", "two_stage_tradaboost_r2", "ulsif", "weighted_pooled",
)
VALIDATOR_NAMES: tuple[str, ...] = ("dev", "domain_auc", "entropy", "iwcv", "snd")
