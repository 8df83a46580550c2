"""pytorch-adapt's methods behind the suite's adapter contract (library ``pytorch_adapt``).

Each method is one of pytorch-adapt's adapters driven by a plain loop that calls
``adapter.training_step(batch)`` (the "use in vanilla PyTorch" way of its docs, without the
Ignite or Lightning framework wrappers): ``dann`` is ``adapters.DANN``, ``cdan`` is
``adapters.CDAN`` with ``misc={"feature_combiner": RandomizedDotProduct([256, n_classes],
256)}`` (the form of the library's docs examples), ``mmd`` is ``adapters.Aligner`` (its
default loss, ``MMDLoss()``: linear MK-MMD, ``kernel_scales=1``), ``deep_coral`` is
``adapters.Aligner`` with ``hook_kwargs={"loss_fn": CORALLoss()}``. The hooks keep their
defaults (loss weights 1, gradient reversal weight 1, softmax conditioning for CDAN).

Network: the suite's MLP split in two, generator ``G = Linear(d, 256) -> ReLU ->
Dropout(0.2)`` and classifier ``C = Linear(256, n_classes)``; the domain discriminator is
the library's ``models.Discriminator(in_size=256)`` with its default width (``h=2048``, a
3-layer MLP). Every model gets AdamW with the suite's lr and weight decay (the library's
default would be Adam, lr 1e-4). One epoch is one pass over the shuffled source rows in
batches of 64, each paired with a batch of as many target rows drawn from a shuffled
cycle over the target. Predictions are the argmax of ``C(G(x))`` on the target rows.

Measured caveat (Amazon books -> kitchen, seed 0): ``cdan`` (a GAN-style hook, label-flip
generator loss, no warm-up) is unstable with these defaults: 0.70 / 0.73 / 0.53 target
accuracy after 1 / 2 / 5 epochs, its predictions collapsing towards one class; the
``h=2048`` discriminator also makes ``dann`` and ``cdan`` 10-20x slower than ``h=256``.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import numpy as np

from benchmarks.suite.contract import Split

METHODS = {"uda": ("dann", "cdan", "mmd", "deep_coral")}
CAVEATS = {"cdan": "pytorch-adapt's CDAN hook with its defaults (no warm-up, 2048-wide "
                   "discriminator) is unstable here: predictions collapse towards one class"}


def versions() -> dict[str, str]:
    return {name: metadata.version(name) for name in ("pytorch-adapt", "torch")}


def set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def _adapter(method: str, n_features: int, n_classes: int, params: dict, device: Any) -> Any:
    import torch
    from pytorch_adapt.adapters import CDAN, DANN, Aligner
    from pytorch_adapt.containers import Misc, Models, Optimizers
    from pytorch_adapt.layers import CORALLoss, RandomizedDotProduct
    from pytorch_adapt.models import Discriminator
    from torch import nn

    hidden = int(params.get("hidden", 256))
    generator = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(),
                              nn.Dropout(float(params.get("dropout", 0.2))))
    classifier = nn.Linear(hidden, n_classes)
    generator, classifier = generator.to(device), classifier.to(device)
    optimizers = Optimizers((torch.optim.AdamW, {"lr": float(params.get("lr", 1e-3)),
                                                 "weight_decay": float(
                                                     params.get("weight_decay", 1e-4))}))
    if method in ("mmd", "deep_coral"):
        hook_kwargs = {"loss_fn": CORALLoss()} if method == "deep_coral" else None
        return Aligner(models=Models({"G": generator, "C": classifier}),
                       optimizers=optimizers, hook_kwargs=hook_kwargs)
    discriminator = Discriminator(in_size=hidden).to(device)
    models = Models({"G": generator, "C": classifier, "D": discriminator})
    if method == "dann":
        return DANN(models=models, optimizers=optimizers)
    combiner = RandomizedDotProduct([hidden, n_classes], hidden).to(device)
    misc = Misc({"feature_combiner": combiner})
    return CDAN(models=models, optimizers=optimizers, misc=misc)


def predict(method: str, split: Split, seed: int, params: dict) -> np.ndarray:
    import torch

    if method not in METHODS["uda"]:
        raise ValueError(f"pytorch_adapt has no method {method!r}; expected one of "
                         f"{METHODS['uda']}")
    torch.manual_seed(seed)
    np.random.seed(seed)
    device = torch.device(params.get("device", "cpu"))
    adapter = _adapter(method, split.X_source.shape[1], split.n_classes, params, device)
    X_source = torch.as_tensor(split.X_source, dtype=torch.float32, device=device)
    y_source = torch.as_tensor(split.y_source, dtype=torch.int64, device=device)
    X_target = torch.as_tensor(split.X_target, dtype=torch.float32, device=device)
    n_source, n_target = len(X_source), len(X_target)
    batch_size = int(params.get("batch_size", 64))
    shuffler = torch.Generator().manual_seed(seed)
    target_order, cursor = torch.randperm(n_target, generator=shuffler), 0
    adapter.models.train()
    for _ in range(int(params.get("epochs", 20))):
        for rows in torch.randperm(n_source, generator=shuffler).split(batch_size):
            if cursor + len(rows) > n_target:
                target_order, cursor = torch.randperm(n_target, generator=shuffler), 0
            target_rows = target_order[cursor:cursor + len(rows)].to(device)
            cursor += len(rows)
            rows = rows.to(device)
            adapter.training_step({
                "src_imgs": X_source[rows], "src_labels": y_source[rows],
                "target_imgs": X_target[target_rows],
                "src_domain": torch.zeros(len(rows), dtype=torch.int64, device=device),
                "target_domain": torch.ones(len(target_rows), dtype=torch.int64,
                                            device=device)})
    adapter.models.eval()
    with torch.no_grad():
        logits = adapter.inference(X_target)["logits"]
    return logits.argmax(dim=1).cpu().numpy()
