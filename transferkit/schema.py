"""Column roles of a market's data: which columns are features, label, ids, time, weights.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"price": [1.0, 2.0], "colour": ["red", "blue"], "bought": [0, 1]})
>>> Schema.infer(frame, label="bought")
Schema(numeric=('price',), categorical=('colour',), label='bought')

A text column whose cells are nearly all numbers (a price column with a few ``'?'``) is a
numeric column with junk in it, not a categorical with hundreds of levels:

>>> junk = pd.DataFrame({"price": [str(p) for p in range(19)] + ["?"]})
>>> Schema.infer(junk).numeric
('price',)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Literal

import pandas as pd

__all__ = ["MOSTLY_NUMERIC", "Role", "Schema", "is_mostly_numeric"]

Role = Literal["numeric", "categorical", "text", "image", "label", "id", "time", "weight"]

_FEATURE_ROLES: tuple[str, ...] = ("numeric", "categorical", "text", "image")
# A text column is taken for a numeric one with junk cells when at least this share of its
# filled cells parse as numbers (and at least one does not).
MOSTLY_NUMERIC = 0.9
# Cells parsed first to rule out ordinary text columns without parsing them whole.
_PROBE_CELLS = 2000
_SINGLE_ROLES: tuple[str, ...] = ("label", "id", "time", "weight")


@dataclass(frozen=True)
class Schema:
    """The role of every column a Domain uses.

    Parameters
    ----------
    numeric, categorical, text, image : tuple of str
        Feature columns by kind. Text columns hold strings, image columns file paths.
    label : str or None
        The outcome column (``y``); None for an unlabelled market.
    id, time, weight : str or None
        Optional row identifier, timestamp and per-row sample weight columns.
    """

    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    image: tuple[str, ...] = ()
    label: str | None = None
    id: str | None = None
    time: str | None = None
    weight: str | None = None

    def __post_init__(self) -> None:
        for role in _FEATURE_ROLES:
            object.__setattr__(self, role, tuple(getattr(self, role)))
        seen: dict[str, str] = {}
        for role, column in self._role_columns():
            if column in seen:
                raise ValueError(
                    f"Column {column!r} has two roles in the schema: {seen[column]!r} and "
                    f"{role!r}. Give each column one role."
                )
            seen[column] = role

    def _role_columns(self) -> Iterable[tuple[str, str]]:
        for role in _FEATURE_ROLES:
            for column in getattr(self, role):
                yield role, column
        for role in _SINGLE_ROLES:
            column = getattr(self, role)
            if column is not None:
                yield role, column

    @property
    def features(self) -> tuple[str, ...]:
        """All feature columns, numeric first, then categorical, text and image."""
        return self.numeric + self.categorical + self.text + self.image

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the schema names (features, then label/id/time/weight)."""
        return tuple(column for _, column in self._role_columns())

    @property
    def modality(self) -> Literal["tabular", "text", "image", "mixed"]:
        """``"text"``/``"image"`` when those are the only features, else tabular or mixed."""
        kinds = {role for role in _FEATURE_ROLES if getattr(self, role)}
        if kinds == {"text"}:
            return "text"
        if kinds == {"image"}:
            return "image"
        if kinds & {"text", "image"}:
            return "mixed"
        return "tabular"

    def role_of(self, column: str) -> str:
        """The role of ``column``; ``KeyError`` naming the known columns otherwise."""
        for role, name in self._role_columns():
            if name == column:
                return role
        raise KeyError(f"Column {column!r} is not in the schema; it has {list(self.columns)}.")

    def rename(self, mapping: dict[str, str]) -> Schema:
        """A schema with columns renamed by ``mapping`` (names not in it are kept)."""
        values = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, tuple):
                values[field.name] = tuple(mapping.get(c, c) for c in value)
            else:
                values[field.name] = mapping.get(value, value) if value is not None else None
        return Schema(**values)

    def drop(self, columns: Iterable[str]) -> Schema:
        """A schema without the given feature columns."""
        gone = set(columns)
        values = {role: tuple(c for c in getattr(self, role) if c not in gone)
                  for role in _FEATURE_ROLES}
        return Schema(**values, **{role: getattr(self, role) for role in _SINGLE_ROLES})

    @classmethod
    def infer(
        cls,
        frame: pd.DataFrame,
        *,
        label: str | None = None,
        numeric: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
        text: Sequence[str] = (),
        image: Sequence[str] = (),
        id: str | None = None,
        time: str | None = None,
        weight: str | None = None,
        exclude: Sequence[str] = (),
    ) -> Schema:
        """Build a schema, inferring feature roles from dtypes where not given.

        Columns given a role keep it; every other column becomes a feature inferred from its
        dtype: numbers and booleans are numeric, strings and everything else categorical,
        except text columns whose filled cells are at least 90 % numbers and hold some
        that are not (``'?'``, ``'n/a'``): those are numeric columns with junk cells, which
        ``Domain.from_frame`` reports (or coerces with ``bad_numeric="coerce"``) instead of
        silently one-hot encoding every price. ``exclude`` leaves columns out altogether.
        """
        named = {c for c in (label, id, time, weight) if c is not None}
        named |= set(text) | set(image) | set(exclude)
        named |= set(numeric or ()) | set(categorical or ())
        free = [c for c in frame.columns if c not in named]
        inferred_numeric = [
            c for c in free
            if pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
            or is_mostly_numeric(frame[c])
        ]
        inferred_categorical = [c for c in free if c not in inferred_numeric]
        numeric = list(numeric or ()) + inferred_numeric
        categorical = list(categorical or ()) + inferred_categorical
        return cls(
            numeric=tuple(numeric),
            categorical=tuple(categorical),
            text=tuple(text),
            image=tuple(image),
            label=label,
            id=id,
            time=time,
            weight=weight,
        )

    def __repr__(self) -> str:
        parts = []
        for field in fields(self):
            value = getattr(self, field.name)
            if value not in ((), None):
                parts.append(f"{field.name}={value!r}")
        return f"Schema({', '.join(parts)})"


def is_mostly_numeric(series: pd.Series) -> bool:
    """True for a text column that is numbers with some junk cells (see ``Schema.infer``).

    A column whose filled cells all parse is kept as text (zip codes stored as strings);
    only a mix of at least ``MOSTLY_NUMERIC`` numbers and some non-numbers counts.

    >>> is_mostly_numeric(pd.Series(["1.5", "2", "?", "3", "4", "5", "6", "7", "8", "9"]))
    True
    >>> is_mostly_numeric(pd.Series(["red", "2", "blue"]))
    False
    """
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series) \
            or isinstance(series.dtype, pd.CategoricalDtype | pd.DatetimeTZDtype) \
            or pd.api.types.is_datetime64_any_dtype(series):
        return False
    probe = series.iloc[:_PROBE_CELLS].dropna()
    if probe.empty or _numeric_share(probe) < MOSTLY_NUMERIC / 2:
        return False
    filled = series.dropna()
    share = _numeric_share(filled)
    return MOSTLY_NUMERIC <= share < 1.0


def _numeric_share(values: pd.Series) -> float:
    if values.empty:
        return 0.0
    try:
        parsed = pd.to_numeric(values, errors="coerce")
    except (TypeError, ValueError):  # cells that are lists, dicts, ...: not a number column
        return 0.0
    return float(parsed.notna().mean())
