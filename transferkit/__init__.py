"""transferkit: move a model that works in one market to another market.

Examples
--------
>>> import numpy as np, transferkit as tk
>>> us = tk.Domain.from_arrays(np.random.default_rng(0).normal(size=(20, 3)), name="us")
>>> us.name, us.n_features
('us', 3)
"""

from __future__ import annotations

from transferkit.domain import Domain, Metadata, stack
from transferkit.exceptions import (
    DataNotFoundError,
    DomainMismatchError,
    RecipeError,
    TransferkitError,
    TransferWarning,
)
from transferkit.harmonize import HarmonizedPair, Harmonizer, harmonize
from transferkit.schema import Schema

__version__ = "0.1.0"

__all__ = [
    "DataNotFoundError",
    "Domain",
    "DomainMismatchError",
    "HarmonizedPair",
    "Harmonizer",
    "Metadata",
    "RecipeError",
    "Schema",
    "TransferWarning",
    "TransferkitError",
    "__version__",
    "harmonize",
    "stack",
]
