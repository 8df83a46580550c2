"""BBSE and MLLS recover planted target class priors on real data."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_path
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from transferkit import Domain, TransferWarning
from transferkit.reweight import BBSE, MLLS


def _plant(X: np.ndarray, y: np.ndarray, priors: np.ndarray, n_source: int, seed: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Source: ``n_source`` random rows. Target: the largest sample of the other rows,
    drawn without replacement, whose class mix is ``priors``; returns its exact mix."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    source, pool = order[:n_source], order[n_source:]
    classes = np.unique(y)
    available = np.array([(y[pool] == c).sum() for c in classes])
    n_target = int(np.min(available / np.maximum(priors, 1e-9)))
    counts = np.floor(priors * n_target).astype(int)
    target = np.concatenate([rng.choice(pool[y[pool] == c], size=k, replace=False)
                             for c, k in zip(classes, counts, strict=True)])
    return X[source], y[source], X[target], y[target], counts / counts.sum()


@pytest.fixture(scope="module")
def amazon_books() -> tuple[np.ndarray, np.ndarray]:
    shared_path("amazon_review_400")
    from transferkit.datasets.amazon import load_amazon_sentiment

    books = load_amazon_sentiment(["books"])["books"]
    return books.X, books.y


@pytest.mark.parametrize("estimator", [BBSE(), BBSE(confusion="soft"), MLLS()],
                         ids=["bbse-hard", "bbse-soft", "mlls"])
@pytest.mark.parametrize("positive_share", [0.2, 0.75])
def test_binary_priors_on_amazon_reviews(amazon_books, estimator, positive_share):
    # A 75 %-accurate sentiment classifier on 1,000 source reviews: the estimates are
    # within 0.1 here, but consistently over-correct by about 0.05 (see the benchmark
    # notes), so the 0.05 bound is checked on digits below.
    X, y = amazon_books
    X_s, y_s, X_t, _, planted = _plant(X, y, np.array([1 - positive_share, positive_share]),
                                        1000, seed=0)
    fitted = estimator.fit(X_s, y_s, X_target=X_t)
    np.testing.assert_allclose(fitted.target_priors_, planted, atol=0.1)
    assert fitted.source_priors_ == pytest.approx(np.bincount(y_s) / len(y_s))
    np.testing.assert_allclose(fitted.class_weights_,
                               fitted.target_priors_ / fitted.source_priors_)


def test_multiclass_priors_recovered_within_005_on_mnist() -> None:
    shared_path("mnist_usps_256")
    from transferkit.datasets.digits import load_mnist_usps

    mnist = load_mnist_usps()["mnist"]
    priors = np.random.default_rng(4).dirichlet(2 * np.ones(10))
    X_s, y_s, X_t, y_t, planted = _plant(mnist.X, mnist.y, priors, 1200, seed=0)
    classifier = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=300))
    classifier.fit(X_s[:600], y_s[:600])
    held_out = (X_s[600:], y_s[600:])
    for estimator in (MLLS(classifier, prefit=True), BBSE(classifier, prefit=True),
                      BBSE(classifier, prefit=True, confusion="soft")):
        fitted = estimator.fit(*held_out, X_target=X_t)
        np.testing.assert_allclose(fitted.target_priors_, planted, atol=0.05)
    mlls = MLLS(classifier, prefit=True).fit(*held_out, X_target=X_t)
    # Prior-adjusted probabilities fit the shifted target better than the source model.
    adjusted, plain = mlls.predict_proba(X_t), classifier.predict_proba(X_t)
    labels = mlls.classes_
    assert log_loss(y_t, adjusted, labels=labels) < log_loss(y_t, plain, labels=labels)
    assert accuracy_score(y_t, mlls.predict(X_t)) >= accuracy_score(y_t, classifier.predict(X_t))


def _toy(n: int, share: float, seed: int) -> Domain:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < share).astype(int)
    return Domain.from_arrays(rng.normal(size=(n, 2)) + 2.5 * y[:, None], y)


def test_domain_face_and_sample_weights() -> None:
    source, target = _toy(600, 0.5, 0), _toy(600, 0.2, 1)
    mlls = MLLS().fit(source, target.hide_labels(0))
    assert mlls.target_priors_[1] == pytest.approx(0.2, abs=0.05)
    weights = mlls.sample_weight_for(source.y)
    np.testing.assert_allclose(weights, mlls.class_weights_[source.y])
    with pytest.raises(ValueError, match=r"labels \[7\] are not among"):
        mlls.sample_weight_for([7])


def test_prefit_estimator_must_be_fitted_and_know_the_labels() -> None:
    source, target = _toy(200, 0.5, 0), _toy(200, 0.2, 1)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        BBSE(LogisticRegression(), prefit=True).fit(source, target)
    fitted = LogisticRegression().fit(source.X, source.y)
    with pytest.raises(ValueError, match=r"source labels \[5\] are not among"):
        BBSE(fitted, prefit=True).fit(source.X, np.where(source.y == 1, 5, 0),
                                      X_target=target.X)


def test_bad_input_is_named() -> None:
    source, target = _toy(200, 0.5, 0), _toy(200, 0.2, 1)
    with pytest.raises(ValueError, match="1 class"):
        MLLS().fit(source.X, np.zeros(200, dtype=int), X_target=target.X)
    with pytest.raises(ValueError, match="needs unlabelled target rows"):
        BBSE().fit(source.X, source.y)
    X_bad = source.X.copy()
    X_bad[3, 0] = np.nan
    with pytest.raises(ValueError, match=r"NaN values in 1 row \(3\)"):
        BBSE().fit(X_bad, source.y, X_target=target.X)
    with pytest.raises(ValueError, match="features"):
        BBSE().fit(source.X, source.y, X_target=np.zeros((5, 3)))
    with pytest.raises(ValueError, match="The 'confusion' parameter of BBSE"):
        BBSE(confusion="fuzzy").fit(source, target)


def test_useless_classifier_warns_for_bbse() -> None:
    rng = np.random.default_rng(0)
    # Labels independent of the features: the confusion matrix is nearly rank one.
    X_s, X_t = rng.normal(size=(3000, 2)), rng.normal(size=(3000, 2))
    y_s = rng.integers(0, 2, 3000)
    with pytest.warns(TransferWarning, match="nearly singular"):
        BBSE().fit(X_s, y_s, X_target=X_t)
