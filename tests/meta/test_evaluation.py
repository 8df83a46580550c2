"""Per-task scores, bootstrap CIs over tasks and the paired comparison."""

from __future__ import annotations

import numpy as np
import pytest

from transferkit.meta import MetaEvaluation, comparison_table, paired_difference
from transferkit.meta.evaluation import ndcg_at_k


def _evaluation(name: str, values, seconds: float = 0.01) -> MetaEvaluation:
    rows = [{"task": f"t{i}", "mae": float(v)} for i, v in enumerate(values)]
    return MetaEvaluation.from_rows(name, rows, adapt_seconds=seconds)


def test_interval_brackets_the_mean_and_narrows_with_more_tasks() -> None:
    rng = np.random.default_rng(0)
    small = _evaluation("a", rng.normal(1, 0.3, 10))
    large = _evaluation("a", rng.normal(1, 0.3, 400))
    low, high = small.interval("mae")
    assert low < small.mean("mae") < high
    assert np.diff(large.interval("mae"))[0] < np.diff(small.interval("mae"))[0] / 3
    assert small.summary().loc["mae", "n_tasks"] == 10


def test_repeats_of_a_task_are_averaged_before_the_bootstrap() -> None:
    rows = [{"task": "x", "mae": 1.0}, {"task": "x", "mae": 3.0}, {"task": "y", "mae": 0.0}]
    result = MetaEvaluation.from_rows("a", rows, adapt_seconds=0.0)
    assert result.n_tasks == 2 and result.mean("mae") == 1.0


def test_pairing_detects_a_small_consistent_gain_an_unpaired_view_would_miss() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(1, 1.0, 40)
    a, b = _evaluation("a", base - 0.05), _evaluation("b", base)
    diff = paired_difference(a, b, "mae")
    assert diff["significant"] and diff["a_better"]
    low_a, high_a = a.interval("mae")
    assert low_a < b.mean("mae") < high_a
    table = comparison_table([a, b], "mae", reference="b")
    assert table.loc["a", "better"] and not table.loc["b", "better"]
    with pytest.raises(KeyError, match="No evaluation"):
        comparison_table([a], "mae", reference="zz")
    with pytest.raises(KeyError, match="No metric"):
        a.mean("rmse")


def test_ndcg_is_one_for_the_ideal_order_and_lower_for_the_reverse() -> None:
    truth = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    assert ndcg_at_k(truth, truth, 3) == 1.0
    assert ndcg_at_k(truth, -truth, 3) < 0.5
    assert ndcg_at_k(np.ones(4), np.arange(4.0)) == 1.0
