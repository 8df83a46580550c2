"""The shared PyTorch training loop: one ``Trainer`` for alignment, fine-tuning and meta-learning.

A method supplies a module and a *step function*; the trainer does the rest: device
choice, mixed precision (bf16/fp16 autocast on CUDA, off on CPU), paired source/target
mini-batches of unequal sizes, optimizer and LR schedule (per-group learning rates),
gradient clipping, extra loss terms, callbacks at epoch/step boundaries, early stopping,
a tqdm bar with live loss/metrics, seeded determinism, atomic safetensors + JSON
checkpoints with exact ``resume=True``, and ``DistributedDataParallel`` under ``torchrun``.

Usage
-----
>>> import torch
>>> from torch import nn
>>> from transferkit.training import Callback, StepOutput, TrainConfig, Trainer
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> def step(model, batch, context):
...     X, y = batch.source                    # tensors on the training device
...     (X_target,) = batch.target             # the target market's unlabelled rows
...     logits = model(X)
...     accuracy = (logits.argmax(1) == y).float().mean()
...     return StepOutput(nn.functional.cross_entropy(logits, y), {"accuracy": accuracy})
>>> class Unfreeze(Callback):                  # change trainability between epochs
...     def on_epoch_start(self, trainer, epoch):
...         trainer.model[0].requires_grad_(epoch >= 1)
>>> trainer = Trainer(
...     model, step,
...     config=TrainConfig(epochs=2, batch_size=16, lr=1e-2, progress=False),
...     param_groups=[{"params": model[0].parameters(), "lr_mult": 0.1},   # backbone
...                   {"params": model[2].parameters()}],                  # head
...     callbacks=[Unfreeze()],
...     penalties=[lambda m: 1e-4 * m[2].weight.pow(2).sum()],             # e.g. L2-SP
... )
>>> X, y, X_target = torch.randn(40, 4), torch.randint(0, 2, (40,)), torch.randn(25, 4)
>>> trainer = trainer.fit((X, y), X_target)
>>> trainer.global_step_, len(trainer.history_)
(6, 2)
>>> trainer.predict(X_target).shape            # model(X) over the rows, eval mode
torch.Size([25, 2])

Sources and targets may be Domains (numeric features, via :func:`domain_dataset`),
tensors/arrays or tuples of them, or any ``torch.utils.data.Dataset`` (loaded with
``num_workers`` / ``pin_memory``). ``fit(..., validation=data)`` with
``Trainer(eval_step=fn)`` logs ``val_*`` keys that ``TrainConfig(patience=...,
monitor="val_accuracy")`` can watch. Under ``torchrun`` the step function receives the
DDP-wrapped model: call ``model(...)`` rather than its submodules.
"""

from __future__ import annotations

from transferkit.training._checkpoint import (
    check_architecture,
    latest_checkpoint,
    load_checkpoint,
    load_weights,
    save_weights,
)
from transferkit.training._config import TrainConfig
from transferkit.training._data import as_dataset, domain_dataset
from transferkit.training._distributed import resolve_device
from transferkit.training._hooks import (
    Batch,
    Callback,
    DivergenceError,
    LambdaCallback,
    NonFiniteLossError,
    StepContext,
    StepOutput,
)
from transferkit.training._trainer import Trainer

__all__ = [
    "Batch",
    "Callback",
    "DivergenceError",
    "LambdaCallback",
    "NonFiniteLossError",
    "StepContext",
    "StepOutput",
    "TrainConfig",
    "Trainer",
    "as_dataset",
    "check_architecture",
    "domain_dataset",
    "latest_checkpoint",
    "load_checkpoint",
    "load_weights",
    "resolve_device",
    "save_weights",
]
