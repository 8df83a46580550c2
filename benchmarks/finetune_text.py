"""Text evidence for transferkit.finetune: pretrained encoders vs training from scratch.

Part A (multilingual): the Japanese marketplace of MARC (binary sentiment) with only
N = 50 / 200 / 1000 labelled reviews. A linear probe on the frozen multilingual USE
(pip-shipped) vs a model trained from scratch on the same N labels (TF-IDF character
n-grams + logistic regression), and the US-trained probe applied to Japan unchanged.

Part B (English, fine-tuning): the US marketplace with N labels: linear probe on frozen
MiniLM (pip-shipped) and LP-FT (probe, then fine-tune all of MiniLM) vs scratch.

Run from the repository root (2 CPU cores are enough; features are cached under
.transferkit_cache/features):

    .venv/bin/python benchmarks/finetune_text.py [--part a|b|both] [--seeds 3]
        [--sizes 50 200 1000] [--no-lpft]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from transferkit.backbones import MiniLMBackbone, MultilingualUSEBackbone
from transferkit.datasets.marc import load_marc_reviews
from transferkit.exceptions import TransferWarning
from transferkit.finetune import LPFT, FineTuner, LinearProbe
from transferkit.training import TrainConfig

CACHE = ".transferkit_cache/features"
SIZES = (50, 200, 1000)


def scratch(train, test, analyzer: str) -> float:
    ngrams = (1, 3) if analyzer == "char_wb" else (1, 2)
    model = make_pipeline(TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, min_df=1,
                                          sublinear_tf=True),
                          LogisticRegression(C=10.0, max_iter=2000))
    model.fit(train.texts, train.y)
    return float((model.predict(test.texts) == test.y).mean())


def probe_config(n: int, seed: int) -> TrainConfig:
    steps = max(1, int(np.ceil(n / 32)))
    return TrainConfig(epochs=max(20, 400 // steps), batch_size=32, lr=1e-2, weight_decay=1e-3,
                       seed=seed, progress=False)


def part_a(seeds: int, sizes: list[int]) -> None:
    markets = load_marc_reviews(["en", "ja"], "train", binary=True)
    test = load_marc_reviews(["ja"], "test", binary=True)["ja"].sample(2000, seed=0)
    encoder = MultilingualUSEBackbone(threads=1)
    start = time.perf_counter()
    us = FineTuner(encoder, LinearProbe(C="cv"), config=probe_config(1024, 0), cache_dir=CACHE)
    us.fit(markets["en"])
    zero_shot = us.score(test)
    print(f"USE encode+fit (en 1024 + ja test 2000): {time.perf_counter() - start:.0f}s")
    print("\n| target labels (ja) | scratch TF-IDF char | USE probe (Trainer head) "
          "| USE probe (L-BFGS, C by CV) | USE probe, 1024 US + N ja labels "
          "| US-trained probe, no ja labels |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        rows = {"scratch": [], "probe": [], "lbfgs": [], "pooled": []}
        for seed in range(seeds):
            train = markets["ja"].hide_labels(n, seed=seed).labeled()
            rows["scratch"].append(scratch(train, test, "char_wb"))
            tuner = FineTuner(encoder, LinearProbe(), config=probe_config(n, seed),
                              cache_dir=CACHE).fit(train)
            rows["probe"].append(tuner.score(test))
            exact = FineTuner(encoder, LinearProbe(C="cv"), config=probe_config(n, seed),
                              cache_dir=CACHE).fit(train)
            rows["lbfgs"].append(exact.score(test))
            pooled = FineTuner(encoder, LinearProbe(C="cv"), config=probe_config(n, seed),
                               cache_dir=CACHE).fit(markets["en"], train)
            rows["pooled"].append(pooled.score(test))
        cells = [f"{np.mean(v):.3f} ± {np.std(v):.3f}" for v in rows.values()]
        print(f"| {n} | {' | '.join(cells)} | {zero_shot:.3f} |", flush=True)


def part_b(seeds: int, sizes: list[int], lpft_runs: bool) -> None:
    pool = load_marc_reviews(["en"], "train", binary=True)["en"]
    test = load_marc_reviews(["en"], "test", binary=True)["en"].sample(1000, seed=0)
    encoder = MiniLMBackbone(max_length=128)
    print("\n| target labels (en) | scratch TF-IDF words | MiniLM probe (L-BFGS, C by CV) "
          "| MiniLM LP-FT | LP-FT minutes |")
    print("|---|---|---|---|---|")
    for n in sizes:
        rows = {"scratch": [], "probe": [], "lpft": []}
        minutes = []
        for seed in range(seeds):
            # The whole pool with n labels: FineTuner trains on the labelled rows and the
            # feature cache (keyed by the rows, not the labels) is shared by every n.
            train = pool.hide_labels(n, seed=seed)
            rows["scratch"].append(scratch(train.labeled(), test, "word"))
            probe = FineTuner(encoder, LinearProbe(C="cv"), config=probe_config(n, seed),
                              cache_dir=CACHE).fit(train)
            rows["probe"].append(probe.score(test))
            if seed == 0 and lpft_runs:  # fine-tuning MiniLM on 2 shared CPU cores: one seed
                steps = int(np.ceil(n / 16))
                config = TrainConfig(epochs=max(2, int(np.ceil(40 / steps))), batch_size=16,
                                     lr=1e-3, seed=seed, progress=False)
                start = time.perf_counter()
                lpft = FineTuner(encoder, LPFT(probe_C="cv", lr_mult=0.03),
                                 config=config, cache_dir=CACHE).fit(train)
                rows["lpft"].append(lpft.score(test))
                minutes.append((time.perf_counter() - start) / 60)
        cells = [f"{np.mean(v):.3f} ± {np.std(v):.3f}" if len(v) > 1 else
                 (f"{v[0]:.3f}" if v else "not run") for v in rows.values()]
        spent = f"{minutes[0]:.1f}" if minutes else "-"
        print(f"| {n} | {cells[0]} | {cells[1]} | {cells[2]} | {spent} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["a", "b", "both"], default="both")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES),
                        help="numbers of target labels (default 50 200 1000)")
    parser.add_argument("--no-lpft", action="store_true",
                        help="part b without LP-FT (it fine-tunes MiniLM: minutes per size)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=TransferWarning)
    if args.part in ("a", "both"):
        part_a(args.seeds, args.sizes)
    if args.part in ("b", "both"):
        part_b(args.seeds, args.sizes, not args.no_lpft)


if __name__ == "__main__":
    main()
