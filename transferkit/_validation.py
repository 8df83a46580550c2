"""Input checks shared by every module: one phrasing for every bad-input message.

Examples
--------
>>> check_param("KMMReweighter", "clip", -1.0, "a float > 0", lambda v: v > 0)
Traceback (most recent call last):
...
ValueError: The 'clip' parameter of KMMReweighter must be a float > 0. Got -1.0 instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "check_array_2d",
    "check_choice",
    "check_finite",
    "check_param",
    "check_same_n_features",
    "describe_positions",
]


def check_param(
    owner: str,
    name: str,
    value: Any,
    expected: str,
    condition: Callable[[Any], bool],
) -> Any:
    """Raise ``ValueError`` in the house phrasing unless ``condition(value)`` holds.

    A condition that itself raises (``None > 0``) counts as failing.
    """
    try:
        ok = bool(condition(value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"The {name!r} parameter of {owner} must be {expected}. Got {value!r} instead."
        )
    return value


def check_choice(owner: str, name: str, value: Any, choices: Sequence[Any]) -> Any:
    """``check_param`` for a parameter that takes one of a few literal values."""
    expected = "one of " + ", ".join(repr(c) for c in choices)
    return check_param(owner, name, value, expected, lambda v: v in choices)


def describe_positions(
    mask: np.ndarray, labels: Sequence[Any] | None = None, limit: int = 5
) -> str:
    """Human-readable list of the first positions where ``mask`` is true.

    >>> describe_positions(np.array([False, True, True]))
    '2 rows (1, 2)'
    """
    positions = np.flatnonzero(mask)
    shown = [labels[i] if labels is not None else i for i in positions[:limit]]
    more = ", ..." if positions.size > limit else ""
    noun = "row" if positions.size == 1 else "rows"
    return f"{positions.size} {noun} ({', '.join(str(s) for s in shown)}{more})"


def check_finite(X: np.ndarray, what: str) -> np.ndarray:
    """Raise ``ValueError`` naming the rows when ``X`` holds NaN or infinity."""
    bad = ~np.isfinite(X)
    if bad.any():
        rows = bad.reshape(bad.shape[0], -1).any(axis=1) if bad.ndim > 1 else bad
        kind = "NaN" if np.isnan(X[bad]).any() else "infinite"
        raise ValueError(
            f"{what} contains {kind} values in {describe_positions(rows)}; "
            "impute or drop them first (Domain.harmonize imputes missing features)."
        )
    return X


def check_array_2d(
    X: ArrayLike, what: str, *, allow_nan: bool = False, min_samples: int = 1
) -> np.ndarray:
    """Return ``X`` as a float 2-D array, or raise a ``ValueError`` naming the problem."""
    try:
        array = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{what} must be numeric; {exc}. Encode categorical columns first."
        ) from exc
    if array.ndim != 2:
        raise ValueError(
            f"{what} must be 2-D (n_samples, n_features); got shape {array.shape}. "
            "Use X.reshape(-1, 1) for a single feature."
        )
    if array.shape[0] < min_samples:
        raise ValueError(f"{what} has {array.shape[0]} rows; at least {min_samples} needed.")
    if array.shape[1] == 0:
        raise ValueError(f"{what} has no feature columns.")
    if not allow_nan:
        check_finite(array, what)
    return array


def check_same_n_features(X_source: np.ndarray, X_target: np.ndarray) -> None:
    """Raise ``ValueError`` when source and target feature counts differ."""
    if X_source.shape[1:] != X_target.shape[1:]:
        raise ValueError(
            f"Source has {X_source.shape[1:]} features per row but target has "
            f"{X_target.shape[1:]}; harmonize the Domains first (transferkit.harmonize)."
        )
