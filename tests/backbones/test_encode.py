"""encode: batching, the on-disk feature cache and its invalidation, devices and AMP."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from torch import nn

from transferkit import Domain
from transferkit.backbones import ModuleBackbone, as_backbone, encode, feature_cache_path


@pytest.fixture
def shop() -> Domain:
    rng = np.random.default_rng(0)
    return Domain.from_arrays(rng.normal(size=(10, 3)), rng.integers(0, 2, 10), name="us")


def _backbone(seed: int = 0) -> ModuleBackbone:
    torch.manual_seed(seed)
    return ModuleBackbone(nn.Sequential(nn.Linear(3, 4), nn.Tanh()))


def test_features_match_the_module_and_keep_labels(shop):
    backbone = _backbone()
    encoded = encode(shop, backbone, batch_size=3)
    with torch.no_grad():
        expected = backbone.module(torch.as_tensor(shop.X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(encoded.X, expected, rtol=1e-6, atol=1e-6)
    assert encoded.X.dtype == np.float32
    np.testing.assert_array_equal(encoded.y, shop.y)
    assert encoded.name == "us" and encoded.feature_names[0] == "sequential_0"
    assert backbone.n_forward_batches == 4  # ceil(10 / 3)


def test_cache_hit_runs_no_forward_pass(shop, tmp_path):
    backbone = _backbone()
    first = encode(shop, backbone, batch_size=4, cache_dir=tmp_path)
    calls = backbone.n_forward_batches
    second = encode(shop, backbone, batch_size=4, cache_dir=tmp_path)
    assert backbone.n_forward_batches == calls
    np.testing.assert_array_equal(first.X, second.X)
    files = os.listdir(tmp_path)
    assert len(files) == 1 and files[0].endswith(".npy") and not files[0].startswith(".tmp")


def test_cache_invalidates_when_data_or_weights_change(shop, tmp_path):
    backbone = _backbone()
    encode(shop, backbone, cache_dir=tmp_path)
    changed_rows = shop.with_features(shop.X + 1.0)
    before = backbone.n_forward_batches
    encode(changed_rows, backbone, cache_dir=tmp_path)
    assert backbone.n_forward_batches == before + 1
    other_weights = _backbone(seed=1)
    assert feature_cache_path(shop, other_weights, tmp_path) != feature_cache_path(
        shop, backbone, tmp_path)
    with torch.no_grad():
        backbone.module[0].bias.add_(1.0)
    encode(shop, backbone, cache_dir=tmp_path)
    assert backbone.n_forward_batches == before + 2
    assert len(os.listdir(tmp_path)) == 3


def test_amp_on_cpu_returns_float32_close_to_fp32(shop):
    backbone = _backbone()
    full = encode(shop, backbone, amp=False).X
    mixed = encode(shop, backbone, amp=True, device="cpu").X
    assert mixed.dtype == np.float32
    np.testing.assert_allclose(mixed, full, atol=0.05)


def test_modality_mismatch_and_bad_parameters(shop):
    texts = Domain.from_texts(["a", "b"], name="reviews")
    with pytest.raises(TypeError, match="reads tensor rows but Domain 'reviews' holds text"):
        encode(texts, _backbone())
    with pytest.raises(ValueError, match="'batch_size' parameter of encode must be an int >= 1"):
        encode(shop, _backbone(), batch_size=0)
    with pytest.raises(ValueError, match="'amp' parameter of encode"):
        encode(shop, _backbone(), amp="yes")


def test_as_backbone_resolves_names_modules_and_fitted_models():
    with pytest.raises(KeyError, match="Did you mean 'resnet18'"):
        as_backbone("resnet81")
    assert isinstance(as_backbone(nn.Linear(2, 2)), ModuleBackbone)

    class Fitted:
        feature_extractor_ = nn.Linear(2, 3)

    assert as_backbone(Fitted()).n_features == 3
    with pytest.raises(TypeError, match="Cannot use a int as a backbone"):
        as_backbone(3)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_amp_matches_cpu_fp32(shop, tmp_path):
    backbone = _backbone()
    cpu = encode(shop, backbone, device="cpu", amp=False).X
    gpu = encode(shop, backbone, device="cuda", amp=True, cache_dir=tmp_path).X
    np.testing.assert_allclose(gpu, cpu, atol=0.05)
    assert next(backbone.module.parameters()).device.type == "cuda"
