"""The small networks meta-learners adapt, and the functional pieces shared by all of them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import torch
from torch import nn
from torch.func import functional_call, grad

__all__ = ["MetaNet", "episode_loss", "gradient_steps", "mask_bias", "split_params"]

Params = dict[str, torch.Tensor]
# Added to the logits of output units an episode does not use (fewer ways than outputs).
_MASKED = -1e4


class MetaNet(nn.Module):
    """A ReLU MLP split into ``body`` (the embedding) and a linear ``head``.

    Parameters
    ----------
    n_features : int
    hidden : sequence of int
        Widths of the body's layers; the embedding has ``hidden[-1]`` units (or
        ``n_features`` with no hidden layer).
    n_outputs : int
        Classes (the most ways an episode can have) or 1 for regression; 0 builds the body
        alone (an embedding network for prototypical and matching networks).

    Examples
    --------
    >>> net = MetaNet(3, (8, 8), 2)
    >>> net(torch.zeros(4, 3)).shape, net.embed(torch.zeros(4, 3)).shape
    (torch.Size([4, 2]), torch.Size([4, 8]))
    """

    def __init__(self, n_features: int, hidden: Sequence[int], n_outputs: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.body = nn.Sequential(*layers)
        self.embedding_dim = width
        self.head = nn.Linear(width, n_outputs) if n_outputs else None

    def embed(self, X: torch.Tensor) -> torch.Tensor:
        return self.body(X)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        features = self.body(X)
        return features if self.head is None else self.head(features)


def mask_bias(n_way: int, n_outputs: int) -> torch.Tensor:
    """0 for the episode's ``n_way`` output units, a large negative number for the rest."""
    bias = torch.zeros(n_outputs)
    bias[n_way:] = _MASKED
    return bias


def episode_loss(
    net: nn.Module, params: Mapping[str, torch.Tensor], X: torch.Tensor, y: torch.Tensor,
    bias: torch.Tensor | None,
) -> torch.Tensor:
    """Mean loss of ``net`` with ``params`` on ``(X, y)``: cross-entropy on the masked
    logits when ``bias`` is given (classification), else mean squared error."""
    out = functional_call(net, dict(params), (X,))
    if bias is None:
        return ((out.squeeze(-1) - y) ** 2).mean()
    return nn.functional.cross_entropy(out + bias, y)


def gradient_steps(
    loss_fn: Callable[[Params], torch.Tensor],
    fast: Params,
    steps: int,
    lr: float | Mapping[str, torch.Tensor],
    *,
    first_order: bool,
) -> Params:
    """``steps`` plain gradient-descent steps on ``fast`` with ``torch.func.grad``.

    With ``first_order=False`` the updates stay on the autograd graph of ``fast`` (MAML's
    second-order meta-gradient); with ``first_order=True`` each inner gradient is detached,
    which drops exactly the second-order term (FOMAML). ``lr`` is one rate or a tensor
    per parameter (Meta-SGD).
    """
    for _ in range(steps):
        grads = grad(loss_fn)(fast)
        if first_order:
            grads = {k: g.detach() for k, g in grads.items()}
        fast = {k: fast[k] - (lr[k] if isinstance(lr, Mapping) else lr) * grads[k]
                for k in fast}
    return fast


def split_params(params: Mapping[str, torch.Tensor], keys: Iterable[str]
                 ) -> tuple[Params, Params]:
    """``(chosen, rest)``: the parameters named in ``keys`` and the others."""
    wanted = set(keys)
    chosen = {k: v for k, v in params.items() if k in wanted}
    rest = {k: v for k, v in params.items() if k not in wanted}
    return chosen, rest
