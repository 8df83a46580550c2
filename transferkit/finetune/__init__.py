"""Fine-tuning: adapt a pretrained backbone to a market, freezing what should not change.

``FineTuner(backbone, strategy).fit(domain)`` trains a new head (and, depending on the
strategy, some backbone blocks) on the shared ``transferkit.training.Trainer``:

* ``LinearProbe`` — backbone frozen; features computed once and cached.
* ``PartialUnfreeze(layers=...)`` — only the named blocks train, each with its own LR.
* ``GradualUnfreeze`` — ULMFiT: one more block per stage, discriminative LRs.
* ``LPFT`` — linear probe, then fine-tune everything from the probed head.
* ``L2SP`` — fine-tune with a penalty toward the pretrained weights.

BatchNorm layers of frozen blocks always keep their running statistics (eval mode), and
``bn="frozen"`` keeps all of them fixed. ``parameter_report_`` says what trained. For
markets whose label sets differ, ``CategoryRelationship`` (Co-Tuning, via
``FineTuner(source_head=...)``) and ``match_categories`` (names matched across languages
with the multilingual encoder, in an editable review table) relate the categories.

Examples
--------
>>> from transferkit.backbones import TorchvisionBackbone
>>> backbone = TorchvisionBackbone("resnet18", weights="random", image_size=32)
>>> resolve_layers(backbone, ["layer4", "fc2"])
Traceback (most recent call last):
...
ValueError: Backbone 'resnet18' has no layer 'fc2'. Did you mean 'fc'? Its layers are ...
"""

from __future__ import annotations

from transferkit.finetune.finetuner import FineTuner
from transferkit.finetune.model import TransferModel, batchnorm_layers
from transferkit.finetune.relation import CategoryMatch, CategoryRelationship, match_categories
from transferkit.finetune.report import LayerParameters, ParameterReport, parameter_report
from transferkit.finetune.strategies import (
    L2SP,
    LPFT,
    GradualUnfreeze,
    LinearProbe,
    PartialUnfreeze,
    Strategy,
    resolve_layers,
)

__all__ = [
    "L2SP",
    "LPFT",
    "CategoryMatch",
    "CategoryRelationship",
    "FineTuner",
    "GradualUnfreeze",
    "LayerParameters",
    "LinearProbe",
    "ParameterReport",
    "PartialUnfreeze",
    "Strategy",
    "TransferModel",
    "batchnorm_layers",
    "match_categories",
    "parameter_report",
    "resolve_layers",
]
