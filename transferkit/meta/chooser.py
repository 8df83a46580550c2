"""Choosing for a new task: meta-learned, fine-tuned or pooled, from simulated cold starts.

Given fitted candidates and *held-out source tasks* (never used in meta-training), every
candidate adapts to the same simulated cold-start episodes with the new task's K. The
best mean score wins only if it is significantly better (paired bootstrap over tasks);
otherwise the cheapest candidate not significantly worse than the best is chosen. When
the new task's K labelled rows are given, cross-validation inside them adds a second,
noisier opinion to the table. Reported like the negative-transfer verdict.

Examples
--------
>>> import numpy as np
>>> from transferkit.domain import Domain
>>> from transferkit.meta import PooledModel, PooledOffset, TaskSampler
>>> from transferkit.training import TrainConfig
>>> rng = np.random.default_rng(0)
>>> users = {}
>>> for i in range(16):
...     X = rng.normal(size=(30, 2))
...     users[f"u{i}"] = Domain.from_arrays(X, X[:, 0] + 3 * rng.normal(), name=f"u{i}")
>>> train, _, held_out = TaskSampler(users, k_shot=10, n_query=10).split(2, 6)
>>> fast = TrainConfig(epochs=3, batch_size=4, lr=1e-2, progress=False)
>>> candidates = [PooledModel(hidden=(8,), episodes_per_epoch=20, config=fast).meta_fit(train),
...               PooledOffset(hidden=(8,), episodes_per_epoch=20, config=fast).meta_fit(train)]
>>> choice = choose_learner(candidates, held_out, k_shot=10)
>>> choice.chosen
'pooled_offset'
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from transferkit._validation import check_param
from transferkit.meta._base import MetaLearner, Support
from transferkit.meta.evaluation import LOWER_IS_BETTER, MetaEvaluation, paired_difference
from transferkit.meta.evaluation import score_episode as _score
from transferkit.meta.tasks import Episode, TaskSampler

__all__ = ["COST_RANK", "MetaChoice", "choose_learner"]

#: How expensive a candidate is to adapt and serve, cheapest first; ties break on the
#: measured adaptation time. Unknown learners rank after these.
COST_RANK: Mapping[str, int] = {
    "pooled": 0, "pooled_offset": 1, "pooled_finetune": 2, "replay": 2, "protonet": 3,
    "matching_net": 3, "hypernetwork": 3, "scratch": 4, "anil": 5, "reptile": 6, "fomaml": 6,
    "meta_sgd": 6, "maml": 7,
}
_BASELINES = frozenset({"pooled", "pooled_offset", "pooled_finetune", "scratch"})


@dataclass(frozen=True)
class MetaChoice:
    """The chooser's verdict for a new task.

    Attributes
    ----------
    chosen : str
        Name of the candidate to use.
    best : str
        Candidate with the best mean score on the simulated cold starts.
    metric : str
    k_shot : int or None
    table : DataFrame
        One row per candidate: ``mean``, ``ci_low``, ``ci_high``, the paired difference
        from ``best`` with its CI, ``worse_than_best``, ``cost_rank``, ``adapt_ms``,
        ``fit_s`` and, with a support set, ``cv_<metric>``.
    reason : str
        One sentence saying why.
    refuses_meta : bool
        A meta-learner was a candidate but a baseline was chosen.
    n_tasks : int
        Held-out tasks the verdict rests on.
    """

    chosen: str
    best: str
    metric: str
    k_shot: int | None
    table: pd.DataFrame
    reason: str
    refuses_meta: bool
    n_tasks: int

    def to_dict(self) -> dict[str, Any]:
        table = self.table.reset_index().to_dict(orient="records")
        return {"chosen": self.chosen, "best": self.best, "metric": self.metric,
                "k_shot": self.k_shot, "reason": self.reason,
                "refuses_meta": self.refuses_meta, "n_tasks": self.n_tasks,
                "table": [{k: (v.item() if isinstance(v, np.generic) else v)
                           for k, v in row.items()} for row in table]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def __str__(self) -> str:
        return f"{self.reason}\n{self.table.to_string(float_format=lambda v: f'{v:.4g}')}"


def _support_cv(learner: MetaLearner, support: Support, metric: str, n_folds: int,
                seed: int) -> float:
    """Mean score of adapting on part of the K rows and scoring the rest."""
    if isinstance(support, Episode):
        X, y = support.X_support, support.y_support
    elif isinstance(support, tuple):
        X, y = np.asarray(support[0], dtype=float), np.asarray(support[1])
    else:
        labelled = support.labeled() if support.n_labeled < support.n_samples else support
        X, y = labelled.X, labelled.y
    kind = "regression" if learner.kind_ == "regression" else "classification"
    folds = np.array_split(np.random.default_rng(seed).permutation(len(y)), n_folds)
    classes = learner.classes_ if learner.classes_ is not None else np.unique(y)
    scores = []
    for fold in folds:
        train = np.setdiff1d(np.arange(len(y)), fold)
        if kind == "classification" and len(np.unique(y[train])) < 2 \
                and learner.classes_ is None:
            continue
        episode = Episode("cv", kind, X[train], y[train], X[fold], y[fold],
                          np.asarray(classes) if kind == "classification" else np.array([]))
        try:
            model = learner.adapt((X[train], y[train]))
        except ValueError:
            continue
        scores.append(_score(model, episode)[metric])
    return float(np.mean(scores)) if scores else float("nan")


def choose_learner(
    candidates: Mapping[str, MetaLearner] | Sequence[MetaLearner],
    held_out: TaskSampler | Sequence[Episode],
    *,
    k_shot: int | None = None,
    support: Support | None = None,
    metric: str | None = None,
    steps: int | None = None,
    repeats: int = 1,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    random_state: int = 0,
) -> MetaChoice:
    """Pick meta-learned, fine-tuned or pooled for a new task with K labelled rows.

    Parameters
    ----------
    candidates : mapping of name to fitted learner, or sequence of fitted learners
        Meta-trained learners and baselines (``learner.name`` names a sequence's entries).
    held_out : TaskSampler or sequence of Episode
        Source tasks kept out of meta-training; a sampler is re-drawn with ``k_shot``
        support rows (tasks too small for it are dropped).
    k_shot : int, optional
        The new task's number of labelled rows (per class for N-way samplers).
    support : Episode, Domain or (X, y), optional
        The new task's labelled rows, for the cross-validation column.
    metric : str, optional
        Default ``"mae"`` for regression, ``"accuracy"`` for classification.
    steps : int, optional
        Adaptation steps passed to every candidate's ``adapt``.
    repeats : int, default=1
        Episodes per held-out task.
    confidence : float, default=0.95
    n_resamples : int, default=2000
    random_state : int, default=0

    Returns
    -------
    MetaChoice
    """
    named = dict(candidates) if isinstance(candidates, Mapping) else {
        c.name: c for c in candidates}
    if not named:
        raise ValueError("choose_learner needs at least one fitted candidate.")
    if len(named) != len(candidates):
        raise ValueError("Two candidates share a name; pass a mapping of distinct names.")
    for name, learner in named.items():
        if not isinstance(learner, MetaLearner):
            raise TypeError(f"Candidate {name!r} is a {type(learner).__name__}, not a "
                            "meta-learner or meta baseline.")
        learner._check_fitted()
    check_param("choose_learner", "k_shot", k_shot, "an int >= 1 or None",
                lambda v: v is None or (isinstance(v, int) and v >= 1))
    if isinstance(held_out, TaskSampler):
        sampler = held_out if k_shot is None else held_out.with_shots(
            k_shot, held_out.n_query, on_small="drop")
        episodes = sampler.task_episodes(repeats)
    else:
        episodes = list(held_out)
    if not episodes:
        raise ValueError("choose_learner got no held-out episodes to simulate cold starts on.")
    kind = episodes[0].kind
    metric = metric or ("mae" if kind == "regression" else "accuracy")
    evaluations: dict[str, MetaEvaluation] = {}
    for name, learner in named.items():
        result = learner.evaluate(episodes, steps=steps, confidence=confidence,
                                  n_resamples=n_resamples)
        evaluations[name] = MetaEvaluation(name, result.scores, result.adapt_seconds,
                                           result.fit_seconds, confidence, n_resamples,
                                           random_state)
    lower = metric in LOWER_IS_BETTER
    means = {name: e.mean(metric) for name, e in evaluations.items()}
    best = (min if lower else max)(means, key=means.get)
    rows = []
    for name, evaluation in evaluations.items():
        low, high = evaluation.interval(metric)
        diff = paired_difference(evaluation, evaluations[best], metric, confidence=confidence,
                                 n_resamples=n_resamples, seed=random_state)
        row = {"candidate": name, "learner": named[name].name, "mean": means[name],
               "ci_low": low, "ci_high": high, "diff_vs_best": diff["mean"],
               "diff_ci_low": diff["ci_low"], "diff_ci_high": diff["ci_high"],
               "worse_than_best": diff["significant"] and name != best,
               "cost_rank": COST_RANK.get(named[name].name, len(COST_RANK)),
               "adapt_ms": 1000 * evaluation.adapt_seconds, "fit_s": evaluation.fit_seconds}
        if support is not None:
            row[f"cv_{metric}"] = _support_cv(named[name], support, metric,
                                              min(5, _n_rows(support)), random_state)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("candidate").sort_values(["cost_rank", "adapt_ms"])
    eligible = table[~table["worse_than_best"]]
    chosen = str(eligible.index[0])
    meta_present = any(named[n].name not in _BASELINES for n in named)
    refuses = meta_present and named[chosen].name in _BASELINES
    reason = _reason(chosen, best, metric, table, refuses, len(evaluations[best].scores),
                     confidence)
    return MetaChoice(chosen, best, metric, k_shot, table, reason, refuses,
                      len(evaluations[best].scores))


def _n_rows(support: Support) -> int:
    if isinstance(support, Episode):
        return len(support.y_support)
    if isinstance(support, tuple):
        return len(support[1])
    return support.n_labeled


def _reason(chosen: str, best: str, metric: str, table: pd.DataFrame, refuses: bool,
            n_tasks: int, confidence: float) -> str:
    level = f"{round(100 * confidence)} %"
    best_row = table.loc[best]
    if chosen == best:
        others = table.drop(index=best)
        beaten = int(others["worse_than_best"].sum())
        return (f"{chosen} is chosen: the best mean {metric} ({best_row['mean']:.4g}) over "
                f"{n_tasks} held-out tasks, significantly better than {beaten} of "
                f"{len(others)} other candidates and no other candidate is both as good and "
                "cheaper.")
    row = table.loc[chosen]
    text = (f"{chosen} is chosen: the best candidate {best} ({metric} {best_row['mean']:.4g}) "
            f"is not significantly better than {chosen} ({row['mean']:.4g}; paired "
            f"difference {row['diff_vs_best']:+.4g}, {level} CI [{row['diff_ci_low']:.4g}, "
            f"{row['diff_ci_high']:.4g}] over {n_tasks} held-out tasks), and {chosen} is "
            "cheaper to adapt and serve.")
    if refuses:
        text += " Meta-learning is refused here: it does not pay for its cost."
    return text
