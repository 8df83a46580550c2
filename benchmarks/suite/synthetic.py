"""Seeded synthetic markets every environment can rebuild identically (numpy, pandas).

``covariate_shift`` is the reweighting scaling task: 50 features, the target shifted in
three of them, a label rule a linear model can only fit locally, so good weights raise
target accuracy. ``gap_markets`` is the gap-report task: 40 numeric + 10 categorical
columns per side with five planted shifts, two of them subtle.

Examples
--------
>>> data = covariate_shift(200, seed=0)
>>> data["X_source"].shape, data["X_test"].shape
((200, 50), (5000, 50))
>>> source, target = gap_markets(1000, seed=0)
>>> source.shape, sorted(PLANTED)[:2]
((1000, 50), ['cat_00', 'cat_01'])
>>> score_gap(["num_01", "num_30"])["false_alarms"]
1
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is imported where used: the ADAPT peer has none
    import pandas as pd

N_FEATURES, N_TEST = 50, 5000
PLANTED = ("num_00", "num_01", "num_02", "cat_00", "cat_01")
SUBTLE = ("num_00", "cat_00")
LEVELS = tuple(f"c{i}" for i in range(8))


def covariate_shift(n: int, *, seed: int = 0) -> dict[str, np.ndarray]:
    """Source rows with labels, unlabelled target rows, a labelled shifted test set."""
    rng = np.random.default_rng(seed)
    shift = np.zeros(N_FEATURES)
    shift[:3] = [1.0, -0.5, 0.5]

    def label(X: np.ndarray) -> np.ndarray:
        value = X[:, 0] + 0.5 * X[:, 1] ** 2 - 0.5 * X[:, 2] + 0.3 * X[:, 3:6].sum(axis=1)
        return (value + 0.3 * rng.normal(size=len(X)) > 1.0).astype(int)

    X_source = rng.normal(size=(n, N_FEATURES))
    X_target = rng.normal(size=(n, N_FEATURES)) + shift
    X_test = rng.normal(size=(N_TEST, N_FEATURES)) + shift
    return {"X_source": X_source, "y_source": label(X_source), "X_target": X_target,
            "X_test": X_test, "y_test": label(X_test)}


def score_weights(data: dict[str, np.ndarray], weights: np.ndarray) -> dict[str, float]:
    """Target accuracy of a logistic regression trained with ``weights``, and their ESS."""
    from sklearn.linear_model import LogisticRegression

    weights = np.asarray(weights, dtype=float).ravel()
    if weights.shape[0] != data["X_source"].shape[0]:
        raise ValueError(f"expected {data['X_source'].shape[0]} weights, got "
                         f"{weights.shape[0]}")
    if not np.all(np.isfinite(weights)) or weights.sum() <= 0:
        raise ValueError("weights contain NaN, infinity or sum to zero")
    model = LogisticRegression(max_iter=1000)
    model.fit(data["X_source"], data["y_source"], sample_weight=weights)
    ess = weights.sum() ** 2 / np.square(weights).sum() / len(weights)
    return {"metric": "accuracy", "score": float(model.score(data["X_test"], data["y_test"])),
            "ess_fraction": float(ess), "n_source": int(len(weights))}


def gap_markets(n: int, *, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two markets of ``n`` rows; the second carries the ``PLANTED`` shifts."""
    return market(n, False, seed), market(n, True, seed + 1)


def market(n: int, shifted: bool, seed: int) -> pd.DataFrame:
    """One market of ``gap_markets``: with the planted shifts when ``shifted``."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    for j in range(40):
        column = rng.standard_normal(n)
        if shifted and j == 0:
            column += 0.05
        if shifted and j == 1:
            column += 0.5
        if shifted and j == 2:
            column *= 1.5
        data[f"num_{j:02d}"] = column
    for j in range(10):
        p = np.full(8, 1 / 8)
        if shifted and j == 0:
            p[0] += 0.02
            p[1] -= 0.02
        values = np.asarray(LEVELS, dtype=object)[rng.choice(8, size=n, p=p)]
        if shifted and j == 1:
            values[rng.random(n) < 0.10] = "new_in_target"
        data[f"cat_{j:02d}"] = pd.Categorical(values)
    return pd.DataFrame(data)


def score_gap(flagged: list[str]) -> dict[str, object]:
    """Which planted shifts were found and how many unshifted columns were flagged."""
    flagged = [str(name) for name in flagged]
    return {"found": [name for name in PLANTED if name in flagged],
            "n_found": sum(name in flagged for name in PLANTED),
            "subtle_found": sum(name in flagged for name in SUBTLE),
            "false_alarms": sum(name not in PLANTED for name in flagged)}
