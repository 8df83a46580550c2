"""Recipes: a YAML-configured transfer pipeline per market pair.

``transferkit run <name>`` (a bundled recipe, see ``transferkit list recipes``) or
``transferkit run path.yaml`` loads both markets, writes the domain-gap report, trains the
candidate methods, picks one, checks it against the source-only and target-only baselines
on held-out target rows, and lets the negative-transfer guard serve the transfer or fall
back — loudly. The run folder holds the served ``TransferPipeline`` (``model/``) beside
the reports. Reading and validating a recipe imports no torch (names load on first use).

Examples
--------
>>> recipe = Recipe.from_dict({
...     "name": "demo", "source": {"dataset": "stackoverflow", "market": "United States"},
...     "target": {"dataset": "stackoverflow", "market": "Canada"}})
>>> recipe.validator
'domain_auc'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from transferkit.recipes.config import (
    DataSpec,
    GuardSpec,
    Recipe,
    SplitSpec,
    bundled_recipes,
    find_recipe,
    load_recipe,
)

if TYPE_CHECKING:
    from transferkit.recipes.result import RunResult
    from transferkit.recipes.runner import check_run_folder, run_recipe
    from transferkit.recipes.steps import load_market

_LAZY: dict[str, str] = {
    "RunResult": "transferkit.recipes.result",
    "check_run_folder": "transferkit.recipes.runner",
    "run_recipe": "transferkit.recipes.runner",
    "load_market": "transferkit.recipes.steps",
}

__all__ = [
    "DataSpec",
    "GuardSpec",
    "Recipe",
    "RunResult",
    "SplitSpec",
    "bundled_recipes",
    "check_run_folder",
    "find_recipe",
    "load_market",
    "load_recipe",
    "run_recipe",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'transferkit.recipes' has no attribute {name!r}")
