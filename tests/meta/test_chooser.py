"""The chooser: a paired verdict with CIs and costs, cheapest not significantly worse."""

from __future__ import annotations

import json

import numpy as np

from transferkit.domain import Domain
from transferkit.meta import (
    MAML,
    FromScratch,
    PooledModel,
    PooledOffset,
    TaskSampler,
    choose_learner,
)

from ._data import FAST, offset_users


def _candidates(train):
    kwargs = dict(hidden=(16,), episodes_per_epoch=40, config=FAST)
    return [PooledModel(**kwargs).meta_fit(train), PooledOffset(**kwargs).meta_fit(train),
            MAML(inner_lr=0.1, inner_steps=2, **kwargs).meta_fit(train),
            FromScratch(hidden=(16,), steps=30).meta_fit(train)]


def test_offset_tasks_refuse_the_unadapted_pool_and_explain_why() -> None:
    train, _, held_out = TaskSampler(offset_users(24), k_shot=10, n_query=10).split(2, 10)
    choice = choose_learner(_candidates(train), held_out, k_shot=10)
    table = choice.table
    assert table.loc["pooled", "worse_than_best"], "the unadapted pool should lose"
    assert choice.chosen != "pooled"
    assert not table.loc[choice.chosen, "worse_than_best"]
    cheaper = table[table["cost_rank"] < table.loc[choice.chosen, "cost_rank"]]
    assert cheaper["worse_than_best"].all()
    assert choice.chosen in choice.reason and "held-out tasks" in choice.reason
    assert {"adapt_ms", "fit_s", "diff_ci_low", "diff_ci_high"} <= set(table.columns)
    assert json.loads(choice.to_json())["chosen"] == choice.chosen


def test_equal_candidates_fall_back_to_the_cheapest_and_refuse_meta() -> None:
    rng = np.random.default_rng(0)
    flat = {}
    for i in range(16):
        X = rng.normal(size=(30, 2))
        flat[f"u{i}"] = Domain.from_arrays(X, X[:, 0] + rng.normal(0, 0.5, 30), name=f"u{i}")
    train, _, held_out = TaskSampler(flat, k_shot=5, n_query=10).split(2, 8)
    candidates = _candidates(train)[:3]
    X, y = held_out.task_arrays(held_out.names[0])
    choice = choose_learner(candidates, held_out, k_shot=5, support=(X[:5], y[:5]))
    assert "cv_mae" in choice.table.columns
    # No per-user offsets: the estimated shrinkage turns pooled_offset into pooled, and
    # MAML is not significantly better, so the cheapest candidate wins.
    assert choice.chosen == "pooled" and not choice.table["worse_than_best"].any()
    assert choice.refuses_meta and "refused" in choice.reason
