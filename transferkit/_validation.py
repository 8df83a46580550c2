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
    "check_fitted_model",
    "check_known_columns",
    "check_param",
    "check_same_n_features",
    "describe_positions",
    "did_you_mean",
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


def did_you_mean(name: Any, known: Sequence[Any]) -> str:
    """`` Did you mean 'x'?`` for the closest known name, or ``""`` when none is close.

    >>> did_you_mean("prise", ["price", "colour"])
    " Did you mean 'price'?"
    """
    import difflib

    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_known_columns(names: Sequence[Any], known: Sequence[Any], what: str) -> None:
    """Raise ``ValueError`` naming every entry of ``names`` missing from ``known``.

    ``what`` says where the names came from (``"--exclude"``, ``"Domain 'us': exclude"``);
    each unknown name gets a did-you-mean hint.

    >>> check_known_columns(["prise"], ["price", "colour"], "--exclude")
    Traceback (most recent call last):
    ...
    ValueError: --exclude names a column that does not exist: 'prise' (did you mean 'price'?). \
The columns are ['price', 'colour'].
    """
    known_set = set(known)
    unknown = [name for name in names if name not in known_set]
    if not unknown:
        return
    parts = []
    for name in unknown:
        hint = did_you_mean(name, known)
        parts.append(f"{name!r}" + (f" ({hint.strip().rstrip('?').lower()}?)" if hint else ""))
    noun = "a column that does not exist" if len(unknown) == 1 else "columns that do not exist"
    shown = [str(k) for k in known][:30]
    more = " ..." if len(known) > 30 else ""
    raise ValueError(f"{what} names {noun}: {', '.join(parts)}. The columns are {shown}{more}.")


def check_fitted_model(model: Any, n_features: int | None, who: str) -> Any:
    """Refuse an unfitted model, or one fitted on another number of features, at our door.

    Parameters
    ----------
    model : estimator
        Anything with ``fit``; scikit-learn's ``check_is_fitted`` decides whether it is
        fitted, and ``n_features_in_`` (when set) must equal ``n_features``.
    n_features : int or None
        Feature count of the data it is about to see; None skips that check.
    who : str
        The caller, for the message (``"NegativeTransferGuard.fit"``).

    >>> from sklearn.linear_model import LogisticRegression
    >>> check_fitted_model(LogisticRegression(), 3, "guard")
    Traceback (most recent call last):
    ...
    ValueError: guard got an unfitted LogisticRegression; fit it first (model.fit(X, y)).
    """
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    kind = type(model).__name__
    if hasattr(model, "fit"):
        try:
            check_is_fitted(model)
        except NotFittedError as exc:
            raise ValueError(f"{who} got an unfitted {kind}; fit it first (model.fit(X, y)).") \
                from exc
        except TypeError:
            pass  # not a scikit-learn estimator: nothing more to check here
    fitted_on = getattr(model, "n_features_in_", None)
    if n_features is not None and fitted_on is not None and int(fitted_on) != int(n_features):
        raise ValueError(
            f"{who}: the {kind} was fitted on {int(fitted_on)} features but the data have "
            f"{int(n_features)}; give it rows with the columns it was fitted on (transform new "
            "rows with the fitted Harmonizer or pipeline first)."
        )
    return model
