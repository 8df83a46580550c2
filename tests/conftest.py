"""Shared fixtures: the research data beside the checkout, and small seeded markets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from transferkit import Domain

SHARED_DATA = Path(
    os.environ.get("TRANSFERKIT_DATA_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)


def shared_path(*parts: str) -> Path:
    """Path under the shared data folder; skips the calling test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path} (set TRANSFERKIT_DATA_DIR)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder (``../shared/data``); tests using it skip when it is absent."""
    return shared_path()


@pytest.fixture
def two_markets() -> tuple[Domain, Domain, np.ndarray]:
    """A source and target market with a known Gaussian covariate shift.

    Source rows ~ N(0, I_2), target rows ~ N(mu, I_2) with mu = (1, 0); the label follows
    the same rule in both (y = 1 when x0 + 0.5 x1 + noise > 0.5). Returns
    ``(source, target, ratio)`` where ``ratio`` is the true density ratio
    p_target(x) / p_source(x) at each source row.
    """
    rng = np.random.default_rng(0)
    mu = np.array([1.0, 0.0])
    X_source = rng.normal(size=(600, 2))
    X_target = rng.normal(size=(400, 2)) + mu
    def label(X: np.ndarray) -> np.ndarray:
        return (X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.normal(size=len(X)) > 0.5).astype(int)
    source = Domain.from_arrays(X_source, label(X_source), name="source")
    target = Domain.from_arrays(X_target, label(X_target), name="target")
    ratio = np.exp(X_source @ mu - mu @ mu / 2)
    return source, target, ratio
