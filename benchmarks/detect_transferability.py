"""Transferability scores on real data: do LogME / LEEP / H-score / NCE predict transfer?

A. More training -> higher score (MNIST -> USPS). An MLP with a 32-unit bottleneck is
   trained on MNIST and checkpointed after 0 (random init), 1, 2, 5 and 20 epochs. Each
   checkpoint's bottleneck features (LogME, H-score) and softmax outputs (LEEP, NCE) are
   scored on 100 labelled USPS rows; the "accuracy reached" is a logistic-regression head
   fitted on those 100 rows' features and tested on the other 1,700 USPS rows.
B. Ranking candidate sources. For every target domain of Office-Caltech10 SURF and of
   Amazon sentiment, an MLP is trained on each other domain; the scores computed on the
   labelled target rows (30 %) are compared, by Kendall's tau, with the target accuracy
   reached after transfer (a head fitted on those labelled rows, tested on the other
   70 %).

Run:  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/detect_transferability.py
      (add ``a`` or ``b`` to run one part)
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
import torch
from scipy.stats import kendalltau
from sklearn.linear_model import LogisticRegression

from transferkit.datasets import load_amazon_sentiment, load_mnist_usps, load_office_caltech_surf
from transferkit.detect import h_score, leep, logme, nce

SCORES = ("logme", "h_score", "leep", "nce")


def _standardise(X: np.ndarray) -> np.ndarray:
    scale = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0)


class MLP(torch.nn.Module):
    def __init__(self, n_features: int, n_hidden: int, n_classes: int) -> None:
        super().__init__()
        self.feature_extractor = torch.nn.Sequential(
            torch.nn.Linear(n_features, n_hidden), torch.nn.ReLU())
        self.head = torch.nn.Linear(n_hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.feature_extractor(x))


def train(model: MLP, X: np.ndarray, y: np.ndarray, epochs: int, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    X_t, y_t = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    for _ in range(epochs):
        for batch in torch.randperm(len(X), generator=generator).split(64):
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(model(X_t[batch]), y_t[batch]).backward()
            optimiser.step()


def outputs(model: MLP, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with torch.no_grad():
        x = torch.tensor(X, dtype=torch.float32)
        features = model.feature_extractor(x)
        return features.numpy().astype(float), torch.softmax(model.head(features), 1).numpy()


def scores_and_accuracy(model: MLP, X_lab, y_lab, X_test, y_test) -> dict[str, float]:
    f_lab, p_lab = outputs(model, X_lab)
    f_test, _ = outputs(model, X_test)
    head = LogisticRegression(max_iter=3000).fit(f_lab, y_lab)
    return {
        "logme": logme(f_lab, y_lab), "h_score": h_score(f_lab, y_lab),
        "leep": leep(p_lab, y_lab), "nce": nce(p_lab.argmax(1), y_lab),
        "accuracy": float(np.mean(head.predict(f_test) == y_test)),
    }


def _codes(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return np.searchsorted(classes, y)


def part_a() -> pd.DataFrame:
    digits = load_mnist_usps()
    mnist, usps = digits["mnist"], digits["usps"]
    classes = np.unique(mnist.y)
    rng = np.random.default_rng(0)
    order = rng.permutation(usps.n_samples)
    lab, test = order[:100], order[100:]
    torch.manual_seed(0)
    model = MLP(256, 32, classes.size)
    rows, done = [], 0
    for epochs in (0, 1, 2, 5, 20):
        train(model, mnist.X, _codes(mnist.y, classes), epochs - done, seed=epochs)
        done = epochs
        result = scores_and_accuracy(model, usps.X[lab], usps.y[lab], usps.X[test],
                                     usps.y[test])
        rows.append({"epochs on MNIST": epochs, **result})
        print("A", rows[-1], file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


def part_b() -> pd.DataFrame:
    suites = {
        "office_caltech_surf": {k: d.with_features(_standardise(np.log1p(d.X)))
                                for k, d in load_office_caltech_surf().items()},
        "amazon_sentiment": {k: d.with_features(_standardise(d.X))
                             for k, d in load_amazon_sentiment().items()},
    }
    rows = []
    for suite, domains in suites.items():
        for t_name, target in domains.items():
            classes = np.unique(target.y)
            rng = np.random.default_rng(0)
            order = rng.permutation(target.n_samples)
            n_lab = int(0.3 * target.n_samples)
            lab, test = order[:n_lab], order[n_lab:]
            for s_name, source in domains.items():
                if s_name == t_name:
                    continue
                torch.manual_seed(0)
                model = MLP(source.n_features, 64, classes.size)
                train(model, source.X, _codes(source.y, classes), 30, seed=0)
                result = scores_and_accuracy(model, target.X[lab], target.y[lab],
                                             target.X[test], target.y[test])
                rows.append({"suite": suite, "target": t_name, "source": s_name, **result})
                print("B", rows[-1], file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


def kendall_by_target(table: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (suite, target), group in table.groupby(["suite", "target"], sort=False):
        out.append({"suite": suite, "target": target, **{
            score: kendalltau(group[score], group["accuracy"]).statistic for score in SCORES}})
    return pd.DataFrame(out)


def main(parts: str = "ab") -> int:
    started = time.time()
    torch.set_num_threads(1)
    if "a" in parts:
        a = part_a()
        taus_a = {s: kendalltau(a[s], a["accuracy"]).statistic for s in SCORES}
        print("## A. More training on MNIST -> higher scores on USPS\n")
        print(a.round(4).to_markdown(index=False))
        print("\nKendall tau (score vs accuracy over checkpoints): " + ", ".join(
            f"{k} {v:+.2f}" for k, v in taus_a.items()))
    if "b" in parts:
        b = part_b()
        taus = kendall_by_target(b)
        print("\n## B. Ranking candidate source domains\n")
        print(b.round(4).to_markdown(index=False))
        print("\n### Kendall tau per target (3 candidate sources each)\n")
        print(taus.round(2).to_markdown(index=False))
        print("\n### Mean Kendall tau\n")
        summary = taus.groupby("suite")[list(SCORES)].mean()
        summary.loc["all targets"] = taus[list(SCORES)].mean()
        print(summary.round(2).to_markdown())
    print(f"\n(wall time {time.time() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "ab"))
