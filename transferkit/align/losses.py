"""Alignment losses as small ``nn.Module``s: gradient reversal, DANN, CDAN(+E), CORAL, MMD.

Each loss takes the source and target *features* of a mini-batch (and, for CDAN, the
classifier logits) and returns a scalar, so it can be added to any training loop — the
transferkit ``Trainer`` or your own.

Examples
--------
>>> import torch
>>> features_source, features_target = torch.randn(8, 4), torch.randn(6, 4)
>>> loss = DANNLoss(DomainDiscriminator(4, hidden_sizes=(8,)))
>>> float(loss(features_source, features_target, coeff=0.5).detach()) > 0
True
>>> float(CORALLoss()(features_source, features_source))
0.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "CDANLoss",
    "CORALLoss",
    "DANNLoss",
    "DomainDiscriminator",
    "GradientReversal",
    "MMDLoss",
    "RandomizedMultilinearMap",
    "dann_lambda",
    "gradient_reversal",
]


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: torch.Tensor,
                coeff: float) -> torch.Tensor:
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx,
                 grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.coeff * grad, None


def gradient_reversal(x: torch.Tensor, coeff: float = 1.0) -> torch.Tensor:
    """Identity in the forward pass; multiplies the gradient by ``-coeff`` going back.

    Examples
    --------
    >>> import torch
    >>> x = torch.ones(3, requires_grad=True)
    >>> gradient_reversal(x, 0.5).sum().backward()
    >>> x.grad.tolist()
    [-0.5, -0.5, -0.5]
    """
    return _ReverseGradient.apply(x, float(coeff))


class GradientReversal(nn.Module):
    """Gradient-reversal layer (Ganin & Lempitsky, 2015) as a module.

    Parameters
    ----------
    coeff : float, default=1.0
        Scale of the reversed gradient; change it during training (``layer.coeff = ...``)
        or pass ``coeff`` to ``forward``.
    """

    def __init__(self, coeff: float = 1.0) -> None:
        super().__init__()
        self.coeff = coeff

    def forward(self, x: torch.Tensor, coeff: float | None = None) -> torch.Tensor:
        return gradient_reversal(x, self.coeff if coeff is None else coeff)

    def extra_repr(self) -> str:
        return f"coeff={self.coeff}"


def dann_lambda(progress: float, gamma: float = 10.0) -> float:
    """The DANN schedule ``2 / (1 + exp(-gamma * p)) - 1``: 0 at the start, -> 1 at the end.

    Examples
    --------
    >>> dann_lambda(0.0), round(dann_lambda(1.0), 4)
    (0.0, 0.9999)
    """
    return 2.0 / (1.0 + math.exp(-gamma * float(progress))) - 1.0


def _mlp(sizes: Sequence[int], dropout: float) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return layers


class DomainDiscriminator(nn.Module):
    """MLP giving one logit per row: > 0 means "looks like the source market".

    Parameters
    ----------
    in_features : int
    hidden_sizes : sequence of int, default=(256, 256)
    dropout : float, default=0.5
    """

    def __init__(self, in_features: int, hidden_sizes: Sequence[int] = (256, 256),
                 dropout: float = 0.5) -> None:
        super().__init__()
        sizes = [int(in_features), *map(int, hidden_sizes)]
        self.net = nn.Sequential(*_mlp(sizes, dropout), nn.Linear(sizes[-1], 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def _domain_loss(logits: torch.Tensor, n_source: int,
                 weight: torch.Tensor | None = None) -> torch.Tensor:
    labels = torch.zeros_like(logits)
    labels[:n_source] = 1.0
    return F.binary_cross_entropy_with_logits(logits.float(), labels, weight=weight)


def _domain_accuracy(logits: torch.Tensor, n_source: int) -> torch.Tensor:
    predicted_source = logits.detach() > 0
    truth = torch.zeros_like(predicted_source)
    truth[:n_source] = True
    return (predicted_source == truth).float().mean()


class DANNLoss(nn.Module):
    """Domain-adversarial loss (DANN): the discriminator's cross-entropy behind a GRL.

    Minimising it trains the discriminator to tell the markets apart while the reversed
    gradient trains the feature extractor to make them indistinguishable.

    Parameters
    ----------
    discriminator : nn.Module
        Maps features to one logit per row.

    Attributes
    ----------
    domain_accuracy : Tensor
        The discriminator's accuracy on the last batch (0.5 = markets look alike).

    References
    ----------
    Ganin et al., "Domain-Adversarial Training of Neural Networks", JMLR 2016.
    """

    def __init__(self, discriminator: nn.Module) -> None:
        super().__init__()
        self.discriminator = discriminator
        self.domain_accuracy = torch.tensor(float("nan"))

    def forward(self, features_source: torch.Tensor, features_target: torch.Tensor,
                coeff: float = 1.0) -> torch.Tensor:
        features = torch.cat([features_source, features_target])
        logits = self.discriminator(gradient_reversal(features, coeff))
        self.domain_accuracy = _domain_accuracy(logits, len(features_source))
        return _domain_loss(logits, len(features_source))


class RandomizedMultilinearMap(nn.Module):
    """``(f @ R_f) * (g @ R_g) / sqrt(d)``: an unbiased low-dimensional stand-in for the
    outer product ``f ⊗ g`` (CDAN, Long et al. 2018). ``R_f, R_g`` are fixed Gaussian."""

    def __init__(self, features_dim: int, n_classes: int, output_dim: int = 1024) -> None:
        super().__init__()
        self.output_dim = int(output_dim)
        self.register_buffer("features_map", torch.randn(features_dim, output_dim))
        self.register_buffer("predictions_map", torch.randn(n_classes, output_dim))

    def forward(self, features: torch.Tensor, predictions: torch.Tensor) -> torch.Tensor:
        f = features @ self.features_map.to(features.dtype)
        g = predictions.to(features.dtype) @ self.predictions_map.to(features.dtype)
        return f * g / math.sqrt(self.output_dim)


def _outer(features: torch.Tensor, predictions: torch.Tensor) -> torch.Tensor:
    return torch.bmm(predictions.unsqueeze(2), features.unsqueeze(1)).flatten(1)


def _entropy(probabilities: torch.Tensor) -> torch.Tensor:
    return -(probabilities * torch.log(probabilities.clamp_min(1e-12))).sum(dim=1)


class CDANLoss(nn.Module):
    """Conditional domain-adversarial loss (CDAN, CDAN+E).

    The discriminator sees the multilinear map of features and (detached) class
    probabilities, so it aligns the joint distribution of features and predictions.
    Entropy conditioning (CDAN+E) weights each row by ``1 + exp(-H(p))``, trusting
    confident predictions more.

    Parameters
    ----------
    discriminator : nn.Module
        Takes ``discriminator_input_dim`` features.
    features_dim, n_classes : int
    entropy_conditioning : bool, default=False
    randomized : bool or None, default=None
        Use :class:`RandomizedMultilinearMap`; None does so when
        ``features_dim * n_classes > 4096``.
    randomized_dim : int, default=1024

    References
    ----------
    Long et al., "Conditional Adversarial Domain Adaptation", NeurIPS 2018.
    """

    def __init__(self, discriminator: nn.Module, features_dim: int, n_classes: int, *,
                 entropy_conditioning: bool = False, randomized: bool | None = None,
                 randomized_dim: int = 1024) -> None:
        super().__init__()
        self.discriminator = discriminator
        self.entropy_conditioning = entropy_conditioning
        if randomized is None:
            randomized = features_dim * n_classes > 4096
        self.map = (RandomizedMultilinearMap(features_dim, n_classes, randomized_dim)
                    if randomized else None)
        self.domain_accuracy = torch.tensor(float("nan"))

    @staticmethod
    def input_dim(features_dim: int, n_classes: int, *, randomized: bool | None = None,
                  randomized_dim: int = 1024) -> int:
        """Width of the discriminator input for these settings."""
        if randomized is None:
            randomized = features_dim * n_classes > 4096
        return randomized_dim if randomized else features_dim * n_classes

    def forward(self, features_source: torch.Tensor, features_target: torch.Tensor,
                logits_source: torch.Tensor, logits_target: torch.Tensor,
                coeff: float = 1.0) -> torch.Tensor:
        features = torch.cat([features_source, features_target])
        probabilities = F.softmax(torch.cat([logits_source, logits_target]).float(), dim=1)
        probabilities = probabilities.detach()
        if self.map is not None:
            joint = self.map(features, probabilities)
        else:
            joint = _outer(features, probabilities.to(features.dtype))
        logits = self.discriminator(gradient_reversal(joint, coeff))
        n_source = len(features_source)
        self.domain_accuracy = _domain_accuracy(logits, n_source)
        weight = None
        if self.entropy_conditioning:
            weight = 1.0 + torch.exp(-_entropy(probabilities))
            # Each market gets the same total weight, so a confident source cannot drown
            # the target side of the discriminator's loss.
            weight[:n_source] = weight[:n_source] / weight[:n_source].sum()
            weight[n_source:] = weight[n_source:] / weight[n_source:].sum()
            weight = weight * len(weight) / 2.0
        return _domain_loss(logits, n_source, weight)


def _check_pair(name: str, features_source: torch.Tensor, features_target: torch.Tensor,
                min_rows: int) -> None:
    if features_source.ndim != 2 or features_target.ndim != 2:
        raise ValueError(
            f"{name} needs 2-D features (n_samples, n_features); got shapes "
            f"{tuple(features_source.shape)} and {tuple(features_target.shape)}."
        )
    if features_source.shape[1] != features_target.shape[1]:
        raise ValueError(
            f"{name}: source features have {features_source.shape[1]} columns but target "
            f"features have {features_target.shape[1]}; both must come from the same extractor."
        )
    if min(len(features_source), len(features_target)) < min_rows:
        raise ValueError(
            f"{name} needs at least {min_rows} rows per market in a batch; got "
            f"{len(features_source)} source and {len(features_target)} target rows. "
            "Increase batch_size."
        )


class CORALLoss(nn.Module):
    """Deep CORAL: ``||C_source - C_target||_F^2 / (4 d^2)`` between feature covariances.

    References
    ----------
    Sun & Saenko, "Deep CORAL: Correlation Alignment for Deep Domain Adaptation",
    ECCV workshops 2016.

    Examples
    --------
    >>> import torch
    >>> round(float(CORALLoss()(torch.eye(3), 2 * torch.eye(3))), 4)
    0.125
    """

    def forward(self, features_source: torch.Tensor,
                features_target: torch.Tensor) -> torch.Tensor:
        _check_pair("CORALLoss", features_source, features_target, min_rows=2)
        source, target = features_source.float(), features_target.float()
        d = source.shape[1]
        difference = torch.cov(source.T) - torch.cov(target.T)
        return (difference * difference).sum() / (4.0 * d * d)


class MMDLoss(nn.Module):
    """Multi-kernel maximum mean discrepancy (DAN-style), squared, biased estimate.

    A sum of ``n_kernels`` Gaussian kernels whose bandwidths are ``kernel_mul ** k`` times
    the mean pairwise squared distance of the pooled batch (k centred on 0), which is the
    multi-kernel family of DAN with equal kernel weights.

    Parameters
    ----------
    n_kernels : int, default=5
    kernel_mul : float, default=2.0
    bandwidth : float or None, default=None
        Base squared bandwidth; None uses the batch's mean pairwise squared distance.

    References
    ----------
    Long et al., "Learning Transferable Features with Deep Adaptation Networks", ICML 2015.

    Examples
    --------
    >>> import torch
    >>> X = torch.randn(5, 3)
    >>> float(MMDLoss()(X, X))
    0.0
    """

    def __init__(self, n_kernels: int = 5, kernel_mul: float = 2.0,
                 bandwidth: float | None = None) -> None:
        super().__init__()
        self.n_kernels = int(n_kernels)
        self.kernel_mul = float(kernel_mul)
        self.bandwidth = bandwidth

    def kernel(self, pooled: torch.Tensor) -> torch.Tensor:
        """The summed kernel matrix of the pooled rows."""
        # ||a||^2 + ||b||^2 - 2ab instead of cdist(...)**2: cdist's gradient is undefined at
        # zero distance (the diagonal), this form is smooth everywhere.
        norms = pooled.pow(2).sum(1)
        distances = (norms[:, None] + norms[None, :] - 2.0 * pooled @ pooled.T).clamp_min(0.0)
        if self.bandwidth is None:
            n = len(pooled)
            base = distances.detach().sum() / max(n * n - n, 1)
            base = torch.clamp(base, min=1e-12)
        else:
            base = torch.tensor(float(self.bandwidth), device=pooled.device)
        exponents = torch.arange(self.n_kernels, device=pooled.device) - self.n_kernels // 2
        bandwidths = base * self.kernel_mul ** exponents.to(pooled.dtype)
        return torch.exp(-distances.unsqueeze(0) / bandwidths.view(-1, 1, 1)).sum(0)

    def forward(self, features_source: torch.Tensor,
                features_target: torch.Tensor) -> torch.Tensor:
        _check_pair("MMDLoss", features_source, features_target, min_rows=1)
        n = len(features_source)
        kernel = self.kernel(torch.cat([features_source, features_target]).float())
        k_ss, k_tt, k_st = kernel[:n, :n], kernel[n:, n:], kernel[:n, n:]
        value = k_ss.mean() + k_tt.mean() - 2.0 * k_st.mean()
        return value.clamp_min(0.0)
