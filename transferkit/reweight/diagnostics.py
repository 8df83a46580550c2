"""Diagnostics for importance weights: effective sample size, weight shares, histogram.

Weights that put most of their mass on a few rows make a reweighted model no better than
one trained on those rows. Kish's effective sample size says how many equally weighted
rows the weights are worth; ``weight_report`` gathers it with the other numbers a user
needs before trusting the weights.

Examples
--------
>>> import numpy as np
>>> effective_sample_size(np.ones(10))
10.0
>>> report = weight_report(np.array([1.0, 1.0, 1.0, 5.0]))
>>> report.n_source, round(report.ess_fraction, 3), report.max_weight_share
(4, 0.571, 0.625)
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from transferkit.exceptions import TransferWarning

__all__ = [
    "LOW_ESS_ROWS",
    "WeightReport",
    "check_weights",
    "effective_sample_size",
    "warn_if_low_ess",
    "weight_report",
]

#: The low-ESS warning fires below this many effective rows. Of the rules measured over 230
#: weighted runs on real pairs (``benchmarks/sections/defaults.md``), it predicted harm best:
#: half the runs it fires on are worse than unweighted (precision 0.49 against a base rate
#: of 0.18) and it catches half of those (recall 0.48); a share of the rows (ESS < 10 %)
#: cried wolf on large sources and, combined with < 50 rows, warned about almost nothing.
LOW_ESS_ROWS = 200

_QUANTILES = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)


def check_weights(weights: ArrayLike, what: str = "weights") -> np.ndarray:
    """Return ``weights`` as a 1-D float array, or raise ``ValueError`` naming the problem.

    Weights must be finite, non-negative and not all zero.

    Examples
    --------
    >>> check_weights([1, 2]).tolist()
    [1.0, 2.0]
    >>> check_weights([0, 0])
    Traceback (most recent call last):
    ...
    ValueError: weights are all zero; at least one source row needs a positive weight.
    """
    try:
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be numeric; {exc}.") from exc
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D array; got shape {w.shape}.")
    if not np.isfinite(w).all():
        bad = np.flatnonzero(~np.isfinite(w))[:5].tolist()
        raise ValueError(
            f"{what} contain NaN or infinite values at positions {bad}; check the "
            "density-ratio estimate or clip the weights."
        )
    if (w < 0).any():
        raise ValueError(
            f"{what} contain negative values (min {w.min():.3g}); importance weights must be "
            ">= 0."
        )
    if not (w > 0).any():
        raise ValueError(f"{what} are all zero; at least one source row needs a positive weight.")
    return w


def effective_sample_size(weights: ArrayLike) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2``.

    Parameters
    ----------
    weights : array-like of shape (n_samples,)
        Non-negative, not all zero.

    Returns
    -------
    float
        Between 1 (one row holds all the weight) and ``n_samples`` (uniform weights).

    References
    ----------
    Kish, L. (1965). *Survey Sampling*. Wiley.

    Examples
    --------
    >>> effective_sample_size([1.0, 0.0, 0.0])
    1.0
    """
    w = check_weights(weights)
    return float(w.sum() ** 2 / np.square(w).sum())


@dataclass(frozen=True)
class WeightReport:
    """What a set of importance weights is worth, ready to render (``to_dict``).

    Attributes
    ----------
    n_source : int
        Number of weighted source rows.
    ess : float
        Kish effective sample size.
    ess_fraction : float
        ``ess / n_source``.
    max_weight_share : float
        Share of the total weight held by the heaviest row.
    top1pct_weight_share : float
        Share of the total weight held by the heaviest 1 % of rows (at least one row).
    mean, std : float
        Of the weights (mean 1 for weights from a fitted reweighter).
    quantiles : dict of str to float
        Weight quantiles at 0, 1, 5, 25, 50, 75, 95, 99 and 100 %.
    histogram_counts : tuple of int
        Counts of ``log10`` weights of the positive weights in ``histogram_edges`` bins.
    histogram_edges : tuple of float
        Bin edges on the ``log10`` weight scale.
    n_zero : int
        Rows with weight exactly zero.
    clip : float or None
        The clip used (maximum weight as a multiple of the mean), if known.
    power : float or None
        The flattening exponent used, if known.
    method : str or None
        Name of the reweighter that produced the weights.
    low_ess : bool
        True when ``ess < LOW_ESS_ROWS``: the weighted model rests on fewer than 200 rows'
        worth of data (the condition of the warning).
    """

    n_source: int
    ess: float
    ess_fraction: float
    max_weight_share: float
    top1pct_weight_share: float
    mean: float
    std: float
    quantiles: dict[str, float]
    histogram_counts: tuple[int, ...]
    histogram_edges: tuple[float, ...]
    n_zero: int
    clip: float | None = None
    power: float | None = None
    method: str | None = None
    low_ess: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dictionary (JSON-serialisable) of every field."""
        out = asdict(self)
        out["histogram_counts"] = list(self.histogram_counts)
        out["histogram_edges"] = list(self.histogram_edges)
        return out

    def summary(self) -> str:
        """One line for logs and reports."""
        flag = " (LOW: the weighted model rests on a few rows)" if self.low_ess else ""
        return (
            f"ESS {self.ess:.1f} of {self.n_source} rows ({self.ess_fraction:.1%}){flag}; "
            f"heaviest row holds {self.max_weight_share:.2%} of the weight, "
            f"max weight {self.quantiles['q100']:.3g}"
        )


def weight_report(
    weights: ArrayLike,
    *,
    clip: float | None = None,
    power: float | None = None,
    method: str | None = None,
    bins: int = 20,
) -> WeightReport:
    """Summarise importance weights: ESS, weight shares, quantiles and a log-scale histogram.

    Parameters
    ----------
    weights : array-like of shape (n_samples,)
        Non-negative, finite, not all zero.
    clip, power, method : optional
        Recorded in the report as the settings that produced the weights.
    bins : int, default=20
        Histogram bins on the ``log10`` scale.

    Returns
    -------
    WeightReport

    Examples
    --------
    >>> weight_report([1.0, 1.0]).ess
    2.0
    """
    w = check_weights(weights)
    n = w.size
    total = w.sum()
    ess = float(total**2 / np.square(w).sum())
    k = max(1, int(np.ceil(0.01 * n)))
    top = np.partition(w, n - k)[n - k:].sum() if k < n else total
    positive = w[w > 0]
    logs = np.log10(positive)
    low, high = float(logs.min()), float(logs.max())
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(logs, bins=bins, range=(low, high))
    quantiles = {f"q{round(q * 100)}": float(np.quantile(w, q)) for q in _QUANTILES}
    return WeightReport(
        n_source=int(n),
        ess=ess,
        ess_fraction=ess / n,
        max_weight_share=float(w.max() / total),
        top1pct_weight_share=float(top / total),
        mean=float(w.mean()),
        std=float(w.std()),
        quantiles=quantiles,
        histogram_counts=tuple(int(c) for c in counts),
        histogram_edges=tuple(float(e) for e in edges),
        n_zero=int((w == 0).sum()),
        clip=None if clip is None else float(clip),
        power=None if power is None else float(power),
        method=method,
        low_ess=bool(ess < LOW_ESS_ROWS),
    )


def warn_if_low_ess(weights: ArrayLike, owner: str, *, stacklevel: int = 3) -> float:
    """Warn when the weights rest on a few rows; return the ESS as a fraction of the rows.

    The ``TransferWarning`` fires when the effective sample size is below
    ``LOW_ESS_ROWS`` (200) rows.

    Examples
    --------
    >>> warn_if_low_ess(np.ones(500), "demo")
    1.0
    """
    w = check_weights(weights)
    ess = effective_sample_size(w)
    fraction = ess / w.size
    if ess < LOW_ESS_ROWS:
        warnings.warn(
            f"{owner}: the weights rest on few rows: their effective sample size is "
            f"{ess:.0f} of the {w.size} source rows ({fraction:.1%}), so a weighted model is "
            "fitted on about that many rows' worth of data and may do worse than an "
            "unweighted one. Flatten the weights (power=0.5), clip them (clip=10), or check "
            "that the source covers the target market.",
            TransferWarning,
            stacklevel=stacklevel,
        )
    return fraction
