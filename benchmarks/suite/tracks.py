"""The jobs of one run: which methods of which libraries run on which items.

A job is one method of one library on a list of items (every pair and seed of a
track), run in one subprocess. ``--quick`` keeps one item per track and tiny budgets so
the whole run takes a few minutes on 2 cores; the full run covers every headline.

Examples
--------
>>> settings = Settings.make(quick=True)
>>> settings.uda_pairs, settings.epochs
(('amazon:books->kitchen',), 3)
>>> [job.library for job in gap_jobs(settings)]
['ours', 'evidently', 'nannyml']
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from benchmarks.suite import data

# The pairs the issue names first: where our CDAN led, and where skada's KMM led.
HEADLINE_PAIRS = ("amazon:books->kitchen", "office:caltech10->amazon", "digits:mnist->usps")
TRACKS = ("recipes", "uda", "fewlabel", "weights", "gap", "features", "meta")
UDA_LIBRARIES = ("ours", "skada", "pytorch_adapt", "adapt")
FEWLABEL_LIBRARIES = ("ours", "adapt")
WEIGHT_LIBRARIES = ("ours", "skada", "adapt")
GAP_LIBRARIES = ("ours", "evidently", "nannyml")


@dataclass(frozen=True)
class Settings:
    """Budgets and scope of one run (``quick`` or full).

    The full run covers every pair of every data set found (26 label-free pairs, 28
    few-label pairs); ``pairs=("headline",)`` keeps the three pairs the headlines name
    plus two Stack Overflow markets.
    """

    quick: bool
    seeds: tuple[int, ...]
    epochs: int
    uda_pairs: tuple[str, ...]
    fewlabel_pairs: tuple[str, ...]
    k: int
    weight_rows: tuple[int, ...]
    peer_weight_rows: tuple[int, ...]
    gap_rows: tuple[int, ...]
    meta_tracks: tuple[str, ...]
    meta_k: int
    meta_learners: tuple[str, ...] | None
    feature_pairs: tuple[str, ...] = ("office:amazon->webcam",)
    max_images: int | None = None
    device: str = "cpu"
    memory_cap_mb: float = 8192.0

    @classmethod
    def make(cls, *, quick: bool, device: str = "cpu", seeds: int | None = None,
             pairs: tuple[str, ...] | None = None) -> Settings:
        if quick:
            settings = cls(True, (0,), 3, ("amazon:books->kitchen",), ("stackoverflow:Germany",),
                           50, (1000, 10_000), (1000, 10_000), (10_000,), ("movielens",), 10,
                           ("pooled_offset", "maml", "meta_sgd"), ("office:dslr->webcam",),
                           60, device)
        else:
            uda = tuple(p for d in data.UDA_DATASETS if data.available(d) is None
                        for p in data.all_pairs(d))
            fewlabel = tuple(p for d in data.FEWLABEL_DATASETS if data.available(d) is None
                             for p in data.all_pairs(d))
            settings = cls(False, (0, 1, 2), 20, uda, fewlabel, 50,
                           (1000, 10_000, 100_000, 1_000_000), (1000, 10_000, 100_000),
                           (100_000, 1_000_000), ("movielens", "cracker"), 10, None,
                           device=device)
        changes: dict[str, Any] = {}
        if seeds is not None:
            changes["seeds"] = tuple(range(seeds))
        if pairs is not None:  # "amazon:books/kitchen" spares the shell the ">"
            pairs = tuple(p.replace("/", "->") for p in pairs)
        if pairs == ("headline",):
            pairs = (*HEADLINE_PAIRS, "stackoverflow:Germany", "stackoverflow:India")
        if pairs is not None:
            changes["uda_pairs"] = tuple(p for p in pairs if not p.startswith("stackoverflow"))
            changes["fewlabel_pairs"] = pairs
        return cls(**{**settings.__dict__, **changes})

    def missing_data(self, tracks: tuple[str, ...] = TRACKS) -> list[str]:
        """Why pairs of ``tracks`` cannot be built here (absent research data sets)."""
        pairs = {"uda": self.uda_pairs, "fewlabel": self.fewlabel_pairs,
                 "features": self.feature_pairs}
        datasets = {p.split(":", 1)[0] for track in tracks for p in pairs.get(track, ())}
        return [why for d in sorted(datasets) if (why := data.available(d)) is not None]

    @property
    def params(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "device": self.device, "quick": self.quick}


@dataclass(frozen=True)
class Job:
    """One method of one library on its items, in one subprocess."""

    track: str
    library: str
    method: str
    kind: str
    items: tuple[dict, ...]
    params: dict = field(default_factory=dict)
    timeout_s: float = 600.0

    @property
    def key(self) -> str:
        return f"{self.track}/{self.library}/{self.method}"


def methods(library: str, track: str) -> tuple[str, ...]:
    """The method names ``library``'s adapter offers for ``track``."""
    module = importlib.import_module(f"benchmarks.suite.libs.{library}")
    return tuple(module.METHODS.get(track, ()))


def method_tasks(library: str, method: str) -> tuple[str, ...]:
    """The tasks a method learns: the adapter's ``TASKS`` entry, else both."""
    module = importlib.import_module(f"benchmarks.suite.libs.{library}")
    return tuple(getattr(module, "TASKS", {}).get(method, ("classification", "regression")))


def _per_method(track: str, kind: str, libraries: tuple[str, ...], items: list[dict],
                params: dict, item_timeout: float) -> list[Job]:
    jobs = []
    for library in libraries:
        for method in methods(library, track):
            tasks = method_tasks(library, method)
            mine = tuple(item for item in items if item["task"] in tasks)
            if mine:
                jobs.append(Job(track, library, method, kind, mine, params,
                                timeout_s=60 + item_timeout * len(mine)))
    return jobs


def _present(pairs: tuple[str, ...]) -> list[str]:
    return [p for p in pairs if data.available(p.split(":", 1)[0]) is None]


def uda_jobs(settings: Settings, cache: str) -> list[Job]:
    items = data.uda_items(cache, _present(settings.uda_pairs), list(settings.seeds))
    return _per_method("uda", "predict", UDA_LIBRARIES, items, settings.params, 300)


def fewlabel_jobs(settings: Settings, cache: str) -> list[Job]:
    items = data.fewlabel_items(cache, _present(settings.fewlabel_pairs), list(settings.seeds),
                                settings.k)
    return _per_method("fewlabel", "predict", FEWLABEL_LIBRARIES, items, settings.params, 300)


def weight_jobs(settings: Settings) -> list[Job]:
    jobs = []
    for library in WEIGHT_LIBRARIES:
        sizes = settings.weight_rows if library == "ours" else settings.peer_weight_rows
        for method in methods(library, "weights"):
            # One job per size: a peer that runs out of memory at 100k still has its 10k row.
            jobs += [Job("weights", library, method, "weights",
                         ({"id": f"{rows}", "rows": rows, "seed": 0},), settings.params,
                         timeout_s=600 if library == "ours" else 300) for rows in sizes]
    return jobs


def gap_jobs(settings: Settings) -> list[Job]:
    return [Job("gap", library, "drift" if library != "ours" else "gap_report", "gap",
                ({"id": f"{rows}", "rows": rows, "seed": 0},), settings.params, timeout_s=600)
            for rows in settings.gap_rows for library in GAP_LIBRARIES]


def feature_jobs(settings: Settings) -> list[Job]:
    if data.available("office") is not None:
        return []
    items = tuple({"id": pair, "seed": 0, "max_images": settings.max_images}
                  for pair in settings.feature_pairs)
    return [Job("features", "ours_features", method, "custom", items, settings.params,
                timeout_s=1200) for method in methods("ours_features", "features")]


def recipe_jobs(settings: Settings) -> list[Job]:
    from benchmarks.suite.libs.ours_recipes import RECIPES

    items = tuple({"id": name, "seed": 0} for name in RECIPES)
    return [Job("recipes", "ours_recipes", "run", "custom", items, settings.params,
                timeout_s=900)]


def meta_jobs(settings: Settings) -> list[Job]:
    learners = settings.meta_learners or methods("ours_meta", "meta")
    jobs = []
    for track in settings.meta_tracks:
        for learner in learners:
            if track == "movielens" and learner == "protonet":
                continue  # classification-only learner; movielens predicts ratings
            jobs.append(Job("meta", "ours_meta", learner, "custom",
                            ({"id": track, "k": settings.meta_k, "seed": 0},),
                            settings.params, timeout_s=900))
    return jobs


def all_jobs(settings: Settings, cache: str, tracks: tuple[str, ...] = TRACKS,
             libraries: tuple[str, ...] | None = None) -> list[Job]:
    """Every job of the run (of ``libraries`` only, if given), in track order."""
    makers = {"gap": lambda: gap_jobs(settings), "weights": lambda: weight_jobs(settings),
              "fewlabel": lambda: fewlabel_jobs(settings, cache),
              "uda": lambda: uda_jobs(settings, cache), "meta": lambda: meta_jobs(settings),
              "features": lambda: feature_jobs(settings),
              "recipes": lambda: recipe_jobs(settings)}
    jobs = [job for track in TRACKS if track in tracks for job in makers[track]()]
    if libraries is not None:
        wanted = set(libraries) | ({"ours_meta", "ours_features", "ours_recipes"}
                                   if "ours" in libraries else set())
        jobs = [job for job in jobs if job.library in wanted]
    return jobs
