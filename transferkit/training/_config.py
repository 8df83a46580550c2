"""``TrainConfig``: every knob of the shared training loop, validated once."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from transferkit._validation import check_choice, check_param

__all__ = ["TrainConfig"]

Optimizer = Literal["adamw", "adam", "sgd"]
Scheduler = Literal["constant", "cosine", "linear", "inverse_decay"]
Amp = Literal["auto", "bf16", "fp16", "off"]

_OPTIMIZERS: tuple[str, ...] = ("adamw", "adam", "sgd")
_SCHEDULERS: tuple[str, ...] = ("constant", "cosine", "linear", "inverse_decay")
_AMP: tuple[str, ...] = ("auto", "bf16", "fp16", "off")
_AUTO_OR_BOOL: tuple[Any, ...] = ("auto", True, False)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run; the same object drives every torch method.

    Parameters
    ----------
    epochs : int, default=10
        Passes over the data. One epoch is ``steps_per_epoch`` optimizer steps.
    batch_size : int, default=64
        Rows per mini-batch of each market (per process under DDP).
    lr : float, default=1e-3
        Base learning rate; parameter groups may scale it (``Trainer(param_groups=...)``).
    weight_decay : float, default=0.0
        Decoupled (AdamW) or L2 (Adam, SGD) weight decay.
    optimizer : {"adamw", "adam", "sgd"}, default="adamw"
    momentum : float, default=0.9
        SGD momentum (Nesterov); ignored by Adam(W).
    scheduler : {"constant", "cosine", "linear", "inverse_decay"}, default="constant"
        Learning-rate schedule over all steps. ``inverse_decay`` is the DANN paper's
        ``lr / (1 + 10 p) ** 0.75`` with ``p`` the training progress in [0, 1].
    warmup_steps : int, default=0
        Linear warm-up steps before the schedule.
    grad_clip : float or None, default=None
        Clip the global gradient norm to this value.
    amp : {"auto", "bf16", "fp16", "off"}, default="auto"
        Mixed precision. ``"auto"`` is bf16 on CUDA devices that support it, else fp16 on
        CUDA (with a gradient scaler), and off on CPU.
    device : str, default="auto"
        ``"auto"`` picks CUDA when available (``cuda:LOCAL_RANK`` under torchrun), else CPU.
    seed : int, default=0
        Seeds parameter initialisation (in the method wrappers), dropout and batch order.
    steps_per_epoch : int or None, default=None
        None: enough batches to see the larger market once.
    patience : int or None, default=None
        Early stopping: stop after this many epochs without improvement of ``monitor``.
    monitor : str, default="val_loss"
        Epoch log key watched by early stopping; keys with "loss" or "error" are minimised,
        others maximised.
    min_delta : float, default=0.0
        Smallest change of ``monitor`` that counts as an improvement.
    restore_best : bool, default=True
        With early stopping, load the best epoch's weights at the end.
    checkpoint_dir : str or None, default=None
        Folder for checkpoints (safetensors weights + JSON state, written atomically).
        Each method and model class writes into its own subfolder
        (``<checkpoint_dir>/<Method.step>-<Model>/``, ``Trainer.checkpoint_folder_``), so
        two methods can share one ``checkpoint_dir`` without resuming each other's runs.
    checkpoint_every : int or None, default=None
        Also checkpoint every this many steps; epochs always end with a checkpoint.
    resume : bool, default=False
        Continue from the latest checkpoint in ``checkpoint_dir``.
    num_workers : int, default=0
        DataLoader worker processes for datasets that are not in-memory tensors.
    pin_memory : bool or "auto", default="auto"
        Page-locked host batches for asynchronous copies; "auto" is on for CUDA.
    progress : bool or "auto", default="auto"
        tqdm progress bar with live loss/accuracy; "auto" shows it on a terminal.
    find_unused_parameters : bool, default=False
        Passed to ``DistributedDataParallel`` (needed when some parameters get no gradient
        in a step, e.g. while layers are frozen).
    divergence_factor : float or None, default=1e4
        Stop with ``DivergenceError`` when a step's loss exceeds this many times the first
        step's (and this many times 1.0 in absolute value): the run has exploded, typically
        from too high a learning rate. None turns the check off.

    Examples
    --------
    >>> config = TrainConfig(epochs=3, lr=1e-2)
    >>> config.batch_size
    64
    >>> TrainConfig(lr=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: The 'lr' parameter of TrainConfig must be a float > 0. Got -1.0 instead.
    """

    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    optimizer: Optimizer = "adamw"
    momentum: float = 0.9
    scheduler: Scheduler = "constant"
    warmup_steps: int = 0
    grad_clip: float | None = None
    amp: Amp = "auto"
    device: str = "auto"
    seed: int = 0
    steps_per_epoch: int | None = None
    patience: int | None = None
    monitor: str = "val_loss"
    min_delta: float = 0.0
    restore_best: bool = True
    checkpoint_dir: str | None = None
    checkpoint_every: int | None = None
    resume: bool = False
    num_workers: int = 0
    pin_memory: bool | Literal["auto"] = "auto"
    progress: bool | Literal["auto"] = "auto"
    find_unused_parameters: bool = False
    divergence_factor: float | None = 1e4

    def __post_init__(self) -> None:
        owner = "TrainConfig"
        positive_int = "an int >= 1"
        check_param(owner, "epochs", self.epochs, positive_int, lambda v: _is_int(v) and v >= 1)
        check_param(owner, "batch_size", self.batch_size, positive_int,
                    lambda v: _is_int(v) and v >= 1)
        check_param(owner, "lr", self.lr, "a float > 0", lambda v: _is_number(v) and v > 0)
        check_param(owner, "weight_decay", self.weight_decay, "a float >= 0",
                    lambda v: _is_number(v) and v >= 0)
        check_choice(owner, "optimizer", self.optimizer, _OPTIMIZERS)
        check_param(owner, "momentum", self.momentum, "a float in [0, 1)",
                    lambda v: _is_number(v) and 0 <= v < 1)
        check_choice(owner, "scheduler", self.scheduler, _SCHEDULERS)
        check_param(owner, "warmup_steps", self.warmup_steps, "an int >= 0",
                    lambda v: _is_int(v) and v >= 0)
        check_param(owner, "grad_clip", self.grad_clip, "None or a float > 0",
                    lambda v: v is None or (_is_number(v) and v > 0))
        check_choice(owner, "amp", self.amp, _AMP)
        check_param(owner, "device", self.device, "'auto', 'cpu', 'cuda' or 'cuda:N'",
                    lambda v: isinstance(v, str) and (v in ("auto", "cpu", "cuda", "mps")
                                                      or v.startswith("cuda:")))
        check_param(owner, "seed", self.seed, "an int >= 0", lambda v: _is_int(v) and v >= 0)
        for name in ("steps_per_epoch", "patience", "checkpoint_every"):
            check_param(owner, name, getattr(self, name), "None or an int >= 1",
                        lambda v: v is None or (_is_int(v) and v >= 1))
        check_param(owner, "monitor", self.monitor, "a non-empty str",
                    lambda v: isinstance(v, str) and bool(v))
        check_param(owner, "min_delta", self.min_delta, "a float >= 0",
                    lambda v: _is_number(v) and v >= 0)
        check_param(owner, "restore_best", self.restore_best, "a bool",
                    lambda v: isinstance(v, bool))
        check_param(owner, "checkpoint_dir", self.checkpoint_dir, "None or a path",
                    lambda v: v is None or isinstance(v, str | os.PathLike))
        check_param(owner, "resume", self.resume, "a bool", lambda v: isinstance(v, bool))
        if self.resume and self.checkpoint_dir is None:
            raise ValueError(
                "TrainConfig(resume=True) needs a checkpoint_dir to resume from; pass "
                "checkpoint_dir='runs/x' (the folder of the interrupted run)."
            )
        check_param(owner, "num_workers", self.num_workers, "an int >= 0",
                    lambda v: _is_int(v) and v >= 0)
        check_choice(owner, "pin_memory", self.pin_memory, _AUTO_OR_BOOL)
        check_choice(owner, "progress", self.progress, _AUTO_OR_BOOL)
        check_param(owner, "find_unused_parameters", self.find_unused_parameters, "a bool",
                    lambda v: isinstance(v, bool))
        check_param(owner, "divergence_factor", self.divergence_factor, "None or a float > 1",
                    lambda v: v is None or (_is_number(v) and v > 1))
        if self.checkpoint_dir is not None:
            object.__setattr__(self, "checkpoint_dir", os.fspath(self.checkpoint_dir))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], *, source: str = "config") -> TrainConfig:
        """Build a config from a mapping (a YAML section); unknown keys are an error.

        Examples
        --------
        >>> TrainConfig.from_dict({"epochs": 2}).epochs
        2
        >>> TrainConfig.from_dict({"epoch": 2}, source="recipe.yaml")
        Traceback (most recent call last):
        ...
        ValueError: Unknown key 'epoch' in ... recipe.yaml. Did you mean 'epochs'? ...
        """
        import difflib

        known = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"Unknown key {key!r} in the training section of {source}.{hint} "
                    f"Known keys: {', '.join(known)}."
                )
        return cls(**dict(values))

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict (inverse of ``from_dict``)."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some settings changed (validated again).

        Examples
        --------
        >>> TrainConfig().replace(epochs=1).epochs
        1
        """
        return dataclasses.replace(self, **changes)
