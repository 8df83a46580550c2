"""Recipes: a YAML-configured transfer pipeline per market pair.

``transferkit run recipes/<name>.yaml`` loads both markets, writes the domain-gap report,
trains the candidate methods, picks one without target labels, checks it against the
source-only and target-only baselines on held-out target rows, and lets the
negative-transfer guard serve the transfer or fall back — loudly.

Examples
--------
>>> recipe = Recipe.from_dict({
...     "name": "demo", "source": {"dataset": "stackoverflow", "market": "United States"},
...     "target": {"dataset": "stackoverflow", "market": "Canada"}})
>>> recipe.validator
'dev'
"""

from __future__ import annotations

from transferkit.recipes.candidates import available_methods, fit_candidate
from transferkit.recipes.config import DataSpec, GuardSpec, Recipe, SplitSpec, load_recipe
from transferkit.recipes.result import RunResult
from transferkit.recipes.runner import load_market, run_recipe

__all__ = [
    "DataSpec",
    "GuardSpec",
    "Recipe",
    "RunResult",
    "SplitSpec",
    "available_methods",
    "fit_candidate",
    "load_market",
    "load_recipe",
    "run_recipe",
]
