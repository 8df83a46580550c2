"""Child entry point: run one method of one library on its jobs and print result rows.

``python -m benchmarks.suite.worker < spec.json`` (from the repository root), where the
spec is ``{"kind", "library", "method", "params", "items"}``:

* ``kind: "predict"`` — each item ``{"path", "seed", ...}`` names a split file; the
  library adapter's ``predict(method, split, seed, params)`` returns one prediction per
  target row (or ``(predictions, notes)``, notes a dict added to the row) and the worker
  scores it with ``contract.score``.
* ``kind: "weights"`` — each item ``{"rows", "seed"}``; ``weights(method, X_s, X_t, seed)``
  returns source weights, scored by a weighted logistic regression on a shifted test set.
* ``kind: "gap"`` — each item ``{"rows", "seed"}``; ``gap(method, source, target)`` returns
  the names of the columns the library flags as drifted.
* ``kind: "custom"`` — each item is passed to ``custom(method, item, params)``, which
  returns its own figures (meta-learning tracks).

Every row printed starts with ``ROW_PREFIX`` and carries wall and CPU seconds of the
method alone (data generation and loading excluded) and the process's peak resident
memory so far; an adapter's optional ``warm_up(kind)`` runs first so that importing the
library is not counted. Needs numpy only, so it runs in every peer environment; the adapter
module is imported lazily.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import time
import traceback
from typing import Any

import numpy as np

from benchmarks.suite import contract, synthetic

ROW_PREFIX = "@@row "


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _gpu_peak_mb() -> float | None:
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return None
    return torch.cuda.max_memory_allocated() / 2**20


def _timed(call: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = call()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def run_item(adapter: Any, kind: str, method: str, item: dict, params: dict) -> dict:
    """The figures of one item (one split, one size, ...) as a flat dict."""
    seed = int(item.get("seed", 0))
    if kind == "predict":
        split = contract.load_split(item["path"])
        out, wall, cpu = _timed(lambda: adapter.predict(method, split, seed, params))
        predictions, notes = out if isinstance(out, tuple) else (out, {})
        metric, value = contract.score(split, predictions)
        losses = contract.encode_losses(contract.row_losses(split, predictions))
        return {**notes, "metric": metric, "score": value, "wall_s": wall, "cpu_s": cpu,
                "losses": losses,
                "n_source": int(split.X_source.shape[0]),
                "n_target": int(split.X_target.shape[0])}
    if kind == "weights":
        data = synthetic.covariate_shift(int(item["rows"]), seed=seed)
        weights, wall, cpu = _timed(
            lambda: adapter.weights(method, data["X_source"], data["X_target"], seed))
        return {"wall_s": wall, "cpu_s": cpu, **synthetic.score_weights(data, weights)}
    if kind == "gap":
        source, target = synthetic.gap_markets(int(item["rows"]), seed=seed)
        flagged, wall, cpu = _timed(lambda: adapter.gap(method, source, target))
        return {"wall_s": wall, "cpu_s": cpu, **synthetic.score_gap(flagged)}
    if kind == "custom":
        figures, wall, cpu = _timed(lambda: adapter.custom(method, item, params))
        return {"wall_s": wall, "cpu_s": cpu, **figures}
    raise ValueError(f"unknown job kind {kind!r}")


def main() -> int:
    spec = json.load(sys.stdin)
    params = spec.get("params", {})
    threads = int(params.get("threads", 1))
    library = spec["library"]  # an adapter of benchmarks/suite/libs, or a dotted module path
    adapter = importlib.import_module(library if "." in library
                                      else f"benchmarks.suite.libs.{library}")
    if hasattr(adapter, "set_threads"):
        adapter.set_threads(threads)
    versions = adapter.versions()
    if hasattr(adapter, "warm_up"):  # imports are not part of any method's time
        adapter.warm_up(spec["kind"])
    for item in spec["items"]:
        row = {"item": item.get("id", ""), "seed": item.get("seed", 0), "versions": versions,
               "rss_before_mb": _peak_rss_mb()}
        try:
            row.update(status="ok", **run_item(adapter, spec["kind"], spec["method"], item,
                                               params))
        except Exception as exc:  # an error is a result row, never the end of the run
            last = traceback.extract_tb(exc.__traceback__)[-1]
            row.update(status="error", error=f"{type(exc).__name__}: {exc}"[:400],
                       where=f"{last.filename}:{last.lineno}")
        row["peak_rss_mb"] = _peak_rss_mb()
        gpu = _gpu_peak_mb()
        if gpu is not None:
            row["gpu_peak_mb"] = gpu
        print(ROW_PREFIX + json.dumps(row, default=float), flush=True)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
