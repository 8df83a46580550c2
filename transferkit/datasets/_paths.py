"""Where the shared research data live, and a clear error when they are not there."""

from __future__ import annotations

import os
from pathlib import Path

from transferkit.exceptions import DataNotFoundError

__all__ = ["DATA_DIR_ENV", "data_dir", "require_path"]

DATA_DIR_ENV = "TRANSFERKIT_DATA_DIR"


def data_dir(root: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding the shared data sets.

    ``root`` if given, else ``$TRANSFERKIT_DATA_DIR``, else ``../shared/data`` relative to
    the working directory (the layout beside a transferkit checkout).
    """
    if root is not None:
        return Path(root)
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV])
    return Path("..") / "shared" / "data"


def require_path(path: Path, dataset: str, expected: str) -> Path:
    """Return ``path`` if it exists, else raise ``DataNotFoundError`` saying where to put it."""
    if not path.exists():
        raise DataNotFoundError(
            f"{dataset} not found: expected {expected} at {path.resolve()}. Pass root=... to "
            f"the loader or set ${DATA_DIR_ENV} to the folder holding the shared data sets."
        )
    return path
