"""The mandatory baselines: pooled, pooled + head, pooled + shrunk offset, from scratch."""

from __future__ import annotations

import numpy as np
import pytest

from transferkit.domain import Domain
from transferkit.meta import (
    FromScratch,
    PooledFineTune,
    PooledModel,
    PooledOffset,
    TaskSampler,
)

from ._data import FAST, class_markets, offset_users


@pytest.fixture(scope="module")
def users():
    return TaskSampler(offset_users(16), k_shot=10, n_query=10).split(2, 4)


def test_offset_and_fine_tuning_beat_the_unadapted_pool(users) -> None:
    train, _, test = users
    kwargs = dict(hidden=(16,), episodes_per_epoch=40, config=FAST)
    pooled = PooledModel(**kwargs).meta_fit(train).evaluate(test).mean("mae")
    offset = PooledOffset(**kwargs).meta_fit(train).evaluate(test).mean("mae")
    tuned = PooledFineTune(**kwargs).meta_fit(train).evaluate(test).mean("mae")
    assert offset < 0.8 * pooled and tuned < 0.8 * pooled


def test_offset_shrinkage_is_estimated_and_shrinks(users) -> None:
    train, _, test = users
    learner = PooledOffset(hidden=(16,), episodes_per_epoch=40, config=FAST).meta_fit(train)
    # Offsets vary with sd 2 and the noise has sd 0.1: little shrinkage is warranted.
    assert 0 <= learner.shrinkage_ < 1.0
    X, y = test.task_arrays(test.names[0])
    heavy = PooledOffset(hidden=(16,), shrinkage=1e6, episodes_per_epoch=40,
                         config=FAST).meta_fit(train)
    pooled = PooledModel(hidden=(16,), episodes_per_epoch=40, config=FAST).meta_fit(train)
    assert np.allclose(heavy.adapt((X[:5], y[:5])).predict(X), pooled.adapt(
        (X[:5], y[:5])).predict(X), atol=1e-3)


def test_scratch_learns_from_the_support_alone(users) -> None:
    train, _, test = users
    scratch = FromScratch(hidden=(16,), steps=60).meta_fit(train)
    assert scratch.history_ == []
    X, y = test.task_arrays(test.names[0])
    model = scratch.adapt((X[:10], y[:10]))
    assert abs(model.predict(X[10:]).mean() - y[10:].mean()) < 1.0
    again = scratch.adapt((X[:10], y[:10]))
    assert np.array_equal(model.predict(X), again.predict(X)), "not seeded"


def test_classification_baselines_on_shared_and_new_classes() -> None:
    shared = TaskSampler(class_markets(8), labels="shared", k_shot=12, n_query=8)
    for cls in (PooledModel, PooledOffset, PooledFineTune):
        result = cls(hidden=(16,), episodes_per_epoch=30, config=FAST).meta_fit(shared)
        assert result.evaluate(shared).mean("accuracy") > 0.7
    novel = TaskSampler(class_markets(8), n_way=2, k_shot=3, n_query=4)
    tuned = PooledFineTune(hidden=(16,), episodes_per_epoch=30, config=FAST).meta_fit(novel)
    episode = novel.episode(3)
    assert set(tuned.adapt(episode).classes_) == set(episode.classes)
    pooled = PooledModel(hidden=(16,), episodes_per_epoch=30, config=FAST).meta_fit(novel)
    with pytest.raises(ValueError, match="disjoint from the classes"):
        pooled.adapt((episode.X_support, np.array(["zz"] * len(episode.y_support))))


def test_classification_offset_strength_is_chosen_on_training_episodes() -> None:
    # Markets that each favour one class: a weak shrinkage (a strong offset) pays.
    rng = np.random.default_rng(0)
    markets = {}
    for i in range(8):
        favourite = "abcd"[i % 4]
        y = np.where(rng.random(60) < 0.8, favourite, rng.choice(list("abcd"), 60))
        markets[f"m{i}"] = Domain.from_arrays(rng.normal(size=(60, 3)), y, name=f"m{i}",
                                              task="multiclass")
    tasks = TaskSampler(markets, labels="shared", k_shot=10, n_query=10)
    learner = PooledOffset(hidden=(8,), episodes_per_epoch=30, config=FAST).meta_fit(tasks)
    assert learner.shrinkage_ <= 5.0
    offset = learner.evaluate(tasks).mean("accuracy")
    pooled = PooledModel(hidden=(8,), episodes_per_epoch=30, config=FAST).meta_fit(tasks)
    assert offset > pooled.evaluate(tasks).mean("accuracy") + 0.2
