"""Raw market rows to the numbers a method was trained on, the same way every time.

``Featurizer`` remembers how each market's raw rows looked at fit time (column roles,
currency, label column) and either harmonises tables (``Harmonizer``) or encodes texts
and images with a frozen backbone. New target rows — a Domain, a DataFrame or a
CSV/Parquet/Excel path — go through ``rows_to_domain`` and ``transform`` and meet the
fit-time rules: a missing column is an error naming it, new categories and extra
columns are handled as documented with a warning, junk in a numeric column is an error.

Examples
--------
>>> import pandas as pd
>>> from transferkit import Domain
>>> us = Domain.from_frame(pd.DataFrame({"price": [1.0, 2.0, 3.0, 4.0],
...                                      "bought": [0, 1, 0, 1]}), label="bought", name="us")
>>> ca = Domain.from_frame(pd.DataFrame({"price": [2.0, 3.0], "bought": [1, 0]}),
...                        label="bought", name="ca")
>>> featurizer = Featurizer().fit(us, ca)
>>> featurizer.transform(featurizer.rows_to_domain(pd.DataFrame({"price": [2.5]}))).X.shape
(1, 1)
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from transferkit.domain import Domain
from transferkit.exceptions import DomainMismatchError, TransferWarning
from transferkit.harmonize import Harmonizer

__all__ = ["Featurizer", "Rows"]

Rows = Domain | pd.DataFrame | np.ndarray | str | os.PathLike
Side = Literal["source", "target"]


class Featurizer(BaseEstimator):
    """Fitted map from two markets' raw rows to one numeric feature space.

    Parameters
    ----------
    encoder : str, optional
        Backbone (``transferkit.backbones``) for text or image markets, e.g.
        ``"use_multilingual"``. Required for them, refused for tables.
    harmonize : mapping or False, optional
        ``Harmonizer`` parameters for tables (renames, currencies, missing columns...).
        ``fit_on`` defaults to ``"both"``: unlabelled target rows are known at fit time.
        ``False``: numeric features are used as they are (names and order checked) —
        for models that standardise their own inputs, such as adapted meta-learners.
    cache_dir : path, optional
        Feature cache of the encoder.

    Attributes
    ----------
    modality_ : str
        ``"tabular"``, ``"tensor"`` (numbers used as they are), ``"text"`` or ``"image"``.
    harmonizer_ : Harmonizer or None
    schemas_ : dict
        ``{"source": Schema, "target": Schema}`` of the raw rows at fit time.
    metadata_ : dict
        ``{"source": Metadata, "target": Metadata}``.
    """

    def __init__(self, *, encoder: str | None = None,
                 harmonize: Mapping[str, Any] | Literal[False] | None = None,
                 cache_dir: str | os.PathLike[str] | None = None) -> None:
        self.encoder = encoder
        self.harmonize = harmonize
        self.cache_dir = cache_dir

    def fit(self, source: Domain, target: Domain) -> Featurizer:
        """Learn the shared feature space of the two markets."""
        for side, domain in (("source", source), ("target", target)):
            if not isinstance(domain, Domain):
                raise TypeError(f"Featurizer.fit expects Domains; the {side} is "
                                f"{type(domain).__name__}.")
        modalities = {source.modality, target.modality}
        if len(modalities) > 1:
            raise DomainMismatchError(
                f"Source {source.name!r} holds {source.modality} data but target "
                f"{target.name!r} holds {target.modality}; both markets need the same kind."
            )
        self.modality_ = source.modality
        self.schemas_ = {"source": source.schema, "target": target.schema}
        self.metadata_ = {"source": source.metadata, "target": target.metadata}
        self.task_ = source.task
        self.harmonizer_ = None
        if self.modality_ in ("text", "image", "mixed"):
            if self.encoder is None:
                raise ValueError(
                    f"The markets hold {self.modality_} data; name a backbone to encode them, "
                    "e.g. encoder='use_multilingual' (see transferkit.backbones)."
                )
            if self.harmonize:
                raise ValueError("harmonize options apply to tables; the markets hold "
                                 f"{self.modality_} data, encoded by {self.encoder!r}.")
        elif self.encoder is not None:
            raise ValueError(
                f"encoder={self.encoder!r} was given but the markets hold {self.modality_} "
                "data, not text or images; drop the encoder."
            )
        elif self.harmonize is False:
            self._check_numeric(source)
            self._check_numeric(target)
        elif self.modality_ == "tabular":
            options = {"fit_on": "both", **dict(self.harmonize or {})}
            self.harmonizer_ = Harmonizer(**options).fit(source, target)
        return self

    def _check_numeric(self, domain: Domain) -> None:
        """Passthrough needs the fit-time numeric features, by name and in order."""
        expected = list(self.schemas_["source"].features)
        if domain.schema.categorical or list(domain.schema.features) != expected:
            raise DomainMismatchError(
                f"Domain {domain.name!r} has features {list(domain.schema.features)[:8]}; "
                f"with harmonize=False the model reads the numeric features {expected[:8]} "
                "as they are, in that order."
            )

    def transform(self, domain: Domain, *, side: Side = "target") -> Domain:
        """The numeric Domain a method takes, for ``domain``'s rows."""
        check_is_fitted(self, "modality_")
        if not isinstance(domain, Domain):
            raise TypeError(f"Featurizer.transform expects a Domain; got "
                            f"{type(domain).__name__}. Use rows_to_domain for raw rows.")
        if self.harmonizer_ is not None:
            if side == "target":
                self.harmonizer_.unseen_categories(domain)
            return self.harmonizer_.transform(domain, side=side)
        if self.encoder is not None:
            from transferkit.backbones import encode

            return encode(domain, self.encoder, cache_dir=self.cache_dir)
        if self.harmonize is False:
            self._check_numeric(domain)
        return domain

    def rows_to_domain(self, rows: Rows, *, side: Side = "target") -> Domain:
        """A Domain of raw ``rows`` built with the fit-time schema of that market.

        Raises
        ------
        DomainMismatchError
            A column the model needs is missing (named).
        ValueError
            Empty rows, junk in a numeric column (named, with examples).
        """
        check_is_fitted(self, "modality_")
        if isinstance(rows, Domain):
            return rows
        if isinstance(rows, str | os.PathLike):
            from transferkit._io import read_table

            rows = read_table(Path(rows))
        schema, metadata = self.schemas_[side], self.metadata_[side]
        if isinstance(rows, np.ndarray):
            rows = self._frame_of_array(rows, schema)
        if not isinstance(rows, pd.DataFrame):
            raise TypeError(
                "Rows to predict must be a Domain, a pandas DataFrame, a numeric array (for "
                "all-numeric markets) or a CSV / Parquet / Excel path; got "
                f"{type(rows).__name__}."
            )
        if self.modality_ == "tensor":
            raise TypeError("This model was fitted on tensor Domains; pass a Domain built "
                            "with Domain.from_arrays.")
        needed = self._needed_columns(side)
        missing = [c for c in needed if c not in rows.columns]
        if missing:
            raise DomainMismatchError(
                f"The rows lack columns {missing} that the model was fitted with (it uses "
                f"{needed}); add them, under the same names as the {side} market's data."
            )
        known = set(schema.columns)
        extra = [str(c) for c in rows.columns if c not in known]
        if extra:
            warnings.warn(
                f"Ignoring columns {extra[:10]}{' ...' if len(extra) > 10 else ''}: the model "
                "was not fitted with them.", TransferWarning, stacklevel=2)
        present = [c for c in schema.features if c in rows.columns]
        optional = {role: getattr(schema, role) if getattr(schema, role) in rows.columns
                    else None for role in ("id", "time", "weight")}
        label = schema.label if schema.label in rows.columns else None
        return Domain.from_frame(
            rows, label=label,
            numeric=[c for c in schema.numeric if c in present],
            categorical=[c for c in schema.categorical if c in present],
            text=[c for c in schema.text if c in present],
            image=[c for c in schema.image if c in present],
            exclude=[c for c in rows.columns if c not in known],
            name=metadata.name, country=metadata.country, language=metadata.language,
            currency=metadata.currency, extra=dict(metadata.extra), task=self.task_,
            allow_unlabeled=True, **{k: v for k, v in optional.items()},
        )

    @staticmethod
    def _frame_of_array(rows: np.ndarray, schema: Any) -> pd.DataFrame:
        """A numeric array as a frame with the fit-time feature names, in their order."""
        features = list(schema.features)
        if schema.categorical or schema.text or schema.image:
            raise TypeError(
                "An array of rows only fits markets whose features are all numeric; this "
                f"one has non-numeric features. Pass a DataFrame with columns {features}."
            )
        if rows.ndim != 2 or rows.shape[1] != len(features):
            raise DomainMismatchError(
                f"The array of rows has shape {rows.shape}; the model reads {len(features)} "
                f"numeric features ({features[:8]}), one row per example."
            )
        return pd.DataFrame(rows, columns=features)

    def _needed_columns(self, side: Side) -> list[str]:
        """Raw column names of ``side`` that the fitted feature space reads."""
        schema = self.schemas_[side]
        if self.harmonizer_ is None:
            return list(schema.features)
        options = self.harmonizer_
        renames = dict((options.target_columns if side == "target"
                        else options.source_columns) or {})
        raw_of = {renames.get(c, c): c for c in schema.features}
        imputed = options.missing_columns == "impute"
        needed = []
        for column in options.features_in_:
            if column in raw_of:
                needed.append(raw_of[column])
            elif not imputed:
                needed.append(column)
        return needed

    @property
    def description(self) -> dict[str, Any]:
        """What the featurizer does, for model cards: modality, encoder, harmonisation."""
        check_is_fitted(self, "modality_")
        facts: dict[str, Any] = {"modality": self.modality_, "encoder": self.encoder}
        if self.harmonizer_ is not None:
            h = self.harmonizer_
            facts.update({
                "features_in": list(h.features_in_),
                "features_out": len(h.feature_names_out_),
                "renames": {"source": dict(h.source_columns or {}),
                            "target": dict(h.target_columns or {})},
                "dropped_columns": dict(h.dropped_columns_),
                "missing_columns": h.missing_columns,
                "exchange_rates": dict(h.exchange_rates or {}),
                "money_columns": list(h.money_columns),
                "base_currency": h.base_currency_,
                "unseen_categories": dict(h.unseen_categories_),
            })
        return facts
