"""DistributedDataParallel plumbing: process group from torchrun's variables, reductions."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

__all__ = ["all_reduce_sum", "barrier", "process_group", "resolve_device"]


def process_group() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)``, joining the process group torchrun describes.

    An already initialised group is used as is. Under ``torchrun`` (``WORLD_SIZE > 1`` and
    ``MASTER_ADDR`` set) the group is initialised here with NCCL on CUDA machines and gloo
    otherwise; a plain ``python`` run is rank 0 of 1.
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size > 1 and "MASTER_ADDR" in os.environ:
        if not dist.is_available():
            raise RuntimeError(
                f"WORLD_SIZE={world_size} asks for distributed training but this torch build "
                "has no torch.distributed; run without torchrun."
            )
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
        return dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0))
    return 0, 1, 0


def resolve_device(device: str, local_rank: int = 0) -> torch.device:
    """``"auto"`` -> ``cuda:LOCAL_RANK`` when CUDA is available, else CPU; others checked."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return torch.device("cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} asks for CUDA but no CUDA device is available; "
            "use device='auto' or 'cpu'."
        )
    if resolved.type == "cuda" and resolved.index is None:
        resolved = torch.device("cuda", local_rank % torch.cuda.device_count())
    return resolved


def all_reduce_sum(values: list[float], device: torch.device) -> list[float]:
    """Sum a list of floats over all processes (identity when not distributed)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return values
    backend_device = device if dist.get_backend() == "nccl" else torch.device("cpu")
    tensor = torch.tensor(values, dtype=torch.float64, device=backend_device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def barrier() -> None:
    """Wait for every process (no-op when not distributed)."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()
