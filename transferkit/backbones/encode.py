"""Turn a text, image or tensor Domain into a feature Domain with a frozen backbone, once.

``encode`` runs the backbone batched (on the GPU with mixed precision when one is there)
and, given a ``cache_dir``, stores the features on disk keyed by the backbone's identity
(weights + preprocessing) and a hash of the data (texts, image file bytes, tensor bytes).
A second call with the same model and data reads the file instead of running the model;
changing either writes a new file. The result is an ordinary numeric Domain, so gap
reports, reweighting and alignment run on it.

Examples
--------
>>> import numpy as np, tempfile
>>> from torch import nn
>>> from transferkit import Domain
>>> shop = Domain.from_arrays(np.ones((5, 3)), [0, 1, 0, 1, 1], name="us")
>>> backbone = as_backbone(nn.Linear(3, 2))
>>> cache = tempfile.mkdtemp()
>>> encode(shop, backbone, batch_size=2, cache_dir=cache).X.shape
(5, 2)
>>> backbone.n_forward_batches
3
>>> _ = encode(shop, backbone, cache_dir=cache)  # read from the cache: no forward pass
>>> backbone.n_forward_batches
3
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from transferkit._io import atomic_write_bytes
from transferkit._validation import check_choice, check_param, describe_positions
from transferkit.backbones._base import Backbone, TorchBackbone, rows_digest
from transferkit.backbones.module import as_backbone
from transferkit.domain import Domain
from transferkit.exceptions import TransferWarning
from transferkit.training import resolve_device

__all__ = ["encode", "feature_cache_path", "raw_rows"]

# Bump when the cache file layout changes, so old files are never misread.
_CACHE_VERSION = "1"


def raw_rows(domain: Domain, backbone: Backbone) -> Any:
    """The rows a backbone reads from a Domain: image paths, texts or the ``X`` array."""
    modality = domain.modality
    if backbone.modality == "image" and domain.schema.image:
        return domain.image_paths
    if backbone.modality == "text" and domain.schema.text:
        return domain.texts
    if backbone.modality == "tensor" and modality in ("tabular", "tensor"):
        X = domain.X
        if isinstance(X, np.ndarray):
            return X
    raise TypeError(
        f"Backbone {backbone.name!r} reads {backbone.modality} rows but Domain "
        f"{domain.name!r} holds {modality} data. Use an image backbone for Domain.from_images, "
        "a text backbone for Domain.from_texts, and a module backbone for numeric features."
    )


def feature_cache_path(
    domain: Domain, backbone: Backbone, cache_dir: str | os.PathLike[str]
) -> Path:
    """Where ``encode`` caches this Domain's features for this backbone."""
    backbone = as_backbone(backbone)
    rows = raw_rows(domain, backbone)
    key = hashlib.sha256(
        "|".join((_CACHE_VERSION, backbone.identity(), rows_digest(rows, backbone.modality),
                  str(len(rows)))).encode()
    ).hexdigest()
    return Path(cache_dir) / f"{backbone.name}-{key[:24]}.npy"


def _autocast(device: torch.device, amp: bool) -> contextlib.AbstractContextManager[Any]:
    if not amp:
        return contextlib.nullcontext()
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        dtype = torch.bfloat16
    return torch.autocast(device_type=device.type, dtype=dtype)


def encode(
    domain: Domain,
    backbone: Backbone | str | torch.nn.Module,
    *,
    batch_size: int = 64,
    device: str | torch.device = "auto",
    amp: bool | Literal["auto"] = "auto",
    cache_dir: str | os.PathLike[str] | None = None,
    blank_texts: Literal["warn", "error"] = "warn",
) -> Domain:
    """Features of every row of ``domain`` from a frozen ``backbone``, as a new Domain.

    Parameters
    ----------
    domain : Domain
        Text (``Domain.from_texts``), image (``from_images``) or numeric Domain.
    backbone : Backbone, str or nn.Module
        A backbone, a registered name (``"efficientnet_lite0"``, ``"minilm"``,
        ``"use_multilingual"``) or any module (see ``as_backbone``).
    batch_size : int, default=64
        Rows per forward pass.
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
        ``"auto"`` uses the GPU when there is one.
    amp : bool or "auto", default="auto"
        Mixed precision (bfloat16 where supported, else float16); ``"auto"`` turns it on
        on CUDA only. Features are returned as float32 either way.
    cache_dir : path, optional
        Folder for the feature cache. Files are ``<backbone>-<key>.npy`` written atomically;
        the key covers the backbone's weights and settings and the data's bytes. A
        corrupt or truncated cache file is deleted and recomputed, with a warning.
    blank_texts : {"warn", "error"}, default="warn"
        Empty or whitespace-only texts all get one and the same embedding: warn with
        their count and rows, or refuse.

    Returns
    -------
    Domain
        ``domain.with_features(features)``: same rows, labels and metadata, with
        ``n_features`` float32 columns named ``<backbone>_<i>``.

    Raises
    ------
    TypeError
        The backbone reads another modality than the Domain holds.
    ValueError
        Unreadable image files (named), blank texts with ``blank_texts="error"``, bad
        parameters.
    """
    backbone = as_backbone(backbone)
    check_param("encode", "batch_size", batch_size, "an int >= 1",
                lambda v: int(v) == v and v >= 1)
    check_param("encode", "amp", amp, "True, False or 'auto'",
                lambda v: v in (True, False, "auto"))
    check_choice("encode", "blank_texts", blank_texts, ("warn", "error"))
    rows = raw_rows(domain, backbone)
    if backbone.modality == "text":
        _check_blank_texts(rows, domain.name, blank_texts)
    path = None if cache_dir is None else feature_cache_path(domain, backbone, cache_dir)
    features = _read_cache(path, len(rows)) if path is not None and path.is_file() else None
    if features is None:
        backbone.check_rows(rows)
        features = _run(backbone, rows, int(batch_size), resolve_device(str(device)), amp)
        if path is not None:
            buffer = io.BytesIO()
            np.save(buffer, features)
            atomic_write_bytes(path, buffer.getvalue())
    names = [f"{backbone.name}_{i}" for i in range(features.shape[1])]
    return domain.with_features(np.asarray(features, dtype=np.float32), feature_names=names)


def _check_blank_texts(texts: Any, name: str, mode: str) -> None:
    blank = np.array([not str(t).strip() for t in texts], dtype=bool)
    if not blank.any():
        return
    message = (f"Domain {name!r} has {int(blank.sum())} of {blank.size} texts that are empty "
               f"or only whitespace ({describe_positions(blank)}); they all get one and the "
               "same embedding. Drop or fill them")
    if mode == "error":
        raise ValueError(message + ", or pass blank_texts='warn' to keep them.")
    warnings.warn(message + " (blank_texts='error' refuses them).", TransferWarning,
                  stacklevel=3)


def _read_cache(path: Path, n_rows: int) -> np.ndarray | None:
    """The cached features, or None (after deleting the file) when it is damaged."""
    try:
        features = np.load(path, mmap_mode="r", allow_pickle=False)
        if features.ndim != 2 or features.shape[0] != n_rows:
            raise ValueError(f"shape {features.shape}, expected ({n_rows}, n_features)")
        return features
    except (OSError, ValueError, EOFError) as exc:
        warnings.warn(
            f"Feature cache {str(path)!r} is corrupt or truncated ({exc}); it is deleted and "
            "the features are computed again.",
            TransferWarning, stacklevel=3,
        )
        path.unlink(missing_ok=True)
        return None


def _run(
    backbone: Backbone, rows: Any, batch_size: int, device: torch.device, amp: bool | str
) -> np.ndarray:
    use_amp = device.type == "cuda" if amp == "auto" else bool(amp)
    module = backbone.module if isinstance(backbone, TorchBackbone) else None
    if module is not None:
        was_training = module.training
        module.to(device).eval()
    chunks = []
    try:
        with torch.inference_mode(), _autocast(device, use_amp):
            for start in range(0, len(rows), batch_size):
                batch = backbone.preprocess(rows[start:start + batch_size])
                output = backbone.embed(batch, device)
                backbone.n_forward_batches += 1
                chunks.append(output.float().reshape(output.shape[0], -1).cpu().numpy())
    finally:
        if module is not None:
            module.train(was_training)
    return np.concatenate(chunks).astype(np.float32, copy=False)
