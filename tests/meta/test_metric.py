"""Prototypical and matching networks and the hypernetwork on seeded tasks."""

from __future__ import annotations

import numpy as np
import pytest

from transferkit.meta import HyperNetwork, MatchingNet, ProtoNet, TaskSampler

from ._data import FAST, class_markets, offset_users


@pytest.mark.parametrize("cls", [ProtoNet, MatchingNet])
def test_embedding_learners_classify_new_tasks(cls) -> None:
    train, _, test = TaskSampler(class_markets(10), n_way=3, k_shot=(2, 4),
                                 n_query=5).split(2, 3)
    learner = cls(hidden=(32,), episodes_per_epoch=40, config=FAST).meta_fit(train)
    assert learner.evaluate(test, repeats=2).mean("accuracy") > 0.8
    episode = test.episode(1)
    model = learner.adapt(episode)
    assert set(model.classes_) == set(episode.classes)
    proba = model.predict_proba(episode.X_query)
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_prototypes_keep_only_classes_with_support_in_shared_mode() -> None:
    train = TaskSampler(class_markets(6), labels="shared", k_shot=12, n_query=8)
    protonet = ProtoNet(hidden=(16,), episodes_per_epoch=20, config=FAST).meta_fit(train)
    X, y = train.task_arrays(train.names[0])
    rows = np.isin(y, ["a", "b"])
    model = protonet.adapt((X[rows][:6], y[rows][:6]))
    assert model.classes_.tolist() == ["a", "b"]


def test_embedding_learners_refuse_regression() -> None:
    with pytest.raises(TypeError, match="regression"):
        ProtoNet(config=FAST).meta_fit(TaskSampler(offset_users(4), k_shot=2, n_query=2))


def test_hypernetwork_writes_useful_heads() -> None:
    train, _, test = TaskSampler(offset_users(16), k_shot=10, n_query=10).split(2, 4)
    hyper = HyperNetwork(hidden=(16,), episodes_per_epoch=40,
                         config=FAST).meta_fit(train)
    adapted = hyper.evaluate(test).mean("mae")
    X, y = test.task_arrays(test.names[0])
    wrong = hyper.adapt((X[:10], y[:10] + 10.0)).predict(X[10:]).mean()
    assert wrong > hyper.adapt((X[:10], y[:10])).predict(X[10:]).mean() + 2
    assert adapted < 1.0
    classes = TaskSampler(class_markets(8), n_way=3, k_shot=3, n_query=4)
    fitted = HyperNetwork(hidden=(16,), episodes_per_epoch=40, config=FAST).meta_fit(classes)
    assert fitted.evaluate(classes).mean("accuracy") > 0.6
