"""Gradient-based meta-learners on ``torch.func``: MAML, FOMAML, Reptile, ANIL, Meta-SGD.

Each learns an initialisation (and, for Meta-SGD, per-parameter step sizes) from which a
few gradient steps on a new task's support set give a good model. The inner loop is
``torch.func.grad`` over a parameter dict and ``functional_call``; the outer loop is the
shared :class:`~transferkit.training.Trainer`. With ``batched=True`` a meta-batch of
same-shaped episodes is evaluated with ``torch.func.vmap`` (worth it on GPUs; on CPU a
plain loop is faster for small networks).

Examples
--------
>>> import numpy as np
>>> from transferkit.domain import Domain
>>> from transferkit.meta.tasks import TaskSampler
>>> from transferkit.training import TrainConfig
>>> rng = np.random.default_rng(0)
>>> def user(i):
...     X = rng.normal(size=(40, 2))
...     return Domain.from_arrays(X, X @ [1.0, -1.0] + i % 3, name=f"u{i}")
>>> tasks = TaskSampler({f"u{i}": user(i) for i in range(12)}, k_shot=5, n_query=10)
>>> maml = MAML(hidden=(16,), inner_lr=0.1, episodes_per_epoch=16,
...             config=TrainConfig(epochs=2, batch_size=4, lr=1e-2, progress=False))
>>> model = maml.meta_fit(tasks).adapt(tasks.episode(99), steps=3)
>>> model.predict(np.zeros((2, 2))).shape
(2,)
>>> maml.evaluate(tasks).metrics
['mae', 'rmse', 'ndcg_at_10']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.func import vmap

from transferkit._validation import check_param
from transferkit.meta._base import META_LEARNERS, EncodedEpisode, MetaLearner
from transferkit.meta._nets import MetaNet, episode_loss, gradient_steps, mask_bias, split_params
from transferkit.meta.models import AdaptedNet
from transferkit.training import TrainConfig

__all__ = ["ANIL", "FOMAML", "MAML", "MetaSGD", "Reptile"]


class _GradientLearner(MetaLearner):
    """Shared inner loop: which parameters adapt, at what rate, first or second order."""

    #: Prefix of the parameters the inner loop adapts ("" = all).
    adapted_prefix: ClassVar[str] = ""

    def __init__(
        self,
        hidden: Sequence[int] = (40, 40),
        *,
        inner_lr: float = 0.01,
        inner_steps: int = 1,
        first_order: bool = False,
        batched: bool = False,
        episodes_per_epoch: int = 200,
        config: TrainConfig | None = None,
        random_state: int = 0,
    ) -> None:
        self.hidden = hidden
        self.inner_lr = inner_lr
        self.inner_steps = inner_steps
        self.first_order = first_order
        self.batched = batched
        self.episodes_per_epoch = episodes_per_epoch
        self.config = config
        self.random_state = random_state

    def _check_params(self) -> None:
        super()._check_params()
        owner = type(self).__name__
        check_param(owner, "inner_lr", self.inner_lr, "a float > 0", lambda v: v > 0)
        check_param(owner, "inner_steps", self.inner_steps, "an int >= 1",
                    lambda v: isinstance(v, int) and v >= 1)

    def _build_module(self) -> nn.Module:
        return MetaNet(self.n_features_in_, list(self.hidden), self.n_outputs_)

    def _network(self, module: nn.Module) -> MetaNet:
        return module

    def _params(self, module: nn.Module) -> dict[str, torch.Tensor]:
        return dict(self._network(module).named_parameters())

    def _rates(self, module: nn.Module) -> float | dict[str, torch.Tensor]:
        return float(self.inner_lr)

    def _inner(self, module: nn.Module, params: dict[str, torch.Tensor], X: torch.Tensor,
               y: torch.Tensor, bias: torch.Tensor | None, steps: int, first_order: bool
               ) -> dict[str, torch.Tensor]:
        net = self._network(module)
        keys = [k for k in params if k.startswith(self.adapted_prefix)]
        fast, rest = split_params(params, keys)
        rates = self._rates(module)
        if isinstance(rates, dict):
            rates = {k: rates[k] for k in keys}

        def loss(chosen: dict[str, torch.Tensor]) -> torch.Tensor:
            return episode_loss(net, {**rest, **chosen}, X, y, bias)

        fast = gradient_steps(loss, fast, steps, rates, first_order=first_order)
        return {**rest, **fast}

    def _functional_objective(self, module: nn.Module, params: dict[str, torch.Tensor],
                              Xs: torch.Tensor, ys: torch.Tensor, Xq: torch.Tensor,
                              yq: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        adapted = self._inner(module, params, Xs, ys, bias, self.inner_steps,
                              self.first_order)
        return episode_loss(self._network(module), adapted, Xq, yq, bias)

    def _episode_objective(self, module: nn.Module, episode: EncodedEpisode
                           ) -> tuple[torch.Tensor, torch.Tensor]:
        loss = self._functional_objective(module, self._params(module), episode.X_support,
                                          episode.y_support, episode.X_query,
                                          episode.y_query, episode.bias)
        return loss, loss.detach()

    def _batch_objective(self, module: nn.Module, episodes: list[EncodedEpisode]
                         ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.batched or not _same_shapes(episodes):
            return super()._batch_objective(module, episodes)
        params = self._params(module)
        stacked = [torch.stack([getattr(e, f) for e in episodes])
                   for f in ("X_support", "y_support", "X_query", "y_query")]
        if episodes[0].bias is None:
            def one(Xs, ys, Xq, yq):
                return self._functional_objective(module, params, Xs, ys, Xq, yq, None)
            losses = vmap(one)(*stacked)
        else:
            biases = torch.stack([e.bias for e in episodes])

            def one(Xs, ys, Xq, yq, bias):
                return self._functional_objective(module, params, Xs, ys, Xq, yq, bias)
            losses = vmap(one)(*stacked, biases)
        loss = losses.mean()
        return loss, loss.detach()

    def _adapt(self, X: torch.Tensor, y: torch.Tensor, classes: np.ndarray,
               steps: int | None) -> AdaptedNet:
        module = self.module_
        params = {k: v.detach() for k, v in self._params(module).items()}
        bias = None if self.kind_ == "regression" else mask_bias(len(classes), self.n_outputs_)
        n_steps = self.inner_steps if steps is None else steps
        adapted = self._inner(module, params, X, y, bias, n_steps, first_order=True)
        return self._adapted(adapted, classes)

    def _adapted(self, params: dict[str, torch.Tensor], classes: np.ndarray) -> AdaptedNet:
        return AdaptedNet(kind=self.kind_, hidden=list(self.hidden), n_outputs=self.n_outputs_,
                          classes=classes if self.kind_ == "classification" else None,
                          x_mean=self.x_mean_, x_scale=self.x_scale_, y_mean=self.y_mean_,
                          y_scale=self.y_scale_, params=params, learner=self.name)


def _same_shapes(episodes: list[EncodedEpisode]) -> bool:
    first = episodes[0]
    return all(e.X_support.shape == first.X_support.shape
               and e.X_query.shape == first.X_query.shape for e in episodes)


@META_LEARNERS.register("maml")
class MAML(_GradientLearner):
    """Model-agnostic meta-learning: an initialisation that adapts in a few SGD steps.

    The meta-gradient differentiates through the inner updates (second order) unless
    ``first_order=True`` (then it is FOMAML).

    Parameters
    ----------
    hidden : sequence of int, default=(40, 40)
        Hidden widths of the ReLU network.
    inner_lr : float, default=0.01
        Step size of the inner (adaptation) gradient steps.
    inner_steps : int, default=1
        Inner steps in meta-training, and the default of ``adapt(steps=...)``.
    first_order : bool, default=False
        Drop the second-order term of the meta-gradient.
    batched : bool, default=False
        ``vmap`` a meta-batch of same-shaped episodes instead of looping.
    episodes_per_epoch : int, default=200
        Episodes drawn per epoch from a TaskSampler.
    config : TrainConfig, optional
        The outer loop; ``batch_size`` is episodes per meta-step. Default: 10 epochs,
        4 episodes per step, Adam at 1e-3.
    random_state : int, default=0
        Seeds the initialisation and the episode order (overrides ``config.seed``).

    Attributes
    ----------
    module_ : MetaNet
        The meta-learned initialisation.
    history_ : list of dict
        Per-epoch ``loss`` (meta-objective), ``query_loss``, ``val_loss``.
    kind_, classes_, n_outputs_, n_features_in_, x_mean_, x_scale_, fit_seconds_

    References
    ----------
    Finn, Abbeel and Levine, "Model-Agnostic Meta-Learning for Fast Adaptation of Deep
    Networks", ICML 2017.
    """

    name = "maml"


@META_LEARNERS.register("fomaml")
class FOMAML(_GradientLearner):
    """First-order MAML: the meta-gradient is the query gradient at the adapted weights.

    Same parameters as :class:`MAML`; ``first_order`` is always True.
    """

    name = "fomaml"

    def __init__(self, hidden: Sequence[int] = (40, 40), *, inner_lr: float = 0.01,
                 inner_steps: int = 1, batched: bool = False, episodes_per_epoch: int = 200,
                 config: TrainConfig | None = None, random_state: int = 0) -> None:
        super().__init__(hidden, inner_lr=inner_lr, inner_steps=inner_steps, first_order=True,
                         batched=batched, episodes_per_epoch=episodes_per_epoch,
                         config=config, random_state=random_state)


@META_LEARNERS.register("anil")
class ANIL(_GradientLearner):
    """Almost No Inner Loop: MAML that adapts only the head; the body is shared.

    Adaptation is then a linear probe on the meta-learned embedding. Same parameters as
    :class:`MAML`.

    References
    ----------
    Raghu, Raghu, Bengio and Vinyals, "Rapid Learning or Feature Reuse? Towards
    Understanding the Effectiveness of MAML", ICLR 2020.
    """

    name = "anil"
    adapted_prefix = "head."


@META_LEARNERS.register("reptile")
class Reptile(_GradientLearner):
    """Reptile: move the initialisation toward the weights adapted on each task.

    The inner loop runs ``inner_steps`` first-order steps on the task's support and query
    rows together; the outer loss ``0.5 * ||theta - phi_task||^2`` (with ``phi`` held
    fixed) has gradient ``theta - phi_task``, the Reptile direction, which the Trainer's
    optimiser follows. Same parameters as :class:`MAML` (``first_order`` is ignored);
    defaults ``inner_lr=0.02``, ``inner_steps=5``.

    References
    ----------
    Nichol, Achiam and Schulman, "On First-Order Meta-Learning Algorithms", 2018.
    """

    name = "reptile"

    def __init__(self, hidden: Sequence[int] = (40, 40), *, inner_lr: float = 0.02,
                 inner_steps: int = 5, batched: bool = False, episodes_per_epoch: int = 200,
                 config: TrainConfig | None = None, random_state: int = 0) -> None:
        super().__init__(hidden, inner_lr=inner_lr, inner_steps=inner_steps, first_order=True,
                         batched=batched, episodes_per_epoch=episodes_per_epoch,
                         config=config, random_state=random_state)

    def _functional_objective(self, module, params, Xs, ys, Xq, yq, bias):
        X, y = torch.cat([Xs, Xq]), torch.cat([ys, yq])
        detached = {k: v.detach() for k, v in params.items()}
        adapted = self._inner(module, detached, X, y, bias, self.inner_steps, True)
        return sum(0.5 * (params[k] - adapted[k].detach()).pow(2).sum() for k in params)

    def _episode_objective(self, module: nn.Module, episode: EncodedEpisode
                           ) -> tuple[torch.Tensor, torch.Tensor]:
        params = self._params(module)
        loss = self._functional_objective(module, params, episode.X_support,
                                          episode.y_support, episode.X_query,
                                          episode.y_query, episode.bias)
        with torch.no_grad():
            adapted = self._inner(module, {k: v.detach() for k, v in params.items()},
                                  episode.X_support, episode.y_support, episode.bias,
                                  self.inner_steps, True)
            query = episode_loss(self._network(module), adapted, episode.X_query,
                                 episode.y_query, episode.bias)
        return loss, query


class _MetaSGDModule(nn.Module):
    """The network plus one learned step size per weight."""

    def __init__(self, net: MetaNet, inner_lr: float) -> None:
        super().__init__()
        self.net = net
        self.rates = nn.ParameterDict({
            k.replace(".", "__"): nn.Parameter(torch.full_like(p, inner_lr))
            for k, p in net.named_parameters()})

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(X)


@META_LEARNERS.register("meta_sgd")
class MetaSGD(_GradientLearner):
    """Meta-SGD: MAML that also meta-learns a step size for every weight.

    Same parameters as :class:`MAML`; ``inner_lr`` initialises the learned rates.

    References
    ----------
    Li, Zhou, Chen and Li, "Meta-SGD: Learning to Learn Quickly for Few-Shot Learning",
    2017.
    """

    name = "meta_sgd"

    def _build_module(self) -> nn.Module:
        return _MetaSGDModule(super()._build_module(), float(self.inner_lr))

    def _network(self, module: nn.Module) -> MetaNet:
        return module.net

    def _rates(self, module: nn.Module) -> dict[str, torch.Tensor]:
        return {k.replace("__", "."): v for k, v in module.rates.items()}

    def _adapt(self, X, y, classes, steps):
        with torch.no_grad():
            rates = {k: v.detach() for k, v in self._rates(self.module_).items()}
        net = self._network(self.module_)
        params = {k: v.detach() for k, v in net.named_parameters()}
        bias = None if self.kind_ == "regression" else mask_bias(len(classes), self.n_outputs_)

        def loss(chosen):
            return episode_loss(net, chosen, X, y, bias)

        n_steps = self.inner_steps if steps is None else steps
        adapted = gradient_steps(loss, params, n_steps, rates, first_order=True)
        return self._adapted(adapted, classes)
