"""Run one job in its own process with a wall-clock limit and a memory cap.

The parent polls the resident memory of the child and all its descendants every 0.2 s
and kills the process group when it passes the cap (an address-space limit would break
PyTorch and TensorFlow, which reserve far more virtual memory than they use). Items the
child did not finish come back as error rows naming the cause, so one library running out
of time or memory never takes the run down.

Examples
--------
>>> import sys
>>> rows = run_job(sys.executable, {"kind": "custom", "library": "nothing", "method": "x",
...                                 "items": [{"id": "a"}]}, timeout_s=60)
>>> rows[0]["status"], "No module named" in rows[0]["error"]
('error', True)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.suite.worker import ROW_PREFIX

ROOT = Path(__file__).resolve().parents[2]
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            continue
    return total


def run_job(python: str, spec: dict, *, timeout_s: float = 600.0,
            memory_cap_mb: float = 8192.0, threads: int = 1,
            pythonpath: tuple[str, ...] = ()) -> list[dict]:
    """Rows of ``spec`` run by ``python -m benchmarks.suite.worker``, one per item.

    ``pythonpath`` adds folders where the worker finds adapters named by a dotted path.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *pythonpath]),
           "PYTHONWARNINGS": "ignore",
           "TF_CPP_MIN_LOG_LEVEL": "3", "TQDM_DISABLE": "1",
           **{name: str(threads) for name in THREAD_VARIABLES}}
    spec = {**spec, "params": {**spec.get("params", {}), "threads": threads}}
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen([python, "-m", "benchmarks.suite.worker"], cwd=ROOT, env=env,
                                 stdin=subprocess.PIPE, stdout=stdout, stderr=stderr,
                                 text=True, start_new_session=True)
        child.stdin.write(json.dumps(spec))
        child.stdin.close()
        watched, peak, cause = psutil.Process(child.pid), 0, None
        while child.poll() is None:
            elapsed = time.perf_counter() - started
            try:
                peak = max(peak, _tree_rss(watched))
            except psutil.Error:
                pass
            if peak > memory_cap_mb * 2**20:
                cause = f"killed: resident memory passed the {memory_cap_mb:.0f} MB cap"
            elif elapsed > timeout_s:
                cause = f"killed: no result within the {timeout_s:.0f} s limit"
            if cause:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                break
            time.sleep(0.2)
        stdout.seek(0)
        stderr.seek(0)
        rows = [json.loads(line[len(ROW_PREFIX):]) for line in stdout
                if line.startswith(ROW_PREFIX)]
        tail = [line.strip() for line in stderr.read().splitlines() if line.strip()][-3:]
    if cause is None and child.returncode != 0:
        cause = f"exit code {child.returncode}: {' | '.join(tail)[:400]}"
    for row in rows:
        row["job_peak_rss_mb"] = peak / 2**20
    done = {(row["item"], row["seed"]) for row in rows}
    for item in spec["items"]:
        if (item.get("id", ""), item.get("seed", 0)) not in done:
            rows.append({"item": item.get("id", ""), "seed": item.get("seed", 0),
                         "status": "error", "error": cause or "no row returned",
                         "job_peak_rss_mb": peak / 2**20})
    return rows
