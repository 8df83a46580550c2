"""The network fine-tuning trains: a backbone, a new head and, for Co-Tuning, the source head."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from transferkit.backbones import TorchBackbone

__all__ = ["BatchNormMode", "TransferModel", "batchnorm_layers"]

BatchNormMode = Literal["frozen", "train"]

def batchnorm_layers(module: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every BatchNorm layer of ``module`` with its dotted name."""
    return [(name, m) for name, m in module.named_modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm)]


class TransferModel(nn.Module):
    """Backbone + linear head (+ the kept source head), with BatchNorm statistics under control.

    ``train()`` puts every BatchNorm layer whose parameters are all frozen back into eval
    mode, so its running statistics (part of the pretrained weights) never move; with
    ``bn="frozen"`` every BatchNorm layer stays in eval mode, the usual choice when target
    batches are small. The shared ``Trainer`` calls ``model.train()`` at each epoch, so the
    rule lives here rather than in a callback.

    Parameters
    ----------
    backbone : TorchBackbone
        Its ``module`` is registered as ``self.backbone``.
    head : nn.Module
        Maps features to target-class logits.
    source_head : nn.Module, optional
        Maps features to source-class logits (Co-Tuning); ``forward`` then returns
        ``(logits, source_logits)``.
    bn : {"frozen", "train"}, default="frozen"
    start : int, default=0
        With a chain backbone (``backbone.sequential_units()``), inputs are the cached
        activations after the first ``start`` blocks and ``forward`` runs the rest.
    """

    def __init__(
        self,
        backbone: TorchBackbone,
        head: nn.Module,
        *,
        source_head: nn.Module | None = None,
        bn: BatchNormMode = "frozen",
        start: int = 0,
    ) -> None:
        super().__init__()
        self.backbone = backbone.module
        self.head = head
        self.source_head = source_head
        self.bn = bn
        # Plain attribute, not a submodule: the wrapper's pooling/forward logic reads the
        # same module registered above.
        self._wrapper = backbone
        self.start = start
        self._units = backbone.sequential_units() if start else None

    def features(self, *inputs: torch.Tensor) -> torch.Tensor:
        if not self._units:
            return self._wrapper.forward_tensors(*inputs)
        activations = inputs[0]
        for _, unit in self._units[self.start:]:
            activations = unit(activations)
        return activations.flatten(1)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        features = self.features(*inputs)
        logits = self.head(features)
        if self.source_head is None:
            return logits
        return logits, self.source_head(features)

    def train(self, mode: bool = True) -> TransferModel:
        super().train(mode)
        if mode:
            for _, layer in batchnorm_layers(self.backbone):
                frozen = not any(p.requires_grad for p in layer.parameters())
                if self.bn == "frozen" or frozen:
                    layer.eval()
        return self
