"""Experience replay across markets: the forgetting check and what replay buys."""

from __future__ import annotations

import numpy as np
import pytest

from transferkit.domain import Domain
from transferkit.meta import ReplayLearner, TaskSampler
from transferkit.training import TrainConfig

CONFIG = TrainConfig(epochs=15, batch_size=16, lr=1e-2, optimizer="adam", progress=False)


def _conflicting_markets() -> TaskSampler:
    """Markets in different regions of feature space whose label rules disagree, so
    learning a later market alone overwrites the earlier ones."""
    rng = np.random.default_rng(0)
    markets = {}
    for i, sign in enumerate([1.0, -1.0, 1.0, -1.0]):
        X = rng.normal(size=(80, 2)) + [1.5 * i, 0.0]
        markets[f"m{i}"] = Domain.from_arrays(X, sign * 2 * X[:, 1], name=f"m{i}")
    return TaskSampler(markets, k_shot=5, n_query=5)


def test_replay_forgets_less_than_sequential_fine_tuning() -> None:
    tasks = _conflicting_markets()
    plain = ReplayLearner(hidden=(32, 32), replay_fraction=0.0, config=CONFIG).meta_fit(tasks)
    replay = ReplayLearner(hidden=(32, 32), replay_fraction=0.6, config=CONFIG).meta_fit(tasks)
    first = tasks.names[0]
    assert plain.forgetting_.loc[first, "forgetting"] > 0.2, "no forgetting to prevent"
    assert replay.forgetting_.loc[first, "forgetting"] < \
        0.5 * plain.forgetting_.loc[first, "forgetting"]
    assert replay.forgetting_.loc[tasks.names[-1], "forgetting"] == 0.0
    assert np.isnan(replay.losses_.loc[first, tasks.names[1]])
    assert len(replay.history_) == CONFIG.epochs * len(tasks)


def test_replay_adapts_like_the_fine_tuned_pool_and_checks_its_input() -> None:
    tasks = _conflicting_markets()
    replay = ReplayLearner(hidden=(8,), buffer_size=50, config=CONFIG).meta_fit(tasks)
    assert replay.evaluate(tasks).n_tasks == len(tasks)
    with pytest.raises(TypeError, match="needs a TaskSampler"):
        ReplayLearner(config=CONFIG).meta_fit(tasks.episodes(3))
    with pytest.raises(ValueError, match="'replay_fraction' parameter"):
        ReplayLearner(replay_fraction=1.0, config=CONFIG).meta_fit(tasks)
