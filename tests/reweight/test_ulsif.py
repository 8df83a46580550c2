"""uLSIF / RuLSIF: closed-form fit and exact leave-one-out selection."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import spearmanr

from transferkit import TransferWarning
from transferkit.reweight import ULSIF
from transferkit.reweight.ulsif import FLAT_SCORE, loo_score


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
    i = int(np.flatnonzero(ulsif.cv_gammas_ == ulsif.gamma_)[0])
    j = int(np.flatnonzero(ulsif.cv_lambdas_ == ulsif.lambda_)[0])
    assert ulsif.cv_scores_[i, j] == ulsif.cv_scores_.max()


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


def test_clear_shift_is_not_flagged_as_flat(shifted_arrays) -> None:
    X, is_target, _ = shifted_arrays
    with warnings.catch_warnings():
        warnings.simplefilter("error", TransferWarning)
        ulsif = ULSIF().fit(X, is_target)
    assert not ulsif.flat_fit_
    assert ulsif.cv_scores_.max() > FLAT_SCORE + 0.01


def test_no_usable_fit_in_many_dimensions_warns() -> None:
    # 11 features and no real shift: the best fit is indistinguishable from uniform
    # weights, which used to come back silently as if it were an estimate.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 11))
    is_target = np.r_[np.zeros(600), np.ones(400)]
    with pytest.warns(TransferWarning, match="no usable fit"):
        ulsif = ULSIF().fit(X, is_target)
    assert ulsif.flat_fit_


def test_flattest_corner_of_the_grid_is_flagged(shifted_arrays) -> None:
    X, is_target, _ = shifted_arrays
    ulsif = ULSIF().fit(X, is_target)
    gammas, lambdas = [0.1, 1.0], [0.01, 1.0]
    ulsif.cv_scores_ = np.full((len(gammas), len(lambdas)), 0.9)
    ulsif.gamma_, ulsif.lambda_ = 1.0, 1.0  # narrow kernel: not the corner
    assert not ulsif._check_flat(gammas, lambdas)
    ulsif.gamma_ = 0.1  # widest kernel and largest lambda
    with pytest.warns(TransferWarning, match="flattest corner"):
        assert ulsif._check_flat(gammas, lambdas)


def test_nonnegative_solver_is_the_constrained_optimum(shifted_arrays) -> None:
    X, is_target, ratio = shifted_arrays
    clipped = ULSIF(gamma=[0.5], lambdas=[0.01]).fit(X, is_target)
    constrained = ULSIF(gamma=[0.5], lambdas=[0.01], solver="nonnegative").fit(X, is_target)
    assert (constrained.alpha_ >= 0).all()
    assert spearmanr(constrained.weights_, ratio)[0] > 0.85
    Xs, Xt = clipped.scaler_.transform(X[is_target == 0]), clipped.scaler_.transform(
        X[is_target == 1])
    Phi_s = clipped._design(Xs, clipped.centres_, 0.5)
    Phi_t = clipped._design(Xt, clipped.centres_, 0.5)
    H, h = Phi_s.T @ Phi_s / len(Xs), Phi_t.mean(axis=0)

    def objective(a: np.ndarray) -> float:
        return float(0.5 * a @ (H + 0.01 * np.eye(len(a))) @ a - h @ a)

    assert objective(constrained.alpha_) <= objective(clipped.alpha_) + 1e-9
    with pytest.raises(ValueError, match="'solver' parameter of ULSIF"):
        ULSIF(solver="qp").fit(X, is_target)


def test_leave_one_out_pairs_do_not_follow_the_input_order() -> None:
    # Old code held out the first min(n_s, n_t) source rows in input order: with rows
    # sorted by the shifted feature the score depended on the sort direction (2.7 vs -4.8).
    rng = np.random.default_rng(0)
    X_s, X_t = rng.normal(size=(800, 1)), rng.normal(size=(400, 1)) + 1
    is_target = np.r_[np.zeros(800), np.ones(400)]
    order = np.argsort(X_s[:, 0])
    scores = []
    for rows in (order, order[::-1]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TransferWarning)
            fitted = ULSIF(gamma=[0.5], lambdas=[0.01, 0.1]).fit(np.r_[X_s[rows], X_t],
                                                                 is_target)
        scores.append(fitted.cv_scores_)
    assert np.abs(scores[0] - scores[1]).max() < 1.0
