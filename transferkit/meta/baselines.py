"""The mandatory baselines every meta-learner is measured against, on the same episodes.

- ``pooled``: one network trained on every row of every meta-training task, no adaptation;
- ``pooled_finetune``: the pooled network with its head fine-tuned on the support set;
- ``pooled_offset``: the pooled network plus one shrunk per-task offset (regression: the
  mean support residual shrunk toward 0 with an empirical-Bayes strength; classification:
  shrunk per-class log-frequency corrections of the logits);
- ``scratch``: a fresh network trained on the task's K support rows only.

"A Closer Look at Few-shot Classification" (Chen et al., ICLR 2019) found a pooled
network with a fine-tuned head matching or beating episodic meta-learning; on MovieLens
user cold start a shrunk item mean plus a shrunk per-user offset is hard to beat.

Examples
--------
>>> import numpy as np
>>> from transferkit.domain import Domain
>>> from transferkit.meta.tasks import TaskSampler
>>> from transferkit.training import TrainConfig
>>> rng = np.random.default_rng(0)
>>> users = {}
>>> for i in range(10):
...     X = rng.normal(size=(30, 2))
...     users[f"u{i}"] = Domain.from_arrays(X, X[:, 0] + (i - 5), name=f"u{i}")
>>> tasks = TaskSampler(users, k_shot=10, n_query=10)
>>> fast = TrainConfig(epochs=3, batch_size=4, lr=1e-2, progress=False)
>>> pooled = PooledModel(hidden=(8,), episodes_per_epoch=20, config=fast).meta_fit(tasks)
>>> offset = PooledOffset(hidden=(8,), episodes_per_epoch=20, config=fast).meta_fit(tasks)
>>> bool(offset.evaluate(tasks).mean("mae") < pooled.evaluate(tasks).mean("mae"))
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from transferkit._validation import check_param
from transferkit.meta._base import META_LEARNERS, EncodedEpisode, MetaLearner, Tasks
from transferkit.meta._nets import MetaNet, episode_loss, gradient_steps, split_params
from transferkit.meta.evaluation import score_episode
from transferkit.meta.models import AdaptedNet
from transferkit.meta.tasks import TaskSampler
from transferkit.training import TrainConfig

__all__ = ["FromScratch", "PooledFineTune", "PooledModel", "PooledOffset"]

# Classification offsets: candidate shrinkage strengths, tried on meta-training episodes
# drawn far from the training stream's indices.
_GRID: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
_GRID_EPISODES = 200
_GRID_START = 10**7


class _Pooled(MetaLearner):
    """One network on the pooled rows of all meta-training tasks (global class list)."""

    global_labels = True

    def __init__(self, hidden: Sequence[int] = (40, 40), *, episodes_per_epoch: int = 200,
                 config: TrainConfig | None = None, random_state: int = 0) -> None:
        self.hidden = hidden
        self.episodes_per_epoch = episodes_per_epoch
        self.config = config
        self.random_state = random_state

    def _build_module(self) -> nn.Module:
        return MetaNet(self.n_features_in_, list(self.hidden), self.n_outputs_)

    def _episode_objective(self, module: nn.Module, episode: EncodedEpisode
                           ) -> tuple[torch.Tensor, torch.Tensor]:
        X = torch.cat([episode.X_support, episode.X_query])
        y = torch.cat([episode.y_support, episode.y_query])
        loss = episode_loss(module, dict(module.named_parameters()), X, y, episode.bias)
        return loss, loss.detach()

    def _pooled_params(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.module_.named_parameters()}

    def _model(self, params: dict[str, torch.Tensor], classes: np.ndarray,
               n_outputs: int | None = None) -> AdaptedNet:
        return AdaptedNet(kind=self.kind_, hidden=list(self.hidden),
                          n_outputs=n_outputs or self.n_outputs_,
                          classes=classes if self.kind_ == "classification" else None,
                          x_mean=self.x_mean_, x_scale=self.x_scale_, y_mean=self.y_mean_,
                          y_scale=self.y_scale_, params=params, learner=self.name)


@META_LEARNERS.register("pooled")
class PooledModel(_Pooled):
    """Pooled network, no adaptation: predicts every new task with the same weights.

    Parameters
    ----------
    hidden : sequence of int, default=(40, 40)
    episodes_per_epoch : int, default=200
        Episodes (their support and query rows are the training rows) per epoch.
    config : TrainConfig, optional
        ``batch_size`` is episodes per step.
    random_state : int, default=0
    """

    name = "pooled"

    def _adapt(self, X, y, classes, steps):
        return self._model(self._pooled_params(), classes)


@META_LEARNERS.register("pooled_finetune")
class PooledFineTune(_Pooled):
    """Pooled network whose head is fine-tuned on the task's support rows.

    With ``TaskSampler(labels="episode")`` (new classes per task) the head is a fresh
    zero-initialised layer over the support's classes; otherwise the pooled head is the
    starting point.

    Parameters
    ----------
    hidden, episodes_per_epoch, config, random_state
        As :class:`PooledModel`.
    finetune_lr : float, default=0.05
        Gradient-descent step size on the head.
    finetune_steps : int, default=20
        Default number of steps (``adapt(steps=...)`` overrides).
    """

    name = "pooled_finetune"

    def __init__(self, hidden: Sequence[int] = (40, 40), *, finetune_lr: float = 0.05,
                 finetune_steps: int = 20, episodes_per_epoch: int = 200,
                 config: TrainConfig | None = None, random_state: int = 0) -> None:
        super().__init__(hidden, episodes_per_epoch=episodes_per_epoch, config=config,
                         random_state=random_state)
        self.finetune_lr = finetune_lr
        self.finetune_steps = finetune_steps

    def _check_params(self) -> None:
        super()._check_params()
        check_param(type(self).__name__, "finetune_lr", self.finetune_lr, "a float > 0",
                    lambda v: v > 0)

    def _adapt(self, X, y, classes, steps):
        params = self._pooled_params()
        n_outputs = None
        if self.kind_ == "classification" and self.label_mode_ == "episode":
            seen = torch.unique(y)
            classes = classes[seen.numpy()]
            y = torch.searchsorted(seen, y)
            n_outputs = len(classes)
            params["head.weight"] = torch.zeros(n_outputs, params["head.weight"].shape[1])
            params["head.bias"] = torch.zeros(n_outputs)
        net = MetaNet(self.n_features_in_, list(self.hidden), n_outputs or self.n_outputs_)
        head, body = split_params(params, ["head.weight", "head.bias"])
        bias = None if self.kind_ == "regression" else torch.zeros(n_outputs or
                                                                   self.n_outputs_)

        def loss(chosen):
            return episode_loss(net, {**body, **chosen}, X, y, bias)

        n_steps = self.finetune_steps if steps is None else steps
        head = gradient_steps(loss, head, n_steps, float(self.finetune_lr), first_order=True)
        return self._model({**body, **head}, classes, n_outputs)


@META_LEARNERS.register("pooled_offset")
class PooledOffset(_Pooled):
    """Pooled network plus one shrunk per-task offset fitted on the support rows.

    Regression: the offset is ``sum(residuals) / (n + shrinkage)``, added to the
    prediction; with ``shrinkage=None`` its strength is the empirical-Bayes ratio
    ``sigma^2 / tau^2`` of within-task residual variance to between-task offset variance,
    estimated on the meta-training tasks. Classification: each class's logit moves by
    ``log((n_c + s p_c) / (n + s)) - log p_c``, where ``p_c`` is the pooled model's mean
    probability on the support rows and ``s`` the shrinkage; with ``shrinkage=None`` it is
    the value of (0.5, 1, 2, 5, 10, 20, 50) with the lowest query log loss on 200
    meta-training episodes.

    Parameters
    ----------
    hidden, episodes_per_epoch, config, random_state
        As :class:`PooledModel`.
    shrinkage : float or None, default=None

    Attributes
    ----------
    shrinkage_ : float
        The strength used.
    """

    name = "pooled_offset"

    def __init__(self, hidden: Sequence[int] = (40, 40), *, shrinkage: float | None = None,
                 episodes_per_epoch: int = 200, config: TrainConfig | None = None,
                 random_state: int = 0) -> None:
        super().__init__(hidden, episodes_per_epoch=episodes_per_epoch, config=config,
                         random_state=random_state)
        self.shrinkage = shrinkage

    def _check_params(self) -> None:
        super()._check_params()
        check_param(type(self).__name__, "shrinkage", self.shrinkage, "a float >= 0 or None",
                    lambda v: v is None or v >= 0)

    def _after_fit(self, tasks: Tasks) -> None:
        if self.shrinkage is not None:
            self.shrinkage_ = float(self.shrinkage)
            return
        if self.kind_ == "classification":
            self.shrinkage_ = self._grid_shrinkage(tasks)
            return
        if isinstance(tasks, TaskSampler):
            groups = [tasks.task_arrays(name) for name in tasks.names]
        else:
            groups = [(np.concatenate([e.X_support, e.X_query]),
                       np.concatenate([e.y_support, e.y_query])) for e in tasks]
        means, variances, sizes = [], [], []
        with torch.no_grad():
            for X, y in groups:
                X_t = torch.as_tensor((X - self.x_mean_) / self.x_scale_, dtype=torch.float32)
                residual = ((np.asarray(y, dtype=float) - self.y_mean_) / self.y_scale_
                            - self.module_(X_t).squeeze(-1).double().numpy())
                means.append(residual.mean())
                variances.append(residual.var(ddof=1) if len(residual) > 1 else 0.0)
                sizes.append(len(residual))
        sigma2 = float(np.average(variances, weights=np.asarray(sizes) - 1 + 1e-12))
        tau2 = float(np.var(means, ddof=1) - np.mean(sigma2 / np.asarray(sizes))) \
            if len(means) > 1 else 0.0
        # No between-task spread left after noise: shrink the offset almost to zero.
        self.shrinkage_ = sigma2 / tau2 if tau2 > 1e-12 else 1e6

    def _grid_shrinkage(self, tasks: Tasks) -> float:
        """The grid strength with the lowest query log loss on meta-training episodes."""
        episodes = (tasks.episodes(_GRID_EPISODES, start=_GRID_START)
                    if isinstance(tasks, TaskSampler) else list(tasks)[:_GRID_EPISODES])
        losses = {}
        for strength in _GRID:
            self.shrinkage_ = strength
            losses[strength] = np.mean([score_episode(self.adapt(e), e)["log_loss"]
                                        for e in episodes])
        return float(min(losses, key=losses.get))

    def _adapt(self, X, y, classes, steps):
        params = self._pooled_params()
        with torch.no_grad():
            out = self.module_(X)
            if self.kind_ == "regression":
                residual = y - out.squeeze(-1)
                params["head.bias"] = params["head.bias"] + residual.sum() / (
                    len(y) + self.shrinkage_)
            else:
                proba = torch.softmax(out.double(), dim=1).mean(dim=0).clamp_min(1e-6)
                counts = torch.bincount(y, minlength=self.n_outputs_).double()
                s = self.shrinkage_
                shift = torch.log((counts + s * proba) / (len(y) + s)) - torch.log(proba)
                params["head.bias"] = params["head.bias"] + shift.float()
        return self._model(params, classes)


@META_LEARNERS.register("scratch")
class FromScratch(MetaLearner):
    """A fresh network trained on the task's K support rows only (learns nothing from
    other tasks but the feature standardisation).

    Parameters
    ----------
    hidden : sequence of int, default=(40, 40)
    lr : float, default=0.01
        Adam step size.
    steps : int, default=100
        Default number of Adam steps (``adapt(steps=...)`` overrides).
    weight_decay : float, default=1e-3
    random_state : int, default=0
        Seeds each fresh network.
    """

    name = "scratch"
    trains = False
    episodes_per_epoch = 1
    config = None

    def __init__(self, hidden: Sequence[int] = (40, 40), *, lr: float = 0.01,
                 steps: int = 100, weight_decay: float = 1e-3, random_state: int = 0) -> None:
        self.hidden = hidden
        self.lr = lr
        self.steps = steps
        self.weight_decay = weight_decay
        self.random_state = random_state

    def _build_module(self) -> nn.Module:
        return MetaNet(self.n_features_in_, list(self.hidden), self.n_outputs_)

    def _adapt(self, X, y, classes, steps):
        generator_state = torch.random.get_rng_state()
        try:
            torch.manual_seed(self.random_state)
            net = MetaNet(self.n_features_in_, list(self.hidden), self.n_outputs_)
        finally:
            torch.random.set_rng_state(generator_state)
        bias = None
        with torch.no_grad():
            if self.kind_ == "regression":
                net.head.bias.fill_(float(y.mean()))
            else:
                bias = torch.zeros(self.n_outputs_)
                bias[len(classes):] = -1e4
        optimizer = torch.optim.Adam(net.parameters(), lr=self.lr,
                                     weight_decay=self.weight_decay)
        for _ in range(self.steps if steps is None else steps):
            optimizer.zero_grad()
            loss = episode_loss(net, dict(net.named_parameters()), X, y, bias)
            loss.backward()
            optimizer.step()
        return AdaptedNet(kind=self.kind_, hidden=list(self.hidden), n_outputs=self.n_outputs_,
                          classes=classes if self.kind_ == "classification" else None,
                          x_mean=self.x_mean_, x_scale=self.x_scale_, y_mean=self.y_mean_,
                          y_scale=self.y_scale_,
                          params={k: v.detach() for k, v in net.state_dict().items()},
                          learner=self.name)
