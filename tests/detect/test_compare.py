"""compare(): verdicts, intervals, paired test, breakdowns and bad input."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from transferkit import Domain, DomainMismatchError, TransferWarning
from transferkit.detect import MIN_ROWS_FOR_CI, compare
from transferkit.evaluation import bootstrap_scores


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)


@pytest.fixture(scope="module")
def models():
    X, y = _data(300, seed=1)
    rng = np.random.default_rng(2)
    flipped = np.where(rng.random(300) < 0.3, 1 - y, y)
    return {
        "good": LogisticRegression().fit(X, y),
        "noisy": LogisticRegression(C=0.01).fit(X[:, 1:], flipped),
        "wrong": LogisticRegression().fit(X, 1 - y),
    }


@pytest.fixture(scope="module")
def test_market() -> Domain:
    X, y = _data(300, seed=3)
    return Domain.from_frame(
        pd.DataFrame({"x0": X[:, 0], "x1": X[:, 1], "category": np.where(X[:, 1] > 0, "a", "b"),
                      "y": y}),
        label="y", numeric=["x0", "x1"], categorical=["category"], name="jp")


def _numeric(test: Domain) -> Domain:
    return Domain.from_arrays(test.frame[["x0", "x1"]].to_numpy(), test.y, name="jp")


def test_negative_transfer_is_detected(models, test_market) -> None:
    test = _numeric(test_market)
    verdict = compare(models["wrong"], {"target_only": models["good"]}, test, n_resamples=60)
    assert verdict.verdict == "negative"
    assert verdict.is_negative
    assert verdict.best_baseline == "target_only"
    assert verdict.high < 0 and verdict.difference < 0
    assert verdict.p_value < 0.05
    assert verdict.message.startswith("NEGATIVE TRANSFER")
    assert verdict.extra_labels_needed is None


def test_positive_transfer_is_detected(models, test_market) -> None:
    test = _numeric(test_market)
    baselines = {"source_only": models["wrong"], "target_only": _Column(models["noisy"])}
    verdict = compare(models["good"], baselines, test, n_resamples=60)
    assert verdict.verdict == "positive"
    assert verdict.best_baseline == "target_only"
    assert verdict.low > 0
    assert set(verdict.differences.index.get_level_values("baseline")) == {
        "source_only", "target_only"}


class _Column:
    """Wraps a model fitted on the second feature only (a weaker target-only model)."""

    def __init__(self, model):
        self.model = model
        self.classes_ = model.classes_

    def predict_proba(self, X):
        return self.model.predict_proba(np.asarray(X)[:, 1:])


def test_inconclusive_says_how_many_labels_would_settle_it(models) -> None:
    X, y = _data(60, seed=4)
    test = Domain.from_arrays(X, y)
    rng = np.random.default_rng(5)
    good = models["good"].predict_proba(X)
    # The same predictions with a few rows made wrong: a small, real difference.
    worse = good.copy()
    wrong_rows = rng.choice(60, size=3, replace=False)
    worse[wrong_rows] = worse[wrong_rows, ::-1]
    verdict = compare(worse, {"baseline": good}, test, n_resamples=60)
    assert verdict.verdict == "inconclusive"
    # 3 discordant rows, all one way: the exact test is not significant (p = 0.25) even
    # though the percentile bootstrap interval would be.
    assert verdict.p_value == pytest.approx(0.25)
    assert "exact McNemar p = 0.25" in verdict.message
    assert verdict.extra_labels_needed is not None and verdict.extra_labels_needed > 0
    assert f"About {verdict.extra_labels_needed} more labelled target rows" in verdict.message
    # The rule of thumb n' = n (half-width / |difference|)^2 is self-consistent: at that
    # size the same error rate gives an interval that excludes 0.
    n_needed = 60 + verdict.extra_labels_needed
    repeat = int(np.ceil(n_needed / 60))
    big = Domain.from_arrays(np.tile(X, (repeat, 1)), np.tile(y, repeat))
    settled = compare(np.tile(worse, (repeat, 1)), {"baseline": np.tile(good, (repeat, 1))},
                      big, n_resamples=60)
    assert settled.verdict == "negative"


def test_identical_models_are_inconclusive_without_a_label_count(models, test_market) -> None:
    test = _numeric(test_market)
    verdict = compare(models["good"], {"copy": models["good"]}, test, n_resamples=30)
    assert verdict.verdict == "inconclusive"
    assert verdict.difference == 0
    assert verdict.extra_labels_needed is None
    assert "indistinguishable" in verdict.message


def test_scores_table_comes_from_evaluation_bootstrap(models, test_market) -> None:
    test = _numeric(test_market)
    verdict = compare(models["good"], {"b": _Column(models["noisy"])}, test, n_resamples=30,
                      seed=7)
    expected = bootstrap_scores(test.y, models["good"].predict_proba(test.X), classes=[0, 1],
                                n_resamples=30, seed=7)
    pd.testing.assert_frame_equal(verdict.scores.loc["transferred"], expected,
                                  check_names=False)
    assert set(verdict.differences.index.get_level_values("metric")) == {
        "accuracy", "balanced_accuracy", "macro_f1", "log_loss", "roc_auc"}


def test_log_loss_verdict_is_oriented_so_positive_means_better(models, test_market) -> None:
    test = _numeric(test_market)
    verdict = compare(models["good"], {"b": _Column(models["noisy"])}, test, metric="log_loss",
                      n_resamples=30)
    assert verdict.verdict == "positive"
    scores = verdict.scores.xs("log_loss", level="metric")["value"]
    assert verdict.difference == pytest.approx(scores["b"] - scores["transferred"])


class _Tabular:
    """A model that reads the numeric columns of a mixed-type frame."""

    classes_ = np.array([0, 1])

    def __init__(self, model, hurt_class_one: bool = False):
        self.model, self.hurt = model, hurt_class_one

    def predict_proba(self, X):
        X = X[["x0", "x1"]].to_numpy(dtype=float) if isinstance(X, pd.DataFrame) else X
        proba = self.model.predict_proba(np.asarray(X))
        if self.hurt:  # never predicts class 1
            proba = np.where(proba[:, [1]] > 0.5, np.array([[0.9, 0.1]]), proba)
        return proba


def test_per_class_and_per_segment_breakdown(models, test_market) -> None:
    test = _numeric(test_market)
    hurts = _Tabular(models["good"], hurt_class_one=True)
    verdict = compare(hurts, {"target_only": _Tabular(models["good"])}, test_market,
                      segments="category", n_resamples=30)
    assert verdict.per_class.loc[1, "effect"] == "hurts"
    assert verdict.per_class.loc[0, "difference"] == pytest.approx(0.0)
    assert set(verdict.per_segment.index) == {"a", "b"}
    assert verdict.per_segment["n"].sum() == test.n_samples
    by_array = compare(hurts, {"target_only": models["good"]}, test,
                       segments=np.where(test.X[:, 0] > 0, "right", "left"), n_resamples=30)
    assert by_array.per_segment.loc["right", "effect"] == "hurts"
    assert by_array.per_segment.loc["right", "difference"] < 0
    # Few class-1 rows lie left of x0 = 0, so the damage concentrates on the right.
    assert by_array.per_segment.loc["left", "difference"] > by_array.per_segment.loc[
        "right", "difference"]


def test_too_few_labels_is_inconclusive_not_a_crash(models) -> None:
    X, y = _data(6, seed=8)
    test = Domain.from_arrays(X, y)
    with pytest.warns(TransferWarning, match=f"at least {MIN_ROWS_FOR_CI} are needed"):
        verdict = compare(models["wrong"], {"t": models["good"]}, test, n_resamples=30)
    assert verdict.verdict == "inconclusive"
    assert verdict.extra_labels_needed == MIN_ROWS_FOR_CI - 6
    assert np.isnan(verdict.low)
    assert verdict.per_class is None


def test_single_class_target_is_reported(models) -> None:
    X, y = _data(200, seed=9)
    test = Domain.from_arrays(X[y == 1], y[y == 1])
    with pytest.warns(TransferWarning, match="single class"):
        verdict = compare(models["wrong"], {"t": models["good"]}, test, n_resamples=30)
    assert verdict.verdict == "negative"
    with pytest.warns(TransferWarning, match="single class"):
        auc = compare(models["wrong"], {"t": models["good"]}, test, metric="roc_auc",
                      n_resamples=30)
    assert auc.verdict == "inconclusive"


def test_labels_unknown_to_a_model_count_as_errors(models) -> None:
    X, y = _data(100, seed=10)
    y3 = np.where(X[:, 1] > 1.0, 2, y)  # a class the models never saw
    test = Domain.from_arrays(X, y3)
    with pytest.warns(TransferWarning, match=r"Target labels \[2\] are not among the classes"):
        verdict = compare(models["good"], {"t": models["wrong"]}, test, n_resamples=30)
    accuracy = verdict.scores.loc[("transferred", "accuracy"), "value"]
    expected = np.mean(models["good"].predict(X) == y3)
    assert accuracy == pytest.approx(expected)
    assert 2 in verdict.per_class.index


def test_rows_seen_in_training_are_left_out(models, test_market) -> None:
    test = _numeric(test_market)
    with pytest.warns(TransferWarning, match="10 of the 300 target rows also appear in 'train'"):
        verdict = compare(models["good"], {"t": models["wrong"]}, test, n_resamples=20,
                          seen=Domain.from_arrays(test.X[:10], test.y[:10], name="train"))
    assert verdict.n_target == 290
    with pytest.warns(TransferWarning, match="left out of the comparison"):
        cached = compare(models["good"].predict_proba(test.X),
                         {"t": models["wrong"].predict_proba(test.X)}, test, n_resamples=20,
                         seen=Domain.from_arrays(test.X[:10], test.y[:10], name="train"))
    assert cached.verdict == verdict.verdict and cached.n_target == 290
    with pytest.raises(DomainMismatchError, match="Every one of the 300 target rows"):
        compare(models["good"], {"t": models["wrong"]}, test, seen=test)
    X_other, y_other = _data(50, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TransferWarning)
        compare(models["good"], {"t": models["wrong"]}, test, n_resamples=20,
                seen=[Domain.from_arrays(X_other, y_other, name="train")])


def test_bad_parameters(models, test_market) -> None:
    test = _numeric(test_market)
    with pytest.raises(ValueError, match="'metric' parameter of compare"):
        compare(models["good"], {"t": models["wrong"]}, test, metric="rmse")
    with pytest.raises(ValueError, match="'n_resamples' parameter"):
        compare(models["good"], {"t": models["wrong"]}, test, n_resamples=3)
    with pytest.raises(ValueError, match="no labelled rows"):
        compare(models["good"], {"t": models["wrong"]}, Domain.from_arrays(test.X))
    with pytest.raises(ValueError, match="no baselines"):
        compare(models["good"], {}, test)
    with pytest.raises(ValueError, match="segment column 'shop'"):
        compare(models["good"], {"t": models["wrong"]}, test_market, segments="shop")
    with pytest.raises(ValueError, match="probabilities of shape"):
        compare(np.ones((3, 2)), {"t": models["wrong"]}, test)


def test_regression_targets() -> None:
    rng = np.random.default_rng(12)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, 2.0, 0.0]) + 0.1 * rng.normal(size=200)
    good = Ridge().fit(X[:100], y[:100])
    bad = Ridge().fit(X[:100], -y[:100])
    test = Domain.from_arrays(X[100:], y[100:], task="regression")
    verdict = compare(bad, [good], test, n_resamples=30)
    assert verdict.metric == "rmse"
    assert verdict.verdict == "negative"
    assert verdict.best_baseline == "Ridge"
    assert verdict.per_class is None


def test_lists_of_baselines_get_unique_names(models, test_market) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        verdict = compare(models["good"], [models["good"], models["wrong"]],
                          _numeric(test_market), n_resamples=20)
    assert set(verdict.scores.index.get_level_values("model")) == {
        "transferred", "LogisticRegression", "LogisticRegression_2"}


def test_verdict_saves_itself(models, test_market, tmp_path) -> None:
    verdict = compare(models["wrong"], {"t": models["good"]}, _numeric(test_market),
                      n_resamples=20)
    verdict.save(tmp_path / "verdict.json")
    verdict.save(tmp_path / "verdict.html")
    loaded = json.loads((tmp_path / "verdict.json").read_text())
    assert loaded["verdict"] == "negative"
    assert loaded["per_class"][0]["n"] > 0
    assert "NEGATIVE TRANSFER" in (tmp_path / "verdict.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["verdict.html", "verdict.json"]
    with pytest.raises(ValueError, match="use .json or .html"):
        verdict.save(tmp_path / "verdict.txt")


def _false_negative_rates(n_baselines: int, rule: str, trials: int = 400) -> float:
    """Share of trials called negative when every model has the same true accuracy."""
    from transferkit.detect._paired import decide, mcnemar_pvalues

    rng = np.random.default_rng(100 + n_baselines)
    n_rows = 200
    transferred = rng.random((trials, 1, n_rows)) < 0.7
    baselines = rng.random((trials, n_baselines, n_rows)) < 0.7
    only_t = (transferred & ~baselines).sum(axis=-1)
    only_b = (~transferred & baselines).sum(axis=-1)
    difference = (only_t - only_b) / n_rows
    p_values = mcnemar_pvalues(only_t, only_b)
    if rule == "best":  # the old rule: test against the best baseline on the same rows
        best = np.argmin(difference, axis=1)[:, None]
        d = np.take_along_axis(difference, best, axis=1)[:, 0]
        p = np.take_along_axis(p_values, best, axis=1)[:, 0]
        return float(np.mean((d < 0) & (p < 0.05)))
    verdict, *_ = decide(difference, p_values, 0.05)
    return float(np.mean(verdict == -1))


@pytest.mark.parametrize("n_baselines", [1, 3, 5])
def test_false_negative_rate_stays_at_the_nominal_level(n_baselines: int) -> None:
    # Nominal: 2.5 % per side. 400 trials give a standard error of ~0.8 points.
    assert _false_negative_rates(n_baselines, "holm") <= 0.025 + 0.016


def test_testing_against_the_best_baseline_would_inflate_false_negatives() -> None:
    # The simulation can fail: the old rule exceeds the level with 5 baselines.
    assert _false_negative_rates(5, "best") > 0.025 + 0.016


def _proba_from_correct(correct: np.ndarray, y: np.ndarray) -> np.ndarray:
    predicted = np.where(correct, y, 1 - y)
    return np.c_[1 - predicted, predicted].astype(float) * 0.8 + 0.1


def test_luckiest_of_five_baselines_does_not_make_a_negative_verdict() -> None:
    # The transferred model loses to one of five equal baselines with raw McNemar
    # p ~ 0.02: the old best-baseline rule said "negative"; Holm over 5 does not.
    n = 300
    y = np.tile([0, 1], n // 2)
    transferred = np.ones(n, dtype=bool)
    transferred[:60] = False
    lucky = np.ones(n, dtype=bool)
    lucky[60:96] = False  # right on the 60 rows transferred misses, wrong on 36 others
    others = [np.roll(transferred, 7 * (k + 1)) for k in range(4)]
    baselines = {"lucky": _proba_from_correct(lucky, y)}
    baselines.update({f"b{k}": _proba_from_correct(c, y) for k, c in enumerate(others)})
    test = Domain.from_arrays(np.zeros((n, 1)), y)
    verdict = compare(_proba_from_correct(transferred, y), baselines, test, n_resamples=50)
    raw = verdict.differences.loc[("lucky", "accuracy"), "p_value"]
    assert raw < 0.05
    assert verdict.verdict == "inconclusive"
    assert verdict.deciding_baseline == "lucky"
    assert verdict.p_value == pytest.approx(verdict.differences.loc[("lucky", "accuracy"),
                                                                     "p_holm"])
    assert verdict.low <= 0 <= verdict.high  # the interval agrees with the Holm test
    assert "Holm-adjusted over 5 baselines" in verdict.test
    single = compare(_proba_from_correct(transferred, y),
                     {"lucky": baselines["lucky"]}, test, n_resamples=50)
    assert single.verdict == "negative" and single.high < 0


def test_positive_needs_every_baseline_beaten(models, test_market) -> None:
    test = _numeric(test_market)
    one = compare(models["good"], {"noisy": _Column(models["noisy"])}, test, n_resamples=50)
    both = compare(models["good"], {"noisy": _Column(models["noisy"]), "same": models["good"]},
                   test, n_resamples=50)
    assert one.verdict == "positive"
    assert both.verdict == "inconclusive" and both.deciding_baseline == "same"


def test_reported_interval_agrees_with_the_verdict_for_accuracy() -> None:
    # Old code: a bootstrap CI of [+0.008, +0.162] beside "inconclusive, McNemar p = 0.053".
    rng = np.random.default_rng(7)
    y = np.tile([0, 1], 100)
    test = Domain.from_arrays(np.zeros((200, 1)), y)
    for _ in range(40):
        first, second = rng.random(200) < 0.7, rng.random(200) < 0.62
        verdict = compare(_proba_from_correct(first, y), {"b": _proba_from_correct(second, y)},
                          test, n_resamples=20)
        excludes_zero = verdict.low > 0 or verdict.high < 0
        assert excludes_zero == (verdict.verdict != "inconclusive")
        assert (verdict.p_value < 0.05) == (verdict.verdict != "inconclusive")


def test_roc_auc_on_three_classes_is_an_error_not_a_nan() -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(150, 2))
    y = np.digitize(X[:, 0], [-0.5, 0.5])
    model = LogisticRegression().fit(X, y)
    test = Domain.from_arrays(X, y)
    with pytest.raises(ValueError, match="binary ROC AUC.*3 classes.*log_loss"):
        compare(model, {"same": model}, test, metric="roc_auc", n_resamples=20)


@pytest.mark.parametrize("metric", ["rmse", "mae", "r2"])
def test_regression_metrics_end_to_end_with_the_guard(metric: str) -> None:
    from transferkit.detect import NegativeTransferGuard

    rng = np.random.default_rng(12)
    X = rng.normal(size=(300, 3))
    y = X @ np.array([1.0, 2.0, 0.0]) + 0.3 * rng.normal(size=300)
    good = Ridge().fit(X[:100], y[:100])
    bad = Ridge().fit(X[:100], y[:100] + 2.0 * X[:100, 2])
    test = Domain.from_arrays(X[100:], y[100:], task="regression")
    verdict = compare(bad, {"target_only": good}, test, metric=metric, n_resamples=200)
    assert verdict.verdict == "negative" and verdict.metric == metric
    assert verdict.high < 0 and verdict.p_value < 0.05
    assert verdict.test == "paired bootstrap"
    scores = verdict.scores.xs(metric, level="metric")
    assert (scores["low"] <= scores["value"]).all() and (scores["value"] <= scores["high"]).all()
    kept = compare(good, {"bad": bad}, test, metric=metric, n_resamples=200)
    assert kept.verdict == "positive" and kept.low > 0
    with pytest.warns(TransferWarning, match="FALLBACK"):
        guard = NegativeTransferGuard(metric=metric, n_resamples=200).fit(
            bad, {"target_only": good}, test)
    assert guard.chosen_ == "target_only"
    np.testing.assert_allclose(guard.predict(test), good.predict(test.X))
    np.testing.assert_allclose(guard.predict(X[:5]), good.predict(X[:5]))
