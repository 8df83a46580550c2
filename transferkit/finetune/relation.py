"""Relation-based transfer for markets whose label sets differ.

A Japanese shop's category taxonomy is not the US one. Two tools connect them:

* ``CategoryRelationship`` learns ``p(source category | target category)`` from the
  source model's predictions on labelled target rows (Co-Tuning). ``FineTuner`` with a
  ``source_head`` uses it as an extra training signal: the kept source head must predict
  the relationship row of each target label, so the source classifier's knowledge keeps
  shaping the features.
* ``match_categories`` pairs category *names* across languages by embedding similarity
  with the multilingual sentence encoder, and returns a review table the user edits
  (CSV) before the mapping is used.

Examples
--------
>>> import numpy as np
>>> source_proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9]])
>>> relation = CategoryRelationship(smoothing=0.0).fit(source_proba, [0, 0, 1])
>>> relation.relation_.round(2).tolist()
[[0.85, 0.15], [0.1, 0.9]]
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from transferkit._io import atomic_write_text
from transferkit._validation import check_array_2d, check_param
from transferkit.backbones import Backbone, as_backbone, encode
from transferkit.domain import Domain

__all__ = ["CategoryMatch", "CategoryRelationship", "match_categories"]


class CategoryRelationship(BaseEstimator):
    """Co-Tuning's category relationship ``p(source class | target class)``.

    Row ``t`` of ``relation_`` is the mean of the source model's predicted distribution
    over the labelled target rows of class ``t`` (the "direct" estimate of Co-Tuning),
    smoothed toward uniform, optionally blended with a prior from category names.

    Parameters
    ----------
    smoothing : float, default=1e-3
        Added to every cell before renormalising, so no source class has probability 0.
    prior : array-like of shape (n_target_classes, n_source_classes), optional
        A relation from another source (``CategoryMatch.relation``).
    prior_weight : float, default=0.5
        Weight of ``prior`` in the blend.

    Attributes
    ----------
    relation_ : ndarray of shape (n_target_classes, n_source_classes)
        Rows sum to 1.
    counts_ : ndarray of shape (n_target_classes,)
        Labelled rows per target class used in the estimate.

    References
    ----------
    You, Kou, Long & Wang, "Co-Tuning for Transfer Learning", NeurIPS 2020.
    """

    def __init__(
        self, *, smoothing: float = 1e-3, prior: ArrayLike | None = None, prior_weight: float = 0.5
    ) -> None:
        self.smoothing = smoothing
        self.prior = prior
        self.prior_weight = prior_weight

    def fit(
        self, source_proba: ArrayLike, y: ArrayLike, *, n_classes: int | None = None
    ) -> CategoryRelationship:
        """Estimate the relationship from source-model probabilities and target labels.

        Parameters
        ----------
        source_proba : array-like of shape (n_samples, n_source_classes)
            The source model's predicted distribution on each labelled target row.
        y : array-like of shape (n_samples,)
            Target class index (0 .. n_classes-1) of each row.
        n_classes : int, optional
            Number of target classes; default ``max(y) + 1``.
        """
        owner = "CategoryRelationship"
        check_param(owner, "smoothing", self.smoothing, "a float >= 0", lambda v: v >= 0)
        check_param(owner, "prior_weight", self.prior_weight, "a float in [0, 1]",
                    lambda v: 0 <= v <= 1)
        proba = check_array_2d(source_proba, "source_proba")
        if (proba < 0).any():
            raise ValueError("source_proba holds negative values; pass probabilities "
                             "(softmax of the source head's logits).")
        codes = np.asarray(y)
        if codes.shape != (proba.shape[0],) or codes.dtype.kind not in "iu":
            raise ValueError(
                f"y must hold one integer class index per row of source_proba "
                f"({proba.shape[0]}); got shape {codes.shape} and dtype {codes.dtype}."
            )
        n = int(codes.max()) + 1 if n_classes is None else int(n_classes)
        sums = np.zeros((n, proba.shape[1]))
        np.add.at(sums, codes, proba / proba.sum(axis=1, keepdims=True))
        counts = np.bincount(codes, minlength=n)
        if (counts == 0).any() and self.prior is None:
            missing = np.flatnonzero(counts == 0).tolist()
            raise ValueError(
                f"Target classes {missing} have no labelled rows, so their relationship "
                "cannot be estimated; label a few of them or pass a prior (match_categories)."
            )
        # Rows of classes without labelled rows are 0/0 here; the prior replaces them below.
        denominator = counts[:, None] + self.smoothing * proba.shape[1]
        relation = (sums + self.smoothing) / np.maximum(denominator, 1e-12)
        if self.prior is not None:
            prior = check_array_2d(self.prior, "prior")
            if prior.shape != relation.shape:
                raise ValueError(
                    f"prior has shape {prior.shape}; expected (n_target_classes, "
                    f"n_source_classes) = {relation.shape}."
                )
            prior = prior / prior.sum(axis=1, keepdims=True)
            # Classes without labelled rows take the prior alone.
            weight = np.where(counts[:, None] > 0, self.prior_weight, 1.0)
            relation = np.where(counts[:, None] > 0, relation, 0.0)
            relation = (1 - weight) * relation + weight * prior
        self.relation_ = relation / relation.sum(axis=1, keepdims=True)
        self.counts_ = counts
        return self

    def transform(self, y: ArrayLike) -> np.ndarray:
        """The relationship rows of target labels: soft source-class targets."""
        check_is_fitted(self)
        return self.relation_[np.asarray(y)]


@dataclass(frozen=True)
class CategoryMatch:
    """A reviewable pairing of target category names with source category names.

    Attributes
    ----------
    table : DataFrame
        One row per target category: ``target``, ``source`` (best match), ``similarity``
        (cosine), ``alternatives`` (next candidates with scores) and ``accepted`` (True
        when the similarity reaches the threshold). Edit ``source`` and ``accepted``
        (``to_csv``, change, ``from_csv``) before using the mapping.
    source_names : tuple of str
        Every source category, in class order.
    """

    table: pd.DataFrame
    source_names: tuple[str, ...]

    def mapping(self) -> dict[str, str | None]:
        """Target name → accepted source name (None when not accepted)."""
        return {row.target: (row.source if bool(row.accepted) else None)
                for row in self.table.itertuples()}

    def relation(self, target_names: Sequence[str] | None = None) -> np.ndarray:
        """A ``(n_target, n_source)`` prior: one-hot for accepted matches, uniform otherwise.

        Rows follow ``target_names`` (default the table's order); pass it to
        ``CategoryRelationship(prior=...)``.
        """
        mapping = self.mapping()
        names = list(self.table["target"]) if target_names is None else list(target_names)
        missing = [n for n in names if n not in mapping]
        if missing:
            raise ValueError(f"Target categories {missing} are not in the match table.")
        index = {name: i for i, name in enumerate(self.source_names)}
        prior = np.full((len(names), len(self.source_names)), 1.0 / len(self.source_names))
        for row, name in enumerate(names):
            source = mapping[name]
            if source is not None:
                prior[row] = 0.0
                prior[row, index[source]] = 1.0
        return prior

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write the review table (atomically) for editing in a spreadsheet."""
        buffer = io.StringIO()
        self.table.to_csv(buffer, index=False)
        atomic_write_text(path, buffer.getvalue())

    @classmethod
    def from_csv(
        cls, path: str | os.PathLike[str], source_names: Sequence[str]
    ) -> CategoryMatch:
        """Read an edited review table; unknown source names are an error naming the row."""
        table = pd.read_csv(path, dtype={"target": str, "source": str})
        needed = ["target", "source", "accepted"]
        absent = [c for c in needed if c not in table.columns]
        if absent:
            raise ValueError(
                f"{os.fspath(path)!r} lacks the columns {absent}; it must keep the columns "
                "written by CategoryMatch.to_csv."
            )
        table["accepted"] = table["accepted"].astype(str).str.lower().isin(["true", "1", "yes"])
        known = set(source_names)
        for i, row in enumerate(table.itertuples()):
            if row.accepted and row.source not in known:
                raise ValueError(
                    f"Row {i + 2} of {os.fspath(path)!r} maps {row.target!r} to {row.source!r}, "
                    f"which is not a source category; use one of {sorted(known)} or set "
                    "accepted to False."
                )
        return cls(table, tuple(source_names))


def match_categories(
    source_names: Sequence[str],
    target_names: Sequence[str],
    *,
    backbone: Backbone | str | Any = "use_multilingual",
    top_k: int = 3,
    threshold: float = 0.5,
) -> CategoryMatch:
    """Pair category names across markets (and languages) by sentence-embedding similarity.

    Parameters
    ----------
    source_names, target_names : sequence of str
        Category names, e.g. US ``["Kitchen", "Toys"]`` and Japanese ``["キッチン", ...]``.
    backbone : Backbone or str, default="use_multilingual"
        Text encoder; the multilingual USE handles 16 languages including ja/de/fr.
    top_k : int, default=3
        Candidates listed per target category (best + ``top_k - 1`` alternatives).
    threshold : float, default=0.5
        Minimum cosine similarity for a match to be pre-accepted.

    Returns
    -------
    CategoryMatch
        The review table; ``to_csv`` / ``from_csv`` for editing.

    Examples
    --------
    >>> match = match_categories(["kitchen", "toys"], ["キッチン用品", "おもちゃ"])
    >>> match.mapping()
    {'キッチン用品': 'kitchen', 'おもちゃ': 'toys'}
    """
    for what, names in (("source_names", source_names), ("target_names", target_names)):
        if isinstance(names, str) or len(names) == 0:
            raise ValueError(f"{what} must be a non-empty list of category names; got {names!r}.")
        if len(set(names)) != len(names):
            raise ValueError(f"{what} holds duplicated names; category names must be unique.")
    check_param("match_categories", "top_k", top_k, "an int >= 1",
                lambda v: isinstance(v, int) and v >= 1)
    encoder = as_backbone(backbone)
    embedded = encode(Domain.from_texts(list(source_names) + list(target_names),
                                        name="category names"), encoder)
    vectors = np.asarray(embedded.X, dtype=float)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
    source, target = vectors[:len(source_names)], vectors[len(source_names):]
    similarity = target @ source.T
    rows = []
    for i, name in enumerate(target_names):
        order = np.argsort(-similarity[i])[:top_k]
        best = int(order[0])
        rows.append({
            "target": name,
            "source": source_names[best],
            "similarity": round(float(similarity[i, best]), 4),
            "alternatives": "; ".join(f"{source_names[j]} ({similarity[i, j]:.2f})"
                                      for j in order[1:]),
            "accepted": bool(similarity[i, best] >= threshold),
        })
    return CategoryMatch(pd.DataFrame(rows), tuple(source_names))
