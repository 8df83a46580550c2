"""NegativeTransferGuard: falls back loudly on negative transfer, keeps a good transfer."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from transferkit import Domain, TransferWarning
from transferkit.detect import NegativeTransferGuard


@pytest.fixture(scope="module")
def setting():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 2))
    y = (X[:, 0] > 0).astype(int)
    good = LogisticRegression().fit(X[:300], y[:300])
    wrong = LogisticRegression().fit(X[:300], (X[:300, 1] > 0).astype(int))
    test = Domain.from_arrays(X[300:], y[300:], name="jp")
    return good, wrong, test


def test_negative_transfer_falls_back_loudly(setting) -> None:
    good, wrong, test = setting
    with pytest.warns(TransferWarning, match="FALLBACK.*'target_only'"):
        guard = NegativeTransferGuard(n_resamples=50).fit(
            wrong, {"source_only": wrong, "target_only": good}, test)
    assert guard.fell_back_ and guard.chosen_ == "target_only"
    assert guard.model_ is good
    assert guard.verdict_.verdict == "negative"
    assert guard.report_.startswith("FALLBACK: the transferred model is NOT used")
    np.testing.assert_array_equal(guard.predict(test), good.predict(test.X))
    np.testing.assert_allclose(guard.predict_proba(test.X), good.predict_proba(test.X))
    np.testing.assert_array_equal(guard.classes_, good.classes_)


def test_positive_transfer_is_kept(setting) -> None:
    good, wrong, test = setting
    with warnings.catch_warnings():
        warnings.simplefilter("error", TransferWarning)
        guard = NegativeTransferGuard(n_resamples=50).fit(good, {"target_only": wrong}, test)
    assert not guard.fell_back_
    assert guard.chosen_ == "transferred" and guard.model_ is good
    assert guard.verdict_.verdict == "positive"
    assert guard.report_.startswith("Serving the transferred model")


def test_inconclusive_keeps_or_falls_back_as_configured(setting) -> None:
    good, _, test = setting
    keep = NegativeTransferGuard(n_resamples=50).fit(good, {"twin": good}, test)
    assert keep.verdict_.verdict == "inconclusive" and not keep.fell_back_
    with pytest.warns(TransferWarning, match="inconclusive and on_inconclusive='fallback'"):
        cautious = NegativeTransferGuard(n_resamples=50, on_inconclusive="fallback").fit(
            good, {"twin": good}, test)
    assert cautious.fell_back_ and cautious.chosen_ == "twin"


def test_guard_bad_use(setting) -> None:
    good, wrong, test = setting
    with pytest.raises(AttributeError, match="not fitted yet"):
        NegativeTransferGuard().predict(test)
    with pytest.raises(ValueError, match="'on_inconclusive' parameter"):
        NegativeTransferGuard(on_inconclusive="maybe").fit(good, {"t": wrong}, test)
    with pytest.raises(TypeError, match="array of outputs"):
        NegativeTransferGuard().fit(good.predict_proba(test.X), {"t": wrong}, test)
    assert "chosen_" not in repr(NegativeTransferGuard())


def test_unfitted_or_mis_shaped_models_are_refused_at_the_door():
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from transferkit import Domain

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    test = Domain.from_arrays(X, y, name="jp")
    fitted = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="unfitted LogisticRegression"):
        NegativeTransferGuard().fit(LogisticRegression(), {"source_only": fitted}, test)
    wide = LogisticRegression().fit(np.c_[X, X[:, :1]], y)
    with pytest.raises(ValueError, match="fitted on 4 features but the data have 3"):
        NegativeTransferGuard().fit(fitted, {"source_only": wide}, test)
