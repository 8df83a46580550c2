"""The one training loop every torch method in transferkit runs on."""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, TensorDataset

from transferkit._validation import describe_positions
from transferkit.exceptions import TransferWarning
from transferkit.training import _checkpoint as ckpt
from transferkit.training._config import TrainConfig
from transferkit.training._data import BatchFeeder, IndexStream, as_dataset, to_device
from transferkit.training._distributed import (
    all_reduce_sum,
    barrier,
    process_group,
    resolve_device,
)
from transferkit.training._hooks import (
    Batch,
    Callback,
    DivergenceError,
    NonFiniteLossError,
    StepContext,
    StepOutput,
)

__all__ = ["Trainer"]

StepFn = Callable[[nn.Module, Batch, StepContext], "StepOutput | torch.Tensor"]
EvalFn = Callable[[nn.Module, tuple[torch.Tensor, ...], StepContext], "StepOutput | torch.Tensor"]
PredictFn = Callable[[nn.Module, tuple[torch.Tensor, ...]], torch.Tensor]
Penalty = Callable[[nn.Module], torch.Tensor]

# Settings a resumed run must share with the interrupted one, or it would not continue it.
_RESUME_KEYS = ("batch_size", "seed", "lr", "weight_decay", "optimizer", "momentum",
                "scheduler", "warmup_steps", "steps_per_epoch")
# Losses below this never count as exploded, whatever the first step's loss was.
_DIVERGENCE_FLOOR = 1.0


def _run_folder(model: nn.Module, step: Callable[..., Any]) -> str:
    """Subfolder of ``checkpoint_dir`` for one method and model class (``DANN._step-Net``).

    A bound step method is named by its object's class, so two aligners sharing a step
    implementation still get their own folders.
    """
    owner = getattr(step, "__self__", None)
    name = getattr(step, "__name__", type(step).__name__)
    method = f"{type(owner).__name__}.{name}" if owner is not None else getattr(
        step, "__qualname__", name)
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{method}-{type(model).__name__}").strip("._")[:100]


def _lr_multiplier(kind: str, warmup: int, total: int) -> Callable[[int], float]:
    def multiplier(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        if kind == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        if kind == "linear":
            return max(0.0, 1.0 - progress)
        if kind == "inverse_decay":
            return (1.0 + 10.0 * progress) ** -0.75
        return 1.0

    return multiplier


def _amp_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    if device.type != "cuda" or amp == "off":
        if amp in ("bf16", "fp16") and device.type != "cuda":
            warnings.warn(
                f"TrainConfig(amp={amp!r}) needs a CUDA device; training on {device} runs in "
                "full precision. Use amp='auto' to silence this.",
                TransferWarning, stacklevel=3,
            )
        return None
    if amp == "fp16":
        return torch.float16
    if amp == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def _as_output(result: StepOutput | torch.Tensor, batch: tuple[torch.Tensor, ...]) -> StepOutput:
    if isinstance(result, torch.Tensor):
        result = StepOutput(loss=result)
    if not isinstance(result, StepOutput):
        raise TypeError(
            f"A step function must return a StepOutput or a scalar loss tensor; got "
            f"{type(result).__name__}."
        )
    if result.loss.ndim != 0:
        raise ValueError(
            f"The step loss must be a scalar; got a tensor of shape {tuple(result.loss.shape)}. "
            "Reduce it with .mean()."
        )
    if result.n_samples is None:
        result.n_samples = len(batch[0])
    return result


def _non_finite_rows(tensors: tuple[torch.Tensor, ...], rows: np.ndarray) -> str:
    """Which dataset rows of a batch hold NaN/inf inputs, or "" when all are finite."""
    for position, tensor in enumerate(tensors):
        if not tensor.is_floating_point():
            continue
        bad = ~torch.isfinite(tensor.detach().reshape(len(tensor), -1)).all(dim=1)
        if bool(bad.any()):
            mask = bad.cpu().numpy()
            return f"tensor {position} is not finite in {describe_positions(mask, rows.tolist())}"
    return ""


class Trainer:
    """Train any ``nn.Module`` with a step function: devices, AMP, checkpoints, DDP.

    The trainer owns the loop; a method supplies only ``step(model, batch, context)``,
    which returns the loss (and metrics) of one paired source/target mini-batch.

    Parameters
    ----------
    model : nn.Module
        Trained in place. Under DDP the step function receives it wrapped in
        ``DistributedDataParallel``: call ``model(...)`` (its ``forward``), not submodules,
        so gradients are synchronised.
    step : callable ``(model, batch: Batch, context: StepContext) -> StepOutput | Tensor``
        Computes one training step's loss. ``batch.source`` / ``batch.target`` are tuples
        of tensors already on the device; the call runs under autocast when AMP is on.
    config : TrainConfig, optional
        Default ``TrainConfig()``.
    eval_step : callable ``(model, tensors, context) -> StepOutput | Tensor``, optional
        Validation loss/metrics of one batch of the ``validation`` data; required when
        ``fit`` gets ``validation``. Logged with a ``val_`` prefix.
    param_groups : sequence of dict, optional
        torch optimizer parameter groups (``{"params": [...], "lr": 1e-4}``); a group
        may give ``"lr_mult"`` instead of ``"lr"`` to scale ``config.lr``. Default: all
        parameters of ``model`` at ``config.lr``. Frozen parameters may be included: they
        are skipped while ``requires_grad`` is False, so callbacks can unfreeze them later.
    callbacks : sequence of Callback, optional
        Hooks at fit/epoch/step boundaries.
    penalties : sequence of callable ``(model) -> Tensor``, optional
        Extra loss terms added at every step (an L2-SP penalty, a weight regulariser).

    Attributes
    ----------
    model_ : nn.Module
        The trained module (the same object as ``model``).
    history_ : list of dict
        One row per epoch: ``epoch``, ``loss``, step metrics, ``val_*``, ``lr``, ``seconds``.
    global_step_ : int
        Optimizer steps done.
    best_epoch_ : int or None
        Epoch with the best ``monitor`` value under early stopping.
    stopped_early_ : bool
    device_ : torch.device
    last_checkpoint_ : str or None
        Folder of the newest checkpoint written or resumed from.
    checkpoint_folder_ : str or None
        This run's checkpoint folder, ``<checkpoint_dir>/<Method.step>-<Model>``.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> model = nn.Linear(3, 2)
    >>> def step(model, batch, context):
    ...     X, y = batch.source
    ...     logits = model(X)
    ...     accuracy = (logits.argmax(1) == y).float().mean()
    ...     return StepOutput(nn.functional.cross_entropy(logits, y), {"accuracy": accuracy})
    >>> X, y = torch.randn(32, 3), torch.randint(0, 2, (32,))
    >>> trainer = Trainer(model, step, config=TrainConfig(epochs=2, progress=False))
    >>> trainer.fit((X, y)).global_step_
    2
    >>> sorted(trainer.history_[0])
    ['accuracy', 'epoch', 'loss', 'lr', 'seconds']
    """

    def __init__(
        self,
        model: nn.Module,
        step: StepFn,
        *,
        config: TrainConfig | None = None,
        eval_step: EvalFn | None = None,
        param_groups: Sequence[Mapping[str, Any]] | None = None,
        callbacks: Sequence[Callback] = (),
        penalties: Sequence[Penalty] = (),
    ) -> None:
        self.model = model
        self.step = step
        self.config = config
        self.eval_step = eval_step
        self.param_groups = param_groups
        self.callbacks = callbacks
        self.penalties = penalties
        self.stop_training = False

    # ------------------------------------------------------------------ public
    def fit(self, source: Any, target: Any = None, *, validation: Any = None) -> Trainer:
        """Train on paired source/target mini-batches; returns ``self``.

        Parameters
        ----------
        source : Domain, Dataset, tensor/array or tuple of them
            Rows the step function sees as ``batch.source``.
        target : same kinds, optional
            Rows seen as ``batch.target``; may differ in size from ``source`` (the smaller
            one is re-shuffled and cycled).
        validation : same kinds, optional
            Evaluated after every epoch with ``eval_step``.

        Raises
        ------
        NonFiniteLossError
            The loss became NaN/inf; the message names the step, the offending rows when
            the inputs are to blame, and the last good checkpoint (kept on disk).
        DivergenceError
            The loss exploded to ``divergence_factor`` times its first value (a subclass
            of ``NonFiniteLossError``); lower the learning rate.
        """
        rank, world_size, local_rank = process_group()
        config = self._bind(rank, world_size, local_rank)
        datasets = {"source": as_dataset(source)}
        if target is not None:
            datasets["target"] = as_dataset(target)
        for role, dataset in datasets.items():
            if len(dataset) == 0:
                raise ValueError(
                    f"The {role} data are empty (0 rows); training needs at least one "
                    f"{role} row. Check the filter or split that produced them."
                )
        self._validation = as_dataset(validation) if validation is not None else None
        if self._validation is not None and self.eval_step is None:
            raise ValueError(
                "fit got validation data but the Trainer has no eval_step; pass "
                "Trainer(..., eval_step=fn) returning the validation loss and metrics."
            )
        self.model_ = self.model.to(self.device_)
        self.checkpoint_folder_ = None if config.checkpoint_dir is None else os.path.join(
            config.checkpoint_dir, _run_folder(self.model_, self.step))
        devices = [self.device_.index or 0] if self.device_.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(config.seed + rank)
            self._run(config, datasets)
        return self

    def _bind(self, rank: int, world_size: int, local_rank: int) -> TrainConfig:
        """Check the settings and fix this process's place, device and precision."""
        config = self.config if self.config is not None else TrainConfig()
        if not isinstance(config, TrainConfig):
            raise TypeError(
                f"Trainer(config=...) must be a TrainConfig; got {type(config).__name__}. "
                "Build one with TrainConfig(...) or TrainConfig.from_dict(mapping)."
            )
        if not isinstance(self.model, nn.Module):
            raise TypeError(f"Trainer needs an nn.Module; got {type(self.model).__name__}.")
        self.config_ = config
        self.rank_, self.world_size_ = rank, world_size
        self.device_ = resolve_device(config.device, local_rank)
        self._amp = _amp_dtype(config.amp, self.device_)
        self._pin = (self.device_.type == "cuda") if config.pin_memory == "auto" \
            else bool(config.pin_memory) and self.device_.type == "cuda"
        return config

    def ready(self) -> Trainer:
        """Make ``model`` (with weights loaded from disk) usable by ``predict`` without ``fit``.

        Examples
        --------
        >>> import torch
        >>> trainer = Trainer(torch.nn.Linear(2, 1), step=None).ready()
        >>> trainer.predict(torch.zeros(3, 2)).shape
        torch.Size([3, 1])
        """
        self._bind(rank=0, world_size=1, local_rank=0)
        self.model_ = self.model.to(self.device_)
        self.history_ = []
        self.global_step_ = 0
        self._total_steps = 0
        return self

    @torch.no_grad()
    def evaluate(self, data: Any) -> dict[str, float]:
        """Mean loss and metrics of ``eval_step`` over ``data`` (sharded under DDP)."""
        if self.eval_step is None:
            raise ValueError("Trainer.evaluate needs an eval_step; pass Trainer(eval_step=fn).")
        self._check_fitted()
        dataset = as_dataset(data)
        model = self.model_
        was_training = model.training
        model.eval()
        sums: dict[str, float] = {"loss": 0.0}
        count = 0.0
        context = StepContext(epoch=len(self.history_), step=0, global_step=self.global_step_,
                              total_steps=self._total_steps, device=self.device_, training=False)
        try:
            for tensors in self._sequential(dataset, shard=True):
                with self._autocast():
                    output = _as_output(self.eval_step(model, tensors, context), tensors)
                n = float(output.n_samples)
                sums["loss"] += float(output.loss) * n
                for name, value in output.metrics.items():
                    sums[name] = sums.get(name, 0.0) + float(value) * n
                count += n
        finally:
            model.train(was_training)
        names = list(sums)
        totals = all_reduce_sum([sums[k] for k in names] + [count], self.device_)
        return {name: totals[i] / max(totals[-1], 1.0) for i, name in enumerate(names)}

    @torch.no_grad()
    def predict(
        self, data: Any, fn: PredictFn | None = None, *, batch_size: int | None = None
    ) -> torch.Tensor:
        """Outputs of ``fn(model, tensors)`` (default ``model(tensors[0])``) over ``data``.

        Runs in eval mode, without gradients, under autocast; returns one float32 CPU
        tensor with a row per input row (every process predicts all rows under DDP).
        """
        self._check_fitted()
        fn = fn if fn is not None else (lambda model, tensors: model(tensors[0]))
        model = self.model_
        was_training = model.training
        model.eval()
        outputs = []
        try:
            for tensors in self._sequential(as_dataset(data), shard=False,
                                            batch_size=batch_size):
                with self._autocast():
                    out = fn(model, tensors)
                outputs.append(out.detach().float().cpu())
        finally:
            model.train(was_training)
        return torch.cat(outputs)

    # ------------------------------------------------------------------ the loop
    def _run(self, config: TrainConfig, datasets: dict[str, Dataset]) -> None:
        rank, world_size, batch_size = self.rank_, self.world_size_, config.batch_size
        streams = {
            role: IndexStream(len(dataset), seed=config.seed + 7919 * i, rank=rank,
                              world_size=world_size)
            for i, (role, dataset) in enumerate(datasets.items())
        }
        longest = max(s.n_per_pass for s in streams.values())
        steps_per_epoch = config.steps_per_epoch or math.ceil(longest / batch_size)
        self.steps_per_epoch_ = steps_per_epoch
        self._total_steps = total = config.epochs * steps_per_epoch
        feeders = {
            role: BatchFeeder(dataset, streams[role], batch_size=batch_size, device=self.device_,
                              num_workers=config.num_workers, pin_memory=self._pin)
            for role, dataset in datasets.items()
        }
        self._streams = streams
        optimizer = self._build_optimizer(config)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, _lr_multiplier(config.scheduler, config.warmup_steps, total))
        scaler = torch.amp.GradScaler("cuda") if self._amp == torch.float16 else None
        self.optimizer_, self.scheduler_, self.scaler_ = optimizer, scheduler, scaler
        model = self.model_
        if world_size > 1:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device_.index] if self.device_.type == "cuda" else None
            model = DistributedDataParallel(
                self.model_, device_ids=ids,
                find_unused_parameters=config.find_unused_parameters)
        self.history_: list[dict[str, float]] = []
        self.global_step_ = 0
        self.best_epoch_: int | None = None
        self.stopped_early_ = False
        self.last_checkpoint_: str | None = None
        self.stop_training = False
        self._best_value: float | None = None
        self._best_state: dict[str, torch.Tensor] | None = None
        self._bad_epochs = 0
        self._first_loss: float | None = None
        self._sums: dict[str, float] = {}
        self._epoch_start = time.perf_counter()
        if config.resume:
            self._restore(config)
        finished = self.global_step_ >= total or self.stopped_early_
        for callback in self.callbacks:
            callback.on_fit_start(self)
        start_epoch = self.global_step_ // steps_per_epoch
        for epoch in range(start_epoch, config.epochs) if not finished else ():
            first = self.global_step_
            if first == epoch * steps_per_epoch:
                self._sums = {}
                self._epoch_start = time.perf_counter()
            for callback in self.callbacks:
                callback.on_epoch_start(self, epoch)
            model.train()
            steps = range(first, (epoch + 1) * steps_per_epoch)
            self._train_steps(model, epoch, steps, feeders, config)
            self._end_epoch(epoch, config)
            if self.stop_training:
                break
        if self._best_state is not None and config.restore_best:
            self.model_.load_state_dict(self._best_state)
        for callback in self.callbacks:
            callback.on_fit_end(self)

    def _train_steps(self, model: nn.Module, epoch: int, steps: range,
                     feeders: dict[str, BatchFeeder], config: TrainConfig) -> None:
        spe = self.steps_per_epoch_
        show = config.progress if config.progress != "auto" else sys.stderr.isatty()
        bar = None
        if show and self.rank_ == 0:
            from tqdm.auto import tqdm

            bar = tqdm(total=spe, initial=steps.start - epoch * spe, leave=False,
                       desc=f"epoch {epoch + 1}/{config.epochs}", unit="step")
        source_batches = feeders["source"].batches(steps)
        target_batches: Iterator[Any] = (feeders["target"].batches(steps)
                                         if "target" in feeders else iter(lambda: None, 0))
        try:
            for global_step, source, target in zip(steps, source_batches, target_batches,
                                                   strict=False):
                context = StepContext(epoch=epoch, step=global_step - epoch * spe,
                                      global_step=global_step, total_steps=self._total_steps,
                                      device=self.device_)
                logs = self._one_step(model, Batch(source, target), context, config)
                if bar is not None:
                    bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()}, refresh=False)
                    bar.update(1)
                for callback in self.callbacks:
                    callback.on_step_end(self, logs)
                every = config.checkpoint_every
                if (every and self.global_step_ % every == 0
                        and self.global_step_ != (epoch + 1) * spe):
                    self._save(config)
                if self.stop_training:
                    break
        finally:
            if bar is not None:
                bar.refresh()  # the throttled bar may not have drawn the last metrics yet
                bar.close()

    def _one_step(self, model: nn.Module, batch: Batch, context: StepContext,
                  config: TrainConfig) -> dict[str, float]:
        optimizer, scaler = self.optimizer_, self.scaler_
        with self._autocast():
            output = _as_output(self.step(model, batch, context), batch.source)
            loss = output.loss
            for penalty in self.penalties:
                loss = loss + penalty(self.model_)
        value = float(loss.detach())
        if not math.isfinite(value):
            self._raise_non_finite(value, batch, context)
        if self._first_loss is None:
            self._first_loss = abs(value)
        elif (config.divergence_factor is not None and abs(value) > config.divergence_factor
              * max(self._first_loss, _DIVERGENCE_FLOOR)):
            self._raise_diverged(value, context, config)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
        else:
            loss.backward()
        if config.grad_clip is not None:
            params = [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
            torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        self.scheduler_.step()
        self.global_step_ = context.global_step + 1
        n = float(output.n_samples)
        logs = {"loss": value, **{k: float(v) for k, v in output.metrics.items()}}
        for name, number in logs.items():
            self._sums[name] = self._sums.get(name, 0.0) + number * n
        self._sums["_n"] = self._sums.get("_n", 0.0) + n
        return logs

    def _raise_non_finite(self, value: float, batch: Batch, context: StepContext) -> None:
        batch_size = self.config_.batch_size
        causes = []
        for role, tensors in (("source", batch.source), ("target", batch.target)):
            if tensors is None:
                continue
            rows = self._streams[role].batch(context.global_step, batch_size)
            where = _non_finite_rows(tensors, rows)
            if where:
                causes.append(f"the {role} batch's {where} of the {role} data")
        cause = ("; " + " and ".join(causes) + ". Clean those rows") if causes else (
            ". The inputs are finite, so training diverged: lower lr, set grad_clip, or "
            "use amp='off'")
        kept = (f"The last good checkpoint is kept at {self.last_checkpoint_!r}."
                if self.last_checkpoint_ else
                "No checkpoint was written yet (set TrainConfig(checkpoint_dir=...) to keep one); "
                "the model holds the weights from before this step.")
        raise NonFiniteLossError(
            f"The training loss is {value} at epoch {context.epoch}, step {context.step} "
            f"(global step {context.global_step}){cause}. {kept}"
        )

    def _raise_diverged(self, value: float, context: StepContext, config: TrainConfig) -> None:
        kept = (f"The last checkpoint is kept at {self.last_checkpoint_!r}, but it may already "
                "hold diverging weights." if self.last_checkpoint_ else "No checkpoint was "
                "written yet.")
        raise DivergenceError(
            f"Training diverged: the loss is {value:.4g} at epoch {context.epoch}, step "
            f"{context.step} (global step {context.global_step}), more than "
            f"{config.divergence_factor:g} times the first step's {self._first_loss:.4g}. "
            f"Lower the learning rate (lr={config.lr:g}; try {config.lr / 10:g}), set "
            "grad_clip, or pass divergence_factor=None if this loss can legitimately grow. "
            f"{kept}"
        )

    def _end_epoch(self, epoch: int, config: TrainConfig) -> None:
        names = [k for k in self._sums if k != "_n"]
        totals = all_reduce_sum([self._sums[k] for k in names] + [self._sums.get("_n", 0.0)],
                                self.device_)
        row: dict[str, float] = {"epoch": float(epoch)}
        row.update({k: totals[i] / max(totals[-1], 1.0) for i, k in enumerate(names)})
        if self._validation is not None:
            row.update({f"val_{k}": v for k, v in self.evaluate(self._validation).items()})
        row["lr"] = float(self.optimizer_.param_groups[0]["lr"])
        row["seconds"] = time.perf_counter() - self._epoch_start
        self.history_.append(row)
        if config.patience is not None:
            self._early_stopping(epoch, row, config)
        for callback in self.callbacks:
            callback.on_epoch_end(self, epoch, row)
        self._sums = {}
        self._epoch_start = time.perf_counter()
        self._save(config)

    def _early_stopping(self, epoch: int, row: Mapping[str, float], config: TrainConfig) -> None:
        key = config.monitor
        if key not in row:
            raise ValueError(
                f"TrainConfig(monitor={key!r}) is not among the epoch logs {sorted(row)}; "
                "pass validation=... to fit for 'val_*' keys, or monitor one of these."
            )
        minimise = "loss" in key or "error" in key
        value = row[key] if minimise else -row[key]
        if self._best_value is None or value < self._best_value - config.min_delta:
            self._best_value = value
            self.best_epoch_ = epoch
            self._bad_epochs = 0
            self._best_state = {k: v.detach().to("cpu", copy=True)
                                for k, v in self.model_.state_dict().items()}
            if self.checkpoint_folder_ is not None and self.rank_ == 0:
                ckpt.save_weights(os.path.join(self.checkpoint_folder_, "best.safetensors"),
                                  self._best_state)
        else:
            self._bad_epochs += 1
            if self._bad_epochs >= config.patience:
                self.stopped_early_ = True
                self.stop_training = True

    # ------------------------------------------------------------------ checkpoints
    def _save(self, config: TrainConfig) -> None:
        if config.checkpoint_dir is None:
            return
        if self.rank_ == 0:
            tensors = {"rng.cpu": torch.get_rng_state()}
            if self.device_.type == "cuda":
                tensors["rng.cuda"] = torch.cuda.get_rng_state(self.device_)
            state = {
                "global_step": self.global_step_,
                "steps_per_epoch": self.steps_per_epoch_,
                "world_size": self.world_size_,
                "epoch_sums": self._sums,
                "history": self.history_,
                "best_value": self._best_value,
                "best_epoch": self.best_epoch_,
                "bad_epochs": self._bad_epochs,
                "stopped_early": self.stopped_early_,
                "first_loss": self._first_loss,
                "scheduler": self.scheduler_.state_dict(),
                "scaler": self.scaler_.state_dict() if self.scaler_ is not None else None,
                "config": config.to_dict(),
            }
            self.last_checkpoint_ = ckpt.save_checkpoint(
                self.checkpoint_folder_, step=self.global_step_,
                model_state=self.model_.state_dict(),
                optimizer_state=self.optimizer_.state_dict(), extra_tensors=tensors,
                state=state)
        barrier()

    def _restore(self, config: TrainConfig) -> None:
        folder = self.checkpoint_folder_
        path = ckpt.latest_checkpoint(folder)
        if path is None:
            others = ckpt.checkpoint_runs(config.checkpoint_dir)
            also = (f" (it holds checkpoints of other methods or models: {', '.join(others)})"
                    if others else "")
            warnings.warn(
                f"TrainConfig(resume=True) found no checkpoint in {folder!r}{also}; "
                "training starts from scratch.",
                TransferWarning, stacklevel=4,
            )
            return
        ckpt.check_architecture(path, self.model_.state_dict())
        loaded = ckpt.load_checkpoint(path)
        state = loaded["state"]
        saved = state["config"]
        changed = [k for k in _RESUME_KEYS if saved.get(k) != getattr(config, k)]
        if state["steps_per_epoch"] != self.steps_per_epoch_:
            changed.append(f"steps_per_epoch ({state['steps_per_epoch']} -> "
                           f"{self.steps_per_epoch_}: the data size changed)")
        if state["world_size"] != self.world_size_:
            changed.append(f"world_size ({state['world_size']} -> {self.world_size_})")
        if changed:
            raise ValueError(
                f"Cannot resume from {path!r}: these settings differ from the interrupted run: "
                f"{', '.join(map(str, changed))}. Resume with the same settings and data, or "
                "start a new run in another checkpoint_dir."
            )
        self.model_.load_state_dict(loaded["model"])
        self.optimizer_.load_state_dict(loaded["optimizer"])
        self.scheduler_.load_state_dict(state["scheduler"])
        if self.scaler_ is not None and state["scaler"] is not None:
            self.scaler_.load_state_dict(state["scaler"])
        torch.set_rng_state(loaded["tensors"]["rng.cpu"])
        if self.device_.type == "cuda" and "rng.cuda" in loaded["tensors"]:
            torch.cuda.set_rng_state(loaded["tensors"]["rng.cuda"], self.device_)
        self.global_step_ = int(state["global_step"])
        self._sums = {k: float(v) for k, v in state["epoch_sums"].items()}
        self.history_ = state["history"]
        self._best_value = state["best_value"]
        self.best_epoch_ = state["best_epoch"]
        self._bad_epochs = int(state["bad_epochs"])
        self.stopped_early_ = bool(state["stopped_early"])
        self._first_loss = state.get("first_loss")
        best = os.path.join(folder, "best.safetensors")
        if self.best_epoch_ is not None and os.path.isfile(best):
            self._best_state = ckpt.load_weights(best)
        self.last_checkpoint_ = path

    # ------------------------------------------------------------------ helpers
    def _build_optimizer(self, config: TrainConfig) -> torch.optim.Optimizer:
        if self.param_groups is None:
            groups = [{"params": list(self.model_.parameters())}]
        else:
            groups = []
            for index, group in enumerate(self.param_groups):
                if "params" not in group:
                    raise ValueError(
                        f"param_groups[{index}] has no 'params' key; each group is a dict "
                        "like {'params': module.parameters(), 'lr': 1e-4}."
                    )
                group = dict(group)
                group["params"] = list(group["params"])
                if "lr_mult" in group and "lr" not in group:
                    group["lr"] = config.lr * float(group["lr_mult"])
                groups.append(group)
            grouped = {id(p) for g in groups for p in g["params"]}
            missing = [n for n, p in self.model_.named_parameters()
                       if p.requires_grad and id(p) not in grouped]
            if missing:
                warnings.warn(
                    f"{len(missing)} trainable parameters ({', '.join(missing[:3])}"
                    f"{', ...' if len(missing) > 3 else ''}) are in no param_group and will "
                    "not be trained; add them to a group or set requires_grad=False.",
                    TransferWarning, stacklevel=4,
                )
        if config.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum,
                                   nesterov=config.momentum > 0, weight_decay=config.weight_decay)
        kind = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
        return kind(groups, lr=config.lr, weight_decay=config.weight_decay)

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self._amp is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self._amp)

    def _sequential(self, dataset: Dataset, *, shard: bool,
                    batch_size: int | None = None) -> Iterator[tuple[torch.Tensor, ...]]:
        size = batch_size or self.config_.batch_size
        order: Sequence[int] = range(len(dataset))
        if shard and self.world_size_ > 1:
            order = list(DistributedSampler(dataset, num_replicas=self.world_size_,
                                            rank=self.rank_, shuffle=False))
        if isinstance(dataset, TensorDataset) and self.config_.num_workers == 0:
            index = torch.as_tensor(np.asarray(order, dtype=np.int64))
            for start in range(0, len(index), size):
                rows = index[start:start + size]
                yield to_device(tuple(t[rows] for t in dataset.tensors), self.device_,
                                pin=self._pin)
            return
        batches = [list(order[i:i + size]) for i in range(0, len(order), size)]
        loader = DataLoader(dataset, batch_sampler=batches,
                            num_workers=self.config_.num_workers, pin_memory=self._pin)
        for batch in loader:
            yield to_device(tuple(batch) if isinstance(batch, list | tuple) else (batch,),
                            self.device_)

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise RuntimeError("This Trainer is not fitted yet; call fit(source, target) first.")
