"""Training jobs run in subprocesses by the resume and DDP tests (and in-process too)."""

from __future__ import annotations

import json
import os
import signal
import sys

import torch
from torch import nn

from transferkit.training import Callback, StepOutput, TrainConfig, Trainer, save_weights


def data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(50, 4, generator=generator)
    y = (X[:, 0] + X[:, 1] > 0).long()
    X_target = torch.randn(30, 4, generator=generator) + 0.5
    return X, y, X_target


def build() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))


def step(model: nn.Module, batch, context) -> StepOutput:
    X, y = batch.source
    (X_target,) = batch.target
    logits = model(torch.cat([X, X_target]))
    loss = nn.functional.cross_entropy(logits[: len(X)], y)
    # a target term, so the target order and the dropout RNG both shape the result
    loss = loss + 0.1 * logits[len(X):].pow(2).mean()
    accuracy = (logits[: len(X)].argmax(1) == y).float().mean()
    return StepOutput(loss, {"accuracy": accuracy})


class KillAt(Callback):
    """SIGKILL this process right after global step ``at`` (a crash, no cleanup)."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_step_end(self, trainer, logs) -> None:
        if trainer.global_step_ == self.at:
            os.kill(os.getpid(), signal.SIGKILL)


def train(checkpoint_dir: str | None, *, resume: bool = False, kill_at: int | None = None,
          scheduler: str = "cosine") -> Trainer:
    X, y, X_target = data()
    config = TrainConfig(epochs=4, batch_size=12, lr=0.05, optimizer="adamw",
                         scheduler=scheduler, warmup_steps=2, grad_clip=1.0, seed=3,
                         checkpoint_dir=checkpoint_dir, checkpoint_every=3, resume=resume,
                         progress=False)
    callbacks = [KillAt(kill_at)] if kill_at is not None else []
    return Trainer(build(), step, config=config, callbacks=callbacks).fit((X, y), X_target)


def main() -> None:
    """``python _jobs.py resume CKPT_DIR KILL_AT`` or ``torchrun ... _jobs.py ddp OUT_DIR``."""
    torch.set_num_threads(1)
    mode, folder = sys.argv[1], sys.argv[2]
    if mode == "resume":
        train(folder, kill_at=int(sys.argv[3]))
        return
    trainer = train(os.path.join(folder, "checkpoints"))
    rank = trainer.rank_
    save_weights(os.path.join(folder, f"rank{rank}.safetensors"), trainer.model_.state_dict())
    with open(os.path.join(folder, f"rank{rank}.json"), "w") as handle:
        json.dump({"world_size": trainer.world_size_, "global_step": trainer.global_step_,
                   "steps_per_epoch": trainer.steps_per_epoch_,
                   "history": trainer.history_}, handle)


if __name__ == "__main__":
    main()
