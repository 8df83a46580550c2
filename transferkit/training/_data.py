"""Turning Domains and arrays into datasets, and the paired source/target batch order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch.utils.data import DataLoader, Dataset, DistributedSampler, TensorDataset

from transferkit.domain import Domain

__all__ = ["as_dataset", "domain_dataset"]

# In-memory tensor data up to this size are copied to the GPU once instead of per batch.
_DEVICE_CACHE_BYTES = 1 << 30


def domain_dataset(
    domain: Domain,
    *,
    classes: ArrayLike | None = None,
    labels: bool | None = None,
) -> TensorDataset:
    """Tensors ``(X,)`` or ``(X, y)`` of a numeric Domain, ready for the ``Trainer``.

    Parameters
    ----------
    domain : Domain
        A Domain with numeric features (tabular after ``harmonize``, embeddings, tensors).
    classes : array-like, optional
        Label values in class-index order; labels are encoded as positions in it
        (int64). Default: ``domain.classes`` for classification tasks. Regression labels
        are float32.
    labels : bool, optional
        Include the labels. None includes them when every row is labelled.

    Returns
    -------
    TensorDataset
        ``X`` as float32 with the Domain's feature shape, then ``y`` when requested.

    Examples
    --------
    >>> import numpy as np
    >>> d = Domain.from_arrays(np.eye(3), ["b", "a", "b"])
    >>> X, y = domain_dataset(d).tensors
    >>> X.dtype, y.tolist()
    (torch.float32, [1, 0, 1])
    """
    X = domain.X
    if not isinstance(X, np.ndarray):
        raise TypeError(
            f"Domain {domain.name!r} has categorical features; harmonize it first "
            "(transferkit.harmonize) so the trainer gets numbers."
        )
    features = torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32))
    if labels is None:
        labels = domain.schema.label is not None and domain.n_labeled == domain.n_samples
    if not labels:
        return TensorDataset(features)
    y = domain.y
    if domain.is_classification:
        known = np.asarray(domain.classes if classes is None else classes)
        codes = np.searchsorted(known, y)
        codes = np.clip(codes, 0, len(known) - 1)
        unknown = known[codes] != y
        if unknown.any():
            raise ValueError(
                f"Domain {domain.name!r} has labels {sorted(set(np.asarray(y)[unknown]))[:5]} "
                f"that are not among the classes {known.tolist()}; the model was fitted on "
                "those classes only."
            )
        target = torch.as_tensor(codes, dtype=torch.int64)
    else:
        target = torch.as_tensor(np.asarray(y, dtype=np.float32))
    return TensorDataset(features, target)


def as_dataset(data: Any) -> Dataset:
    """A torch ``Dataset`` from a Domain, tensors, arrays or a tuple of them.

    ``Dataset`` objects pass through; a Domain goes through :func:`domain_dataset`; a
    tensor, array or tuple of them becomes a ``TensorDataset`` (float arrays as float32).

    Examples
    --------
    >>> import numpy as np
    >>> len(as_dataset((np.zeros((4, 2)), np.arange(4))))
    4
    """
    if isinstance(data, Dataset):
        return data
    if isinstance(data, Domain):
        return domain_dataset(data)
    parts = data if isinstance(data, tuple | list) else (data,)
    tensors = []
    for part in parts:
        tensor = torch.as_tensor(np.asarray(part) if not isinstance(part, torch.Tensor) else part)
        if tensor.is_floating_point():
            tensor = tensor.float()
        tensors.append(tensor)
    if not tensors or tensors[0].ndim == 0:
        raise TypeError(
            f"Cannot make a dataset from {type(data).__name__}; pass a Domain, a torch "
            "Dataset, or arrays/tensors of shape (n_samples, ...)."
        )
    sizes = {len(t) for t in tensors}
    if len(sizes) != 1:
        raise ValueError(f"The arrays have different numbers of rows {sorted(sizes)}.")
    return TensorDataset(*tensors)


class IndexStream:
    """An endless, reproducible order of a dataset's rows for one process.

    The stream is a concatenation of shuffled passes; pass ``c`` is the permutation
    ``DistributedSampler`` draws for epoch ``c`` (so processes under DDP get disjoint
    shards). The rows of global step ``g`` are positions ``[g*B, (g+1)*B)``: the order is
    a pure function of (seed, step), which is what makes a resumed run exact.
    """

    def __init__(self, n_samples: int, *, seed: int, rank: int = 0, world_size: int = 1) -> None:
        self.sampler = DistributedSampler(
            range(n_samples), num_replicas=world_size, rank=rank, shuffle=True, seed=seed
        )
        self.n_per_pass = self.sampler.num_samples
        self._passes: dict[int, np.ndarray] = {}

    def _pass(self, index: int) -> np.ndarray:
        if index not in self._passes:
            if len(self._passes) > 3:
                self._passes.pop(min(self._passes))
            self.sampler.set_epoch(index)
            self._passes[index] = np.fromiter(iter(self.sampler), dtype=np.int64)
        return self._passes[index]

    def batch(self, step: int, batch_size: int) -> np.ndarray:
        """Row indices of global step ``step``."""
        start = step * batch_size
        first, offset = divmod(start, self.n_per_pass)
        if offset + batch_size <= self.n_per_pass:
            return self._pass(first)[offset:offset + batch_size].copy()
        positions = np.arange(start, start + batch_size)
        passes, offsets = np.divmod(positions, self.n_per_pass)
        out = np.empty(batch_size, dtype=np.int64)
        for index in np.unique(passes):
            mask = passes == index
            out[mask] = self._pass(int(index))[offsets[mask]]
        return out


class BatchFeeder:
    """Yields the device-ready batches of one dataset for a range of global steps."""

    def __init__(
        self,
        dataset: Dataset,
        stream: IndexStream,
        *,
        batch_size: int,
        device: torch.device,
        num_workers: int,
        pin_memory: bool,
    ) -> None:
        self.dataset = dataset
        self.stream = stream
        self.batch_size = batch_size
        self.device = device
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self._tensors: tuple[torch.Tensor, ...] | None = None
        if isinstance(dataset, TensorDataset) and num_workers == 0:
            tensors = tuple(dataset.tensors)
            size = sum(t.element_size() * t.nelement() for t in tensors)
            if device.type == "cuda" and size <= _DEVICE_CACHE_BYTES:
                tensors = tuple(t.to(device) for t in tensors)
            self._tensors = tensors

    def batches(self, steps: Sequence[int]) -> Iterator[tuple[torch.Tensor, ...]]:
        if self._tensors is not None:
            for step in steps:
                index = torch.from_numpy(self.stream.batch(step, self.batch_size))
                on_device = self._tensors[0].device == self.device
                if on_device:
                    yield tuple(t[index.to(self.device)] for t in self._tensors)
                else:
                    yield to_device(tuple(t[index] for t in self._tensors), self.device,
                                    pin=self.pin_memory)
            return
        order = [self.stream.batch(step, self.batch_size).tolist() for step in steps]
        loader = DataLoader(
            self.dataset, batch_sampler=order, num_workers=self.num_workers,
            pin_memory=self.pin_memory and self.device.type == "cuda",
        )
        for batch in loader:
            yield to_device(tuple(batch) if isinstance(batch, list | tuple) else (batch,),
                            self.device, pin=False)


def to_device(
    tensors: tuple[torch.Tensor, ...], device: torch.device, *, pin: bool = False
) -> tuple[torch.Tensor, ...]:
    """Move a batch to ``device``; host tensors are pinned first when ``pin`` so the copy
    overlaps with compute (``non_blocking``)."""
    if device.type != "cuda":
        return tuple(t.to(device) for t in tensors)
    moved = []
    for tensor in tensors:
        if tensor.device.type == "cpu":
            if pin and not tensor.is_pinned():
                tensor = tensor.pin_memory()
            tensor = tensor.to(device, non_blocking=tensor.is_pinned())
        moved.append(tensor)
    return tuple(moved)
