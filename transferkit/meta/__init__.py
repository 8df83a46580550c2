"""Meta-learning for new markets, users and households, measured against pooled baselines.

Tasks are Domains (one per market, user or household); :class:`TaskSampler` draws
seeded few-shot episodes from them. Every learner in ``META_LEARNERS`` has the same face:
``meta_fit(tasks)``, ``adapt(support, steps=...)`` returning a fitted model (predict,
predict_proba, export_state / from_state), and ``evaluate(tasks)`` with per-task scores
and bootstrap CIs over tasks. The baselines (``pooled``, ``pooled_finetune``,
``pooled_offset``, ``scratch``) are registered beside the meta-learners, and
:func:`choose_learner` decides between them for a new task from simulated cold starts.

Examples
--------
>>> sorted(META_LEARNERS)[:4]
['anil', 'fomaml', 'hypernetwork', 'maml']
"""

from __future__ import annotations

from transferkit.meta._base import META_LEARNERS, MetaLearner
from transferkit.meta.baselines import FromScratch, PooledFineTune, PooledModel, PooledOffset
from transferkit.meta.chooser import COST_RANK, MetaChoice, choose_learner
from transferkit.meta.evaluation import (
    MetaEvaluation,
    comparison_table,
    paired_difference,
    score_episode,
)
from transferkit.meta.gradient import ANIL, FOMAML, MAML, MetaSGD, Reptile
from transferkit.meta.metric import HyperNetwork, MatchingNet, ProtoNet
from transferkit.meta.models import AdaptedNet, EmbeddingClassifier
from transferkit.meta.replay import ReplayLearner
from transferkit.meta.tasks import Episode, TaskFold, TaskSampler, leave_one_task_out

__all__ = [
    "ANIL",
    "COST_RANK",
    "FOMAML",
    "MAML",
    "META_LEARNERS",
    "AdaptedNet",
    "EmbeddingClassifier",
    "Episode",
    "FromScratch",
    "HyperNetwork",
    "MatchingNet",
    "MetaChoice",
    "MetaEvaluation",
    "MetaLearner",
    "MetaSGD",
    "PooledFineTune",
    "PooledModel",
    "PooledOffset",
    "ProtoNet",
    "ReplayLearner",
    "Reptile",
    "TaskFold",
    "TaskSampler",
    "choose_learner",
    "comparison_table",
    "leave_one_task_out",
    "paired_difference",
    "score_episode",
]
