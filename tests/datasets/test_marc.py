"""Multilingual Amazon reviews: one text market per marketplace."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SHARED_DATA, shared_path

from transferkit import DataNotFoundError
from transferkit.datasets import MARC_MARKETS, load_marc_reviews

# SOURCES.md: train/dev 1280 each (256 per star), test 5000 (1000 per star).
PER_STAR = {"train": 256, "dev": 256, "test": 1000}


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_every_market_has_the_documented_size_and_balance(split: str) -> None:
    shared_path("marc_multilingual_reviews")
    markets = load_marc_reviews(split=split, root=SHARED_DATA)
    assert list(markets) == ["en", "de", "fr", "ja"]
    for name, domain in markets.items():
        assert domain.n_samples == 5 * PER_STAR[split]
        assert domain.task == "multiclass"
        assert domain.classes.tolist() == [1, 2, 3, 4, 5]
        assert np.bincount(domain.y, minlength=6)[1:].tolist() == [PER_STAR[split]] * 5
        assert domain.metadata.country == MARC_MARKETS[name]["country"]
        assert domain.metadata.extra["split"] == split


def test_metadata_and_languages() -> None:
    shared_path("marc_multilingual_reviews")
    markets = load_marc_reviews(split="dev", root=SHARED_DATA)
    currencies = {n: d.metadata.currency for n, d in markets.items()}
    assert currencies == {"en": "USD", "de": "EUR", "fr": "EUR", "ja": "JPY"}
    assert markets["ja"].metadata.country == "Japan"
    # Japanese reviews are written in Japanese script, English ones are not.
    def japanese_share(texts: list[str]) -> float:
        return float(np.mean([any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff"
                                  for ch in t) for t in texts]))
    assert japanese_share(markets["ja"].texts) > 0.95
    assert japanese_share(markets["en"].texts) < 0.01


def test_binary_drops_three_stars_and_maps_the_rest() -> None:
    shared_path("marc_multilingual_reviews")
    stars = load_marc_reviews("fr", "train", root=SHARED_DATA)["fr"]
    binary = load_marc_reviews("fr", "train", binary=True, root=SHARED_DATA)["fr"]
    assert binary.schema.label == "sentiment" and binary.task == "binary"
    assert binary.n_samples == 4 * 256
    assert np.bincount(binary.y).tolist() == [512, 512]
    by_id = dict(zip(stars.frame["review_id"], stars.y, strict=True))
    for review_id, label in zip(binary.frame["review_id"], binary.y, strict=True):
        assert label == int(by_id[review_id] >= 4) and by_id[review_id] != 3


def test_all_concatenates_the_splits_with_unique_ids() -> None:
    shared_path("marc_multilingual_reviews")
    en = load_marc_reviews("en", "all", root=SHARED_DATA)["en"]
    assert en.n_samples == 1280 + 1280 + 5000
    ids = en.frame["review_id"]
    assert ids.is_unique and ids.str.match(r"^(train|dev|test):\d+$").all()


def test_quoted_commas_and_newlines_are_parsed(tmp_path) -> None:
    folder = tmp_path / "marc_multilingual_reviews"
    folder.mkdir()
    (folder / "ja_dev.csv").write_text(
        '1,"Good, but ""small""\nsecond line",4\n2,plain,1\n3,"a,b,c",3\n', encoding="utf-8")
    ja = load_marc_reviews("ja", "dev", root=tmp_path)["ja"]
    assert ja.texts == ['Good, but "small"\nsecond line', "plain", "a,b,c"]
    assert ja.y.tolist() == [4, 1, 3]
    assert load_marc_reviews("ja", "dev", binary=True, root=tmp_path)["ja"].y.tolist() == [1, 0]


def test_malformed_files_name_the_rows(tmp_path) -> None:
    folder = tmp_path / "marc_multilingual_reviews"
    folder.mkdir()
    (folder / "de_dev.csv").write_text("1,gut,5\n2,schlecht,0\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"outside 1-5 in 1 row \(1\)"):
        load_marc_reviews("de", "dev", root=tmp_path)
    (folder / "de_dev.csv").write_text("1,gut\n2,schlecht\n", encoding="utf-8")
    with pytest.raises(ValueError, match="has 2 columns; expected 3"):
        load_marc_reviews("de", "dev", root=tmp_path)


def test_missing_file_and_bad_parameters(tmp_path) -> None:
    with pytest.raises(DataNotFoundError, match="marc_multilingual_reviews/en_test.csv"):
        load_marc_reviews("en", "test", root=tmp_path)
    with pytest.raises(ValueError, match="'split' parameter of load_marc_reviews"):
        load_marc_reviews("en", "validation", root=tmp_path)
    with pytest.raises(ValueError, match="'markets' parameter of load_marc_reviews"):
        load_marc_reviews(["en", "jp"], root=tmp_path)
