"""Target accuracy of transferkit's aligners vs source-only and skada, on real data.

Protocol (unsupervised domain adaptation, transductive as in the DANN/CDAN papers and
skada-bench): train on every labelled source row and every target row *without* its
label, report accuracy on all target rows. Every method, ours and skada's, gets the same
network (MLP: Linear(d, 256), ReLU, Dropout(0.2), Linear(256, n_classes)), the same
z-scored features (mean/std of source and target rows pooled), the same optimizer
(AdamW, lr 1e-3, weight decay 1e-4), batch size 64 and epochs, and the same seeds.
Nothing is tuned on target labels: all methods run with their documented defaults.

Results are appended one JSON line per (dataset, pair, method, seed) to ``--out`` so a
partial run is still usable; ``--render`` turns the file into the markdown section.

Usage::

    python benchmarks/align_benchmark.py --datasets amazon office digits --seeds 0 1 2 \
        --out benchmarks/align_results.jsonl
    python benchmarks/align_benchmark.py --render benchmarks/align_results.jsonl \
        --section benchmarks/sections/align.md
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import time
from collections import defaultdict

import numpy as np
import torch
from torch import nn

from transferkit.align import ALIGNERS
from transferkit.training import TrainConfig

OURS = ("source_only", "dann", "cdan", "cdan_e", "deep_coral", "mmd")
SKADA = ("skada_dann", "skada_deep_coral")
HIDDEN, DROPOUT, BATCH, LR, WEIGHT_DECAY = 256, 0.2, 64, 1e-3, 1e-4


def load(dataset: str) -> dict:
    from transferkit import datasets

    if dataset == "amazon":
        return datasets.load_amazon_sentiment()
    if dataset == "office":
        return datasets.load_office_caltech_surf()
    if dataset == "digits":
        return datasets.load_mnist_usps()
    raise ValueError(f"unknown dataset {dataset!r}")


def zscore(X_source: np.ndarray, X_target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pooled = np.concatenate([X_source, X_target])
    mean, std = pooled.mean(0), pooled.std(0)
    std = np.where(std > 0, std, 1.0)
    return ((X_source - mean) / std).astype(np.float32), ((X_target - mean) / std).astype(
        np.float32)


def run_ours(method: str, source, target, seed: int, epochs: int) -> float:
    config = TrainConfig(epochs=epochs, batch_size=BATCH, lr=LR, weight_decay=WEIGHT_DECAY,
                         seed=seed, progress=False)
    name = "nn_source_only" if method == "source_only" else method
    model = ALIGNERS.get(name)(hidden_sizes=(HIDDEN,), dropout=DROPOUT, config=config)
    model.fit(source, target.hide_labels(0))  # the target labels never reach fit
    return model.score(target)


class _SkadaNet(nn.Module):
    def __init__(self, n_features: int, n_classes: int) -> None:
        super().__init__()
        self.feature_layer = nn.Sequential(nn.Linear(n_features, HIDDEN), nn.ReLU(),
                                           nn.Dropout(DROPOUT))
        self.classifier = nn.Linear(HIDDEN, n_classes)

    def forward(self, X: torch.Tensor, sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        return self.classifier(self.feature_layer(X))


def run_skada(method: str, source, target, seed: int, epochs: int) -> float:
    from skada.deep import DANN, DeepCoral

    classes = source.classes
    X_s, X_t = zscore(source.X, target.X)
    y_s = np.searchsorted(classes, source.y).astype(np.int64)
    y_t = np.searchsorted(classes, target.y).astype(np.int64)
    torch.manual_seed(seed)
    np.random.seed(seed)
    net = _SkadaNet(X_s.shape[1], len(classes))
    common = dict(layer_name="feature_layer", reg=1, batch_size=BATCH, max_epochs=epochs,
                  lr=LR, optimizer=torch.optim.AdamW,
                  optimizer__weight_decay=WEIGHT_DECAY, train_split=None, verbose=0)
    if method == "skada_dann":
        model = DANN(net, num_features=HIDDEN, **common)
    else:
        model = DeepCoral(net, **common)
    X = np.concatenate([X_s, X_t])
    y = np.concatenate([y_s, -np.ones(len(X_t), dtype=np.int64)])
    sample_domain = np.concatenate([np.ones(len(X_s)), -np.ones(len(X_t))]).astype(np.int64)
    model.fit(X, y, sample_domain=sample_domain)
    predicted = model.predict(X_t, sample_domain=-np.ones(len(X_t), dtype=np.int64))
    return float(np.mean(predicted == y_t))


def run(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    done = set()
    if os.path.exists(args.out):
        with open(args.out) as handle:
            for line in handle:
                r = json.loads(line)
                done.add((r["dataset"], r["source"], r["target"], r["method"], r["seed"]))
    methods = [m for m in args.methods]
    for dataset in args.datasets:
        markets = load(dataset)
        for source_name, target_name in itertools.permutations(markets, 2):
            for seed in args.seeds:
                for method in methods:
                    key = (dataset, source_name, target_name, method, seed)
                    if key in done:
                        continue
                    source, target = markets[source_name], markets[target_name]
                    start = time.perf_counter()
                    runner = run_skada if method.startswith("skada") else run_ours
                    accuracy = runner(method, source, target, seed, args.epochs)
                    record = {"dataset": dataset, "source": source_name,
                              "target": target_name, "method": method, "seed": seed,
                              "accuracy": accuracy, "epochs": args.epochs,
                              "seconds": time.perf_counter() - start}
                    with open(args.out, "a") as handle:
                        handle.write(json.dumps(record) + "\n")
                    print(json.dumps(record), flush=True)


def render(path: str, section: str, command: str) -> None:
    unique = {}
    for line in open(path):
        r = json.loads(line)
        unique.setdefault((r["dataset"], r["source"], r["target"], r["method"], r["seed"]), r)
    rows = list(unique.values())
    methods = [m for m in (*OURS, *SKADA) if any(r["method"] == m for r in rows)]
    by = defaultdict(list)
    for r in rows:
        by[(r["dataset"], r["source"], r["target"], r["method"])].append(r["accuracy"])
    lines = ["## Feature alignment (`transferkit.align`): target accuracy on real data", "",
             f"Machine: 2-core CPU, shared and noisy ({platform.processor() or 'x86_64'}); "
             f"date {time.strftime('%Y-%m-%d')}; torch {torch.__version__}.", "",
             "Protocol: unsupervised DA, transductive (train on labelled source + unlabelled "
             "target, accuracy on all target rows). Same MLP (256 hidden, dropout 0.2), "
             "z-scored features, AdamW lr 1e-3 wd 1e-4, batch 64, same epochs and seeds for "
             "every method, ours and skada's; defaults, nothing tuned on target labels. "
             "mean ± std over seeds.", "", f"Command: `{command}`", ""]
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        pairs = list(dict.fromkeys((r["source"], r["target"]) for r in rows
                                   if r["dataset"] == dataset))
        seeds = sorted({r["seed"] for r in rows if r["dataset"] == dataset})
        epochs = sorted({r["epochs"] for r in rows if r["dataset"] == dataset})
        lines += [f"### {dataset} ({len(pairs)} pairs, seeds {seeds}, epochs {epochs})", "",
                  "| pair | " + " | ".join(methods) + " |",
                  "|---" * (len(methods) + 1) + "|"]
        means = defaultdict(list)
        wins = defaultdict(int)
        for pair in pairs:
            cells = []
            for method in methods:
                values = by.get((dataset, *pair, method), [])
                if values:
                    means[method].append(np.mean(values))
                    cells.append(f"{100 * np.mean(values):.1f} ± {100 * np.std(values):.1f}")
                else:
                    cells.append("—")
            baseline = by.get((dataset, *pair, "source_only"), [])
            for method in methods:
                values = by.get((dataset, *pair, method), [])
                if values and baseline and np.mean(values) > np.mean(baseline):
                    wins[method] += 1
            lines.append(f"| {pair[0]} → {pair[1]} | " + " | ".join(cells) + " |")
        complete = [m for m in methods if len(means[m]) == len(pairs)]
        lines.append("| **mean over pairs** | " + " | ".join(
            f"**{100 * np.mean(means[m]):.1f}**" if m in complete else "—" for m in methods)
            + " |")
        lines.append("| pairs above source-only | " + " | ".join(
            "—" if m == "source_only" else f"{wins[m]}/{len(pairs)}" for m in methods) + " |")
        lines.append("")
    os.makedirs(os.path.dirname(section), exist_ok=True)
    with open(section + ".tmp", "w") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(section + ".tmp", section)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["amazon", "office", "digits"])
    parser.add_argument("--methods", nargs="+", default=[*OURS, *SKADA])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/align_results.jsonl")
    parser.add_argument("--render", metavar="JSONL")
    parser.add_argument("--section", default="benchmarks/sections/align.md")
    parser.add_argument("--command", default="python benchmarks/align_benchmark.py")
    args = parser.parse_args()
    if args.render:
        render(args.render, args.section, args.command)
    else:
        run(args)


if __name__ == "__main__":
    main()
