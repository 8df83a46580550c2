"""Any user ``nn.Module`` or transferkit-trained model as a backbone, and name resolution.

Examples
--------
>>> from torch import nn
>>> backbone = as_backbone(nn.Sequential(nn.Linear(4, 8), nn.ReLU()))
>>> backbone.modality, backbone.n_features
('tensor', 8)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from transferkit.backbones._base import BACKBONES, Backbone, Modality, TorchBackbone

__all__ = ["ModuleBackbone", "as_backbone"]


@BACKBONES.register("module")
class ModuleBackbone(TorchBackbone):
    """A user ``nn.Module`` on numeric rows (tabular features or ``N x C x H x W`` tensors).

    For image files or texts wrap the module in ``ImageBackbone`` or use an
    ``HFTextBackbone``; this class feeds ``Domain.X`` rows as float32 tensors.

    Parameters
    ----------
    module : nn.Module
        Maps a float tensor ``(batch, *row_shape)`` to ``(batch, ...)``; outputs are flattened.
    name : str, optional
        Short name; defaults to the module's class name in lower case.
    """

    modality: ClassVar[Modality] = "tensor"

    def __init__(self, module: nn.Module, *, name: str | None = None) -> None:
        if not isinstance(module, nn.Module):
            raise TypeError(
                f"ModuleBackbone wraps a torch.nn.Module; got {type(module).__name__}."
            )
        super().__init__(name or type(module).__name__.lower(), module)

    def preprocess(self, rows: Sequence[Any]) -> torch.Tensor:
        return torch.as_tensor(np.asarray(rows, dtype=np.float32))

    def dataset(self, rows: Sequence[Any]) -> Dataset:
        return TensorDataset(self.preprocess(rows))

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self.module(batch).flatten(1)

    @property
    def n_features(self) -> int:
        """Output width, found with a probe forward on a row as wide as the first ``nn.Linear``.

        Modules that do not start with a linear layer (CNNs on tensors) have no fixed width
        before they see data; encode a Domain and read ``.n_features`` from the result.
        """
        first = next((m for m in self.module.modules() if isinstance(m, nn.Linear)), None)
        if first is None:
            raise ValueError(
                f"Cannot infer the output width of {type(self.module).__name__} without "
                "data (it has no nn.Linear); encode a Domain and read its n_features."
            )
        was_training = self.module.training
        self.module.eval()
        with torch.no_grad():
            probe = torch.zeros(2, first.in_features, device=first.weight.device)
            width = int(self.module(probe).flatten(1).shape[1])
        self.module.train(was_training)
        return width


def as_backbone(backbone: Any, **kwargs: Any) -> Backbone:
    """Resolve what a user passes as a backbone into a ``Backbone``.

    Accepts a ``Backbone`` (returned as is), a registry name (``"efficientnet_lite0"``,
    ``"resnet18"``, ``"minilm"``; ``kwargs`` go to its constructor), a torch ``nn.Module``
    (wrapped in ``ModuleBackbone``), or a fitted transferkit model that offers
    ``as_backbone()`` (a ``FineTuner`` trained on the source market) or a
    ``feature_extractor_`` module (alignment trainers).

    Raises
    ------
    KeyError
        Unknown name; the message lists the registered backbones.
    TypeError
        Anything else.
    """
    if isinstance(backbone, Backbone):
        return backbone
    if isinstance(backbone, str):
        return BACKBONES.get(backbone)(**kwargs)
    if isinstance(backbone, nn.Module):
        return ModuleBackbone(backbone, **kwargs)
    if callable(getattr(backbone, "as_backbone", None)):
        return backbone.as_backbone()
    extractor = getattr(backbone, "feature_extractor_", None)
    if isinstance(extractor, nn.Module):
        return ModuleBackbone(extractor, name=type(backbone).__name__.lower())
    raise TypeError(
        f"Cannot use a {type(backbone).__name__} as a backbone. Pass a registered name "
        f"({', '.join(BACKBONES.names())}), a Backbone, an nn.Module, or a fitted "
        "transferkit model."
    )
