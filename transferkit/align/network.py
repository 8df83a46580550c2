"""``AlignmentNetwork``: feature extractor + classifier + alignment losses in one module.

The plain ``nn.Module`` face of ``transferkit.align`` for users who write their own loop:
``network(x)`` gives logits; ``network(x_source, x_target, coeff=...)`` gives the source
logits and every alignment loss of the batch in one forward pass (which is also what
``DistributedDataParallel`` needs: all parameters are used inside ``forward``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from transferkit.align.losses import CDANLoss, DANNLoss, _mlp

__all__ = ["AlignmentNetwork", "mlp_extractor"]


def mlp_extractor(in_features: int, hidden_sizes: Sequence[int] = (256,),
                  dropout: float = 0.0) -> nn.Sequential:
    """A ReLU MLP feature extractor (Linear, ReLU, Dropout per hidden layer).

    Examples
    --------
    >>> mlp_extractor(10, (32, 16))
    Sequential(
      (0): Linear(in_features=10, out_features=32, bias=True)
      (1): ReLU()
      (2): Linear(in_features=32, out_features=16, bias=True)
      (3): ReLU()
    )
    """
    return nn.Sequential(*_mlp([int(in_features), *map(int, hidden_sizes)], dropout))


class AlignmentNetwork(nn.Module):
    """A feature extractor and classifier trained with alignment losses on its features.

    Parameters
    ----------
    feature_extractor : nn.Module
        Rows -> feature vectors ``(n, d)``.
    classifier : nn.Module
        Features -> logits ``(n, n_classes)`` (or ``(n, 1)`` for regression).
    alignment : mapping of str to nn.Module, optional
        Named alignment losses (:class:`DANNLoss`, :class:`CDANLoss`, :class:`CORALLoss`,
        :class:`MMDLoss`, or any module called as ``loss(features_source,
        features_target)``).

    Examples
    --------
    >>> import torch
    >>> from transferkit.align.losses import CORALLoss
    >>> network = AlignmentNetwork(mlp_extractor(3, (8,)), torch.nn.Linear(8, 2),
    ...                            {"coral": CORALLoss()})
    >>> logits, losses = network(torch.randn(4, 3), torch.randn(5, 3))
    >>> logits.shape, sorted(losses)
    (torch.Size([4, 2]), ['coral'])
    >>> network(torch.randn(4, 3)).shape
    torch.Size([4, 2])
    """

    def __init__(self, feature_extractor: nn.Module, classifier: nn.Module,
                 alignment: Mapping[str, nn.Module] | None = None) -> None:
        super().__init__()
        self.feature_extractor = feature_extractor
        self.classifier = classifier
        self.alignment = nn.ModuleDict(dict(alignment or {}))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Feature vectors of rows ``x``, flattened to ``(n, d)``."""
        return self.feature_extractor(x).flatten(1)

    def forward(
        self, x: torch.Tensor, x_target: torch.Tensor | None = None, *, coeff: float = 1.0
    ) -> torch.Tensor | tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Logits of ``x``; with ``x_target``, ``(source logits, {name: loss})``.

        ``coeff`` scales the reversed gradient of adversarial losses (the DANN lambda).
        Source and target rows go through the extractor together, so batch-norm layers
        see both markets.
        """
        if x_target is None:
            return self.classifier(self.features(x))
        n_source = len(x)
        features = self.features(torch.cat([x, x_target]))
        logits = self.classifier(features)
        features_source, features_target = features[:n_source], features[n_source:]
        losses = {}
        for name, loss in self.alignment.items():
            if isinstance(loss, CDANLoss):
                losses[name] = loss(features_source, features_target, logits[:n_source],
                                    logits[n_source:], coeff=coeff)
            elif isinstance(loss, DANNLoss):
                losses[name] = loss(features_source, features_target, coeff=coeff)
            else:
                losses[name] = loss(features_source, features_target)
        return logits[:n_source], losses
