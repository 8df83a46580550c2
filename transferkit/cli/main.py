"""Entry point of the ``transferkit`` command.

Each command lives in its own module under ``transferkit.cli`` with ``add_parser(subparsers)``
(which sets ``handler``) and is listed once in ``COMMANDS`` below.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from transferkit import TransferkitError, __version__

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: tuple[str, ...] = ("baseline", "datasets", "gap", "run")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="transferkit",
        description="Move a model from one market to another: measure the gap, transfer, "
        "and prove the gain.",
    )
    parser.add_argument("--version", action="version", version=f"transferkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"transferkit.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (TransferkitError, ValueError, FileNotFoundError, KeyError, TypeError) as exc:
        print(f"transferkit {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
