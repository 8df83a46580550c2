"""Metric and amortised meta-learners: prototypical and matching networks, a hypernetwork.

None of them takes gradient steps at adaptation time: prototypical networks average the
support embeddings of each class, matching networks attend over them, and the
hypernetwork maps an embedding of the whole support set to the weights of a task head.

Examples
--------
>>> import numpy as np
>>> from transferkit.domain import Domain
>>> from transferkit.meta.tasks import TaskSampler
>>> from transferkit.training import TrainConfig
>>> rng = np.random.default_rng(0)
>>> def market(i):
...     y = rng.integers(0, 4, size=60)
...     return Domain.from_arrays(rng.normal(size=(60, 3)) + y[:, None], y, name=f"m{i}")
>>> tasks = TaskSampler({f"m{i}": market(i) for i in range(8)}, n_way=3, k_shot=3, n_query=4)
>>> protonet = ProtoNet(hidden=(16,), episodes_per_epoch=20,
...                     config=TrainConfig(epochs=2, batch_size=4, lr=1e-2, progress=False))
>>> model = protonet.meta_fit(tasks).adapt(tasks.episode(5))
>>> model.predict_proba(np.zeros((2, 3))).shape
(2, 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from transferkit._validation import check_param
from transferkit.meta._base import META_LEARNERS, EncodedEpisode, MetaLearner
from transferkit.meta._nets import MetaNet
from transferkit.meta.models import AdaptedNet, EmbeddingClassifier, embedding_logits
from transferkit.training import TrainConfig

__all__ = ["HyperNetwork", "MatchingNet", "ProtoNet"]

_MASKED = -1e4


class _EmbeddingLearner(MetaLearner):
    """Embedding network trained episodically; scores against the support set."""

    mode: Literal["prototype", "attention"] = "prototype"

    def __init__(self, hidden: Sequence[int] = (64, 64), *, temperature: float = 10.0,
                 episodes_per_epoch: int = 200, config: TrainConfig | None = None,
                 random_state: int = 0) -> None:
        self.hidden = hidden
        self.temperature = temperature
        self.episodes_per_epoch = episodes_per_epoch
        self.config = config
        self.random_state = random_state

    def _check_params(self) -> None:
        super()._check_params()
        check_param(type(self).__name__, "temperature", self.temperature, "a float > 0",
                    lambda v: v > 0)

    def _learn_layout(self, tasks) -> None:
        super()._learn_layout(tasks)
        if self.kind_ != "classification":
            raise TypeError(
                f"{type(self).__name__} classifies by comparing with labelled support rows; "
                "the tasks are regression. Use maml, anil, reptile, meta_sgd or hypernetwork."
            )

    def _build_module(self) -> nn.Module:
        return MetaNet(self.n_features_in_, list(self.hidden), 0)

    def _support(self, embedded: torch.Tensor, y: torch.Tensor, n_classes: int
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """Prototypes (or the support embeddings) and a mask of classes with support."""
        onehot = nn.functional.one_hot(y, n_classes).to(embedded.dtype)
        counts = onehot.sum(dim=0)
        present = counts > 0
        if self.mode == "prototype":
            return (onehot.T @ embedded) / counts.clamp_min(1)[:, None], present
        return embedded, present

    def _episode_objective(self, module: nn.Module, episode: EncodedEpisode
                           ) -> tuple[torch.Tensor, torch.Tensor]:
        n = self.n_outputs_
        support, present = self._support(module.embed(episode.X_support), episode.y_support, n)
        logits = embedding_logits(module.embed(episode.X_query), support,
                                  episode.y_support if self.mode == "attention" else None,
                                  n, self.mode, float(self.temperature))
        logits = logits + torch.where(present, 0.0, _MASKED)
        # Query rows of a class with no support row cannot be predicted; leave them out.
        keep = present[episode.y_query]
        if not bool(keep.any()):
            loss = 0.0 * logits.sum()
        else:
            loss = nn.functional.cross_entropy(logits[keep], episode.y_query[keep])
        return loss, loss.detach()

    def _adapt(self, X, y, classes, steps) -> EmbeddingClassifier:
        with torch.no_grad():
            support, present = self._support(self.module_.embed(X), y, len(classes))
        labels = None
        if self.mode == "prototype":
            support = support[present]
            classes = classes[present.numpy()]
        else:
            labels = y
        return EmbeddingClassifier(
            hidden=list(self.hidden), classes=classes, x_mean=self.x_mean_,
            x_scale=self.x_scale_,
            params={k: v.detach() for k, v in self.module_.state_dict().items()},
            support=support, support_labels=labels, mode=self.mode,
            temperature=float(self.temperature), learner=self.name)


@META_LEARNERS.register("protonet")
class ProtoNet(_EmbeddingLearner):
    """Prototypical networks: a class is the mean embedding of its support rows.

    Parameters
    ----------
    hidden : sequence of int, default=(64, 64)
        Embedding network widths.
    temperature : float, default=10.0
        Unused by prototypes (kept for the shared signature with :class:`MatchingNet`).
    episodes_per_epoch : int, default=200
    config : TrainConfig, optional
    random_state : int, default=0

    Notes
    -----
    Classification only. The adapted model's ``classes_`` are the classes present in the
    support set.

    References
    ----------
    Snell, Swersky and Zemel, "Prototypical Networks for Few-shot Learning", NeurIPS 2017.
    """

    name = "protonet"
    mode = "prototype"


@META_LEARNERS.register("matching_net")
class MatchingNet(_EmbeddingLearner):
    """Matching networks: a softmax attention over cosine similarities to the support rows.

    Same parameters as :class:`ProtoNet`; ``temperature`` scales the similarities (no
    full-context embeddings).

    References
    ----------
    Vinyals, Blundell, Lillicrap, Kavukcuoglu and Wierstra, "Matching Networks for One
    Shot Learning", NeurIPS 2016.
    """

    name = "matching_net"
    mode = "attention"


class _HyperModule(nn.Module):
    """Body, support-set encoder and the generator of the task head's weights."""

    def __init__(self, n_features: int, hidden: Sequence[int], n_outputs: int,
                 regression: bool) -> None:
        super().__init__()
        self.body = MetaNet(n_features, hidden, 0)
        dim = self.body.embedding_dim
        self.regression = regression
        if regression:
            # Each support row contributes (embedding, label); their mean summarises the task.
            self.encoder = nn.Sequential(nn.Linear(dim + 1, dim), nn.ReLU())
            self.generator = nn.Linear(dim, dim + 1)
        else:
            # A class's head row is generated from its mean support embedding.
            self.generator = nn.Linear(dim, dim + 1)
        self.base_weight = nn.Parameter(torch.zeros(n_outputs, dim))
        self.base_bias = nn.Parameter(torch.zeros(n_outputs))
        self.n_outputs = n_outputs

    def head(self, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        embedded = self.body(X)
        if self.regression:
            summary = self.encoder(torch.cat([embedded, y[:, None]], dim=1)).mean(dim=0)
            generated = self.generator(summary)
            return self.base_weight + generated[None, :-1], self.base_bias + generated[-1]
        onehot = nn.functional.one_hot(y, self.n_outputs).to(embedded.dtype)
        means = (onehot.T @ embedded) / onehot.sum(dim=0).clamp_min(1)[:, None]
        generated = self.generator(means)
        return self.base_weight + generated[:, :-1], self.base_bias + generated[:, -1]


@META_LEARNERS.register("hypernetwork")
class HyperNetwork(MetaLearner):
    """A hypernetwork that writes a task's head weights from an embedding of its support set.

    Regression: the mean of ``encoder([embedding(x), y])`` over the support rows is mapped
    to the head's weights and bias. Classification: each class's head row is generated from
    the mean embedding of its support rows. Adaptation is one forward pass; the result is
    an :class:`AdaptedNet` like any gradient learner's.

    Parameters
    ----------
    hidden : sequence of int, default=(40, 40)
    episodes_per_epoch : int, default=200
    config : TrainConfig, optional
    random_state : int, default=0

    References
    ----------
    Ha, Dai and Le, "HyperNetworks", ICLR 2017; Qiao et al., "Few-Shot Image Recognition
    by Predicting Parameters from Activations", CVPR 2018.
    """

    name = "hypernetwork"

    def __init__(self, hidden: Sequence[int] = (40, 40), *, episodes_per_epoch: int = 200,
                 config: TrainConfig | None = None, random_state: int = 0) -> None:
        self.hidden = hidden
        self.episodes_per_epoch = episodes_per_epoch
        self.config = config
        self.random_state = random_state

    def _build_module(self) -> nn.Module:
        return _HyperModule(self.n_features_in_, list(self.hidden), self.n_outputs_,
                            self.kind_ == "regression")

    def _predict(self, module: _HyperModule, weight: torch.Tensor, bias: torch.Tensor,
                 X: torch.Tensor) -> torch.Tensor:
        return module.body(X) @ weight.T + bias

    def _episode_objective(self, module: nn.Module, episode: EncodedEpisode
                           ) -> tuple[torch.Tensor, torch.Tensor]:
        weight, bias = module.head(episode.X_support, episode.y_support)
        out = self._predict(module, weight, bias, episode.X_query)
        if episode.bias is None:
            loss = ((out.squeeze(-1) - episode.y_query) ** 2).mean()
        else:
            loss = nn.functional.cross_entropy(out + episode.bias, episode.y_query)
        return loss, loss.detach()

    def _adapt(self, X, y, classes, steps) -> AdaptedNet:
        with torch.no_grad():
            weight, bias = self.module_.head(X, y)
        params = {k: v.detach() for k, v in self.module_.body.state_dict().items()}
        params["head.weight"], params["head.bias"] = weight, bias.reshape(-1)
        return AdaptedNet(kind=self.kind_, hidden=list(self.hidden), n_outputs=self.n_outputs_,
                          classes=classes if self.kind_ == "classification" else None,
                          x_mean=self.x_mean_, x_scale=self.x_scale_, y_mean=self.y_mean_,
                          y_scale=self.y_scale_, params=params, learner=self.name)
