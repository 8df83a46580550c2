"""The model card shipped with every saved pipeline: what it is, what it was fitted on,
and how well it did against the baselines.

Examples
--------
>>> facts = {"method": {"name": "kmm", "family": "reweight", "params": {}},
...          "markets": {"source": {"name": "us", "rows": 10, "labelled": 10},
...                      "target": {"name": "ca", "rows": 5, "labelled": 0}}}
>>> print(to_markdown(facts).splitlines()[0])
# Model card: kmm, us -> ca
"""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from transferkit._io import atomic_write_text
from transferkit._json import to_jsonable
from transferkit.pipeline.factory import METHODS
from transferkit.pipeline.persist import write_json

__all__ = ["build", "to_markdown", "write"]

_LIBRARIES: tuple[str, ...] = ("transferkit", "numpy", "pandas", "scikit-learn", "torch",
                               "skops", "safetensors")


def build(pipeline: Any, *, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The card's facts for a fitted ``TransferPipeline`` (plus the run's ``extra`` facts)."""
    name = pipeline.method_name
    family = METHODS.get(name).family if name in METHODS else "custom"
    params = pipeline.method_.get_params(deep=False) if hasattr(pipeline.method_,
                                                                 "get_params") else {}
    facts: dict[str, Any] = {
        "method": {"name": name, "family": family, "class": type(pipeline.method_).__name__,
                   "params": params, "model": pipeline.model},
        "task": pipeline.task_,
        "classes": getattr(pipeline, "classes_", None),
        "markets": {side: dict(pipeline.fit_info_[side]) for side in ("source", "target")},
        "featurizer": pipeline.featurizer_.description,
        "schema": {side: {role: list(getattr(schema, role)) if isinstance(
            getattr(schema, role), tuple) else getattr(schema, role)
            for role in ("numeric", "categorical", "text", "image", "label", "id", "time")}
            for side, schema in pipeline.featurizer_.schemas_.items()},
        "random_state": pipeline.random_state,
        "fit_seconds": pipeline.fit_info_.get("seconds"),
        "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        "python": platform.python_version(),
        "git_commit": _git_commit(),
    }
    facts.update(dict(extra or {}))
    return to_jsonable(facts)


def write(folder: Path, facts: Mapping[str, Any]) -> None:
    """``MODEL_CARD.md`` and ``model_card.json`` in ``folder``."""
    write_json(Path(folder) / "model_card.json", facts)
    atomic_write_text(Path(folder) / "MODEL_CARD.md", to_markdown(facts))


def to_markdown(facts: Mapping[str, Any]) -> str:
    """The card as Markdown a person reads in a minute."""
    method, markets = facts["method"], facts["markets"]
    source, target = markets["source"], markets["target"]
    lines = [f"# Model card: {method['name']}, {source['name']} -> {target['name']}", ""]
    verdict = facts.get("verdict")
    if verdict:
        lines += ["## Does it beat the baselines?", "", str(verdict.get("message", "")), ""]
        for row in verdict.get("comparisons", []):
            lines.append(f"- vs {row['baseline']}: {row['difference']:+.3f} "
                         f"[{row['low']:+.3f}, {row['high']:+.3f}] ({verdict.get('metric')})")
        lines.append("")
    lines += [
        "## What it is",
        "",
        f"- Method: `{method['name']}` ({method['family']}, {method.get('class')})",
        f"- Task: {facts.get('task')}"
        + (f", classes {facts['classes']}" if facts.get("classes") is not None else ""),
        f"- Parameters: {_inline(method.get('params', {}))}",
        "",
        "## Fitted on",
        "",
        f"- Source market `{source['name']}`: {source['rows']} rows, "
        f"{source['labelled']} labelled",
        f"- Target market `{target['name']}`: {target['rows']} rows, "
        f"{target['labelled']} labelled",
    ]
    featurizer = facts.get("featurizer") or {}
    if featurizer:
        lines += ["", "## Features", "", f"- Modality: {featurizer.get('modality')}"]
        if featurizer.get("encoder"):
            lines.append(f"- Encoder: `{featurizer['encoder']}`")
        if featurizer.get("features_in") is not None:
            lines.append(f"- Input columns: {', '.join(featurizer['features_in'])}")
            lines.append(f"- Dropped columns: {_inline(featurizer.get('dropped_columns'))}")
            renames = featurizer.get("renames") or {}
            if any(renames.values()):
                lines.append(f"- Renames: {_inline(renames)}")
            if featurizer.get("exchange_rates"):
                lines.append(f"- Currency: {featurizer.get('money_columns')} in "
                             f"{featurizer.get('base_currency')}, rates "
                             f"{_inline(featurizer['exchange_rates'])}")
    if facts.get("gap_summary"):
        lines += ["", "## Domain gap", "", str(facts["gap_summary"])]
    if facts.get("warnings"):
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in facts["warnings"]]
    lines += ["", "## Reproducibility", "",
              f"- Seed: {facts.get('random_state')}",
              f"- Saved: {facts.get('saved_at')}",
              f"- Git commit: {facts.get('git_commit') or 'unknown'}",
              f"- Versions: {_inline(facts.get('versions'))}, Python {facts.get('python')}",
              ""]
    return "\n".join(lines)


def _inline(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "none"
    return str(value)


def _versions() -> dict[str, str]:
    found = {}
    for name in _LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _git_commit() -> str | None:
    """The commit of the git checkout the process runs in, when there is one."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=2, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) == 40 else None
