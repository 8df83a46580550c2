"""Effective sample size and the weight report."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from transferkit import TransferWarning
from transferkit.reweight import effective_sample_size, weight_report
from transferkit.reweight.diagnostics import check_weights, warn_if_low_ess

positive = arrays(np.float64, st.integers(1, 50), elements=st.floats(0.01, 100))


@given(positive, st.floats(0.01, 100))
def test_ess_is_between_one_and_n_and_scale_free(w, scale) -> None:
    ess = effective_sample_size(w)
    assert 1 - 1e-9 <= ess <= len(w) + 1e-9
    assert effective_sample_size(w * scale) == pytest.approx(ess)


def test_ess_reference_values() -> None:
    assert effective_sample_size(np.ones(7)) == pytest.approx(7.0)
    assert effective_sample_size([1.0, 0, 0, 0]) == pytest.approx(1.0)
    assert effective_sample_size([1.0, 3.0]) == pytest.approx(16 / 10)


def test_report_is_json_ready_and_consistent() -> None:
    w = np.r_[np.ones(98), 50.0, 0.0]
    report = weight_report(w, clip=None, power=0.5, method="KMM")
    data = json.loads(json.dumps(report.to_dict()))
    assert data["n_source"] == 100 and data["n_zero"] == 1
    assert data["max_weight_share"] == pytest.approx(50 / 148)
    assert data["quantiles"]["q100"] == 50.0 and data["quantiles"]["q0"] == 0.0
    assert data["power"] == 0.5 and data["method"] == "KMM"
    assert sum(data["histogram_counts"]) == 99
    assert data["ess_fraction"] == pytest.approx(148**2 / (98 + 2500) / 100)
    assert "ESS" in report.summary()


@pytest.mark.parametrize(("weights", "message"), [
    ([1.0, -0.5], "negative values"),
    ([0.0, 0.0], "all zero"),
    ([1.0, np.nan], "NaN or infinite"),
    ([1.0, np.inf], "NaN or infinite"),
    (np.ones((2, 2)), "1-D"),
    ([], "non-empty"),
])
def test_bad_weights_are_named(weights, message) -> None:
    with pytest.raises(ValueError, match=message):
        check_weights(weights)
    with pytest.raises(ValueError, match=message):
        weight_report(weights)


def test_low_ess_warning_threshold() -> None:
    w = np.r_[np.full(19, 1e-6), 1.0]
    with pytest.warns(TransferWarning, match="rest on few rows"):
        fraction = warn_if_low_ess(np.tile(w, 5), "demo")
    assert fraction < 0.1
    assert weight_report(np.tile(w, 5)).low_ess


def _spiky(n: int, ess_rows: int) -> np.ndarray:
    """Weights on n rows whose effective sample size is ``ess_rows``: equal mass on them."""
    w = np.full(n, 1e-9)
    w[:ess_rows] = 1.0
    return w


def test_warning_fires_below_200_effective_rows_whatever_their_share() -> None:
    import warnings

    # 8 % of 10,000 rows is 800 rows' worth of data: a low share, but no harm follows
    # from it, and the former fraction-only rule cried wolf on exactly such runs.
    with warnings.catch_warnings():
        warnings.simplefilter("error", TransferWarning)
        assert warn_if_low_ess(_spiky(10_000, 800), "demo") == pytest.approx(0.08, rel=1e-3)
        assert not weight_report(_spiky(10_000, 800)).low_ess
        warn_if_low_ess(_spiky(1_000, 250), "demo")
    # 150 rows' worth is few even when it is most of a small source (the measured rule).
    with pytest.warns(TransferWarning, match="effective sample size is 150"):
        warn_if_low_ess(_spiky(200, 150), "demo")
    with pytest.warns(TransferWarning, match="rest on few rows.*effective sample size is 20"):
        warn_if_low_ess(_spiky(2_000, 20), "demo")
    report = weight_report(_spiky(2_000, 20))
    assert report.low_ess and "LOW" in report.summary()
    assert "not to be trusted" not in report.summary()
