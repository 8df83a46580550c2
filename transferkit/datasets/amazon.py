"""Blitzer et al.'s Amazon multi-domain sentiment data: 400-d features and raw review texts.

Four product categories of amazon.com reviews (books, DVDs, electronics, kitchen
appliances), about 1,000 positive and 1,000 negative reviews each: the classic benchmark
where a sentiment model trained on one product category is moved to another. Both
loaders code the label the same way: ``label`` 1 = positive (4-5 stars), 0 = negative
(1-2 stars).

Files (``../shared/data``, see its ``SOURCES.md``): ``amazon_review_400/{books,dvd,elec,
kitchen}_400.mat`` and ``blitzer_raw_text/{domain}_{positive,negative}.review.gz``.
Research use only; cite Blitzer, Dredze and Pereira (ACL 2007) and, for the 400-d
features, Chen et al. (ICML 2012).

Examples
--------
>>> text = "<review><title>Great</title><review_text>Works &amp; lasts.</review_text></review>"
>>> parse_blitzer_reviews(text)[0]["review_text"]
'Works & lasts.'
"""

from __future__ import annotations

import gzip
import html
import os
import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from transferkit.datasets._common import choose_domains, read_mat
from transferkit.datasets._paths import data_dir, require_path
from transferkit.domain import Domain
from transferkit.exceptions import TransferWarning

__all__ = [
    "AMAZON_DOMAINS",
    "load_amazon_reviews_text",
    "load_amazon_sentiment",
    "parse_blitzer_reviews",
]

AMAZON_DOMAINS: tuple[str, ...] = ("books", "dvd", "electronics", "kitchen")
_FEATURE_FILES = {"books": "books_400.mat", "dvd": "dvd_400.mat",
                  "electronics": "elec_400.mat", "kitchen": "kitchen_400.mat"}
_FEATURE_FOLDER = "amazon_review_400"
_TEXT_FOLDER = "blitzer_raw_text"
_REVIEW = re.compile(r"<review>(.*?)</review>", re.S)
_FIELDS = ("unique_id", "asin", "product_name", "product_type", "helpful", "rating", "title",
           "date", "reviewer", "reviewer_location", "review_text")


def load_amazon_sentiment(
    domains: str | Sequence[str] | None = AMAZON_DOMAINS,
    *,
    root: str | os.PathLike[str] | None = None,
) -> dict[str, Domain]:
    """The 400-d Amazon sentiment features, one array Domain per product category.

    Each review is a bag of words over the 400 most frequent unigrams/bigrams of the
    corpus, normalised to term frequencies (each row sums to 1; about 93 % of entries
    are 0), as distributed with Chen et al.'s marginalised denoising autoencoders.

    Parameters
    ----------
    domains : str or sequence of str, default=("books", "dvd", "electronics", "kitchen")
        Product categories to load, in this order; None loads all four.
    root : path, optional
        Folder holding the shared data sets (default: ``transferkit.datasets.data_dir()``).

    Returns
    -------
    dict of str to Domain
        ``{category: Domain}``; features ``x000`` ... ``x399`` (float, in [0, 1]), label
        ``label``: 1 = positive, 0 = negative. Sizes: books 2000 (1000/1000), dvd
        1999, electronics 1998, kitchen 1999 (1000 negative each; a few positive
        reviews were dropped upstream). Metadata: language ``"en"``, country
        ``"United States"`` (amazon.com), ``extra["source_file"]``.

    Raises
    ------
    DataNotFoundError
        The ``.mat`` file is not under ``root/amazon_review_400``.

    Notes
    -----
    The files store the label as 0/1 without saying which is positive. Rows are in the
    order of the raw review files, positives first: the number of counted words per row
    follows the length of the raw positive reviews in the same order (correlation 0.88
    on books), which fixes 1 = positive; ``tests/datasets`` checks it.

    Examples
    --------
    >>> markets = load_amazon_sentiment(["books", "kitchen"])  # doctest: +SKIP
    >>> markets["books"].X.shape, markets["books"].classes.tolist()  # doctest: +SKIP
    ((2000, 400), [0, 1])
    """
    chosen = choose_domains("load_amazon_sentiment", AMAZON_DOMAINS, domains)
    folder = data_dir(root) / _FEATURE_FOLDER
    result = {}
    for domain in chosen:
        path = require_path(folder / _FEATURE_FILES[domain], "Amazon sentiment features",
                            f"the 400-d features of '{domain}'")
        content = read_mat(path, ("fts", "labels"), "Amazon sentiment features")
        result[domain] = Domain.from_arrays(
            content["fts"].astype(float), content["labels"].ravel().astype(np.int64),
            name=domain, country="United States", language="en",
            extra={"source_file": path.name, "label_meaning": {1: "positive", 0: "negative"}},
            task="binary",
        )
    return result


def parse_blitzer_reviews(text: str) -> list[dict[str, str]]:
    """Parse Blitzer's pseudo-XML review file into one dict of fields per review.

    Copies of the corpus are not reliably well-formed XML (the original files have no
    root element and may hold unescaped characters), so rather than an XML parser each
    ``<review>...</review>`` block is cut out with a regular expression and its fields
    (``unique_id``, ``title``, ``rating``, ``review_text``, ...) read the same way; HTML
    entities are decoded and surrounding whitespace stripped. A field absent from a
    review is an empty string.

    Examples
    --------
    >>> reviews = parse_blitzer_reviews(
    ...     "<review><rating>5.0</rating><review_text> Lovely </review_text></review>")
    >>> reviews[0]["rating"], reviews[0]["review_text"], reviews[0]["title"]
    ('5.0', 'Lovely', '')
    """
    reviews = []
    for block in _REVIEW.findall(text):
        fields = {}
        for name in _FIELDS:
            found = re.search(rf"<{name}>(.*?)</{name}>", block, re.S)
            fields[name] = html.unescape(found.group(1)).strip() if found else ""
        reviews.append(fields)
    return reviews


def load_amazon_reviews_text(
    domains: str | Sequence[str] | None = AMAZON_DOMAINS,
    *,
    include_title: bool = True,
    root: str | os.PathLike[str] | None = None,
) -> dict[str, Domain]:
    """The raw Blitzer review texts, one text Domain per product category.

    Parameters
    ----------
    domains : str or sequence of str, default=("books", "dvd", "electronics", "kitchen")
        Product categories to load; None loads all four.
    include_title : bool, default=True
        Prefix each review with its title and a newline (titles such as "Waste of
        money" carry much of the sentiment).
    root : path, optional
        Folder holding the shared data sets.

    Returns
    -------
    dict of str to Domain
        ``{category: Domain}`` with text column ``text``, id ``review_id`` (Blitzer's
        ``unique_id``) and label ``label``: 1 = positive (the file of 4-5 star
        reviews), 0 = negative (1-2 stars). 2,000 reviews per category, 1,000 of each
        class, positives first; a few texts occur twice, as in the original files.
        Metadata: language ``"en"``, country ``"United States"``.

    Raises
    ------
    DataNotFoundError
        A ``{domain}_{positive,negative}.review.gz`` file is not under
        ``root/blitzer_raw_text``.

    Warns
    -----
    TransferWarning
        Reviews with neither title nor text are skipped, and counted in the warning.

    Examples
    --------
    >>> books = load_amazon_reviews_text("books")["books"]  # doctest: +SKIP
    >>> books.n_samples, books.texts[0].splitlines()[0]  # doctest: +SKIP
    (2000, 'One of the best Crichton novels')
    """
    chosen = choose_domains("load_amazon_reviews_text", AMAZON_DOMAINS, domains)
    folder = data_dir(root) / _TEXT_FOLDER
    result = {}
    for domain in chosen:
        parts = []
        for polarity, label in (("positive", 1), ("negative", 0)):
            path = require_path(folder / f"{domain}_{polarity}.review.gz",
                                "Amazon review texts", f"the {polarity} '{domain}' reviews")
            reviews = parse_blitzer_reviews(_read_text(path))
            if not reviews:
                raise ValueError(f"Amazon review texts: {path} holds no <review> blocks.")
            frame = pd.DataFrame(reviews)
            frame["label"] = label
            parts.append(frame)
        frame = pd.concat(parts, ignore_index=True)
        if include_title:
            frame["text"] = (frame["title"] + "\n" + frame["review_text"]).str.strip()
        else:
            frame["text"] = frame["review_text"]
        empty = frame["text"].str.len() == 0
        if empty.any():
            warnings.warn(
                f"Amazon review texts '{domain}': skipping {int(empty.sum())} reviews with "
                "no text.", TransferWarning, stacklevel=2,
            )
            frame = frame.loc[~empty]
        frame = frame.rename(columns={"unique_id": "review_id"})
        result[domain] = Domain.from_frame(
            frame[["review_id", "text", "label"]], label="label", text=["text"],
            id="review_id", name=domain, country="United States", language="en",
            extra={"label_meaning": {1: "positive", 0: "negative"}}, task="binary",
        )
    return result


def _read_text(path: os.PathLike[str]) -> str:
    """Decode a gzip file as UTF-8; older copies of the corpus are Latin-1."""
    with gzip.open(path, "rb") as handle:
        raw = handle.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
