"""The data-set catalogue: every loader is registered, located and fails helpfully."""

from __future__ import annotations

import pytest
from conftest import SHARED_DATA

from transferkit import DataNotFoundError, Domain
from transferkit.datasets import DATA_DIR_ENV, DATASETS, describe_datasets, load_dataset

EXPECTED = {"amazon_reviews_text", "amazon_sentiment", "marc_reviews", "mnist_usps",
            "office_caltech_images", "office_caltech_surf", "online_retail", "stackoverflow",
            "movielens", "scanner_cracker", "scanner_catsup", "scanner_yogurt"}
FILE_BASED = [name for name in sorted(EXPECTED) if DATASETS.get(name).path is not None]


def test_every_data_set_is_registered_with_consistent_facts() -> None:
    assert set(DATASETS.names()) == EXPECTED
    for name, info in DATASETS.items():
        assert info.name == name
        assert set(info.sizes) == set(info.domains), name
        assert info.modality in ("tabular", "text", "image", "features")
        assert info.task in ("binary", "multiclass", "regression")
        assert info.license and info.summary


@pytest.mark.parametrize("name", FILE_BASED)
def test_missing_data_say_where_they_are_expected(name: str, tmp_path) -> None:
    info = DATASETS.get(name)
    assert not info.is_available(tmp_path)
    expected = info.location(tmp_path)
    assert expected is not None and str(expected).startswith(str(tmp_path))
    with pytest.raises(DataNotFoundError, match=DATA_DIR_ENV) as caught:
        load_dataset(name, root=tmp_path)
    assert str(tmp_path.resolve()) in str(caught.value)


@pytest.mark.parametrize("name", FILE_BASED)
def test_registered_sizes_match_what_the_loader_returns(name: str) -> None:
    info = DATASETS.get(name)
    if not info.is_available(SHARED_DATA):
        pytest.skip(f"shared data not available: {info.location(SHARED_DATA)}")
    domains = load_dataset(name, root=SHARED_DATA)
    assert list(domains) == list(info.domains)
    assert {d: domains[d].n_samples for d in domains} == dict(info.sizes)
    assert {domain.task for domain in domains.values()} == {info.task}


def test_embedded_stackoverflow_loads_by_name() -> None:
    info = DATASETS.get("stackoverflow")
    assert info.embedded and info.location() is None and info.is_available()
    markets = load_dataset("stackoverflow", countries=["United States", "Germany"])
    assert all(isinstance(d, Domain) for d in markets.values())
    assert {n: d.n_samples for n, d in markets.items()} == {
        n: info.sizes[n] for n in ("United States", "Germany")}


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(KeyError, match="Did you mean 'mnist_usps'"):
        load_dataset("mnist_usp")


def test_describe_datasets_reports_presence(tmp_path) -> None:
    (tmp_path / "amazon_review_400").mkdir()
    table = describe_datasets(tmp_path)
    assert set(table.index) == EXPECTED
    assert table.loc["amazon_sentiment", "available"]
    assert not table.loc["mnist_usps", "available"]
    assert table.loc["mnist_usps", "location"].endswith("mnist_usps_256/MNIST_vs_USPS.mat")
    assert table.loc["stackoverflow", "location"] == "embedded (pip package)"
    assert "ja (1280)" in table.loc["marc_reviews", "domains"]


def test_environment_variable_sets_the_default_root(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert DATASETS.get("mnist_usps").location() == tmp_path / "mnist_usps_256" / \
        "MNIST_vs_USPS.mat"
    with pytest.raises(DataNotFoundError, match=str(tmp_path.resolve())):
        load_dataset("office_caltech_surf", domains="dslr")
