"""Two small shop markets with a categorical column, a known shift and a few target labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from transferkit import Domain


def shop_frame(n: int, shift: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    price = rng.normal(50 + 20 * shift, 15, size=n)
    visits = rng.poisson(3 + shift, size=n).astype(float)
    channel = rng.choice(["web", "app", "store"], size=n, p=[0.5, 0.3, 0.2])
    logit = 0.08 * (price - 55) + 0.4 * (visits - 3) + (channel == "app") * 0.8
    bought = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"price": price, "visits": visits, "channel": channel,
                         "bought": bought})


@pytest.fixture(scope="session")
def markets() -> tuple[Domain, Domain, pd.DataFrame]:
    """(source, target with 40 of 200 rows labelled, held-out raw target rows)."""
    source = Domain.from_frame(shop_frame(300, 0.0, 0), label="bought", name="us")
    target_frame = shop_frame(260, 1.0, 1)
    train, held_out = target_frame.iloc[:200].copy(), target_frame.iloc[200:]
    train.loc[train.index[40:], "bought"] = np.nan
    target = Domain.from_frame(train, label="bought", name="ca", allow_unlabeled=True)
    return source, target, held_out.drop(columns=["bought"]).reset_index(drop=True)


@pytest.fixture(scope="session")
def regression_markets() -> tuple[Domain, Domain, pd.DataFrame]:
    """Spend per customer in two shops: (source, target with 40 labels, raw held-out rows)."""
    frames = []
    for seed, shift in ((0, 0.0), (1, 1.0)):
        frame = shop_frame(260, shift, seed).drop(columns=["bought"])
        rng = np.random.default_rng(seed + 10)
        frame["spend"] = (0.5 * frame["price"] + 4 * frame["visits"]
                          + 10 * (frame["channel"] == "app") + rng.normal(0, 3, len(frame)))
        frames.append(frame)
    source = Domain.from_frame(frames[0], label="spend", name="us")
    train, held_out = frames[1].iloc[:200].copy(), frames[1].iloc[200:]
    train.loc[train.index[40:], "spend"] = np.nan
    target = Domain.from_frame(train, label="spend", name="ca", allow_unlabeled=True)
    return source, target, held_out.drop(columns=["spend"]).reset_index(drop=True)
