"""Scale and power of the gap report: N rows x 50 columns per side with five planted shifts.

40 numeric + 10 categorical columns per market, like the issue's evidently / nannyml
comparison. Planted shifts: num_00 mean +0.05 sd (subtle), num_01 mean +0.5 sd, num_02 sd x1.5,
cat_00 one category +2 points (subtle), cat_01 a category that only exists in the target
(10% of rows). Reports wall time and peak resident memory of ``gap_report`` (sampled every
10 ms), which shifts were flagged and how many of the 45 unshifted columns were flagged.

Usage: python benchmarks/gap_scale.py --rows 1000000
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
import time
from pathlib import Path

import psutil

from transferkit import Domain
from transferkit.gap import gap_report

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.suite.synthetic import PLANTED as SHIFTED  # noqa: E402
from benchmarks.suite.synthetic import market as make_market  # noqa: E402


class PeakMemory:
    """Peak RSS of this process while the block runs (sampled every 10 ms)."""

    def __enter__(self) -> PeakMemory:
        self.process = psutil.Process(os.getpid())
        self.peak = self.start = self.process.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.01)

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.perf_counter()
    source = Domain.from_frame(make_market(args.rows, False, args.seed), name="us")
    target = Domain.from_frame(make_market(args.rows, True, args.seed + 1), name="jp")
    gc.collect()
    build = time.perf_counter() - started

    with PeakMemory() as memory:
        cpu = time.process_time()
        started = time.perf_counter()
        report = gap_report(source, target)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    render_cpu, render_started = time.process_time(), time.perf_counter()
    page = report.to_html()
    render = (time.perf_counter() - render_started, time.process_time() - render_cpu)
    table = report.features
    set_aside = table.index[table["kind"] == "set aside"].tolist()
    flagged = table.index[table["shifted"]].tolist()
    false_alarms = [f for f in flagged if f not in SHIFTED]
    print(f"rows per side: {args.rows:,}; 50 columns (40 numeric, 10 categorical)")
    print(f"building both Domains: {build:.1f} s")
    print(f"gap_report: {elapsed:.1f} s wall, {cpu:.1f} s CPU")
    print(f"RSS before gap_report: {memory.start / 2**30:.2f} GiB; peak during it: "
          f"{memory.peak / 2**30:.2f} GiB (+{(memory.peak - memory.start) / 2**30:.2f} GiB)")
    print(f"to_html: {render[0]:.1f} s wall, {render[1]:.1f} s CPU, {len(page) / 2**20:.2f} MiB")
    print(f"columns set aside as IDs/dates: {set_aside}")
    print(f"planted shifts flagged: {[f for f in SHIFTED if f in flagged]} of {SHIFTED}")
    print(f"unshifted columns flagged: {len(false_alarms)} of 45 {false_alarms}")
    print(table.loc[list(SHIFTED), ["severity", "effect", "pvalue_adjusted", "wasserstein", "psi",
                              "importance"]].round(4).to_string())
    print(report.domain_tests[["statistic", "standard_error", "pvalue"]].round(4).to_string())
    print(report.summary())


if __name__ == "__main__":
    main()
