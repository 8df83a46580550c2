"""Every method in the factory: fit on two Domains, serve raw rows, clone, save and load."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from transferkit.pipeline import METHODS, TransferPipeline, names

# Small budgets: the contract is about behaviour, not accuracy.
_FAST = {
    "align": {"hidden_sizes": (8,), "train": {"epochs": 1, "progress": False}},
    "finetune": {"hidden_sizes": (8,), "train": {"epochs": 1, "progress": False}},
}


def _params(name: str) -> dict:
    return dict(_FAST.get(METHODS.get(name).family, {}))


@pytest.mark.parametrize("name", names(task="binary"))
def test_method_fits_serves_raw_rows_and_round_trips(name, markets, tmp_path):
    source, target, raw_rows = markets
    pipeline = TransferPipeline(name, method_params=_params(name), random_state=0)
    pipeline.fit(source, target)
    predicted = pipeline.predict(raw_rows)
    assert predicted.shape == (len(raw_rows),)
    assert set(np.unique(predicted)) <= {0, 1}
    proba = pipeline.predict_proba(raw_rows)
    assert proba.shape == (len(raw_rows), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)

    params = pipeline.get_params()
    assert params["method"] == name
    assert clone(pipeline).get_params()["method_params"] == params["method_params"]

    folder = pipeline.save(tmp_path / "model")
    loaded = TransferPipeline.load(folder)
    np.testing.assert_array_equal(loaded.predict(raw_rows), predicted)
    np.testing.assert_allclose(loaded.predict_proba(raw_rows), proba, rtol=0, atol=1e-7)
    assert (folder / "MODEL_CARD.md").is_file() and (folder / "model_card.json").is_file()


def test_names_are_unique_and_cover_every_family():
    families = {METHODS.get(n).family for n in names()}
    assert {"baseline", "reweight", "align"} <= families
    assert len(names()) == len(set(names()))


@pytest.mark.parametrize("name", names())
def test_every_method_takes_a_random_state(name):
    from transferkit.pipeline import create

    task = "binary" if METHODS.get(name).supports("binary") else "regression"
    method = create(name, task=task, random_state=3, **_params(name))
    assert 3 in _seeds(method), f"{name}: random_state=3 reached no seed parameter"


def _seeds(estimator) -> list:
    found = []
    for key, value in estimator.get_params(deep=True).items():
        if key.endswith("random_state") or key.endswith("seed"):
            found.append(value)
    return found


def test_a_seed_changes_the_randomness_not_the_budget(markets):
    source, target, raw = markets
    runs = [TransferPipeline("dann", method_params=_params("dann"), random_state=seed
                             ).fit(source, target) for seed in (0, 1)]
    steps = [len(run.method_.history_) for run in runs]
    assert steps[0] == steps[1]
    assert not np.allclose(runs[0].predict_proba(raw), runs[1].predict_proba(raw))


@pytest.mark.parametrize("name", names(task="regression"))
def test_regression_methods_round_trip(name, regression_markets, tmp_path):
    source, target, raw_rows = regression_markets
    pipeline = TransferPipeline(name, method_params=_params(name), random_state=0)
    predicted = pipeline.fit(source, target).predict(raw_rows)
    assert predicted.shape == (len(raw_rows),) and np.isfinite(predicted).all()
    loaded = TransferPipeline.load(pipeline.save(tmp_path / "model"))
    np.testing.assert_allclose(loaded.predict(raw_rows), predicted, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", sorted(set(names()) - set(names(task="regression"))))
def test_classification_only_methods_refuse_regression_clearly(name, regression_markets):
    source, target, _ = regression_markets
    with pytest.raises(ValueError, match="classif|regression"):
        TransferPipeline(name, method_params=_params(name)).fit(source, target)
