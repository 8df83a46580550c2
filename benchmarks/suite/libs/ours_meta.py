"""transferkit's meta-learners on cold-start tracks (library name ``ours_meta``).

Each job meta-fits one learner on one track and scores it on the meta-test tasks at
``K`` support rows, with the protocol of ``benchmarks/meta_benchmark.py`` (its samplers
and learner settings are reused, so the two cannot drift apart). The per-task scores
come back so the parent can compare learners task by task (paired bootstrap).

Tracks: ``movielens`` (new users, MAE of ratings), ``cracker`` (Ecdat scanner panel
households, brand-choice accuracy).
"""

from __future__ import annotations

from importlib import metadata

TRACKS = {"movielens": "mae", "cracker": "accuracy"}
METHODS = {"meta": ("pooled", "pooled_offset", "pooled_finetune", "maml", "fomaml", "anil",
                    "meta_sgd", "reptile", "protonet")}
CLASSIFICATION_ONLY = {"protonet", "matching_net"}


def versions() -> dict[str, str]:
    return {name: metadata.version(name) for name in ("transferkit", "torch")}


def set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def custom(method: str, item: dict, params: dict) -> dict:
    from benchmarks import meta_benchmark as protocol

    track, k = item["id"], int(item["k"])
    quick = bool(params.get("quick", False))
    if track == "movielens":
        if method in CLASSIFICATION_ONLY:
            raise ValueError(f"{method} is classification-only; movielens predicts ratings")
        train, _, test = protocol.movielens_samplers(quick)
        episodes = 300 if quick else 8000
    elif track == "cracker":
        train, _, test, _ = protocol.scanner_samplers("cracker")
        episodes = 300 if quick else 4000
    else:
        raise ValueError(f"unknown meta track {track!r}; known: {sorted(TRACKS)}")
    learner = protocol.build_learners([method], episodes=episodes, epochs=1 if quick else 3,
                                      batch=16, device=params.get("device", "cpu"))[method]
    learner.meta_fit(train)
    n_query = None if track == "movielens" else 5
    evaluation = learner.evaluate(test.with_shots(k, n_query, on_small="drop"))
    metric = TRACKS[track]
    low, high = evaluation.interval(metric)
    return {"metric": metric, "score": evaluation.mean(metric), "ci_low": low,
            "ci_high": high, "n_tasks": evaluation.n_tasks,
            "task_scores": evaluation.scores[metric].round(6).to_dict()}
