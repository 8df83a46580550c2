"""Image backbones: torchvision with local weights, EfficientNet-Lite0 from its pip package."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import shared_path
from PIL import Image
from safetensors.torch import save_file

from transferkit import Domain
from transferkit.backbones import (
    BACKBONES,
    ImageBackbone,
    TorchvisionBackbone,
    efficientnet_lite0_imagenet,
    encode,
    load_state_dict,
    module_fingerprint,
)


def _images(folder, n=4, size=(40, 30)):
    paths = []
    for i in range(n):
        colour = (255 * (i % 2), 80, 255 * ((i + 1) % 2))
        path = folder / f"img_{i}.png"
        Image.new("RGB", size, colour).save(path)
        paths.append(path)
    return paths


def test_weights_are_required_and_never_downloaded():
    with pytest.raises(ValueError, match="needs weights=<path to a local .pth"):
        TorchvisionBackbone("resnet18")
    with pytest.raises(KeyError, match="Unknown torchvision architecture 'resnet81'"):
        TorchvisionBackbone("resnet81", weights="random")
    with pytest.raises(FileNotFoundError, match="never downloads"):
        TorchvisionBackbone("resnet18", weights="/nowhere/resnet18.pth")


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_weights_load_from_a_local_file_with_any_head(tmp_path, suffix):
    import torchvision

    torch.manual_seed(0)
    trained = torchvision.models.resnet18(num_classes=7)  # a head of another size
    path = tmp_path / f"resnet18{suffix}"
    if suffix == ".pth":
        torch.save({"state_dict": trained.state_dict()}, path)
    else:
        save_file({k: v.contiguous() for k, v in trained.state_dict().items()}, str(path))
    backbone = TorchvisionBackbone("resnet18", weights=path, image_size=32)
    trained.fc = torch.nn.Identity()
    assert module_fingerprint(backbone.module) == module_fingerprint(trained)
    assert set(load_state_dict(path)) >= {"fc.weight", "layer4.1.bn2.running_var"}


def test_weights_for_another_architecture_are_rejected(tmp_path):
    import torchvision

    path = tmp_path / "resnet34.pth"
    torch.save(torchvision.models.resnet34().state_dict(), path)
    with pytest.raises(ValueError, match="does not fit torchvision 'resnet18'"):
        TorchvisionBackbone("resnet18", weights=path)


def test_encode_image_files_and_name_unreadable_ones(tmp_path):
    paths = _images(tmp_path)
    shop = Domain.from_images(paths, [0, 1, 0, 1], name="catalogue")
    backbone = BACKBONES.get("resnet18")(weights="random", image_size=32)
    features = encode(shop, backbone, batch_size=3)
    assert features.X.shape == (4, 512) and backbone.n_forward_batches == 2
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg at all")
    bad = Domain.from_images([*paths, broken], name="catalogue")
    with pytest.raises(ValueError, match="broken.jpg' could not be read"):
        encode(bad, backbone)


def test_efficientnet_lite0_recognises_real_office_photos():
    """The pip-shipped weights, mapped onto timm's module, give plausible ImageNet classes."""
    from torchvision.models import ResNet18_Weights

    root = shared_path("office_caltech10_images", "amazon")
    categories = ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
    expected = {"keyboard": {"computer keyboard", "space bar", "typewriter keyboard"},
                "laptop": {"notebook", "laptop", "desktop computer"},
                "backpack": {"backpack"}}
    model = efficientnet_lite0_imagenet().eval()
    prepare = ImageBackbone("efficientnet_lite0_imagenet", model)
    hits = 0
    for folder, names in expected.items():
        files = sorted((root / folder).glob("*.jpg"))[:2]
        with torch.no_grad():
            top5 = model(prepare.preprocess(files)).topk(5, dim=1).indices
        hits += sum(bool(names & {categories[i] for i in row.tolist()}) for row in top5)
    assert hits >= 5, f"only {hits} of 6 photos got a plausible ImageNet class in the top 5"


def test_efficientnet_lite0_backbone_layers_and_width():
    backbone = BACKBONES.get("efficientnet_lite0")(image_size=64)
    assert backbone.n_features == 1280
    assert backbone.layer_names()[:3] == ["conv_stem", "bn1", "blocks.0"]
    assert backbone.layer_names()[-2:] == ["conv_head", "bn2"]
    assert np.isfinite(backbone.forward(torch.zeros(2, 3, 64, 64)).detach().numpy()).all()
