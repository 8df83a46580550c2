"""Speed, peak memory and target accuracy of reweighters at 1k / 10k / 100k source rows.

Every (library, method, size) runs in its own child process, with a wall-clock limit, so
one estimator running out of memory or time cannot take the others down. Each child
builds the same seeded synthetic covariate shift (50 features), fits the weighter,
trains a weighted logistic regression on the source labels and scores it on labelled
target rows.

Usage::

    .venv/bin/python benchmarks/reweight_speed.py                      # 1k, 10k, 100k
    .venv/bin/python benchmarks/reweight_speed.py --sizes 1000000 --libraries transferkit
    .venv/bin/python benchmarks/reweight_speed.py --out results.jsonl

skada (installed with the ``bench`` extra) is the peer in the same run. ADAPT is not
run: it imports TensorFlow at package import, which is not installed here.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

N_FEATURES = 50
N_TEST = 5000


def make_data(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Covariate shift in 50-D with a label rule a linear model can only fit locally."""
    rng = np.random.default_rng(seed)
    shift = np.zeros(N_FEATURES)
    shift[:3] = [1.0, -0.5, 0.5]

    def label(X: np.ndarray) -> np.ndarray:
        score = X[:, 0] + 0.5 * X[:, 1] ** 2 - 0.5 * X[:, 2] + 0.3 * X[:, 3:6].sum(axis=1)
        return (score + 0.3 * rng.normal(size=len(X)) > 1.0).astype(int)

    X_s = rng.normal(size=(n, N_FEATURES))
    X_t = rng.normal(size=(n, N_FEATURES)) + shift
    X_test = rng.normal(size=(N_TEST, N_FEATURES)) + shift
    return {"X_s": X_s, "y_s": label(X_s), "X_t": X_t, "X_test": X_test, "y_test": label(X_test)}


def _weights(library: str, method: str, X_s: np.ndarray, X_t: np.ndarray) -> np.ndarray:
    X = np.concatenate([X_s, X_t])
    if library == "transferkit":
        from transferkit.reweight import REWEIGHTERS

        is_target = np.r_[np.zeros(len(X_s), dtype=int), np.ones(len(X_t), dtype=int)]
        return REWEIGHTERS.get(method)().fit(X, is_target).weights_
    if library == "skada":
        import skada

        adapter = {
            "kmm": lambda: skada.KMMReweightAdapter(),
            "kliep": lambda: skada.KLIEPReweightAdapter(gamma=[0.1, 1.0, 10.0]),
            "discriminative": lambda: skada.DiscriminatorReweightAdapter(),
        }[method]()
        sample_domain = np.r_[np.ones(len(X_s), dtype=int), -np.ones(len(X_t), dtype=int)]
        _, params = adapter.fit_transform(X, sample_domain=sample_domain)
        return np.asarray(params["sample_weight"])[: len(X_s)]
    raise ValueError(f"unknown library {library!r}")


def run_one(library: str, method: str, n: int) -> dict[str, object]:
    """Fit one weighter in this process and measure it."""
    from sklearn.linear_model import LogisticRegression

    data = make_data(n)
    tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    weights = _weights(library, method, data["X_s"], data["X_t"])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    weights = np.asarray(weights, dtype=float).ravel()
    model = LogisticRegression(max_iter=1000)
    model.fit(data["X_s"], data["y_s"], sample_weight=weights)
    accuracy = float(model.score(data["X_test"], data["y_test"]))
    ess = float(weights.sum() ** 2 / np.square(weights).sum() / len(weights))
    return {"library": library, "method": method, "n_source": n, "status": "ok",
            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "peak_alloc_mb": round(peak / 2**20, 1),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "target_accuracy": round(accuracy, 4), "ess_fraction": round(ess, 3)}


def unweighted(n: int) -> dict[str, object]:
    from sklearn.linear_model import LogisticRegression

    data = make_data(n)
    model = LogisticRegression(max_iter=1000).fit(data["X_s"], data["y_s"])
    return {"library": "none", "method": "unweighted", "n_source": n, "status": "ok",
            "target_accuracy": round(float(model.score(data["X_test"], data["y_test"])), 4)}


METHODS = {
    "transferkit": ["discriminative", "kmm", "kliep", "ulsif"],
    "skada": ["discriminative", "kmm", "kliep"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--libraries", nargs="+", default=list(METHODS))
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--out", default=None, help="append JSON lines here")
    parser.add_argument("--one", nargs=3, metavar=("LIBRARY", "METHOD", "N"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        library, method, n = args.one
        print(json.dumps(run_one(library, method, int(n))))
        return
    def emit(row: dict[str, object]) -> None:
        print(json.dumps(row), flush=True)
        if args.out:
            with open(args.out, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")

    for n in args.sizes:
        emit(unweighted(n))
        for library in args.libraries:
            for method in METHODS[library]:
                command = [sys.executable, __file__, "--one", library, method, str(n)]
                start = time.perf_counter()
                try:
                    done = subprocess.run(command, capture_output=True, text=True,
                                          timeout=args.timeout, env={**os.environ,
                                                                     "PYTHONWARNINGS": "ignore"})
                    if done.returncode == 0:
                        row = json.loads(done.stdout.strip().splitlines()[-1])
                    else:
                        reason = (done.stderr.strip().splitlines() or ["?"])[-1][:160]
                        row = {"library": library, "method": method, "n_source": n,
                               "status": f"failed: {reason}"}
                except subprocess.TimeoutExpired:
                    row = {"library": library, "method": method, "n_source": n,
                           "status": f"timeout after {args.timeout:.0f} s"}
                row.setdefault("elapsed_s", round(time.perf_counter() - start, 1))
                emit(row)


if __name__ == "__main__":
    main()
