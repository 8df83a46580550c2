"""Gap measures against naive numpy/scipy references, properties, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats as sps
from sklearn.linear_model import LogisticRegression

from transferkit import metrics


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.mark.parametrize("n_source, n_target", [(30, 45), (700, 900), (3000, 2000)])
def test_numeric_shift_matches_scipy(rng, n_source, n_target):
    X_source = np.column_stack([rng.normal(size=n_source), rng.integers(0, 4, n_source)])
    X_target = np.column_stack([rng.normal(0.3, 1.5, n_target), rng.integers(0, 5, n_target)])
    shift = metrics.numeric_shift(X_source, X_target)
    for j in range(2):
        reference = sps.ks_2samp(X_source[:, j], X_target[:, j])
        assert shift.ks_statistic[j] == pytest.approx(reference.statistic, abs=1e-12)
        assert shift.ks_pvalue[j] == pytest.approx(reference.pvalue, rel=0.05, abs=1e-4)
        scale = X_source[:, j].std(ddof=1)
        expected = sps.wasserstein_distance(X_source[:, j], X_target[:, j]) / scale
        assert shift.wasserstein[j] == pytest.approx(expected, rel=1e-9)
        assert shift.mean_shift[j] == pytest.approx(
            (X_target[:, j].mean() - X_source[:, j].mean()) / scale)


def test_psi_matches_naive_binning(rng):
    source, target = rng.normal(size=2000), rng.normal(0.4, 1.0, 1500)
    edges = np.quantile(source, np.arange(1, 10) / 10)
    p = np.bincount(np.searchsorted(edges, source, side="left"), minlength=10) / source.size
    q = np.bincount(np.searchsorted(edges, target, side="left"), minlength=10) / target.size
    expected = np.sum((q - p) * np.log(q / p))
    assert metrics.psi(source, target)[0] == pytest.approx(expected, rel=1e-9)


def test_missing_values_are_counted_not_tested(rng):
    source = rng.normal(size=(500, 1))
    target = rng.normal(size=(400, 1))
    target[:100] = np.nan
    shift = metrics.numeric_shift(source, target)
    assert shift.missing_target[0] == pytest.approx(0.25)
    assert shift.n_target[0] == 300
    assert shift.ks_pvalue[0] > 0.01


def test_all_missing_and_constant_columns_do_not_crash():
    source = np.column_stack([np.ones(50), np.arange(50.0)])
    target = np.column_stack([np.ones(40), np.full(40, np.nan)])
    shift = metrics.numeric_shift(source, target)
    assert shift.ks_statistic[0] == 0 and shift.ks_pvalue[0] == 1
    assert np.isnan(shift.ks_statistic[1]) and shift.missing_target[1] == 1.0


def test_numeric_shift_threads_agree_with_serial(rng):
    X_source, X_target = rng.normal(size=(400, 5)), rng.normal(size=(300, 5)) + 0.2
    one = metrics.numeric_shift(X_source, X_target, n_jobs=1)
    many = metrics.numeric_shift(X_source, X_target, n_jobs=3)
    np.testing.assert_array_equal(one.ks_statistic, many.ks_statistic)
    np.testing.assert_array_equal(one.psi, many.psi)


def test_numeric_shift_rejects_bad_input():
    with pytest.raises(ValueError, match="features per row"):
        metrics.numeric_shift(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="must be numeric"):
        metrics.numeric_shift(np.array([["a"], ["b"]]), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="'n_bins' parameter of numeric_shift"):
        metrics.numeric_shift(np.zeros((5, 1)), np.zeros((5, 1)), n_bins=1)


def test_benjamini_hochberg_matches_scipy(rng):
    pvalues = rng.random(40) ** 3
    expected = sps.false_discovery_control(pvalues, method="bh")
    np.testing.assert_allclose(metrics.benjamini_hochberg(pvalues), expected)
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]"):
        metrics.benjamini_hochberg([0.5, 1.5])


def test_total_variation_js_and_chi2_references():
    p, q = np.array([10.0, 30.0, 60.0]), np.array([20.0, 20.0, 60.0])
    assert metrics.total_variation(p, q) == pytest.approx(0.1)
    from scipy.spatial.distance import jensenshannon

    assert metrics.js_divergence(p, q) == pytest.approx(jensenshannon(p, q, base=2) ** 2)
    statistic, pvalue = metrics.chi2_homogeneity(p, q)
    reference = sps.chi2_contingency(np.vstack([p, q]), correction=False)
    assert statistic == pytest.approx(reference.statistic)
    assert pvalue == pytest.approx(reference.pvalue)
    assert metrics.chi2_homogeneity([5, 0], [7, 0]) == (0.0, 1.0)
    with pytest.raises(ValueError, match="same categories"):
        metrics.total_variation([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="non-negative"):
        metrics.js_divergence([1, -1], [1, 1])


finite = st.floats(-1e3, 1e3, allow_nan=False, width=64)


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 25), st.integers(1, 3)), elements=finite),
       arrays(np.float64, st.tuples(st.integers(2, 25), st.just(2)), elements=finite))
def test_mmd_properties(X, Y):
    assert metrics.mmd2(X, X) == 0.0
    Y = np.resize(Y, (len(Y), X.shape[1]))
    forward = metrics.mmd2(X, Y, gamma=0.5)
    assert forward >= 0
    assert forward == pytest.approx(metrics.mmd2(Y, X, gamma=0.5), abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 30), st.just(1)), elements=finite),
       arrays(np.float64, st.tuples(st.integers(1, 30), st.just(1)), elements=finite))
def test_ks_and_tv_properties(X, Y):
    statistic, pvalue = metrics.ks_statistics(X, Y)
    assert 0 <= statistic[0] <= 1 and 0 <= pvalue[0] <= 1
    assert statistic[0] == pytest.approx(sps.ks_2samp(X[:, 0], Y[:, 0]).statistic, abs=1e-12)
    assert metrics.ks_statistics(X, X)[0][0] == 0


def test_mmd_exact_matches_naive_kernel_sum(rng):
    X, Y = rng.normal(size=(40, 3)), rng.normal(size=(30, 3)) + 0.5
    gamma = 0.3

    def k(A, B):
        return np.exp(-gamma * ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1))

    expected = k(X, X).mean() + k(Y, Y).mean() - 2 * k(X, Y).mean()
    assert metrics.mmd2(X, Y, gamma=gamma, method="exact") == pytest.approx(expected)
    rff = metrics.mmd2(X, Y, gamma=gamma, method="rff", n_components=4000)
    assert rff == pytest.approx(expected, abs=0.03)


def test_median_heuristic_matches_definition(rng):
    X = rng.normal(size=(60, 2))
    distances = ((X[:, None] - X[None]) ** 2).sum(-1)[np.triu_indices(60, 1)]
    assert metrics.median_heuristic_gamma(X) == pytest.approx(1 / np.median(distances))
    assert metrics.median_heuristic_gamma(np.zeros((4, 2))) == 1.0


@pytest.mark.parametrize("method", ["exact", "rff"])
def test_mmd_test_detects_shift_and_not_noise(rng, method):
    same = metrics.mmd_test(rng.normal(size=(150, 3)), rng.normal(size=(150, 3)), method=method)
    moved = metrics.mmd_test(rng.normal(size=(150, 3)), rng.normal(size=(150, 3)) + 0.6,
                             method=method)
    assert same.pvalue > 0.05
    assert moved.pvalue < 0.01 and moved.method == method
    with pytest.raises(ValueError, match="'method' parameter of mmd_test"):
        metrics.mmd_test(np.zeros((3, 1)), np.zeros((3, 1)), method="fast")


def test_classifier_test_detects_shift_with_calibrated_numbers(rng):
    X_source, X_target = rng.normal(size=(300, 4)), rng.normal(size=(200, 4))
    X_target[:, 2] += 1.0
    result = metrics.classifier_two_sample_test(X_source, X_target, n_permutations=300)
    assert result.auc > 0.7 and result.pvalue < 0.01
    assert 0 < result.auc_se < 0.05
    assert result.proxy_a_distance == pytest.approx(2 * (1 - 2 * result.balanced_error))
    auc = metrics.domain_classifier_auc(X_source, X_target)
    assert auc == pytest.approx(result.auc)


def test_classifier_test_null_is_not_significant(rng):
    X = rng.normal(size=(400, 3))
    result = metrics.classifier_two_sample_test(
        X[:200], X[200:], classifier=LogisticRegression(), n_permutations=300, random_state=3)
    assert abs(result.auc - 0.5) < 0.1
    assert result.pvalue > 0.05


def test_classifier_subsampling_and_errors(rng):
    result = metrics.classifier_two_sample_test(
        rng.normal(size=(500, 2)), rng.normal(size=(400, 2)) + 2, max_samples=100,
        n_permutations=0, classifier=LogisticRegression())
    assert (result.n_source, result.n_target) == (100, 100)
    assert np.isnan(result.pvalue)
    with pytest.raises(ValueError, match="features per row"):
        metrics.domain_classifier_auc(np.zeros((10, 2)), np.zeros((10, 3)))
    with pytest.raises(ValueError, match="at least 5 needed"):
        metrics.domain_classifier_auc(np.zeros((3, 2)), np.zeros((10, 2)))
    with pytest.raises(ValueError, match="'cv' parameter"):
        metrics.proxy_a_distance(np.zeros((10, 2)), np.zeros((10, 2)), cv=1)


def test_auc_standard_error_matches_bootstrap(rng):
    scores_pos, scores_neg = rng.normal(1, 1, 300), rng.normal(0, 1, 300)
    from sklearn.metrics import roc_auc_score

    y = np.r_[np.ones(300), np.zeros(300)]
    auc = roc_auc_score(y, np.r_[scores_pos, scores_neg])
    boot = []
    for _ in range(300):
        i, j = rng.integers(0, 300, 300), rng.integers(0, 300, 300)
        boot.append(roc_auc_score(y, np.r_[scores_pos[i], scores_neg[j]]))
    assert metrics.auc_standard_error(auc, 300, 300) == pytest.approx(np.std(boot), rel=0.25)
