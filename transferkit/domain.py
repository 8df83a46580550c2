"""The Domain: one market's data, its schema, metadata and which rows are labelled.

Every transferkit module takes Domains. Build them once with ``Domain.from_frame``,
``from_arrays``, ``from_texts`` or ``from_images``; the data are validated there, so
later steps can trust them.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"price": [9.5, 12.0, 7.25, 30.0], "colour": list("rgrb"),
...                       "bought": [1, 0, 1, 0]})
>>> shop = Domain.from_frame(frame, label="bought", name="us", currency="USD")
>>> print(repr(shop)[:60])
Domain('us', tabular: 4 rows (4 labelled) x 2 features [1 nu
>>> shop.y
array([1, 0, 1, 0])
>>> train, test = shop.split(test_size=0.5, seed=0)
>>> len(train), len(test)
(2, 2)
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from transferkit._validation import (
    check_choice,
    check_known_columns,
    check_param,
    describe_positions,
    did_you_mean,
)
from transferkit.exceptions import DomainMismatchError, TransferWarning
from transferkit.schema import Schema

__all__ = ["Domain", "Metadata", "Task", "stack"]

Task = Literal["binary", "multiclass", "regression"]
_TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")
# A numeric label with more distinct values than this is taken for a regression target.
_MAX_CLASSES_INFERRED = 50


@dataclass(frozen=True)
class Metadata:
    """What a Domain is: market name, country, language, currency and free-form extras."""

    name: str = "domain"
    country: str | None = None
    language: str | None = None
    currency: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        parts = [f"{key}={value!r}" for key, value in
                 (("country", self.country), ("language", self.language),
                  ("currency", self.currency)) if value is not None]
        return ", ".join(parts)


def _to_numpy(values: Any) -> np.ndarray:
    """numpy view of arrays, lists and torch tensors (moved to CPU, detached)."""
    if hasattr(values, "detach") and hasattr(values, "cpu"):
        values = values.detach().cpu().numpy()
    return np.asarray(values)


def _infer_task(labels: pd.Series) -> Task:
    values = labels.dropna()
    if values.empty:
        return "binary"
    if pd.api.types.is_float_dtype(values):
        integral = bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
        if not integral:
            return "regression"
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        if values.nunique() > _MAX_CLASSES_INFERRED:
            return "regression"
    return "binary" if values.nunique() <= 2 else "multiclass"


def _coerce_numeric(
    frame: pd.DataFrame, column: str, name: str, bad_numeric: str = "error",
    coerced: dict[str, int] | None = None,
) -> pd.Series:
    series = frame[column]
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    if pd.api.types.is_numeric_dtype(series):
        values = series.astype(float)
    else:
        try:
            values = pd.to_numeric(series, errors="coerce")
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"Domain {name!r}: column {column!r} has the numeric role but its cells are "
                f"not numbers or strings ({exc}); declare it categorical or exclude it."
            ) from exc
        junk = (values.isna() & series.notna()).to_numpy()
        if junk.any():
            _report_junk(series, junk, column, name, bad_numeric)
            if coerced is not None:
                coerced[column] = int(junk.sum())
        values = values.astype(float)
    infinite = np.isinf(values.to_numpy())
    if infinite.any():
        raise ValueError(
            f"Domain {name!r}: column {column!r} holds infinite values in "
            f"{describe_positions(infinite, list(frame.index))}."
        )
    return values


def _report_junk(series: pd.Series, junk: np.ndarray, column: str, name: str,
                 bad_numeric: str) -> None:
    """Refuse (or, with ``bad_numeric="coerce"``, warn about) non-numbers in a numeric column."""
    n_bad, n_filled = int(junk.sum()), int(series.notna().sum())
    values = series[junk].astype(str).value_counts()
    distinct = ", ".join(f"{value!r} x{count}" for value, count in values.head(5).items())
    more = f" and {len(values) - 5} other values" if len(values) > 5 else ""
    rows = describe_positions(junk, list(series.index), limit=3)
    cells = "1 cell is not a number" if n_bad == 1 else f"{n_bad} cells are not numbers"
    what = (f"Domain {name!r}: column {column!r} is numeric ({n_filled - n_bad} of {n_filled} "
            f"filled cells are numbers) but {cells}: {distinct}{more}, in {rows}")
    if bad_numeric == "coerce":
        warnings.warn(f"{what}; they are read as missing (bad_numeric='coerce').",
                      TransferWarning, stacklevel=4)
        return
    raise ValueError(
        f"{what}. Clean the file, pass bad_numeric='coerce' to read them as missing, or "
        f"declare the column categorical=[{column!r}]."
    )


class Domain:
    """One market's data with its schema, metadata and labelled rows.

    Use the ``from_*`` constructors; they validate the data once so every later step can
    trust it. A Domain is immutable: views and splits return new Domains.

    Attributes
    ----------
    schema : Schema
        Column roles.
    metadata : Metadata
        Market name, country, language, currency.
    task : {"binary", "multiclass", "regression"}
        Inferred from the label unless given.
    """

    def __init__(
        self,
        table: pd.DataFrame,
        schema: Schema,
        *,
        array: np.ndarray | None = None,
        metadata: Metadata | None = None,
        task: Task | None = None,
    ) -> None:
        self._table = table.reset_index(drop=True)
        self._array = array
        self.schema = schema
        self.metadata = metadata or Metadata()
        if len(self._table) == 0 and (array is None or len(array) == 0):
            raise ValueError(f"Domain {self.name!r} is empty (0 rows); a market needs data.")
        if array is not None and len(array) != len(self._table):
            raise ValueError(
                f"Domain {self.name!r}: the feature array has {len(array)} rows but the "
                f"table has {len(self._table)}."
            )
        if task is not None:
            check_param("Domain", "task", task, f"one of {_TASKS}", lambda t: t in _TASKS)
        elif schema.label is not None:
            task = _infer_task(self._table[schema.label])
        self.task: Task | None = task

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_frame(
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
        name: str = "domain",
        country: str | None = None,
        language: str | None = None,
        currency: str | None = None,
        extra: Mapping[str, Any] | None = None,
        task: Task | None = None,
        allow_unlabeled: bool = False,
        bad_numeric: Literal["error", "coerce"] = "error",
    ) -> Domain:
        """A Domain from a pandas DataFrame; feature roles are inferred where not given.

        Parameters
        ----------
        frame : DataFrame
            One row per example. It is copied; the caller's frame is never modified.
        label : str, optional
            Outcome column. Missing values are an error unless ``allow_unlabeled=True``,
            which makes those rows the unlabelled part of the market.
        numeric, categorical, text, image : sequence of str, optional
            Feature roles. Columns not given a role are inferred from their dtype.
        id, time, weight : str, optional
            Row id, timestamp and sample-weight columns (not features).
        exclude : sequence of str
            Columns to leave out.
        name, country, language, currency, extra
            Market metadata.
        task : {"binary", "multiclass", "regression"}, optional
            Overrides the task inferred from the label.
        bad_numeric : {"error", "coerce"}, default="error"
            Cells that are not numbers in a numeric column (given ``numeric=`` or inferred:
            a text column of at least 90 % numbers, such as prices with a few ``'?'``):
            refuse with a message giving their count, values and rows, or read them as
            missing with a ``TransferWarning``; the counts are kept in
            ``metadata.extra["coerced_cells"]``. Never silently retyped.

        Raises
        ------
        ValueError
            Empty frame, duplicated or missing columns (with a did-you-mean), no feature
            columns, junk in numeric columns, missing labels, negative weights.
        TypeError
            Column names that are not strings (``0, 1, 2`` from a file without a header).
        """
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(
                f"Domain.from_frame expects a pandas DataFrame; got {type(frame).__name__}."
            )
        check_choice("Domain.from_frame", "bad_numeric", bad_numeric, ("error", "coerce"))
        not_strings = [c for c in frame.columns if not isinstance(c, str)]
        if not_strings:
            shown = ", ".join(f"{c!r} ({type(c).__name__})" for c in not_strings[:5])
            raise TypeError(
                f"Domain {name!r}: column names must be strings; got {shown}"
                f"{', ...' if len(not_strings) > 5 else ''}. Name the columns (a file read "
                "without a header row gets 0, 1, 2, ...), e.g. frame.columns = "
                "frame.columns.astype(str)."
            )
        if frame.columns.duplicated().any():
            duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
            raise ValueError(f"Domain {name!r}: duplicated column names {duplicated}; rename them.")
        if len(frame) == 0:
            raise ValueError(f"Domain {name!r} is empty (0 rows); a market needs data.")
        if label is not None and label not in frame.columns:
            raise ValueError(
                f"Domain {name!r} has no label column {label!r}."
                f"{did_you_mean(label, list(frame.columns))} Its columns are "
                f"{list(map(str, frame.columns))}."
            )
        for role, names in (("numeric", numeric or ()), ("categorical", categorical or ()),
                            ("text", text), ("image", image), ("exclude", exclude),
                            ("id/time/weight", [c for c in (id, time, weight) if c is not None])):
            if isinstance(names, str):
                raise TypeError(
                    f"Domain {name!r}: {role}= takes a list of column names; got the string "
                    f"{names!r}. Write {role}=[{names!r}]."
                )
            check_known_columns(list(names), list(frame.columns), f"Domain {name!r}: {role}=")
        schema = Schema.infer(
            frame, label=label, numeric=numeric, categorical=categorical, text=text,
            image=image, id=id, time=time, weight=weight, exclude=exclude,
        )
        if not schema.features:
            raise ValueError(
                f"Domain {name!r} has no feature columns: its columns {list(frame.columns)} "
                f"are all label, id, time, weight or excluded ({list(exclude)}). Keep at least "
                "one feature column."
            )
        table = frame.loc[:, list(schema.columns)].copy()
        coerced: dict[str, int] = {}
        for column in schema.numeric:
            table[column] = _coerce_numeric(frame, column, name, bad_numeric, coerced)
        for column in schema.categorical:
            if not isinstance(table[column].dtype, pd.CategoricalDtype):
                table[column] = table[column].astype(object)
        for column in (*schema.text, *schema.image):
            absent = table[column].isna().to_numpy()
            if absent.any():
                raise ValueError(
                    f"Domain {name!r}: {schema.role_of(column)} column {column!r} is missing in "
                    f"{describe_positions(absent, list(frame.index))}."
                )
            table[column] = table[column].astype(str)
        for column in schema.image:
            _check_images_exist(table[column], name)
        if weight is not None:
            table[weight] = _check_weights(_coerce_numeric(frame, weight, name), name)
        if label is not None:
            _check_labels(table[label], name, allow_unlabeled, list(frame.index))
        extras = dict(extra or {})
        if coerced:
            extras["coerced_cells"] = coerced
        metadata = Metadata(name, country, language, currency, extras)
        return cls(table, schema, metadata=metadata, task=task)

    @classmethod
    def from_arrays(
        cls,
        X: ArrayLike,
        y: ArrayLike | None = None,
        *,
        feature_names: Sequence[str] | None = None,
        sample_weight: ArrayLike | None = None,
        ids: ArrayLike | None = None,
        name: str = "domain",
        country: str | None = None,
        language: str | None = None,
        currency: str | None = None,
        extra: Mapping[str, Any] | None = None,
        task: Task | None = None,
        allow_unlabeled: bool = False,
    ) -> Domain:
        """A Domain from a numeric array or torch tensor of shape (n_samples, ...).

        2-D inputs are tabular features; higher-rank inputs (images as ``N x C x H x W``)
        are kept as they are and served by ``.X`` with their shape. Labels are ``y``;
        missing labels (NaN) are an error unless ``allow_unlabeled=True``.

        Examples
        --------
        >>> import numpy as np
        >>> d = Domain.from_arrays(np.eye(3), [0, 1, 1], name="toy")
        >>> d.X.shape, d.task
        ((3, 3), 'binary')
        """
        array = _to_numpy(X)
        if array.ndim < 2:
            raise ValueError(
                f"Domain {name!r}: X must have shape (n_samples, n_features, ...); got "
                f"{array.shape}. Use X.reshape(-1, 1) for a single feature."
            )
        try:
            array = array.astype(np.float32 if array.dtype == np.float32 else float, copy=True)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Domain {name!r}: X must be numeric ({exc}).") from exc
        if array.shape[0] == 0:
            raise ValueError(f"Domain {name!r} is empty (0 rows); a market needs data.")
        if array.size == 0:
            raise ValueError(
                f"Domain {name!r}: X has shape {array.shape}, no feature values per row; a "
                "market needs at least one feature."
            )
        bad = ~np.isfinite(array.reshape(array.shape[0], -1)).all(axis=1)
        if bad.any():
            raise ValueError(
                f"Domain {name!r}: X holds NaN or infinite values in {describe_positions(bad)}."
            )
        table = pd.DataFrame(index=pd.RangeIndex(array.shape[0]))
        label = weight = id_column = None
        if y is not None:
            labels = _to_numpy(y)
            if labels.ndim != 1 or labels.shape[0] != array.shape[0]:
                raise ValueError(
                    f"Domain {name!r}: y has shape {labels.shape} but X has {array.shape[0]} "
                    "rows; y must be 1-D with one label per row."
                )
            label = "label"
            table[label] = labels
            _check_labels(table[label], name, allow_unlabeled, list(table.index))
        if sample_weight is not None:
            weights = _to_numpy(sample_weight).astype(float)
            if weights.shape != (array.shape[0],):
                raise ValueError(
                    f"Domain {name!r}: sample_weight has shape {weights.shape}; expected "
                    f"({array.shape[0]},)."
                )
            weight = "sample_weight"
            table[weight] = _check_weights(pd.Series(weights), name)
        if ids is not None:
            id_column = "id"
            table[id_column] = _to_numpy(ids)
            if len(table[id_column]) != array.shape[0]:
                raise ValueError(f"Domain {name!r}: ids must have one entry per row.")
        if array.ndim == 2:
            names = _feature_names(feature_names, array.shape[1], name)
        else:
            names = ()
        schema = Schema(numeric=tuple(names), label=label, id=id_column, weight=weight)
        metadata = Metadata(name, country, language, currency, dict(extra or {}))
        return cls(table, schema, array=array, metadata=metadata, task=task)

    @classmethod
    def from_texts(
        cls,
        texts: Sequence[str],
        labels: ArrayLike | None = None,
        *,
        name: str = "domain",
        country: str | None = None,
        language: str | None = None,
        currency: str | None = None,
        extra: Mapping[str, Any] | None = None,
        task: Task | None = None,
        allow_unlabeled: bool = False,
    ) -> Domain:
        """A text Domain (reviews, titles): one string per row, optional labels.

        Examples
        --------
        >>> d = Domain.from_texts(["great", "awful"], [1, 0], name="en", language="en")
        >>> d.texts
        ['great', 'awful']
        """
        frame = pd.DataFrame({"text": list(texts)})
        if labels is not None:
            frame["label"] = _to_numpy(labels)
        return cls.from_frame(
            frame, label="label" if labels is not None else None, text=["text"],
            name=name, country=country, language=language, currency=currency, extra=extra,
            task=task, allow_unlabeled=allow_unlabeled,
        )

    @classmethod
    def from_images(
        cls,
        paths: Sequence[str | os.PathLike[str]],
        labels: ArrayLike | None = None,
        *,
        name: str = "domain",
        country: str | None = None,
        language: str | None = None,
        currency: str | None = None,
        extra: Mapping[str, Any] | None = None,
        task: Task | None = None,
        allow_unlabeled: bool = False,
    ) -> Domain:
        """An image Domain from file paths (checked to exist), optional labels."""
        frame = pd.DataFrame({"image": [os.fspath(p) for p in paths]})
        if labels is not None:
            frame["label"] = _to_numpy(labels)
        return cls.from_frame(
            frame, label="label" if labels is not None else None, image=["image"],
            name=name, country=country, language=language, currency=currency, extra=extra,
            task=task, allow_unlabeled=allow_unlabeled,
        )

    # ------------------------------------------------------------------ basic facts
    @property
    def name(self) -> str:
        """The market's name (``metadata.name``)."""
        return self.metadata.name

    @property
    def modality(self) -> Literal["tabular", "text", "image", "mixed", "tensor"]:
        """What the features are: tabular columns, texts, image paths or a tensor."""
        if self._array is not None and self._array.ndim > 2:
            return "tensor"
        return self.schema.modality

    @property
    def n_samples(self) -> int:
        return len(self._table)

    def __len__(self) -> int:
        return self.n_samples

    @property
    def n_features(self) -> int:
        """Number of feature columns (for tensors: values per row)."""
        if self._array is not None:
            return int(np.prod(self._array.shape[1:]))
        return len(self.schema.features)

    @property
    def feature_names(self) -> list[str]:
        return list(self.schema.features)

    @property
    def labeled_mask(self) -> np.ndarray:
        """Boolean array, True where the row has a label."""
        if self.schema.label is None:
            return np.zeros(self.n_samples, dtype=bool)
        return self._table[self.schema.label].notna().to_numpy()

    @property
    def n_labeled(self) -> int:
        return int(self.labeled_mask.sum())

    @property
    def is_classification(self) -> bool:
        return self.task in ("binary", "multiclass")

    # ------------------------------------------------------------------ views
    @property
    def X(self) -> np.ndarray | pd.DataFrame:
        """The features: a float array when all are numeric, else a DataFrame of features.

        Raises ``TypeError`` for text and image Domains, which must be encoded first.
        """
        if self._array is not None:
            return self._array
        if self.schema.text or self.schema.image:
            raise TypeError(
                f"Domain {self.name!r} holds {self.modality} features; encode them into "
                "numbers first (transferkit.backbones) to get an X matrix."
            )
        features = self._table.loc[:, list(self.schema.features)]
        if not self.schema.categorical:
            return features.to_numpy(dtype=float)
        return features

    @property
    def y(self) -> np.ndarray:
        """Labels of every row; raises if the Domain has unlabelled rows (use ``labeled()``)."""
        if self.schema.label is None:
            raise ValueError(
                f"Domain {self.name!r} has no label column; pass label=... when building it."
            )
        n_unlabeled = self.n_samples - self.n_labeled
        if n_unlabeled:
            raise ValueError(
                f"Domain {self.name!r} has {n_unlabeled} unlabelled rows; use "
                f"domain.labeled().y for the {self.n_labeled} labelled ones."
            )
        values = self._table[self.schema.label].to_numpy()
        if self.is_classification and values.dtype.kind == "f":
            return values.astype(np.int64)
        return values

    @property
    def classes(self) -> np.ndarray:
        """Sorted distinct labels of the labelled rows (classification only)."""
        if not self.is_classification:
            raise ValueError(f"Domain {self.name!r} is a {self.task} task; it has no classes.")
        return np.unique(self.labeled().y) if self.n_labeled else np.array([])

    @property
    def texts(self) -> list[str]:
        """The first text column as a list of strings."""
        if not self.schema.text:
            raise TypeError(f"Domain {self.name!r} has no text column.")
        return self._table[self.schema.text[0]].tolist()

    @property
    def image_paths(self) -> list[str]:
        """The first image column as a list of file paths."""
        if not self.schema.image:
            raise TypeError(f"Domain {self.name!r} has no image column.")
        return self._table[self.schema.image[0]].tolist()

    @property
    def sample_weight(self) -> np.ndarray | None:
        """Per-row weights from the weight column, or None."""
        if self.schema.weight is None:
            return None
        return self._table[self.schema.weight].to_numpy(dtype=float)

    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the data as one DataFrame (features, then label/id/time/weight)."""
        if self._array is None:
            return self._table.copy()
        if self._array.ndim > 2:
            raise TypeError(f"Domain {self.name!r} holds a {self._array.shape[1:]} tensor per row.")
        features = pd.DataFrame(self._array, columns=list(self.schema.numeric))
        return pd.concat([features, self._table], axis=1)

    # ------------------------------------------------------------------ new Domains
    def subset(self, rows: ArrayLike) -> Domain:
        """A Domain of the given rows (integer positions or a boolean mask)."""
        index = np.asarray(rows)
        if index.dtype == bool:
            if index.shape != (self.n_samples,):
                raise ValueError(
                    f"Boolean mask has shape {index.shape}; Domain {self.name!r} has "
                    f"{self.n_samples} rows."
                )
            index = np.flatnonzero(index)
        if index.size == 0:
            raise ValueError(f"Selecting 0 rows of Domain {self.name!r} would leave it empty.")
        array = None if self._array is None else self._array[index]
        return Domain(self._table.iloc[index], self.schema, array=array,
                      metadata=self.metadata, task=self.task)

    def concat(self, other: Domain) -> Domain:
        """Rows of ``self`` then rows of ``other``: two parts of one market, one schema.

        The schema, metadata and task are kept as they are (nothing is re-inferred), so
        joining labelled and unlabelled parts never retypes a column.

        Raises
        ------
        DomainMismatchError
            When the two parts have different schemas or feature shapes.

        Examples
        --------
        >>> import numpy as np
        >>> part = Domain.from_arrays(np.zeros((2, 3)), [0, 1], name="ca")
        >>> part.concat(part.hide_labels(0)).n_samples, part.concat(part).n_labeled
        (4, 4)
        """
        if not isinstance(other, Domain):
            raise TypeError(f"Domain.concat expects a Domain; got {type(other).__name__}.")
        if other.schema != self.schema:
            raise DomainMismatchError(
                f"Cannot join Domain {other.name!r} to {self.name!r}: their schemas differ "
                f"({other.schema} vs {self.schema}); harmonize them first."
            )
        if (self._array is None) != (other._array is None) or (
                self._array is not None and self._array.shape[1:] != other._array.shape[1:]):
            raise DomainMismatchError(
                f"Cannot join Domain {other.name!r} to {self.name!r}: their feature arrays "
                "have different shapes."
            )
        table = pd.concat([self._table, other._table], ignore_index=True)
        label = self.schema.label
        if label is not None and table[label].isna().any():
            table[label] = table[label].astype(
                float if pd.api.types.is_numeric_dtype(table[label]) else object)
        array = None if self._array is None else np.concatenate([self._array, other._array])
        return Domain(table, self.schema, array=array, metadata=self.metadata, task=self.task)

    def labeled(self) -> Domain:
        """The labelled rows."""
        if self.n_labeled == 0:
            raise ValueError(f"Domain {self.name!r} has no labelled rows.")
        return self.subset(self.labeled_mask)

    def unlabeled(self) -> Domain:
        """The rows without a label; ``hide_labels`` simulates a market with few labels."""
        if self.n_labeled == self.n_samples:
            raise ValueError(
                f"Domain {self.name!r} has no unlabelled rows; use domain.hide_labels(...) "
                "to keep only some labels."
            )
        return self.subset(~self.labeled_mask)

    def hide_labels(self, keep: int = 0, *, stratify: bool = True, seed: int = 0) -> Domain:
        """A copy where only ``keep`` randomly chosen rows keep their label.

        The hidden labels are removed from the copy, not merely masked, so nothing
        downstream can leak them. Stratified by class when possible.

        Examples
        --------
        >>> import numpy as np
        >>> d = Domain.from_arrays(np.zeros((6, 1)), [0, 0, 0, 1, 1, 1])
        >>> d.hide_labels(2, seed=0).n_labeled
        2
        """
        if self.schema.label is None:
            raise ValueError(f"Domain {self.name!r} has no labels to hide.")
        check_param("Domain.hide_labels", "keep", keep, f"an int in [0, {self.n_labeled}]",
                    lambda k: 0 <= int(k) <= self.n_labeled and int(k) == k)
        labeled = np.flatnonzero(self.labeled_mask)
        keep_rows = self._choose(labeled, int(keep), stratify, seed)
        table = self._table.copy()
        hidden = np.setdiff1d(np.arange(self.n_samples), keep_rows)
        column = self.schema.label
        if pd.api.types.is_numeric_dtype(table[column]):
            table[column] = table[column].astype(float)  # integers cannot hold NaN
        else:
            table[column] = table[column].astype(object)
        table.loc[hidden, column] = np.nan
        return Domain(table, self.schema, array=self._array, metadata=self.metadata, task=self.task)

    def sample(self, n: int, *, seed: int = 0, replace: bool = False) -> Domain:
        """``n`` random rows (with replacement if ``replace``)."""
        check_param("Domain.sample", "n", n, "a positive int", lambda v: int(v) == v and v > 0)
        if not replace and n > self.n_samples:
            raise ValueError(
                f"Cannot sample {n} rows without replacement from Domain {self.name!r}, "
                f"which has {self.n_samples}; pass replace=True or a smaller n."
            )
        rows = np.random.default_rng(seed).choice(self.n_samples, size=int(n), replace=replace)
        return self.subset(np.sort(rows) if not replace else rows)

    def split(
        self, test_size: float | int = 0.25, *, stratify: bool = True, seed: int = 0
    ) -> tuple[Domain, Domain]:
        """Random (train, test) split, stratified by label for classification tasks.

        Unlabelled rows are spread over both parts like one more class.
        """
        from sklearn.model_selection import train_test_split

        groups = None
        if stratify and self.is_classification and self.schema.label is not None:
            groups = self._table[self.schema.label].astype(str).to_numpy()
            counts = pd.Series(groups).value_counts()
            if (counts < 2).any():
                warnings.warn(
                    f"Domain {self.name!r}: classes {list(counts.index[counts < 2])} have a "
                    "single row, so the split is not stratified.",
                    TransferWarning, stacklevel=2,
                )
                groups = None
        try:
            train, test = train_test_split(
                np.arange(self.n_samples), test_size=test_size, random_state=seed,
                stratify=groups,
            )
        except ValueError as exc:
            raise ValueError(f"Cannot split Domain {self.name!r}: {exc}") from exc
        return self.subset(np.sort(train)), self.subset(np.sort(test))

    def with_features(
        self, X: ArrayLike, *, feature_names: Sequence[str] | None = None, name: str | None = None
    ) -> Domain:
        """The same rows, labels and metadata with new numeric features (embeddings, encodings).

        Examples
        --------
        >>> d = Domain.from_texts(["a", "b"], [0, 1], name="en")
        >>> d.with_features([[0.1, 0.2], [0.3, 0.4]]).X.shape
        (2, 2)
        """
        array = _to_numpy(X)
        if array.ndim < 2 or array.shape[0] != self.n_samples:
            raise ValueError(
                f"Domain {self.name!r} has {self.n_samples} rows; new features must have shape "
                f"({self.n_samples}, n_features), got {array.shape}."
            )
        array = array.astype(np.float32 if array.dtype == np.float32 else float)
        bad = ~np.isfinite(array.reshape(array.shape[0], -1)).all(axis=1)
        if bad.any():
            raise ValueError(
                f"Domain {self.name!r}: new features hold NaN or infinite values in "
                f"{describe_positions(bad)}."
            )
        names = _feature_names(feature_names, array.shape[1], self.name) if array.ndim == 2 else ()
        keep = [c for c in (self.schema.label, self.schema.id, self.schema.time,
                            self.schema.weight) if c is not None]
        schema = Schema(numeric=tuple(names), label=self.schema.label, id=self.schema.id,
                        time=self.schema.time, weight=self.schema.weight)
        metadata = self.metadata if name is None else replace(self.metadata, name=name)
        return Domain(self._table.loc[:, keep], schema, array=array, metadata=metadata,
                      task=self.task)

    def with_task(self, task: Task) -> Domain:
        """The same Domain with the task set explicitly."""
        return Domain(self._table, self.schema, array=self._array, metadata=self.metadata,
                      task=task)

    # ------------------------------------------------------------------ description
    def describe(self) -> pd.DataFrame:
        """One row per column: role, dtype, missing rate, distinct values, mean/std or top value."""
        rows = []
        frame = self._table if self._array is None or self._array.ndim > 2 else self.frame
        columns = [c for c in self.schema.columns if c in frame.columns]
        for column in columns:
            series = frame[column]
            numeric = (pd.api.types.is_numeric_dtype(series)
                       and not pd.api.types.is_bool_dtype(series))
            top = series.mode(dropna=True)
            rows.append({
                "column": column,
                "role": self.schema.role_of(column),
                "dtype": str(series.dtype),
                "missing": float(series.isna().mean()),
                "distinct": int(series.nunique(dropna=True)),
                "mean": float(series.mean()) if numeric else np.nan,
                "std": float(series.std()) if numeric and len(series) > 1 else np.nan,
                "top": None if numeric or top.empty else str(top.iloc[0])[:40],
            })
        return pd.DataFrame(rows).set_index("column")

    def _label_summary(self) -> str:
        if self.schema.label is None:
            return "unlabelled"
        text = f"label={self.schema.label!r} {self.task}"
        if self.is_classification and self.n_labeled:
            shares = pd.Series(self.labeled().y).value_counts(normalize=True).sort_index()
            body = ", ".join(f"{k}: {v:.1%}" for k, v in list(shares.items())[:6])
            more = ", ..." if len(shares) > 6 else ""
            text += f" {{{body}{more}}}"
        return text

    def __repr__(self) -> str:
        kinds = [(len(getattr(self.schema, role)), role)
                 for role in ("numeric", "categorical", "text", "image")]
        kinds_text = ", ".join(f"{n} {role}" for n, role in kinds if n)
        if self.modality == "tensor":
            shape = f"tensor {tuple(self._array.shape[1:])}"
        else:
            shape = f"{self.n_features} features [{kinds_text}]"
        meta = self.metadata.describe()
        return (
            f"Domain({self.name!r}, {self.modality}: {self.n_samples} rows "
            f"({self.n_labeled} labelled) x {shape}, {self._label_summary()}"
            f"{', ' + meta if meta else ''})"
        )

    # ------------------------------------------------------------------ helpers
    def _choose(self, rows: np.ndarray, n: int, stratify: bool, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        if n == 0:
            return rows[:0]
        if not (stratify and self.is_classification) or n >= rows.size:
            return np.sort(rng.choice(rows, size=n, replace=False))
        from sklearn.model_selection import train_test_split

        labels = self._table[self.schema.label].to_numpy()[rows].astype(str)
        counts = pd.Series(labels).value_counts()
        if (counts < 2).any() or n < counts.size:
            return np.sort(rng.choice(rows, size=n, replace=False))
        chosen, _ = train_test_split(rows, train_size=n, random_state=seed, stratify=labels)
        return np.sort(chosen)


def _feature_names(names: Sequence[str] | None, n: int, domain: str) -> tuple[str, ...]:
    if names is None:
        width = len(str(n - 1))
        return tuple(f"x{i:0{width}d}" for i in range(n))
    names = tuple(str(c) for c in names)
    if len(names) != n:
        raise ValueError(f"Domain {domain!r}: {len(names)} feature names for {n} features.")
    if len(set(names)) != n:
        raise ValueError(f"Domain {domain!r}: feature names must be unique.")
    return names


def _check_labels(labels: pd.Series, name: str, allow_unlabeled: bool, index: list) -> None:
    missing = labels.isna().to_numpy()
    if missing.all():
        if not allow_unlabeled:
            raise ValueError(
                f"Domain {name!r}: every label in {labels.name!r} is missing; pass "
                "allow_unlabeled=True for an unlabelled market, or label=None."
            )
    elif missing.any() and not allow_unlabeled:
        raise ValueError(
            f"Domain {name!r}: label column {labels.name!r} is missing in "
            f"{describe_positions(missing, index)}. Drop those rows, or pass "
            "allow_unlabeled=True to treat them as the unlabelled part of the market."
        )
    if pd.api.types.is_float_dtype(labels) and np.isinf(labels.to_numpy(dtype=float)).any():
        raise ValueError(f"Domain {name!r}: label column {labels.name!r} holds infinite values.")


def _check_weights(weights: pd.Series, name: str) -> pd.Series:
    values = weights.to_numpy(dtype=float)
    if np.isnan(values).any() or (values < 0).any():
        raise ValueError(f"Domain {name!r}: sample weights must be finite and >= 0.")
    if not (values > 0).any():
        raise ValueError(f"Domain {name!r}: sample weights are all zero.")
    return weights


def _check_images_exist(paths: pd.Series, name: str) -> None:
    missing = np.array([not os.path.isfile(p) for p in paths])
    if missing.any():
        first = paths[missing].iloc[0]
        raise FileNotFoundError(
            f"Domain {name!r}: {describe_positions(missing)} point to image files that do "
            f"not exist, e.g. {first!r}."
        )


def stack(source: Domain, target: Domain) -> tuple[np.ndarray, np.ndarray]:
    """Stack the numeric features of two markets with a domain indicator (1 = target row).

    This is the array face of transferkit: reweighters and gap tests are sklearn
    estimators fitted on ``(X, is_target)``.

    Examples
    --------
    >>> import numpy as np
    >>> source = Domain.from_arrays(np.zeros((3, 2)), name="us")
    >>> target = Domain.from_arrays(np.ones((2, 2)), name="jp")
    >>> X, is_target = stack(source, target)
    >>> X.shape, is_target.tolist()
    ((5, 2), [0, 0, 0, 1, 1])
    """
    X_source, X_target = source.X, target.X
    for domain, X in ((source, X_source), (target, X_target)):
        if not isinstance(X, np.ndarray):
            raise TypeError(
                f"Domain {domain.name!r} has categorical features; harmonize the pair first "
                "(transferkit.harmonize) to get numeric features."
            )
    if X_source.shape[1:] != X_target.shape[1:]:
        raise DomainMismatchError(
            f"Source {source.name!r} has features of shape {X_source.shape[1:]} but target "
            f"{target.name!r} has {X_target.shape[1:]}; harmonize the pair first."
        )
    X = np.concatenate([X_source, X_target])
    is_target = np.r_[np.zeros(len(X_source), dtype=int), np.ones(len(X_target), dtype=int)]
    return X, is_target
