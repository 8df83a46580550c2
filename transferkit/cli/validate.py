"""``transferkit validate recipe.yaml``: check a recipe in about a second, loading no data."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "validate"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "validate",
        help="check a recipe (keys, types, methods, validators, markets) without running it",
        description="Check a recipe before any data load: unknown keys, values of the wrong "
        "type, unknown methods, validators, data sets and markets — each with the YAML line "
        "and a did-you-mean. 'transferkit run' runs the same checks first.",
    )
    parser.add_argument("recipe", help="a recipe YAML file or a bundled recipe name")
    parser.set_defaults(handler=validate)
    return parser


def validate(args: argparse.Namespace) -> int:
    from transferkit.recipes import find_recipe, load_recipe

    recipe = load_recipe(args.recipe)
    methods = ("default candidates for the task" if recipe.methods is None
               else f"{len(recipe.methods)} methods")
    print(f"{find_recipe(args.recipe)}: ok ({recipe.name}: {recipe.source.describe()} -> "
          f"{recipe.target.describe()}, {methods}, selection {recipe.selection})")
    return 0
