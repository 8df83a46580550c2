"""Transferability scores: how well will features or a source model serve the target market?

All four scores are computed *before* any training on the target, from a few labelled
target rows and either the features a backbone or source model gives those rows (LogME,
H-score) or the source model's class probabilities on them (LEEP, NCE). Higher is better
for every score, so they can rank candidate source markets or backbones with
:func:`rank_sources`.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = rng.integers(0, 2, size=200)
>>> informative = np.c_[y + 0.3 * rng.normal(size=200), rng.normal(size=200)]
>>> noise = rng.normal(size=(200, 2))
>>> logme(informative, y) > logme(noise, y)
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from transferkit._validation import check_array_2d, check_choice, check_param
from transferkit.detect._outputs import model_output
from transferkit.domain import Domain

__all__ = ["SCORES", "h_score", "leep", "logme", "nce", "rank_sources"]

_EPS = 1e-12


# --------------------------------------------------------------------------- label checks
def _class_labels(labels: ArrayLike, n_rows: int, owner: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and class values of 1-D labels with one entry per feature row."""
    values = np.asarray(labels)
    if values.ndim != 1 or values.shape[0] != n_rows:
        raise ValueError(
            f"{owner}: labels have shape {values.shape} but there are {n_rows} rows; pass one "
            "label per row as a 1-D array."
        )
    if values.dtype.kind == "f" and np.isnan(values).any():
        raise ValueError(
            f"{owner}: labels contain NaN; score only labelled target rows "
            "(domain.labeled())."
        )
    classes, codes = np.unique(values, return_inverse=True)
    if classes.size < 2:
        raise ValueError(
            f"{owner}: the target labels hold a single class ({classes.tolist()}); a "
            "transferability score needs at least two classes. Label more target rows of "
            "another class."
        )
    return codes, classes


def _probabilities(source_probs: ArrayLike, owner: str) -> np.ndarray:
    probs = check_array_2d(source_probs, f"{owner}: source_probs")
    if (probs < -1e-9).any() or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError(
            f"{owner}: source_probs must be class probabilities (rows >= 0 summing to 1); got "
            f"row sums in [{probs.sum(axis=1).min():.3g}, {probs.sum(axis=1).max():.3g}]. "
            "Pass model.predict_proba(...), or apply a softmax to logits first."
        )
    return np.clip(probs, 0.0, None)


# --------------------------------------------------------------------------- LogME
def _logme_fixed_point(
    features: np.ndarray, targets: np.ndarray, *, tol: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evidence maximisation for every column of ``targets`` at once.

    Works in the eigenbasis of the smaller Gram matrix (``F^T F`` or ``F F^T``), so the
    cost is one ``min(n, d)``-sized eigendecomposition plus O(min(n, d) m) per iteration.
    Returns (log evidence per column, alpha, beta).
    """
    n, d = features.shape
    if n >= d:
        sigma, right = np.linalg.eigh(features.T @ features)
        keep = sigma > sigma.max() * 1e-12
        sigma, right = sigma[keep], right[:, keep]
        singular = np.sqrt(sigma)
        projected = right.T @ (features.T @ targets) / singular[:, None]  # U^T y
    else:
        sigma, left = np.linalg.eigh(features @ features.T)
        keep = sigma > sigma.max() * 1e-12
        sigma, left = sigma[keep], left[:, keep]
        singular = np.sqrt(sigma)
        projected = left.T @ targets
    # Null directions of F: their part of y is pure residual (sigma holds the non-zero
    # eigenvalues of F^T F only).
    outside = np.clip((targets**2).sum(axis=0) - (projected**2).sum(axis=0), 0.0, None)
    m = targets.shape[1]
    alpha = np.ones(m)
    beta = np.ones(m)
    previous = np.full(m, -np.inf)
    for _ in range(max_iter):
        denominator = alpha[None, :] + beta[None, :] * sigma[:, None]  # (k, m)
        gamma = (beta[None, :] * sigma[:, None] / denominator).sum(axis=0)
        # |m|^2 and |y - F m|^2 of the posterior mean m = beta A^{-1} F^T y.
        mean_norm = ((beta[None, :] * singular[:, None] * projected / denominator) ** 2).sum(axis=0)
        residual = outside + ((alpha[None, :] * projected / denominator) ** 2).sum(axis=0)
        new_alpha = gamma / np.maximum(mean_norm, _EPS)
        new_beta = (n - gamma) / np.maximum(residual, _EPS)
        # Stop on the precisions, not only the evidence: when n < d the evidence creeps up
        # by tiny steps for hundreds of iterations before (alpha, beta) settle. When a
        # column is unpredictable alpha runs off to infinity while the evidence is flat.
        change = np.maximum(np.abs(np.log(new_alpha / alpha)), np.abs(np.log(new_beta / beta)))
        alpha, beta = new_alpha, new_beta
        evidence = _log_evidence(n, d, sigma, singular, projected, outside, alpha, beta)
        flat = np.abs(evidence - previous) <= 1e-11 * np.maximum(np.abs(evidence), 1.0)
        # alpha far above every eigenvalue: the prior has shrunk the weights to ~0 and
        # the rest of the climb only chases rounding noise in |m|^2.
        shrunk = alpha >= 1e4 * sigma.max()
        previous = evidence
        if ((change <= tol) | flat | shrunk).all():
            break
    evidence = _log_evidence(n, d, sigma, singular, projected, outside, alpha, beta)
    # As alpha -> infinity the evidence tends to that of the weight-free model
    # y ~ N(0, I / beta) at beta = n / |y|^2. For columns the features cannot predict,
    # alpha creeps toward infinity (slower for large-scale features) and this limit is
    # the supremum the iteration approaches; for the others it is below the fixed point.
    norm = np.maximum((targets**2).sum(axis=0), _EPS)
    limit = 0.5 * n * (np.log(n / norm) - np.log(2 * np.pi) - 1.0)
    return np.maximum(evidence, limit), alpha, beta


def _log_evidence(
    n: int,
    d: int,
    sigma: np.ndarray,
    singular: np.ndarray,
    projected: np.ndarray,
    outside: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
) -> np.ndarray:
    """log p(y | F, alpha, beta) of Bayesian linear regression (MacKay 1992, eq. 2 of LogME)."""
    denominator = alpha[None, :] + beta[None, :] * sigma[:, None]
    mean_norm = ((beta[None, :] * singular[:, None] * projected / denominator) ** 2).sum(axis=0)
    residual = outside + ((alpha[None, :] * projected / denominator) ** 2).sum(axis=0)
    # log|A| with A = alpha I_d + beta F^T F: the d - k null directions contribute log alpha.
    log_det = np.log(denominator).sum(axis=0) + (d - sigma.size) * np.log(alpha)
    return (
        0.5 * n * np.log(beta)
        + 0.5 * d * np.log(alpha)
        - 0.5 * n * np.log(2 * np.pi)
        - 0.5 * beta * residual
        - 0.5 * alpha * mean_norm
        - 0.5 * log_det
    )


def logme(
    features: ArrayLike,
    labels: ArrayLike,
    *,
    task: Literal["classification", "regression"] = "classification",
    tol: float = 1e-8,
    max_iter: int = 5000,
) -> float:
    """Log maximum evidence of a linear model on ``features`` for the target ``labels``.

    LogME fits Bayesian linear regression from the features to each one-hot class column
    (or each regression output), maximises the marginal likelihood over the prior and
    noise precisions with MacKay's fixed-point updates, and reports the average log
    evidence per row. Features that make the target labels linearly predictable score
    higher. Works on cached features of any backbone and on plain tabular features.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
        Features of labelled target rows (from a backbone, a source model's penultimate
        layer, or the raw table).
    labels : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Target labels (classes), or real-valued outputs when ``task="regression"``.
    task : {"classification", "regression"}, default="classification"
        Classification one-hot encodes ``labels``; regression uses them as they are.
    tol : float, default=1e-8
        Largest change of log alpha and log beta at which the fixed point stops.
    max_iter : int, default=5000
        Most fixed-point iterations.

    Returns
    -------
    float
        Mean over outputs of log evidence / n_samples. Comparable between feature sets
        for the same labels; not between different label sets.

    Raises
    ------
    ValueError
        A single class, NaN labels or features, or labels that do not match the rows.

    References
    ----------
    You, Liu, Wang, Long. "LogME: Practical Assessment of Pre-trained Models for Transfer
    Learning", ICML 2021.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> round(logme(X, y), 3)
    -0.926
    """
    check_choice("logme", "task", task, ("classification", "regression"))
    check_param("logme", "tol", tol, "a float > 0", lambda v: v > 0)
    check_param("logme", "max_iter", max_iter, "an int >= 1", lambda v: int(v) == v and v >= 1)
    F = check_array_2d(features, "logme: features", min_samples=2)
    if task == "classification":
        codes, classes = _class_labels(labels, F.shape[0], "logme")
        targets = np.eye(classes.size)[codes]
    else:
        targets = np.asarray(labels, dtype=float)
        targets = targets.reshape(len(targets), -1)
        if targets.shape[0] != F.shape[0]:
            raise ValueError(
                f"logme: {targets.shape[0]} outputs for {F.shape[0]} feature rows; pass one "
                "output row per feature row."
            )
        check_array_2d(targets, "logme: labels")
    evidence, _, _ = _logme_fixed_point(F, targets, tol=tol, max_iter=int(max_iter))
    return float(np.mean(evidence) / F.shape[0])


# --------------------------------------------------------------------------- LEEP / NCE
def leep(source_probs: ArrayLike, target_labels: ArrayLike) -> float:
    """Log expected empirical prediction of a source classifier on labelled target rows.

    The source model's outputs ``theta(x)`` over its own classes ``z`` define an empirical
    conditional ``P(y | z)`` on the target; LEEP is the average log-likelihood of the
    resulting "expected empirical predictor" ``sum_z P(y | z) theta(x)_z``. It is at most
    0, the log-likelihood of a perfect predictor, and reaches 0 exactly when the source
    model's (one-hot) outputs determine the target label.

    Parameters
    ----------
    source_probs : array-like of shape (n_samples, n_source_classes)
        ``predict_proba`` of the source model on target rows. The source classes need not
        be the target classes.
    target_labels : array-like of shape (n_samples,)
        Target labels of the same rows.

    Returns
    -------
    float
        In (-inf, 0]; higher means the source model transfers better.

    References
    ----------
    Nguyen, Hassner, Seeger, Archambeau. "LEEP: A New Measure to Evaluate Transferability
    of Learned Representations", ICML 2020.

    Examples
    --------
    >>> import numpy as np
    >>> perfect = np.eye(3)[[0, 1, 2, 1]]
    >>> leep(perfect, ["a", "b", "c", "b"])
    0.0
    """
    probs = _probabilities(source_probs, "leep")
    codes, classes = _class_labels(target_labels, probs.shape[0], "leep")
    joint = np.zeros((classes.size, probs.shape[1]))
    np.add.at(joint, codes, probs)
    joint /= probs.shape[0]  # empirical P(y, z)
    marginal = joint.sum(axis=0, keepdims=True)
    conditional = np.divide(joint, marginal, out=np.zeros_like(joint), where=marginal > 0)
    predicted = (probs * conditional[codes]).sum(axis=1)  # EEP likelihood of the true label
    return float(np.mean(np.log(np.maximum(predicted, _EPS))) + 0.0)


def nce(source_labels: ArrayLike, target_labels: ArrayLike) -> float:
    """Negative conditional entropy ``-H(Y | Z)`` of target labels given source labels.

    ``Z`` are the source model's hard predictions on the target rows (pass probabilities
    and they are arg-maxed). High NCE means the source classes determine the target
    classes, so a source-trained model should transfer well.

    Parameters
    ----------
    source_labels : array-like of shape (n_samples,) or (n_samples, n_source_classes)
        Source-class predictions (or probabilities) for labelled target rows.
    target_labels : array-like of shape (n_samples,)

    Returns
    -------
    float
        In [-log(n_target_classes), 0]; 0 when ``Z`` determines ``Y``.

    References
    ----------
    Tran, Nguyen, Hassner. "Transferability and Hardness of Supervised Classification
    Tasks", ICCV 2019.

    Examples
    --------
    >>> nce([0, 0, 1, 1], [5, 5, 7, 7])
    0.0
    >>> round(nce([0, 0, 0, 0], [5, 5, 7, 7]), 4)
    -0.6931
    """
    z = np.asarray(source_labels)
    if z.ndim == 2:
        z = np.argmax(_probabilities(z, "nce"), axis=1)
    if z.ndim != 1:
        raise ValueError(
            f"nce: source_labels must be 1-D labels or 2-D probabilities; got {z.shape}."
        )
    codes, classes = _class_labels(target_labels, z.shape[0], "nce")
    _, z_codes = np.unique(z, return_inverse=True)
    joint = np.zeros((z_codes.max() + 1, classes.size))
    np.add.at(joint, (z_codes, codes), 1.0)
    joint /= joint.sum()
    marginal = joint.sum(axis=1, keepdims=True)
    conditional = np.divide(joint, marginal, out=np.ones_like(joint), where=marginal > 0)
    terms = joint * np.log(np.where(joint > 0, conditional, 1.0))
    return float(terms.sum() + 0.0)


# --------------------------------------------------------------------------- H-score
def h_score(
    features: ArrayLike, labels: ArrayLike, *, shrinkage: float | Literal["auto"] | None = "auto"
) -> float:
    """H-score ``tr(cov(f)^-1 cov(E[f | y]))``: the feature variance the classes explain.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
    shrinkage : float in [0, 1], "auto" or None, default="auto"
        Shrinkage of the feature covariance toward a scaled identity. ``"auto"`` uses the
        Ledoit-Wolf estimate (the regularised H-score of Ibrahim et al., stable when
        n_features is close to n_samples); ``None`` or ``0`` is the original score with a
        pseudo-inverse. The shrunk score also scales the between-class covariance by
        ``1 - alpha``, so when Ledoit-Wolf finds the sample covariance indistinguishable
        from a scaled identity (alpha = 1, e.g. a few near-isotropic features) every
        feature set scores 0; with many more rows than features pass ``None``.

    Returns
    -------
    float
        Non-negative and at most ``n_classes - 1``, with or without shrinkage (the
        shrunk score is ``tr(cov_alpha^-1 (1 - alpha) cov(E[f | y]))``, Ibrahim et al.).

    References
    ----------
    Bao, Li, Huang, Zheng, Zhao, Tong. "An Information-Theoretic Approach to
    Transferability in Task Transfer Learning", ICIP 2019. Ibrahim, Ponomareva, Mazumder.
    "Newer is not always better: Rethinking transferability metrics, their peculiarities,
    stability and performance", ECML-PKDD 2022.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, size=300)
    >>> good = np.c_[3 * y + rng.normal(size=300)]
    >>> bad = rng.normal(size=(300, 1))
    >>> h_score(good, y) > h_score(bad, y)
    True
    """
    if shrinkage is not None and shrinkage != "auto":
        check_param("h_score", "shrinkage", shrinkage, "a float in [0, 1], 'auto' or None",
                    lambda v: 0.0 <= float(v) <= 1.0)
    F = check_array_2d(features, "h_score: features", min_samples=2)
    codes, classes = _class_labels(labels, F.shape[0], "h_score")
    centred = F - F.mean(axis=0)
    if shrinkage == "auto":
        from sklearn.covariance import ledoit_wolf

        covariance, alpha = ledoit_wolf(centred, assume_centered=True)
    else:
        alpha = float(shrinkage or 0.0)
        covariance = centred.T @ centred / F.shape[0]
        if alpha:
            mu = np.trace(covariance) / covariance.shape[0]
            covariance = (1 - alpha) * covariance + alpha * mu * np.eye(len(covariance))
    class_means = np.zeros((classes.size, F.shape[1]))
    np.add.at(class_means, codes, centred)
    class_means /= np.bincount(codes)[:, None]
    conditional = class_means[codes]  # E[f | y] for every row
    # Ibrahim et al.'s regularised score shrinks the between-class covariance by the same
    # (1 - alpha) as the total one, tr(cov_alpha^-1 (1 - alpha) cov(E[f | y])); without the
    # factor a heavily shrunk (high-dimensional) feature set is inflated by up to
    # 1 / (1 - alpha) and can exceed n_classes - 1.
    between = (1.0 - float(alpha)) * (conditional.T @ conditional) / F.shape[0]
    return float(np.trace(np.linalg.pinv(covariance, hermitian=True) @ between))


# --------------------------------------------------------------------------- ranking
SCORES: dict[str, tuple[Callable[..., float], Literal["features", "proba"]]] = {
    "h_score": (h_score, "features"),
    "leep": (leep, "proba"),
    "logme": (logme, "features"),
    "nce": (nce, "proba"),
}
"""Score name -> (function, what it reads from a candidate: ``features`` or ``proba``)."""


def rank_sources(
    candidates: Mapping[str, Any],
    target: Domain | ArrayLike,
    *,
    score: str = "logme",
) -> pd.DataFrame:
    """Rank candidate source markets or backbones for a target market by a transferability score.

    Parameters
    ----------
    candidates : mapping of name -> array or fitted model
        For feature scores (``logme``, ``h_score``): the features each candidate gives the
        labelled target rows, or a fitted object with ``transform``. For probability
        scores (``leep``, ``nce``): the source model's class probabilities on those rows,
        or a fitted classifier with ``predict_proba``.
    target : Domain or array-like of shape (n_samples,)
        The labelled target rows (a Domain, when candidates are models), or just their
        labels when every candidate is a cached array.
    score : {"logme", "leep", "h_score", "nce"}, default="logme"

    Returns
    -------
    DataFrame
        Indexed by candidate name, columns ``score`` and ``rank`` (1 = best), sorted best
        first.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, size=100)
    >>> table = rank_sources({"noise": rng.normal(size=(100, 2)),
    ...                       "related": np.c_[y + 0.2 * rng.normal(size=100)]}, y)
    >>> table.index.tolist()
    ['related', 'noise']
    """
    check_choice("rank_sources", "score", score, sorted(SCORES))
    if not candidates:
        raise ValueError("rank_sources: no candidates given; pass {name: features or model}.")
    function, kind = SCORES[score]
    if isinstance(target, Domain):
        labeled = target.labeled()
        labels = labeled.y
    else:
        labeled, labels = None, np.asarray(target)
    values = {}
    for name, candidate in candidates.items():
        if isinstance(candidate, (np.ndarray, list)) or hasattr(candidate, "detach"):
            output = candidate.detach().cpu().numpy() if hasattr(candidate, "detach") else candidate
        elif labeled is None:
            raise TypeError(
                f"rank_sources: candidate {name!r} is a model, so pass the labelled target "
                "Domain as target (not only its labels)."
            )
        else:
            output = model_output(candidate, labeled, kind)
        try:
            values[name] = function(output, labels)
        except ValueError as exc:
            raise ValueError(f"rank_sources: candidate {name!r}: {exc}") from exc
    table = pd.DataFrame({"score": pd.Series(values, dtype=float)})
    table = table.sort_values("score", ascending=False, kind="stable")
    table["rank"] = np.arange(1, len(table) + 1)
    table.index.name = "candidate"
    return table
