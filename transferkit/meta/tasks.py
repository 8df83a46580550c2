"""Few-shot episodes from a collection of Domains: markets, users or households as tasks.

A *task* is one Domain (a market, a user, a household). An *episode* draws a small
labelled *support* set from one task, to adapt on, and a *query* set from the same task,
to score the adaptation. ``TaskSampler`` draws them reproducibly:

- regression (ratings, spend): ``k_shot`` support rows and ``n_query`` query rows;
- classification with ``labels="episode"``: classic N-way K-shot, ``n_way`` classes of the
  task and ``k_shot`` rows of each (ranges give variable ways and imbalanced shots), the
  classes shuffled per episode so no output unit owns a class;
- classification with ``labels="shared"``: the classes mean the same in every task (brands
  a household chooses between), so episodes keep the global class list and draw ``k_shot``
  rows of the task as they come (their natural imbalance).

``split`` makes meta-train / meta-validation / meta-test collections that never share a
task.

Examples
--------
>>> import numpy as np
>>> from transferkit.domain import Domain
>>> rng = np.random.default_rng(0)
>>> users = {f"u{i}": Domain.from_arrays(rng.normal(size=(30, 3)), rng.normal(size=30),
...                                      name=f"u{i}") for i in range(10)}
>>> sampler = TaskSampler(users, k_shot=5, n_query=10, random_state=0)
>>> episode = sampler.episode(0)
>>> episode.X_support.shape, episode.X_query.shape
((5, 3), (10, 3))
>>> train, val, test = sampler.split(val_size=2, test_size=2)
>>> len(train), len(val), len(test), set(train.names) & set(test.names)
(6, 2, 2, set())
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from transferkit._validation import check_choice, check_param
from transferkit.domain import Domain
from transferkit.exceptions import DomainMismatchError, TransferWarning

__all__ = ["Episode", "TaskFold", "TaskSampler", "leave_one_task_out"]

Shots = int | tuple[int, int]
LabelMode = Literal["episode", "shared"]


@dataclass(frozen=True)
class Episode:
    """One few-shot problem: a support set to adapt on and a query set to score on.

    Attributes
    ----------
    task : str
        Name of the Domain the rows come from.
    kind : {"classification", "regression"}
    X_support, X_query : ndarray of shape (n, n_features)
    y_support, y_query : ndarray of shape (n,)
        Raw labels (class values as in the Domain, or numbers for regression).
    classes : ndarray
        Classification: the episode's classes in output order (shuffled per episode with
        ``labels="episode"``, the global sorted list with ``labels="shared"``). Empty for
        regression.
    """

    task: str
    kind: Literal["classification", "regression"]
    X_support: np.ndarray
    y_support: np.ndarray
    X_query: np.ndarray
    y_query: np.ndarray
    classes: np.ndarray

    @property
    def n_way(self) -> int:
        """Number of classes of the episode (0 for regression)."""
        return len(self.classes)

    def encode(self, y: np.ndarray) -> np.ndarray:
        """Positions of the labels ``y`` in ``classes`` (int64)."""
        lookup = {value: position for position, value in enumerate(self.classes.tolist())}
        return np.array([lookup[value] for value in np.asarray(y).tolist()], dtype=np.int64)


def _check_shots(owner: str, name: str, value: Shots, minimum: int) -> tuple[int, int]:
    def ok(v: object) -> bool:
        if isinstance(v, tuple):
            return (len(v) == 2 and all(isinstance(i, int) and not isinstance(i, bool)
                                        for i in v) and minimum <= v[0] <= v[1])
        return isinstance(v, int) and not isinstance(v, bool) and v >= minimum

    check_param(owner, name, value, f"an int >= {minimum} or a (low, high) tuple of them", ok)
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


class TaskSampler:
    """Seeded few-shot episodes over a collection of Domains, one Domain per task.

    Parameters
    ----------
    tasks : mapping of str to Domain, or sequence of Domain
        The markets / users / households. All must be labelled on the rows used, share
        one feature schema (same numeric feature names) and one kind of task. Names must
        be unique (a sequence uses ``Domain.name``).
    k_shot : int or (int, int), default=5
        Support rows (regression, ``labels="shared"``) or support rows per class
        (``labels="episode"``); a ``(low, high)`` range draws the count per episode (per
        class with ``labels="episode"``, which makes supports imbalanced).
    n_query : int or None, default=15
        Query rows (per class with ``labels="episode"``); None uses every remaining row
        of the task (not allowed with ``labels="episode"``).
    n_way : int, (int, int) or None, default=None
        Classes per episode with ``labels="episode"``; None uses all classes of the task
        that have enough rows. Ignored otherwise.
    labels : {"episode", "shared"}, default="episode"
        Classification only: relabel classes per episode (classic few-shot) or keep one
        global class list whose meaning is shared by every task.
    on_small : {"raise", "drop"}, default="raise"
        What to do with a task too small for ``k_shot`` + ``n_query`` (or one-class in
        ``labels="episode"``): raise, or drop it with a ``TransferWarning``.
    random_state : int, default=0
        Seeds the episodes: ``episode(i)`` is the same episode on every call.

    Attributes
    ----------
    names : list of str
        The tasks kept, in order.
    kind : {"classification", "regression"}
    n_features : int
    feature_names : list of str
    classes : ndarray or None
        The global class list (``labels="shared"``); None otherwise.
    all_classes : ndarray or None
        Sorted union of the classes of every task (classification).
    max_way : int
        Most classes an episode can have (0 for regression).

    Raises
    ------
    ValueError
        Empty collection, duplicated names, too-small or one-class tasks, disjoint label
        sets, unlabelled collections.
    DomainMismatchError
        Tasks with different feature schemas or different kinds of task.
    """

    def __init__(
        self,
        tasks: Mapping[str, Domain] | Sequence[Domain],
        *,
        k_shot: Shots = 5,
        n_query: int | None = 15,
        n_way: Shots | None = None,
        labels: LabelMode = "episode",
        on_small: Literal["raise", "drop"] = "raise",
        random_state: int = 0,
    ) -> None:
        owner = "TaskSampler"
        self.k_shot = k_shot
        self.n_query = n_query
        self.n_way = n_way
        self.labels = labels
        self.on_small = on_small
        self.random_state = random_state
        self._k = _check_shots(owner, "k_shot", k_shot, 1)
        check_param(owner, "n_query", n_query, "an int >= 1 or None",
                    lambda v: v is None or (isinstance(v, int) and v >= 1))
        check_choice(owner, "labels", labels, ("episode", "shared"))
        check_choice(owner, "on_small", on_small, ("raise", "drop"))
        check_param(owner, "random_state", random_state, "an int",
                    lambda v: isinstance(v, int) and not isinstance(v, bool))
        self._ways = None if n_way is None else _check_shots(owner, "n_way", n_way, 2)
        domains = self._collect(tasks)
        first = next(iter(domains.values()))
        self.kind: Literal["classification", "regression"] = (
            "classification" if first.is_classification else "regression")
        self.feature_names = first.feature_names
        self.n_features = first.n_features
        self._check_schemas(domains)
        if self.kind == "classification" and labels == "episode" and n_query is None:
            raise ValueError(
                "TaskSampler(labels='episode') needs n_query per class as an int; "
                "n_query=None (all remaining rows) only works for regression or "
                "labels='shared'."
            )
        self._data = {name: self._arrays(domain) for name, domain in domains.items()}
        self._data = self._keep_usable(self._data)
        self.names = list(self._data)
        self.all_classes = None
        self.classes = None
        self.max_way = 0
        if self.kind == "classification":
            self.all_classes = np.unique(np.concatenate([y for _, y in self._data.values()]))
            if labels == "shared":
                self._check_shared_labels()
                self.classes = self.all_classes
                self.max_way = len(self.classes)
            else:
                self.max_way = (self._ways[1] if self._ways is not None else
                                max(len(self._eligible(y)) for _, y in self._data.values()))

    # ------------------------------------------------------------------ validation
    def _collect(self, tasks: Mapping[str, Domain] | Sequence[Domain]) -> dict[str, Domain]:
        if isinstance(tasks, Mapping):
            items = list(tasks.items())
        elif isinstance(tasks, Sequence) and not isinstance(tasks, str):
            items = [(getattr(d, "name", None), d) for d in tasks]
        else:
            raise TypeError(
                f"TaskSampler expects a mapping of names to Domains or a list of Domains; "
                f"got {type(tasks).__name__}."
            )
        if not items:
            raise ValueError(
                "TaskSampler got an empty task collection; pass at least one Domain per task "
                "(for example load_movielens() or load_scanner_panel('cracker'))."
            )
        domains: dict[str, Domain] = {}
        for name, domain in items:
            if not isinstance(domain, Domain):
                raise TypeError(
                    f"Task {name!r} is a {type(domain).__name__}, not a Domain; build it with "
                    "Domain.from_frame or Domain.from_arrays."
                )
            if name in domains:
                raise ValueError(
                    f"Two tasks are named {name!r}; task names must be unique so that "
                    "meta-train and meta-test splits never share a task."
                )
            if domain.schema.label is None or domain.n_labeled == 0:
                raise ValueError(f"Task {name!r} has no labelled rows; episodes need labels.")
            domains[str(name)] = domain
        return domains

    def _check_schemas(self, domains: Mapping[str, Domain]) -> None:
        reference = next(iter(domains))
        for name, domain in domains.items():
            kind = "classification" if domain.is_classification else "regression"
            if kind != self.kind:
                raise DomainMismatchError(
                    f"Task {name!r} is a {domain.task} task but task {reference!r} is "
                    f"{self.kind}; every task of a collection must predict the same kind of "
                    "label."
                )
            if domain.feature_names != self.feature_names or domain.n_features != self.n_features:
                extra = sorted(set(domain.feature_names) - set(self.feature_names))
                missing = sorted(set(self.feature_names) - set(domain.feature_names))
                raise DomainMismatchError(
                    f"Task {name!r} has a different feature schema from task {reference!r}: "
                    f"{domain.n_features} vs {self.n_features} features (extra {extra[:5]}, "
                    f"missing {missing[:5]}). Harmonize the Domains to one schema first "
                    "(transferkit.harmonize)."
                )

    def _arrays(self, domain: Domain) -> tuple[np.ndarray, np.ndarray]:
        labelled = domain.labeled() if domain.n_labeled < domain.n_samples else domain
        X = labelled.X
        if not isinstance(X, np.ndarray) or X.ndim != 2:
            raise TypeError(
                f"Task {domain.name!r} has non-numeric or non-tabular features; harmonize or "
                "encode them into a numeric matrix first."
            )
        return X.astype(np.float32), labelled.y

    def _eligible(self, y: np.ndarray) -> np.ndarray:
        values, counts = np.unique(y, return_counts=True)
        return values[counts >= self._k[1] + int(self.n_query or 0)]

    def _problem(self, name: str, X: np.ndarray, y: np.ndarray) -> str:
        need_rows = self._k[1] + (self.n_query if self.n_query is not None else 1)
        if self.kind == "regression" or self.labels == "shared":
            if len(y) < need_rows:
                return (f"task {name!r} has {len(y)} labelled rows but k_shot={self.k_shot} "
                        f"and n_query={self.n_query} need {need_rows}")
            return ""
        n_classes = len(np.unique(y))
        if n_classes < 2:
            return (f"task {name!r} is a one-class task (only {np.unique(y).tolist()}); an "
                    "N-way episode needs at least 2 classes")
        need_ways = self._ways[0] if self._ways is not None else 2
        eligible = self._eligible(y)
        if len(eligible) < need_ways:
            values, counts = np.unique(y, return_counts=True)
            shown = dict(zip(values.tolist(), counts.tolist(), strict=True))
            return (f"task {name!r} has {len(eligible)} classes with at least "
                    f"k_shot + n_query = {self._k[1] + int(self.n_query or 0)} examples "
                    f"(class counts {shown}) but the episodes need {need_ways} such classes: "
                    "K is larger than the examples a class has")
        return ""

    def _keep_usable(self, data: dict[str, tuple[np.ndarray, np.ndarray]]
                     ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        problems = {name: self._problem(name, *arrays) for name, arrays in data.items()}
        bad = [name for name, text in problems.items() if text]
        if bad and (self.on_small == "raise" or len(bad) == len(data)):
            shown = "; ".join(problems[n] for n in bad[:3])
            more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
            raise ValueError(
                f"TaskSampler: {shown}{more}. Lower k_shot / n_query, or pass "
                "on_small='drop' to skip such tasks."
                + (" Every task was affected." if len(bad) == len(data) else "")
            )
        if bad:
            warnings.warn(
                f"TaskSampler dropped {len(bad)} of {len(data)} tasks too small or with one "
                f"class for k_shot={self.k_shot}, n_query={self.n_query} "
                f"(first: {problems[bad[0]]}).",
                TransferWarning, stacklevel=3,
            )
        return {name: arrays for name, arrays in data.items() if name not in bad}

    def _check_shared_labels(self) -> None:
        if len(self.all_classes) < 2:
            raise ValueError(
                f"Every task has the single class {self.all_classes.tolist()}: a one-class "
                "task collection cannot be learned; check the label column."
            )
        sets = {name: set(np.unique(y).tolist()) for name, (_, y) in self._data.items()}
        if len(sets) < 2:
            return
        for name, own in sets.items():
            others = set().union(*(s for n, s in sets.items() if n != name))
            if not own & others:
                raise ValueError(
                    f"Task {name!r} has labels {sorted(own, key=str)} and shares none with the "
                    f"other tasks' labels {sorted(others, key=str)[:8]}: disjoint label sets "
                    "cannot share one output layer. Use labels='episode' for relabelled N-way "
                    "episodes, or map the labels to one vocabulary first."
                )

    # ------------------------------------------------------------------ episodes
    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return (f"TaskSampler({len(self)} {self.kind} tasks, k_shot={self.k_shot}, "
                f"n_query={self.n_query}, labels={self.labels!r})")

    def task_arrays(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """All labelled rows ``(X, y)`` of one task."""
        if name not in self._data:
            raise KeyError(f"No task named {name!r}; tasks: {self.names[:10]}")
        return self._data[name]

    def sample(self, rng: np.random.Generator, task: str | None = None) -> Episode:
        """Draw one episode with ``rng`` from ``task`` (a random task when None)."""
        name = task if task is not None else self.names[int(rng.integers(len(self.names)))]
        X, y = self.task_arrays(name)
        if self.kind == "regression" or self.labels == "shared":
            k = int(rng.integers(self._k[0], self._k[1] + 1))
            order = rng.permutation(len(y))
            support = order[:k]
            query = order[k:] if self.n_query is None else order[k:k + self.n_query]
            classes = (self.classes if self.kind == "classification"
                       else np.array([], dtype=float))
            return Episode(name, self.kind, X[support], y[support], X[query], y[query],
                           classes)
        eligible = self._eligible(y)
        low, high = self._ways if self._ways is not None else (len(eligible), len(eligible))
        n_way = int(rng.integers(low, min(high, len(eligible)) + 1))
        classes = rng.permutation(eligible)[:n_way]
        support_rows, query_rows = [], []
        for value in classes:
            rows = rng.permutation(np.flatnonzero(y == value))
            k = int(rng.integers(self._k[0], self._k[1] + 1))
            support_rows.append(rows[:k])
            query_rows.append(rows[k:k + self.n_query])
        support = rng.permutation(np.concatenate(support_rows))
        query = np.concatenate(query_rows)
        return Episode(name, self.kind, X[support], y[support], X[query], y[query], classes)

    def episode(self, index: int) -> Episode:
        """The ``index``-th episode of this sampler's seeded stream (same on every call)."""
        return self.sample(np.random.default_rng([self.random_state, int(index)]))

    def episodes(self, n: int, *, start: int = 0) -> list[Episode]:
        """Episodes ``start`` to ``start + n - 1`` of the seeded stream."""
        check_param("TaskSampler.episodes", "n", n, "an int >= 1",
                    lambda v: isinstance(v, int) and v >= 1)
        return [self.episode(start + i) for i in range(n)]

    def task_episodes(self, repeats: int = 1) -> list[Episode]:
        """``repeats`` seeded episodes from every task in order: per-task evaluation sets."""
        check_param("TaskSampler.task_episodes", "repeats", repeats, "an int >= 1",
                    lambda v: isinstance(v, int) and v >= 1)
        out = []
        for position, name in enumerate(self.names):
            for repeat in range(repeats):
                rng = np.random.default_rng([self.random_state, 1_000_003, position, repeat])
                out.append(self.sample(rng, task=name))
        return out

    def pooled_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Every labelled row of every task stacked: the pooled training set."""
        X = np.concatenate([X for X, _ in self._data.values()])
        y = np.concatenate([y for _, y in self._data.values()])
        return X, y

    # ------------------------------------------------------------------ new samplers
    def _like(self, names: Sequence[str], **changes: object) -> TaskSampler:
        settings = dict(k_shot=self.k_shot, n_query=self.n_query, n_way=self.n_way,
                        labels=self.labels, on_small=self.on_small,
                        random_state=self.random_state)
        settings.update(changes)
        domains = {name: Domain.from_arrays(*self._data[name], name=name,
                                            feature_names=self.feature_names,
                                            task=self._task_name())
                   for name in names}
        return TaskSampler(domains, **settings)

    def _task_name(self) -> str:
        if self.kind == "regression":
            return "regression"
        return "binary" if len(self.all_classes) <= 2 else "multiclass"

    def subset(self, names: Sequence[str]) -> TaskSampler:
        """A sampler over some of the tasks, with the same settings."""
        unknown = [n for n in names if n not in self._data]
        if unknown:
            raise KeyError(f"Unknown tasks {unknown[:5]}; tasks: {self.names[:10]}")
        return self._like(list(names))

    def with_shots(self, k_shot: Shots, n_query: int | None = None, *,
                   on_small: Literal["raise", "drop"] | None = None) -> TaskSampler:
        """The same tasks with other shot counts (for example K in 5, 10, 20)."""
        return self._like(self.names, k_shot=k_shot, n_query=n_query,
                          on_small=on_small or self.on_small)

    def split(
        self,
        val_size: float | int = 0.2,
        test_size: float | int = 0.2,
        *,
        random_state: int | None = None,
    ) -> tuple[TaskSampler, TaskSampler, TaskSampler]:
        """Meta-train, meta-validation and meta-test samplers over disjoint tasks.

        Parameters
        ----------
        val_size, test_size : float in [0, 1) or int
            Share or number of tasks in each part; each part gets at least one task and
            meta-training keeps the rest.
        random_state : int, optional
            Seeds the task shuffle (default: the sampler's ``random_state``).
        """
        n = len(self.names)

        def count(size: float | int, what: str) -> int:
            check_param("TaskSampler.split", what, size, "an int >= 1 or a float in (0, 1)",
                        lambda v: (isinstance(v, int) and v >= 1)
                        or (isinstance(v, float) and 0 < v < 1))
            return int(size) if isinstance(size, int) else max(1, round(size * n))

        n_val, n_test = count(val_size, "val_size"), count(test_size, "test_size")
        if n_val + n_test >= n:
            raise ValueError(
                f"Cannot split {n} tasks into {n_val} validation and {n_test} test tasks and "
                "keep at least one for meta-training; use smaller sizes."
            )
        seed = self.random_state if random_state is None else random_state
        order = [self.names[i] for i in np.random.default_rng(seed).permutation(n)]
        test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
        return self._like(train), self._like(val), self._like(test)


@dataclass(frozen=True)
class TaskFold:
    """One leave-one-task-out fold: a new task and the source tasks it may learn from.

    Attributes
    ----------
    task : str
        The new task (market) left out.
    train : TaskSampler
        Meta-training tasks: every kept task except ``task`` and ``validation``'s.
    validation : TaskSampler or None
        Held-out source tasks for :func:`~transferkit.meta.choose_learner` (never in
        ``train``); None with ``n_val=0``.
    test : TaskSampler
        The single new task.
    """

    task: str
    train: TaskSampler
    validation: TaskSampler | None
    test: TaskSampler


def leave_one_task_out(
    tasks: Mapping[str, Domain] | Sequence[Domain],
    new_tasks: Sequence[str] | None = None,
    *,
    n_val: int = 0,
    k_shot: Shots = 5,
    n_query: int | None = 15,
    labels: LabelMode = "episode",
    random_state: int = 0,
) -> list[TaskFold]:
    """Leave-one-task-out folds over a few market-level tasks (countries as new markets).

    Every task too small for a ``k_shot`` + ``n_query`` episode is dropped first
    (``TaskSampler(on_small="drop")``, with a ``TransferWarning``), from training as well
    as from the new tasks, so the rule is the same in every fold. Each fold then leaves
    out one of ``new_tasks``; with ``n_val`` > 0 the ``n_val`` largest other new tasks
    (most labelled rows; ties by order) are held out as the chooser's validation tasks,
    since they are the ones that still fit episodes with a larger K.

    Parameters
    ----------
    tasks : mapping of str to Domain, or sequence of Domain
        Every market (see :class:`TaskSampler`).
    new_tasks : sequence of str, optional
        Tasks to leave out in turn (default: every kept task).
    n_val : int, default=0
        Validation tasks per fold, taken from the other ``new_tasks``.
    k_shot, n_query, labels, random_state
        Episode settings of every sampler (see :class:`TaskSampler`).

    Returns
    -------
    list of TaskFold
        One per new task, in the order of ``new_tasks``.

    Raises
    ------
    ValueError
        A new task unknown or dropped as too small, ``n_val`` larger than the other new
        tasks, or a fold left with no meta-training task.

    Examples
    --------
    >>> import numpy as np
    >>> from transferkit.domain import Domain
    >>> rng = np.random.default_rng(0)
    >>> markets = {c: Domain.from_arrays(rng.normal(size=(n, 2)), np.arange(n) % 2, name=c)
    ...            for c, n in [("uk", 60), ("de", 30), ("fr", 25), ("be", 12)]}
    >>> folds = leave_one_task_out(markets, ["de", "fr", "be"], n_val=1, k_shot=3,
    ...                            n_query=3, labels="shared")
    >>> [(f.task, f.validation.names, f.train.names) for f in folds]
    [('de', ['fr'], ['uk', 'be']), ('fr', ['de'], ['uk', 'be']), ('be', ['de'], ['uk', 'fr'])]
    """
    owner = "leave_one_task_out"
    check_param(owner, "n_val", n_val, "an int >= 0",
                lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0)
    sampler = TaskSampler(tasks, k_shot=k_shot, n_query=n_query, labels=labels,
                          on_small="drop", random_state=random_state)
    names = list(sampler.names) if new_tasks is None else list(new_tasks)
    if not names:
        raise ValueError(f"{owner} got no new tasks; pass at least one task name.")
    known = (set(tasks) if isinstance(tasks, Mapping)
             else {getattr(d, "name", None) for d in tasks})
    for name in names:
        if name not in known:
            raise ValueError(f"{owner}: no task named {name!r}; tasks: {sorted(known)[:10]}.")
        if name not in sampler.names:
            raise ValueError(
                f"{owner}: task {name!r} was dropped as too small for k_shot={k_shot} and "
                f"n_query={n_query}; leave it out of new_tasks or lower the shots."
            )
    if n_val > len(names) - 1:
        raise ValueError(f"{owner}: n_val={n_val} but only {len(names) - 1} other new tasks "
                         "can be held out per fold; lower n_val.")
    rows = {name: len(sampler.task_arrays(name)[1]) for name in sampler.names}
    folds = []
    for name in names:
        others = sorted((n for n in names if n != name), key=lambda n: -rows[n])
        validation = others[:n_val]
        train = [n for n in sampler.names if n != name and n not in validation]
        if not train:
            raise ValueError(f"{owner}: leaving out {name!r} and {validation} leaves no "
                             "meta-training task; lower n_val or add tasks.")
        folds.append(TaskFold(name, sampler.subset(train),
                              sampler.subset(validation) if validation else None,
                              sampler.subset([name])))
    return folds
