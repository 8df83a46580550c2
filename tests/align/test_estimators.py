"""The sklearn-style aligners: fit(source, target), predict, transform, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from torch import nn

from transferkit import Domain
from transferkit.align import ALIGNERS, CDAN, DANN, MMD, SourceOnly
from transferkit.exceptions import DomainMismatchError
from transferkit.training import TrainConfig

FAST = TrainConfig(epochs=1, batch_size=32, progress=False)


def markets(seed=0, n=120, shift=(2.0, -1.0)):
    rng = np.random.default_rng(seed)
    X_source, X_target = rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
    label = lambda X: np.where(X[:, 0] + X[:, 1] > 0, "buy", "skip")  # noqa: E731
    source = Domain.from_arrays(X_source, label(X_source), name="us")
    target = Domain.from_arrays(X_target + np.array(shift), label(X_target), name="jp")
    return source, target


@pytest.mark.parametrize("name", ALIGNERS.names())
def test_every_aligner_fits_predicts_and_transforms(name):
    source, target = markets()
    model = ALIGNERS.get(name)(hidden_sizes=(8,), config=FAST)
    assert model.fit(source, target.hide_labels(0)) is model
    assert model.classes_.tolist() == ["buy", "skip"]
    predicted = model.predict(target)
    assert predicted.shape == (120,) and set(predicted) <= {"buy", "skip"}
    proba = model.predict_proba(target)
    assert proba.shape == (120, 2) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert model.transform(target).shape == (120, 8)
    assert 0 <= model.score(target) <= 1
    assert clone(model).get_params()["hidden_sizes"] == (8,)
    assert model.trainer_.global_step_ == 4  # same budget for every method


def test_registry_suggests_close_names():
    with pytest.raises(KeyError, match="Did you mean 'dann'"):
        ALIGNERS.get("dan")


def test_target_labels_never_reach_training():
    source, target = markets()
    with_labels = DANN(hidden_sizes=(8,), config=FAST).fit(source, target)
    without = DANN(hidden_sizes=(8,), config=FAST).fit(source, target.hide_labels(0))
    for a, b in zip(with_labels.network_.parameters(), without.network_.parameters(),
                    strict=True):
        assert torch.equal(a, b)


def test_mmd_alignment_beats_source_only_under_a_shift():
    source, target = markets(seed=0, n=300)
    config = TrainConfig(epochs=30, batch_size=64, lr=1e-2, seed=0, progress=False)
    scores = {}
    for name, params in (("nn_source_only", {}), ("mmd", {"trade_off": 1.0})):
        # A strong weight: on this toy shift alignment is what helps (the 0.1 default is
        # chosen for shifts where it mostly should not, see benchmarks/sections/defaults.md).
        model = ALIGNERS.get(name)(hidden_sizes=(32,), dropout=0.0, config=config, **params)
        scores[name] = model.fit(source, target.hide_labels(0)).score(target)
    assert scores["mmd"] > scores["nn_source_only"] + 0.05, scores


def test_user_modules_are_copied_not_trained_in_place():
    source, target = markets()
    extractor = nn.Sequential(nn.Linear(2, 6), nn.Tanh())
    before = extractor[0].weight.detach().clone()
    model = DANN(extractor, config=FAST).fit(source, target)
    assert torch.equal(extractor[0].weight, before)
    assert model.transform(target).shape == (120, 6)


def test_images_through_a_convolutional_extractor():
    rng = np.random.default_rng(0)
    images = rng.random((40, 1, 8, 8)).astype(np.float32)
    source = Domain.from_arrays(images[:20], np.arange(20) % 2, name="catalogue")
    target = Domain.from_arrays(images[20:] + 0.5, name="customers")
    extractor = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
    model = CDAN(extractor, config=FAST).fit(source, target)
    assert model.predict(target).shape == (20,)
    assert model.transform(target).shape == (20, 4)


def test_regression_task():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    source = Domain.from_arrays(X, X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=80),
                                task="regression")
    model = DANN(hidden_sizes=(8,), config=FAST).fit(source, X + 0.3)
    assert model.predict(X).shape == (80,) and model.classes_ is None
    with pytest.raises(ValueError, match="regression task"):
        model.predict_proba(X)
    with pytest.raises(ValueError, match="needs a classification task"):
        CDAN(config=FAST).fit(source, X)


def test_source_sample_weights_weight_the_task_loss():
    source, target = markets()
    weights = np.r_[np.ones(60), np.zeros(60) + 1e-9]
    weighted = Domain.from_arrays(source.X, source.y, sample_weight=weights, name="us")
    plain = SourceOnly(hidden_sizes=(8,), config=FAST).fit(source, target)
    tilted = SourceOnly(hidden_sizes=(8,), config=FAST).fit(weighted, target)
    assert not np.allclose(plain.predict_proba(target), tilted.predict_proba(target))


def test_extra_alignment_losses_and_validation_are_logged():
    source, target = markets()
    model = DANN(hidden_sizes=(8,), extra_alignment={"mmd": 0.5, "coral": 1.0},
                 config=FAST.replace(epochs=2, patience=5, monitor="val_accuracy"))
    model.fit(source, target.hide_labels(0), validation=target.sample(30, seed=0))
    row = model.history_[-1]
    assert {"dann", "extra_mmd", "extra_coral", "domain_accuracy", "val_accuracy"} <= set(row)
    assert 0 <= row["domain_accuracy"] <= 1


def test_bad_inputs_are_explained():
    source, target = markets()
    with pytest.raises(ValueError, match="needs target rows"):
        DANN(config=FAST).fit(source)
    with pytest.raises(ValueError, match="is empty"):
        DANN(config=FAST).fit(source, np.empty((0, 2)))
    with pytest.raises(DomainMismatchError, match=r"shape \(2,\) but target 'target' has \(3,\)"):
        DANN(config=FAST).fit(source, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="has no labels"):
        DANN(config=FAST).fit(Domain.from_arrays(source.X), target)
    with pytest.raises(ValueError, match="'hidden_sizes' parameter of DANN"):
        DANN(hidden_sizes=(0,), config=FAST).fit(source, target)
    with pytest.raises(ValueError, match="'trade_off' parameter of DeepCORAL"):
        ALIGNERS.get("deep_coral")(trade_off=-1, config=FAST).fit(source, target)
    with pytest.raises(ValueError, match="'extra_alignment' parameter"):
        MMD(extra_alignment={"wasserstein": 1.0}, config=FAST).fit(source, target)
    frame = pd.DataFrame({"colour": list("rgbr") * 5, "y": [0, 1] * 10})
    with pytest.raises(TypeError, match="harmonize"):
        DANN(config=FAST).fit(Domain.from_frame(frame, label="y"), target)
    reviews = Domain.from_texts(["good", "bad"] * 5, [1, 0] * 5)
    with pytest.raises(TypeError, match="encode them into numbers"):
        DANN(config=FAST).fit(reviews, target)
    fitted = SourceOnly(hidden_sizes=(4,), config=FAST).fit(source)
    with pytest.raises(DomainMismatchError, match="fitted on features of shape"):
        fitted.predict(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"contains NaN values in 1 row \(1\)"):
        fitted.predict(np.array([[0.0, 1.0], [np.nan, 0.0]]))


@pytest.mark.parametrize("name, weight", [("dann", 0.1), ("cdan", 1.0), ("cdan_e", 1.0),
                                          ("mmd", 1.0)])
def test_alignment_weight_default_is_recorded_and_survives_saving(name, weight):
    # Chosen by the default-selection benchmark (benchmarks/sections/defaults.md).
    assert ALIGNERS.get(name)().trade_off == weight
    source, target = markets()
    model = ALIGNERS.get(name)(hidden_sizes=(8,), config=FAST).fit(source, target)
    assert model.trade_off_ == weight
    assert type(model).from_state(*model.export_state()).trade_off_ == weight


def test_the_adversarial_ramp_ends_at_the_recorded_weight():
    from transferkit.align.losses import dann_lambda
    from transferkit.training import StepContext

    source, target = markets()
    model = DANN(hidden_sizes=(8,), config=FAST, trade_off=0.3).fit(source, target)
    end = StepContext(epoch=0, step=9, global_step=10, total_steps=10,
                      device=torch.device("cpu"))
    assert model._coeff(end) == pytest.approx(model.trade_off_ * dann_lambda(1.0, 10.0))
