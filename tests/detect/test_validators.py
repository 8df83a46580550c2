"""Unsupervised validators and select_model on markets with a known covariate shift."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from transferkit import Domain, TransferWarning
from transferkit.detect import (
    VALIDATORS,
    DEVValidator,
    DomainAUCValidator,
    EntropyValidator,
    IWCVValidator,
    SNDValidator,
    Validator,
    select_model,
)
from transferkit.detect._density_ratio import estimate_ratio, judge_weights
from transferkit.detect.validators import ValidatorScore, control_variate_risk


def _target_error(model, target: Domain) -> float:
    return float(np.mean(model.predict(target.X) != target.y))


@pytest.fixture
def shifted(two_markets):
    """Train / held-out source split, the target, and source models of differing quality."""
    source, target, ratio = two_markets
    train, held_out = source.subset(np.arange(400)), source.subset(np.arange(400, 600))
    good = LogisticRegression().fit(train.X, train.y)
    # Trained only on the left half of the source: fine there, wrong where the target lives.
    left = train.X[:, 0] < 0
    narrow = LogisticRegression().fit(
        np.r_[train.X[left], [[3.0, 0.0]]], np.r_[np.zeros(left.sum() - 1), [1, 1]])
    noisy = LogisticRegression().fit(
        train.X, np.where(np.random.default_rng(1).random(400) < 0.35, 1 - train.y, train.y))
    return held_out, target, ratio[400:], {"good": good, "narrow": narrow, "noisy": noisy}


def test_registry_lists_every_validator() -> None:
    assert VALIDATORS.names() == ["dev", "domain_auc", "entropy", "iwcv", "snd"]
    for _, cls in VALIDATORS.items():
        assert issubclass(cls, Validator)
    with pytest.raises(KeyError, match="Did you mean 'snd'"):
        VALIDATORS.get("sdn")


def test_iwcv_with_true_ratio_estimates_target_error(shifted) -> None:
    held_out, target, ratio, models = shifted
    for model in models.values():
        truth = _target_error(model, target)
        weighted = IWCVValidator(weights=ratio).score(model, held_out, target)
        plain = IWCVValidator(weights=np.ones(len(ratio))).score(model, held_out, target)
        assert abs(weighted - truth) < 0.08
    narrow = models["narrow"]
    truth = _target_error(narrow, target)
    weighted = IWCVValidator(weights=ratio).score(narrow, held_out, target)
    plain = IWCVValidator(weights=np.ones(len(ratio))).score(narrow, held_out, target)
    # The narrow model hides its mistakes where the source is dense: only weights see them.
    assert abs(weighted - truth) < abs(plain - truth)


def test_iwcv_accepts_a_fitted_weighter(shifted) -> None:
    held_out, target, ratio, models = shifted

    class TrueRatio:
        def compute_weights(self, X):
            return np.exp(np.asarray(X) @ np.array([1.0, 0.0]) - 0.5)

    via_weighter = IWCVValidator(weighter=TrueRatio()).score(models["good"], held_out, target)
    via_weights = IWCVValidator(weights=ratio).score(models["good"], held_out, target)
    assert via_weighter == pytest.approx(via_weights)


def test_iwcv_estimated_ratio_and_log_loss(shifted) -> None:
    held_out, target, _, models = shifted
    errors = {name: IWCVValidator().score(m, held_out, target) for name, m in models.items()}
    truth = {name: _target_error(m, target) for name, m in models.items()}
    assert min(errors, key=errors.get) == min(truth, key=truth.get)
    loss = IWCVValidator(loss="log_loss").score(models["good"], held_out, target)
    assert loss > 0


def test_dev_control_variate_and_estimate(shifted) -> None:
    held_out, target, _, models = shifted
    truth = {name: _target_error(m, target) for name, m in models.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransferWarning)  # the narrow model gives spiky weights
        dev = {name: DEVValidator(representation="proba").score(m, held_out, target)
               for name, m in models.items()}
    assert min(dev, key=dev.get) == min(truth, key=truth.get)
    assert abs(dev["good"] - truth["good"]) < 0.1


def test_control_variate_is_unbiased_and_cuts_variance() -> None:
    rng = np.random.default_rng(0)
    assert control_variate_risk(np.array([0.0, 1.0, 1.0]), np.ones(3)) == pytest.approx(2 / 3)
    plain, corrected = [], []
    for _ in range(300):
        weights = rng.lognormal(sigma=1.0, size=200)
        weights /= np.exp(0.5)  # E[w] = 1 exactly for this log-normal
        losses = (rng.random(200) < 0.2 + 0.1 * np.minimum(weights, 3)).astype(float)
        plain.append(np.mean(weights * losses))
        corrected.append(control_variate_risk(losses, weights))
    assert np.var(corrected) < 0.6 * np.var(plain)
    assert abs(np.mean(corrected) - np.mean(plain)) < 0.02


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_dev_on_learned_features_of_a_network(shifted) -> None:
    held_out, target, _, _ = shifted
    net = MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0)
    net.fit(held_out.X, held_out.y)

    class WithFeatures:
        """A classifier exposing its hidden layer as transform(), like a trainer would."""
        classes_ = net.classes_

        def predict_proba(self, X):
            return net.predict_proba(X)

        def transform(self, X):
            return np.maximum(0, np.asarray(X) @ net.coefs_[0] + net.intercepts_[0])

    risk = DEVValidator().score(WithFeatures(), held_out, target)
    assert 0 <= risk <= 1


def test_entropy_prefers_the_confident_model(shifted) -> None:
    held_out, target, _, models = shifted
    entropy = {n: EntropyValidator().score(m, None, target) for n, m in models.items()}
    assert entropy["good"] < entropy["noisy"]
    assert EntropyValidator().score(_Uniform(), None, target) == pytest.approx(np.log(2))


class _Uniform:
    classes_ = np.array([0, 1])

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)


class _Features:
    classes_ = np.array([0, 1])

    def __init__(self, features):
        self.features = features

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)

    def transform(self, X):
        return self.features[: len(X)]


def test_snd_prefers_dense_neighbourhoods_and_has_a_known_maximum(shifted) -> None:
    _, target, _, _ = shifted
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 16)) * 5
    clustered = centres[rng.integers(0, 4, 400)] + 0.1 * rng.normal(size=(400, 16))
    scattered = rng.normal(size=(400, 16))
    snd = SNDValidator(representation="features")
    assert snd.score(_Features(clustered), None, target) > snd.score(
        _Features(scattered), None, target)
    # Identical outputs spread every row's neighbourhood uniformly over the n - 1 others:
    # the maximum, which is why SND is not used alone among collapsed models.
    assert SNDValidator().score(_Uniform(), None, target) == pytest.approx(np.log(399))
    assert SNDValidator(max_samples=50).score(_Uniform(), None, target) == pytest.approx(
        np.log(49))


def test_domain_auc_of_features(shifted) -> None:
    held_out, target, _, models = shifted

    class Centre:
        """Features standardised per market: the domains become hard to tell apart."""
        classes_ = np.array([0, 1])

        def __init__(self, shift):
            self.shift = shift

        def predict_proba(self, X):
            return models["good"].predict_proba(X)

        def transform(self, X):
            X = np.asarray(X)
            return X - self.shift(X)

    features = DomainAUCValidator(representation="features")
    raw = features.score(Centre(lambda X: 0.0), held_out, target)
    aligned = features.score(Centre(lambda X: X.mean(axis=0)), held_out, target)
    assert raw > 0.65
    assert aligned < raw


def test_select_model_returns_winner_and_table(shifted) -> None:
    held_out, target, ratio, models = shifted
    selection = select_model(models, IWCVValidator(weights=ratio), source=held_out,
                             target=target)
    assert selection.best_name == "good"
    assert selection.best is models["good"]
    assert list(selection.table.columns) == ["score", "reliable", "reason", "ess", "rank"]
    assert selection.table["rank"].tolist() == [1, 2, 3]
    assert selection.table["reliable"].all() and selection.fallback_from is None
    assert selection.table["score"].is_monotonic_increasing  # lower risk first
    by_name = select_model(list(models.values()), "entropy", target=target)
    assert by_name.best_name == "0:LogisticRegression"
    assert by_name.table["score"].is_monotonic_increasing


def test_domain_face_models_receive_the_domain(shifted) -> None:
    held_out, target, _, models = shifted
    seen = []

    class Trainer:
        classes_ = np.array([0, 1])

        def predict_proba(self, domain: Domain):
            seen.append(domain.name)
            return models["good"].predict_proba(domain.X)

    EntropyValidator().score(Trainer(), None, target)
    assert seen == ["target"]


def test_bad_input_is_explained(shifted) -> None:
    held_out, target, ratio, models = shifted
    with pytest.raises(ValueError, match="needs held-out labelled source rows"):
        select_model(models, "iwcv", target=target)
    with pytest.raises(ValueError, match="one weight per held-out source row"):
        IWCVValidator(weights=ratio[:5]).score(models["good"], held_out, target)
    with pytest.raises(TypeError, match="compute_weights"):
        IWCVValidator(weighter=object()).score(models["good"], held_out, target)
    with pytest.raises(ValueError, match="not both"):
        IWCVValidator(weights=ratio, weighter=object()).score(models["good"], held_out, target)
    with pytest.raises(ValueError, match="'loss' parameter of IWCVValidator"):
        IWCVValidator(loss="hinge").score(models["good"], held_out, target)
    with pytest.raises(TypeError, match="candidate 'plain'.*no transform"):
        select_model({"plain": models["good"]}, DEVValidator(representation="features"),
                     source=held_out, target=target)
    with pytest.raises(TypeError, match="Validator instance"):
        select_model(models, 3, target=target)  # type: ignore[arg-type]
    unseen = Domain.from_arrays(held_out.X, held_out.y + 5)
    with pytest.raises(ValueError, match=r"labels \[5, 6\] are not among the model's classes"):
        IWCVValidator(weights=ratio).score(models["good"], unseen, target)


def test_low_effective_sample_size_is_unreliable_not_a_number(shifted) -> None:
    held_out, target, _, models = shifted
    spiky = np.full(len(held_out), 1e-3)
    spiky[0] = 1e3
    answer = IWCVValidator(weights=spiky).evaluate(models["good"], held_out, target)
    assert not answer.reliable and np.isnan(answer.score)
    assert "effective sample size" in answer.reason and answer.ess < 2
    assert np.isnan(IWCVValidator(weights=spiky).score(models["good"], held_out, target))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flat = IWCVValidator(weights=np.ones(len(held_out))).evaluate(models["good"], held_out,
                                                                      target)
    assert flat.reliable and flat.ess == pytest.approx(len(held_out))


def test_dev_uses_raw_weights_so_its_control_variate_acts(shifted) -> None:
    # Old code renormalised the weights to mean 1 first, which made eta * (mean(w) - 1)
    # identically 0: DEV was self-normalised IWCV.
    held_out, target, _, models = shifted
    model = models["narrow"]
    weights = estimate_ratio(model.predict_proba(held_out.X), model.predict_proba(target.X),
                             seed=0).weights
    losses = (model.predict(held_out.X) != held_out.y).astype(float)
    dev = DEVValidator(representation="proba").evaluate(model, held_out, target)
    assert dev.reliable
    assert dev.score == pytest.approx(control_variate_risk(losses, weights))
    self_normalised = float(np.sum(weights * losses) / np.sum(weights))
    assert abs(dev.score - self_normalised) > 1e-3


def test_density_ratio_in_many_dimensions_stays_calibrated(two_markets) -> None:
    # Learned features are low rank: the signal (and the shift) lives in 2 strong
    # directions among 202. An untuned C=1 classifier on all 202 gives held-out weights
    # whose mean is far from 1 and a small ESS; PCA keeps the strong directions.
    source, target, true_ratio = two_markets
    rng = np.random.default_rng(3)
    wide_source = np.c_[3 * source.X, 0.5 * rng.normal(size=(600, 200))]
    wide_target = np.c_[3 * target.X, 0.5 * rng.normal(size=(400, 200))]
    ratio = estimate_ratio(wide_source[400:], wide_target, scale_columns=False, seed=0)
    assert ratio.n_components == 10
    assert 0.7 < ratio.weights.mean() < 1.3
    reliable, _, ess = judge_weights(ratio.weights, min_ess=0.1, check_mean=True)
    assert reliable and ess > 40
    assert np.corrcoef(ratio.weights, true_ratio[400:])[0, 1] > 0.5
    model = LogisticRegression().fit(source.X[:400], source.y[:400])

    class WideFeatures:
        """A model whose learned features are the 202 wide columns."""
        classes_ = model.classes_

        def predict_proba(self, X):
            return model.predict_proba(np.asarray(X)[:, :2] / 3)

        def transform(self, X):
            return np.asarray(X)

    held_out = Domain.from_arrays(wide_source[400:], source.y[400:])
    answer = DEVValidator().evaluate(WideFeatures(), held_out, Domain.from_arrays(wide_target))
    assert answer.reliable
    assert abs(answer.score - _target_error(model, target)) < 0.06


class InputFeatures(LogisticRegression):
    """Logistic regression whose "learned features" are its inputs (for DEV)."""

    def transform(self, X):
        return np.asarray(X, dtype=float)


@pytest.fixture
def disjoint():
    """Source and target with (almost) no overlap: no density ratio can answer."""
    rng = np.random.default_rng(5)
    X_source = rng.normal(size=(300, 2))
    X_target = rng.normal(size=(200, 2)) + np.array([6.0, 0.0])
    y = (X_source[:, 1] > 0).astype(int)
    model = InputFeatures().fit(X_source[:200], y[:200])
    return (Domain.from_arrays(X_source[200:], y[200:]), Domain.from_arrays(X_target),
            model)


def test_unreliable_validators_say_so_and_select_model_falls_back(disjoint, shifted) -> None:
    held_out, target, model = disjoint
    dev = DEVValidator(representation="features")  # the inputs, where the markets are apart
    for validator in (IWCVValidator(), dev):
        answer = validator.evaluate(model, held_out, target)
        assert not answer.reliable and np.isnan(answer.score) and answer.reason
    other = InputFeatures(C=0.01).fit(held_out.X, held_out.y)
    candidates = {"a": model, "b": other}
    with pytest.raises(ValueError, match="could not score any candidate reliably.*fallback="):
        select_model(candidates, "iwcv", source=held_out, target=target)
    with pytest.warns(TransferWarning, match="falls back to EntropyValidator"):
        chosen = select_model(candidates, "iwcv", source=held_out, target=target,
                              fallback="entropy")
    assert chosen.validator == "EntropyValidator()"
    assert chosen.fallback_from is not None and chosen.fallback_from.startswith("IWCVValidator")
    assert not chosen.unreliable_table["reliable"].any()
    assert chosen.table["reliable"].all() and chosen.notes


def test_select_model_ranks_only_reliable_candidates(shifted) -> None:
    held_out, target, ratio, models = shifted

    class HalfBlind(Validator):
        greater_is_better = False

        def evaluate(self, model, source, target):
            if model is models["good"]:
                return ValidatorScore(float("nan"), False, "cannot see this one")
            return ValidatorScore(float(np.mean(model.predict(target.X))))

    with pytest.warns(TransferWarning, match="could not score 1 of 3.*cannot see this one"):
        selection = select_model(models, HalfBlind(), target=target)
    table = selection.table
    assert selection.best_name != "good" and selection.unreliable == ["good"]
    assert table.index[-1] == "good" and pd.isna(table.loc["good", "rank"])
    assert table.loc["good", "reason"] == "cannot see this one"
    assert table["rank"].dropna().tolist() == [1, 2]


class WideNetwork:
    """A "network": the good model's probabilities, plus 50 features that give the market
    away (an unaligned feature extractor would)."""

    def __init__(self, model, shift: float) -> None:
        self.model, self.shift, self.classes_ = model, shift, model.classes_

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    def transform(self, X):
        X = np.asarray(X, dtype=float)
        noise = np.random.default_rng(len(X)).normal(size=(len(X), 50))
        return np.c_[X, noise + self.shift * X[:, :1]]


@pytest.mark.parametrize("name", ["domain_auc", "dev", "snd"])
def test_auto_scores_every_candidate_on_probabilities(shifted, name) -> None:
    held_out, target, _, models = shifted
    shallow, network = models["good"], WideNetwork(models["good"], shift=3.0)
    validator = VALIDATORS.get(name)()
    assert validator.representation == ("proba" if name == "snd" else "auto")
    # Same predictions, so one common space gives the same score, whatever transform says.
    assert validator.score(network, held_out, target) == pytest.approx(
        validator.score(shallow, held_out, target))


def test_feature_space_scores_differ_by_construction_and_select_model_says_so(shifted) -> None:
    held_out, target, _, models = shifted
    candidates = {"shallow": models["good"], "network": WideNetwork(models["good"], 3.0)}
    features = DomainAUCValidator(representation="features")
    with pytest.raises(TypeError, match="shallow.*no transform"):
        select_model(candidates, features, source=held_out, target=target)
    both = {"a": WideNetwork(models["good"], 0.0), "b": WideNetwork(models["good"], 3.0)}
    with pytest.warns(TransferWarning, match="own feature space"):
        chosen = select_model(both, features, source=held_out, target=target)
    assert chosen.best_name == "a" and any("own feature space" in n for n in chosen.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TransferWarning)
        common = select_model(both, "domain_auc", source=held_out, target=target)
    assert common.table["score"].nunique() == 1  # identical probabilities, identical scores
