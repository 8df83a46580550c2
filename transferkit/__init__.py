"""transferkit: move a model that works in one market to another market.

The names below are imported on first use, so ``import transferkit`` (and the
``transferkit`` command's ``--help``) stays fast.

Examples
--------
>>> import numpy as np, transferkit as tk
>>> us = tk.Domain.from_arrays(np.random.default_rng(0).normal(size=(20, 3)), name="us")
>>> us.name, us.n_features
('us', 3)
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from transferkit.exceptions import (
    DataNotFoundError,
    DomainMismatchError,
    RecipeError,
    TransferkitError,
    TransferWarning,
)

if TYPE_CHECKING:
    from transferkit.domain import Domain, Metadata, stack
    from transferkit.harmonize import HarmonizedPair, Harmonizer, harmonize
    from transferkit.pipeline import TransferPipeline
    from transferkit.schema import Schema

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "Domain": "transferkit.domain",
    "Metadata": "transferkit.domain",
    "stack": "transferkit.domain",
    "HarmonizedPair": "transferkit.harmonize",
    "Harmonizer": "transferkit.harmonize",
    "harmonize": "transferkit.harmonize",
    "Schema": "transferkit.schema",
    "TransferPipeline": "transferkit.pipeline",
}

__all__ = [
    "DataNotFoundError",
    "Domain",
    "DomainMismatchError",
    "HarmonizedPair",
    "Harmonizer",
    "Metadata",
    "RecipeError",
    "Schema",
    "TransferPipeline",
    "TransferWarning",
    "TransferkitError",
    "__version__",
    "harmonize",
    "stack",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'transferkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


class _Package(types.ModuleType):
    """Keeps ``transferkit.harmonize`` the function, as before the names became lazy.

    Importing the submodule ``transferkit.harmonize`` binds the package attribute of the
    same name to the module; this property keeps answering with the function.
    """

    @property
    def harmonize(self) -> Any:
        return importlib.import_module("transferkit.harmonize").harmonize

    @harmonize.setter
    def harmonize(self, value: Any) -> None:
        """The import system binds the submodule here; the function stays the answer."""


sys.modules[__name__].__class__ = _Package
