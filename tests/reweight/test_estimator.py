"""ReweightedEstimator: weights routed to the learner, sklearn meta-estimator behaviour."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from transferkit import Domain
from transferkit.reweight import MLLS, DiscriminativeRatio, ReweightedEstimator


class _Recorder(LogisticRegression):
    """LogisticRegression that remembers the sample_weight it was fitted with."""

    def fit(self, X, y, sample_weight=None):
        self.seen_weight_ = sample_weight
        return super().fit(X, y, sample_weight=sample_weight)


def test_weights_reach_the_final_step_of_nested_pipelines(two_markets) -> None:
    source, target, _ = two_markets
    inner = Pipeline([("scale", StandardScaler()), ("model", _Recorder())])
    outer = Pipeline([("pre", StandardScaler()), ("inner", inner)])
    fitted = ReweightedEstimator(outer, DiscriminativeRatio()).fit(source, target)
    recorder = fitted.estimator_.named_steps["inner"].named_steps["model"]
    np.testing.assert_allclose(recorder.seen_weight_, fitted.sample_weight_)
    np.testing.assert_allclose(fitted.sample_weight_, fitted.weighter_.weights_)
    assert fitted.predict_proba(target.X).shape == (target.n_samples, 2)


def test_reweighting_helps_under_covariate_shift(two_markets) -> None:
    source, target, _ = two_markets
    # A misspecified (linear, 1-feature) model: its best fit depends on where the data are.
    X_s, X_t = source.X[:, :1], target.X[:, :1]
    plain = LogisticRegression().fit(X_s, source.y).score(X_t, target.y)
    weighted = ReweightedEstimator(LogisticRegression()).fit(X_s, source.y, X_target=X_t)
    assert weighted.score(X_t, target.y) >= plain - 0.01
    assert is_classifier(weighted) and not is_regressor(weighted)
    assert weighted.weight_report().n_source == source.n_samples


def test_grid_search_with_a_prefitted_weighter(two_markets) -> None:
    source, target, _ = two_markets
    weighter = DiscriminativeRatio().fit(source, target)
    search = GridSearchCV(
        ReweightedEstimator(make_pipeline(StandardScaler(), LogisticRegression()),
                            FrozenEstimator(weighter)),
        {"estimator__logisticregression__C": [0.1, 1.0]}, cv=3,
    ).fit(source.X, source.y)
    assert search.best_params_["estimator__logisticregression__C"] in (0.1, 1.0)
    best = search.best_estimator_
    np.testing.assert_allclose(best.sample_weight_, weighter.compute_weights(source.X))
    assert clone(best).get_params()["weighter"] is not None
    restored = pickle.loads(pickle.dumps(best))
    np.testing.assert_allclose(restored.predict_proba(target.X), best.predict_proba(target.X))


def test_prefitted_weighter_without_freezing(two_markets) -> None:
    source, target, _ = two_markets
    weighter = DiscriminativeRatio().fit(source, target)
    fitted = ReweightedEstimator(LogisticRegression(), weighter).fit(source.X, source.y)
    np.testing.assert_allclose(fitted.sample_weight_, weighter.weights_)


def test_label_shift_weighter_weights_by_class() -> None:
    rng = np.random.default_rng(0)
    y_s, y_t = rng.integers(0, 2, 500), (rng.random(400) < 0.2).astype(int)
    X_s = rng.normal(size=(500, 2)) + 2 * y_s[:, None]
    X_t = rng.normal(size=(400, 2)) + 2 * y_t[:, None]
    fitted = ReweightedEstimator(LogisticRegression(), MLLS()).fit(X_s, y_s, X_target=X_t)
    expected = fitted.weighter_.class_weights_[y_s]
    np.testing.assert_allclose(fitted.sample_weight_, expected)
    assert fitted.sample_weight_[y_s == 1].mean() < fitted.sample_weight_[y_s == 0].mean()


def test_regressor_base() -> None:
    rng = np.random.default_rng(0)
    X_s, X_t = rng.normal(size=(200, 2)), rng.normal(size=(100, 2)) + 1
    model = ReweightedEstimator(Ridge()).fit(X_s, X_s[:, 0] * 2, X_target=X_t)
    assert is_regressor(model)
    assert model.score(X_t, X_t[:, 0] * 2) > 0.99


def test_clear_errors(two_markets) -> None:
    source, target, _ = two_markets
    with pytest.raises(TypeError, match="does not accept sample_weight"):
        ReweightedEstimator(KNeighborsClassifier()).fit(source, target)
    with pytest.raises(ValueError, match="no target rows and an unfitted weighter"):
        ReweightedEstimator(LogisticRegression()).fit(source.X, source.y)
    with pytest.raises(TypeError, match="source Domain"):
        ReweightedEstimator(LogisticRegression()).fit(source, target.X)
    unlabelled = Domain.from_arrays(source.X, name="us")
    with pytest.raises(ValueError, match="no labelled rows"):
        ReweightedEstimator(LogisticRegression()).fit(unlabelled, target)
