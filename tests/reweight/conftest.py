"""Fixtures for the reweighting tests: fast estimator settings and planted shifts."""

from __future__ import annotations

import numpy as np
import pytest

from transferkit.reweight import REWEIGHTERS

#: Settings that keep unit tests fast; the evidence tests use the defaults.
FAST = {"kliep": {"n_centres": 30, "cv": 3}, "ulsif": {"n_centres": 30}, "kmm": {}}


def make_fast(name: str, **params: object):
    """A registered reweighter with small, fast settings."""
    return REWEIGHTERS.get(name)(**{**FAST.get(name, {}), **params})


@pytest.fixture(params=REWEIGHTERS.names())
def reweighter_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def shifted_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, is_target, true_ratio_at_source_rows)`` for a 1-D Gaussian mean shift."""
    rng = np.random.default_rng(3)
    X_s = rng.normal(size=(300, 2))
    X_t = rng.normal(size=(200, 2)) + np.array([1.0, 0.0])
    X = np.concatenate([X_s, X_t])
    is_target = np.r_[np.zeros(300, dtype=int), np.ones(200, dtype=int)]
    return X, is_target, np.exp(X_s[:, 0] - 0.5)
