"""CUDA paths: autocast (bf16/fp16 + GradScaler), device-resident and pinned batches.

Skipped without a CUDA device; run them on a GPU machine with ``pytest -m gpu``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

from transferkit import Domain
from transferkit.align import DANN
from transferkit.training import (
    StepOutput,
    TrainConfig,
    Trainer,
    latest_checkpoint,
    load_checkpoint,
)

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def data(n=256):
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(n, 8, generator=generator)
    return X, (X[:, 0] > 0).long()


class Recording:
    def __init__(self):
        self.dtypes, self.devices, self.pinned = [], [], []

    def __call__(self, model, batch, context):
        X, y = batch.source
        logits = model(X)
        self.dtypes.append(logits.dtype)
        self.devices.append(X.device.type)
        return StepOutput(nn.functional.cross_entropy(logits.float(), y),
                          {"accuracy": (logits.argmax(1) == y).float().mean()})


def test_auto_amp_uses_bf16_or_fp16_and_learns():
    step = Recording()
    trainer = Trainer(nn.Linear(8, 2), step, config=TrainConfig(epochs=5, progress=False,
                                                                lr=0.05))
    trainer.fit(data())
    expected = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    assert set(step.dtypes) == {expected} and set(step.devices) == {"cuda"}
    assert trainer.model_.weight.dtype == torch.float32  # master weights stay fp32
    assert trainer.history_[-1]["accuracy"] > 0.9
    assert trainer.predict(data()[0]).device.type == "cpu"


def test_fp16_uses_a_gradient_scaler_that_is_checkpointed(tmp_path):
    trainer = Trainer(nn.Linear(8, 2), Recording(),
                      config=TrainConfig(epochs=2, amp="fp16", progress=False,
                                         checkpoint_dir=str(tmp_path)))
    trainer.fit(data())
    assert trainer.scaler_ is not None
    state = load_checkpoint(latest_checkpoint(tmp_path))
    assert state["state"]["scaler"]["scale"] > 0 and "rng.cuda" in state["tensors"]


def test_amp_off_runs_in_float32():
    step = Recording()
    Trainer(nn.Linear(8, 2), step, config=TrainConfig(epochs=1, amp="off",
                                                     progress=False)).fit(data())
    assert set(step.dtypes) == {torch.float32}


class Rows(Dataset):
    """Not a TensorDataset: goes through DataLoader workers and pinned memory."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        return self.X[index], self.y[index]


def test_dataloader_path_pins_and_copies_asynchronously():
    X, y = data()
    step = Recording()
    trainer = Trainer(nn.Linear(8, 2), step,
                      config=TrainConfig(epochs=1, num_workers=2, pin_memory=True,
                                         progress=False))
    trainer.fit(Rows(X, y))
    assert trainer._pin and set(step.devices) == {"cuda"}


def test_pinned_per_batch_copies_when_data_are_too_big_to_cache(monkeypatch):
    from transferkit.training import _data

    monkeypatch.setattr(_data, "_DEVICE_CACHE_BYTES", 0)
    step = Recording()
    Trainer(nn.Linear(8, 2), step, config=TrainConfig(epochs=1, progress=False)).fit(data())
    assert set(step.devices) == {"cuda"}


def test_dann_estimator_on_cuda():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    source = Domain.from_arrays(X, (X[:, 0] > 0).astype(int))
    model = DANN(hidden_sizes=(16,), config=TrainConfig(epochs=2, progress=False))
    model.fit(source, X + 1.0)
    assert model.trainer_.device_.type == "cuda"
    assert model.predict_proba(X).shape == (200, 2)
