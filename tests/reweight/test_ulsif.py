"""uLSIF / RuLSIF: closed-form fit and exact leave-one-out selection."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from transferkit.reweight import ULSIF
from transferkit.reweight.ulsif import loo_score


def _naive_loo(Phi_s: np.ndarray, Phi_t: np.ndarray, alpha: float, lam: float) -> float:
    n_s, n_t = len(Phi_s), len(Phi_t)
    losses = []
    for i in range(min(n_s, n_t)):
        S, T = np.delete(Phi_s, i, axis=0), np.delete(Phi_t, i, axis=0)
        H = (1 - alpha) * S.T @ S / (n_s - 1) + alpha * T.T @ T / (n_t - 1)
        coef = np.maximum(np.linalg.solve(H + lam * np.eye(H.shape[0]), T.mean(axis=0)), 0)
        r_s, r_t = Phi_s[i] @ coef, Phi_t[i] @ coef
        losses.append(0.5 * ((1 - alpha) * r_s**2 + alpha * r_t**2) - r_t)
    return float(np.mean(losses))


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("lam", [0.01, 0.5])
def test_closed_form_loo_equals_refitting(alpha: float, lam: float) -> None:
    rng = np.random.default_rng(0)
    Phi_s = np.abs(rng.normal(size=(40, 6)))
    Phi_t = np.abs(rng.normal(size=(30, 6))) + 0.2
    assert loo_score(Phi_s, Phi_t, alpha, lam) == pytest.approx(
        _naive_loo(Phi_s, Phi_t, alpha, lam), rel=1e-9)


def test_ratio_tracks_the_true_ratio(shifted_arrays) -> None:
    X, is_target, ratio = shifted_arrays
    ulsif = ULSIF().fit(X, is_target)
    assert spearmanr(ulsif.weights_, ratio)[0] > 0.85
    assert (ulsif.gamma_, ulsif.lambda_) in ulsif.cv_scores_
    assert ulsif.cv_scores_[(ulsif.gamma_, ulsif.lambda_)] == max(ulsif.cv_scores_.values())


def test_relative_ratio_is_bounded_by_one_over_alpha(shifted_arrays) -> None:
    X, is_target, _ = shifted_arrays
    rulsif = ULSIF(alpha=0.5).fit(X, is_target)
    raw = rulsif._ratio(X[is_target == 0])
    # RuLSIF estimates p_t / (0.5 p_t + 0.5 p_s) <= 2, up to estimation error.
    assert raw.max() < 2.5
    plain = ULSIF().fit(X, is_target)
    assert rulsif.weight_report().ess > plain.weight_report().ess


def test_bad_alpha_and_lambdas(shifted_arrays) -> None:
    X, is_target, _ = shifted_arrays
    with pytest.raises(ValueError, match="The 'alpha' parameter of ULSIF"):
        ULSIF(alpha=1.0).fit(X, is_target)
    with pytest.raises(ValueError, match="The 'lambdas' parameter of ULSIF"):
        ULSIF(lambdas=[-1.0]).fit(X, is_target)
