"""KMM: the QP is solved to optimality, and the fast path tracks the exact solution."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import minimize
from scipy.stats import spearmanr

from transferkit.reweight import KMM
from transferkit.reweight._kernels import rbf_kernel
from transferkit.reweight._qp import project_box_sum
from transferkit.reweight.kmm import GAMMA_FACTORS, REG_GRID

#: The former fixed default (median width, ridge 1e-2): solver tests need one setting.
FIXED = {"gamma": "median", "reg": 1e-2}


def _data(n_s: int, n_t: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.r_[rng.normal(size=(n_s, 2)), rng.normal(size=(n_t, 2)) + [1.0, 0.0]]
    return X, np.r_[np.zeros(n_s), np.ones(n_t)]


@pytest.mark.parametrize("reg", [1e-3, 1e-2])
def test_exact_solver_matches_a_reference_qp_solver(reg: float) -> None:
    X, y = _data(40, 30)
    kmm = KMM(B=5.0, epsilon=0.05, reg=reg, standardize=False, tol=1e-8, max_iter=5000)
    kmm.fit(X, y)
    Xs, Xt = X[y == 0], X[y == 1]
    n = len(Xs)
    K = rbf_kernel(Xs, Xs, kmm.gamma_)
    kappa = rbf_kernel(Xs, Xt, kmm.gamma_).mean(axis=1)

    def objective(beta: np.ndarray) -> float:
        return (0.5 * beta @ K @ beta / n**2 - kappa @ beta / n
                + 0.5 * reg * np.sum((beta - 1) ** 2) / n)

    def gradient(beta: np.ndarray) -> np.ndarray:
        return K @ beta / n**2 - kappa / n + reg * (beta - 1) / n

    reference = minimize(
        objective, np.ones(n), jac=gradient, method="SLSQP", bounds=[(0, 5.0)] * n,
        constraints=[{"type": "ineq", "fun": lambda b: n * 1.05 - b.sum()},
                     {"type": "ineq", "fun": lambda b: b.sum() - n * 0.95}],
        options={"maxiter": 1000, "ftol": 1e-14},
    )
    assert reference.success
    assert objective(kmm.beta_) <= reference.fun + 1e-8
    # The ridge makes the problem strictly convex, so the minimiser is unique.
    np.testing.assert_allclose(kmm.beta_, reference.x, atol=1e-3)
    assert 0.95 * n - 1e-6 <= kmm.beta_.sum() <= 1.05 * n + 1e-6
    assert kmm.beta_.min() >= 0 and kmm.beta_.max() <= 5.0 + 1e-9


def test_weighting_reduces_the_mmd() -> None:
    X, y = _data(300, 200)
    kmm = KMM().fit(X, y)
    Xs, Xt = kmm.scaler_.transform(X[y == 0]), kmm.scaler_.transform(X[y == 1])

    def mmd2(weights: np.ndarray) -> float:
        w = weights / weights.mean()
        return float(w @ rbf_kernel(Xs, Xs, kmm.gamma_) @ w / len(w) ** 2
                     - 2 * w @ rbf_kernel(Xs, Xt, kmm.gamma_).mean(axis=1) / len(w)
                     + rbf_kernel(Xt, Xt, kmm.gamma_).mean())

    assert mmd2(kmm.weights_) < 0.2 * mmd2(np.ones(len(Xs)))
    assert kmm.objective_ == pytest.approx(mmd2(kmm.beta_ / kmm.beta_.mean()), rel=0.2, abs=1e-4)


@pytest.mark.parametrize("solver", ["nystroem", "rff"])
def test_fast_path_tracks_the_exact_solution(solver: str) -> None:
    X, y = _data(1500, 1000, seed=1)
    # One fixed setting: the solvers are compared, not the width selection.
    exact = KMM(solver="exact", **FIXED).fit(X, y)
    fast = KMM(solver=solver, n_components=300, **FIXED).fit(X, y)
    assert fast.solver_ == solver and exact.solver_ == "exact"
    if solver == "nystroem":
        assert np.corrcoef(exact.weights_, fast.weights_)[0, 1] > 0.99
        assert np.abs(exact.weights_ - fast.weights_).mean() < 0.05
    else:  # random features converge more slowly in n_components
        assert spearmanr(exact.weights_, fast.weights_)[0] > 0.8


def test_auto_switches_to_the_fast_path_above_max_exact() -> None:
    X, y = _data(120, 80)
    assert KMM(max_exact=100).fit(X, y).solver_ == "nystroem"
    assert KMM(max_exact=200).fit(X, y).solver_ == "exact"


def test_new_rows_are_smoothed_and_fitted_rows_exact() -> None:
    X, y = _data(200, 100)
    kmm = KMM(**FIXED).fit(X, y)
    Xs = X[y == 0]
    np.testing.assert_allclose(kmm.compute_weights(Xs[::-1]), kmm.weights_[::-1])
    nudged = kmm.compute_weights(Xs[:20] + 1e-9)
    assert np.corrcoef(nudged, kmm.weights_[:20])[0, 1] > 0.8


def test_bad_parameters_are_named() -> None:
    X, y = _data(30, 20)
    with pytest.raises(ValueError, match="The 'B' parameter of KMM must be a float > 1"):
        KMM(B=0.5).fit(X, y)
    with pytest.raises(ValueError, match="The 'solver' parameter of KMM must be one of"):
        KMM(solver="qp").fit(X, y)
    with pytest.raises(ValueError, match="The 'epsilon' parameter"):
        KMM(epsilon=1.5).fit(X, y)


@settings(max_examples=60, deadline=None)
@given(
    v=arrays(np.float64, st.integers(1, 30), elements=st.floats(-5, 5)),
    upper=st.floats(0.5, 3.0),
    lo_frac=st.floats(0.0, 1.0),
    width=st.floats(0.0, 1.0),
)
def test_projection_is_feasible_and_optimal(v, upper, lo_frac, width) -> None:
    n = len(v)
    lo = lo_frac * n * upper * 0.9
    hi = min(lo + width * n * upper, n * upper)
    x = project_box_sum(v, upper=upper, lo=lo, hi=hi)
    assert x.min() >= 0 and x.max() <= upper + 1e-12
    assert lo - 1e-6 <= x.sum() <= hi + 1e-6
    # Optimality: no feasible random point is closer to v.
    rng = np.random.default_rng(0)
    for _ in range(20):
        other = project_box_sum(rng.uniform(0, upper, n), upper=upper, lo=lo, hi=hi)
        assert np.sum((x - v) ** 2) <= np.sum((other - v) ** 2) + 1e-6


def test_auto_records_the_selection_and_serves_the_chosen_setting() -> None:
    X, y = _data(200, 150)
    kmm = KMM(random_state=1).fit(X, y)
    table = kmm.selection_
    assert len(table["criterion"]) == len(GAMMA_FACTORS) * len(REG_GRID)
    assert sum(table["chosen"]) == 1
    best = table["chosen"].index(True)
    # Near-best held-out MMD reduction (80 % of the largest), ties to the flattest weights.
    reductions = [1 - c for c in table["criterion"]]
    assert max(reductions) > 0
    assert reductions[best] >= 0.8 * max(reductions)
    near = [e for r, e in zip(reductions, table["ess_fraction"], strict=True)
            if r >= 0.8 * max(reductions)]
    assert table["ess_fraction"][best] == max(near)
    assert (kmm.gamma_, kmm.reg_) == (table["gamma"][best], table["reg"][best])
    # The served weights are the QP solution of the chosen setting on all rows.
    again = KMM(gamma=kmm.gamma_, reg=kmm.reg_, random_state=1).fit(X, y)
    np.testing.assert_allclose(again.weights_, kmm.weights_)
    assert again.selection_ is None


def test_fixing_one_parameter_searches_only_the_other() -> None:
    X, y = _data(150, 100)
    kmm = KMM(reg=0.0).fit(X, y)
    assert set(kmm.selection_["reg"]) == {0.0} and len(kmm.selection_["gamma"]) == 3
    median = KMM(gamma="median", reg=1e-2).fit(X, y)
    assert median.selection_ is None and median.reg_ == 1e-2
    assert KMM(gamma=None, reg=1e-2).fit(X, y).gamma_ == median.gamma_


def test_selection_rejects_weights_that_rest_on_few_rows() -> None:
    # No shift at all: any non-uniform weights only fit noise, so the criterion must keep
    # the weights close to uniform rather than pick the sample-chasing reg=0 solution.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    y = np.r_[np.zeros(300), np.ones(200)]
    kmm = KMM().fit(X, y)
    assert kmm.reg_ > 0
    assert kmm.weight_report().ess_fraction > 0.8
    reg0 = KMM(gamma=kmm.gamma_, reg=0.0).fit(X, y)
    assert reg0.weight_report().ess_fraction < kmm.weight_report().ess_fraction


def test_selection_helps_where_the_shift_is_real() -> None:
    X, y = _data(300, 200, seed=2)
    kmm = KMM().fit(X, y)
    chosen = kmm.selection_["chosen"].index(True)
    assert kmm.selection_["criterion"][chosen] < 0.7  # clearly better than uniform weights
    true_ratio = np.exp(X[y == 0][:, 0] - 0.5)
    assert spearmanr(kmm.weights_, true_ratio)[0] > 0.7


def test_no_setting_beating_uniform_weights_serves_the_flattest() -> None:
    from transferkit.reweight.kmm import _chosen

    assert _chosen([1.02, 1.001, 1.01], [0.2, 0.5, 0.9]) == 2
    # Otherwise the flattest of the settings within 80 % of the largest reduction.
    assert _chosen([0.90, 0.91, 0.95, 0.99], [0.1, 0.6, 0.8, 0.99]) == 1


def test_large_sources_are_compared_on_a_subsample_and_weighted_in_full(monkeypatch):
    from transferkit.reweight import kmm as module

    X, y = _data(300, 120)
    assert KMM().fit(X, y).selection_rows_ == (300, 120)
    monkeypatch.setattr(module, "_MAX_SELECTION_ROWS", 100)
    kmm = KMM().fit(X, y)
    assert kmm.selection_rows_ == (100, 100)
    assert kmm.weights_.shape == (300,) and sum(kmm.selection_["chosen"]) == 1
    assert KMM(gamma=1.0, reg=0.0).fit(X, y).selection_rows_ is None
