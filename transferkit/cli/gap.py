"""``transferkit gap``: a domain-gap report between two markets.

``transferkit gap --source us.csv --target jp.parquet --label bought --out report.html``
or, with a bundled data set, ``--source "stackoverflow:United States" --target
stackoverflow:Germany``. Prints the summary and the most shifted features; writes HTML,
JSON or Markdown by the extension of ``--out``.

The harmonizer's options come from flags (``--rename Preis=price``, ``--money price
--rate USD=1 --rate JPY=0.0067 --source-currency USD --target-currency JPY``, ``--unit
weight=0.4536``, ``--missing-columns impute``) or from a recipe's ``harmonize:`` section
(``--recipe my_recipe.yaml``; flags override it).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from transferkit._io import TABLE_FORMATS, read_table
from transferkit._validation import check_known_columns
from transferkit.domain import Domain

__all__ = ["add_parser", "harmonize_options", "load_market", "run"]

_WRITERS = {".html": "to_html", ".htm": "to_html", ".json": "to_json", ".md": "to_markdown"}


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "gap",
        help="domain-gap report: how far the target market is from the source",
        description="Compare two markets feature by feature (KS / chi-squared tests with "
        "Benjamini-Hochberg correction, effect sizes), as a whole (domain classifier AUC, "
        "MMD) and by label mix (priors, BBSE); write an HTML/JSON/Markdown report.",
    )
    parser.add_argument("--source", required=True,
                        help="CSV/Parquet/Excel file, or DATASET:MARKET such as "
                        "'stackoverflow:United States'")
    parser.add_argument("--target", required=True, help="same forms as --source")
    parser.add_argument("--label", default=None,
                        help="label column (files: analysed for label shift, not as a feature)")
    parser.add_argument("--exclude", nargs="*", default=[],
                        help="columns to leave out (ids, timestamps); each must exist in "
                        "at least one market")
    parser.add_argument("--out", default=None,
                        help="report file: .html, .json or .md (default: print only)")
    parser.add_argument("--encoder", default=None,
                        help="backbone name for text/image markets (transferkit.backbones)")
    parser.add_argument("--tests", nargs="*", default=["classifier", "mmd"],
                        help="whole-domain tests (default: classifier mmd)")
    parser.add_argument("--alpha", type=float, default=0.05, help="false-discovery rate")
    parser.add_argument("--max-samples", type=int, default=5000,
                        help="rows per market for the whole-domain tests")
    parser.add_argument("--top", type=int, default=10, help="features printed")
    parser.add_argument("--seed", type=int, default=0)
    units = parser.add_argument_group(
        "harmonising", "compare the markets after renames and unit/currency conversion "
        "(the Harmonizer's options; a recipe's harmonize: section with --recipe)")
    units.add_argument("--recipe", default=None,
                       help="recipe YAML whose harmonize: section (and source/target "
                       "currencies) to use")
    units.add_argument("--rename", nargs="*", default=[], metavar="TARGET=SOURCE",
                       help="rename target columns to the source's names")
    units.add_argument("--source-rename", nargs="*", default=[], metavar="OLD=NEW",
                       help="rename source columns")
    units.add_argument("--money", nargs="*", default=[], metavar="COLUMN",
                       help="columns holding amounts in each market's currency")
    units.add_argument("--rate", nargs="*", default=[], metavar="CURRENCY=VALUE",
                       help="value of one unit of each currency in a common reference")
    units.add_argument("--source-currency", default=None)
    units.add_argument("--target-currency", default=None)
    units.add_argument("--base-currency", default=None,
                       help="currency amounts are shown in (default: the source's)")
    units.add_argument("--unit", nargs="*", default=[], metavar="COLUMN=FACTOR",
                       help="a target value times FACTOR is in the source's unit")
    units.add_argument("--missing-columns", choices=["drop", "impute", "error"], default=None,
                       help="columns in one market only (default: drop)")
    units.add_argument("--view", choices=["original", "harmonized"], default="original",
                       help="original: the users' units; harmonized: the methods' features")
    parser.add_argument("--include-ids-and-dates", action="store_true",
                        help="test ID-like and date columns too (default: set aside)")
    parser.set_defaults(handler=run)
    return parser


def _pairs(values: list[str], flag: str, *, number: bool) -> dict[str, Any]:
    """``["a=b", ...]`` as a dict (values as floats with ``number``)."""
    out: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise ValueError(f"{flag} {item!r}: expected KEY=VALUE, e.g. {flag} "
                             f"{'EUR=1.08' if number else 'Preis=price'}.")
        if number:
            try:
                out[key] = float(value)
            except ValueError:
                raise ValueError(f"{flag} {item!r}: {value!r} is not a number.") from None
        else:
            out[key] = value
    return out


def harmonize_options(args: argparse.Namespace) -> tuple[dict[str, Any] | None,
                                                          dict[str, str | None]]:
    """The Harmonizer options and the markets' currencies from a recipe and flags.

    Returns ``(options or None, {"source": currency, "target": currency})``.
    """
    options: dict[str, Any] = {}
    currencies: dict[str, str | None] = {"source": None, "target": None}
    if args.recipe is not None:
        from transferkit.recipes import load_recipe

        recipe = load_recipe(args.recipe)
        options.update({k: dict(v) if hasattr(v, "items") else v
                        for k, v in dict(recipe.harmonize).items()})
        for side in ("source", "target"):
            currencies[side] = dict(getattr(recipe, side).schema).get("currency")
    flags = {
        "target_columns": _pairs(args.rename, "--rename", number=False),
        "source_columns": _pairs(args.source_rename, "--source-rename", number=False),
        "money_columns": list(args.money),
        "exchange_rates": _pairs(args.rate, "--rate", number=True),
        "unit_factors": _pairs(args.unit, "--unit", number=True),
        "base_currency": args.base_currency, "missing_columns": args.missing_columns,
    }
    options.update({k: v for k, v in flags.items() if v})
    currencies = {"source": args.source_currency or currencies["source"],
                  "target": args.target_currency or currencies["target"]}
    return (options or None), currencies


def _with_currency(domain: Domain, currency: str | None) -> Domain:
    if currency is None or domain.metadata.currency == currency:
        return domain
    return Domain(domain.frame, domain.schema,
                  metadata=dataclasses.replace(domain.metadata, currency=currency),
                  task=domain.task)


def load_market(spec: str, *, label: str | None = None, exclude: list[str] | None = None,
                name: str | None = None) -> Domain:
    """A Domain from a table file path or a ``dataset:market`` name.

    Every column in ``exclude`` must exist (an unknown one is an error with a
    did-you-mean); files go through ``transferkit._io.read_table``, so a missing, empty,
    binary or corrupt file, or a duplicated header, is refused naming the file.

    Examples
    --------
    >>> load_market("stackoverflow:Germany").n_samples
    757
    """
    market = _read_market(spec)
    check_known_columns(list(exclude or ()), _columns(market), f"--exclude for {spec!r}")
    return _as_domain(market, spec, label=label, exclude=list(exclude or ()), name=name)


def _read_market(spec: str) -> pd.DataFrame | Domain:
    """The raw table of a file, or the bundled market's Domain."""
    path = Path(spec)
    if path.suffix.lower() in TABLE_FORMATS and (path.exists() or ":" not in spec):
        if not path.exists():
            raise FileNotFoundError(f"No such file {spec!r}; give a CSV/Parquet/Excel path or "
                                    "DATASET:MARKET (e.g. stackoverflow:Germany).")
        return read_table(path)
    if ":" not in spec:
        raise ValueError(
            f"{spec!r} is neither a table file (.csv, .tsv, .parquet, .xlsx) nor DATASET:MARKET "
            "such as 'stackoverflow:Germany'."
        )
    from transferkit.datasets.catalog import load_dataset

    dataset, market = spec.split(":", 1)
    markets = load_dataset(dataset)
    if market not in markets:
        raise ValueError(f"Data set {dataset!r} has no market {market!r}; it has "
                         f"{sorted(markets)}.")
    return markets[market]


def _columns(market: pd.DataFrame | Domain) -> list[str]:
    return list(market.columns) if isinstance(market, pd.DataFrame) else list(
        market.schema.columns)


def _as_domain(market: pd.DataFrame | Domain, spec: str, *, label: str | None,
               exclude: list[str], name: str | None) -> Domain:
    present = [c for c in exclude if c in _columns(market)]
    if isinstance(market, pd.DataFrame):
        return Domain.from_frame(market, label=label, exclude=present,
                                 name=name or Path(spec).stem, allow_unlabeled=True)
    if not present:
        return market
    schema = market.schema
    roles = [c for c in present if c not in schema.features]
    if roles:
        raise ValueError(f"--exclude {roles} would remove the {schema.role_of(roles[0])} "
                         f"column of {spec!r}; exclude only feature columns.")
    keep = schema.drop(present)
    meta = market.metadata
    return Domain.from_frame(
        market.frame.drop(columns=present), label=schema.label, numeric=keep.numeric,
        categorical=keep.categorical, text=keep.text, image=keep.image, id=schema.id,
        time=schema.time, weight=schema.weight, name=meta.name, country=meta.country,
        language=meta.language, currency=meta.currency, extra=meta.extra, task=market.task,
        allow_unlabeled=True,
    )


def run(args: argparse.Namespace) -> int:
    def progress(message: str) -> None:
        print(f"[gap] {message} ...", file=sys.stderr, flush=True)

    out_kind = None
    if args.out is not None:
        out_kind = _WRITERS.get(Path(args.out).suffix.lower())
        if out_kind is None:
            raise ValueError(f"--out {args.out!r}: use a .html, .json or .md file name.")
    progress("loading markets")
    names = [Path(spec).stem for spec in (args.source, args.target)]
    if names[0] == names[1]:
        names = [os.path.join(Path(spec).parent.name, Path(spec).stem)
                 for spec in (args.source, args.target)]
    markets = [_read_market(spec) for spec in (args.source, args.target)]
    # A column may exist in one market only, but each must exist somewhere.
    check_known_columns(args.exclude, [c for m in markets for c in _columns(m)], "--exclude")
    source, target = (
        _as_domain(market, spec, label=args.label, exclude=args.exclude, name=name)
        for market, spec, name in zip(markets, (args.source, args.target), names, strict=True))
    from transferkit.gap import gap_report

    options, currencies = harmonize_options(args)
    source = _with_currency(source, currencies["source"])
    target = _with_currency(target, currencies["target"])
    label = args.label if args.label not in (None, source.schema.label) else None
    report = gap_report(
        source, target, label=label, encoder=args.encoder, tests=tuple(args.tests),
        alpha=args.alpha, max_samples=args.max_samples, random_state=args.seed,
        progress=progress, harmonize=options, view=args.view,
        include_ids_and_dates=args.include_ids_and_dates,
    )
    print(report.summary())
    print()
    columns = ["severity", "effect", "pvalue_adjusted", "wasserstein", "psi", "note"]
    shown = report.features.loc[:, [c for c in columns if c in report.features.columns]]
    with pd.option_context("display.width", 140, "display.max_colwidth", 40):
        print(shown.head(args.top).round(4).to_string())
    if args.out is not None:
        getattr(report, out_kind)(args.out)
        print(f"\nwrote {os.fspath(args.out)}", file=sys.stderr)
    return 0
