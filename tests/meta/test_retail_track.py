"""The new-market track's task construction, on a synthetic stand-in for Online Retail.

Like the real data: one big home market, a few foreign markets of 12-60 customers and
many countries with a handful of customers; binary "buys again" labels shared by all.
"""

from __future__ import annotations

import numpy as np
import pytest

from transferkit import TransferWarning
from transferkit.domain import Domain
from transferkit.meta import PooledModel, PooledOffset, choose_learner
from transferkit.meta.tasks import leave_one_task_out

from ._data import FAST

SIZES = {"uk": 300, "de": 60, "fr": 50, "be": 20, "es": 15, "pt": 12,
         **{f"tiny{i}": 1 + i % 8 for i in range(20)}}
FOREIGN = ["de", "fr", "be", "es", "pt"]


def _markets(seed: int = 0) -> dict[str, Domain]:
    rng = np.random.default_rng(seed)
    weights = np.array([1.0, -0.8, 0.5])
    markets = {}
    for name, n in SIZES.items():
        X = rng.gamma(2.0, 1.0, size=(n, 3))
        logit = X @ weights - 1.0 + rng.normal(0, 0.5)
        y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
        markets[name] = Domain.from_arrays(np.log1p(X), y, name=name, task="binary")
    return markets


def test_folds_drop_small_markets_and_keep_validation_out_of_training() -> None:
    with pytest.warns(TransferWarning, match="dropped 20 of 26 tasks"):
        folds = leave_one_task_out(_markets(), FOREIGN, n_val=2, k_shot=5, n_query=5,
                                   labels="shared")
    assert [f.task for f in folds] == FOREIGN
    for fold in folds:
        validation = set(fold.validation.names)
        assert fold.test.names == [fold.task] and len(validation) == 2
        assert fold.task not in validation and fold.task not in fold.train.names
        assert not validation & set(fold.train.names) and "uk" in fold.train.names
        assert not any(n.startswith("tiny") for n in fold.train.names)
        # The validation markets are the two largest other foreign ones.
        assert validation == set([n for n in FOREIGN if n != fold.task][:2])
        assert len(fold.train) == 6 - 1 - 2
    assert folds[2].validation.names == ["de", "fr"]
    # A new market enters a larger K only if it is big enough for it.
    big = [f.task for f in folds if len(f.test.task_arrays(f.task)[1]) >= 20 + 5]
    assert big == ["de", "fr"]
    episode = folds[0].test.with_shots(20, 5).task_episodes(1)[0]
    assert episode.X_support.shape == (20, 3) and episode.X_query.shape == (5, 3)
    assert episode.classes.tolist() == [0, 1]


def test_folds_reject_dropped_or_unknown_markets_and_too_many_validation_tasks() -> None:
    markets = _markets()
    with pytest.warns(TransferWarning), pytest.raises(ValueError, match="dropped as too small"):
        leave_one_task_out(markets, ["de", "tiny3"], k_shot=5, n_query=5, labels="shared")
    with pytest.warns(TransferWarning), pytest.raises(ValueError, match="no task named 'xx'"):
        leave_one_task_out(markets, ["xx"], k_shot=5, n_query=5, labels="shared")
    with pytest.warns(TransferWarning), pytest.raises(ValueError, match="n_val=5"):
        leave_one_task_out(markets, FOREIGN, n_val=5, k_shot=5, n_query=5, labels="shared")
    with pytest.raises(ValueError, match="n_val"):
        leave_one_task_out(markets, FOREIGN, n_val=-1)


def test_a_fold_runs_the_pooled_comparison_and_the_chooser() -> None:
    with pytest.warns(TransferWarning):
        fold = leave_one_task_out(_markets(), FOREIGN, n_val=2, k_shot=5, n_query=5,
                                  labels="shared")[0]
    kwargs = dict(hidden=(8,), episodes_per_epoch=20, config=FAST)
    learners = {"pooled": PooledModel(**kwargs).meta_fit(fold.train),
                "pooled_offset": PooledOffset(**kwargs).meta_fit(fold.train)}
    test = fold.test.with_shots(10, 5)
    result = learners["pooled"].evaluate(test, repeats=3)
    assert result.scores.index.tolist() == ["de"] and 0 <= result.mean("accuracy") <= 1
    choice = choose_learner(learners, fold.validation, k_shot=10, metric="accuracy",
                            support=test.task_episodes(1)[0], n_resamples=200)
    assert choice.chosen in learners and choice.n_tasks == 2
    assert "cv_accuracy" in choice.table.columns
