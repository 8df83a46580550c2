"""The negative-transfer guard on real market pairs: flags real harm, keeps real help.

Each case trains three logistic regressions and asks ``NegativeTransferGuard`` which to
serve, on target rows none of them saw:

- ``transferred``: fitted on the source market pooled with the few labelled target rows;
- ``source_only``: fitted on the source market;
- ``target_only``: fitted on the few labelled target rows.

Negative cases corrupt the source the way a mismatched market does: Office-Caltech
"amazon" with the labels of 5 of the 10 classes permuted (the catalogue calls a monitor a
laptop), and Amazon "books" reviews with the polarity reversed (a market whose label
means the opposite). Positive cases use the same pairs with the true labels.

Run:  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/detect_guard.py
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from transferkit import Domain, TransferWarning
from transferkit.datasets import load_amazon_sentiment, load_office_caltech_surf
from transferkit.detect import NegativeTransferGuard


def _standardise(X: np.ndarray) -> np.ndarray:
    scale = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0)


def permute_classes(y: np.ndarray, classes: np.ndarray, n_classes: int) -> np.ndarray:
    """Cyclically relabel the first ``n_classes`` classes (a -> b -> c -> a)."""
    chosen = list(classes[:n_classes])
    mapping = {c: chosen[(i + 1) % len(chosen)] for i, c in enumerate(chosen)}
    return np.array([mapping.get(v, v) for v in y], dtype=y.dtype)


def run_case(name: str, source: Domain, target: Domain, n_labelled: int, C: float) -> dict:
    rng = np.random.default_rng(0)
    order = rng.permutation(target.n_samples)
    labelled, test = target.subset(np.sort(order[:n_labelled])), target.subset(
        np.sort(order[n_labelled:]))
    weights = np.r_[np.ones(source.n_samples),
                    np.full(labelled.n_samples, source.n_samples / labelled.n_samples)]
    transferred = LogisticRegression(C=C, max_iter=3000).fit(
        np.vstack([source.X, labelled.X]), np.r_[source.y, labelled.y], sample_weight=weights)
    baselines = {
        "source_only": LogisticRegression(C=C, max_iter=3000).fit(source.X, source.y),
        "target_only": LogisticRegression(C=C, max_iter=3000).fit(labelled.X, labelled.y),
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TransferWarning)
        guard = NegativeTransferGuard(n_resamples=1000).fit(
            transferred, baselines, test, seen=[labelled])
    verdict = guard.verdict_
    accuracy = verdict.scores.xs("accuracy", level="metric")["value"]
    row = {
        "case": name, "n target labelled": n_labelled, "n test": test.n_samples,
        "transferred acc": accuracy["transferred"], "source_only acc": accuracy["source_only"],
        "target_only acc": accuracy["target_only"], "verdict": verdict.verdict,
        "deciding baseline": verdict.deciding_baseline,
        "diff [CI of the deciding test]": (f"{verdict.difference:+.3f} [{verdict.low:+.3f}, "
                                           f"{verdict.high:+.3f}] "
                                           f"({verdict.interval_confidence:.1%})"),
        "p (McNemar; Holm on the negative side)": f"{verdict.p_value:.2g}",
        "guard serves": guard.chosen_,
        "loud warning": any("FALLBACK" in str(w.message) for w in caught),
        "extra labels to settle": verdict.extra_labels_needed,
    }
    print(row, file=sys.stderr, flush=True)
    hurt = verdict.per_class[verdict.per_class["effect"] == "hurts"] if (
        verdict.per_class is not None) else None
    return row | {"_hurt": None if hurt is None else list(map(str, hurt.index))}


def main() -> int:
    started = time.time()
    office = {k: d.with_features(_standardise(np.log1p(d.X)))
              for k, d in load_office_caltech_surf(["amazon", "webcam", "caltech10"]).items()}
    amazon = {k: d.with_features(_standardise(d.X))
              for k, d in load_amazon_sentiment(["books", "dvd", "kitchen"]).items()}
    classes = np.unique(office["amazon"].y)
    permuted = Domain.from_arrays(
        office["amazon"].X, permute_classes(office["amazon"].y, classes, 5), name="amazon*")
    reversed_books = Domain.from_arrays(amazon["books"].X, 1 - amazon["books"].y,
                                        name="books*")
    cases = [
        ("NEG office amazon(5 classes permuted)→webcam", permuted, office["webcam"], 30, 0.1),
        ("NEG office amazon(5 classes permuted)→caltech10", permuted, office["caltech10"], 30,
         0.1),
        ("NEG amazon books(polarity reversed)→kitchen", reversed_books, amazon["kitchen"], 100,
         0.1),
        ("POS office amazon→webcam", office["amazon"], office["webcam"], 30, 0.1),
        ("POS office amazon→caltech10", office["amazon"], office["caltech10"], 30, 0.1),
        ("POS amazon dvd→books", amazon["dvd"], amazon["books"], 100, 0.1),
        ("POS amazon books→kitchen", amazon["books"], amazon["kitchen"], 100, 0.1),
    ]
    rows = [run_case(*case) for case in cases]
    table = pd.DataFrame(rows)
    hurt = table.pop("_hurt")
    print(table.round(3).to_markdown(index=False))
    print("\nClasses the per-class breakdown marks as hurt (CI of recall difference < 0):\n")
    for case, classes_hurt in zip(table["case"], hurt, strict=True):
        print(f"- {case}: {', '.join(classes_hurt) if classes_hurt else 'none'}")
    print(f"\n(wall time {time.time() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
