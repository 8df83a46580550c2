"""Evidence for the real-data loaders: load times, market sizes, and a real shift per pair.

For every data set present under the shared data folder this script times a cold load,
records each market's size and label balance, reproduces the published 1-nearest-neighbour
baselines of Long et al. (ICCV 2013) on Office-Caltech10 SURF and MNIST/USPS (a check that
features, labels and their order are read right), and for one source → target pair per
feature/tabular data set scores source-only vs target-only logistic models on held-out
target rows (``transferkit.baselines.compare_baselines``). Writes
``benchmarks/sections/datasets.md``.

Run from the repository root::

    .venv/bin/python benchmarks/datasets_overview.py [--root ../shared/data]
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_limits

from transferkit._io import atomic_write_text
from transferkit.baselines import compare_baselines
from transferkit.datasets import DATASETS, data_dir
from transferkit.domain import Domain

PAIRS = {
    "amazon_sentiment": ("books", "kitchen"),
    "office_caltech_surf": ("amazon", "webcam"),
    "mnist_usps": ("mnist", "usps"),
    "online_retail": ("United Kingdom", "Germany"),
    "stackoverflow": ("United States", "Germany"),
}
COMMAND = ".venv/bin/python benchmarks/datasets_overview.py"
# 1-NN accuracies (%) from the NN column of Long et al., "Transfer Feature Learning with
# Joint Distribution Adaptation", ICCV 2013.
PUBLISHED_NN = {
    "office_caltech_surf": {
        ("caltech10", "amazon"): 23.70, ("caltech10", "webcam"): 25.76,
        ("caltech10", "dslr"): 25.48, ("amazon", "caltech10"): 26.00,
        ("amazon", "webcam"): 29.83, ("amazon", "dslr"): 25.48,
        ("webcam", "caltech10"): 19.86, ("webcam", "amazon"): 22.96,
        ("webcam", "dslr"): 59.24, ("dslr", "caltech10"): 26.27,
        ("dslr", "amazon"): 28.50, ("dslr", "webcam"): 63.39,
    },
    "mnist_usps": {("usps", "mnist"): 44.70, ("mnist", "usps"): 65.94},
}


def nn_prepare(name: str, X: np.ndarray) -> np.ndarray:
    """The JDA protocol's preprocessing: SURF L1-normalised then z-scored, digits L2."""
    if name == "mnist_usps":
        return X / np.linalg.norm(X, axis=1, keepdims=True)
    X = X / X.sum(axis=1, keepdims=True)
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def nearest_neighbour_rows(name: str, markets: dict[str, Domain]) -> list[str]:
    rows = []
    for (source, target), published in PUBLISHED_NN[name].items():
        model = KNeighborsClassifier(n_neighbors=1).fit(
            nn_prepare(name, markets[source].X), markets[source].y)
        ours = 100 * model.score(nn_prepare(name, markets[target].X), markets[target].y)
        rows.append(f"| {name} | {source} → {target} | {ours:.2f} | {published:.2f} |")
    return rows


def balance(domain: Domain) -> str:
    if not domain.is_classification:
        return "-"
    shares = pd.Series(domain.y).value_counts(normalize=True)
    return f"{len(shares)} classes, {shares.min():.1%}-{shares.max():.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None)
    parser.add_argument("--out", default="benchmarks/sections/datasets.md")
    args = parser.parse_args()
    root = data_dir(args.root)
    sizes, scores, nn_rows = [], [], []
    for name, info in DATASETS.items():
        if not info.is_available(root):
            sizes.append(f"| {name} | not found at {info.location(root)} | | | |")
            continue
        kwargs = {} if info.embedded else {"root": root}
        start = time.perf_counter()
        markets = info.load(**kwargs)
        seconds = time.perf_counter() - start
        print(f"{name}: loaded in {seconds:.1f} s", file=sys.stderr, flush=True)
        for index, (market, domain) in enumerate(markets.items()):
            shown = f"{seconds:.2f}" if index == 0 else ""
            sizes.append(f"| {name if index == 0 else ''} | {market} | {domain.n_samples} | "
                         f"{balance(domain)} | {shown} |")
        if name in PUBLISHED_NN:
            nn_rows.extend(nearest_neighbour_rows(name, markets))
        if name in PAIRS:
            source, target = (markets[m] for m in PAIRS[name])
            variants = [("standardised", {})]
            if name == "mnist_usps":
                variants.append(("raw pixels", {"scale_numeric": False}))
            for variant, options in variants:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    with threadpool_limits(1):
                        result = compare_baselines(source, target, model="logistic",
                                                   n_resamples=500, seed=0,
                                                   harmonize_options=options)
                metric = result.primary_metric
                table = result.table
                cells = [f"{table.loc[b, metric]:.3f} [{table.loc[b, metric + '_low']:.3f}, "
                         f"{table.loc[b, metric + '_high']:.3f}]"
                         for b in ("source_only", "target_only")]
                scores.append(
                    f"| {name} | {source.name} → {target.name} | {variant} | "
                    f"{result.n_source} / {result.n_target_train} / {result.n_target_test} | "
                    f"{metric} | {cells[0]} | {cells[1]} |")
            print(f"{name}: baselines in {time.perf_counter() - start - seconds:.1f} s",
                  file=sys.stderr, flush=True)
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    text = "\n".join([
        "## Real data sets (`transferkit.datasets`)",
        "",
        f"Command: `{COMMAND}` (from the repository root; data in `{root}`). "
        f"Machine: 2-core CPU, shared and noisy ({platform.python_implementation()} "
        f"{platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}). "
        f"Date: {today}.",
        "",
        "### Markets and cold-load times",
        "",
        "Time is the first `load_dataset(name)` call in a fresh process (all default "
        "domains; the Online Retail workbook is parsed by openpyxl, which dominates).",
        "",
        "| data set | market / domain | rows | label balance (min-max class share) | "
        "load s |",
        "|---|---|---|---|---|",
        *sizes,
        "",
        "### Loaders reproduce published numbers",
        "",
        "1-nearest-neighbour accuracy (%) of a source-trained classifier on the whole "
        "target, with the JDA protocol's preprocessing (SURF: each image L1-normalised, "
        "then z-scored per domain; digits: each image L2-normalised), against the NN "
        "column of Long et al., ICCV 2013. Equal figures mean features, labels and the "
        "documented class order are read exactly as in the literature.",
        "",
        "| data set | pair | transferkit loaders | published |",
        "|---|---|---|---|",
        *nn_rows,
        "",
        "### Is there a gap? Source-only vs target-only on held-out target rows",
        "",
        "Logistic regression after `harmonize` (features standardised with source "
        "statistics unless marked raw); 30 % of the target held out (stratified, seed 0), "
        "95 % bootstrap intervals over 500 resamples. Rows: labelled source / target-train "
        "/ target-test.",
        "",
        "| data set | pair | features | rows | metric | source-only | target-only |",
        "|---|---|---|---|---|---|---|",
        *scores,
        "",
        "Reading: the feature data sets show a large, real gap (books → kitchen, amazon → "
        "webcam, MNIST → USPS). MNIST → USPS is worse than chance once standardised: MNIST "
        "digits sit in the centre of the 16 x 16 grid, so its border pixels are almost "
        "constant and standardising with MNIST statistics blows USPS's inked borders up; "
        "the raw-pixel row shows the same data without that step. The two small tabular "
        "targets (19 and 228 held-out rows) give intervals too wide to rank anything, "
        "which is the few-labels situation the library is for.",
        "",
    ])
    atomic_write_text(Path(args.out), text)


if __name__ == "__main__":
    main()
