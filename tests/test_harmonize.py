"""Harmonizer: renames, currencies, units, missing columns, unseen categories, labels."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transferkit import Domain, DomainMismatchError, Harmonizer, TransferWarning, harmonize


def _us() -> Domain:
    frame = pd.DataFrame({
        "price": [10.0, 20.0, 30.0, 40.0],
        "weight_kg": [1.0, 2.0, 3.0, 4.0],
        "colour": ["r", "g", "b", "r"],
        "gift_wrap": [0, 1, 0, 1],
        "bought": ["yes", "no", "yes", "no"],
    })
    return Domain.from_frame(frame, label="bought", name="us", currency="USD")


def _jp() -> Domain:
    frame = pd.DataFrame({
        "kakaku": [1500.0, 4500.0, 3000.0],
        "weight_kg": [2.2, 4.4, 6.6],
        "colour": ["r", "pink", "g"],
        "points": [5, 1, 3],
        "bought": ["yes", "no", "yes"],
    })
    return Domain.from_frame(frame, label="bought", name="jp", currency="JPY")


RATES = {"USD": 1.0, "JPY": 0.0067}


def test_renames_currency_units_and_other_level():
    with pytest.warns(TransferWarning) as record:
        pair = harmonize(_us(), _jp(), target_columns={"kakaku": "price"},
                         money_columns=["price"], exchange_rates=RATES,
                         unit_factors={"weight_kg": 1 / 2.2}, scale_numeric=False)
    messages = " ".join(str(r.message) for r in record)
    assert "gift_wrap" in messages and "points" in messages  # one-market columns named
    assert "pink" in messages  # unseen category named
    names = pair.harmonizer.feature_names_out_
    assert names == ["price", "weight_kg", "colour_b", "colour_g", "colour_r", "colour___other__"]
    np.testing.assert_allclose(pair.target.X[:, 0], [10.05, 30.15, 20.1])
    np.testing.assert_allclose(pair.target.X[:, 1], [1.0, 2.0, 3.0])
    assert pair.target.X[1, -1] == 1.0  # "pink" -> other
    assert pair.source.X[:, -1].sum() == 0.0
    assert pair.harmonizer.unseen_categories_ == {"colour": ["pink"]}
    dropped = {"source_only": ["gift_wrap"], "target_only": ["points"]}
    assert pair.harmonizer.dropped_columns_ == dropped


def test_reusable_on_new_target_rows():
    pair = harmonize(_us(), _jp(), target_columns={"kakaku": "price"}, money_columns=["price"],
                     exchange_rates=RATES)
    new_rows = Domain.from_frame(
        pd.DataFrame({"kakaku": [1500.0], "weight_kg": [2.2], "colour": ["never-seen"],
                      "points": [0]}), name="jp-new", currency="JPY")
    again = pair.harmonizer.transform(new_rows)
    assert again.X[0, 0] == pytest.approx(pair.target.X[0, 0])
    assert again.X[0, -1] == 1.0


def test_impute_keeps_source_only_columns():
    with pytest.warns(TransferWarning, match="imputed"):
        pair = harmonize(_us(), _jp(), target_columns={"kakaku": "price"}, money_columns=["price"],
                         exchange_rates=RATES, missing_columns="impute", scale_numeric=False)
    names = pair.harmonizer.feature_names_out_
    assert "gift_wrap" in names
    column = names.index("gift_wrap")
    assert set(pair.target.X[:, column]) == {0.5}  # source median


def test_missing_columns_error_names_them():
    with pytest.raises(DomainMismatchError, match=r"only in source 'us': \['price', 'gift_wrap'\]"):
        harmonize(_us(), _jp(), missing_columns="error")


def test_currency_errors():
    with pytest.raises(DomainMismatchError, match=r"no rate for \['JPY'\]"):
        harmonize(_us(), _jp(), target_columns={"kakaku": "price"}, money_columns=["price"],
                  exchange_rates={"USD": 1.0})
    with pytest.raises(ValueError, match="no exchange_rates"):
        harmonize(_us(), _jp(), money_columns=["price"])
    with pytest.raises(ValueError, match=r"exchange_rates\['JPY'\].* must be a float > 0"):
        harmonize(_us(), _jp(), money_columns=["price"], exchange_rates={"USD": 1, "JPY": -1})


def test_label_sets_error_or_restrict():
    jp = _jp().frame.assign(bought=["yes", "maybe", "no"])
    jp = Domain.from_frame(jp, label="bought", name="jp", currency="JPY")
    with pytest.raises(DomainMismatchError, match=r"labels \['maybe'\] that source 'us' never"):
        harmonize(_us(), jp, target_columns={"kakaku": "price"}, money_columns=["price"],
                  exchange_rates=RATES)
    with pytest.warns(TransferWarning, match="Restricting"):
        pair = harmonize(_us(), jp, target_columns={"kakaku": "price"}, money_columns=["price"],
                         exchange_rates=RATES, label_mismatch="restrict")
    assert len(pair.target) == 2 and sorted(pair.target.y) == ["no", "yes"]
    mapped = harmonize(_us(), jp, target_columns={"kakaku": "price"}, money_columns=["price"],
                       exchange_rates=RATES, label_map={"maybe": "yes"})
    assert sorted(mapped.target.y) == ["no", "yes", "yes"]


def test_role_mismatch_and_bad_renames():
    jp = Domain.from_frame(_jp().frame, label="bought", categorical=["weight_kg"], name="jp",
                           currency="JPY")
    with pytest.raises(DomainMismatchError, match=r"\['weight_kg'\] are numeric in one market"):
        harmonize(_us(), jp)
    with pytest.raises(DomainMismatchError, match="renames \\['nope'\\]"):
        harmonize(_us(), _jp(), target_columns={"nope": "price"})


def test_text_domains_must_be_encoded_first():
    texts = Domain.from_texts(["a", "b"], [0, 1])
    with pytest.raises(TypeError, match="encode them"):
        Harmonizer().fit(texts, texts)


def test_real_markets_with_different_columns():
    from transferkit.datasets import load_stackoverflow

    markets = load_stackoverflow(["United States", "Germany"])
    us = markets["United States"]
    germany = markets["Germany"].frame.rename(columns={"Salary": "Gehalt"}).drop(columns=["Hobby"])
    germany = Domain.from_frame(germany, label="Remote", name="Germany", currency="USD")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing unexpected besides the announced drop
        with pytest.warns(TransferWarning, match=r"\['Hobby'\]"):
            pair = harmonize(us, germany, target_columns={"Gehalt": "Salary"})
    assert pair.source.n_features == pair.target.n_features == 18
    assert abs(pair.source.X.mean(axis=0)).max() < 1e-8  # scaled with source statistics
    assert pair.target.y.tolist() == markets["Germany"].y.tolist()


categories = st.sampled_from(["a", "b", "c", "zzz", "", "é"])


@settings(max_examples=40, deadline=None)
@given(
    source_cats=st.lists(categories, min_size=3, max_size=12),
    target_cats=st.lists(categories | st.text(max_size=3), min_size=1, max_size=12),
    seed=st.integers(0, 10),
)
def test_property_deterministic_unseen_safe_order_free(source_cats, target_cats, seed):
    rng = np.random.default_rng(seed)
    source = Domain.from_frame(pd.DataFrame({
        "x": rng.normal(size=len(source_cats)), "c": source_cats,
        "y": rng.integers(0, 2, len(source_cats))}), label="y", task="binary")
    target_frame = pd.DataFrame({"c": target_cats, "x": rng.normal(size=len(target_cats))})
    target = Domain.from_frame(target_frame, name="t")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransferWarning)
        harmonizer = Harmonizer().fit(source, target)
        first = harmonizer.transform(target).X
        second = harmonizer.transform(target).X
        shuffled = Domain.from_frame(target_frame[["x", "c"]], name="t")
        reordered = harmonizer.transform(shuffled).X
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, reordered)
    assert np.isfinite(first).all()
    one_hot = first[:, 1:]
    np.testing.assert_array_equal(one_hot.sum(axis=1), np.ones(len(target_cats)))
