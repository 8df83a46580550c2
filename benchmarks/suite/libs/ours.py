"""transferkit's methods behind the suite's adapter contract (library name ``ours``).

Every method is built by the pipeline factory with its defaults, as a user gets it
(``create(name, task=..., random_state=seed)``); the aligners' defaults are the shared
network of the suite (MLP 256, dropout 0.2, AdamW 1e-3 / 1e-4, batch 64, 20 epochs), so
only ``epochs`` (``--quick``) and ``device`` are passed on. ``served`` is what
``transferkit run`` serves for this split: the recipe's default candidates, chosen the
recipe's way (cross-validation on the labelled target rows when there are at least 20 of
them, the label-free ``domain_auc`` validator otherwise), then refitted on every source
row. ``choice_study`` (a study, not a method) fits one pool of label-free candidates
once and records, for every validator and candidate pool, which candidate it would pick
and that candidate's target accuracy: the evidence for the recipe's label-free default.
``target_oracle`` is the ceiling, not a method: a linear model cross-fitted on every
target label (the only adapter code that reads them).
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import numpy as np

from benchmarks.suite.contract import Split

REWEIGHTERS = ("discriminative", "kmm", "kliep", "ulsif")
METHODS = {
    "uda": ("source_only", "nn_source_only", "dann", "cdan", "cdan_e", "deep_coral", "mmd",
            *REWEIGHTERS, "served", "target_oracle", "choice_study"),
    "fewlabel": ("source_only", "target_only", "pooled", "weighted_pooled",
                 "regular_transfer", "feature_augmentation", "stacking", "tradaboost",
                 "tradaboost_r2", "two_stage_tradaboost_r2", "served"),
    "weights": REWEIGHTERS,
    "gap": ("gap_report",),
}
TASKS = {"tradaboost": ("classification",), "tradaboost_r2": ("regression",),
         "two_stage_tradaboost_r2": ("regression",), "target_oracle": ("classification",
                                                                        "regression")}


def versions() -> dict[str, str]:
    return {name: metadata.version(name) for name in ("transferkit", "torch", "scikit-learn")}


def set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def warm_up(kind: str) -> None:
    """Import what the timed calls use, so import time is not counted."""
    import transferkit.gap  # noqa: F401
    import transferkit.pipeline  # noqa: F401
    import transferkit.recipes.steps  # noqa: F401


def _task(split: Split) -> str:
    if split.task == "regression":
        return "regression"
    return "binary" if split.n_classes == 2 else "multiclass"


def _domains(split: Split) -> tuple[Any, Any]:
    from transferkit import Domain

    source = Domain.from_arrays(split.X_source, split.y_source, name="source",
                                task=_task(split))
    y_visible = np.where(split.labeled, split.y_target, np.nan)
    target = Domain.from_arrays(split.X_target, y_visible, name="target", task=_task(split),
                                allow_unlabeled=True)
    return source, target


def _new(name: str, task: str, seed: int, params: dict) -> Any:
    from transferkit.pipeline import METHODS as REGISTRY
    from transferkit.pipeline import create

    extra: dict[str, Any] = {}
    if REGISTRY.get(name).family in ("align", "finetune"):
        extra["train"] = {"progress": False, "device": params.get("device", "cpu"),
                          **({"epochs": params["epochs"]} if "epochs" in params else {})}
    return create(name, task=task, random_state=seed, **extra)


def _served(split: Split, source: Any, target: Any, seed: int, params: dict) -> Any:
    from transferkit.recipes import Recipe
    from transferkit.recipes.steps import FeaturizedParts, choose, default_methods

    task = _task(split)
    recipe = Recipe.from_dict({
        "name": "benchmark", "seed": seed,
        "source": {"dataset": "benchmark", "market": "source"},
        "target": {"dataset": "benchmark", "market": "target"}})
    source_train, source_validation = source.split(recipe.split.source_validation, seed=seed)
    parts = FeaturizedParts(None, source_train, source_validation, target, target)
    names = default_methods(task, int(split.labeled.sum()))
    candidates = {name: _new(name, task, seed, params).fit(source_train, target)
                  for name in names}
    chosen = choose(recipe, parts, candidates, progress=False).best_name
    return _new(chosen, task, seed, params).fit(source, target), chosen


def predict(method: str, split: Split, seed: int, params: dict) -> np.ndarray:
    if method == "target_oracle":
        return _oracle(split, seed)
    if method == "choice_study":
        return _choice_study(split, seed, params)
    source, target = _domains(split)
    if method == "served":
        model, chosen = _served(split, source, target, seed, params)
        return np.asarray(model.predict(target.X)), {"chosen": chosen}
    model = _new(method, _task(split), seed, params).fit(source, target)
    return np.asarray(model.predict(target.X))


STUDY_POOLS = {
    "recipe": None,  # the recipe's label-free default candidates
    "former": ("source_only", "discriminative", "kmm", "dann", "deep_coral"),  # until 12-04
    "networks": ("nn_source_only", "dann", "cdan", "deep_coral", "mmd"),
    "all": ("source_only", "nn_source_only", "discriminative", "kmm", "dann", "cdan",
            "deep_coral", "mmd"),
}
STUDY_VALIDATORS = ("domain_auc", "dev", "iwcv", "snd", "entropy")


def _choice_study(split: Split, seed: int, params: dict) -> tuple[np.ndarray, dict]:
    """Every validator's pick in every pool, with the pick's accuracy on the target rows.

    Candidates are trained on the recipe's 80 % source split (no refit), the validators
    see the other 20 % and the unlabelled target; accuracies use the target labels, so
    this is an evaluation, never a method. Returns the recipe pool's domain_auc pick.
    """
    from transferkit.recipes.steps import default_methods

    source, target = _domains(split)
    task = _task(split)
    source_train, source_validation = source.split(0.2, seed=seed)
    pools = {k: v or default_methods(task, 0) for k, v in STUDY_POOLS.items()}
    names = list(dict.fromkeys(n for pool in pools.values() for n in pool))
    fitted = {n: _new(n, task, seed, params).fit(source_train, target) for n in names}
    predictions = {n: np.asarray(m.predict(target.X)) for n, m in fitted.items()}
    accuracy = {n: float(np.mean(p == split.y_target)) for n, p in predictions.items()}
    # Validators score each candidate on its own, so one table per validator serves every
    # pool: a pool's pick is its best reliable member, domain_auc's when there is none (as
    # select_model's fallback does).
    scores, errors = _validator_scores(fitted, target, source_validation)
    picks: dict[str, dict[str, list]] = {pool: {} for pool in pools}
    for pool, members in pools.items():
        for validator in STUDY_VALIDATORS:
            if validator in errors:
                picks[pool][validator] = [f"error: {errors[validator]}"[:80], None]
                continue
            chosen = (_best(scores[validator], members)
                      or _best(scores.get("domain_auc", {}), members))
            picks[pool][validator] = ([chosen, accuracy[chosen]] if chosen else
                                      ["error: no candidate scored reliably", None])
        chosen = _consensus(scores, members)
        picks[pool]["consensus"] = [chosen, accuracy[chosen]]
        vote = _soft_vote([fitted[n] for n in members], target.X)
        picks[pool]["soft_vote"] = ["soft_vote", float(np.mean(vote == split.y_target))]
    served = picks["recipe"]["domain_auc"][0]
    return predictions[served], {"candidates": accuracy, "picks": picks, "scores": scores,
                                 "pools": {k: list(v) for k, v in pools.items()}}


def _validator_scores(fitted: dict, target: Any,
                      source_validation: Any) -> tuple[dict, dict[str, str]]:
    """Every validator's score for every candidate, oriented so that higher is better.

    Kept in the rows so that a new choice rule can be evaluated without retraining; an
    unreliable score is ``None``. Also returns the error of each validator that could not
    score at all.
    """
    import warnings

    from transferkit.detect import select_model

    scores: dict[str, dict[str, float | None]] = {}
    errors: dict[str, str] = {}
    for validator in STUDY_VALIDATORS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                selection = select_model(fitted, validator, target=target,
                                         source=source_validation)
            except ValueError as exc:
                errors[validator] = str(exc)
                continue
        sign = 1.0 if selection.greater_is_better else -1.0
        scores[validator] = {n: (None if v != v else sign * float(v))
                             for n, v in selection.table["score"].items()}
    return scores, errors


def _best(table: dict[str, float | None], members: list[str]) -> str | None:
    """The member with the highest reliable score (the first on ties), or None."""
    scored = [n for n in members if table.get(n) is not None]
    return max(scored, key=lambda n: table[n]) if scored else None


def _consensus(scores: dict, members: list[str]) -> str:
    """The candidate with the best mean rank over the validators (a rank-vote rule)."""
    ranks = {n: 0.0 for n in members}
    for table in scores.values():
        ordered = sorted(members, key=lambda n: -np.inf if table[n] is None else table[n],
                         reverse=True)
        for rank, n in enumerate(ordered):
            ranks[n] += rank
    return min(members, key=lambda n: (ranks[n], members.index(n)))


def _soft_vote(models: list, X: np.ndarray) -> np.ndarray:
    """Labels of the averaged class probabilities of ``models`` (an ensemble rule)."""
    first = models[0]
    proba = np.mean([m.predict_proba(X) for m in models], axis=0)
    return np.asarray(first.classes_)[proba.argmax(axis=1)]


def _oracle(split: Split, seed: int) -> np.ndarray:
    """The ceiling: a linear model cross-fitted (5 folds) on every target label."""
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if split.task == "regression":
        model, folds = RidgeCV(alphas=np.logspace(-2, 4, 13)), KFold(5, shuffle=True,
                                                                     random_state=seed)
    else:
        model = LogisticRegression(max_iter=2000)
        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    return cross_val_predict(make_pipeline(StandardScaler(), model), split.X_target,
                             split.y_target, cv=folds)


def weights(method: str, X_source: np.ndarray, X_target: np.ndarray, seed: int) -> np.ndarray:
    from transferkit.reweight import REWEIGHTERS as REGISTRY

    cls = REGISTRY.get(method)
    X = np.concatenate([X_source, X_target])
    is_target = np.r_[np.zeros(len(X_source), dtype=int), np.ones(len(X_target), dtype=int)]
    weighter = cls(random_state=seed) if "random_state" in cls().get_params() else cls()
    return weighter.fit(X, is_target).weights_


def gap(method: str, source: Any, target: Any) -> list[str]:
    """Columns ``gap_report`` flags as shifted (its defaults)."""
    from transferkit import Domain
    from transferkit.gap import gap_report

    report = gap_report(Domain.from_frame(source, name="source"),
                        Domain.from_frame(target, name="target"))
    table = report.features
    return table.index[table["shifted"]].tolist()
