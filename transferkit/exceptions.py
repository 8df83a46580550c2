"""Exceptions and warnings raised by transferkit.

Every error is also a built-in type (``ValueError``, ``FileNotFoundError``) so code
that catches the usual suspects keeps working.
"""

from __future__ import annotations

__all__ = [
    "DataNotFoundError",
    "DomainMismatchError",
    "RecipeError",
    "TransferWarning",
    "TransferkitError",
]


class TransferkitError(Exception):
    """Base class of every error transferkit raises on purpose."""


class DomainMismatchError(TransferkitError, ValueError):
    """Source and target Domains cannot be used together as given (schemas, labels, sizes)."""


class RecipeError(TransferkitError, ValueError):
    """A recipe file is invalid or one of its steps failed."""


class DataNotFoundError(TransferkitError, FileNotFoundError):
    """A data set is not where a loader expected it."""


class TransferWarning(UserWarning):
    """A recoverable problem the user should know about (dropped columns, low ESS, ...)."""
