"""Backbones: pretrained feature extractors for images, texts and tensors, and ``encode``.

One registry, ``BACKBONES``, holds every backbone by name: torchvision models with local
weights (``resnet18``, ``efficientnet_b0``, ``vit_b_16``, ... or ``torchvision`` with any
architecture), the pip-shipped ImageNet ``efficientnet_lite0``, Hugging Face text encoders
from a local folder (``hf_text``), the pip-shipped English ``minilm`` and the multilingual
numpy ``use_multilingual``, and any user ``nn.Module`` (``module``). ``encode`` turns a
text or image Domain into a numeric feature Domain, batched and cached on disk, so a
frozen backbone runs once.

Examples
--------
>>> sorted(BACKBONES)[:4]
['convnext_tiny', 'efficientnet_b0', 'efficientnet_b1', 'efficientnet_lite0']
>>> from transferkit import Domain
>>> reviews = Domain.from_texts(["Great kettle", "素晴らしい"], [1, 1], name="shops")
>>> encode(reviews, "use_multilingual").X.shape
(2, 512)
"""

from __future__ import annotations

from transferkit.backbones._base import (
    BACKBONES,
    Backbone,
    Modality,
    TorchBackbone,
    module_fingerprint,
)
from transferkit.backbones.encode import encode, feature_cache_path
from transferkit.backbones.module import ModuleBackbone, as_backbone
from transferkit.backbones.text import HFTextBackbone, MiniLMBackbone, MultilingualUSEBackbone
from transferkit.backbones.vision import (
    EfficientNetLite0Backbone,
    ImageBackbone,
    TorchvisionBackbone,
    efficientnet_lite0_imagenet,
    load_image,
    load_state_dict,
)

__all__ = [
    "BACKBONES",
    "Backbone",
    "EfficientNetLite0Backbone",
    "HFTextBackbone",
    "ImageBackbone",
    "MiniLMBackbone",
    "Modality",
    "ModuleBackbone",
    "MultilingualUSEBackbone",
    "TorchBackbone",
    "TorchvisionBackbone",
    "as_backbone",
    "efficientnet_lite0_imagenet",
    "encode",
    "feature_cache_path",
    "load_image",
    "load_state_dict",
    "module_fingerprint",
]
