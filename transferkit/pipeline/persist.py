"""Saving fitted objects without pickle: skops for scikit-learn, safetensors for torch.

A model folder holds JSON (settings and facts), ``.skops`` files (scikit-learn objects,
loaded only when every type inside is one transferkit trusts) and ``.safetensors`` files
(tensors). ``pipeline.json`` lists every file with its SHA-256, so a truncated or edited
file is refused by name before anything is loaded.

Examples
--------
>>> import tempfile, pathlib
>>> from sklearn.linear_model import LogisticRegression
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
>>> files = save_object(folder, "model", model)
>>> load_object(folder, "model", files).predict([[0.9]]).tolist()
[1]
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from transferkit._io import atomic_write_bytes, atomic_write_text
from transferkit._json import to_jsonable
from transferkit.exceptions import TransferkitError

__all__ = [
    "FORMAT_VERSION",
    "ModelFileError",
    "check_files",
    "file_digest",
    "load_object",
    "read_json",
    "save_object",
    "write_json",
]

FORMAT_VERSION = 1
# Modules whose classes a skops file may reconstruct. Functions are never trusted, nor is
# anything from builtins beyond the plain containers skops trusts by default.
_TRUSTED_MODULES: tuple[str, ...] = ("sklearn", "numpy", "scipy", "transferkit")


class ModelFileError(TransferkitError, ValueError):
    """A model folder or one of its files is missing, damaged, untrusted or too new."""


def write_json(path: Path, value: Any) -> None:
    """Atomically write ``value`` (made JSON-able) as indented UTF-8 JSON."""
    atomic_write_text(path, json.dumps(to_jsonable(value), indent=2, ensure_ascii=False) + "\n")


def read_json(path: Path) -> Any:
    """Parse a JSON file; a missing or damaged file raises ``ModelFileError`` naming it."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"{str(path)!r} is missing; the model folder is incomplete. "
                             "Save the model again.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{str(path)!r} is not valid JSON ({exc}); the file is damaged. "
                             "Save the model again.") from None


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def check_files(folder: Path, digests: Mapping[str, str]) -> None:
    """Refuse the folder when a listed file is missing or its bytes changed."""
    for name, digest in digests.items():
        path = folder / name
        if not path.is_file():
            raise ModelFileError(f"{str(path)!r} is missing; the model folder is incomplete. "
                                 "Save the model again.")
        if file_digest(path) != digest:
            raise ModelFileError(
                f"{str(path)!r} does not match the checksum recorded when it was saved: it "
                "is truncated or was modified. Nothing was loaded; save the model again."
            )


def save_object(folder: Path, stem: str, obj: Any) -> dict[str, str]:
    """Write ``obj`` as ``stem.*``; returns ``{file name: sha256}`` of what was written.

    Objects with ``export_state()`` (torch models) become ``stem.json`` +
    ``stem.safetensors``; everything else goes through skops as ``stem.skops``.
    """
    folder = Path(folder)
    if callable(getattr(obj, "export_state", None)):
        from safetensors.torch import save

        state, tensors = obj.export_state()
        cls = type(obj)
        header = {"class": f"{cls.__module__}:{cls.__qualname__}", "state": state}
        write_json(folder / f"{stem}.json", header)
        atomic_write_bytes(folder / f"{stem}.safetensors",
                           save({k: v.detach().cpu().contiguous() for k, v in tensors.items()}))
        names = [f"{stem}.json", f"{stem}.safetensors"]
    else:
        import skops.io as sio

        atomic_write_bytes(folder / f"{stem}.skops", sio.dumps(obj))
        names = [f"{stem}.skops"]
    return {name: file_digest(folder / name) for name in names}


def load_object(folder: Path, stem: str, files: Mapping[str, str]) -> Any:
    """Read back what ``save_object`` wrote; runs no code from the files."""
    folder = Path(folder)
    if f"{stem}.skops" in files:
        return _load_skops(folder / f"{stem}.skops")
    if f"{stem}.json" in files:
        return _load_torch(folder, stem)
    raise ModelFileError(f"The model folder {str(folder)!r} lists no file for {stem!r}.")


def _load_skops(path: Path) -> Any:
    import skops.io as sio

    data = path.read_bytes()
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # skops raises several types for damaged archives
        raise ModelFileError(f"{str(path)!r} is not a readable skops file ({exc}).") from None
    refused = [name for name in untrusted if not _trusted_class(name)]
    if refused:
        raise ModelFileError(
            f"{str(path)!r} holds types transferkit does not trust: {refused}. It was not "
            "written by transferkit or was tampered with; nothing was loaded or run."
        )
    try:
        return sio.loads(data, trusted=untrusted)
    except Exception as exc:
        raise ModelFileError(f"{str(path)!r} could not be loaded ({exc}).") from None


def _trusted_class(qualified: str) -> bool:
    """Whether ``module.Name`` is a class defined in a trusted package (never a function)."""
    module_name, _, attribute = qualified.rpartition(".")
    if module_name.split(".")[0] not in _TRUSTED_MODULES:
        return False
    try:
        obj = importlib.import_module(module_name)
        for part in attribute.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return False
    return isinstance(obj, type)


def _load_torch(folder: Path, stem: str) -> Any:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    header = read_json(folder / f"{stem}.json")
    cls = _state_class(header.get("class"), folder / f"{stem}.json")
    path = folder / f"{stem}.safetensors"
    try:
        tensors = load_file(str(path), device="cpu")
    except FileNotFoundError:
        raise ModelFileError(f"{str(path)!r} is missing; the model folder is incomplete."
                             ) from None
    except (SafetensorError, OSError) as exc:
        raise ModelFileError(f"{str(path)!r} is not a readable safetensors file ({exc})."
                             ) from None
    return cls.from_state(header["state"], tensors)


def _state_class(reference: Any, where: Path) -> type:
    """The transferkit class a JSON header names; anything else is refused."""
    module_name, _, qualname = str(reference).partition(":")
    if module_name.split(".")[0] != "transferkit" or not qualname:
        raise ModelFileError(
            f"{str(where)!r} names the class {reference!r}; only transferkit classes are "
            "loaded. The file was not written by transferkit or was tampered with."
        )
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise ModelFileError(
            f"{str(where)!r} names {reference!r}, which this transferkit version does not "
            "have; load it with the version that saved it."
        ) from None
    if not isinstance(obj, type) or not callable(getattr(obj, "from_state", None)):
        raise ModelFileError(f"{str(where)!r} names {reference!r}, which cannot be restored.")
    return obj
