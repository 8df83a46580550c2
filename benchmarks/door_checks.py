"""Cost of the door checks (issue 15) on loading and harmonising 1M rows.

Two markets of ``--rows / 2`` rows each (6 numeric columns, 2 categorical, a binary
label) are written as CSV, then loaded and harmonised end to end:
``read_table`` -> ``Domain.from_frame`` -> ``harmonize``. The door checks are

* ``read_table``: first-bytes sniffing, the raw header line and the duplicate-name count;
* ``Schema.infer``: the mostly-numeric probe of every text column;
* ``Harmonizer``: the empty-column notes, the scaler-statistics check and the one-pass
  finiteness / range check of the harmonised matrix.

Each check is timed on its own (median of ``--repeats`` runs) and divided by the median
end-to-end time of the same run, so the ratio does not depend on the machine's speed.
An A/B run with the two patchable checks switched off (plain ``pandas.read_csv``, no
probe), interleaved with the full runs after one warm-up, is reported as well; it is
noisier, since it is a difference of two large times.

Usage::

    flock /tmp/transferkit-bench.lock nice -n 5 env OMP_NUM_THREADS=1 \\
        .venv/bin/python benchmarks/door_checks.py --rows 1000000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

from transferkit import Domain
from transferkit import _io as io_module
from transferkit import schema as schema_module
from transferkit._io import read_table
from transferkit.harmonize import _MAX_FEATURE, harmonize

SECTION = Path(__file__).with_name("sections") / "door_checks.md"


def write_markets(folder: Path, rows: int, seed: int) -> list[Path]:
    rng = np.random.default_rng(seed)
    paths = []
    for name, shift in (("us", 0.0), ("jp", 0.5)):
        frame = pd.DataFrame({f"x{i}": rng.normal(shift * i, 1, rows).round(4)
                              for i in range(6)})
        frame["channel"] = rng.choice(["web", "app", "store", "phone", "partner"], rows)
        frame["region"] = rng.choice([f"r{i:02d}" for i in range(50)], rows)
        frame["bought"] = rng.integers(0, 2, rows)
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False)
        paths.append(path)
    return paths


def median_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def end_to_end(paths: list[Path], reader: Callable[[Path], pd.DataFrame]):
    source, target = (Domain.from_frame(reader(p), label="bought", name=p.stem) for p in paths)
    return harmonize(source, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows over both markets")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_markets(Path(tmp), args.rows // 2, args.seed)
        def plain() -> object:
            with mock.patch.object(schema_module, "is_mostly_numeric", lambda s: False):
                return end_to_end(paths, pd.read_csv)

        end_to_end(paths, read_table)  # warm-up: file cache, allocator
        runs: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(args.repeats):  # interleaved, so drift hits both alike
            # results are dropped at once: a kept pair would crowd the next run's memory
            runs["with"].append(median_time(lambda: end_to_end(paths, read_table), 1)[0])
            runs["without"].append(median_time(plain, 1)[0])
        full, without = (statistics.median(runs[k]) for k in ("with", "without"))
        pair = end_to_end(paths, read_table)
        frames = [pd.read_csv(p) for p in paths]

        def sniff() -> None:  # read_table's checks, without the parse itself
            for path in paths:
                with open(path, "rb") as handle:
                    handle.read(8192)
                header = io_module._raw_csv_header(path, {"sep": ","})
                io_module.Counter(header)

        def probe() -> None:
            for frame in frames:
                for column in frame.columns:
                    schema_module.is_mostly_numeric(frame[column])

        harmonizer = pair.harmonizer
        raw = [p.frame for p in (pair.source, pair.target)]
        matrices = [pair.source.X, pair.target.X]
        domains = [Domain.from_frame(f, label="bought", name=p.stem)
                   for f, p in zip(frames, paths, strict=True)]
        tables = [d.frame for d in domains]

        def harmonizer_checks() -> None:
            harmonizer.changes_ = []
            harmonizer._note_empty_and_coerced(domains[0], tables[0], domains[1], tables[1])
            harmonizer._check_scaler_finite(raw[0])
            for X in matrices:
                bool((np.abs(X) <= _MAX_FEATURE).all())

        pieces = {name: median_time(fn, args.repeats)[0] for name, fn in
                  (("read_table sniff + header", sniff), ("Schema mostly-numeric probe", probe),
                   ("Harmonizer checks", harmonizer_checks))}
    total = sum(pieces.values())
    lines = [
        f"rows: {args.rows:,} ({args.rows // 2:,} per market, 9 columns each), repeats: "
        f"{args.repeats}, seed: {args.seed}",
        f"end to end with checks (read_table -> from_frame -> harmonize): {full:.2f} s",
        *(f"  {name}: {seconds * 1000:.1f} ms ({seconds / full:.2%})"
          for name, seconds in pieces.items()),
        f"door checks in total: {total * 1000:.1f} ms = {total / full:.2%} of end to end "
        f"({'PASS' if total / full < 0.05 else 'MISS'} < 5 %)",
        f"A/B: without the read_table and probe checks {without:.2f} s -> with them "
        f"{full:.2f} s ({full / without - 1:+.1%}, noisy: difference of two large times)",
    ]
    print("\n".join(lines))
    command = ("flock /tmp/transferkit-bench.lock nice -n 5 env OMP_NUM_THREADS=1 "
               f".venv/bin/python benchmarks/door_checks.py --rows {args.rows} "
               f"--repeats {args.repeats} --seed {args.seed}")
    SECTION.write_text(
        "## Door checks (issue 15): cost on loading and harmonising\n\n"
        "Bad-input checks at the door must stay cheap: under 5 % of loading and harmonising "
        "1M rows. Each check is timed on its own and divided by the end-to-end time of the "
        "same run (ratios within one run, so machine speed cancels out).\n\n"
        f"Command: `{command}`\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other jobs, "
        f"Python {platform.python_version()}, pandas {pd.__version__}, numpy "
        f"{np.__version__}.\n\n```\n" + "\n".join(lines) + "\n```\n"
    )


if __name__ == "__main__":
    main()
