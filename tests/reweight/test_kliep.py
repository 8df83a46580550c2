"""KLIEP: normalisation constraint and likelihood cross-validation of the width."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from transferkit.reweight import KLIEP


def test_fitted_ratio_is_normalised_over_the_source(shifted_arrays) -> None:
    X, is_target, ratio = shifted_arrays
    kliep = KLIEP(n_centres=50).fit(X, is_target)
    # The KLIEP constraint: the ratio averages 1 over the source sample.
    assert kliep._ratio(X[is_target == 0]).mean() == pytest.approx(1.0, rel=1e-3)
    assert spearmanr(kliep.weights_, ratio)[0] > 0.85


def test_cross_validation_prefers_a_sensible_width(shifted_arrays) -> None:
    X, is_target, _ = shifted_arrays
    kliep = KLIEP(n_centres=50).fit(X, is_target)
    widths = sorted(kliep.cv_scores_)
    assert len(widths) == 5
    assert kliep.gamma_ == max(kliep.cv_scores_, key=kliep.cv_scores_.get)
    # The widest kernels (0.1 x median heuristic) are nearly flat and cannot follow the shift.
    assert kliep.cv_scores_[widths[0]] < kliep.cv_scores_[kliep.gamma_] - 0.05


def test_single_width_skips_cross_validation(shifted_arrays) -> None:
    X, is_target, _ = shifted_arrays
    kliep = KLIEP(gamma=0.5, n_centres=20).fit(X, is_target)
    assert kliep.gamma_ == 0.5 and kliep.cv_scores_ == {}


def test_too_few_target_rows_for_the_folds() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(23, 2))
    is_target = np.r_[np.zeros(20), np.ones(3)]
    with pytest.raises(ValueError, match="3 target rows are too few for cv=5"):
        KLIEP().fit(X, is_target)
