"""``transferkit run <recipe>``: run one market pair's transfer recipe into a run folder."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "run",
        help="run a transfer recipe (gap report, methods, guarded verdict, saved model)",
        description="Run a recipe: domain-gap report, candidate transfer methods, a choice, "
        "the negative-transfer check against source-only and target-only baselines, and a "
        "run folder with the served model (model/), report.html, report.md and "
        "result.json. An existing run folder is refused unless --overwrite is given.",
    )
    parser.add_argument("recipe", help="a bundled recipe name (transferkit list recipes) or "
                        "a path to a recipe YAML file")
    parser.add_argument("--out", default=None, help="run folder (default: the recipe's out_dir)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing run folder (swapped in at the end)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or step lines")
    parser.add_argument("--progress", action="store_true",
                        help="progress bars even when the output is not a terminal")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from transferkit.recipes import load_recipe, run_recipe

    recipe = load_recipe(args.recipe)

    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    progress: bool | str = False if args.quiet else (True if args.progress else "auto")
    result = run_recipe(recipe, out_dir=args.out, overwrite=args.overwrite, progress=progress,
                        log=log)
    print(result.summary())
    return 0
