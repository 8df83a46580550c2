"""Helpers shared by the data-set loaders: choosing domains and reading MATLAB files.

Examples
--------
>>> choose_domains("load_x", ("books", "dvd"), "dvd")
('dvd',)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from transferkit._validation import check_param

__all__ = ["choose_domains", "read_mat"]


def choose_domains(
    owner: str,
    available: Sequence[str],
    chosen: str | Sequence[str] | None,
    *,
    parameter: str = "domains",
) -> tuple[str, ...]:
    """Validate a loader's domain selection; a single string means one domain.

    ``None`` selects every domain. Duplicates are an error, the order is kept.
    """
    if chosen is None:
        return tuple(available)
    names = (chosen,) if isinstance(chosen, str) else tuple(chosen)
    check_param(
        owner, parameter, names,
        f"a non-empty selection without repeats from {tuple(available)}",
        lambda v: len(v) > 0 and len(set(v)) == len(v) and all(n in available for n in v),
    )
    return names


def read_mat(path: Path, keys: Sequence[str], dataset: str) -> dict[str, np.ndarray]:
    """Read ``keys`` from a MATLAB (v5 or older) ``.mat`` file, naming what is missing."""
    from scipy.io import loadmat

    try:
        content = loadmat(path)
    except (ValueError, NotImplementedError, OSError) as exc:
        raise ValueError(f"{dataset}: cannot read {path} as a MATLAB file ({exc}).") from exc
    missing = [k for k in keys if k not in content]
    if missing:
        found = sorted(k for k in content if not k.startswith("__"))
        raise ValueError(
            f"{dataset}: {path.name} lacks the variables {missing}; it holds {found}. "
            "Is it the unchanged file listed in SOURCES.md?"
        )
    return {k: np.asarray(content[k]) for k in keys}
