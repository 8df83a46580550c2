"""UCI Online Retail: a UK gift shop's transactions turned into customer markets per country.

A UK-based online retailer of gifts (mostly to wholesalers) sells to 36 countries; the
United Kingdom is the big home market and Germany, France, ... are small foreign ones.
Each customer becomes one row of behavioural (RFM) features computed from their
transactions strictly before a cut-off date, labelled by whether they buy again within a
horizon after it: "will this customer come back?", a model to move from the UK to the
foreign markets.

File: ``../shared/data/online_retail_sample/online_retail_40k_sample.xlsx``: 40,000 lines
(one product per line) sampled from the 541,909 of UCI Online Retail (Chen, Sain and Guo,
2012; CC BY 4.0), 2010-12-01 to 2011-12-09. Because lines, not invoices, were sampled,
every invoice is seen only through its sampled lines: counts and amounts are those of
the sample, and repeat purchases are under-counted compared with the full data.

Examples
--------
>>> import pandas as pd
>>> raw = pd.DataFrame({
...     "InvoiceNo": ["1", "2", "C3", "4"], "StockCode": ["22423", "POST", "22423", "85123A"],
...     "Description": ["cake stand", "postage", "cake stand", "heart"],
...     "Quantity": [2, 1, -1, 6], "UnitPrice": [10.0, 15.0, 10.0, 2.5],
...     "InvoiceDate": pd.to_datetime(["2011-01-10", "2011-03-01", "2011-03-05",
...                                    "2011-05-02"]),
...     "CustomerID": [7.0, 7.0, 7.0, 7.0], "Country": ["France"] * 4})
>>> transactions, report = clean_online_retail(raw)
>>> table = customer_features(transactions, cutoff="2011-04-01", horizon_days=90)
>>> table[["frequency", "monetary_gbp", "returned_gbp", "purchases_again"]].to_dict("records")
[{'frequency': 2, 'monetary_gbp': 35.0, 'returned_gbp': 10.0, 'purchases_again': 1}]
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from transferkit._validation import check_param
from transferkit.datasets._paths import data_dir, require_path
from transferkit.domain import Domain
from transferkit.exceptions import TransferWarning

__all__ = [
    "RETAIL_FEATURES",
    "clean_online_retail",
    "customer_features",
    "load_online_retail",
    "read_online_retail",
]

RETAIL_FEATURES: tuple[str, ...] = (
    "recency_days", "frequency", "monetary_gbp", "returned_gbp", "mean_basket_gbp",
    "mean_items_per_basket", "mean_item_price_gbp", "distinct_products", "tenure_days",
    "active_months", "cancellation_rate",
)
_FILE = "online_retail_sample/online_retail_40k_sample.xlsx"
_COLUMNS = ("InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID",
            "Country")
# Merchandise has a numeric stock code (``22423``, ``85123A``); postage, manual
# corrections, discounts, fees and vouchers (``POST``, ``M``, ``D``, ``AMAZONFEE``) do not.
_PRODUCT_CODE = r"^\d{5}"


def read_online_retail(*, root: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The raw transaction lines of the Online Retail sample, as in the spreadsheet.

    Reading the workbook takes seconds, so the parsed table is cached per file (and
    re-read when the file changes); every call returns a fresh copy.

    Returns
    -------
    DataFrame
        One row per invoice line: ``InvoiceNo`` (6 digits; a leading ``"C"`` marks a
        cancellation), ``StockCode``, ``Description``, ``Quantity`` (negative on
        cancellations), ``InvoiceDate``, ``UnitPrice`` (GBP), ``CustomerID`` (missing on
        a quarter of the lines) and ``Country``.

    Raises
    ------
    DataNotFoundError
        The workbook is not at ``root/online_retail_sample/online_retail_40k_sample.xlsx``.
    """
    path = require_path(data_dir(root) / _FILE, "Online Retail transactions",
                        "the 40k-line sample workbook")
    stat = path.stat()
    return _read_workbook(str(path.resolve()), stat.st_mtime_ns, stat.st_size).copy()


@lru_cache(maxsize=2)
def _read_workbook(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    # mtime and size are part of the cache key so that a replaced file is read again.
    return pd.read_excel(path, engine="openpyxl", dtype={"InvoiceNo": str, "StockCode": str})


def clean_online_retail(raw: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Clean transaction lines for customer modelling; every dropped line is counted.

    Steps, in order: drop lines without ``CustomerID`` (no customer to attach them to);
    drop invoices whose number starts with a letter other than ``C`` (``A`` = bad-debt
    adjustments); mark ``C`` invoices as cancellations and drop cancellation lines whose
    quantity is not negative (inconsistent); drop non-cancellation lines with quantity
    <= 0 (stock adjustments: damaged, lost) and lines with unit price <= 0 (free
    samples, adjustments).

    Parameters
    ----------
    raw : DataFrame
        Lines with the columns of ``read_online_retail``.

    Returns
    -------
    transactions : DataFrame
        The kept lines with ``InvoiceNo``, ``StockCode`` (strings), ``Quantity``,
        ``InvoiceDate``, ``UnitPrice``, ``CustomerID`` (int), ``Country``, plus
        ``IsCancellation`` (bool), ``IsProduct`` (merchandise rather than postage, fees
        or manual corrections) and ``Amount`` (``Quantity * UnitPrice`` in GBP, negative
        for cancellations).
    report : dict of str to int
        Lines read, kept, and dropped at each step.

    Raises
    ------
    ValueError
        Required columns are missing or ``InvoiceDate`` holds values that are not dates.
    """
    missing = [c for c in _COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(
            f"Online Retail transactions lack the columns {missing}; they have "
            f"{list(map(str, raw.columns))}."
        )
    frame = raw.loc[:, list(_COLUMNS)].copy()
    report = {"lines_read": len(frame)}
    dates = pd.to_datetime(frame["InvoiceDate"], errors="coerce")
    bad_dates = dates.isna() & frame["InvoiceDate"].notna()
    if bad_dates.any():
        raise ValueError(
            f"Online Retail transactions: InvoiceDate is not a date in {int(bad_dates.sum())} "
            f"lines, e.g. {frame.loc[bad_dates, 'InvoiceDate'].iloc[0]!r}."
        )
    frame["InvoiceDate"] = dates
    frame["InvoiceNo"] = frame["InvoiceNo"].astype(str).str.strip()
    frame["StockCode"] = frame["StockCode"].astype(str).str.strip()
    frame["Quantity"] = pd.to_numeric(frame["Quantity"], errors="raise")
    frame["UnitPrice"] = pd.to_numeric(frame["UnitPrice"], errors="raise").astype(float)

    def drop(mask: pd.Series, step: str) -> None:
        nonlocal frame
        report[step] = int(mask.sum())
        frame = frame.loc[~mask]

    drop(frame["CustomerID"].isna() | frame["InvoiceDate"].isna(), "dropped_no_customer")
    first = frame["InvoiceNo"].str[:1]
    drop(first.str.isalpha() & (first != "C"), "dropped_adjustment_invoices")
    cancellation = frame["InvoiceNo"].str.startswith("C")
    drop(cancellation & (frame["Quantity"] >= 0), "dropped_inconsistent_cancellations")
    cancellation = frame["InvoiceNo"].str.startswith("C")
    drop(~cancellation & (frame["Quantity"] <= 0), "dropped_stock_adjustments")
    drop(frame["UnitPrice"] <= 0, "dropped_zero_price")
    frame = frame.reset_index(drop=True)
    frame["CustomerID"] = frame["CustomerID"].astype(np.int64)
    frame["IsCancellation"] = frame["InvoiceNo"].str.startswith("C")
    frame["IsProduct"] = frame["StockCode"].str.match(_PRODUCT_CODE)
    frame["Amount"] = frame["Quantity"] * frame["UnitPrice"]
    report["lines_kept"] = len(frame)
    report["cancellation_lines_kept"] = int(frame["IsCancellation"].sum())
    return frame, report


def customer_features(
    transactions: pd.DataFrame,
    *,
    cutoff: str | pd.Timestamp,
    horizon_days: int = 90,
) -> pd.DataFrame:
    """One row per customer: behaviour before ``cutoff``, and whether they buy again after.

    Only lines dated strictly before ``cutoff`` enter the features; lines in
    ``[cutoff, cutoff + horizon_days)`` decide the label and nothing else, so a model
    trained on these rows cannot see the future it predicts.

    Parameters
    ----------
    transactions : DataFrame
        Output of ``clean_online_retail``.
    cutoff : str or Timestamp
        The prediction date, ``"2011-09-01"``.
    horizon_days : int, default=90
        Length of the label window.

    Returns
    -------
    DataFrame
        Customers with at least one purchase (not only cancellations) before the cutoff,
        sorted by id, with columns:

        - ``customer_id``; ``country``: where most of the customer's earlier purchase
          lines went (ties: alphabetical; a handful of customers buy for two
          countries);
        - ``recency_days``: days from the last purchase to the cutoff;
        - ``frequency``: distinct purchase invoices;
        - ``monetary_gbp``: total purchased (GBP, all purchase lines incl. postage);
        - ``returned_gbp``: total cancelled (GBP, >= 0);
        - ``mean_basket_gbp``: ``monetary_gbp / frequency``;
        - ``mean_items_per_basket``: merchandise units bought per invoice;
        - ``mean_item_price_gbp``: ``monetary_gbp`` per unit bought;
        - ``distinct_products``: distinct merchandise stock codes bought;
        - ``tenure_days``: days from the first purchase to the cutoff;
        - ``active_months``: distinct calendar months with a purchase;
        - ``cancellation_rate``: cancelled invoices / (cancelled + purchase invoices);
        - ``purchases_again``: 1 if the customer has a purchase invoice in
          ``[cutoff, cutoff + horizon_days)``, else 0.

    Raises
    ------
    ValueError
        No customer bought anything before the cutoff.
    """
    check_param("customer_features", "horizon_days", horizon_days, "an int > 0",
                lambda v: int(v) == v and v > 0)
    cutoff = pd.Timestamp(cutoff)
    end = cutoff + pd.Timedelta(days=int(horizon_days))
    dates = transactions["InvoiceDate"]
    history = transactions.loc[dates < cutoff]
    purchases = history.loc[~history["IsCancellation"]]
    if purchases.empty:
        raise ValueError(
            f"No purchases before the cutoff {cutoff.date()}; the transactions start on "
            f"{dates.min()}. Choose a later cutoff."
        )
    cancellations = history.loc[history["IsCancellation"]]
    products = purchases.loc[purchases["IsProduct"]]
    by_customer = purchases.groupby("CustomerID")
    customers = pd.Index(sorted(by_customer.groups), name="CustomerID")

    def per_customer(series: pd.Series) -> pd.Series:
        return series.reindex(customers, fill_value=0)

    day = pd.Timedelta(days=1)
    frequency = by_customer["InvoiceNo"].nunique()
    monetary = by_customer["Amount"].sum()
    quantity = by_customer["Quantity"].sum()
    n_cancelled = per_customer(cancellations.groupby("CustomerID")["InvoiceNo"].nunique())
    country_counts = purchases.groupby(["CustomerID", "Country"]).size().rename("n").reset_index()
    country = (country_counts.sort_values(["CustomerID", "n", "Country"],
                                          ascending=[True, False, True])
               .drop_duplicates("CustomerID").set_index("CustomerID")["Country"])
    future = transactions.loc[(dates >= cutoff) & (dates < end) & ~transactions["IsCancellation"]]
    features = pd.DataFrame({
        "customer_id": customers.to_numpy(),
        "country": country.reindex(customers).to_numpy(),
        "recency_days": ((cutoff - by_customer["InvoiceDate"].max()) / day).to_numpy(),
        "frequency": frequency.to_numpy(),
        "monetary_gbp": monetary.to_numpy(),
        "returned_gbp": (-per_customer(cancellations.groupby("CustomerID")["Amount"].sum()))
        .to_numpy(),
        "mean_basket_gbp": (monetary / frequency).to_numpy(),
        "mean_items_per_basket": (per_customer(products.groupby("CustomerID")["Quantity"].sum())
                                  / frequency).to_numpy(),
        "mean_item_price_gbp": (monetary / quantity).to_numpy(),
        "distinct_products": per_customer(products.groupby("CustomerID")["StockCode"].nunique())
        .to_numpy(),
        "tenure_days": ((cutoff - by_customer["InvoiceDate"].min()) / day).to_numpy(),
        "active_months": purchases.assign(month=purchases["InvoiceDate"].dt.to_period("M"))
        .groupby("CustomerID")["month"].nunique().to_numpy(),
        "cancellation_rate": (n_cancelled / (n_cancelled + frequency)).to_numpy(),
        "purchases_again": customers.isin(future["CustomerID"].unique()).astype(np.int64),
    })
    return features


def load_online_retail(
    *,
    cutoff: str | pd.Timestamp = "2011-09-01",
    horizon_days: int = 90,
    min_customers: int = 50,
    countries: str | Sequence[str] | None = None,
    root: str | os.PathLike[str] | None = None,
) -> dict[str, Domain]:
    """Per-customer RFM markets, one Domain per country, labelled "purchases again".

    The workbook is read (``read_online_retail``), cleaned (``clean_online_retail``:
    lines without customer, stock adjustments and free lines dropped; cancellations
    kept and marked) and turned into one row per customer (``customer_features``) from
    the lines strictly before ``cutoff``.

    Parameters
    ----------
    cutoff : str or Timestamp, default="2011-09-01"
        Prediction date; features use the lines before it, the label the lines after.
    horizon_days : int, default=90
        Label window: ``purchases_again`` = 1 if the customer buys in
        ``[cutoff, cutoff + horizon_days)``.
    min_customers : int, default=50
        With ``countries=None``, keep the countries with at least this many customers.
        With the defaults three qualify: United Kingdom (2,361 customers, 51.8 % buy
        again), Germany (63, 66.7 %) and France (56, 60.7 %); Belgium (21) and Spain
        (16) follow.
    countries : str or sequence of str, optional
        Countries to return, as spelt in the data (``"United Kingdom"``, ``"EIRE"``);
        each must still have ``min_customers`` customers.
    root : path, optional
        Folder holding the shared data sets (default: ``transferkit.datasets.data_dir()``).

    Returns
    -------
    dict of str to Domain
        ``{country: Domain}``, largest market first. Numeric features
        ``RETAIL_FEATURES`` (see ``customer_features`` for each), id ``customer_id``,
        binary label ``purchases_again``. Metadata: country, currency ``"GBP"`` (all
        prices in the data are in pounds), ``extra`` with ``cutoff``, ``horizon_days``,
        ``n_lines`` (the country's cleaned lines before the cutoff) and ``cleaning``
        (the line counts of ``clean_online_retail``).

    Raises
    ------
    DataNotFoundError
        The workbook is missing.
    ValueError
        Unknown country (with a suggestion), a chosen country with fewer than
        ``min_customers`` customers, or no country qualifying.

    Warns
    -----
    TransferWarning
        The label window runs past the last day of the data (labels would be censored).

    Examples
    --------
    >>> markets = load_online_retail()  # doctest: +SKIP
    >>> list(markets), markets["Germany"].feature_names[:3]  # doctest: +SKIP
    (['United Kingdom', 'Germany', 'France'], ['recency_days', 'frequency', 'monetary_gbp'])
    """
    owner = "load_online_retail"
    check_param(owner, "horizon_days", horizon_days, "an int > 0",
                lambda v: int(v) == v and v > 0)
    check_param(owner, "min_customers", min_customers, "an int >= 1",
                lambda v: int(v) == v and v >= 1)
    cutoff = check_param(owner, "cutoff", cutoff, "a date such as '2011-09-01'",
                         lambda v: pd.Timestamp(v) is not pd.NaT)
    cutoff = pd.Timestamp(cutoff)
    transactions, report = clean_online_retail(read_online_retail(root=root))
    last_day = transactions["InvoiceDate"].max().normalize() + pd.Timedelta(days=1)
    if cutoff + pd.Timedelta(days=int(horizon_days)) > last_day:
        warnings.warn(
            f"The label window {cutoff.date()} + {horizon_days} days runs past the last day "
            f"of the data ({last_day.date() - pd.Timedelta(days=1)}); customers who would "
            "buy after that day are labelled 0. Choose an earlier cutoff or a shorter horizon.",
            TransferWarning, stacklevel=2,
        )
    table = customer_features(transactions, cutoff=cutoff, horizon_days=horizon_days)
    sizes = table["country"].value_counts()
    sizes = sizes.sort_index().sort_values(ascending=False, kind="stable")
    if countries is None:
        chosen = [c for c, n in sizes.items() if n >= min_customers]
        if not chosen:
            raise ValueError(
                f"No country has {min_customers} customers before {cutoff.date()}; the largest "
                f"is {sizes.index[0]} with {sizes.iloc[0]}. Lower min_customers."
            )
    else:
        chosen = [countries] if isinstance(countries, str) else list(countries)
        known = sorted(transactions["Country"].unique())
        for country in chosen:
            if country not in known:
                close = difflib.get_close_matches(country, known, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"Unknown country {country!r}.{hint} The data have {known}.")
            if sizes.get(country, 0) < min_customers:
                raise ValueError(
                    f"{country} has {int(sizes.get(country, 0))} customers who bought before "
                    f"{cutoff.date()}, fewer than min_customers={min_customers}; pass a lower "
                    "min_customers or a later cutoff."
                )
    history = transactions.loc[transactions["InvoiceDate"] < cutoff]
    lines = history["Country"].value_counts()
    result = {}
    for country in chosen:
        rows = table.loc[table["country"] == country].drop(columns="country")
        result[country] = Domain.from_frame(
            rows, label="purchases_again", id="customer_id", numeric=list(RETAIL_FEATURES),
            name=country, country=country, currency="GBP", task="binary",
            extra={"cutoff": str(cutoff.date()), "horizon_days": int(horizon_days),
                   "n_lines": int(lines.get(country, 0)), "cleaning": dict(report)},
        )
    return result
