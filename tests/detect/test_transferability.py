"""LogME, LEEP, NCE, H-score and rank_sources: numerics against slow references, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats
from sklearn.linear_model import LogisticRegression

from transferkit import Domain
from transferkit.detect import h_score, leep, logme, nce, rank_sources


def slow_log_evidence(features: np.ndarray, y: np.ndarray) -> float:
    """Max over (alpha, beta) of log N(y | 0, I / beta + F F^T / alpha), by brute force."""
    n = len(features)

    def negative(log_params: np.ndarray) -> float:
        alpha, beta = np.exp(log_params)
        covariance = np.eye(n) / beta + features @ features.T / alpha
        return -stats.multivariate_normal(np.zeros(n), covariance).logpdf(y)

    best = min(
        (optimize.minimize(negative, start, method="Nelder-Mead",
                           options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 4000})
         for start in ([0.0, 0.0], [2.0, -2.0], [-2.0, 2.0])),
        key=lambda r: r.fun,
    )
    return -best.fun


@pytest.mark.parametrize(("n", "d", "k"), [(30, 4, 2), (25, 40, 3), (60, 2, 4)])
def test_logme_matches_direct_evidence_maximisation(n: int, d: int, k: int) -> None:
    rng = np.random.default_rng(n + d)
    features = rng.normal(size=(n, d))
    labels = (features[:, 0] + rng.normal(size=n) > 0).astype(int) + rng.integers(0, k - 1, n)
    one_hot = np.eye(labels.max() + 1)[labels]
    expected = np.mean([slow_log_evidence(features, one_hot[:, c])
                        for c in range(one_hot.shape[1])]) / n
    assert logme(features, labels) == pytest.approx(expected, abs=1e-5)


def test_logme_regression_matches_direct_evidence() -> None:
    rng = np.random.default_rng(1)
    features = rng.normal(size=(40, 3))
    y = features @ np.array([1.0, -0.5, 0.0]) + 0.3 * rng.normal(size=40)
    assert logme(features, y, task="regression") == pytest.approx(
        slow_log_evidence(features, y) / 40, abs=1e-5)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.01, 100.0))
def test_logme_is_invariant_to_feature_scale_and_label_names(seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(40, 5))
    y = rng.integers(0, 3, 40)
    y[:3] = [0, 1, 2]
    names = np.array(["jp", "us", "de"])[y]
    # Scaling F by c is absorbed by alpha -> c^2 alpha: the maximum evidence is unchanged.
    assert logme(features * scale, names) == pytest.approx(logme(features, y), abs=1e-5)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_leep_ignores_the_order_of_source_classes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(4), 60)
    y = rng.integers(0, 2, 60)
    y[:2] = [0, 1]
    assert leep(probs[:, rng.permutation(4)], y) == pytest.approx(leep(probs, y))


def test_logme_ranks_informative_features_above_noise() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    informative = np.eye(3)[y] * 2 + rng.normal(size=(300, 3))
    weak = np.eye(3)[y] * 0.3 + rng.normal(size=(300, 3))
    noise = rng.normal(size=(300, 3))
    assert logme(informative, y) > logme(weak, y) > logme(noise, y)


def test_leep_of_perfect_classifier_is_the_log_likelihood_bound() -> None:
    labels = np.array(["cat", "dog", "cow", "dog", "cat"])
    # Source classes 0..4 map many-to-one onto target classes: still a perfect predictor.
    source_classes = np.array([0, 1, 2, 3, 4])
    perfect = np.eye(5)[source_classes]
    assert leep(perfect, labels) == 0.0
    assert nce(source_classes, labels) == 0.0


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 4), st.integers(2, 5))
def test_leep_is_at_most_zero_and_equals_nce_for_hard_predictions(
    seed: int, n_target: int, n_source: int
) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_target, 50)
    y[:n_target] = np.arange(n_target)
    soft = rng.dirichlet(np.ones(n_source), 50)
    assert leep(soft, y) <= 1e-12
    hard = np.eye(n_source)[soft.argmax(axis=1)]
    # Theorem of Nguyen et al. (2020): with one-hot outputs LEEP is exactly NCE.
    assert leep(hard, y) == pytest.approx(nce(soft.argmax(axis=1), y), abs=1e-10)
    assert -np.log(n_target) - 1e-9 <= nce(soft, y) <= 0


def test_leep_prefers_the_source_model_that_fits_the_target() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    related = np.where(rng.random(400) < 0.85, y, 1 - y)
    useful = np.eye(2)[related] * 0.8 + 0.1
    useless = rng.dirichlet(np.ones(2), 400)
    assert leep(useful, y) > leep(useless, y)


def test_h_score_orders_features_and_respects_its_bound() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 500)
    good = np.eye(3)[y] * 3 + rng.normal(size=(500, 3))
    bad = rng.normal(size=(500, 3))
    for shrinkage in ("auto", None, 0.2):
        assert h_score(good, y, shrinkage=shrinkage) > h_score(bad, y, shrinkage=shrinkage)
    assert h_score(good, y, shrinkage=None) <= 2 + 1e-9  # at most n_classes - 1


def test_h_score_shrinkage_is_validated() -> None:
    with pytest.raises(ValueError, match="'shrinkage' parameter of h_score"):
        h_score(np.ones((4, 1)), [0, 1, 0, 1], shrinkage=1.5)


@pytest.mark.parametrize("score", [logme, h_score])
def test_one_class_is_refused_with_advice(score) -> None:
    with pytest.raises(ValueError, match="single class"):
        score(np.random.default_rng(0).normal(size=(10, 2)), np.zeros(10))


def test_leep_rejects_non_probabilities_and_wrong_lengths() -> None:
    with pytest.raises(ValueError, match="softmax"):
        leep(np.array([[2.0, -1.0], [0.5, 0.5]]), [0, 1])
    with pytest.raises(ValueError, match="one label per row"):
        leep(np.eye(2), [0, 1, 1])
    with pytest.raises(ValueError, match="NaN"):
        logme(np.eye(3), np.array([0.0, 1.0, np.nan]))


def test_rank_sources_with_cached_arrays_and_fitted_models() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] > 0).astype(int)
    target = Domain.from_arrays(X, y, name="jp")
    related = LogisticRegression().fit(X, y)
    unrelated = LogisticRegression().fit(X, (X[:, 1] > 0).astype(int))
    table = rank_sources({"unrelated": unrelated, "related": related}, target, score="leep")
    assert table.index.tolist() == ["related", "unrelated"]
    assert table["rank"].tolist() == [1, 2]
    # Not isotropic features: on N(0, I) data Ledoit-Wolf shrinks fully (alpha = 1) and the
    # regularised H-score of any feature set is 0 (see the h_score docstring).
    features = np.c_[2 * X[:, 0], X[:, 1]]
    arrays = rank_sources({"noise": rng.normal(size=(300, 2)), "x": features}, y,
                          score="h_score")
    assert arrays.index[0] == "x"


def test_rank_sources_bad_input() -> None:
    y = np.array([0, 1] * 10)
    with pytest.raises(ValueError, match="'score' parameter of rank_sources"):
        rank_sources({"a": np.ones((20, 1))}, y, score="logmee")
    with pytest.raises(ValueError, match="no candidates"):
        rank_sources({}, y)
    with pytest.raises(TypeError, match="labelled target Domain"):
        rank_sources({"model": LogisticRegression()}, y)
    with pytest.raises(ValueError, match="candidate 'one'.*single class"):
        rank_sources({"one": np.ones((20, 1))}, np.zeros(20))


def test_shrunk_h_score_never_exceeds_classes_minus_one_and_ranks_noise_last() -> None:
    # 88 rows, 1,280-d, 10 classes: Ledoit-Wolf shrinks hard. Without the (1 - alpha)
    # factor pure noise scored ~100 and outranked informative features (~10); the score
    # can never exceed C - 1 = 9.
    rng = np.random.default_rng(0)
    y = np.arange(88) % 10
    noise = rng.normal(size=(88, 1280))
    informative = noise.copy()
    informative[:, :20] += 3.0 * np.eye(10)[y] @ rng.normal(size=(10, 20))
    noise_score, informative_score = h_score(noise, y), h_score(informative, y)
    assert 0.0 <= noise_score <= 9.0
    assert 0.0 <= informative_score <= 9.0
    assert informative_score > noise_score
    assert 0.0 <= h_score(noise, y, shrinkage=0.9) <= 9.0
