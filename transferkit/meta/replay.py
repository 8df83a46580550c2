"""Experience replay across markets: learn markets one after another without forgetting.

Markets often arrive in sequence (a shop opens country after country). Training the
pooled network on each new market alone overwrites what it knew about the earlier ones
(catastrophic forgetting); replaying a reservoir of earlier markets' rows alongside each
new market keeps them. ``ReplayLearner`` trains in the order of the tasks, records the
loss on every market seen so far after each one, and reports the *forgetting* of each
market: its loss at the end minus its loss right after it was learned.

Examples
--------
>>> import numpy as np
>>> from transferkit.domain import Domain
>>> from transferkit.meta.tasks import TaskSampler
>>> from transferkit.training import TrainConfig
>>> rng = np.random.default_rng(0)
>>> markets = {}
>>> for i, sign in enumerate([1.0, -1.0, 1.0]):
...     X = rng.normal(size=(60, 2)) + [4.0 * i, 0.0]
...     markets[f"m{i}"] = Domain.from_arrays(X, sign * X[:, 1], name=f"m{i}")
>>> tasks = TaskSampler(markets, k_shot=5, n_query=5)
>>> fast = TrainConfig(epochs=5, batch_size=16, lr=1e-2, progress=False)
>>> replay = ReplayLearner(hidden=(16,), config=fast).meta_fit(tasks)
>>> list(replay.forgetting_.columns)
['loss_after_own', 'loss_at_end', 'forgetting']
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from transferkit._validation import check_param
from transferkit.meta._base import META_LEARNERS
from transferkit.meta._nets import episode_loss
from transferkit.meta.baselines import PooledFineTune
from transferkit.meta.tasks import TaskSampler
from transferkit.training import StepOutput, TrainConfig, Trainer

__all__ = ["ReplayLearner"]


@META_LEARNERS.register("replay")
class ReplayLearner(PooledFineTune):
    """Sequential training over markets with a replay buffer, then head fine-tuning.

    Parameters
    ----------
    hidden : sequence of int, default=(40, 40)
    replay_fraction : float in [0, 1), default=0.5
        Share of each market's training rows drawn from the buffer of earlier markets;
        0 is plain sequential fine-tuning (the forgetting reference).
    buffer_size : int, default=2000
        Rows kept from earlier markets (reservoir sampling, so every row seen so far has
        the same chance to be kept).
    finetune_lr, finetune_steps
        Head fine-tuning at ``adapt``, as :class:`PooledFineTune`.
    config : TrainConfig, optional
        Training on each market (``epochs`` per market).
    random_state : int, default=0

    Attributes
    ----------
    losses_ : DataFrame
        Loss on each market (columns) after training each market (rows), NaN before a
        market is reached.
    forgetting_ : DataFrame
        Per market: ``loss_after_own``, ``loss_at_end``, ``forgetting`` (their difference;
        positive means forgotten). The last market has forgetting 0 by definition.
    """

    name = "replay"

    def __init__(self, hidden: Sequence[int] = (40, 40), *, replay_fraction: float = 0.5,
                 buffer_size: int = 2000, finetune_lr: float = 0.05,
                 finetune_steps: int = 20, config: TrainConfig | None = None,
                 random_state: int = 0) -> None:
        super().__init__(hidden, finetune_lr=finetune_lr, finetune_steps=finetune_steps,
                         episodes_per_epoch=1, config=config, random_state=random_state)
        self.replay_fraction = replay_fraction
        self.buffer_size = buffer_size

    def _check_params(self) -> None:
        super()._check_params()
        owner = type(self).__name__
        check_param(owner, "replay_fraction", self.replay_fraction, "a float in [0, 1)",
                    lambda v: 0 <= v < 1)
        check_param(owner, "buffer_size", self.buffer_size, "an int >= 1",
                    lambda v: isinstance(v, int) and v >= 1)

    def meta_fit(self, tasks: TaskSampler, *, validation: object = None) -> ReplayLearner:
        """Train on the markets of ``tasks`` in their order; returns ``self``.

        ``validation`` is not used (forgetting is measured on the markets themselves).
        """
        if not isinstance(tasks, TaskSampler):
            raise TypeError(
                f"ReplayLearner.meta_fit needs a TaskSampler (its task order is the market "
                f"order); got {type(tasks).__name__}."
            )
        self._check_params()
        config = self.config if self.config is not None else self._default_config
        start = time.perf_counter()
        self._learn_layout(tasks)
        torch.manual_seed(self.random_state)
        self.module_ = self._build_module()
        rng = np.random.default_rng(self.random_state)
        markets = {name: self._tensors(*tasks.task_arrays(name)) for name in tasks.names}
        buffer_X = buffer_y = None
        seen = 0
        losses = pd.DataFrame(np.nan, index=tasks.names, columns=tasks.names)
        self.history_ = []
        for position, name in enumerate(tasks.names):
            X, y = markets[name]
            if buffer_X is not None and self.replay_fraction > 0:
                n_replay = int(round(len(y) * self.replay_fraction / (1 - self.replay_fraction)))
                rows = rng.integers(0, len(buffer_y), size=max(1, n_replay))
                X_train, y_train = torch.cat([X, buffer_X[rows]]), torch.cat([y, buffer_y[rows]])
            else:
                X_train, y_train = X, y
            trainer = Trainer(self.module_, self._supervised_step,
                              config=TrainConfig(**{**config.to_dict(),
                                                    "seed": self.random_state + position}))
            trainer.fit((X_train, y_train))
            self.module_ = trainer.model_.cpu()
            self.history_ += [{**row, "market": position} for row in trainer.history_]
            buffer_X, buffer_y, seen = self._reservoir(buffer_X, buffer_y, X, y, seen, rng)
            with torch.no_grad():
                for done in tasks.names[:position + 1]:
                    losses.loc[name, done] = float(self._loss(*markets[done]))
        self.module_.eval()
        self.losses_ = losses
        own = pd.Series(np.diag(losses.to_numpy()), index=tasks.names)
        end = losses.iloc[-1]
        self.forgetting_ = pd.DataFrame({"loss_after_own": own, "loss_at_end": end,
                                         "forgetting": end - own})
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _tensors(self, X: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        X_t = torch.as_tensor((X - self.x_mean_) / self.x_scale_, dtype=torch.float32)
        if self.kind_ == "regression":
            return X_t, torch.as_tensor((np.asarray(y, dtype=float) - self.y_mean_)
                                        / self.y_scale_, dtype=torch.float32)
        lookup = {v: i for i, v in enumerate(self.all_classes_.tolist())}
        return X_t, torch.as_tensor([lookup[v] for v in np.asarray(y).tolist()])

    def _bias(self) -> torch.Tensor | None:
        return None if self.kind_ == "regression" else torch.zeros(self.n_outputs_)

    def _loss(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return episode_loss(self.module_, dict(self.module_.named_parameters()), X, y,
                            self._bias())

    def _supervised_step(self, module: nn.Module, batch, context) -> StepOutput:
        X, y = batch.source
        bias = self._bias()
        out = module(X)
        loss = ((out.squeeze(-1) - y) ** 2).mean() if bias is None else \
            nn.functional.cross_entropy(out + bias.to(out.device), y)
        return StepOutput(loss)

    def _reservoir(self, buffer_X, buffer_y, X, y, seen, rng):
        """Reservoir-sample the new market's rows into the buffer (Vitter's algorithm R)."""
        if buffer_X is None:
            buffer_X, buffer_y = X[:0].clone(), y[:0].clone()
        take = min(self.buffer_size - len(buffer_y), len(y))
        buffer_X, buffer_y = torch.cat([buffer_X, X[:take]]), torch.cat([buffer_y, y[:take]])
        seen += take
        for row in range(take, len(y)):
            seen += 1
            slot = int(rng.integers(0, seen))
            if slot < self.buffer_size:
                buffer_X[slot], buffer_y[slot] = X[row], y[row]
        return buffer_X, buffer_y, seen
