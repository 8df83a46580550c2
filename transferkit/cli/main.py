"""Entry point of the ``transferkit`` command.

Each command lives in its own module under ``transferkit.cli`` with ``add_parser(subparsers)``
(which sets ``handler``) and is listed once in ``COMMANDS`` below. Command modules import
their heavy dependencies inside the handler, so ``--help`` answers at once.

Examples
--------
>>> sorted(COMMANDS)[:3]
['baseline', 'datasets', 'gap']
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from transferkit import TransferkitError, __version__

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: tuple[str, ...] = ("baseline", "datasets", "gap", "init", "list", "predict", "run",
                             "validate")
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="transferkit",
        description="Move a model from one market to another: measure the gap, transfer, "
        "prove the gain, and ship the model.",
    )
    parser.add_argument("--version", action="version", version=f"transferkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"transferkit.cli.{name}").add_parser(subparsers)
    return parser


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, file: Any = None, line: str | None = None) -> None:
    """Warnings on the terminal as ``warning: text``, without a library path and line."""
    print(f"warning: {message}", file=sys.stderr if file is None else file)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code.

    Errors print one line naming the problem and exit 2; Ctrl-C prints one line and exits
    130, leaving no temporary files (writes are atomic).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = warnings.showwarning
    warnings.showwarning = _one_line_warning
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print(f"transferkit {args.command}: interrupted; nothing half-written was left.",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except (TransferkitError, ValueError, OSError, KeyError, TypeError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"transferkit {args.command}: error: {message}", file=sys.stderr)
        return 2
    finally:
        warnings.showwarning = previous


if __name__ == "__main__":
    sys.exit(main())
