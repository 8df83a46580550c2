"""Episodes from Domains: shapes, seeding, variable ways and shots, splits, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from transferkit import DomainMismatchError, TransferWarning
from transferkit.domain import Domain
from transferkit.meta import TaskSampler

from ._data import class_markets, offset_users


def test_regression_episodes_are_seeded_and_disjoint_within_a_task() -> None:
    sampler = TaskSampler(offset_users(6), k_shot=5, n_query=8, random_state=3)
    first, again = sampler.episode(7), sampler.episode(7)
    assert first.kind == "regression" and first.X_support.shape == (5, 3)
    assert np.array_equal(first.X_query, again.X_query) and first.task == again.task
    rows = {tuple(r) for r in first.X_support} & {tuple(r) for r in first.X_query}
    assert not rows, "support and query share rows"
    assert not np.array_equal(sampler.episode(8).X_support, first.X_support)
    rest = TaskSampler(offset_users(6), k_shot=5, n_query=None).episode(0)
    assert len(rest.y_query) == 30 - 5


def test_n_way_episodes_relabel_with_variable_ways_and_imbalanced_shots() -> None:
    sampler = TaskSampler(class_markets(4), n_way=(2, 4), k_shot=(1, 5), n_query=3)
    ways, imbalanced = set(), False
    for episode in sampler.episodes(30):
        ways.add(episode.n_way)
        counts = np.unique(episode.y_support, return_counts=True)[1]
        imbalanced |= len(set(counts)) > 1
        assert set(np.unique(episode.y_support)) == set(episode.classes)
        assert len(episode.y_query) == 3 * episode.n_way
        assert set(episode.encode(episode.y_query)) <= set(range(episode.n_way))
    assert ways == {2, 3, 4} and imbalanced
    orders = {tuple(e.classes) for e in sampler.episodes(10)}
    assert len(orders) > 1, "classes are not shuffled per episode"
    assert sampler.max_way == 4 and sampler.classes is None


def test_shared_labels_keep_the_global_class_list() -> None:
    sampler = TaskSampler(class_markets(3), labels="shared", k_shot=6, n_query=4)
    episode = sampler.episode(0)
    assert episode.classes.tolist() == ["a", "b", "c", "d"] and len(episode.y_support) == 6


def test_splits_never_share_a_task_and_task_episodes_cover_each_task() -> None:
    sampler = TaskSampler(offset_users(10), k_shot=3, n_query=5)
    train, val, test = sampler.split(val_size=0.2, test_size=3, random_state=1)
    names = [set(s.names) for s in (train, val, test)]
    assert [len(n) for n in names] == [5, 2, 3]
    assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
    assert set().union(*names) == set(sampler.names)
    assert [e.task for e in test.task_episodes(2)] == [n for n in test.names for _ in "ab"]
    with pytest.raises(ValueError, match="keep at least one"):
        sampler.split(val_size=5, test_size=5)


def test_k_larger_than_a_class_has_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="K is larger than the examples a class has"):
        TaskSampler(class_markets(3, n_rows=20), k_shot=5, n_query=3)
    with pytest.warns(TransferWarning, match="dropped 1 of 4"):
        small = {**class_markets(3), "tiny": class_markets(1, n_rows=8)["m0"]}
        kept = TaskSampler(small, k_shot=3, n_query=3, on_small="drop")
    assert "tiny" not in kept.names
    with pytest.raises(ValueError, match="need 30"):
        TaskSampler(offset_users(3, n_rows=20), k_shot=20, n_query=10)


def test_one_class_task_is_one_clear_error() -> None:
    one = Domain.from_arrays(np.zeros((20, 4)), ["a"] * 20, name="one", task="binary")
    with pytest.raises(ValueError, match="one-class task"):
        TaskSampler({**class_markets(2), "one": one}, k_shot=2, n_query=2)
    with pytest.raises(ValueError, match="single class"):
        TaskSampler({"one": one}, labels="shared", k_shot=2, n_query=2)


def test_different_feature_schemas_are_one_clear_error() -> None:
    tasks = offset_users(2)
    tasks["wide"] = Domain.from_arrays(np.zeros((30, 4)), np.zeros(30), name="wide",
                                       task="regression")
    with pytest.raises(DomainMismatchError, match="different feature schema"):
        TaskSampler(tasks, k_shot=2, n_query=2)
    mixed = {**offset_users(2), **class_markets(1)}
    with pytest.raises(DomainMismatchError, match="same kind of label"):
        TaskSampler(mixed, k_shot=2, n_query=2)


def test_disjoint_label_sets_are_one_clear_error() -> None:
    rng = np.random.default_rng(0)
    tasks = {name: Domain.from_arrays(rng.normal(size=(20, 2)), labels * 10, name=name)
             for name, labels in (("x", ["a", "b"]), ("y", ["a", "b"]), ("z", ["p", "q"]))}
    with pytest.raises(ValueError, match="disjoint label sets"):
        TaskSampler(tasks, labels="shared", k_shot=3, n_query=3)
    assert len(TaskSampler(tasks, labels="episode", k_shot=3, n_query=3)) == 3


def test_empty_collection_and_bad_parameters() -> None:
    with pytest.raises(ValueError, match="empty task collection"):
        TaskSampler({}, k_shot=1)
    with pytest.raises(ValueError, match="'k_shot' parameter of TaskSampler"):
        TaskSampler(offset_users(2), k_shot=0)
    with pytest.raises(ValueError, match="unique"):
        users = offset_users(2)
        TaskSampler([users["u0"], users["u0"]], k_shot=2)
    with pytest.raises(TypeError, match="not a Domain"):
        TaskSampler({"a": np.zeros((3, 2))}, k_shot=1)
