"""Checkpoints: safetensors for tensors, JSON for everything else, swapped in atomically.

A checkpoint is a folder ``checkpoint-<step>`` holding ``model.safetensors`` (weights),
``state.safetensors`` (optimizer moments, RNG states) and ``state.json`` (counters,
history, optimizer hyper-parameters, scheduler, scaler, config). It is written under a
temporary name and renamed into place, then ``latest.json`` is replaced to point at it, so
a run killed at any moment leaves the previous checkpoint intact. Nothing is unpickled:
the format holds only tensors and JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from typing import Any

import torch
from safetensors.torch import load_file, save, save_file

from transferkit._io import atomic_write_bytes, atomic_write_text

__all__ = [
    "latest_checkpoint",
    "load_checkpoint",
    "load_weights",
    "save_checkpoint",
    "save_weights",
]

FORMAT_VERSION = 1
_LATEST = "latest.json"


def _cpu_tensors(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # clone: safetensors refuses tensors that share storage (tied weights, views).
    return {key: value.detach().to("cpu").contiguous().clone() for key, value in tensors.items()}


def save_weights(path: str | os.PathLike[str], state_dict: Mapping[str, torch.Tensor]) -> None:
    """Write a state dict to ``path`` as safetensors, atomically (temp file + rename).

    Examples
    --------
    >>> import tempfile, os, torch
    >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> save_weights(path, {"w": torch.ones(2)})
    >>> load_weights(path)["w"].tolist()
    [1.0, 1.0]
    """
    atomic_write_bytes(path, save(_cpu_tensors(state_dict)))


def load_weights(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a safetensors file into a dict of CPU tensors."""
    return load_file(os.fspath(path), device="cpu")


def _split_optimizer_state(state: Mapping[str, Any]) -> tuple[dict, dict[str, torch.Tensor]]:
    """Optimizer ``state_dict`` -> (JSON part, flat tensors)."""
    tensors: dict[str, torch.Tensor] = {}
    per_param: dict[str, dict[str, Any]] = {}
    for index, values in state["state"].items():
        entry: dict[str, Any] = {}
        for name, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer.{index}.{name}"] = value
            else:
                entry[name] = value
        per_param[str(index)] = entry
    return {"state": per_param, "param_groups": state["param_groups"]}, tensors


def _join_optimizer_state(meta: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> dict:
    state: dict[int, dict[str, Any]] = {int(k): dict(v) for k, v in meta["state"].items()}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    groups = []
    for group in meta["param_groups"]:
        group = dict(group)
        if isinstance(group.get("betas"), list):
            group["betas"] = tuple(group["betas"])
        groups.append(group)
    return {"state": state, "param_groups": groups}


def save_checkpoint(
    directory: str | os.PathLike[str],
    *,
    step: int,
    model_state: Mapping[str, torch.Tensor],
    optimizer_state: Mapping[str, Any],
    extra_tensors: Mapping[str, torch.Tensor],
    state: Mapping[str, Any],
    keep: int = 2,
) -> str:
    """Write checkpoint ``step`` under ``directory`` and point ``latest.json`` at it.

    Returns the checkpoint folder. Older checkpoints beyond the ``keep`` newest are removed.
    """
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    name = f"checkpoint-{step:09d}"
    final = os.path.join(directory, name)
    staging = tempfile.mkdtemp(dir=directory, prefix=f".tmp-{name}-")
    try:
        optimizer_meta, optimizer_tensors = _split_optimizer_state(optimizer_state)
        save_file(_cpu_tensors(model_state), os.path.join(staging, "model.safetensors"))
        save_file(_cpu_tensors({**optimizer_tensors, **extra_tensors}),
                  os.path.join(staging, "state.safetensors"))
        document = {"format_version": FORMAT_VERSION, "step": step,
                    "optimizer": optimizer_meta, **state}
        with open(os.path.join(staging, "state.json"), "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        if os.path.exists(final):
            shutil.rmtree(final)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    atomic_write_text(os.path.join(directory, _LATEST), json.dumps({"checkpoint": name}))
    existing = sorted(d for d in os.listdir(directory) if d.startswith("checkpoint-"))
    for old in existing[:-keep] if keep else []:
        if old != name:
            shutil.rmtree(os.path.join(directory, old), ignore_errors=True)
    return final


def latest_checkpoint(directory: str | os.PathLike[str]) -> str | None:
    """Folder of the newest complete checkpoint in ``directory``, or None."""
    pointer = os.path.join(os.fspath(directory), _LATEST)
    if not os.path.isfile(pointer):
        return None
    with open(pointer, encoding="utf-8") as handle:
        name = json.load(handle)["checkpoint"]
    path = os.path.join(os.fspath(directory), name)
    return path if os.path.isdir(path) else None


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint folder: ``model``, ``optimizer``, ``tensors`` and JSON ``state``."""
    path = os.fspath(path)
    with open(os.path.join(path, "state.json"), encoding="utf-8") as handle:
        state = json.load(handle)
    if state.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"Checkpoint {path!r} has format version {state.get('format_version')!r}; this "
            f"transferkit reads version {FORMAT_VERSION}. Start a new run (resume=False)."
        )
    tensors = load_file(os.path.join(path, "state.safetensors"), device="cpu")
    return {
        "model": load_weights(os.path.join(path, "model.safetensors")),
        "optimizer": _join_optimizer_state(state.pop("optimizer"), tensors),
        "tensors": {k: v for k, v in tensors.items() if not k.startswith("optimizer.")},
        "state": state,
    }
