"""Contract, bad-input, persistence and behaviour tests of every few-label method."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import skops.io as sio
from sklearn.base import clone

from transferkit import Domain
from transferkit.exceptions import DomainMismatchError, TransferWarning
from transferkit.fewlabel import FEWLABEL
from transferkit.reweight import DiscriminativeRatio

REGRESSION_ONLY = {"tradaboost_r2", "two_stage_tradaboost_r2"}
CLASSIFICATION_ONLY = {"tradaboost"}
FAST = {"tradaboost": {"n_estimators": 4}, "tradaboost_r2": {"n_estimators": 4},
        "two_stage_tradaboost_r2": {"n_steps": 4, "n_estimators": 3}}


def make(name: str, **params: object):
    extra = dict(FAST.get(name, {}))
    if name == "weighted_pooled":
        extra["weighter"] = DiscriminativeRatio()
    return FEWLABEL.get(name)(random_state=0, **extra, **params)


def markets(task: str, n_target_labels: int = 30, seed: int = 0) -> tuple[Domain, Domain]:
    """A source and a shifted target whose rule differs a little (transfer helps)."""
    rng = np.random.default_rng(seed)
    X_s = rng.normal(size=(300, 4))
    X_t = rng.normal(size=(120, 4)) + [0.5, 0.0, 0.0, 0.0]
    w_s, w_t = np.array([1.0, 1.0, 0.0, 0.0]), np.array([1.0, 1.3, 0.3, 0.0])
    if task == "regression":
        y_s = X_s @ w_s + 0.2 * rng.normal(size=300)
        y_t = X_t @ w_t + 1.0 + 0.2 * rng.normal(size=120)
    elif task == "binary":
        y_s = (X_s @ w_s + 0.3 * rng.normal(size=300) > 0).astype(int)
        y_t = (X_t @ w_t + 0.3 * rng.normal(size=120) > 0.5).astype(int)
    else:
        y_s = np.digitize(X_s @ w_s, [-0.7, 0.7])
        y_t = np.digitize(X_t @ w_t, [-0.2, 1.2])
    source = Domain.from_arrays(X_s, y_s, name="us", task=task)
    y_hidden = y_t.astype(float)
    y_hidden[n_target_labels:] = np.nan
    target = Domain.from_arrays(X_t, y_hidden, name="de", task=task, allow_unlabeled=True)
    return source, target


def names_for(task: str) -> list[str]:
    skip = CLASSIFICATION_ONLY if task == "regression" else REGRESSION_ONLY
    return [n for n in FEWLABEL if n not in skip]


CASES = [(name, task) for task in ("binary", "multiclass", "regression")
         for name in names_for(task)]


def test_registry_names() -> None:
    assert set(FEWLABEL) == {
        "feature_augmentation", "pooled", "regular_transfer", "source_only", "stacking",
        "target_only", "tradaboost", "tradaboost_r2", "two_stage_tradaboost_r2",
        "weighted_pooled",
    }


@pytest.mark.parametrize(("name", "task"), CASES)
def test_contract_and_skops_round_trip(name: str, task: str) -> None:
    source, target = markets(task)
    model = make(name)
    assert repr(clone(model).get_params(deep=False)) == repr(model.get_params(deep=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransferWarning)
        assert model.fit(source, target) is model
    assert model.n_features_in_ == 4
    X = target.X[30:]
    predictions = model.predict(X)
    assert predictions.shape == (90,)
    np.testing.assert_allclose(model.predict(target)[30:], predictions, rtol=1e-12, atol=1e-12)
    data = sio.dumps(model)
    loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    if task == "regression":
        np.testing.assert_allclose(loaded.predict(X), predictions, rtol=1e-12, atol=1e-12)
        assert np.isfinite(predictions).all()
        return
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-8)
    np.testing.assert_array_equal(model.classes_, source.classes)
    np.testing.assert_array_equal(model.classes_[proba.argmax(axis=1)], predictions)
    np.testing.assert_array_equal(loaded.predict(X), predictions)
    np.testing.assert_allclose(loaded.predict_proba(X), proba, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", [n for n in FEWLABEL if n != "source_only"])
def test_bad_inputs_raise_one_clear_error(name: str) -> None:
    task = "regression" if name in REGRESSION_ONLY else "binary"
    source, target = markets(task)
    with pytest.raises(ValueError, match="no labelled rows"):
        make(name).fit(source, Domain.from_arrays(target.X, name="de"))
    if task == "binary":
        one_class = np.full(len(target), np.nan)
        one_class[:10] = 1
        with pytest.raises(ValueError, match="at least two classes"):
            make(name).fit(source, Domain.from_arrays(target.X, one_class, name="de",
                                                      task="binary", allow_unlabeled=True))
        three = Domain.from_arrays(target.X[:12], [0, 1, 2] * 4, name="de", task="binary")
        with pytest.raises(DomainMismatchError, match="exist in one market only"):
            make(name).fit(source, three)
    with pytest.raises(TypeError, match="fit\\(source: Domain, target: Domain\\)"):
        make(name).fit(source.X, target)
    with pytest.raises(DomainMismatchError, match="features"):
        make(name).fit(source, Domain.from_arrays(target.X[:, :3], target.labeled_mask
                                                  .astype(float), name="de"))


def test_regression_labels_must_be_finite() -> None:
    from transferkit.fewlabel.base import check_pair

    source, _ = markets("regression")
    object_labels = np.array([1.0, np.inf, 2.0, 3.0], dtype=object)
    target = Domain.from_arrays(np.zeros((4, 4)), object_labels, name="de", task="regression")
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_pair("RegularTransfer", source, target)


def test_task_specific_methods_refuse_the_other_task() -> None:
    binary, regression = markets("binary"), markets("regression")
    with pytest.raises(ValueError, match="for classification"):
        make("tradaboost").fit(*regression)
    for name in REGRESSION_ONLY:
        with pytest.raises(ValueError, match="for regression"):
            make(name).fit(*binary)


def test_weighted_pooled_needs_a_weighter() -> None:
    with pytest.raises(TypeError, match="DiscriminativeRatio"):
        FEWLABEL.get("weighted_pooled")().fit(*markets("binary"))


def test_too_few_rows_to_tune_warns_and_uses_the_default() -> None:
    source, target = markets("binary")
    labels = np.full(len(target), np.nan)
    labels[:3] = [0, 1, 0]
    target = Domain.from_arrays(target.X, labels, name="de", allow_unlabeled=True)
    with pytest.warns(TransferWarning, match="too few labelled target rows"):
        model = make("regular_transfer").fit(source, target)
    assert model.penalty_ == 1e4


def test_transfer_beats_both_baselines_on_shifted_regression() -> None:
    """The target differs by an offset and one slope: regular transfer uses both sources."""
    source, target = markets("regression", n_target_labels=20, seed=1)
    truth = Domain.from_arrays(target.X, markets("regression", 120, seed=1)[1].y, name="de")
    scores = {}
    for name in ("source_only", "target_only", "regular_transfer", "stacking"):
        prediction = make(name).fit(source, target).predict(truth.X[20:])
        scores[name] = float(np.sqrt(np.mean((prediction - truth.y[20:]) ** 2)))
    assert scores["regular_transfer"] < min(scores["source_only"], scores["target_only"])
    assert scores["stacking"] < scores["source_only"]


def test_regular_transfer_keeps_the_source_model_under_a_strong_pull() -> None:
    source, target = markets("binary")
    model = make("regular_transfer", penalties=(1e9,)).fit(source, target)
    np.testing.assert_allclose(model.coef_, model.source_coef_, atol=1e-4)


def test_pooled_weights_give_the_target_its_share() -> None:
    from transferkit.fewlabel.pooled import pooled_weights

    weights = pooled_weights(np.ones(90), 10, 0.3)
    assert weights.mean() == pytest.approx(1.0)
    assert weights[90:].sum() / weights.sum() == pytest.approx(0.3)


def test_two_stage_shrinks_the_source_weight_to_each_share() -> None:
    from sklearn.tree import DecisionTreeRegressor

    from transferkit.fewlabel.tradaboost import _shrink_source

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 2)), rng.normal(size=50)
    is_target = np.arange(50) >= 40
    shrunk = _shrink_source(DecisionTreeRegressor(max_depth=2), X, y, np.ones(50), is_target,
                            0.6, 0)
    assert shrunk[is_target].sum() / shrunk.sum() == pytest.approx(0.6)
    assert (shrunk[~is_target] <= 1.0 + 1e-12).all()


def test_weighted_median() -> None:
    from transferkit.fewlabel.tradaboost import weighted_median

    predictions = np.array([[1.0, 5.0], [2.0, 4.0], [10.0, 0.0]])
    np.testing.assert_array_equal(weighted_median(predictions, np.array([1.0, 1.0, 3.0])),
                                  [10.0, 0.0])
    np.testing.assert_array_equal(weighted_median(predictions, np.array([1.0, 1.0, 1.0])),
                                  [2.0, 4.0])
