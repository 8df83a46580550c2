"""The shared reweighter contract: both API faces, post-processing and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from transferkit import Domain, DomainMismatchError, TransferWarning, stack
from transferkit.reweight import REWEIGHTERS, WeightReport

from .conftest import make_fast


def test_array_and_domain_faces_agree(reweighter_name, two_markets) -> None:
    source, target, ratio = two_markets
    X, is_target = stack(source, target)
    from_arrays = make_fast(reweighter_name).fit(X, is_target)
    from_domains = make_fast(reweighter_name).fit(source, target)
    np.testing.assert_allclose(from_arrays.weights_, from_domains.weights_)
    assert from_arrays.weights_.shape == (source.n_samples,)
    assert spearmanr(from_arrays.weights_, ratio)[0] > 0.8


def test_weights_are_nonnegative_mean_one_and_reproducible(reweighter_name, shifted_arrays) -> None:
    X, is_target, _ = shifted_arrays
    weighter = make_fast(reweighter_name).fit(X, is_target)
    w = weighter.weights_
    assert (w >= 0).all()
    assert w.mean() == pytest.approx(1.0)
    np.testing.assert_allclose(weighter.compute_weights(X[is_target == 0]), w, rtol=1e-6)
    again = make_fast(reweighter_name).fit(X, is_target).weights_
    np.testing.assert_allclose(again, w)


def test_compute_weights_on_new_rows_follow_the_shift(reweighter_name, shifted_arrays) -> None:
    X, is_target, _ = shifted_arrays
    weighter = make_fast(reweighter_name).fit(X, is_target)
    grid = np.c_[np.linspace(-2, 2, 9), np.zeros(9)]
    w = weighter.compute_weights(grid)
    assert w.shape == (9,)
    assert w[-1] > w[0], "rows near the target mean must weigh more than rows far from it"


def test_dataframe_input_keeps_feature_names(reweighter_name, shifted_arrays) -> None:
    X, is_target, _ = shifted_arrays
    frame = pd.DataFrame(X, columns=["price", "age"])
    weighter = make_fast(reweighter_name).fit(frame, is_target)
    assert list(weighter.feature_names_in_) == ["price", "age"]
    assert weighter.compute_weights(frame.iloc[:5]).shape == (5,)


def test_bool_and_two_valued_indicators(shifted_arrays) -> None:
    X, is_target, _ = shifted_arrays
    as_bool = make_fast("discriminative").fit(X, is_target.astype(bool)).weights_
    as_labels = make_fast("discriminative").fit(X, np.where(is_target, 2, 1)).weights_
    np.testing.assert_allclose(as_bool, as_labels)


def test_power_flattens_and_clip_caps(shifted_arrays) -> None:
    X, is_target, _ = shifted_arrays
    raw = make_fast("discriminative").fit(X, is_target)
    flat = make_fast("discriminative", power=0.5).fit(X, is_target)
    uniform = make_fast("discriminative", power=0.0).fit(X, is_target)
    clipped = make_fast("discriminative", clip=2.0).fit(X, is_target)
    assert flat.weight_report().ess > raw.weight_report().ess
    np.testing.assert_allclose(uniform.weights_, 1.0)
    assert clipped.weights_.max() <= 2.0 + 1e-9
    assert clipped.weights_.max() < raw.weights_.max()
    report = clipped.weight_report().to_dict()
    assert report["clip"] == 2.0 and report["power"] == 1.0


def test_weight_report_contract(shifted_arrays) -> None:
    X, is_target, _ = shifted_arrays
    report = make_fast("kmm").fit(X, is_target).weight_report()
    assert isinstance(report, WeightReport)
    data = report.to_dict()
    for key in ("ess", "ess_fraction", "max_weight_share", "n_source", "clip", "power",
                "quantiles", "histogram_counts", "histogram_edges", "method"):
        assert key in data
    assert data["n_source"] == 300 and data["method"] == "KMM"
    assert sum(data["histogram_counts"]) == 300 - data["n_zero"]
    with pytest.raises(AttributeError):
        report.ess = 1.0  # frozen


def test_low_ess_warns() -> None:
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(size=(300, 1)), rng.normal(size=(100, 1)) + 4.0]
    is_target = np.r_[np.zeros(300), np.ones(100)]
    with pytest.warns(TransferWarning, match="effective sample size"):
        weighter = make_fast("discriminative").fit(X, is_target)
    assert weighter.weight_report().low_ess
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_fast("discriminative", power=0.0).fit(X, is_target)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_named(reweighter_name, shifted_arrays, bad) -> None:
    X, is_target, _ = shifted_arrays
    X = X.copy()
    X[7, 1] = bad
    with pytest.raises(ValueError, match=r"(NaN|infinite) values in 1 row \(7\)"):
        make_fast(reweighter_name).fit(X, is_target)
    weighter = make_fast(reweighter_name).fit(shifted_arrays[0], is_target)
    with pytest.raises(ValueError, match="NaN|infinite"):
        weighter.compute_weights(X[:10])


def test_missing_target_or_source_rows(reweighter_name, shifted_arrays) -> None:
    X, _, _ = shifted_arrays
    with pytest.raises(ValueError, match="1 class.*Pass target rows"):
        make_fast(reweighter_name).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="requires y to be passed"):
        make_fast(reweighter_name).fit(X)
    with pytest.raises(ValueError, match="3 classes"):
        make_fast(reweighter_name).fit(X, np.arange(len(X)) % 3)


def test_mismatched_feature_counts(reweighter_name, shifted_arrays) -> None:
    X, is_target, _ = shifted_arrays
    weighter = make_fast(reweighter_name).fit(X, is_target)
    with pytest.raises(ValueError, match="3 features.*expecting 2"):
        weighter.compute_weights(np.zeros((4, 3)))
    source = Domain.from_arrays(np.zeros((5, 2)), name="us")
    target = Domain.from_arrays(np.ones((5, 3)), name="jp")
    with pytest.raises(DomainMismatchError, match="harmonize"):
        make_fast(reweighter_name).fit(source, target)


def test_mixed_faces_are_rejected(two_markets) -> None:
    source, target, _ = two_markets
    with pytest.raises(TypeError, match="two Domains"):
        make_fast("kmm").fit(source, target.X)
    with pytest.raises(TypeError, match="two Domains"):
        make_fast("kmm").fit(source.X, target)


@pytest.mark.parametrize(("param", "value"), [("power", 1.5), ("power", -0.1), ("clip", 0.5)])
def test_bad_postprocessing_parameters(reweighter_name, shifted_arrays, param, value) -> None:
    X, is_target, _ = shifted_arrays
    with pytest.raises(ValueError, match=f"The '{param}' parameter of"):
        make_fast(reweighter_name, **{param: value}).fit(X, is_target)


def test_registry_lists_every_reweighter() -> None:
    assert REWEIGHTERS.names() == ["discriminative", "kliep", "kmm", "ulsif"]
    with pytest.raises(KeyError, match="Did you mean 'kmm'"):
        REWEIGHTERS.get("kmn")
