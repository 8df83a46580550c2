"""Fit one candidate transfer method by name: the only place that knows every family.

A name is ``source_only`` (the recipe's scikit-learn model on source rows), a reweighter in
``REWEIGHTERS`` (that model trained on reweighted source rows), an aligner in ``ALIGNERS``
(a neural network trained by the shared trainer), or ``nn_source_only``: the aligners'
network trained on source rows alone, the fair baseline for them.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from sklearn.base import BaseEstimator

from transferkit.align import ALIGNERS
from transferkit.baselines import make_model
from transferkit.domain import Domain
from transferkit.exceptions import RecipeError
from transferkit.reweight import REWEIGHTERS, ReweightedEstimator
from transferkit.training import TrainConfig

__all__ = ["available_methods", "fit_candidate"]

# Aligners train for a fixed budget chosen for tabular features on a CPU; a recipe
# overrides any of these under method_params: {dann: {train: {epochs: ...}}}.
_ALIGNER_TRAINING: dict[str, Any] = {"epochs": 30, "batch_size": 64, "lr": 1e-3,
                                     "weight_decay": 1e-4}


_NEURAL_SOURCE_ONLY = "nn_source_only"


def available_methods() -> list[str]:
    """Every name a recipe may list under ``methods``."""
    aligners = {_NEURAL_SOURCE_ONLY if n == "source_only" else n for n in ALIGNERS.names()}
    return sorted({"source_only", *REWEIGHTERS.names(), *aligners})


def fit_candidate(
    name: str,
    params: Mapping[str, Any],
    *,
    model: str,
    task: str,
    source: Domain,
    target: Domain,
    seed: int,
    progress: bool,
) -> BaseEstimator:
    """Train candidate ``name`` on labelled ``source`` rows and unlabelled ``target`` rows.

    Returns a fitted estimator with ``predict`` / ``predict_proba`` on arrays or Domains.
    """
    params = dict(params)
    if name == "source_only":
        if params:
            raise RecipeError(f"'source_only' takes no parameters; got {sorted(params)}.")
        labelled = source.labeled()
        return make_model(model, task, seed).fit(labelled.X, labelled.y)
    if name in REWEIGHTERS:
        weighter = REWEIGHTERS.get(name)(**params)
        return ReweightedEstimator(make_model(model, task, seed), weighter).fit(source, target)
    if name == _NEURAL_SOURCE_ONLY or (name in ALIGNERS and name != "source_only"):
        aligner = "source_only" if name == _NEURAL_SOURCE_ONLY else name
        training = {**_ALIGNER_TRAINING, **dict(params.pop("train", {}) or {})}
        config = TrainConfig(**training, seed=seed, progress=progress)
        return ALIGNERS.get(aligner)(config=config, **params).fit(source, target)
    close = difflib.get_close_matches(name, available_methods(), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise RecipeError(
        f"Unknown method {name!r}.{hint} Available: {', '.join(available_methods())}."
    )
