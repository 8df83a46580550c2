"""The discriminative density ratio: prior correction, calibration, any classifier."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import pearsonr
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.svm import LinearSVC

from transferkit.reweight import DiscriminativeRatio


def test_log_ratio_is_linear_in_the_shift_direction(two_markets) -> None:
    source, target, ratio = two_markets
    weighter = DiscriminativeRatio().fit(source, target)
    # For Gaussian markets log p_t/p_s is linear, which logistic regression fits exactly.
    assert pearsonr(np.log(weighter.weights_), np.log(ratio))[0] > 0.98
    # The prior correction n_s / n_t makes the raw ratio average about 1 over the source.
    assert weighter._ratio(source.X).mean() == pytest.approx(1.0, abs=0.15)


def test_other_classifiers_are_calibrated(two_markets) -> None:
    source, target, ratio = two_markets
    weighter = DiscriminativeRatio(HistGradientBoostingClassifier(max_iter=50)).fit(
        source, target)
    assert isinstance(weighter.classifier_, CalibratedClassifierCV)
    assert pearsonr(weighter.weights_, ratio)[0] > 0.6


def test_classifier_without_probabilities_is_rejected(two_markets) -> None:
    source, target, _ = two_markets
    with pytest.raises(TypeError, match="predict_proba"):
        DiscriminativeRatio(LinearSVC()).fit(source, target)


def test_max_proba_bounds_the_weights(two_markets) -> None:
    source, target, _ = two_markets
    bounded = DiscriminativeRatio(max_proba=0.6).fit(source, target)
    raw = bounded._ratio(source.X)
    assert raw.max() <= 1.5 * (600 / 400) + 1e-9
    with pytest.raises(ValueError, match="The 'max_proba' parameter"):
        DiscriminativeRatio(max_proba=1.0).fit(source, target)
