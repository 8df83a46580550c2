"""Checkpoints: safetensors for tensors, JSON for everything else, swapped in atomically.

A checkpoint is a folder ``checkpoint-<step>`` holding ``model.safetensors`` (weights),
``state.safetensors`` (optimizer moments, RNG states) and ``state.json`` (counters,
history, optimizer hyper-parameters, scheduler, scaler, config). It is written under a
temporary name and renamed into place, then ``latest.json`` is replaced to point at it, so
a run killed at any moment leaves the previous checkpoint intact. Nothing is unpickled:
the format holds only tensors and JSON. A damaged file is reported by name with what to
do, and a checkpoint of another architecture is refused before any weight is loaded.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save, save_file

from transferkit._io import atomic_write_bytes, atomic_write_text

__all__ = [
    "check_architecture",
    "checkpoint_runs",
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
    """Read a safetensors file into a dict of CPU tensors.

    Raises ``FileNotFoundError`` or ``ValueError`` naming the file when it is missing,
    corrupt or truncated.
    """
    path = os.fspath(path)
    try:
        return load_file(path, device="cpu")
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"No weight file {path!r}.") from exc
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(_damaged(path, exc)) from exc


def _damaged(path: str, exc: BaseException) -> str:
    return (f"{path!r} is corrupt or truncated ({type(exc).__name__}: {exc}). Delete it "
            "and save or download it again; for a checkpoint, delete its folder so the "
            "previous one is used, or start a new run (resume=False).")


def _saved_shapes(path: str) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes from a safetensors header, without reading the tensors."""
    try:
        with safe_open(path, framework="pt", device="cpu") as handle:
            return {key: tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"No weight file {path!r}.") from exc
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(_damaged(path, exc)) from exc


def check_architecture(
    path: str | os.PathLike[str], state_dict: Mapping[str, torch.Tensor]
) -> None:
    """Refuse a weight file (or checkpoint folder) written by another architecture.

    Compares tensor names and shapes in the file's header with ``state_dict`` before
    anything is loaded, and names the differences.

    Examples
    --------
    >>> import tempfile, os, torch
    >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> save_weights(path, torch.nn.Linear(3, 2).state_dict())
    >>> check_architecture(path, torch.nn.Linear(3, 2).state_dict())
    >>> check_architecture(path, torch.nn.Linear(4, 2).state_dict())
    Traceback (most recent call last):
    ...
    ValueError: ...: shapes differ for 'weight' (saved (2, 3), this model (2, 4)). ...
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, "model.safetensors")
    saved = _saved_shapes(path)
    current = {key: tuple(value.shape) for key, value in state_dict.items()}
    missing = [k for k in current if k not in saved]
    unexpected = [k for k in saved if k not in current]
    shapes = [f"{k!r} (saved {saved[k]}, this model {current[k]})"
              for k in current if k in saved and saved[k] != current[k]]
    problems = []
    if missing:
        problems.append(f"this model has {_listing(missing)} that the file lacks")
    if unexpected:
        problems.append(f"the file has {_listing(unexpected)} that this model lacks")
    if shapes:
        problems.append(f"shapes differ for {', '.join(shapes[:3])}"
                        f"{', ...' if len(shapes) > 3 else ''}")
    if problems:
        raise ValueError(
            f"{path!r} was written by a different model architecture: {'; '.join(problems)}. "
            "Load it into the model that wrote it, or start a new run in another "
            "checkpoint_dir."
        )


def _listing(keys: list[str]) -> str:
    shown = ", ".join(repr(k) for k in keys[:3])
    return f"{len(keys)} tensors ({shown}{', ...' if len(keys) > 3 else ''})"


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
    """Folder of the newest complete checkpoint in ``directory``, or None.

    ``directory`` is a run's own folder or a ``TrainConfig.checkpoint_dir`` holding one
    run subfolder; with several runs there, it raises naming them.
    """
    directory = os.fspath(directory)
    pointer = os.path.join(directory, _LATEST)
    if not os.path.isfile(pointer):
        runs = checkpoint_runs(directory)
        if len(runs) > 1:
            raise ValueError(
                f"{directory!r} holds checkpoints of {len(runs)} runs ({', '.join(runs)}); "
                "pass the folder of one of them."
            )
        return latest_checkpoint(os.path.join(directory, runs[0])) if runs else None
    try:
        with open(pointer, encoding="utf-8") as handle:
            name = json.load(handle)["checkpoint"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise ValueError(
            f"{pointer!r} is corrupt ({type(exc).__name__}: {exc}); delete it and the "
            "checkpoint folders beside it to start over, or write {\"checkpoint\": "
            "\"checkpoint-<step>\"} naming the newest complete folder."
        ) from exc
    path = os.path.join(directory, str(name))
    return path if os.path.isdir(path) else None


def checkpoint_runs(directory: str | os.PathLike[str]) -> list[str]:
    """Subfolders of ``directory`` that hold a run's checkpoints (a ``latest.json``)."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        return []
    return sorted(entry for entry in os.listdir(directory)
                  if os.path.isfile(os.path.join(directory, entry, _LATEST)))


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint folder: ``model``, ``optimizer``, ``tensors`` and JSON ``state``."""
    path = os.fspath(path)
    document = os.path.join(path, "state.json")
    try:
        with open(document, encoding="utf-8") as handle:
            state = json.load(handle)
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"Checkpoint {path!r} has no state.json; it is incomplete. Delete the folder so "
            "the previous checkpoint is used, or start a new run (resume=False)."
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(_damaged(document, exc)) from exc
    if not isinstance(state, dict) or "optimizer" not in state:
        raise ValueError(_damaged(document, ValueError("not a checkpoint state document")))
    if state.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"Checkpoint {path!r} has format version {state.get('format_version')!r}; this "
            f"transferkit reads version {FORMAT_VERSION}. Start a new run (resume=False)."
        )
    tensors = load_weights(os.path.join(path, "state.safetensors"))
    return {
        "model": load_weights(os.path.join(path, "model.safetensors")),
        "optimizer": _join_optimizer_state(state.pop("optimizer"), tensors),
        "tensors": {k: v for k, v in tensors.items() if not k.startswith("optimizer.")},
        "state": state,
    }
