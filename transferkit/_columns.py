"""Columns that are not features: row identifiers and dates.

One home for the checks used by ``transferkit init`` (to propose schema roles) and by the
gap report (to leave such columns out of the drift tests).

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"order": [101, 102, 103, 104], "when": ["2024-01-02", "2024-02-03",
...                       "2024-03-04", "2024-04-05"], "price": [9.5, 3.0, 4.0, 3.0]})
>>> dates = date_like_columns(frame)
>>> id_like_columns(frame, exclude=tuple(dates)), dates
(['order'], ['when'])
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["date_like_columns", "id_like_columns"]

_ID_NAME = re.compile(r"(^|_)(id|uuid|key)$", re.I)
_DATE_TEXT = r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"
# Rows checked first: a duplicate among them settles "not unique" without hashing every row.
_PROBE_ROWS = 2000


def _unique_per_row(values: pd.Series, n_rows: int) -> bool:
    if len(values) != n_rows or n_rows < 2:
        return False
    probe = values.iloc[:_PROBE_ROWS]
    if probe.duplicated().any():
        return False
    return bool(values.nunique() == n_rows)


def _integer_key(values: pd.Series) -> bool:
    """Integers that count rows: monotone, or a dense range (few gaps between min and max)."""
    array = values.to_numpy()
    if array.size < 2:
        return False
    steps = np.diff(array.astype(np.int64, copy=False))
    if (steps > 0).all() or (steps < 0).all():
        return True
    span = int(array.max()) - int(array.min()) + 1
    return span <= 1.1 * array.size


def id_like_columns(frame: pd.DataFrame, *, exclude: tuple[str, ...] = ()) -> list[str]:
    """Columns that identify rows rather than describe them.

    A column is ID-like when its name says so (``id``, ``*_id``, ``uuid``, ``key``), or
    when its values are unique per row and are either text or integer keys (monotone, or
    a dense range such as 1..n). Unique floats (prices, salaries) are not IDs.

    Parameters
    ----------
    frame : DataFrame
    exclude : tuple of str
        Columns never reported (the label, and dates: text dates are unique per row too).

    Returns
    -------
    list of str

    Examples
    --------
    >>> import pandas as pd
    >>> id_like_columns(pd.DataFrame({"customer_id": [5, 5, 6], "n": [3, 10, 1],
    ...                               "code": ["a7", "b2", "c1"], "x": [0.5, 0.7, 0.1]}))
    ['customer_id', 'code']
    """
    found = []
    n_rows = len(frame)
    for column in frame.columns:
        if column in exclude:
            continue
        if _ID_NAME.search(str(column)):
            found.append(str(column))
            continue
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(values):
            continue
        if pd.api.types.is_integer_dtype(values):
            if _integer_key(values) and _unique_per_row(values, n_rows):
                found.append(str(column))
        elif (values.dtype == object or pd.api.types.is_string_dtype(values)) \
                and _unique_per_row(values.dropna(), n_rows):
            found.append(str(column))
    return found


def date_like_columns(frame: pd.DataFrame, *, exclude: tuple[str, ...] = ()) -> list[str]:
    """Columns of dates or timestamps: datetime dtype, or text that parses as dates.

    Examples
    --------
    >>> import pandas as pd
    >>> date_like_columns(pd.DataFrame({"d": pd.to_datetime(["2024-01-01"]), "v": ["x"]}))
    ['d']
    """
    found = []
    for column in frame.columns:
        if column in exclude:
            continue
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            found.append(str(column))
            continue
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)
                or isinstance(values.dtype, pd.CategoricalDtype)):
            continue
        sample = values.dropna().head(200).astype(str)
        if not len(sample) or not sample.str.fullmatch(_DATE_TEXT + r"([ T].*)?").all():
            continue
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
        if parsed.notna().mean() > 0.95:
            found.append(str(column))
    return found
