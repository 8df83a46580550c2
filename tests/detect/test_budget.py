"""label_budget_curve: scores against the number of labelled target rows."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from transferkit import Domain
from transferkit.detect import LabelBudgetCurve, label_budget_curve
from transferkit.detect.budget import _catch_up, _default_budgets
from transferkit.fewlabel import RegularTransfer


def pair(task: str = "binary"):
    rng = np.random.default_rng(0)
    X_s, X_t = rng.normal(size=(300, 3)), rng.normal(size=(240, 3))
    if task == "binary":
        y_s, y_t = (X_s[:, 0] > 0).astype(int), (X_t[:, 0] + 0.4 * X_t[:, 1] > 0).astype(int)
    else:
        y_s, y_t = X_s[:, 0], X_t[:, 0] + 0.4 * X_t[:, 1] + 0.5
    return (Domain.from_arrays(X_s, y_s, name="us", task=task),
            Domain.from_arrays(X_t, y_t, name="de", task=task))


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_curve_table_and_plot(task: str) -> None:
    source, target = pair(task)
    curve = label_budget_curve(RegularTransfer(), source, target, budgets=(0, 10, 25, 80),
                               n_repeats=2, method_name="regular_transfer")
    assert isinstance(curve, LabelBudgetCurve)
    table = curve.to_frame()
    assert table.index.tolist() == [0, 10, 25, 80]
    assert np.isnan(table.loc[0, "target_only"]) and np.isfinite(table.loc[0, "source_only"])
    assert (table.loc[10:, ["target_only", "method", "gain"]].notna()).all().all()
    assert curve.metric == ("accuracy" if task == "binary" else "rmse")
    assert curve.n_test == 72 and curve.n_available == 168
    assert isinstance(curve.plot(), Figure)
    assert "K=10" in curve.summary()


def test_budget_above_the_available_labels_is_an_error() -> None:
    source, target = pair()
    with pytest.raises(ValueError, match="exceed the 168 labelled target rows"):
        label_budget_curve(RegularTransfer(), source, target, budgets=(10, 500))


def test_default_budgets_end_at_the_pool() -> None:
    assert _default_budgets(60) == [0, 10, 25, 50, 60]
    assert _default_budgets(1000) == [0, 10, 25, 50, 100, 200, 400, 800, 1000]


def test_catch_up_observed_extrapolated_and_never() -> None:
    import pandas as pd

    k = [0, 10, 25, 50, 100]
    observed = pd.DataFrame({"target_only": [np.nan, 0.6, 0.7, 0.8, 0.85],
                             "method": [np.nan, 0.75, 0.78, 0.8, 0.84]}, index=k)
    assert _catch_up(observed, 1.0, 100)[0] == 50
    ks = np.array([10, 25, 50, 100])
    curve = 0.95 - 0.9 * ks ** -0.5
    extrapolated = pd.DataFrame({"target_only": [np.nan, *curve],
                                 "method": [np.nan, 0.9, 0.9, 0.9, 0.9]}, index=k)
    found, note = _catch_up(extrapolated, 1.0, 100)
    assert found == pytest.approx(324, rel=0.05) and "beyond the 100" in note
    never = pd.DataFrame({"target_only": [np.nan, 0.5, 0.55, 0.57, 0.58],
                          "method": [np.nan, 0.9, 0.9, 0.9, 0.9]}, index=k)
    assert _catch_up(never, 1.0, 100)[0] is None
