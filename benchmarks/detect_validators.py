"""Unsupervised model selection on real market pairs: validators vs oracle vs random.

For every (source, target) pair of Office-Caltech10 SURF (12 pairs) and Amazon sentiment
(12 pairs), a pool of fitted candidates (logistic regression over a grid of C, with
source-fitted or per-market standardisation) is scored by each validator in
``transferkit.detect.VALIDATORS`` using held-out labelled source rows (20 %) and the
unlabelled target. The table reports the mean target accuracy of the chosen candidate,
beside the oracle (best candidate on target labels), a random choice (mean of the pool)
and the usual naive choice (best held-out *source* accuracy).

IWCV and DEV answer "unreliable" when their importance weights carry too little
information; ``select_model`` then falls back to ``domain_auc`` (reported per validator:
share of candidates scored, share of pairs that fell back, and the error of the risk
estimate over the candidates it could score).

Run:  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/detect_validators.py
      [suite ...]   (office_caltech_surf, amazon_sentiment; default both)
"""

from __future__ import annotations

import itertools
import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from transferkit import Domain, TransferWarning
from transferkit.datasets import load_amazon_sentiment, load_office_caltech_surf
from transferkit.detect import VALIDATORS, select_model

C_GRID = (0.001, 0.01, 0.1, 1.0, 10.0)
# IWCV / DEV answer "unreliable" when their importance weights carry too little
# information; select_model then hands the choice to this validator.
FALLBACK = "domain_auc"
RISK_VALIDATORS = ("dev", "iwcv")


class Candidate:
    """Logistic regression on standardised features (Domain face).

    ``per_market=True`` standardises each market with its own mean and scale (a simple
    alignment); otherwise the source statistics serve both markets.
    """

    def __init__(self, C: float, per_market: bool) -> None:
        self.C, self.per_market = C, per_market

    def fit(self, source: Domain, target: Domain) -> Candidate:
        self.stats_ = {"source": _stats(source.X)}
        self.stats_["target"] = _stats(target.X) if self.per_market else self.stats_["source"]
        self.model_ = LogisticRegression(C=self.C, max_iter=2000)
        self.model_.fit(self._scale(source), source.y)
        self.classes_ = self.model_.classes_
        return self

    def _scale(self, domain: Domain) -> np.ndarray:
        mean, scale = self.stats_[domain.metadata.extra["market"]]
        return (domain.X - mean) / scale

    def predict_proba(self, domain: Domain) -> np.ndarray:
        return self.model_.predict_proba(self._scale(domain))


def _stats(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = X.std(axis=0)
    return X.mean(axis=0), np.where(scale > 0, scale, 1.0)


def _tag(domain: Domain, market: str) -> Domain:
    """The same rows, remembering which market's statistics apply after a split."""
    return Domain.from_arrays(domain.X, domain.y, name=domain.name, extra={"market": market})


def run_pair(source: Domain, target: Domain, seed: int = 0) -> dict[str, float]:
    source = _tag(source, "source")
    target_rows = _tag(target, "target")
    train, held_out = source.split(0.2, seed=seed)
    unlabelled = Domain.from_arrays(target_rows.X, name="target", extra={"market": "target"})
    pool = {}
    for C, per_market in itertools.product(C_GRID, (False, True)):
        name = f"C={C:g},{'per-market' if per_market else 'source'}"
        candidate = Candidate(C, per_market)
        candidate.fit(train, unlabelled)
        pool[name] = candidate
    truth = {n: float(np.mean(c.model_.classes_[c.predict_proba(target_rows).argmax(1)]
                              == target_rows.y)) for n, c in pool.items()}
    source_acc = {n: float(np.mean(c.model_.classes_[c.predict_proba(held_out).argmax(1)]
                                   == held_out.y)) for n, c in pool.items()}
    row = {"oracle": max(truth.values()), "random": float(np.mean(list(truth.values()))),
           "worst": min(truth.values()),
           "source_accuracy": truth[max(source_acc, key=source_acc.get)]}
    for name in VALIDATORS.names():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TransferWarning)
            selection = select_model(pool, name, source=held_out, target=unlabelled,
                                     fallback=FALLBACK)
        row[name] = truth[selection.best_name]
        if name in RISK_VALIDATORS:
            # The validator's own table, also when it fell back (then every row is unreliable).
            own = selection.table if selection.fallback_from is None else \
                selection.unreliable_table
            reliable = own[own["reliable"]]
            row[f"{name}_reliable"] = float(own["reliable"].mean())
            row[f"{name}_fell_back"] = float(selection.fallback_from is not None)
            errors = [abs(score - (1 - truth[c])) for c, score in reliable["score"].items()]
            row[f"{name}_abs_error"] = float(np.mean(errors)) if errors else float("nan")
            row[f"{name}_median_ess"] = float(own["ess"].median())
    return row


def main() -> int:
    started = time.time()
    rows = []
    suites = {
        "office_caltech_surf": {k: d.with_features(np.log1p(d.X))
                                for k, d in load_office_caltech_surf().items()},
        "amazon_sentiment": load_amazon_sentiment(),
    }
    only = sys.argv[1:]  # optional suite names, to run a part
    for suite, domains in suites.items():
        if only and suite not in only:
            continue
        for s, t in itertools.permutations(domains, 2):
            row = run_pair(domains[s], domains[t])
            rows.append({"suite": suite, "pair": f"{s}→{t}", **row})
            print(f"{suite:20s} {s:>11s}→{t:<11s} " + " ".join(
                f"{k}={v:.3f}" for k, v in row.items()), file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    columns = ["oracle", "random", "worst", "source_accuracy", *VALIDATORS.names()]
    summary = table.groupby("suite")[columns].mean()
    summary.loc["all pairs"] = table[columns].mean()
    gap = (summary[columns].rsub(summary["oracle"], axis=0) * 100).round(1)
    print("## per pair\n")
    print(table.round(3).to_markdown(index=False))
    print("\n## mean target accuracy of the chosen model\n")
    print(summary.round(3).to_markdown())
    print("\n## points below the oracle\n")
    print(gap.to_markdown())
    diagnostics = [f"{v}_{k}" for v in RISK_VALIDATORS
                   for k in ("reliable", "fell_back", "abs_error", "median_ess")]
    by_suite = table.groupby("suite")[diagnostics].mean()
    by_suite.loc["all pairs"] = table[diagnostics].mean()
    print("\n## IWCV / DEV: share of candidates scored reliably, share of pairs that fell back "
          f"to {FALLBACK}, mean |estimated - true target error| over reliable candidates, "
          "median ESS of the held-out source rows\n")
    print(by_suite.round(3).to_markdown())
    print(f"\n(wall time {time.time() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
