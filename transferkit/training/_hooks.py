"""What a step function receives and returns, callbacks, and the trainer's errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from transferkit.exceptions import TransferkitError

if TYPE_CHECKING:
    from transferkit.training._trainer import Trainer

__all__ = [
    "Batch",
    "Callback",
    "DivergenceError",
    "LambdaCallback",
    "NonFiniteLossError",
    "StepContext",
    "StepOutput",
]


class NonFiniteLossError(TransferkitError, FloatingPointError):
    """The training loss became NaN or infinite; the message names the step and the last
    good checkpoint."""


class DivergenceError(NonFiniteLossError):
    """The training loss exploded (``TrainConfig.divergence_factor`` times its first value)
    before it became infinite; lower the learning rate. Caught by ``except
    NonFiniteLossError`` too."""


@dataclass(frozen=True)
class Batch:
    """One training step's data: a source mini-batch and, when given, a target one.

    Attributes
    ----------
    source : tuple of Tensor
        The source dataset's tensors for this step, on the training device
        (``(X, y)`` for a labelled Domain).
    target : tuple of Tensor or None
        The target dataset's tensors (``(X,)`` for an unlabelled market), or None when
        ``fit`` got no target.
    """

    source: tuple[torch.Tensor, ...]
    target: tuple[torch.Tensor, ...] | None = None


@dataclass(frozen=True)
class StepContext:
    """Where training stands, handed to every step function.

    Attributes
    ----------
    epoch : int
        Zero-based epoch.
    step : int
        Zero-based step within the epoch.
    global_step : int
        Steps done before this one.
    total_steps : int
        Steps of the whole run (``epochs * steps_per_epoch``).
    device : torch.device
    training : bool
        False inside validation.
    """

    epoch: int
    step: int
    global_step: int
    total_steps: int
    device: torch.device
    training: bool = True

    @property
    def progress(self) -> float:
        """Fraction of training done, in [0, 1] (drives the DANN lambda schedule)."""
        return min(1.0, self.global_step / max(1, self.total_steps))


@dataclass
class StepOutput:
    """A step function's result: the loss to minimise and metrics to log.

    Attributes
    ----------
    loss : Tensor
        Scalar loss (the trainer adds ``penalties`` and calls ``backward``).
    metrics : mapping of str to float or Tensor
        Per-batch means (``{"accuracy": ...}``); the trainer averages them over the epoch
        weighted by ``n_samples`` and shows them on the progress bar.
    n_samples : int or None
        Rows in the batch (default: the first source tensor's length).
    """

    loss: torch.Tensor
    metrics: Mapping[str, float | torch.Tensor] = field(default_factory=dict)
    n_samples: int | None = None


class Callback:
    """Hooks at the boundaries of training; subclass and override what you need.

    Callbacks may change the model between epochs (gradual unfreezing sets
    ``requires_grad``), read ``trainer.history_`` or set ``trainer.stop_training = True``.
    For exact resumes a callback should derive what it does from ``epoch`` and
    ``trainer.global_step_`` rather than from its own counters.

    Examples
    --------
    >>> class Unfreeze(Callback):
    ...     def on_epoch_start(self, trainer, epoch):
    ...         for p in trainer.model.parameters():
    ...             p.requires_grad_(epoch >= 1)
    """

    def on_fit_start(self, trainer: Trainer) -> None:
        """Before the first step (after a resume has restored the state)."""

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        """Before the first step of ``epoch`` (also when resuming inside it)."""

    def on_step_end(self, trainer: Trainer, logs: Mapping[str, float]) -> None:
        """After the optimizer step; ``logs`` holds the step's loss and metrics."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, float]) -> None:
        """After validation; ``logs`` is the epoch's row of ``history_``."""

    def on_fit_end(self, trainer: Trainer) -> None:
        """After the last epoch (or early stop), best weights restored."""


class LambdaCallback(Callback):
    """A callback from plain functions, for logging one-liners.

    Examples
    --------
    >>> seen = []
    >>> callback = LambdaCallback(on_epoch_end=lambda trainer, epoch, logs: seen.append(epoch))
    """

    def __init__(self, **hooks: Any) -> None:
        names = {"on_fit_start", "on_epoch_start", "on_step_end", "on_epoch_end", "on_fit_end"}
        unknown = set(hooks) - names
        if unknown:
            raise ValueError(
                f"LambdaCallback got unknown hooks {sorted(unknown)}; expected some of "
                f"{sorted(names)}."
            )
        for name, function in hooks.items():
            setattr(self, name, function)
