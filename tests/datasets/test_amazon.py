"""Amazon multi-domain sentiment: 400-d features and raw texts (Blitzer et al., 2007)."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from conftest import SHARED_DATA, shared_path

from transferkit import DataNotFoundError, TransferWarning
from transferkit.datasets import (
    AMAZON_DOMAINS,
    load_amazon_reviews_text,
    load_amazon_sentiment,
    parse_blitzer_reviews,
)

# SOURCES.md: ~2000 per domain, balanced; exact sizes of the unchanged files.
FEATURE_SIZES = {"books": (1000, 1000), "dvd": (1000, 999), "electronics": (1000, 998),
                 "kitchen": (1000, 999)}


def test_features_shapes_and_balance() -> None:
    shared_path("amazon_review_400")
    markets = load_amazon_sentiment(root=SHARED_DATA)
    assert list(markets) == list(AMAZON_DOMAINS)
    for name, domain in markets.items():
        negative, positive = FEATURE_SIZES[name]
        assert domain.X.shape == (negative + positive, 400)
        assert domain.task == "binary"
        assert np.bincount(domain.y).tolist() == [negative, positive]
        # term frequencies over the 400-word vocabulary: each row sums to 1
        assert domain.X.min() >= 0 and domain.X.max() <= 1
        np.testing.assert_allclose(domain.X.sum(axis=1), 1.0, atol=1e-9)
        assert domain.metadata.language == "en"


def test_feature_label_one_is_positive() -> None:
    # Rows follow the raw files (positives first): the number of counted words per row
    # must track the length of the raw *positive* reviews, in order, and not the negatives.
    shared_path("amazon_review_400")
    shared_path("blitzer_raw_text")
    books = load_amazon_sentiment("books", root=SHARED_DATA)["books"]
    X, y = books.X, books.y
    counted = np.array([1 / row[row > 0].min() for row in X[y == 1]])
    lengths = {}
    for polarity in ("positive", "negative"):
        path = SHARED_DATA / "blitzer_raw_text" / f"books_{polarity}.review.gz"
        reviews = parse_blitzer_reviews(gzip.open(path).read().decode("utf-8"))
        lengths[polarity] = np.array([len(r["review_text"].split()) for r in reviews])
    assert np.corrcoef(counted, lengths["positive"])[0, 1] > 0.8
    assert abs(np.corrcoef(counted, lengths["negative"])[0, 1]) < 0.1


def test_texts_sizes_labels_and_fields() -> None:
    shared_path("blitzer_raw_text")
    markets = load_amazon_reviews_text(["kitchen", "books"], root=SHARED_DATA)
    assert list(markets) == ["kitchen", "books"]
    for domain in markets.values():
        assert domain.n_samples == 2000
        assert np.bincount(domain.y).tolist() == [1000, 1000]
        assert domain.modality == "text"
        assert all(isinstance(t, str) and t for t in domain.texts)
        assert not any("&amp;" in t for t in domain.texts)  # entities decoded
    books = markets["books"]
    assert books.texts[0].startswith("One of the best Crichton novels\nSphere by Michael")
    assert books.y[0] == 1 and books.y[-1] == 0  # positives first
    body_only = load_amazon_reviews_text("books", include_title=False, root=SHARED_DATA)
    assert body_only["books"].texts[0].startswith("Sphere by Michael Crichton")


def test_parser_is_robust_to_missing_fields_and_entities() -> None:
    text = (
        '<?xml version="1.0"?>\n<reviews>\n<review>\n<unique_id>\nA1\n</unique_id>\n'
        "<title>\nFine &amp; dandy\n</title>\n<review_text>\nTwo\nlines, 5 &lt; 6\n"
        "</review_text>\n</review>\n<review>\n<rating>\n1.0\n</rating>\n</review>\n"
    )
    reviews = parse_blitzer_reviews(text)
    assert len(reviews) == 2
    assert reviews[0]["title"] == "Fine & dandy"
    assert reviews[0]["review_text"] == "Two\nlines, 5 < 6"
    assert reviews[1]["review_text"] == "" and reviews[1]["rating"] == "1.0"


def test_empty_reviews_are_skipped_with_a_warning(tmp_path) -> None:
    folder = tmp_path / "blitzer_raw_text"
    folder.mkdir()
    for polarity, body in (("positive", "<review><review_text>good</review_text></review>"
                                        "<review><title> </title></review>"),
                           ("negative", "<review><review_text>bad</review_text></review>")):
        with gzip.open(folder / f"dvd_{polarity}.review.gz", "wt", encoding="latin-1") as f:
            f.write(body)
    with pytest.warns(TransferWarning, match="skipping 1 reviews with no text"):
        dvd = load_amazon_reviews_text("dvd", root=tmp_path)["dvd"]
    assert dvd.texts == ["good", "bad"] and dvd.y.tolist() == [1, 0]


def test_missing_files_say_where_they_are_expected(tmp_path) -> None:
    with pytest.raises(DataNotFoundError, match="amazon_review_400/books_400.mat"):
        load_amazon_sentiment("books", root=tmp_path)
    with pytest.raises(DataNotFoundError, match="blitzer_raw_text/dvd_positive.review.gz"):
        load_amazon_reviews_text("dvd", root=tmp_path)


def test_unknown_domain_is_rejected(tmp_path) -> None:
    with pytest.raises(ValueError, match="'domains' parameter of load_amazon_sentiment"):
        load_amazon_sentiment(["books", "book"], root=tmp_path)
    with pytest.raises(ValueError, match="without repeats"):
        load_amazon_reviews_text(["dvd", "dvd"], root=tmp_path)


def test_mat_file_without_expected_keys(tmp_path) -> None:
    from scipy.io import savemat

    (tmp_path / "amazon_review_400").mkdir()
    savemat(tmp_path / "amazon_review_400" / "dvd_400.mat", {"X": np.zeros((2, 3))})
    with pytest.raises(ValueError, match=r"lacks the variables \['fts', 'labels'\]"):
        load_amazon_sentiment("dvd", root=tmp_path)
