"""False-positive rate of the gap report's tests when nothing shifted.

(a) Real data: the Stack Overflow "United States" market split at random into two halves,
    ``--splits`` times; full ``gap_report`` (per-feature BH, domain classifier, MMD).
(b) Synthetic: 50 columns (40 numeric, 10 categorical) drawn from one distribution,
    ``--rows`` per side, per-feature tests only, ``--splits`` repetitions.

A split counts as a false alarm when any feature is flagged after Benjamini-Hochberg at
alpha = 0.05 (under the global null BH bounds this by alpha), or when a whole-domain test
has p <= 0.05.

Usage: python benchmarks/gap_fpr.py --splits 50 --rows 100000
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from transferkit import Domain, TransferWarning
from transferkit.datasets import load_stackoverflow
from transferkit.gap import gap_report

sys.path.insert(0, str(Path(__file__).parent))
from gap_scale import make_market  # noqa: E402


def real_splits(n_splits: int) -> None:
    us = load_stackoverflow(["United States"])["United States"]
    frame = us.frame.drop(columns=[us.schema.label])
    us = Domain.from_frame(frame, name="United States")
    any_feature, classifier, mmd, aucs = [], [], [], []
    started = time.perf_counter()
    for seed in range(n_splits):
        first, second = us.split(0.5, seed=seed)
        report = gap_report(first, second, importances=False, top_plots=0,
                            n_permutations=500, random_state=seed)
        any_feature.append(bool(report.features["shifted"].any()))
        classifier.append(report.domain_tests.loc["classifier", "pvalue"] <= 0.05)
        mmd.append(report.domain_tests.loc["mmd", "pvalue"] <= 0.05)
        aucs.append(report.domain_tests.loc["classifier", "statistic"])
    print(f"(a) Stack Overflow US, {n_splits} random half splits ({len(first)} vs "
          f"{len(second)} rows, 19 features), {time.perf_counter() - started:.0f} s")
    print(f"    any feature flagged (BH, alpha 0.05): {np.mean(any_feature):.0%}")
    print(f"    domain classifier p <= 0.05: {np.mean(classifier):.0%}; AUC mean "
          f"{np.mean(aucs):.3f} (sd {np.std(aucs):.3f})")
    print(f"    MMD p <= 0.05: {np.mean(mmd):.0%}")


def synthetic_splits(n_splits: int, rows: int) -> None:
    flagged_any, flagged_columns = [], []
    started = time.perf_counter()
    for seed in range(n_splits):
        source = Domain.from_frame(make_market(rows, False, 2 * seed), name="a")
        target = Domain.from_frame(make_market(rows, False, 2 * seed + 1), name="b")
        report = gap_report(source, target, tests=(), importances=False, top_plots=0)
        flagged = int(report.features["shifted"].sum())
        flagged_any.append(flagged > 0)
        flagged_columns.append(flagged)
    print(f"(b) synthetic null, {rows:,} rows per side x 50 columns, {n_splits} repetitions, "
          f"{time.perf_counter() - started:.0f} s")
    print(f"    any column flagged (BH, alpha 0.05): {np.mean(flagged_any):.0%}; columns "
          f"flagged per run: mean {np.mean(flagged_columns):.2f}, max {max(flagged_columns)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=50)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--part", choices=("real", "synthetic", "both"), default="both")
    args = parser.parse_args()
    warnings.simplefilter("ignore", TransferWarning)
    if args.part in ("real", "both"):
        real_splits(args.splits)
    if args.part in ("synthetic", "both"):
        synthetic_splits(args.splits, args.rows)


if __name__ == "__main__":
    main()
