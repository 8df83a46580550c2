"""Recipe files: one YAML per market pair, mapped one-to-one onto frozen dataclasses.

An unknown key, a value of the wrong type, an unknown method, validator, data set or
market is an error naming the key, the file and its line (with "did you mean"), raised
when the recipe loads, before any data do — so a typo never silently drops a setting and
never fails after a long run. Recipes shipped with the package are found by name
(``find_recipe("stackoverflow_us_to_canada")``).

Examples
--------
>>> recipe = Recipe.from_dict({
...     "name": "us_to_canada",
...     "source": {"dataset": "stackoverflow", "market": "United States"},
...     "target": {"dataset": "stackoverflow", "market": "Canada"},
... })
>>> recipe.methods is None, recipe.selection   # default candidates, chosen for the task
(True, 'auto')
"""

from __future__ import annotations

import difflib
import os
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from transferkit._catalog import METHOD_NAMES, VALIDATOR_NAMES
from transferkit.exceptions import RecipeError

__all__ = [
    "DataSpec",
    "GuardSpec",
    "Recipe",
    "SplitSpec",
    "bundled_recipes",
    "check_names",
    "find_recipe",
    "load_recipe",
]

LIBRARY = Path(__file__).resolve().parent / "library"
Lines = Mapping[tuple[str, ...], int]


def _at(lines: Lines | None, path: tuple[str, ...]) -> str:
    """`` (line N)`` for the deepest part of ``path`` whose line is known."""
    while lines and path:
        if path in lines:
            return f" (line {lines[path]})"
        path = path[:-1]
    return ""


def _hint(value: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _build(cls: type, values: Any, where: str, lines: Lines | None = None,
           path: tuple[str, ...] = ()) -> Any:
    """``cls(**values)`` with errors that name the offending key, where and on which line."""
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise RecipeError(f"{where}{_at(lines, path)} must be a mapping of settings; got "
                          f"{values!r}.")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known, key=str)
    if unknown:
        key = unknown[0]
        raise RecipeError(
            f"{where}{_at(lines, (*path, str(key)))}: unknown key(s) {unknown};"
            f"{_hint(key, known)} Allowed keys are {sorted(known)}."
        )
    for item in fields(cls):
        if item.name in values:
            _check_type(item.name, values[item.name], item.type, where, lines, path)
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"{where}{_at(lines, path)}: {exc}") from exc


_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
    "Mapping": (Mapping,), "tuple": (list, tuple),
}


def _check_type(key: str, value: Any, annotation: Any, where: str, lines: Lines | None,
                path: tuple[str, ...]) -> None:
    """Refuse a value whose YAML type does not match the field (``gap: "false"``)."""
    parts = [part.strip() for part in str(annotation).split("|")]
    if parts[0].startswith("Literal") or (value is None and "None" in parts):
        return  # Literal choices are checked in __post_init__
    allowed = [t for part in parts for t in _TYPES.get(part.split("[")[0], ())]
    if not allowed:
        return  # nested sections are built by their own _build
    if (isinstance(value, bool) and bool not in allowed) or not isinstance(value, tuple(allowed)):
        wanted = {"tuple": "a list", "Mapping": "a mapping", "str": "a string",
                  "int": "an integer", "float": "a number", "bool": "true or false"}
        expected = " or ".join(wanted.get(p.split("[")[0], p) for p in parts)
        example = " (e.g. [discriminative, kmm])" if key == "methods" else ""
        raise RecipeError(
            f"{where}{_at(lines, (*path, key))}: {key!r} must be {expected}{example}; got "
            f"{value!r} ({type(value).__name__})."
        )


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
    methods : tuple of str, optional
        Candidate methods, names from ``transferkit list methods``. None: a default set
        for the task and for whether the target has labelled training rows (few-label
        methods whenever it has; ``recipes.steps.default_methods``).
    method_params : mapping
        ``{method: {parameter: value}}``; neural methods also take ``epochs``, ``lr``, ...
        (``TrainConfig`` fields) under ``train``.
    model : {"logistic", "gbm"}
        The scikit-learn model of the baselines, reweighting and few-label methods.
    selection : str, default="auto"
        How the served candidate is chosen: ``"cv"`` (repeated cross-validation inside the
        labelled target training rows), a validator name (label-free), or ``"auto"``: CV
        when there are at least ``steps.MIN_CV_LABELS`` labelled target training rows,
        else ``validator``. The report says which was used and why.
    validator : str, default="domain_auc"
        The label-free validator ``auto`` falls back to (``transferkit.detect``); the
        default is the one closest to the oracle over 24 real pairs (RESULTS.md).
    budget : bool, default=False
        Also compute the label-budget curve (held-out score against K target labels).
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
    methods: tuple[str, ...] | None = None
    method_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    model: Literal["logistic", "gbm"] = "logistic"
    selection: str = "auto"
    validator: str = "domain_auc"
    budget: bool = False
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
        if self.model not in ("logistic", "gbm"):
            raise ValueError(f"'model' must be 'logistic' or 'gbm'; got {self.model!r}.")
        if self.methods is not None:
            object.__setattr__(self, "methods", tuple(self.methods))
            if not self.methods:
                raise ValueError("'methods' must list at least one candidate method, or be "
                                 "left out for the default set.")
            if not all(isinstance(m, str) for m in self.methods):
                raise ValueError(f"'methods' must be a list of method names; got "
                                 f"{self.methods!r}.")
            unused = sorted(set(self.method_params) - set(self.methods))
            if unused:
                raise ValueError(f"'method_params' configures {unused}, which are not in "
                                 "'methods'.")
        fields_used = {name for _, name, _, _ in string.Formatter().parse(self.out_dir)
                       if name is not None}
        if fields_used - {"name"}:
            raise ValueError(
                f"'out_dir' may use the placeholder {{name}} only; got {self.out_dir!r} with "
                f"{sorted(fields_used - {'name'})}."
            )

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir.format(name=self.name))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], *, where: str = "recipe",
                  lines: Lines | None = None) -> Recipe:
        """Build from a parsed YAML mapping; errors name the key, ``where`` and the line."""
        if not isinstance(values, Mapping):
            raise RecipeError(f"{where} must be a YAML mapping; got {type(values).__name__}.")
        values = dict(values)
        for key, spec in (("source", DataSpec), ("target", DataSpec)):
            if key not in values:
                raise RecipeError(f"{where}: the '{key}' section is required.")
            values[key] = _build(spec, values[key], f"{where}, section '{key}'", lines, (key,))
        for key, spec in (("split", SplitSpec), ("guard", GuardSpec)):
            if key in values:
                values[key] = _build(spec, values[key], f"{where}, section '{key}'", lines,
                                     (key,))
        return _build(cls, values, where, lines)


def bundled_recipes() -> dict[str, Path]:
    """Recipes shipped inside the package, by name.

    Examples
    --------
    >>> "stackoverflow_us_to_canada" in bundled_recipes()
    True
    """
    return {p.stem: p for p in sorted(LIBRARY.glob("*.yaml"))}


def find_recipe(name_or_path: str | os.PathLike[str]) -> Path:
    """The recipe file for a path, or for the name of a bundled recipe."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    library = bundled_recipes()
    if str(name_or_path) in library:
        return library[str(name_or_path)]
    if path.suffix in (".yaml", ".yml") or os.sep in str(name_or_path):
        raise RecipeError(f"Recipe file {str(path)!r} does not exist.")
    raise RecipeError(
        f"No recipe file {str(name_or_path)!r} and no bundled recipe of that name."
        f"{_hint(str(name_or_path), library)} Bundled: {', '.join(library)}."
    )


def _yaml_lines(node: yaml.Node, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], int]:
    """1-based line of every mapping key in a composed YAML document."""
    lines: dict[tuple[str, ...], int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            here = (*path, str(key.value))
            lines[here] = key.start_mark.line + 1
            lines.update(_yaml_lines(value, here))
    return lines


def check_names(recipe: Recipe, *, where: str = "recipe", lines: Lines | None = None) -> None:
    """Methods, validator, data sets and markets exist — checked without loading data."""
    for position, name in enumerate(recipe.methods or ()):
        if name not in METHOD_NAMES:
            raise RecipeError(
                f"{where}{_at(lines, ('methods',))}: unknown method {name!r} (item "
                f"{position + 1} of 'methods').{_hint(name, METHOD_NAMES)} Available: "
                f"{', '.join(METHOD_NAMES)}."
            )
    for name in recipe.method_params:
        if name not in METHOD_NAMES:
            raise RecipeError(
                f"{where}{_at(lines, ('method_params', name))}: 'method_params' configures "
                f"unknown method {name!r}.{_hint(name, METHOD_NAMES)}"
            )
    if recipe.selection not in ("auto", "cv", *VALIDATOR_NAMES):
        raise RecipeError(
            f"{where}{_at(lines, ('selection',))}: 'selection' must be auto, cv or a "
            f"validator ({', '.join(VALIDATOR_NAMES)}); got {recipe.selection!r}."
            f"{_hint(recipe.selection, ('auto', 'cv', *VALIDATOR_NAMES))}"
        )
    if recipe.validator not in VALIDATOR_NAMES:
        raise RecipeError(
            f"{where}{_at(lines, ('validator',))}: unknown validator {recipe.validator!r}."
            f"{_hint(recipe.validator, VALIDATOR_NAMES)} Available: "
            f"{', '.join(VALIDATOR_NAMES)}."
        )
    from transferkit.datasets import DATASETS

    for side in ("source", "target"):
        spec: DataSpec = getattr(recipe, side)
        if spec.dataset is None:
            continue
        if spec.dataset not in DATASETS:
            raise RecipeError(
                f"{where}{_at(lines, (side, 'dataset'))}: unknown data set {spec.dataset!r}."
                f"{_hint(spec.dataset, DATASETS.names())} Available: "
                f"{', '.join(DATASETS.names())}."
            )
        markets = DATASETS.get(spec.dataset).domains
        if not spec.options and markets and spec.market not in markets:
            raise RecipeError(
                f"{where}{_at(lines, (side, 'market'))}: data set {spec.dataset!r} has no "
                f"market {spec.market!r}.{_hint(str(spec.market), markets)} Its markets: "
                f"{', '.join(markets)}."
            )


def load_recipe(path: str | os.PathLike[str]) -> Recipe:
    """Read and validate a recipe YAML file (a path, or the name of a bundled recipe).

    Relative data paths inside it are resolved against the recipe's folder. Every check
    that needs no data runs here: keys, types, methods, validator, data sets, markets.
    """
    path = find_recipe(path)
    try:
        text = path.read_text(encoding="utf-8")
        values = yaml.safe_load(text)
        lines = _yaml_lines(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise RecipeError(f"{path}: not valid YAML ({exc}).") from exc
    except UnicodeDecodeError:
        raise RecipeError(f"{path}: not a text file (it is not UTF-8).") from None
    recipe = Recipe.from_dict(values, where=str(path), lines=lines)
    check_names(recipe, where=str(path), lines=lines)
    resolved = {}
    for side in ("source", "target"):
        spec: DataSpec = getattr(recipe, side)
        if spec.path is not None and not Path(spec.path).is_absolute():
            resolved[side] = replace(spec, path=str(path.parent / spec.path))
    return replace(recipe, **resolved)
