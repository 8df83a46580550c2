"""select_with_labels: nested repeated CV on the labelled target rows."""

from __future__ import annotations

import numpy as np
import pytest

from transferkit import Domain
from transferkit.detect import LabelSelection, select_with_labels
from transferkit.detect.crossval import corrected_interval
from transferkit.fewlabel import RegularTransfer, SourceOnly, TargetOnly


def pair(task: str = "binary", n_labels: int = 60, shift: float = 1.0):
    rng = np.random.default_rng(0)
    X_s, X_t = rng.normal(size=(300, 3)), rng.normal(size=(150, 3))
    if task == "binary":
        y_s = (X_s[:, 0] > 0).astype(int)
        y_t = (X_t[:, 0] - shift * X_t[:, 1] > 0).astype(int)
    else:
        y_s = X_s[:, 0] + 0.1 * rng.normal(size=300)
        y_t = X_t[:, 0] + shift * X_t[:, 1] + 0.1 * rng.normal(size=150)
    labels = y_t.astype(float)
    labels[n_labels:] = np.nan
    source = Domain.from_arrays(X_s, y_s, name="us", task=task)
    target = Domain.from_arrays(X_t, labels, name="de", task=task, allow_unlabeled=True)
    return source, target


class Spy(SourceOnly):
    """Records how many target labels each fit saw (nestedness check)."""

    seen: list[int] = []

    def fit(self, source: Domain, target: Domain) -> Spy:
        Spy.seen.append((target.n_labeled, target.n_samples))
        return super().fit(source, target)


def test_a_different_rule_picks_the_target_aware_candidate() -> None:
    source, target = pair()
    choice = select_with_labels({"source_only": SourceOnly(), "target_only": TargetOnly()},
                                source, target, n_repeats=2, random_state=0)
    assert isinstance(choice, LabelSelection)
    assert choice.winner == "target_only"
    assert choice.margin_low > 0
    assert set(choice.table.columns) >= {"mean", "std", "win_rate", "fit_seconds",
                                         "within_noise", "simplicity"}
    assert choice.table.loc["target_only", "win_rate"] == 1.0
    assert choice.fold_scores.shape == (6, 2)
    assert "target_only" in choice.summary()


def test_training_folds_only_and_unlabelled_rows_passed_on() -> None:
    source, target = pair(n_labels=30)
    Spy.seen = []
    select_with_labels({"spy": Spy(), "other": SourceOnly()}, source, target, n_repeats=1,
                       n_splits=3)
    assert Spy.seen == [(20, 150)] * 3


def test_within_noise_the_simpler_candidate_wins() -> None:
    source, target = pair(shift=0.0)
    candidates = {"regular_transfer": RegularTransfer(), "source_only": SourceOnly()}
    choice = select_with_labels(candidates, source, target, n_repeats=2, within_se=1.0,
                                simplicity=["source_only", "regular_transfer"])
    assert choice.winner == "source_only"
    assert choice.table["within_noise"].all()
    strict = select_with_labels(candidates, source, target, n_repeats=2, within_se=0.0,
                                simplicity=["source_only", "regular_transfer"])
    assert strict.winner == strict.best_by_mean


def test_regression_metrics_lower_is_better() -> None:
    source, target = pair("regression")
    for metric in ("rmse", "mae", "r2"):
        choice = select_with_labels({"source_only": SourceOnly(), "target_only": TargetOnly()},
                                    source, target, n_repeats=1, metric=metric)
        assert choice.winner == "target_only"
        assert choice.margin > 0


def test_bad_settings() -> None:
    source, target = pair(n_labels=4)
    with pytest.raises(ValueError, match="at least 6 labelled target rows"):
        select_with_labels({"a": SourceOnly(), "b": TargetOnly()}, source, target)
    with pytest.raises(ValueError, match="'candidates' parameter"):
        select_with_labels({"a": SourceOnly()}, source, target)
    with pytest.raises(ValueError, match="'metric' parameter"):
        select_with_labels({"a": SourceOnly(), "b": TargetOnly()}, *pair(), metric="rmse")
    with pytest.raises(ValueError, match="not candidates"):
        select_with_labels({"a": SourceOnly(), "b": TargetOnly()}, *pair(), n_repeats=1,
                           simplicity=["c"])


def test_corrected_interval_is_wider_than_the_naive_one() -> None:
    rng = np.random.default_rng(0)
    differences = rng.normal(0.02, 0.05, size=9)
    mean, low, high = corrected_interval(differences, 1 / 3, 0.95)
    naive = 2.306 * differences.std(ddof=1) / 3
    assert mean == pytest.approx(differences.mean())
    assert (high - low) / 2 > naive


@pytest.mark.filterwarnings("ignore:TargetOnly. too few")
def test_rare_class_reduces_the_folds_with_a_warning() -> None:
    from transferkit.exceptions import TransferWarning

    source, target = pair(n_labels=150)
    labels = np.full(150, np.nan)
    labels[:12] = [0] * 10 + [1] * 2
    target = Domain.from_arrays(target.X, labels, name="de", allow_unlabeled=True)
    with pytest.warns(TransferWarning, match="using 2 stratified folds"):
        choice = select_with_labels({"a": SourceOnly(), "b": TargetOnly()}, source, target,
                                    n_repeats=1)
    assert len(choice.fold_scores) == 2


def test_string_labels_and_budget_curve_with_unlabelled_rows() -> None:
    from transferkit.detect import label_budget_curve

    source, target = pair(n_labels=90)
    names = np.array(["no", "yes"], dtype=object)
    labels = np.full(len(target), None, dtype=object)
    labels[target.labeled_mask] = names[target.labeled().y]
    source = Domain.from_arrays(source.X, names[source.y], name="us", task="binary")
    target = Domain.from_arrays(target.X, labels, name="de", task="binary",
                                allow_unlabeled=True)
    choice = select_with_labels({"a": SourceOnly(), "b": TargetOnly()}, source, target,
                                n_repeats=1)
    assert choice.winner == "b"
    curve = label_budget_curve(TargetOnly(), source, target, budgets=(0, 20), n_repeats=1)
    assert curve.n_available == 63
