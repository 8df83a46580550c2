"""The Backbone contract: a frozen or trainable feature extractor for one input modality.

A backbone turns raw rows of a Domain (image paths, texts or tensor rows) into a
``(n_samples, n_features)`` float tensor. ``encode`` runs it batched and caches the
result; ``transferkit.finetune`` trains its ``module`` when the strategy unfreezes layers.
"""

from __future__ import annotations

import copy
import hashlib
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from transferkit._registry import Registry

__all__ = [
    "BACKBONES",
    "Backbone",
    "Modality",
    "TorchBackbone",
    "module_fingerprint",
    "move_to",
    "rows_digest",
]

Modality = Literal["image", "text", "tensor"]

#: Backbones by name: ``BACKBONES.get("efficientnet_lite0")()`` builds one.
BACKBONES: Registry[Any] = Registry("backbone")


def module_fingerprint(module: nn.Module) -> str:
    """SHA-256 of a module's class and every parameter and buffer (names, shapes, bytes).

    Two modules with the same architecture and weights share a fingerprint; changing
    one weight changes it, which is what invalidates cached features.

    Examples
    --------
    >>> a, b = nn.Linear(2, 1), nn.Linear(2, 1)
    >>> _ = b.load_state_dict(a.state_dict())
    >>> module_fingerprint(a) == module_fingerprint(b)
    True
    """
    digest = hashlib.sha256(type(module).__qualname__.encode())
    for name, tensor in module.state_dict().items():
        value = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{tuple(value.shape)}|{value.dtype}".encode())
        if value.dtype == torch.bfloat16:
            value = value.float()
        digest.update(value.numpy().tobytes())
    return digest.hexdigest()


class Backbone(ABC):
    """A feature extractor: raw rows of one modality in, a float feature matrix out.

    Subclasses set ``modality`` and implement ``preprocess`` (CPU work on a list of raw
    rows) and ``embed`` (the forward pass on one preprocessed batch). ``identity`` must
    change whenever the features would change (weights, pooling, image size), because
    the feature cache is keyed by it.

    Attributes
    ----------
    name : str
        Short name used in feature names and cache files.
    n_forward_batches : int
        Batches pushed through ``embed`` by ``encode`` so far; tests use it to check that
        cached features are not recomputed.
    """

    modality: ClassVar[Modality]
    trainable: ClassVar[bool] = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.n_forward_batches = 0

    @abstractmethod
    def identity(self) -> str:
        """A stable string that changes whenever the features would change."""

    @abstractmethod
    def preprocess(self, rows: Sequence[Any]) -> Any:
        """CPU-side preparation of a batch of raw rows (decoded images, token ids)."""

    @abstractmethod
    def embed(self, batch: Any, device: torch.device) -> torch.Tensor:
        """Features of one preprocessed batch, shape ``(batch_size, n_features)``."""

    def check_rows(self, rows: Sequence[Any]) -> None:
        """Validate all raw rows once before a long run (unreadable files, long texts).

        The default accepts every row; image and text backbones override it.
        """
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class TorchBackbone(Backbone):
    """A backbone whose features come from a torch ``module``, so it can be fine-tuned.

    Parameters
    ----------
    name : str
        Short name for feature names and cache files.
    module : nn.Module
        The network without its classification head.
    """

    trainable: ClassVar[bool] = True

    def __init__(self, name: str, module: nn.Module) -> None:
        super().__init__(name)
        self.module = module

    def config(self) -> Mapping[str, Any]:
        """Preprocessing and pooling settings that affect the features (part of identity)."""
        return {}

    def identity(self) -> str:
        settings = sorted((k, repr(v)) for k, v in self.config().items())
        return f"{type(self).__name__}|{settings}|{module_fingerprint(self.module)}"

    def forward(self, batch: Any) -> torch.Tensor:
        """Features of a batch already on the module's device (used by fine-tuning)."""
        return self.module(batch)

    def embed(self, batch: Any, device: torch.device) -> torch.Tensor:
        return self.forward(move_to(batch, device))

    def layer_names(self) -> list[str]:
        """Names of the module's direct children, the unit that fine-tuning unfreezes."""
        return [name for name, _ in self.module.named_children()]

    def sequential_units(self) -> list[tuple[str, nn.Module]] | None:
        """The network as a chain of blocks, or None when it is not one.

        When not None, ``forward(x)`` equals applying the blocks in order and flattening.
        Fine-tuning then runs the frozen blocks below the first trained one once and
        caches their output (``prefix``), so epochs only run the trained top.
        """
        return None

    def prefix(self, n_units: int) -> TorchBackbone:
        """A backbone made of the first ``n_units`` blocks, sharing this one's preprocessing.

        Its features are the flattened activations after those blocks; its identity (and
        so its feature cache) follows their weights.
        """
        units = self.sequential_units()
        if units is None or not 0 < n_units < len(units):
            raise ValueError(
                f"Backbone {self.name!r} cannot be cut after {n_units} blocks; it has "
                f"{'no chain of blocks' if units is None else f'{len(units)} blocks'}."
            )
        head = copy.copy(self)
        head.module = nn.Sequential(OrderedDict(
            (name.replace(".", "_"), unit) for name, unit in units[:n_units]))
        head.name = f"{self.name}@{units[n_units - 1][0]}"
        head.n_forward_batches = 0
        if hasattr(head, "_n_features"):
            head._n_features = None
        return head

    def dataset(self, rows: Sequence[Any]) -> Dataset:
        """A torch Dataset of model inputs, one tuple of tensors per row (for fine-tuning).

        The default preprocesses one row at a time when it is read, so images are decoded
        lazily (and in DataLoader workers when ``num_workers > 0``).
        """
        return _LazyRows(self, rows)

    def forward_tensors(self, *tensors: torch.Tensor) -> torch.Tensor:
        """Features of a batch of the tensors ``dataset`` yields, already on the device."""
        return self.forward(tensors[0])


class _LazyRows(Dataset):
    def __init__(self, backbone: TorchBackbone, rows: Sequence[Any]) -> None:
        self.backbone = backbone
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        return (self.backbone.preprocess([self.rows[index]])[0],)


def move_to(batch: Any, device: torch.device) -> Any:
    """Move a tensor, or a mapping of tensors (tokenizer output), to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {key: move_to(value, device) for key, value in batch.items()}
    return batch


def rows_digest(rows: Sequence[Any], modality: Modality) -> str:
    """SHA-256 of a Domain's raw rows: texts, image file *contents*, or tensor bytes."""
    digest = hashlib.sha256(modality.encode())
    if modality == "tensor":
        array = np.ascontiguousarray(np.asarray(rows))
        digest.update(f"{array.shape}|{array.dtype}".encode())
        digest.update(array.tobytes())
        return digest.hexdigest()
    for row in rows:
        if modality == "image":
            with open(row, "rb") as handle:
                payload = handle.read()
        else:
            payload = str(row).encode("utf-8")
        digest.update(len(payload).to_bytes(8, "little"))
        digest.update(payload)
    return digest.hexdigest()
