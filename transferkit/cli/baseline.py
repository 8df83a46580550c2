"""``transferkit baseline``: source-only vs target-only scores on a real market pair.

Runs on the Stack Overflow survey markets that ship with the package, so it works on a
fresh machine: ``transferkit baseline --source "United States" --target Canada``.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "baseline",
        help="source-only vs target-only baseline on a bundled market pair",
        description="Load two real markets (Stack Overflow survey countries, bundled), "
        "harmonise them and score source-only, target-only and pooled models on held-out "
        "target rows with bootstrap confidence intervals.",
    )
    parser.add_argument("--source", default="United States",
                        help="a bundled Stack Overflow market (default: United States)")
    parser.add_argument("--target", default="Canada", help="another market (default: Canada)")
    parser.add_argument("--label", default="Remote",
                        choices=("Remote", "Salary", "CareerSatisfaction"))
    parser.add_argument("--model", default="logistic", choices=("logistic", "gbm"))
    parser.add_argument("--n-target-labels", type=int, default=None,
                        help="labelled target rows to train on (default: the whole train part)")
    parser.add_argument("--test-size", type=float, default=0.3)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the result to this JSON file")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from transferkit.baselines import compare_baselines
    from transferkit.datasets import STACKOVERFLOW_COUNTRIES, load_stackoverflow

    for flag, market in (("--source", args.source), ("--target", args.target)):
        if market not in STACKOVERFLOW_COUNTRIES:
            raise ValueError(f"{flag} {market!r} is not a bundled market; choose one of "
                             f"{', '.join(STACKOVERFLOW_COUNTRIES)}.")
    if args.source == args.target:
        raise ValueError("--source and --target must be different markets.")
    markets = load_stackoverflow([args.source, args.target], label=args.label)
    result = compare_baselines(
        markets[args.source], markets[args.target], model=args.model,
        n_target_labels=args.n_target_labels, test_size=args.test_size,
        n_resamples=args.resamples, seed=args.seed,
    )
    print(result.summary())
    print()
    metrics = [c for c in result.table.columns if not c.endswith(("_low", "_high"))]
    print(result.table[metrics].round(3).to_string())
    if args.json:
        result.to_json(args.json)
        print(f"\nwrote {args.json}", file=sys.stderr)
    return 0
