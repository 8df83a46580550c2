"""What every meta-learner shares: episodes on the shared Trainer, adapt, evaluate."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from torch import nn

from transferkit._registry import Registry
from transferkit._validation import check_array_2d, check_param
from transferkit.domain import Domain
from transferkit.meta._nets import mask_bias
from transferkit.meta.evaluation import MetaEvaluation, score_episode
from transferkit.meta.tasks import Episode, TaskSampler
from transferkit.training import StepOutput, TrainConfig, Trainer

__all__ = ["META_LEARNERS", "EncodedEpisode", "MetaLearner", "Tasks"]

Tasks = TaskSampler | Sequence[Episode]
Support = Episode | Domain | tuple[ArrayLike, ArrayLike]


META_LEARNERS: Registry[type[MetaLearner]] = Registry("meta-learner")


@dataclasses.dataclass(frozen=True)
class EncodedEpisode:
    """An episode as tensors: standardised features, encoded labels, the logit mask."""

    X_support: torch.Tensor
    y_support: torch.Tensor
    X_query: torch.Tensor
    y_query: torch.Tensor
    bias: torch.Tensor | None
    n_way: int


class MetaLearner(BaseEstimator):
    """Base of every meta-learner and baseline: ``meta_fit``, ``adapt``, ``evaluate``.

    Subclasses set ``name`` and implement ``_build_module``, ``_episode_objective`` (the
    meta-training loss of one episode) and ``_adapt``. Meta-training runs on the shared
    :class:`~transferkit.training.Trainer` (devices, checkpoints, resume, progress): its
    dataset is the episode stream, ``config.batch_size`` episodes (tasks) per meta-step.
    """

    name: ClassVar[str] = ""
    #: Labels as positions in the global class list (pooled baselines) instead of in each
    #: episode's own class order (episodic learners).
    global_labels: ClassVar[bool] = False
    #: False for learners that learn nothing from the tasks beyond feature scaling.
    trains: ClassVar[bool] = True
    _default_config: ClassVar[TrainConfig] = TrainConfig(
        epochs=10, batch_size=4, lr=1e-3, optimizer="adam", progress="auto")

    hidden: Sequence[int]
    episodes_per_epoch: int
    config: TrainConfig | None
    random_state: int

    # ------------------------------------------------------------------ public
    def meta_fit(self, tasks: Tasks, *, validation: Tasks | None = None) -> MetaLearner:
        """Meta-train on episodes from ``tasks``; returns ``self``.

        Parameters
        ----------
        tasks : TaskSampler or sequence of Episode
            A sampler gives fresh seeded episodes every epoch (``episodes_per_epoch`` of
            them); a fixed list is reused every epoch.
        validation : TaskSampler or sequence of Episode, optional
            Meta-validation episodes (from tasks disjoint from ``tasks``; a sampler gives
            one fixed episode per task): their query loss after adaptation is logged as
            ``val_loss`` every epoch, for ``TrainConfig(patience=...)``.
        """
        self._check_params()
        config = self.config if self.config is not None else self._default_config
        if not isinstance(config, TrainConfig):
            raise TypeError(f"{type(self).__name__}(config=...) must be a TrainConfig; got "
                            f"{type(config).__name__}.")
        config = dataclasses.replace(config, seed=self.random_state)
        self._learn_layout(tasks)
        torch.manual_seed(self.random_state)
        self.module_ = self._build_module()
        start = time.perf_counter()
        self.history_: list[dict[str, float]] = []
        if self.trains:
            source = self._episode_source(tasks)
            n_items = (self.episodes_per_epoch if isinstance(tasks, TaskSampler)
                       else len(source.episodes))
            if isinstance(validation, TaskSampler):
                validation = validation.task_episodes()
            val_source = None if validation is None else self._episode_source(validation)
            trainer = Trainer(self.module_, self._train_step(source, n_items), config=config,
                              eval_step=None if val_source is None
                              else self._eval_step(val_source))
            val_items = (None if val_source is None
                         else torch.arange(len(val_source.episodes)))
            trainer.fit(torch.arange(n_items), validation=val_items)
            self.module_ = trainer.model_.cpu()
            self.history_ = trainer.history_
        self.module_.eval()
        self._after_fit(tasks)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def adapt(self, support: Support, *, steps: int | None = None) -> Any:
        """A model fitted to one new task from its few labelled rows.

        Parameters
        ----------
        support : Episode, Domain or (X, y)
            The new task's labelled rows (an Episode's support set).
        steps : int, optional
            Adaptation steps (gradient learners and fine-tuned baselines); default the
            learner's own.

        Returns
        -------
        AdaptedNet or EmbeddingClassifier
            Predicts on arrays or Domains; ``export_state`` / ``from_state`` save it.
        """
        self._check_fitted()
        if steps is not None:
            check_param(type(self).__name__ + ".adapt", "steps", steps, "an int >= 0",
                        lambda v: isinstance(v, int) and v >= 0)
        X, y, classes = self._support_arrays(support)
        X_t = torch.as_tensor((X - self.x_mean_) / self.x_scale_, dtype=torch.float32)
        if self.kind_ == "regression":
            y_t = torch.as_tensor((np.asarray(y, dtype=float) - self.y_mean_) / self.y_scale_,
                                  dtype=torch.float32)
        else:
            lookup = {value: i for i, value in enumerate(classes.tolist())}
            y_t = torch.as_tensor([lookup[v] for v in np.asarray(y).tolist()], dtype=torch.long)
        return self._adapt(X_t, y_t, classes, steps)

    def evaluate(self, tasks: Tasks, *, steps: int | None = None, repeats: int = 1,
                 confidence: float = 0.95, n_resamples: int = 2000) -> MetaEvaluation:
        """Adapt to every episode's support set and score its query set.

        Parameters
        ----------
        tasks : TaskSampler or sequence of Episode
            A sampler contributes ``repeats`` episodes of each of its tasks.
        steps : int, optional
            Passed to ``adapt``.
        confidence : float, default=0.95
            Level of the bootstrap intervals over tasks.

        Returns
        -------
        MetaEvaluation
            Per-task scores (MAE/RMSE, or accuracy/log loss) with bootstrap CIs over
            tasks, and the seconds one adaptation costs.
        """
        self._check_fitted()
        episodes = tasks.task_episodes(repeats) if isinstance(tasks, TaskSampler) else list(tasks)
        if not episodes:
            raise ValueError(f"{type(self).__name__}.evaluate got no episodes.")
        rows, seconds = [], 0.0
        for episode in episodes:
            start = time.perf_counter()
            model = self.adapt(episode, steps=steps)
            seconds += time.perf_counter() - start
            rows.append({"task": episode.task, **score_episode(model, episode)})
        return MetaEvaluation.from_rows(self.name, rows, adapt_seconds=seconds / len(episodes),
                                        fit_seconds=self.fit_seconds_, confidence=confidence,
                                        n_resamples=n_resamples, seed=self.random_state)

    def _check_fitted(self) -> None:
        if not hasattr(self, "module_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not meta-trained yet; call meta_fit(tasks) "
                "first."
            )

    # ------------------------------------------------------------------ hooks
    def _check_params(self) -> None:
        owner = type(self).__name__
        check_param(owner, "hidden", self.hidden, "a sequence of positive ints",
                    lambda v: all(isinstance(h, int) and h > 0 for h in v))
        check_param(owner, "episodes_per_epoch", self.episodes_per_epoch, "an int >= 1",
                    lambda v: isinstance(v, int) and v >= 1)
        check_param(owner, "random_state", self.random_state, "an int",
                    lambda v: isinstance(v, int) and not isinstance(v, bool))

    def _build_module(self) -> nn.Module:
        raise NotImplementedError

    def _episode_objective(self, module: nn.Module, episode: EncodedEpisode
                           ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(loss to minimise, query loss after adaptation)`` of one episode."""
        raise NotImplementedError

    def _batch_objective(self, module: nn.Module, episodes: list[EncodedEpisode]
                         ) -> tuple[torch.Tensor, torch.Tensor]:
        losses, queries = zip(*(self._episode_objective(module, e) for e in episodes),
                              strict=True)
        return torch.stack(losses).mean(), torch.stack(queries).mean()

    def _adapt(self, X: torch.Tensor, y: torch.Tensor, classes: np.ndarray,
               steps: int | None) -> Any:
        raise NotImplementedError

    def _after_fit(self, tasks: Tasks) -> None:
        """Fitted statistics that need the trained module (pooled offsets' shrinkage)."""

    # ------------------------------------------------------------------ plumbing
    def _learn_layout(self, tasks: Tasks) -> None:
        if isinstance(tasks, TaskSampler):
            if len(tasks) == 0:
                raise ValueError("meta_fit got a TaskSampler with no tasks.")
            X, y = tasks.pooled_arrays()
            self.kind_ = tasks.kind
            self.label_mode_ = tasks.labels if tasks.kind == "classification" else "shared"
            all_classes = tasks.all_classes
            max_way = tasks.max_way
        else:
            episodes = list(tasks)
            if not episodes or not all(isinstance(e, Episode) for e in episodes):
                raise ValueError(
                    "meta_fit needs a TaskSampler or a non-empty list of Episodes; got "
                    f"{type(tasks).__name__} of length {len(episodes)}."
                )
            kinds = {e.kind for e in episodes}
            if len(kinds) > 1:
                raise ValueError(f"The episodes mix {sorted(kinds)} tasks; use one kind.")
            X = np.concatenate([np.concatenate([e.X_support, e.X_query]) for e in episodes])
            y = np.concatenate([np.concatenate([e.y_support, e.y_query]) for e in episodes])
            self.kind_ = episodes[0].kind
            all_classes = np.unique(y) if self.kind_ == "classification" else None
            max_way = max(e.n_way for e in episodes)
            same = all(np.array_equal(e.classes, episodes[0].classes) for e in episodes)
            self.label_mode_ = "shared" if same and self.kind_ == "classification" else (
                "episode" if self.kind_ == "classification" else "shared")
        self.n_features_in_ = X.shape[1]
        self.x_mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        self.x_scale_ = np.where(scale > 1e-8, scale, 1.0)
        if self.kind_ == "regression":
            values = np.asarray(y, dtype=float)
            self.y_mean_ = float(values.mean())
            self.y_scale_ = float(values.std()) if values.std() > 1e-8 else 1.0
            self.classes_ = None
            self.n_outputs_ = 1
        else:
            self.y_mean_, self.y_scale_ = 0.0, 1.0
            self.all_classes_ = np.asarray(all_classes)
            self.classes_ = self.all_classes_ if self.label_mode_ == "shared" else None
            self.n_outputs_ = (len(self.all_classes_) if self.global_labels
                               or self.label_mode_ == "shared" else int(max_way))

    def encode(self, episode: Episode) -> EncodedEpisode:
        """Tensors of an episode in the learner's standardisation and label coding."""
        def features(X: np.ndarray) -> torch.Tensor:
            return torch.as_tensor((X - self.x_mean_) / self.x_scale_, dtype=torch.float32)

        if self.kind_ == "regression":
            def labels(y: np.ndarray) -> torch.Tensor:
                return torch.as_tensor((np.asarray(y, dtype=float) - self.y_mean_)
                                       / self.y_scale_, dtype=torch.float32)
            return EncodedEpisode(features(episode.X_support), labels(episode.y_support),
                                  features(episode.X_query), labels(episode.y_query), None, 0)
        if self.global_labels:
            reference = Episode(episode.task, episode.kind, episode.X_support,
                                episode.y_support, episode.X_query, episode.y_query,
                                self.all_classes_)
            ys, yq = reference.encode(episode.y_support), reference.encode(episode.y_query)
            n_way = len(self.all_classes_)
        else:
            ys, yq = episode.encode(episode.y_support), episode.encode(episode.y_query)
            n_way = episode.n_way
        return EncodedEpisode(features(episode.X_support), torch.as_tensor(ys),
                              features(episode.X_query), torch.as_tensor(yq),
                              mask_bias(n_way, self.n_outputs_), n_way)

    def _episode_source(self, tasks: Tasks) -> _EpisodeSource:
        return _EpisodeSource(tasks, self)

    def _train_step(self, source: _EpisodeSource, n_items: int):
        def step(module: nn.Module, batch: Any, context: Any) -> StepOutput:
            ids = batch.source[0].tolist()
            episodes = [source.get(context.epoch * n_items + i, i, context.device)
                        for i in ids]
            loss, query = self._batch_objective(module, episodes)
            return StepOutput(loss, {"query_loss": query.detach()}, n_samples=len(ids))
        return step

    def _eval_step(self, source: _EpisodeSource):
        def step(module: nn.Module, tensors: tuple[torch.Tensor, ...], context: Any
                 ) -> StepOutput:
            ids = tensors[0].tolist()
            episodes = [source.get(i, i, context.device) for i in ids]
            with torch.enable_grad():
                _, query = self._batch_objective(module, episodes)
            return StepOutput(query.detach(), n_samples=len(ids))
        return step

    def _support_arrays(self, support: Support) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if isinstance(support, Episode):
            X, y = support.X_support, support.y_support
            classes = (support.classes if self.kind_ == "classification" else None)
        else:
            if isinstance(support, Domain):
                labelled = support.labeled() if support.n_labeled < support.n_samples \
                    else support
                X, y = labelled.X, labelled.y
                if not isinstance(X, np.ndarray):
                    raise TypeError(f"Domain {support.name!r} has categorical features; "
                                    "harmonize it first.")
            elif isinstance(support, tuple) and len(support) == 2:
                X, y = support
            else:
                raise TypeError(
                    f"adapt expects an Episode, a labelled Domain or an (X, y) tuple; got "
                    f"{type(support).__name__}."
                )
            X = check_array_2d(X, "The support set's X")
            y = np.asarray(y)
            if len(y) != len(X):
                raise ValueError(f"The support set has {len(X)} rows but {len(y)} labels.")
            classes = None
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"The support set has {X.shape[1]} features but {type(self).__name__} was "
                f"meta-trained on {self.n_features_in_}; use the meta-training feature schema."
            )
        if self.kind_ == "regression":
            return X, y, np.array([])
        return X, y, self._support_classes(np.asarray(y), classes)

    def _support_classes(self, y: np.ndarray, given: np.ndarray | None) -> np.ndarray:
        seen = np.unique(y)
        if self.classes_ is not None or self.global_labels:
            known = self.classes_ if self.classes_ is not None else self.all_classes_
            unknown = sorted(set(seen.tolist()) - set(known.tolist()), key=str)
            if len(unknown) == len(seen):
                raise ValueError(
                    f"The support labels {seen.tolist()} are disjoint from the classes "
                    f"{known.tolist()[:10]} seen in meta-training; this model's output layer "
                    "cannot express them. Meta-train with TaskSampler(labels='episode') for "
                    "new classes."
                )
            if unknown:
                raise ValueError(
                    f"The support labels {unknown} were never seen in meta-training (known: "
                    f"{known.tolist()[:10]})."
                )
            return known
        if given is not None:
            return given
        if len(seen) < 2:
            raise ValueError(
                f"The support set has the single class {seen.tolist()}; a relabelled N-way "
                "task needs at least 2 classes."
            )
        if len(seen) > self.n_outputs_:
            raise ValueError(
                f"The support set has {len(seen)} classes but {type(self).__name__} was "
                f"meta-trained for at most {self.n_outputs_}-way episodes."
            )
        return seen


class _EpisodeSource:
    """Episode ``i`` of a sampler's seeded stream (fresh per epoch) or of a fixed list,
    encoded once and cached for fixed lists."""

    def __init__(self, tasks: Tasks, learner: MetaLearner) -> None:
        self.sampler = tasks if isinstance(tasks, TaskSampler) else None
        self.episodes = [] if self.sampler is not None else list(tasks)
        self.learner = learner
        self._cache: dict[int, EncodedEpisode] = {}

    def get(self, stream_index: int, list_index: int, device: torch.device) -> EncodedEpisode:
        if self.sampler is not None:
            return _to(self.learner.encode(self.sampler.episode(stream_index)), device)
        if list_index not in self._cache:
            self._cache[list_index] = _to(self.learner.encode(self.episodes[list_index]),
                                          device)
        return self._cache[list_index]


def _to(episode: EncodedEpisode, device: torch.device) -> EncodedEpisode:
    moved = {f.name: getattr(episode, f.name) for f in dataclasses.fields(episode)}
    for key, value in moved.items():
        if isinstance(value, torch.Tensor):
            moved[key] = value.to(device)
    return EncodedEpisode(**moved)
