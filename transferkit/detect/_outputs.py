"""Outputs of fitted models on a Domain, whichever API face the model has.

detect never trains: candidates arrive as fitted objects. scikit-learn estimators take
arrays (first parameter ``X``); transferkit trainers take Domains. These helpers call the
right face and return plain numpy arrays.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from transferkit.domain import Domain

__all__ = ["Representation", "model_classes", "model_output", "representation_of"]

Representation = Literal["auto", "features", "proba"]


def _takes_arrays(method: Callable[..., Any]) -> bool:
    """True for the sklearn face (first parameter ``X``), False for the Domain face."""
    try:
        parameters = list(inspect.signature(method).parameters)
    except (TypeError, ValueError):
        return True
    return bool(parameters) and parameters[0] in ("X", "x")


def model_output(
    model: Any, domain: Domain, kind: Literal["features", "proba", "predict"]
) -> np.ndarray:
    """``transform`` (features), ``predict_proba`` or ``predict`` of ``model`` on a Domain.

    Estimators with the scikit-learn face (first parameter ``X``) receive ``domain.X``;
    trainers with the Domain face receive the Domain itself. Torch tensors come back as
    numpy arrays; features and probabilities are 2-D.
    """
    name = {"features": "transform", "proba": "predict_proba", "predict": "predict"}[kind]
    method = getattr(model, name, None)
    if method is None:
        hint = ("pass representation='proba', or cached feature arrays" if kind == "features"
                else "pass a fitted classifier, or cached probability arrays")
        raise TypeError(
            f"{type(model).__name__} has no {name}() method, which is needed here; {hint}."
        )
    output = method(domain.X) if _takes_arrays(method) else method(domain)
    if hasattr(output, "detach"):
        output = output.detach().cpu().numpy()
    output = np.asarray(output)
    if kind == "predict":
        return output.reshape(len(output)) if output.ndim == 2 and output.shape[1] == 1 else output
    output = output.astype(float)
    if not np.isfinite(output).all():
        raise ValueError(
            f"{type(model).__name__}.{name}() returned NaN or infinite values on Domain "
            f"{domain.name!r}."
        )
    return output.reshape(len(output), -1)


def representation_of(model: Any, representation: Representation) -> Literal["features", "proba"]:
    """Resolve ``"auto"``: learned features when the model has ``transform``, else probabilities."""
    if representation != "auto":
        return representation
    return "features" if callable(getattr(model, "transform", None)) else "proba"


def model_classes(model: Any, n_columns: int, fallback: np.ndarray, who: str) -> np.ndarray:
    """The class label of each ``predict_proba`` column of ``model``.

    Uses ``model.classes_``; without it, ``fallback`` (the labels seen in the data) when it
    has one entry per column.
    """
    classes = getattr(model, "classes_", None)
    if classes is None:
        if len(fallback) != n_columns:
            raise ValueError(
                f"{who}: the model gives {n_columns} probability columns and has no classes_ "
                f"attribute, and the data hold {len(fallback)} classes; set model.classes_ "
                "to the label of each column."
            )
        classes = fallback
    classes = np.asarray(classes)
    if classes.shape != (n_columns,):
        raise ValueError(
            f"{who}: model.classes_ has {classes.size} entries but predict_proba gives "
            f"{n_columns} columns."
        )
    return classes
