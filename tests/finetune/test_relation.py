"""Relation-based transfer: Co-Tuning's category relationship and name matching."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from transferkit import Domain
from transferkit.backbones import ModuleBackbone
from transferkit.finetune import (
    CategoryMatch,
    CategoryRelationship,
    FineTuner,
    LinearProbe,
    PartialUnfreeze,
    match_categories,
)
from transferkit.training import TrainConfig


def test_relationship_averages_source_predictions_per_target_class():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(4), size=30)
    y = np.repeat([0, 1, 2], 10)
    relation = CategoryRelationship(smoothing=0.0).fit(proba, y).relation_
    np.testing.assert_allclose(relation[1], proba[10:20].mean(axis=0))
    np.testing.assert_allclose(relation.sum(axis=1), 1.0)
    smoothed = CategoryRelationship(smoothing=1.0).fit(proba, y).relation_
    assert smoothed.min() > relation.min()


def test_relationship_needs_rows_or_a_prior_for_every_class():
    proba = np.array([[0.7, 0.3], [0.6, 0.4]])
    with pytest.raises(ValueError, match="Target classes \\[1\\] have no labelled rows"):
        CategoryRelationship().fit(proba, [0, 0], n_classes=2)
    prior = np.array([[0.5, 0.5], [0.0, 1.0]])
    relation = CategoryRelationship(prior=prior, prior_weight=0.5, smoothing=0.0).fit(
        proba, [0, 0], n_classes=2).relation_
    np.testing.assert_allclose(relation[1], [0.0, 1.0])  # prior alone: no labelled rows
    np.testing.assert_allclose(relation[0], 0.5 * np.array([0.65, 0.35]) + 0.5 * prior[0])
    with pytest.raises(ValueError, match="negative values"):
        CategoryRelationship().fit(-proba, [0, 1])


@pytest.fixture(scope="module")
def match() -> CategoryMatch:
    return match_categories(["kitchen", "toys", "books", "shoes"],
                            ["おもちゃ", "本", "キッチン用品", "ガーデニング"], threshold=0.5)


def test_category_names_match_across_languages(match):
    mapping = match.mapping()
    assert mapping["おもちゃ"] == "toys" and mapping["本"] == "books"
    assert mapping["キッチン用品"] == "kitchen"
    assert list(match.table.columns) == ["target", "source", "similarity", "alternatives",
                                         "accepted"]
    assert match.table["alternatives"].str.count(";").eq(1).all()  # top_k=3: 2 alternatives


def test_review_table_round_trips_through_an_edited_csv(match, tmp_path):
    path = tmp_path / "categories.csv"
    match.to_csv(path)
    table = match.table.copy()
    table.loc[table["target"] == "ガーデニング", ["source", "accepted"]] = ["shoes", False]
    table.loc[table["target"] == "本", ["source", "accepted"]] = ["books", True]
    table.to_csv(path, index=False)
    edited = CategoryMatch.from_csv(path, match.source_names)
    assert edited.mapping()["ガーデニング"] is None
    prior = edited.relation(["本", "ガーデニング"])
    np.testing.assert_allclose(prior, [[0, 0, 1, 0], [0.25, 0.25, 0.25, 0.25]])
    table.loc[0, ["source", "accepted"]] = ["garden", True]
    table.to_csv(path, index=False)
    with pytest.raises(ValueError, match="Row 2 of .* maps 'おもちゃ' to 'garden'"):
        CategoryMatch.from_csv(path, match.source_names)


def test_co_tuning_trains_the_source_head_toward_the_relationship():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    target = Domain.from_arrays(X, (X[:, 0] > 0).astype(int), name="jp")
    torch.manual_seed(0)
    backbone = ModuleBackbone(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8)))
    source_head = nn.Linear(8, 3)
    before = source_head.weight.detach().clone()
    config = TrainConfig(epochs=3, batch_size=8, lr=1e-2, progress=False)
    tuner = FineTuner(backbone, PartialUnfreeze(["2"]), config=config,
                      source_head=source_head, relation_weight=0.5).fit(target)
    assert tuner.relationship_.relation_.shape == (2, 3)
    history = tuner.trainer_.history_
    assert "relation_loss" in history[0]
    assert history[-1]["relation_loss"] < history[0]["relation_loss"]
    assert torch.equal(source_head.weight, before)  # the caller's head is copied
    assert not torch.equal(tuner.model_.source_head.weight.detach(), before)
    assert tuner.parameter_report_.to_frame().loc["source_head", "trainable"] == 27
    with pytest.raises(ValueError, match="needs a strategy that trains backbone layers"):
        FineTuner(backbone, LinearProbe(), source_head=source_head).fit(target)
