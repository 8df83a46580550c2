"""The bundled recipes as ``transferkit run`` runs them (library name ``ours_recipes``).

One job per recipe: the whole run (load, split, featurize, gap, candidates, choice,
verdict, guard) in memory, nothing saved. The figures are the README's: what is served,
the verdict, and the held-out score of the served model and of each baseline.
"""

from __future__ import annotations

from importlib import metadata

METHODS = {"recipes": ("run",)}
RECIPES = ("stackoverflow_us_to_germany_salary", "stackoverflow_us_to_india_salary_guard")


def versions() -> dict[str, str]:
    return {name: metadata.version(name) for name in ("transferkit", "torch", "scikit-learn")}


def set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def custom(method: str, item: dict, params: dict) -> dict:
    from transferkit.recipes import find_recipe, load_recipe
    from transferkit.recipes.runner import run_recipe

    if method != "run":
        raise ValueError(f"unknown method {method!r}; known: {METHODS['recipes']}")
    result = run_recipe(load_recipe(find_recipe(item["id"])), save=False,
                        progress=False)
    verdict = result.verdict.to_dict()
    scores: dict[str, dict[str, float]] = {}
    for row in verdict["scores"] or []:  # long format: one row per model and metric
        scores.setdefault(row["model"], {})[row["metric"]] = row["value"]
    return {"metric": verdict["metric"], "served": result.served,
            "chosen": result.chosen_method, "fell_back": bool(result.fell_back),
            "verdict": verdict["verdict"], "p_value": verdict["p_value"],
            "n_target_test": int(result.counts["target_test"]), "scores": scores}
