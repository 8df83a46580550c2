"""Recipe files: one YAML per market pair, mapped one-to-one onto frozen dataclasses.

An unknown key is an error naming the key and the file, so a typo never silently drops a
setting.

Examples
--------
>>> recipe = Recipe.from_dict({
...     "name": "us_to_canada",
...     "source": {"dataset": "stackoverflow", "market": "United States"},
...     "target": {"dataset": "stackoverflow", "market": "Canada"},
... })
>>> recipe.methods
('source_only', 'discriminative', 'kmm', 'dann', 'deep_coral')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from transferkit.exceptions import RecipeError

__all__ = ["DataSpec", "GuardSpec", "Recipe", "SplitSpec", "load_recipe"]


def _build(cls: type, values: Any, where: str) -> Any:
    """``cls(**values)`` with errors that name the offending key and where it sits."""
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise RecipeError(f"{where} must be a mapping of settings; got {values!r}.")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise RecipeError(
            f"{where}: unknown key(s) {unknown}; allowed keys are {sorted(known)}."
        )
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"{where}: {exc}") from exc


@dataclass(frozen=True)
class DataSpec:
    """Where a market's data come from: a named data set + market, or a CSV/Parquet file.

    Parameters
    ----------
    dataset : str, optional
        A name in ``transferkit.datasets.DATASETS`` (``"stackoverflow"``).
    market : str, optional
        Which Domain of the data set (``"Canada"``).
    options : mapping
        Loader options (``{"label": "Remote"}``, ``{"root": "..."}``).
    path : str, optional
        A CSV or Parquet file instead of a named data set (relative to the recipe file).
    label : str, optional
        Label column of ``path``.
    schema : mapping
        Extra ``Domain.from_frame`` arguments for ``path`` (``categorical``, ``currency``...).
    max_rows : int, optional
        Use a seeded random subset of this many rows (quick runs).
    """

    dataset: str | None = None
    market: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None
    label: str | None = None
    schema: Mapping[str, Any] = field(default_factory=dict)
    max_rows: int | None = None

    def __post_init__(self) -> None:
        if (self.dataset is None) == (self.path is None):
            raise ValueError("give either 'dataset' (with 'market') or 'path', not both.")
        if self.dataset is not None and self.market is None:
            raise ValueError(f"'market' is required with dataset {self.dataset!r}.")
        if self.max_rows is not None and (int(self.max_rows) != self.max_rows
                                          or self.max_rows < 10):
            raise ValueError(f"'max_rows' must be an int >= 10; got {self.max_rows!r}.")

    def describe(self) -> str:
        return f"{self.dataset}:{self.market}" if self.dataset else str(self.path)


@dataclass(frozen=True)
class SplitSpec:
    """How the target market is divided, and how many of its labels training may use.

    Parameters
    ----------
    test_size : float, default=0.3
        Share of labelled target rows held out for the final verdict; no step sees them.
    target_labels : int, default=0
        Labelled target rows available for training (the target-only baseline and the
        label-aware steps); all other training rows are used unlabelled.
    source_validation : float, default=0.2
        Share of source rows held out for the unsupervised validators (IWCV, DEV).
    """

    test_size: float = 0.3
    target_labels: int = 0
    source_validation: float = 0.2

    def __post_init__(self) -> None:
        if not 0 < self.test_size < 1:
            raise ValueError(f"'test_size' must be in (0, 1); got {self.test_size!r}.")
        if not 0 < self.source_validation < 1:
            raise ValueError(
                f"'source_validation' must be in (0, 1); got {self.source_validation!r}."
            )
        if int(self.target_labels) != self.target_labels or self.target_labels < 0:
            raise ValueError(f"'target_labels' must be an int >= 0; got {self.target_labels!r}.")


@dataclass(frozen=True)
class GuardSpec:
    """The negative-transfer check run on the held-out target rows.

    Parameters
    ----------
    metric : str, optional
        Verdict metric (see ``transferkit.detect.compare``); default by task.
    confidence : float, default=0.95
    n_resamples : int, default=1000
    on_inconclusive : {"keep", "fallback"}, default="keep"
    on_negative : {"fallback", "error"}, default="fallback"
        Serve the best baseline (loudly), or stop the run with an error.
    """

    metric: str | None = None
    confidence: float = 0.95
    n_resamples: int = 1000
    on_inconclusive: Literal["keep", "fallback"] = "keep"
    on_negative: Literal["fallback", "error"] = "fallback"

    def __post_init__(self) -> None:
        if self.on_negative not in ("fallback", "error"):
            raise ValueError(
                f"'on_negative' must be 'fallback' or 'error'; got {self.on_negative!r}."
            )
        if self.on_inconclusive not in ("keep", "fallback"):
            raise ValueError(
                f"'on_inconclusive' must be 'keep' or 'fallback'; got {self.on_inconclusive!r}."
            )


@dataclass(frozen=True)
class Recipe:
    """One market pair's transfer pipeline.

    Parameters
    ----------
    name : str
    source, target : DataSpec
    description : str
    methods : tuple of str
        Candidate methods: ``source_only``, names in ``REWEIGHTERS`` (train ``model`` on
        reweighted source rows) and names in ``ALIGNERS`` (neural alignment).
    method_params : mapping
        ``{method: {parameter: value}}``; aligners also take ``epochs``, ``lr``, ...
        (``TrainConfig`` fields) under ``train``.
    model : {"logistic", "gbm"}
        The scikit-learn model of the baselines and reweighting methods.
    validator : str
        Unsupervised validator choosing among the candidates (``transferkit.detect``).
    harmonize : mapping
        ``Harmonizer`` parameters.
    encoder : str, optional
        Backbone (``transferkit.backbones``) that turns text or image markets into
        features first, e.g. ``use_multilingual`` or ``efficientnet_lite0``.
    split : SplitSpec
    guard : GuardSpec
    gap : bool
        Write the domain-gap report.
    out_dir : str
        Run folder (relative to the working directory); ``{name}`` is replaced.
    seed : int
    """

    name: str
    source: DataSpec
    target: DataSpec
    description: str = ""
    methods: tuple[str, ...] = ("source_only", "discriminative", "kmm", "dann", "deep_coral")
    method_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    model: Literal["logistic", "gbm"] = "logistic"
    validator: str = "dev"
    harmonize: Mapping[str, Any] = field(default_factory=dict)
    encoder: str | None = None
    split: SplitSpec = field(default_factory=SplitSpec)
    guard: GuardSpec = field(default_factory=GuardSpec)
    gap: bool = True
    out_dir: str = "runs/{name}"
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.name or not str(self.name).replace("_", "").replace("-", "").isalnum():
            raise ValueError(
                f"'name' must be letters, digits, '-' or '_' (it names the run folder); "
                f"got {self.name!r}."
            )
        object.__setattr__(self, "methods", tuple(self.methods))
        if not self.methods:
            raise ValueError("'methods' must list at least one candidate method.")
        if self.model not in ("logistic", "gbm"):
            raise ValueError(f"'model' must be 'logistic' or 'gbm'; got {self.model!r}.")
        unused = sorted(set(self.method_params) - set(self.methods))
        if unused:
            raise ValueError(f"'method_params' configures {unused}, which are not in 'methods'.")

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir.format(name=self.name))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], *, where: str = "recipe") -> Recipe:
        """Build from a parsed YAML mapping; errors name the key and ``where``."""
        if not isinstance(values, Mapping):
            raise RecipeError(f"{where} must be a YAML mapping; got {type(values).__name__}.")
        values = dict(values)
        for key, spec in (("source", DataSpec), ("target", DataSpec)):
            if key not in values:
                raise RecipeError(f"{where}: the '{key}' section is required.")
            values[key] = _build(spec, values[key], f"{where}, section '{key}'")
        if "split" in values:
            values["split"] = _build(SplitSpec, values["split"], f"{where}, section 'split'")
        if "guard" in values:
            values["guard"] = _build(GuardSpec, values["guard"], f"{where}, section 'guard'")
        return _build(cls, values, where)


def load_recipe(path: str | os.PathLike[str]) -> Recipe:
    """Read and validate a recipe YAML file.

    Relative data paths inside it are resolved against the recipe's folder.
    """
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"Recipe file {str(path)!r} does not exist.")
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RecipeError(f"{path}: not valid YAML ({exc}).") from exc
    recipe = Recipe.from_dict(values, where=str(path))
    resolved = {}
    for side in ("source", "target"):
        spec: DataSpec = getattr(recipe, side)
        if spec.path is not None and not Path(spec.path).is_absolute():
            resolved[side] = replace(spec, path=str(path.parent / spec.path))
    return replace(recipe, **resolved)
