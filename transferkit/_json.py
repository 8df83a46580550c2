"""One conversion to plain JSON types, shared by every file transferkit writes.

Examples
--------
>>> import numpy as np
>>> to_jsonable({"a": (1, np.float64(2.5)), "b": np.arange(2), "c": float("nan")})
{'a': [1, 2.5], 'b': [0, 1], 'c': None}
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import numpy as np

__all__ = ["to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """``value`` as JSON types: mappings, sequences, arrays, numpy scalars, dataclasses.

    Non-finite floats become ``None`` (JSON has no NaN); objects with ``to_dict`` use it;
    anything else becomes its ``str``.
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if callable(getattr(value, "to_dict", None)):
        return to_jsonable(value.to_dict())
    return str(value)
