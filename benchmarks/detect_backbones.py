"""A better backbone scores higher: LogME / H-score / LEEP of three image backbones.

Target markets: the Office-Caltech10 "webcam" and "dslr" photos (customer photos of
products). Candidate backbones: EfficientNet-Lite0 with its ImageNet weights, the same
network at random initialisation, and raw 32 x 32 grey pixels. Scores are computed on a
labelled 30 % of each target; the accuracy reached is a logistic-regression head fitted
on those rows' features and tested on the other 70 %.

Run:  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/detect_backbones.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import timm
import torch
from PIL import Image
from scipy.stats import kendalltau
from sklearn.linear_model import LogisticRegression

from transferkit.backbones.vision import efficientnet_lite0_imagenet
from transferkit.datasets import data_dir
from transferkit.detect import h_score, leep, logme

IMAGE_SIZE = 160
MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])


def images(domain: str) -> tuple[list[Path], np.ndarray]:
    root = Path(data_dir()) / "office_caltech10_images" / domain
    paths = sorted(root.glob("*/*.jpg"))
    return paths, np.array([p.parent.name for p in paths])


def tensor(path: Path) -> np.ndarray:
    image = Image.open(path).convert("RGB").resize((IMAGE_SIZE, IMAGE_SIZE))
    array = (np.asarray(image, dtype=np.float32) / 255 - MEAN) / STD
    return array.transpose(2, 0, 1).astype(np.float32)


def network_outputs(model: torch.nn.Module, paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    model.eval()
    features, probs = [], []
    with torch.no_grad():
        for start in range(0, len(paths), 32):
            batch = torch.tensor(np.stack([tensor(p) for p in paths[start:start + 32]]))
            pooled = model.forward_head(model.forward_features(batch), pre_logits=True)
            features.append(pooled.numpy())
            probs.append(torch.softmax(model.get_classifier()(pooled), 1).numpy())
    return np.vstack(features).astype(float), np.vstack(probs).astype(float)


def pixels(paths: list[Path]) -> np.ndarray:
    return np.stack([np.asarray(Image.open(p).convert("L").resize((32, 32)), dtype=float)
                     .ravel() / 255 for p in paths])


def main() -> int:
    started = time.time()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    backbones = {
        "efficientnet_lite0 (ImageNet)": efficientnet_lite0_imagenet(),
        "efficientnet_lite0 (random init)": timm.create_model("efficientnet_lite0",
                                                              pretrained=False),
    }
    rows = []
    for domain in ("webcam", "dslr"):
        paths, y = images(domain)
        order = np.random.default_rng(0).permutation(len(paths))
        n_lab = int(0.3 * len(paths))
        lab, test = order[:n_lab], order[n_lab:]
        outputs = {name: network_outputs(model, paths) for name, model in backbones.items()}
        outputs["raw 32x32 grey pixels"] = (pixels(paths), None)
        for name, (features, probs) in outputs.items():
            head = LogisticRegression(max_iter=3000).fit(features[lab], y[lab])
            rows.append({
                "target": domain, "backbone": name,
                "logme": logme(features[lab], y[lab]),
                "h_score": h_score(features[lab], y[lab]),
                "leep": np.nan if probs is None else leep(probs[lab], y[lab]),
                "accuracy": float(np.mean(head.predict(features[test]) == y[test])),
            })
            print(rows[-1], file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    print(table.round(4).to_markdown(index=False))
    print()
    for score in ("logme", "h_score"):
        taus = [kendalltau(g[score], g["accuracy"]).statistic for _, g in table.groupby("target")]
        print(f"- Kendall tau {score} vs accuracy, per target: "
              + ", ".join(f"{t:+.2f}" for t in taus))
    print(f"\n(wall time {time.time() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
