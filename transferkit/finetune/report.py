"""Trainable vs frozen parameter counts per layer, and which layers were unfrozen.

Examples
--------
>>> from torch import nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
>>> _ = model[0].requires_grad_(False)
>>> report = parameter_report(model)
>>> report.trainable, report.frozen, report.unfrozen
(18, 40, ('1',))
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import pandas as pd
from torch import nn

from transferkit._io import atomic_write_text

__all__ = ["LayerParameters", "ParameterReport", "parameter_report"]


@dataclass(frozen=True)
class LayerParameters:
    """Parameter counts of one layer."""

    name: str
    trainable: int
    frozen: int
    lr_mult: float | None = None


@dataclass(frozen=True)
class ParameterReport:
    """What a fine-tuning run trains.

    Attributes
    ----------
    layers : tuple of LayerParameters
        One entry per reported layer, in module order.
    schedule : tuple of (int, tuple of str)
        For gradual unfreezing: each epoch and the blocks trainable during it.
    """

    layers: tuple[LayerParameters, ...]
    schedule: tuple[tuple[int, tuple[str, ...]], ...] = field(default_factory=tuple)

    @property
    def trainable(self) -> int:
        return sum(layer.trainable for layer in self.layers)

    @property
    def frozen(self) -> int:
        return sum(layer.frozen for layer in self.layers)

    @property
    def unfrozen(self) -> tuple[str, ...]:
        """Layers with at least one trainable parameter."""
        return tuple(layer.name for layer in self.layers if layer.trainable)

    def to_frame(self) -> pd.DataFrame:
        """One row per layer: trainable, frozen, lr_mult."""
        return pd.DataFrame([asdict(layer) for layer in self.layers]).set_index("name")

    def to_text(self) -> str:
        """A short human-readable summary."""
        total = self.trainable + self.frozen
        share = self.trainable / total if total else 0.0
        lines = [f"{self.trainable:,} trainable / {self.frozen:,} frozen parameters "
                 f"({share:.2%} trainable)",
                 f"unfrozen: {', '.join(self.unfrozen) or 'none'}"]
        lines += [f"  epoch {epoch}: {', '.join(blocks) or 'head only'}"
                  for epoch, blocks in self.schedule]
        return "\n".join(lines)

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The report as JSON; written atomically to ``path`` when given."""
        text = json.dumps({
            "trainable": self.trainable, "frozen": self.frozen, "unfrozen": list(self.unfrozen),
            "layers": [asdict(layer) for layer in self.layers],
            "schedule": [[epoch, list(blocks)] for epoch, blocks in self.schedule],
        }, indent=2)
        if path is not None:
            atomic_write_text(path, text)
        return text

    def __str__(self) -> str:
        return self.to_text()


def parameter_report(
    model: nn.Module,
    *,
    layers: Sequence[str] | None = None,
    lr_mults: Mapping[str, float] | None = None,
    schedule: Sequence[tuple[int, Sequence[str]]] = (),
) -> ParameterReport:
    """Count trainable and frozen parameters of ``model`` per layer.

    Parameters
    ----------
    model : nn.Module
    layers : sequence of str, optional
        Dotted submodule names to report; default the direct children. Parameters that
        belong to none of them are reported under ``"(other)"``.
    lr_mults : mapping, optional
        Learning-rate multiplier per layer name, shown in the table.
    schedule : sequence of (epoch, layers), optional
        Gradual-unfreezing history.
    """
    names = [n for n, _ in model.named_children()] if layers is None else list(layers)
    seen: set[int] = set()
    rows = []
    for name in names:
        trainable = frozen = 0
        for param in model.get_submodule(name).parameters():
            if id(param) in seen:
                continue
            seen.add(id(param))
            if param.requires_grad:
                trainable += param.numel()
            else:
                frozen += param.numel()
        rows.append(LayerParameters(name, trainable, frozen, (lr_mults or {}).get(name)))
    rest = [p for p in model.parameters() if id(p) not in seen]
    if rest:
        rows.append(LayerParameters(
            "(other)", sum(p.numel() for p in rest if p.requires_grad),
            sum(p.numel() for p in rest if not p.requires_grad)))
    return ParameterReport(
        tuple(rows), tuple((int(e), tuple(blocks)) for e, blocks in schedule))
