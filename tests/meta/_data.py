"""Small seeded task collections for the meta-learning tests."""

from __future__ import annotations

import numpy as np

from transferkit.domain import Domain
from transferkit.training import TrainConfig

FAST = TrainConfig(epochs=3, batch_size=4, lr=1e-2, optimizer="adam", progress=False)


def sine_tasks(n_tasks: int, n_rows: int = 40, seed: int = 0) -> dict[str, Domain]:
    """Sine waves with random amplitude and phase (the MAML paper's regression tasks)."""
    rng = np.random.default_rng(seed)
    tasks = {}
    for i in range(n_tasks):
        amplitude, phase = rng.uniform(0.1, 5.0), rng.uniform(0, np.pi)
        X = rng.uniform(-5, 5, size=(n_rows, 1))
        tasks[f"sine{i}"] = Domain.from_arrays(X, amplitude * np.sin(X[:, 0] - phase),
                                               name=f"sine{i}")
    return tasks


def offset_users(n_tasks: int = 16, n_rows: int = 30, seed: int = 0) -> dict[str, Domain]:
    """Regression users sharing a slope, each with its own offset."""
    rng = np.random.default_rng(seed)
    users = {}
    for i in range(n_tasks):
        X = rng.normal(size=(n_rows, 3))
        y = X @ np.array([1.0, -0.5, 0.25]) + rng.normal(0, 2.0) + rng.normal(0, 0.1, n_rows)
        users[f"u{i}"] = Domain.from_arrays(X, y, name=f"u{i}")
    return users


def class_markets(n_tasks: int = 10, n_rows: int = 80, n_classes: int = 4,
                  seed: int = 0) -> dict[str, Domain]:
    """Classification markets whose classes are clusters in 4-d."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2.0, size=(n_classes, 4))
    markets = {}
    for i in range(n_tasks):
        y = np.arange(n_rows) % n_classes
        X = centres[y] + rng.normal(0, 0.7, size=(n_rows, 4)) + rng.normal(0, 0.3, size=4)
        markets[f"m{i}"] = Domain.from_arrays(X, np.array(list("abcd"))[y], name=f"m{i}")
    return markets
