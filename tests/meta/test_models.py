"""Every learner's adapted model: predict on arrays and Domains, save and reload exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.torch import load_file, save_file

from transferkit.domain import Domain
from transferkit.meta import META_LEARNERS, AdaptedNet, EmbeddingClassifier, TaskSampler
from transferkit.meta.models import AdaptedNet as Direct

from ._data import FAST, class_markets, offset_users

REGRESSION = ["anil", "fomaml", "hypernetwork", "maml", "meta_sgd", "pooled",
              "pooled_finetune", "pooled_offset", "replay", "reptile", "scratch"]
CLASSIFICATION = [*REGRESSION, "matching_net", "protonet"]


def _learner(name: str):
    cls = META_LEARNERS.get(name)
    if name == "scratch":
        return cls(hidden=(8,), steps=10)
    if name == "replay":
        return cls(hidden=(8,), config=FAST)
    return cls(hidden=(8,), episodes_per_epoch=8, config=FAST)


def test_registry_names_are_the_documented_ones() -> None:
    assert sorted(META_LEARNERS) == sorted(CLASSIFICATION)
    with pytest.raises(KeyError, match="Did you mean 'maml'"):
        META_LEARNERS.get("mamll")
    assert Direct is AdaptedNet


def _round_trip(model, tmp_path):
    config, tensors = model.export_state()
    (tmp_path / "config.json").write_text(json.dumps(config))
    save_file(tensors, str(tmp_path / "weights.safetensors"))
    cls = {"AdaptedNet": AdaptedNet, "EmbeddingClassifier": EmbeddingClassifier}[
        json.loads((tmp_path / "config.json").read_text())["type"]]
    return cls.from_state(json.loads((tmp_path / "config.json").read_text()),
                          load_file(str(tmp_path / "weights.safetensors")))


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_models_round_trip(name, tmp_path) -> None:
    tasks = TaskSampler(offset_users(6), k_shot=5, n_query=5)
    model = _learner(name).meta_fit(tasks).adapt(tasks.episode(0), steps=2)
    X, y = tasks.task_arrays(tasks.names[1])
    clone = _round_trip(model, tmp_path)
    assert np.array_equal(clone.predict(X), model.predict(X))
    domain = Domain.from_arrays(X, y, name="new")
    assert np.array_equal(model.predict(domain), model.predict(X))
    assert model.predict(X).dtype == np.float64


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_models_round_trip(name, tmp_path) -> None:
    tasks = TaskSampler(class_markets(5, n_rows=40), labels="shared", k_shot=8, n_query=4)
    learner = _learner(name).meta_fit(tasks)
    X, y = tasks.task_arrays(tasks.names[0])
    model = learner.adapt(Domain.from_arrays(X[:12], y[:12], name="support"))
    clone = _round_trip(model, tmp_path)
    assert np.array_equal(clone.predict_proba(X), model.predict_proba(X))
    assert np.array_equal(clone.classes_, model.classes_)
    assert set(model.predict(X)) <= set(model.classes_)
    assert model.predict_proba(X).shape == (len(X), len(model.classes_))
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :2])


def test_an_adapted_model_ships_as_a_transfer_pipeline(tmp_path) -> None:
    from transferkit.pipeline import TransferPipeline

    tasks = TaskSampler(offset_users(6), k_shot=5, n_query=5)
    X, y = tasks.task_arrays(tasks.names[1])
    new_user = Domain.from_arrays(X, y, name="new_user")
    model = _learner("fomaml").meta_fit(tasks).adapt(new_user.subset(np.arange(5)), steps=2)
    served = TransferPipeline.from_fitted(model, new_user, name="fomaml")
    raw = new_user.frame.drop(columns=["label"])
    loaded = TransferPipeline.load(served.save(tmp_path / "model"))
    assert np.array_equal(loaded.predict(raw), model.predict(X))
    assert json.loads((tmp_path / "model" / "model_card.json").read_text())[
        "method"]["name"] == "fomaml"
    with pytest.raises(Exception, match="lack columns"):
        loaded.predict(raw.drop(columns=[raw.columns[0]]))
