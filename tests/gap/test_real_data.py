"""gap_report on real markets: no false alarms on a same-market split, real shifts found,
a planted shift ranked first, and BBSE recovering a planted target prior."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_path

from transferkit import Domain
from transferkit.datasets import load_stackoverflow
from transferkit.gap import gap_report


@pytest.fixture(scope="module")
def markets() -> dict[str, Domain]:
    return load_stackoverflow(["United States", "India"])


def _features_only(domain: Domain) -> Domain:
    frame = domain.frame.drop(columns=[domain.schema.label])
    return Domain.from_frame(frame, name=domain.name)


def test_same_market_split_raises_no_alarm(markets):
    first, second = markets["United States"].split(0.5, seed=11)
    report = gap_report(first, second, n_permutations=300, top_plots=0)
    assert not report.features["shifted"].any()
    classifier = report.domain_tests.loc["classifier"]
    assert abs(classifier["statistic"] - 0.5) < 3 * classifier["standard_error"] + 0.02
    assert classifier["pvalue"] > 0.05
    assert report.domain_tests.loc["mmd", "pvalue"] > 0.05
    assert report.severity in ("none", "negligible")


def test_false_positive_rate_over_repeated_splits_is_nominal(markets):
    us = _features_only(markets["United States"])
    flagged = []
    for seed in range(50):
        first, second = us.split(0.5, seed=seed)
        report = gap_report(first, second, tests=(), importances=False, top_plots=0)
        flagged.append(bool(report.features["shifted"].any()))
    assert np.mean(flagged) <= 0.10


def test_two_real_markets_differ(markets):
    report = gap_report(markets["United States"], markets["India"], n_permutations=300,
                        top_plots=0)
    assert report.severity == "large"
    assert report.features.index[0] == "Salary"
    assert report.domain_tests.loc["classifier", "statistic"] > 0.9
    assert report.drivers[0] == "Salary"
    assert "differs strongly" in report.summary()


@pytest.mark.parametrize("column", ["YearsCodedJob", "CareerSatisfaction"])
def test_planted_shift_on_real_column_ranks_first(markets, column):
    us = _features_only(markets["United States"])
    first, second = us.split(0.5, seed=3)
    frame = second.frame
    frame[column] = frame[column] + 0.3 * first.frame[column].std()
    moved = Domain.from_frame(frame, name="moved")
    report = gap_report(first, moved, tests=(), importances=False, top_plots=0)
    assert report.features.index[0] == column
    assert report.features["shifted"].sum() == 1


def test_bbse_recovers_planted_prior_on_real_reviews():
    from scipy.io import loadmat

    X, y = [], []
    for domain in ("books", "dvd", "elec", "kitchen"):
        data = loadmat(shared_path("amazon_review_400", f"{domain}_400.mat"))
        X.append(data["fts"].astype(float))
        y.append(data["labels"].ravel().astype(int))
    X, y = np.vstack(X), np.concatenate(y)
    order = np.random.default_rng(0).permutation(len(y))
    source_rows, pool = order[:3000], order[3000:]
    positives, negatives = pool[y[pool] == 1], pool[y[pool] == 0]
    target_rows = np.r_[positives[:500], negatives[:1500]]  # planted prior: 25% positive
    source = Domain.from_arrays(X[source_rows], y[source_rows], name="reviews-a")
    target = Domain.from_arrays(X[target_rows], y[target_rows], name="reviews-b")
    report = gap_report(source, target.hide_labels(0), tests=(), importances=False,
                        top_plots=0)
    assert report.labels.bbse_priors[1] == pytest.approx(0.25, abs=0.05)
