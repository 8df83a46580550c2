"""Online Retail: cleaning, per-customer features, the label, and no leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA, shared_path

from transferkit import DataNotFoundError, TransferWarning
from transferkit.datasets import (
    RETAIL_FEATURES,
    clean_online_retail,
    customer_features,
    load_online_retail,
    read_online_retail,
)

CUTOFF = pd.Timestamp("2011-09-01")


def _lines(*rows) -> pd.DataFrame:
    columns = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate",
               "UnitPrice", "CustomerID", "Country"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"])
    return frame


@pytest.fixture
def toy() -> pd.DataFrame:
    return _lines(
        # customer 1, Germany: two purchase invoices, one cancellation, then buys again
        ("100", "22423", "cake stand", 2, "2011-06-01 10:00", 10.0, 1.0, "Germany"),
        ("100", "85123A", "heart", 4, "2011-06-01 10:00", 2.5, 1.0, "Germany"),
        ("101", "POST", "postage", 1, "2011-08-02 12:00", 15.0, 1.0, "Germany"),
        ("101", "22423", "cake stand", 1, "2011-08-02 12:00", 10.0, 1.0, "Germany"),
        ("C102", "22423", "cake stand", -1, "2011-08-10 09:00", 10.0, 1.0, "Germany"),
        ("200", "22423", "cake stand", 5, "2011-09-15 09:00", 10.0, 1.0, "Germany"),
        # customer 2, France: one invoice, buys only after the horizon
        ("103", "21212", "cases", 24, "2011-03-01 08:00", 0.5, 2.0, "France"),
        ("300", "21212", "cases", 24, "2011-12-05 08:00", 0.5, 2.0, "France"),
        # customer 3: first purchase after the cutoff, not a customer yet
        ("201", "21212", "cases", 1, "2011-09-02 08:00", 0.5, 3.0, "France"),
        # lines the cleaning must drop
        ("104", "21212", "cases", 3, "2011-05-01 08:00", 0.5, None, "France"),
        ("105", "21212", "damaged", -3, "2011-05-01 08:00", 0.0, 2.0, "France"),
        ("106", "21212", "free", 1, "2011-05-01 08:00", 0.0, 2.0, "France"),
        ("A107", "B", "bad debt", 1, "2011-05-01 08:00", 100.0, 2.0, "France"),
        ("C108", "21212", "odd", 2, "2011-05-01 08:00", 0.5, 2.0, "France"),
    )


def test_cleaning_counts_each_step(toy) -> None:
    transactions, report = clean_online_retail(toy)
    assert report == {
        "lines_read": 14, "dropped_no_customer": 1, "dropped_adjustment_invoices": 1,
        "dropped_inconsistent_cancellations": 1, "dropped_stock_adjustments": 1,
        "dropped_zero_price": 1, "lines_kept": 9, "cancellation_lines_kept": 1,
    }
    assert transactions["IsCancellation"].sum() == 1
    assert transactions.loc[transactions["StockCode"] == "POST", "IsProduct"].tolist() == [False]
    assert transactions["CustomerID"].dtype == np.int64


def test_features_match_hand_computed_values(toy) -> None:
    transactions, _ = clean_online_retail(toy)
    table = customer_features(transactions, cutoff=CUTOFF, horizon_days=90)
    assert table["customer_id"].tolist() == [1, 2]  # customer 3 only buys after the cutoff
    first, second = table.iloc[0], table.iloc[1]
    assert first["country"] == "Germany" and second["country"] == "France"
    expected = {
        "recency_days": (CUTOFF - pd.Timestamp("2011-08-02 12:00")) / pd.Timedelta(days=1),
        "frequency": 2, "monetary_gbp": 20 + 10 + 15 + 10, "returned_gbp": 10.0,
        "mean_basket_gbp": 55 / 2, "mean_items_per_basket": (2 + 4 + 1) / 2,
        "mean_item_price_gbp": 55 / 8, "distinct_products": 2,
        "tenure_days": (CUTOFF - pd.Timestamp("2011-06-01 10:00")) / pd.Timedelta(days=1),
        "active_months": 2, "cancellation_rate": 1 / 3, "purchases_again": 1,
    }
    for name, value in expected.items():
        assert first[name] == pytest.approx(value), name
    assert second["frequency"] == 1 and second["returned_gbp"] == 0
    assert second["cancellation_rate"] == 0 and second["purchases_again"] == 0
    assert set(RETAIL_FEATURES) | {"customer_id", "country", "purchases_again"} == set(table)
    # a longer horizon reaches the December purchase
    longer = customer_features(transactions, cutoff=CUTOFF, horizon_days=100)
    assert longer["purchases_again"].tolist() == [1, 1]


def test_a_purchase_on_the_cutoff_day_is_future(toy) -> None:
    transactions, _ = clean_online_retail(toy)
    at_cutoff = customer_features(transactions, cutoff="2011-09-15 09:00", horizon_days=1)
    before = customer_features(transactions, cutoff="2011-09-15 09:01", horizon_days=1)
    germany_at, germany_before = at_cutoff.iloc[0], before.iloc[0]
    assert germany_at["frequency"] == 2 and germany_at["purchases_again"] == 1
    assert germany_before["frequency"] == 3 and germany_before["purchases_again"] == 0


def _perturb_future(transactions: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Change everything dated at or after the cutoff: amounts, products, new lines."""
    rng = np.random.default_rng(0)
    changed = transactions.copy()
    future = changed["InvoiceDate"] >= cutoff
    changed.loc[future, "Quantity"] *= 7
    changed.loc[future, "UnitPrice"] *= 3.5
    changed.loc[future, "StockCode"] = "99999"
    changed.loc[future, "Amount"] = changed.loc[future, "Quantity"] * changed.loc[future,
                                                                                  "UnitPrice"]
    changed = changed.drop(changed.index[future.to_numpy() & (rng.random(len(changed)) < 0.3)])
    extra = changed.loc[changed["InvoiceDate"] < cutoff].sample(50, replace=True,
                                                                random_state=0).copy()
    extra["InvoiceDate"] = cutoff + pd.to_timedelta(rng.integers(0, 200, 50), unit="D")
    extra["InvoiceNo"] = [f"C9{i:05d}" for i in range(50)]
    extra["IsCancellation"], extra["Quantity"] = True, -extra["Quantity"].abs()
    return pd.concat([changed, extra], ignore_index=True).sample(frac=1.0, random_state=1)


def test_no_leakage_on_the_toy_data(toy) -> None:
    transactions, _ = clean_online_retail(toy)
    features = customer_features(transactions, cutoff=CUTOFF)
    perturbed = customer_features(_perturb_future(transactions, CUTOFF), cutoff=CUTOFF)
    pd.testing.assert_frame_equal(features.drop(columns="purchases_again"),
                                  perturbed.drop(columns="purchases_again"))


@pytest.fixture(scope="module")
def retail_transactions() -> pd.DataFrame:
    shared_path("online_retail_sample", "online_retail_40k_sample.xlsx")
    return read_online_retail(root=SHARED_DATA)


def test_no_leakage_on_the_real_transactions(retail_transactions) -> None:
    transactions, _ = clean_online_retail(retail_transactions)
    features = customer_features(transactions, cutoff=CUTOFF)
    perturbed_lines = _perturb_future(transactions, CUTOFF)
    perturbed = customer_features(perturbed_lines, cutoff=CUTOFF)
    columns = ["customer_id", "country", *RETAIL_FEATURES]
    pd.testing.assert_frame_equal(features[columns], perturbed[columns])
    # the label does come from the future: dropping every later line empties it
    past_only = transactions.loc[transactions["InvoiceDate"] < CUTOFF]
    assert customer_features(past_only, cutoff=CUTOFF)["purchases_again"].sum() == 0
    assert features["purchases_again"].sum() > 0


def test_real_markets_match_the_documented_sizes(retail_transactions) -> None:
    markets = load_online_retail(root=SHARED_DATA)
    assert list(markets) == ["United Kingdom", "Germany", "France"]
    sizes = {name: domain.n_samples for name, domain in markets.items()}
    assert sizes == {"United Kingdom": 2361, "Germany": 63, "France": 56}
    repeat = {name: round(float(domain.y.mean()), 3) for name, domain in markets.items()}
    assert repeat == {"United Kingdom": 0.518, "Germany": 0.667, "France": 0.607}
    germany = markets["Germany"]
    assert germany.feature_names == list(RETAIL_FEATURES)
    assert germany.metadata.currency == "GBP" and germany.metadata.country == "Germany"
    extra = germany.metadata.extra
    assert extra["cleaning"]["lines_read"] == 40000  # SOURCES.md: 40,000 rows
    assert extra["cleaning"]["dropped_no_customer"] == 10057
    assert extra["cutoff"] == "2011-09-01" and extra["horizon_days"] == 90
    X = germany.X
    assert np.isfinite(X).all() and (X >= 0).all()
    recency = X[:, germany.feature_names.index("recency_days")]
    tenure = X[:, germany.feature_names.index("tenure_days")]
    assert (recency <= tenure).all() and (recency > 0).all()


def test_country_selection_and_errors(retail_transactions) -> None:
    small = load_online_retail(countries=["Belgium", "Spain"], min_customers=10,
                               root=SHARED_DATA)
    assert {n: d.n_samples for n, d in small.items()} == {"Belgium": 21, "Spain": 16}
    with pytest.raises(ValueError, match="Did you mean 'Germany'"):
        load_online_retail(countries="Germny", root=SHARED_DATA)
    with pytest.raises(ValueError, match="Belgium has 21 customers .* min_customers=50"):
        load_online_retail(countries="Belgium", root=SHARED_DATA)
    with pytest.raises(ValueError, match="No country has 5000 customers"):
        load_online_retail(min_customers=5000, root=SHARED_DATA)
    with pytest.warns(TransferWarning, match="runs past the last day of the data"):
        load_online_retail(cutoff="2011-11-01", countries="United Kingdom", root=SHARED_DATA)


def test_bad_parameters_and_missing_file(tmp_path) -> None:
    with pytest.raises(ValueError, match="'horizon_days' parameter of load_online_retail"):
        load_online_retail(horizon_days=0, root=tmp_path)
    with pytest.raises(ValueError, match="'cutoff' parameter of load_online_retail"):
        load_online_retail(cutoff="not a date", root=tmp_path)
    with pytest.raises(DataNotFoundError, match="online_retail_40k_sample.xlsx"):
        load_online_retail(root=tmp_path)
    with pytest.raises(ValueError, match=r"lack the columns \['CustomerID'\]"):
        clean_online_retail(pd.DataFrame(columns=["InvoiceNo", "StockCode", "Quantity",
                                                  "InvoiceDate", "UnitPrice", "Country"]))
