"""``transferkit run recipes/<name>.yaml``: run one market pair's transfer recipe."""

from __future__ import annotations

import argparse
import sys

from transferkit.recipes import load_recipe, run_recipe

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "run",
        help="run a transfer recipe (gap report, methods, guarded verdict, report)",
        description="Run a YAML recipe: domain-gap report, candidate transfer methods, an "
        "unsupervised choice, the negative-transfer check against source-only and "
        "target-only baselines, and an HTML/Markdown/JSON report in the run folder.",
    )
    parser.add_argument("recipe", help="path to a recipe YAML file (see recipes/)")
    parser.add_argument("--out", default=None, help="run folder (default: the recipe's out_dir)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or step lines")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    recipe = load_recipe(args.recipe)

    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    result = run_recipe(recipe, out_dir=args.out, progress=not args.quiet, log=log)
    print(result.summary())
    return 0
