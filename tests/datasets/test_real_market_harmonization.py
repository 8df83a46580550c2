"""Two real markets with different schemas go through ``transferkit.harmonize``."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SHARED_DATA, shared_path

from transferkit import Domain, TransferWarning, harmonize
from transferkit.datasets import load_online_retail, load_stackoverflow

# amounts in the German shop's books are in euros under German column names
GERMAN_NAMES = {"monetary_gbp": "umsatz_eur", "mean_basket_gbp": "warenkorb_eur",
                "mean_item_price_gbp": "stueckpreis_eur", "frequency": "bestellungen"}
EUR_IN_GBP = 0.86


def test_uk_to_germany_with_renamed_euro_columns_and_a_missing_one() -> None:
    shared_path("online_retail_sample", "online_retail_40k_sample.xlsx")
    markets = load_online_retail(root=SHARED_DATA)
    uk, germany = markets["United Kingdom"], markets["Germany"]
    frame = germany.frame.drop(columns=["returned_gbp"]).rename(columns=GERMAN_NAMES)
    for column in ("umsatz_eur", "warenkorb_eur", "stueckpreis_eur"):
        frame[column] = frame[column] / EUR_IN_GBP
    german_books = Domain.from_frame(frame, label="purchases_again", id="customer_id",
                                     name="Germany (EUR)", country="Germany", currency="EUR")
    options = dict(money_columns=["monetary_gbp", "mean_basket_gbp", "mean_item_price_gbp"],
                   exchange_rates={"GBP": 1.0, "EUR": EUR_IN_GBP})
    with pytest.warns(TransferWarning, match=r"source 'United Kingdom' only \['returned_gbp'\]"):
        pair = harmonize(uk, german_books,
                         target_columns={v: k for k, v in GERMAN_NAMES.items()}, **options)
    assert pair.harmonizer.dropped_columns_["source_only"] == ["returned_gbp"]
    assert pair.source.n_samples == uk.n_samples and pair.target.n_samples == germany.n_samples
    assert pair.source.feature_names == pair.target.feature_names
    assert "returned_gbp" not in pair.target.feature_names

    # the same market kept in pounds under the source's names gives the same features
    in_pounds = Domain.from_frame(germany.frame.drop(columns=["returned_gbp"]),
                                  label="purchases_again", id="customer_id",
                                  name="Germany (GBP)", currency="GBP")
    with pytest.warns(TransferWarning, match="returned_gbp"):
        reference = harmonize(uk, in_pounds, **options)
    np.testing.assert_allclose(pair.target.X, reference.target.X, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(pair.target.y, germany.y)
    # the fitted harmonizer is reusable: later German rows map the same way
    later = pair.harmonizer.transform(german_books.subset(np.arange(10)))
    np.testing.assert_allclose(later.X, pair.target.X[:10])
    # UK features are standardised with UK statistics: mean 0, Germany's are not
    assert np.allclose(pair.source.X.mean(axis=0), 0, atol=1e-9)
    assert not np.allclose(pair.target.X.mean(axis=0), 0, atol=0.05)


def test_survey_markets_with_a_renamed_and_a_dropped_column() -> None:
    markets = load_stackoverflow(["United States", "Germany"])
    us, germany = markets["United States"], markets["Germany"]
    german = germany.frame.rename(columns={"Salary": "Gehalt"}).drop(columns=["Hobby"])
    german_survey = Domain.from_frame(german, label="Remote", name="Germany", currency="USD")
    with pytest.warns(TransferWarning, match=r"only \['Hobby'\]"):
        pair = harmonize(us, german_survey, target_columns={"Gehalt": "Salary"})
    assert "Salary" in pair.harmonizer.features_in_
    assert "Hobby" not in pair.harmonizer.features_in_
    assert pair.source.X.shape[1] == pair.target.X.shape[1]
    assert (pair.source.n_samples, pair.target.n_samples) == (2791, 757)
    assert set(pair.target.classes) == set(us.classes)
    # salaries keep their order after alignment (one affine map from source statistics)
    salary = pair.harmonizer.feature_names_out_.index("Salary")
    assert np.corrcoef(pair.target.X[:, salary], germany.frame["Salary"])[0, 1] == \
        pytest.approx(1.0)
