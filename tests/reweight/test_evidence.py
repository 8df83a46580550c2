"""Evidence on real data: planted selection bias is undone; real market pairs are not hurt.

The Stack Overflow survey ships with the package, so the selection-bias test always runs;
the Amazon market-pair test skips when ``../shared/data`` is absent.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import shared_path
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from transferkit import TransferWarning
from transferkit.datasets import load_stackoverflow
from transferkit.reweight import REWEIGHTERS, ReweightedEstimator

NUMERIC = ["Salary", "YearsCodedJob", "CompanySizeNumber", "CareerSatisfaction"]


@pytest.fixture(scope="module")
def planted_selection() -> dict[str, np.ndarray]:
    """US respondents; the source keeps a respondent with probability rising in salary.

    Target: 1,000 random respondents. Source: the others, each kept with probability
    ``p = sigmoid(-0.5 + 1.5 z)`` where ``z`` is the standardised salary, so the true
    importance weight of a source row is proportional to ``1 / p``.
    """
    us = load_stackoverflow(["United States"])["United States"]
    X = us.X[:, [us.feature_names.index(c) for c in NUMERIC]]
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    target, pool = order[:1000], order[1000:]
    z = (X[:, 0] - X[:, 0].mean()) / X[:, 0].std()
    keep = 1 / (1 + np.exp(-(-0.5 + 1.5 * z)))
    source = pool[rng.random(len(pool)) < keep[pool]]
    X_all = np.concatenate([X[source], X[target]])
    is_target = np.r_[np.zeros(len(source), dtype=int), np.ones(len(target), dtype=int)]
    return {"X": X_all, "is_target": is_target, "X_source": X[source],
            "X_target": X[target], "inverse_keep": 1 / keep[source]}


def test_planted_shift_is_real(planted_selection) -> None:
    source_mean = planted_selection["X_source"][:, 0].mean()
    target_mean = planted_selection["X_target"][:, 0].mean()
    assert source_mean > target_mean * 1.15


@pytest.mark.parametrize("name", REWEIGHTERS.names())
def test_weights_recover_the_selection_rule(planted_selection, name) -> None:
    weighter = REWEIGHTERS.get(name)().fit(planted_selection["X"],
                                           planted_selection["is_target"])
    w = weighter.weights_
    assert spearmanr(w, planted_selection["inverse_keep"])[0] >= 0.6
    salary_source = planted_selection["X_source"][:, 0]
    target_mean = planted_selection["X_target"][:, 0].mean()
    weighted_gap = abs(np.average(salary_source, weights=w) - target_mean)
    assert weighted_gap < 0.75 * abs(salary_source.mean() - target_mean)


@pytest.fixture(scope="module")
def books_to_kitchen():
    shared_path("amazon_review_400")
    from transferkit.datasets.amazon import load_amazon_sentiment

    markets = load_amazon_sentiment(["books", "kitchen"])
    return markets["books"], markets["kitchen"]


def _model():
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=1000))


@pytest.mark.parametrize("name", ["kmm", "kliep", "ulsif"])
def test_kernel_weighting_does_not_hurt_a_real_market_pair(books_to_kitchen, name) -> None:
    source, target = books_to_kitchen
    plain = _model().fit(source.X, source.y).score(target.X, target.y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransferWarning)
        weighted = ReweightedEstimator(_model(), REWEIGHTERS.get(name)()).fit(source, target)
    # Two binomial standard errors of the target accuracy (2,000 reviews): about 0.02.
    noise = 2 * np.sqrt(plain * (1 - plain) / target.n_samples)
    assert weighted.score(target.X, target.y) >= plain - noise


def test_separable_markets_raise_the_low_ess_warning(books_to_kitchen) -> None:
    # The 400-word vocabularies of books and kitchen reviews are almost separable: a
    # domain classifier puts nearly all weight on a few reviews, and says so.
    source, target = books_to_kitchen
    with pytest.warns(TransferWarning, match="rest on few rows"):
        weighter = REWEIGHTERS.get("discriminative")().fit(source, target)
    assert weighter.weight_report().ess_fraction < 0.1
