"""Which interpreter runs which library, and whether its environment is set up.

transferkit's own adapters run with the interpreter of this process (transferkit's
environment); each peer runs in the benchmark-only environment ``setup_peers.sh`` made
under ``benchmarks/.peers`` (or ``$TRANSFERKIT_PEERS_DIR``).

Examples
--------
>>> LIBRARIES["skada"].env
'torch'
>>> interpreter("ours") is not None
True
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

PEERS_DIR = Path(os.environ.get("TRANSFERKIT_PEERS_DIR",
                                Path(__file__).resolve().parents[1] / ".peers"))


@dataclass(frozen=True)
class Library:
    """One library of the comparison: its adapter module, environment and display name."""

    module: str
    env: str | None
    label: str


LIBRARIES = {
    "ours": Library("ours", None, "transferkit"),
    "ours_meta": Library("ours_meta", None, "transferkit"),
    "ours_features": Library("ours_features", None, "transferkit"),
    "ours_recipes": Library("ours_recipes", None, "transferkit"),
    "skada": Library("skada", "torch", "SKADA"),
    "pytorch_adapt": Library("pytorch_adapt", "torch", "pytorch-adapt"),
    "adapt": Library("adapt", "adapt", "ADAPT"),
    "evidently": Library("evidently", "evidently", "evidently"),
    "nannyml": Library("nannyml", "nannyml", "nannyml"),
}
PEERS = tuple(name for name, library in LIBRARIES.items() if library.env is not None)


def interpreter(library: str) -> str | None:
    """The Python that runs ``library``, or ``None`` when its environment is missing."""
    env = LIBRARIES[library].env
    if env is None:
        return sys.executable
    python = PEERS_DIR / env / "bin" / "python"
    complete = (PEERS_DIR / env / "freeze.txt").exists()
    return str(python) if python.exists() and complete else None


def missing_reason(library: str) -> str:
    env = LIBRARIES[library].env
    return (f"{LIBRARIES[library].label} environment '{env}' not set up: run "
            f"`bash benchmarks/setup_peers.sh {env}`")
