"""What a split file holds and how every library's predictions are scored.

Imported by the worker in every environment (peers' included), so it needs numpy only.
A split file is an ``.npz`` without pickled objects: float features, integer (or float,
for regression) labels, and a boolean mask of the target rows whose label a method may
use. Scoring is on the other target rows.

Examples
--------
>>> import numpy as np, tempfile, os
>>> split = Split("classification", np.zeros((4, 2)), np.array([0, 1, 0, 1]),
...               np.ones((3, 2)), np.array([1, 0, 1]), np.array([True, False, False]))
>>> path = os.path.join(tempfile.mkdtemp(), "s.npz")
>>> save_split(path, split)
>>> loaded = load_split(path)
>>> loaded.y_target_train.tolist(), loaded.n_classes
([1, -1, -1], 2)
>>> score(loaded, np.array([1, 1, 1]))  # rows 1 and 2 are scored
('accuracy', 0.5)
>>> decode_losses(encode_losses(row_losses(loaded, np.array([1, 1, 1])))).tolist()
[1.0, 0.0]
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

import numpy as np

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class Split:
    """One (pair, seed): source rows, target rows, and which target labels are visible.

    Classification labels are integers ``0 .. n_classes - 1``; ``labeled`` marks the
    target rows a few-label method may learn from (all ``False`` for label-free
    adaptation, where every target row is scored).
    """

    task: str
    X_source: np.ndarray
    y_source: np.ndarray
    X_target: np.ndarray
    y_target: np.ndarray
    labeled: np.ndarray

    @property
    def n_classes(self) -> int:
        return int(max(self.y_source.max(), self.y_target.max()) + 1)

    @property
    def y_target_train(self) -> np.ndarray:
        """Target labels a method may see: -1 (classification) or NaN where hidden."""
        hidden = -1 if self.task == "classification" else np.nan
        y = self.y_target.astype(float if self.task == "regression" else np.int64)
        return np.where(self.labeled, y, hidden)

    @property
    def test(self) -> np.ndarray:
        """Target rows that are scored: those whose label no method saw."""
        return ~self.labeled


def save_split(path: str, split: Split) -> None:
    """Write ``split`` atomically (a temporary file renamed into place)."""
    if split.task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {split.task!r}")
    temporary = f"{path}.{os.getpid()}.tmp.npz"
    np.savez(temporary, task=np.array(split.task),
             X_source=split.X_source.astype(np.float32), y_source=split.y_source,
             X_target=split.X_target.astype(np.float32), y_target=split.y_target,
             labeled=split.labeled.astype(bool))
    os.replace(temporary, path)


def load_split(path: str) -> Split:
    """Read a split written by ``save_split`` (no pickle is ever loaded)."""
    with np.load(path, allow_pickle=False) as data:
        return Split(str(data["task"]), data["X_source"], data["y_source"], data["X_target"],
                     data["y_target"], data["labeled"])


def row_losses(split: Split, predictions: np.ndarray) -> np.ndarray:
    """Per test row: 0/1 error (classification) or squared error (regression)."""
    predictions = np.asarray(predictions).ravel()[split.test]
    truth = split.y_target[split.test]
    if split.task == "classification":
        return (predictions.astype(np.int64) != truth).astype(np.float32)
    return ((predictions.astype(float) - truth) ** 2).astype(np.float32)


def encode_losses(losses: np.ndarray) -> str:
    """``losses`` as base64 text (float32), small enough for a JSON row."""
    return base64.b64encode(np.asarray(losses, np.float32).tobytes()).decode("ascii")


def decode_losses(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.float32)


def score(split: Split, predictions: np.ndarray) -> tuple[str, float]:
    """Accuracy (classification) or RMSE (regression) on the split's test rows."""
    predictions = np.asarray(predictions).ravel()
    if predictions.shape[0] != split.X_target.shape[0]:
        raise ValueError(f"expected one prediction per target row ({split.X_target.shape[0]}),"
                         f" got {predictions.shape[0]}")
    truth, guess = split.y_target[split.test], predictions[split.test]
    if split.task == "classification":
        return "accuracy", float(np.mean(guess.astype(np.int64) == truth))
    if not np.all(np.isfinite(guess)):
        raise ValueError("regression predictions contain NaN or infinity")
    return "rmse", float(np.sqrt(np.mean((guess.astype(float) - truth) ** 2)))
