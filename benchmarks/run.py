"""Every headline figure of RESULTS.md from one command, peers in the same run.

    bash benchmarks/setup_peers.sh                    # once: the peers' environments
    .venv/bin/python benchmarks/run.py                # full run (hours on 2 CPU cores)
    .venv/bin/python benchmarks/run.py --quick        # a few minutes; runs in CI
    .venv/bin/python benchmarks/run.py --device cuda  # deep methods on a GPU when lent

Tracks: ``uda`` (label-free adaptation on the real pairs: every method of ours, the
model ``transferkit run`` serves, SKADA / ADAPT / pytorch-adapt, a target-label oracle),
``fewlabel`` (K = 50 labelled target rows: our few-label methods and served choice vs
ADAPT's supervised methods), ``weights`` (reweighting speed, memory and accuracy 1k -> 1M
rows), ``gap`` (our gap report vs evidently and nannyml at 100k and 1M rows x 50
columns), ``features`` (frozen-backbone encoding: first vs cached epoch, linear probe)
and ``meta`` (cold-start users and households). ``--device cuda`` adds samples/s and GPU
memory of every deep method, the encoder and the meta-learners. Every method runs in its own
subprocess with a time limit and a memory cap; failures are rows of the results, never
the end of the run.

The full run writes ``benchmarks/results/full/rows.jsonl``, the section
``benchmarks/sections/suite.md``, the plot ``benchmarks/figures/accuracy_vs_time.png``
and regenerates ``benchmarks/RESULTS.md``; a run with ``--out`` (or ``--quick``, default
``benchmarks/results/quick``) keeps its rows, section and plot in that folder. A run
resumes where an earlier one into the same folder stopped (``--fresh`` starts over).
``--quick`` exits non-zero when any figure could not be produced (with
``--require-peers``, a missing peer environment too); a peer failure its adapter
documents as measured is a result, not a missing figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.suite import envs, isolate, render, tracks  # noqa: E402


def machine() -> dict[str, object]:
    import psutil

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "commit": commit + ("+changes" if dirty else ""),
            "python": platform.python_version(), "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "processor": platform.machine()}


def _done_keys(path: Path) -> set[tuple]:
    if not path.exists():
        return set()
    keys = set()
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row.get("status") == "ok":
            keys.add((row["track"], row["library"], row["method"], row["item"], row["seed"]))
    return keys


def _pending(job: tracks.Job, done: set[tuple]) -> tracks.Job | None:
    items = tuple(i for i in job.items if (job.track, job.library, job.method, i.get("id", ""),
                                           i.get("seed", 0)) not in done)
    if not items:
        return None
    return tracks.Job(job.track, job.library, job.method, job.kind, items, job.params,
                      timeout_s=job.timeout_s * len(items) / len(job.items))


def _by_pair(jobs: list[tracks.Job]) -> list[tracks.Job]:
    """Each job split into one job per item id, ordered pair by pair."""
    split = []
    for job in jobs:
        ids = list(dict.fromkeys(item.get("id", "") for item in job.items))
        for pair in ids:
            items = tuple(i for i in job.items if i.get("id", "") == pair)
            split.append((pair, tracks.Job(job.track, job.library, job.method, job.kind, items,
                                           job.params,
                                           job.timeout_s * len(items) / len(job.items))))
    order = list(dict.fromkeys(pair for pair, _ in split))
    return [job for _, job in sorted(split, key=lambda x: order.index(x[0]))]


def run_jobs(jobs: list[tracks.Job], out: Path, *, parallel: int, memory_cap_mb: float,
             header: dict) -> None:
    """Run ``jobs`` (``parallel`` at a time), appending every row to ``out`` as it comes."""
    started, finished = time.perf_counter(), 0

    def one(job: tracks.Job) -> list[dict]:
        python = envs.interpreter(job.library)
        if python is None:
            return [{"item": i.get("id", ""), "seed": i.get("seed", 0), "status": "missing",
                     "error": envs.missing_reason(job.library)} for i in job.items]
        spec = {"kind": job.kind, "library": job.library, "method": job.method,
                "params": job.params, "items": list(job.items)}
        return isolate.run_job(python, spec, timeout_s=job.timeout_s,
                               memory_cap_mb=memory_cap_mb)

    with ThreadPoolExecutor(max_workers=parallel) as pool, out.open("a") as handle:
        futures = {pool.submit(one, job): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            rows = future.result()
            for row in rows:
                row.update(track=job.track, library=job.library, method=job.method,
                           params=job.params, **header)
                handle.write(json.dumps(row, default=float) + "\n")
            handle.flush()
            finished += 1
            failed = [r for r in rows if r["status"] != "ok"]
            elapsed = time.perf_counter() - started
            eta = elapsed / finished * (len(jobs) - finished)
            note = f"  {len(failed)} failed: {failed[0].get('error', '')[:90]}" if failed else ""
            print(f"[{finished}/{len(jobs)}] {job.key}: {len(rows) - len(failed)} ok{note}"
                  f"  (elapsed {elapsed / 60:.1f} min, eta {eta / 60:.1f} min)", flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few minutes; for CI")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--tracks", nargs="+", choices=tracks.TRACKS, default=tracks.TRACKS)
    parser.add_argument("--seeds", type=int, help="number of seeds (full run: 3)")
    parser.add_argument("--pairs", nargs="+",
                        help="pairs such as amazon:books/kitchen (or 'amazon:books->kitchen', "
                             "quoted), or 'headline' (default: "
                             "every pair of every data set found)")
    parser.add_argument("--libraries", nargs="+", choices=[n for n in envs.LIBRARIES
                                                           if not n.startswith("ours_")],
                        help="run only these libraries (default: all)")
    parser.add_argument("--methods", nargs="+", help="run only methods of these names")
    parser.add_argument("--parallel", type=int, default=1,
                        help="jobs at a time (timings are noisier above 1)")
    parser.add_argument("--memory-cap-gb", type=float, default=8.0)
    parser.add_argument("--out", type=Path, help="results folder")
    parser.add_argument("--by-pair", action="store_true",
                        help="one job per method and pair, pair after pair, so that an "
                             "interrupted long run leaves whole pairs done")
    parser.add_argument("--fresh", action="store_true",
                        help="discard earlier rows instead of resuming")
    parser.add_argument("--require-peers", action="store_true",
                        help="fail when a peer environment is missing")
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument("--section", metavar="NAME",
                        help="also publish this run's section as benchmarks/sections/NAME.md "
                             "(a study kept beside the headline run)")
    return parser


def _publish_study(section: Path, figure: Path, name: str) -> Path:
    """Copy a study's section to ``benchmarks/sections/<name>.md`` for RESULTS.md."""
    published = ROOT / "benchmarks" / "sections" / f"{name}.md"
    text = section.read_text().replace(
        "## One run, every headline: transferkit and its peers on the same splits",
        f"## Study: `{name}` (benchmarks/run.py)")
    text = text.replace("](accuracy_vs_time.png)",
                        f"]({os.path.relpath(figure, ROOT / 'benchmarks')})")
    temporary = published.with_suffix(".tmp")
    temporary.write_text(text)
    os.replace(temporary, published)
    return published


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    out_dir = args.out or ROOT / "benchmarks" / "results" / ("quick" if args.quick else "full")
    out_dir.mkdir(parents=True, exist_ok=True)
    rows_path = out_dir / "rows.jsonl"
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.fresh and rows_path.exists() and not args.render_only:
        rows_path.unlink()
    if args.require_peers:
        missing = [envs.missing_reason(p) for p in envs.PEERS if envs.interpreter(p) is None
                   and (not args.libraries or p in args.libraries)]
        if missing:
            print("run: " + "; ".join(missing), file=sys.stderr)
            return 2
    settings = tracks.Settings.make(quick=args.quick, device=args.device, seeds=args.seeds,
                                    pairs=tuple(args.pairs) if args.pairs else None)
    absent = settings.missing_data(tuple(args.tracks))
    for why in absent:
        print(f"run: skipping its pairs: {why}", file=sys.stderr)
    if not args.render_only:
        cache = str(ROOT / "benchmarks" / ".cache" / "suite")
        jobs = tracks.all_jobs(settings, cache, tuple(args.tracks),
                               tuple(args.libraries) if args.libraries else None)
        if args.methods:
            jobs = [job for job in jobs if job.method in args.methods]
        done = _done_keys(rows_path)
        pending = [p for p in (_pending(job, done) for job in jobs) if p is not None]
        print(f"run: {len(pending)} of {len(jobs)} jobs to run ({len(jobs) - len(pending)} "
              f"done earlier), results -> {rows_path}", flush=True)
        if args.by_pair:
            pending = _by_pair(pending)
            print(f"run: split into {len(pending)} jobs, one per method and pair", flush=True)
        header = {"run": machine(), "command": command}
        run_jobs(pending, rows_path, parallel=args.parallel,
                 memory_cap_mb=args.memory_cap_gb * 1024, header=header)
    if not rows_path.exists():
        print(f"run: no results in {rows_path} yet; run without --render-only first",
              file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in rows_path.read_text().splitlines()]
    # The default full run publishes: its section and plot feed RESULTS.md. Any other run
    # (--quick, --out elsewhere) keeps everything in its own folder.
    publish = not args.quick and args.out is None
    section = (ROOT / "benchmarks" / "sections" / "suite.md") if publish else out_dir / "suite.md"
    figure = (ROOT / "benchmarks" / "figures" / "accuracy_vs_time.png") if publish else (
        out_dir / "accuracy_vs_time.png")
    problems = render.write(rows, section=section, figure=figure, command=command,
                            settings=settings,
                            read_from=ROOT / "benchmarks" if publish else None)
    print(f"run: wrote {section} and {figure}")
    if args.section and not publish:
        print(f"run: published {_publish_study(section, figure, args.section)}")
    if publish:
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "collect_results.py")],
                       check=True)
    problems += [f"data: {why}" for why in absent]
    for problem in problems:
        print(f"run: FIGURE MISSING: {problem}", file=sys.stderr)
    return 1 if problems and (args.quick or any("transferkit" in p for p in problems)) else 0


if __name__ == "__main__":
    sys.exit(main())
