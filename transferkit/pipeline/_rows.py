"""The feature matrix a fitted method reads, from a featurized Domain or an array.

Examples
--------
>>> import numpy as np
>>> from transferkit import Domain
>>> feature_rows(Domain.from_arrays(np.zeros((2, 3)))).shape
(2, 3)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from transferkit.domain import Domain

__all__ = ["feature_rows"]


def feature_rows(data: Domain | ArrayLike) -> np.ndarray:
    """The numeric feature matrix of a (featurized) Domain, or ``data`` as an array."""
    if isinstance(data, Domain):
        X = data.X
        if not isinstance(X, np.ndarray):
            raise TypeError(
                f"Domain {data.name!r} has categorical features; featurize it first (a "
                "TransferPipeline does this for raw rows)."
            )
        return X
    return np.asarray(data)
