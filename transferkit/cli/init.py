"""``transferkit init --source a.csv --target b.csv --label y``: write a starter recipe."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_parser", "init"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "init", help="write a starter recipe for two market files",
        description="Write a recipe for two CSV/Parquet/Excel files: row ids and dates kept "
        "out of the features, renames and money columns proposed as comments to confirm.")
    parser.add_argument("--source", required=True, help="the source market's file")
    parser.add_argument("--target", required=True, help="the target market's file")
    parser.add_argument("--label", required=True, help="the label column in both files")
    parser.add_argument("--name", default=None, help="recipe name (default: from the files)")
    parser.add_argument("--out", default="recipe.yaml", help="recipe file to write")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing file")
    parser.set_defaults(handler=init)
    return parser


def init(args: argparse.Namespace) -> int:
    from transferkit._io import atomic_write_text
    from transferkit.recipes.starter import starter_recipe

    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise FileExistsError(f"{str(out)!r} already exists; pass --overwrite or --out "
                              "another file.")
    atomic_write_text(out, starter_recipe(args.source, args.target, args.label, name=args.name))
    print(f"wrote {out}; check it with: transferkit validate {out}", file=sys.stderr)
    return 0
