"""Choose one of several fitted candidates with an unsupervised validator.

``select_model`` scores every candidate with a validator from ``VALIDATORS``, ranks only
the ones it could score reliably, and hands the choice to a ``fallback`` validator when it
could score none.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from transferkit import Domain
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 2)); y = (X[:, 0] > 0).astype(int)
>>> source = Domain.from_arrays(X[:100], y[:100]); target = Domain.from_arrays(X[100:] + 0.5)
>>> good = LogisticRegression().fit(X[:100], y[:100])
>>> bad = LogisticRegression().fit(X[:100], rng.integers(0, 2, 100))
>>> selection = select_model({"good": good, "bad": bad}, "entropy", target=target)
>>> selection.best_name
'good'
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from transferkit.detect.validators import VALIDATORS, Validator
from transferkit.domain import Domain
from transferkit.exceptions import TransferWarning

__all__ = ["ModelSelection", "select_model"]


@dataclass(frozen=True)
class ModelSelection:
    """Result of :func:`select_model`.

    Attributes
    ----------
    best_name : str
        Name of the winning candidate.
    best : object
        The winning fitted candidate.
    validator : str
        The validator that made the choice, as its repr (the ``fallback`` when the one asked
        for could not score any candidate).
    greater_is_better : bool
        Direction of ``table["score"]``.
    table : DataFrame
        Index ``candidate``; columns ``score`` (NaN when unreliable), ``reliable`` (bool),
        ``reason`` (why a candidate could not be scored, "" otherwise), ``ess`` (effective
        sample size of the importance weights, NaN for validators without weights) and
        ``rank`` (1 = chosen; ``<NA>`` for unreliable candidates, which are listed last).
    fallback_from : str or None
        The validator asked for, when it could score no candidate and ``fallback`` chose.
    unreliable_table : DataFrame or None
        That validator's table (every row unreliable, with reasons), when it fell back.
    notes : tuple of str
        What went wrong on the way, in words (also raised as ``TransferWarning``).
    """

    best_name: str
    best: Any
    validator: str
    greater_is_better: bool
    table: pd.DataFrame
    fallback_from: str | None = None
    unreliable_table: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()

    @property
    def unreliable(self) -> list[str]:
        """Candidates the deciding validator could not score."""
        return [str(c) for c in self.table.index[~self.table["reliable"]]]


def _named(candidates: Mapping[str, Any] | Sequence[Any]) -> dict[str, Any]:
    if isinstance(candidates, Mapping):
        named = {str(k): v for k, v in candidates.items()}
    else:
        named = {}
        for i, model in enumerate(candidates):
            named[f"{i}:{type(model).__name__}"] = model
    if not named:
        raise ValueError("select_model: no candidates given; pass {name: fitted model}.")
    return named


def _as_validator(validator: str | Validator, argument: str) -> Validator:
    if isinstance(validator, str):
        validator = VALIDATORS.get(validator)()
    if not isinstance(validator, Validator):
        raise TypeError(
            f"select_model: {argument} must be a name in VALIDATORS {VALIDATORS.names()} or a "
            f"Validator instance; got {type(validator).__name__}."
        )
    return validator


def _score_table(
    named: Mapping[str, Any], validator: Validator, source: Domain | None, target: Domain
) -> pd.DataFrame:
    answers = {}
    for name, model in named.items():
        try:
            answers[name] = validator.evaluate(model, source, target)
        except (TypeError, ValueError) as exc:
            kind = TypeError if isinstance(exc, TypeError) else ValueError
            raise kind(f"select_model: candidate {name!r}: {exc}") from exc
    table = pd.DataFrame({
        "score": pd.Series({k: a.score if a.reliable else np.nan for k, a in answers.items()},
                           dtype=float),
        "reliable": pd.Series({k: bool(a.reliable) for k, a in answers.items()}, dtype=bool),
        "reason": pd.Series({k: a.reason for k, a in answers.items()}, dtype=object),
        "ess": pd.Series({k: a.ess for k, a in answers.items()}, dtype=float),
    })
    table.index.name = "candidate"
    # Reliable rows first, best first; unreliable ones after them in the given order.
    order = table[table["reliable"]].sort_values(
        "score", ascending=not validator.greater_is_better, kind="stable")
    table = pd.concat([order, table[~table["reliable"]]])
    rank = pd.array([pd.NA] * len(table), dtype="Int64")
    rank[: len(order)] = np.arange(1, len(order) + 1)
    table["rank"] = rank
    return table


def select_model(
    candidates: Mapping[str, Any] | Sequence[Any],
    validator: str | Validator,
    *,
    target: Domain,
    source: Domain | None = None,
    fallback: str | Validator | None = None,
) -> ModelSelection:
    """Score every fitted candidate with an unsupervised validator and pick the best.

    Only candidates the validator can score reliably are ranked. Those it cannot (IWCV /
    DEV when the importance weights have too small an effective sample size) keep a NaN
    score, ``reliable=False`` and a ``reason`` in the table, and a ``TransferWarning``
    names them. When the validator can score *no* candidate, the choice is handed to
    ``fallback`` (with a ``TransferWarning`` saying so, and ``fallback_from`` set in the
    result); without a fallback that is an error rather than a guess.

    Parameters
    ----------
    candidates : mapping of name -> fitted model, or a sequence of fitted models
        Each has ``predict_proba`` (and ``transform`` for feature-space validators); it may
        take arrays (scikit-learn) or Domains (transferkit trainers).
    validator : str or Validator
        A name in ``VALIDATORS`` (default parameters) or a configured instance.
    target : Domain
        Target rows; their labels, if any, are not used.
    source : Domain, optional
        Held-out labelled source rows no candidate was trained on (``iwcv``, ``dev``,
        ``domain_auc`` need it).
    fallback : str or Validator, optional
        The validator that chooses when ``validator`` can score no candidate (e.g.
        ``"domain_auc"`` or ``"snd"``, which need no density ratio).

    Returns
    -------
    ModelSelection
        Winner, its name and the score table (see :class:`ModelSelection`). Ties go to the
        first candidate.

    Raises
    ------
    ValueError
        The validator could score no candidate and there is no ``fallback`` (or the
        fallback could not either); the message gives each candidate's reason.
    ValueError, TypeError
        Naming the candidate whose scoring failed.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from transferkit import Domain
    >>> from transferkit.detect import IWCVValidator
    >>> X = np.r_[np.zeros((5, 1)), np.ones((5, 1))]; y = np.r_[[0] * 5, [1] * 5]
    >>> model = LogisticRegression().fit(X, y)
    >>> source, target = Domain.from_arrays(X, y), Domain.from_arrays(X)
    >>> spiky = IWCVValidator(weights=np.r_[1000.0, np.full(9, 0.001)], min_ess=0.5)
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     chosen = select_model({"m": model}, spiky, source=source, target=target,
    ...                           fallback="entropy")
    >>> chosen.validator, chosen.fallback_from is not None
    ('EntropyValidator()', True)
    """
    validator = _as_validator(validator, "validator")
    fallback = None if fallback is None else _as_validator(fallback, "fallback")
    named = _named(candidates)
    table = _score_table(named, validator, source, target)
    notes: list[str] = []
    if getattr(validator, "representation", None) == "features" and len(named) > 1:
        note = (f"{validator!r} scored each candidate in its own feature space; the scores "
                "are comparable only when the candidates share one feature extractor. Use "
                "representation='auto' (predicted probabilities, one space for all).")
        notes.append(note)
        warnings.warn(f"select_model: {note}", TransferWarning, stacklevel=2)
    unreliable = table[~table["reliable"]]
    if len(unreliable) == len(table):
        reasons = "; ".join(f"{name!r}: {reason}" for name, reason in unreliable["reason"].items())
        if fallback is None:
            raise ValueError(
                f"select_model: {validator!r} could not score any candidate reliably "
                f"({reasons}). Pass fallback='domain_auc' (or another validator that needs no "
                "importance weights) to choose with it, or validate on more held-out source "
                "rows."
            )
        note = (f"{validator!r} could not score any candidate reliably ({reasons}); the "
                f"choice falls back to {fallback!r}.")
        warnings.warn(f"select_model: {note}", TransferWarning, stacklevel=2)
        try:
            chosen = select_model(named, fallback, target=target, source=source)
        except ValueError as exc:
            raise ValueError(f"select_model: fallback {fallback!r} failed too: {exc}") from exc
        return ModelSelection(chosen.best_name, chosen.best, chosen.validator,
                              chosen.greater_is_better, chosen.table, fallback_from=repr(
                                  validator), unreliable_table=table,
                              notes=(*notes, note, *chosen.notes))
    if len(unreliable):
        note = (f"{validator!r} could not score {len(unreliable)} of {len(table)} candidates "
                f"reliably, so they are not ranked: "
                + "; ".join(f"{name!r}: {reason}" for name, reason in unreliable["reason"].items()))
        notes.append(note)
        warnings.warn(f"select_model: {note}", TransferWarning, stacklevel=2)
    best_name = str(table.index[0])
    return ModelSelection(best_name, named[best_name], repr(validator),
                          validator.greater_is_better, table, notes=tuple(notes))
