"""``transferkit datasets``: which real data sets are present, where the others belong.

Lists every registered data set (``transferkit.datasets.DATASETS``) with its markets or
domains and their sizes, whether its files were found, and the path where they are
expected, so a user can tell at once what to copy where.
"""

from __future__ import annotations

import argparse
import json

from transferkit.datasets import DATA_DIR_ENV, data_dir, describe_datasets

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "datasets",
        help="list the real data sets, whether each is found and where it is expected",
        description="List every data set transferkit can load by name: its markets or "
        "domains with their sizes, whether its files are present and where they are "
        f"expected (under --root, else ${DATA_DIR_ENV}, else ../shared/data).",
    )
    parser.add_argument("--root", default=None,
                        help="folder holding the shared data sets (default: %(default)s → "
                        f"${DATA_DIR_ENV} or ../shared/data)")
    parser.add_argument("--json", action="store_true",
                        help="print the listing as JSON instead of text")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    table = describe_datasets(args.root)
    if args.json:
        print(json.dumps(table.reset_index().to_dict(orient="records"), indent=2))
        return 0
    print(f"data folder: {data_dir(args.root).resolve()}")
    for name, row in table.iterrows():
        status = "found" if row["available"] else "MISSING"
        print(f"\n{name} [{status}] {row['modality']}, {row['task']}")
        print(f"  {row['summary']}")
        print(f"  domains:  {row['domains']}")
        print(f"  location: {row['location']}")
        print(f"  license:  {row['license']}")
    found = int(table["available"].sum())
    print(f"\n{found} of {len(table)} data sets found.")
    return 0
