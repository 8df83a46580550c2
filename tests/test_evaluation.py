"""Scores and bootstrap intervals match scikit-learn and behave like intervals should."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from transferkit.evaluation import (
    bootstrap_scores,
    bootstrap_weights,
    classification_scores,
    regression_scores,
    resampled_scores,
)


def _noisy_proba(y: np.ndarray, n_classes: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.ones(n_classes), len(y))
    proba[np.arange(len(y)), y] += 0.4
    return np.round(proba / proba.sum(axis=1, keepdims=True), 2)


@settings(max_examples=30, deadline=None)
@given(n_classes=st.integers(2, 4), n=st.integers(5, 60), seed=st.integers(0, 1000))
def test_vectorised_resamples_equal_direct_scores(n_classes, n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    proba = _noisy_proba(y, n_classes, seed)
    rows = rng.integers(0, n, n)
    counts = np.bincount(rows, minlength=n)[None, :]
    classes = list(range(n_classes))
    direct = classification_scores(y[rows], proba[rows], classes=classes)
    vectorised = resampled_scores(y, proba, classes=classes, weights=counts)
    for name, value in direct.items():
        np.testing.assert_allclose(vectorised[name][0], value, rtol=1e-9, atol=1e-12,
                                   equal_nan=True, err_msg=name)


def test_scores_match_sklearn_with_string_classes():
    y = np.array(["no", "yes", "yes", "no", "yes"])
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.4, 0.6], [0.1, 0.9]])
    scores = classification_scores(y, proba, classes=["no", "yes"])
    assert scores["accuracy"] == pytest.approx(0.6)
    assert scores["roc_auc"] == pytest.approx(skm.roc_auc_score(y == "yes", proba[:, 1]))
    assert scores["log_loss"] == pytest.approx(skm.log_loss(y, proba, labels=["no", "yes"]))


def test_regression_resamples_match_direct():
    rng = np.random.default_rng(0)
    y, pred = rng.normal(size=40), rng.normal(size=40)
    rows = rng.integers(0, 40, 40)
    direct = regression_scores(y[rows], pred[rows])
    vectorised = resampled_scores(y, pred, weights=np.bincount(rows, minlength=40)[None])
    for name, value in direct.items():
        assert vectorised[name][0] == pytest.approx(value)


def test_interval_contains_value_and_narrows_with_more_rows():
    rng = np.random.default_rng(1)
    widths = []
    for n in (100, 2000):
        y = rng.integers(0, 2, n)
        proba = np.c_[1 - y * 0.6 - 0.2, y * 0.6 + 0.2]
        flip = rng.random(n) < 0.25
        proba[flip] = proba[flip, ::-1]
        table = bootstrap_scores(y, proba, classes=[0, 1], n_resamples=300, seed=0)
        low, value, high = table.loc["accuracy", ["low", "value", "high"]]
        assert low <= value <= high
        widths.append(table.loc["accuracy", "high"] - table.loc["accuracy", "low"])
    assert widths[1] < widths[0] / 2


def test_paired_weights_are_shared_and_reproducible():
    assert np.array_equal(bootstrap_weights(10, 5, seed=2), bootstrap_weights(10, 5, seed=2))
    assert bootstrap_weights(10, 5).sum(axis=1).tolist() == [10] * 5


@pytest.mark.parametrize(
    ("y", "proba", "message"),
    [
        ([0, 1], [[0.5, 0.5]], "shape"),
        ([0, 2], [[0.5, 0.5], [0.5, 0.5]], r"Labels \[2\] are not among"),
        ([0, 1], [[np.nan, 0.5], [0.5, 0.5]], "NaN"),
    ],
)
def test_bad_predictions_are_named(y, proba, message):
    with pytest.raises(ValueError, match=message):
        classification_scores(np.array(y), np.array(proba), classes=[0, 1])


def test_too_few_rows_for_an_interval():
    with pytest.raises(ValueError, match="at least 2 target rows"):
        bootstrap_scores([1], [[0.2, 0.8]], classes=[0, 1])
