"""``transferkit list methods|validators|datasets|recipes``."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "list_things"]

_KINDS: tuple[str, ...] = ("methods", "validators", "datasets", "recipes")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "list", help="list registered methods, validators, data sets or bundled recipes",
        description="What a recipe may name: methods (by family), validators, data sets and "
        "the recipes bundled with the package.")
    parser.add_argument("kind", choices=_KINDS)
    parser.set_defaults(handler=list_things)
    return parser


def list_things(args: argparse.Namespace) -> int:
    if args.kind == "methods":
        from transferkit.pipeline import describe_methods

        rows = describe_methods()
        width = max(len(r["name"]) for r in rows)
        for row in sorted(rows, key=lambda r: (r["family"], r["name"])):
            labels = "uses target labels" if row["uses_target_labels"] else "no target labels"
            print(f"{row['name']:<{width}}  {row['family']:<9} {labels:<18}  {row['summary']}")
    elif args.kind == "validators":
        from transferkit.detect import VALIDATORS

        for name, cls in VALIDATORS.items():
            print(f"{name:<11} {(cls.__doc__ or '').strip().splitlines()[0]}")
    elif args.kind == "datasets":
        from transferkit.datasets import DATASETS

        for name, info in DATASETS.items():
            print(f"{name:<22} {info.summary}")
    else:
        from transferkit.recipes import bundled_recipes, load_recipe

        library = bundled_recipes()
        width = max(map(len, library))
        for name, path in library.items():
            recipe = load_recipe(path)
            print(f"{name:<{width}}  {recipe.source.describe()} -> {recipe.target.describe()}")
    return 0
