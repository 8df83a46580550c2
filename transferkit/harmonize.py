"""Cross-market schema harmonisation: two markets' raw columns to one numeric feature space.

Markets rarely share a schema: the Japanese shop names columns differently, prices are in
yen, a column exists in one market only, categories appear that the US shop never saw, and
label sets differ. ``Harmonizer`` handles all of that once, as a fitted scikit-learn
transformer built on ``ColumnTransformer``, so new target rows are treated the same way at
prediction time.

Examples
--------
>>> import pandas as pd
>>> us = Domain.from_frame(pd.DataFrame({"price": [10.0, 20.0, 30.0], "colour": list("rgb"),
...                                      "bought": [0, 1, 1]}),
...                        label="bought", name="us", currency="USD")
>>> jp = Domain.from_frame(pd.DataFrame({"kakaku": [1500.0, 3000.0], "colour": ["r", "pink"],
...                                      "bought": [1, 0]}),
...                        label="bought", name="jp", currency="JPY")
>>> pair = harmonize(us, jp, target_columns={"kakaku": "price"}, money_columns=["price"],
...                  exchange_rates={"USD": 1.0, "JPY": 0.0067})
>>> pair.harmonizer.feature_names_out_
['price', 'colour_b', 'colour_g', 'colour_r', 'colour___other__']
>>> pair.target.X[:, -1].tolist()  # "pink" was never seen in the US: the "other" level
[0.0, 1.0]
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from transferkit._validation import check_choice, check_param, describe_positions
from transferkit.domain import Domain
from transferkit.exceptions import DomainMismatchError, TransferWarning
from transferkit.schema import Schema

__all__ = ["HarmonizedPair", "Harmonizer", "harmonize"]

_MISSING = "__missing__"
# Harmonised features beyond float32's range (3.4e38) overflow in every torch method.
_MAX_FEATURE = 1e38
Side = Literal["source", "target"]


class _OneHotWithOther(TransformerMixin, BaseEstimator):
    """One-hot encoding with an explicit ``other`` level for unseen or rare categories.

    sklearn's ``OneHotEncoder`` either errors on unseen categories or encodes them as all
    zeros; markets need a real "other" column, so categories are mapped first and the
    encoder is given the full category list, ``other`` included.
    """

    def __init__(self, other: str = "__other__", min_count: int = 1) -> None:
        self.other = other
        self.min_count = min_count

    def fit(self, X: pd.DataFrame, y: None = None) -> _OneHotWithOther:
        frame = self._as_strings(X)
        self.categories_ = []
        for column in frame.columns:
            counts = frame[column].value_counts()
            kept = sorted(str(c) for c in counts.index[counts >= self.min_count])
            self.categories_.append(kept if self.other in kept else [*kept, self.other])
        self.encoder_ = OneHotEncoder(categories=self.categories_, sparse_output=False,
                                      dtype=float)
        self.encoder_.fit(self._map_unseen(frame))
        self.n_features_in_ = frame.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self)
        return self.encoder_.transform(self._map_unseen(self._as_strings(X)))

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        return self.encoder_.get_feature_names_out(input_features)

    def _map_unseen(self, frame: pd.DataFrame) -> pd.DataFrame:
        for position, column in enumerate(frame.columns):
            known = set(self.categories_[position])
            frame[column] = frame[column].where(frame[column].isin(known), self.other)
        return frame

    @staticmethod
    def _as_strings(X: pd.DataFrame) -> pd.DataFrame:
        frame = pd.DataFrame(X).copy()
        for column in frame.columns:
            values = frame[column]
            frame[column] = values.astype(object).where(values.notna(), _MISSING).astype(str)
        return frame


class Harmonizer(BaseEstimator):
    """Fitted, reusable map from two markets' raw data to aligned numeric features.

    Parameters
    ----------
    target_columns, source_columns : mapping, optional
        Renames applied to the target (source) market's columns, ``{"Preis": "price"}``.
    missing_columns : {"drop", "impute", "error"}, default="drop"
        Features present in only one market: drop them (with a warning naming them),
        keep source-only features and impute them in the target from source statistics,
        or raise. Target-only features can never be learned from the source and are
        always dropped.
    money_columns : sequence of str
        Columns holding amounts in the market's ``metadata.currency``.
    exchange_rates : mapping, optional
        Value of one unit of each currency in a common reference, ``{"USD": 1.0,
        "EUR": 1.08}``; amounts are converted to ``base_currency``.
    base_currency : str, optional
        Currency all amounts are expressed in; defaults to the source market's.
    unit_factors : mapping, optional
        ``{column: factor}``: a target value times ``factor`` is in the source's unit
        (``{"weight": 0.4536}`` for pounds to kilograms).
    label_map : mapping, optional
        Renames of target labels to source labels, ``{"gut": "good"}``.
    label_mismatch : {"error", "restrict"}, default="error"
        Target labels the source never has: raise, or keep only the shared classes
        (dropping other rows in both markets, with a warning).
    scale_numeric : bool, default=True
        Standardise numeric features with source statistics.
    min_category_count : int, default=1
        Categories with fewer fitting rows go to the ``other_category`` level.
    other_category : str, default="__other__"
        Level for categories unseen at fit time.
    fit_on : {"source", "both"}, default="source"
        Rows the imputers, scalers and encoders learn from.

    Attributes
    ----------
    feature_names_out_ : list of str
        Names of the aligned numeric features.
    features_in_ : list of str
        Harmonised input columns (after renames).
    dropped_columns_ : dict
        ``{"source_only": [...], "target_only": [...]}`` columns that were dropped.
    changes_ : list of dict
        Every column the harmonizer did not pass through as it came, one
        ``{"column", "action", "reason"}`` dict each, for the terminal and the report.
        ``action`` is ``"dropped"`` (in one market only), ``"imputed"`` (absent or empty in
        a market, filled from the fitting rows' statistics) or ``"coerced"`` (non-numeric
        cells read as missing by ``Domain.from_frame(bad_numeric="coerce")``).
    unseen_categories_ : dict
        Target categories never seen in the source, per column.
    classes_ : ndarray or None
        Shared class labels (classification tasks).
    """

    def __init__(
        self,
        *,
        target_columns: Mapping[str, str] | None = None,
        source_columns: Mapping[str, str] | None = None,
        missing_columns: Literal["drop", "impute", "error"] = "drop",
        money_columns: Sequence[str] = (),
        exchange_rates: Mapping[str, float] | None = None,
        base_currency: str | None = None,
        unit_factors: Mapping[str, float] | None = None,
        label_map: Mapping[object, object] | None = None,
        label_mismatch: Literal["error", "restrict"] = "error",
        scale_numeric: bool = True,
        min_category_count: int = 1,
        other_category: str = "__other__",
        fit_on: Literal["source", "both"] = "source",
    ) -> None:
        self.target_columns = target_columns
        self.source_columns = source_columns
        self.missing_columns = missing_columns
        self.money_columns = money_columns
        self.exchange_rates = exchange_rates
        self.base_currency = base_currency
        self.unit_factors = unit_factors
        self.label_map = label_map
        self.label_mismatch = label_mismatch
        self.scale_numeric = scale_numeric
        self.min_category_count = min_category_count
        self.other_category = other_category
        self.fit_on = fit_on

    # ------------------------------------------------------------------ fitting
    def fit(self, source: Domain, target: Domain) -> Harmonizer:
        """Learn the shared feature space from the source (and target) market."""
        self._check_params()
        for side, domain in (("source", source), ("target", target)):
            if not isinstance(domain, Domain):
                raise TypeError(f"Harmonizer.fit expects Domains; the {side} is "
                                f"{type(domain).__name__}.")
        self.base_currency_ = self.base_currency or source.metadata.currency
        self.changes_: list[dict[str, str]] = []
        source_frame, source_schema = self._prepare(source, "source")
        target_frame, target_schema = self._prepare(target, "target")
        numeric, categorical = self._shared_features(source_schema, target_schema, source, target)
        self.numeric_in_, self.categorical_in_ = numeric, categorical
        self.features_in_ = [*numeric, *categorical]
        if not self.features_in_:
            raise DomainMismatchError(
                f"Markets {source.name!r} and {target.name!r} share no feature columns; map "
                "column names with target_columns={...}."
            )
        self._note_empty_and_coerced(source, source_frame, target, target_frame)
        self.task_ = source.task
        self.classes_ = self._fit_labels(source, source_frame, source_schema,
                                         target, target_frame, target_schema)
        fit_frame = source_frame
        if self.fit_on == "both":
            fit_frame = pd.concat([source_frame, self._fill_absent(target_frame)],
                                  ignore_index=True)
        self.transformer_ = self._column_transformer(numeric, categorical)
        self.transformer_.fit(fit_frame.loc[:, self.features_in_])
        self.feature_names_out_ = [str(n) for n in self.transformer_.get_feature_names_out()]
        self._check_scaler_finite(fit_frame)
        self.unseen_categories_ = self._unseen_categories(target_frame, target.name)
        self.source_name_, self.target_name_ = source.name, target.name
        return self

    def transform(self, domain: Domain, *, side: Side = "target") -> Domain:
        """Aligned numeric Domain for ``domain`` (new target rows use ``side="target"``)."""
        check_is_fitted(self, "transformer_")
        check_choice("Harmonizer.transform", "side", side, ("source", "target"))
        frame, schema = self._prepare(domain, side)
        absent = [c for c in self.features_in_ if c not in frame.columns]
        if absent and self.missing_columns != "impute":
            raise DomainMismatchError(
                f"Domain {domain.name!r} lacks columns {absent} that the harmonizer was "
                "fitted with; add them or refit with missing_columns='impute'."
            )
        frame = self._fill_absent(frame)
        keep = self._rows_with_known_labels(frame, schema, domain.name)
        frame = frame.loc[keep].reset_index(drop=True)
        if len(frame) == 0:
            raise DomainMismatchError(
                f"No rows of Domain {domain.name!r} have a label among the shared classes "
                f"{list(self.classes_)}."
            )
        features = np.asarray(self.transformer_.transform(frame.loc[:, self.features_in_]),
                              dtype=float)
        # One pass catches NaN, infinity and values float32 models would turn into infinity.
        within = np.abs(features) <= _MAX_FEATURE
        if not within.all():
            self._raise_non_finite(~within, frame, domain.name)
        kept = [c for c in (schema.label, schema.id, schema.time, schema.weight) if c is not None]
        out_schema = Schema(numeric=tuple(self.feature_names_out_), label=schema.label,
                            id=schema.id, time=schema.time, weight=schema.weight)
        return Domain(frame.loc[:, kept], out_schema, array=features,
                      metadata=domain.metadata, task=self.task_ or domain.task)

    def canonical(self, domain: Domain, *, side: Side = "target") -> Domain:
        """``domain`` with columns renamed, amounts in ``base_currency_`` and units converted,
        but not imputed, encoded or standardised: each market's own values in one vocabulary
        (the gap report shows distributions in these units)."""
        check_is_fitted(self, "transformer_")
        check_choice("Harmonizer.canonical", "side", side, ("source", "target"))
        frame, schema = self._prepare(domain, side)
        return Domain(frame, schema, metadata=domain.metadata, task=domain.task)

    # ------------------------------------------------------------------ steps
    def _check_params(self) -> None:
        owner = "Harmonizer"
        check_choice(owner, "missing_columns", self.missing_columns, ("drop", "impute", "error"))
        check_choice(owner, "label_mismatch", self.label_mismatch, ("error", "restrict"))
        check_choice(owner, "fit_on", self.fit_on, ("source", "both"))
        check_param(owner, "min_category_count", self.min_category_count, "an int >= 1",
                    lambda v: int(v) == v and v >= 1)
        if self.money_columns and not self.exchange_rates:
            raise ValueError(
                "Harmonizer has money_columns but no exchange_rates; pass "
                "exchange_rates={'USD': 1.0, 'EUR': 1.08, ...}."
            )
        for currency, rate in (self.exchange_rates or {}).items():
            check_param(owner, f"exchange_rates[{currency!r}]", rate, "a float > 0",
                        lambda v: float(v) > 0 and np.isfinite(v))
        for column, factor in (self.unit_factors or {}).items():
            check_param(owner, f"unit_factors[{column!r}]", factor, "a float > 0",
                        lambda v: float(v) > 0 and np.isfinite(v))

    def _prepare(self, domain: Domain, side: Side) -> tuple[pd.DataFrame, Schema]:
        """Rename columns, convert currencies and units, map labels: raw canonical frame."""
        if domain.schema.text or domain.schema.image:
            raise TypeError(
                f"Domain {domain.name!r} holds {domain.modality} features; encode them into "
                "numeric features first (transferkit.backbones), then harmonize."
            )
        if domain.modality == "tensor":
            raise TypeError(f"Domain {domain.name!r} holds tensors; harmonize works on tables.")
        renames = dict((self.target_columns if side == "target" else self.source_columns) or {})
        unknown = [c for c in renames if c not in domain.schema.columns]
        if unknown:
            raise DomainMismatchError(
                f"{side}_columns renames {unknown}, which Domain {domain.name!r} does not "
                f"have; its columns are {list(domain.schema.columns)}."
            )
        frame = domain.frame.rename(columns=renames)
        schema = domain.schema.rename(renames)
        if frame.columns.duplicated().any():
            raise DomainMismatchError(
                f"Renaming {domain.name!r}'s columns with {renames} creates duplicated names "
                f"{sorted(set(frame.columns[frame.columns.duplicated()]))}."
            )
        money = [c for c in self.money_columns if c in frame.columns]
        if money:
            frame[money] = frame[money] * self._currency_factor(domain)
        if side == "target":
            for column, factor in (self.unit_factors or {}).items():
                if column in frame.columns:
                    frame[column] = frame[column] * float(factor)
        if side == "target" and self.label_map and schema.label is not None:
            frame[schema.label] = frame[schema.label].map(
                lambda v: self.label_map.get(v, v) if pd.notna(v) else v)
        return frame, schema

    def _currency_factor(self, domain: Domain) -> float:
        rates = self.exchange_rates or {}
        currency, base = domain.metadata.currency, self.base_currency_
        if currency is None or base is None:
            raise DomainMismatchError(
                f"Domain {domain.name!r} has money columns but no currency is known "
                f"(domain: {currency!r}, base: {base!r}); pass currency=... to the Domain "
                "or base_currency=... to the Harmonizer."
            )
        missing = [c for c in (currency, base) if c not in rates]
        if missing:
            raise DomainMismatchError(
                f"exchange_rates has no rate for {missing}; it covers {sorted(rates)}."
            )
        return float(rates[currency]) / float(rates[base])

    def _shared_features(
        self, source: Schema, target: Schema, source_domain: Domain, target_domain: Domain
    ) -> tuple[list[str], list[str]]:
        mixed = sorted(
            c for c in set(source.features) & set(target.features)
            if (c in source.numeric) != (c in target.numeric)
        )
        if mixed:
            raise DomainMismatchError(
                f"Columns {mixed} are numeric in one market and categorical in the other; "
                "declare the same role in both Domains."
            )
        source_only = [c for c in source.features if c not in target.features]
        target_only = [c for c in target.features if c not in source.features]
        if (source_only or target_only) and self.missing_columns == "error":
            raise DomainMismatchError(
                f"Columns only in source {source_domain.name!r}: {source_only}; only in "
                f"target {target_domain.name!r}: {target_only}. Map names with "
                "target_columns={...} or pass missing_columns='drop' or 'impute'."
            )
        imputed = source_only if self.missing_columns == "impute" else []
        dropped_source = [] if imputed else source_only
        self.dropped_columns_ = {"source_only": dropped_source, "target_only": target_only}
        for column in dropped_source:
            self._note(column, "dropped", f"only in source {source_domain.name!r}")
        for column in target_only:
            self._note(column, "dropped", f"only in target {target_domain.name!r}; the source "
                                          "cannot teach it")
        for column in imputed:
            self._note(column, "imputed", f"absent in target {target_domain.name!r}; filled "
                                          "from source statistics")
        if dropped_source or target_only:
            warnings.warn(
                f"Dropping columns found in one market only: source {source_domain.name!r} "
                f"only {dropped_source}, target {target_domain.name!r} only {target_only}.",
                TransferWarning, stacklevel=3,
            )
        if imputed:
            warnings.warn(
                f"Columns {imputed} are missing in target {target_domain.name!r}; they are "
                "imputed there from source statistics.",
                TransferWarning, stacklevel=3,
            )
        numeric = [c for c in source.numeric if c in target.numeric or c in imputed]
        categorical = [c for c in source.categorical if c in target.categorical or c in imputed]
        return numeric, categorical

    def _fit_labels(
        self, source: Domain, source_frame: pd.DataFrame, source_schema: Schema,
        target: Domain, target_frame: pd.DataFrame, target_schema: Schema,
    ) -> np.ndarray | None:
        self.label_ = source_schema.label
        if target_schema.label is not None and source_schema.label is not None \
                and target_schema.label != source_schema.label:
            raise DomainMismatchError(
                f"Label column is {source_schema.label!r} in {source.name!r} but "
                f"{target_schema.label!r} in {target.name!r}; rename one with "
                "target_columns={...}."
            )
        if not source.is_classification:
            return None
        source_classes = pd.unique(source_frame[source_schema.label].dropna())
        target_classes = (pd.unique(target_frame[target_schema.label].dropna())
                          if target_schema.label is not None else [])
        extra = sorted(set(target_classes) - set(source_classes), key=str)
        if extra and self.label_mismatch == "error":
            raise DomainMismatchError(
                f"Target {target.name!r} has labels {extra} that source {source.name!r} never "
                f"has (source labels: {sorted(source_classes, key=str)}). Map them with "
                "label_map={...} or pass label_mismatch='restrict'."
            )
        shared = set(source_classes)
        if extra:
            shared &= set(target_classes)
            dropped = sorted(set(source_classes) - shared, key=str)
            warnings.warn(
                f"Restricting to the {len(shared)} classes both markets have; dropping rows "
                f"labelled {extra} in {target.name!r} and {dropped} in {source.name!r}.",
                TransferWarning, stacklevel=3,
            )
        return np.array(sorted(shared, key=str), dtype=object if
                        any(isinstance(c, str) for c in shared) else None)

    def _note(self, column: str, action: str, reason: str) -> None:
        self.changes_.append({"column": column, "action": action, "reason": reason})

    def _note_empty_and_coerced(self, source: Domain, source_frame: pd.DataFrame,
                                target: Domain, target_frame: pd.DataFrame) -> None:
        """Warn about features empty in one market and record cells coerced at the door."""
        for side, domain, frame in (("source", source, source_frame),
                                    ("target", target, target_frame)):
            renames = dict((self.target_columns if side == "target" else self.source_columns)
                           or {})
            for column, count in dict(domain.metadata.extra.get("coerced_cells", {})).items():
                column = renames.get(column, column)
                if column in self.features_in_:
                    self._note(column, "coerced", f"{count} non-numeric cells in {side} "
                                                  f"{domain.name!r} read as missing")
            empty = [c for c in self.features_in_
                     if c in frame.columns and bool(frame[c].isna().all())]
            if not empty:
                continue
            fill = ("the fitting rows' median (numeric) or a missing level (categorical)"
                    if side == "target" else "a constant, so they carry no information")
            for column in empty:
                self._note(column, "imputed", f"missing in every row of {side} "
                                              f"{domain.name!r}")
            warnings.warn(
                f"Columns {empty} are missing in every row of {side} {domain.name!r}; they are "
                f"imputed there with {fill}. Check the file, or leave them out with "
                "exclude=[...].",
                TransferWarning, stacklevel=3,
            )

    def _check_scaler_finite(self, fit_frame: pd.DataFrame) -> None:
        numeric = self.transformer_.named_transformers_.get("numeric")
        scaler = None if numeric is None else numeric.named_steps.get("scale")
        if scaler is None:
            return
        # The scaler sees the imputer's output: the numeric columns, then indicators.
        stats_ok = np.isfinite(scaler.mean_) & np.isfinite(scaler.scale_)
        bad = [c for c, ok in zip(self.numeric_in_, stats_ok, strict=False) if not ok]
        if bad:
            raise ValueError(
                f"Cannot standardise columns {bad}: {self._magnitudes(fit_frame, bad)}; their "
                "mean or variance overflows. Rescale them (divide, or take a log), clip "
                "them, or pass scale_numeric=False."
            )

    def _raise_non_finite(self, bad: np.ndarray, frame: pd.DataFrame, name: str) -> None:
        outputs = [n for n, b in zip(self.feature_names_out_, bad.any(axis=0), strict=True) if b]
        inputs = [c for c in self.features_in_
                  if any(o == c or o.startswith(f"{c}_") or o.endswith(f"_{c}") for o in outputs)]
        raise ValueError(
            f"Harmonised features {outputs} of Domain {name!r} are not finite (NaN or "
            f"infinite) or beyond 1e38 in magnitude in {describe_positions(bad.any(axis=1))}: "
            f"{self._magnitudes(frame, inputs)}. Values this large overflow when converted "
            "or standardised; rescale the columns (divide, or take a log), clip them, or "
            "leave them out with exclude=[...]."
        )

    @staticmethod
    def _magnitudes(frame: pd.DataFrame, columns: Sequence[str]) -> str:
        parts = []
        for column in columns:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            finite = np.abs(values[np.isfinite(values)])
            biggest = f"{finite.max():.3g}" if finite.size else "no finite value"
            parts.append(f"input column {column!r} reaches {biggest} in magnitude")
        return "; ".join(parts) if parts else "no single input column is to blame"

    def _column_transformer(self, numeric: list[str], categorical: list[str]) -> ColumnTransformer:
        numeric_steps = [("impute", SimpleImputer(strategy="median", add_indicator=True,
                                                  keep_empty_features=True))]
        if self.scale_numeric:
            numeric_steps.append(("scale", StandardScaler()))
        categorical_steps = _OneHotWithOther(self.other_category, int(self.min_category_count))
        parts = []
        if numeric:
            parts.append(("numeric", Pipeline(numeric_steps), numeric))
        if categorical:
            parts.append(("categorical", categorical_steps, categorical))
        return ColumnTransformer(parts, verbose_feature_names_out=False, sparse_threshold=0.0)

    def _fill_absent(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Add the fitted columns a market lacks, all missing, for imputation."""
        absent = [c for c in getattr(self, "features_in_", []) if c not in frame.columns]
        if not absent:
            return frame
        return frame.assign(**{c: np.nan for c in absent})

    def _rows_with_known_labels(self, frame: pd.DataFrame, schema: Schema, name: str) -> np.ndarray:
        keep = np.ones(len(frame), dtype=bool)
        if self.classes_ is None or schema.label is None:
            return keep
        labels = frame[schema.label]
        keep = (labels.isna() | labels.isin(set(self.classes_))).to_numpy()
        if not keep.all() and self.label_mismatch == "error":
            unknown = sorted(pd.unique(labels[~keep]), key=str)
            raise DomainMismatchError(
                f"Domain {name!r} has labels {unknown} outside the fitted classes "
                f"{list(self.classes_)}."
            )
        return keep

    def unseen_categories(self, domain: Domain) -> dict[str, list[str]]:
        """Categories of target rows never seen at fit time (they map to ``other``).

        Warns naming them, as at fit time; ``transform`` itself maps them silently, so
        code that serves new rows (``TransferPipeline.predict``) calls this first.
        """
        check_is_fitted(self, "transformer_")
        frame, _ = self._prepare(domain, "target")
        return self._unseen_categories(frame, domain.name)

    def _unseen_categories(self, target_frame: pd.DataFrame, name: str) -> dict[str, list[str]]:
        encoder = self.transformer_.named_transformers_.get("categorical")
        if encoder is None:
            return {}
        unseen: dict[str, list[str]] = {}
        for column, known in zip(self.categorical_in_, encoder.categories_, strict=True):
            if column not in target_frame.columns:
                continue
            values = _OneHotWithOther._as_strings(target_frame[[column]])[column]
            new = sorted(set(values) - set(known))
            if new:
                unseen[column] = new
        if unseen:
            listing = "; ".join(f"{c}: {v[:5]}{' ...' if len(v) > 5 else ''}"
                                for c, v in unseen.items())
            warnings.warn(
                f"Target {name!r} has categories the source never showed; they map to "
                f"{self.other_category!r}: {listing}.",
                TransferWarning, stacklevel=3,
            )
        return unseen


@dataclass(frozen=True)
class HarmonizedPair:
    """Source and target in one numeric feature space, with the fitted ``harmonizer``."""

    source: Domain
    target: Domain
    harmonizer: Harmonizer


def harmonize(source: Domain, target: Domain, **options: object) -> HarmonizedPair:
    """Fit a ``Harmonizer`` on two markets and return both aligned, numeric Domains.

    ``options`` are ``Harmonizer`` parameters. New target rows go through
    ``pair.harmonizer.transform(new_domain)``.
    """
    harmonizer = Harmonizer(**options).fit(source, target)
    return HarmonizedPair(
        source=harmonizer.transform(source, side="source"),
        target=harmonizer.transform(target, side="target"),
        harmonizer=harmonizer,
    )
