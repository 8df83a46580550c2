"""The Multilingual Amazon Reviews Corpus: one review market per Amazon marketplace.

Product reviews with their star rating (1-5) from four Amazon marketplaces: the US
(``en``), Germany (``de``), France (``fr``) and Japan (``ja``). It is the library's
"US shop → Japanese shop" text benchmark: a rating model trained on US reviews is moved
to Japanese ones, with a new language, new products and different rating habits.

Files: ``../shared/data/marc_multilingual_reviews/{en,de,fr,ja}_{train,dev,test}.csv``,
headerless CSV ``[id, text, stars]`` (K-shot samples of Keung et al., EMNLP 2020:
train and dev 1,280 reviews each, 256 per star; test the official 5,000-review test split,
1,000 per star). Licensed by Amazon for academic research only: never ship these
reviews, or output quoting them, in a package, a docs page or a public repository.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

from transferkit._validation import check_choice, describe_positions
from transferkit.datasets._common import choose_domains
from transferkit.datasets._paths import data_dir, require_path
from transferkit.domain import Domain

__all__ = ["MARC_MARKETS", "MARC_SPLITS", "load_marc_reviews"]

MARC_MARKETS: dict[str, dict[str, str]] = {
    "en": {"country": "United States", "language": "en", "currency": "USD"},
    "de": {"country": "Germany", "language": "de", "currency": "EUR"},
    "fr": {"country": "France", "language": "fr", "currency": "EUR"},
    "ja": {"country": "Japan", "language": "ja", "currency": "JPY"},
}
MARC_SPLITS: tuple[str, ...] = ("train", "dev", "test")
_FOLDER = "marc_multilingual_reviews"


def load_marc_reviews(
    markets: str | Sequence[str] | None = ("en", "de", "fr", "ja"),
    split: Literal["train", "dev", "test", "all"] = "train",
    *,
    binary: bool = False,
    root: str | os.PathLike[str] | None = None,
) -> dict[str, Domain]:
    """Amazon product reviews with star ratings, one text Domain per marketplace.

    Parameters
    ----------
    markets : str or sequence of str, default=("en", "de", "fr", "ja")
        Marketplaces: ``"en"`` = US (amazon.com), ``"de"`` = Germany, ``"fr"`` = France,
        ``"ja"`` = Japan. None loads all four.
    split : {"train", "dev", "test", "all"}, default="train"
        Which file to read; ``"all"`` concatenates the three (7,560 reviews per market).
    binary : bool, default=False
        False: the label ``stars`` is the rating 1-5 (multiclass, balanced). True: the
        label ``sentiment`` is 1 (positive, 4-5 stars) or 0 (negative, 1-2 stars) and the
        3-star reviews, which are neither, are dropped (a fifth of each split).
    root : path, optional
        Folder holding the shared data sets (default: ``transferkit.datasets.data_dir()``).

    Returns
    -------
    dict of str to Domain
        ``{market: Domain}`` with text column ``text`` (the review body, in the market's
        language), id ``review_id`` (``"<split>:<id>"``; ids repeat across splits and
        languages and link nothing) and the label above. Sizes per market: train 1,280,
        dev 1,280, test 5,000 (binary: 1,024, 1,024 and 4,000). Metadata: country
        (United States, Germany, France, Japan), language (en, de, fr, ja), currency
        (USD, EUR, EUR, JPY) and ``extra["split"]``.

    Raises
    ------
    DataNotFoundError
        A ``{market}_{split}.csv`` file is not under ``root/marc_multilingual_reviews``.
    ValueError
        A file is not the expected ``[id, text, stars]`` CSV (rows named).

    Examples
    --------
    >>> reviews = load_marc_reviews(["en", "ja"], "dev", binary=True)  # doctest: +SKIP
    >>> reviews["ja"].n_samples, reviews["ja"].metadata.currency  # doctest: +SKIP
    (1024, 'JPY')
    """
    chosen = choose_domains("load_marc_reviews", tuple(MARC_MARKETS), markets,
                            parameter="markets")
    check_choice("load_marc_reviews", "split", split, (*MARC_SPLITS, "all"))
    check_choice("load_marc_reviews", "binary", binary, (True, False))
    splits = MARC_SPLITS if split == "all" else (split,)
    folder = data_dir(root) / _FOLDER
    result = {}
    for market in chosen:
        frame = pd.concat([_read_split(folder, market, s) for s in splits], ignore_index=True)
        label = "stars"
        if binary:
            frame = frame.loc[frame["stars"] != 3].reset_index(drop=True)
            frame["sentiment"] = (frame["stars"] >= 4).astype("int64")
            label = "sentiment"
        result[market] = Domain.from_frame(
            frame[["review_id", "text", label]], label=label, text=["text"], id="review_id",
            name=market, **MARC_MARKETS[market], task="binary" if binary else "multiclass",
            extra={"split": split, "marketplace": market},
        )
    return result


def _read_split(folder: Path, market: str, split: str) -> pd.DataFrame:
    """One CSV, parsed by pandas' CSV reader (texts hold quoted commas) and checked."""
    path = require_path(folder / f"{market}_{split}.csv", "Multilingual Amazon reviews",
                        f"the '{market}' {split} split")
    frame = pd.read_csv(path, header=None, dtype={0: str, 1: str}, keep_default_na=False,
                        encoding="utf-8")
    if frame.shape[1] != 3:
        raise ValueError(
            f"Multilingual Amazon reviews: {path} has {frame.shape[1]} columns; expected 3 "
            "(id, text, stars) without a header."
        )
    frame.columns = ["id", "text", "stars"]
    stars = pd.to_numeric(frame["stars"], errors="coerce")
    bad = ~stars.isin([1, 2, 3, 4, 5]).to_numpy()
    if bad.any():
        raise ValueError(
            f"Multilingual Amazon reviews: {path} has star ratings outside 1-5 in "
            f"{describe_positions(bad)} (line = row + 1)."
        )
    empty = (frame["text"].str.strip().str.len() == 0).to_numpy()
    if empty.any():
        raise ValueError(
            f"Multilingual Amazon reviews: {path} has empty review texts in "
            f"{describe_positions(empty)}."
        )
    return pd.DataFrame({"review_id": split + ":" + frame["id"], "text": frame["text"],
                         "stars": stars.astype("int64")})
