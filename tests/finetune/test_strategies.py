"""Strategies on real torch modules: what trains, what stays bit-identical, BN, schedules."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from transferkit import Domain
from transferkit.backbones import ModuleBackbone, MultilingualUSEBackbone, TorchvisionBackbone
from transferkit.finetune import (
    L2SP,
    LPFT,
    FineTuner,
    GradualUnfreeze,
    LinearProbe,
    PartialUnfreeze,
    TransferModel,
    batchnorm_layers,
)
from transferkit.training import TrainConfig


def _config(**changes) -> TrainConfig:
    return TrainConfig(**{"epochs": 2, "batch_size": 4, "lr": 1e-2, "progress": False,
                          **changes})


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Domain:
    """Eight tiny photos of two colours: enough to train a ResNet-18 for a step or two."""
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    paths, labels = [], []
    for i in range(8):
        label = i % 2
        pixels = rng.integers(0, 80, size=(36, 36, 3), dtype=np.uint8)
        pixels[..., 0 if label else 2] += 150
        path = folder / f"photo_{i}.png"
        Image.fromarray(pixels).save(path)
        paths.append(path)
        labels.append(["mug", "keyboard"][label])
    return Domain.from_images(paths, labels, name="webcam")


@pytest.fixture
def resnet() -> TorchvisionBackbone:
    torch.manual_seed(0)
    return TorchvisionBackbone("resnet18", weights="random", image_size=32)


@pytest.fixture
def tabular() -> Domain:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(48, 4))
    return Domain.from_arrays(X, (X[:, 0] + X[:, 1] > 0).astype(int), name="jp")


def _mlp() -> ModuleBackbone:
    torch.manual_seed(0)
    return ModuleBackbone(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU()))


def test_partial_unfreeze_trains_only_the_named_block(photos, resnet):
    before = {k: v.clone() for k, v in resnet.module.state_dict().items()}
    tuner = FineTuner(resnet, PartialUnfreeze(["layer4"], lr_mult=0.5),
                      config=_config(weight_decay=0.1)).fit(photos)
    after = tuner.backbone_.module.state_dict()
    for name, value in before.items():
        if name.startswith("layer4.") and "running" not in name and "num_batches" not in name:
            continue
        assert torch.equal(value, after[name]), f"frozen tensor {name} changed"
    trained = [n for n in before if n.startswith("layer4.") and n.endswith("conv1.weight")]
    assert not torch.equal(before[trained[0]], after[trained[0]])
    report = tuner.parameter_report_
    layer4 = sum(p.numel() for p in resnet.module.layer4.parameters())
    assert report.trainable == layer4 + 512 * 2 + 2
    assert report.unfrozen == ("backbone.layer4", "head")
    assert report.to_frame().loc["backbone.layer4", "lr_mult"] == 0.5
    # The caller's backbone is untouched: the tuner works on a copy.
    assert torch.equal(resnet.module.layer4[0].conv1.weight, before["layer4.0.conv1.weight"])


def test_gradients_reach_only_unfrozen_parameters(photos, resnet):
    model = TransferModel(resnet, nn.Linear(512, 2))
    PartialUnfreeze(["layer4"]).setup(model, resnet)
    images = resnet.preprocess(photos.image_paths[:2])
    nn.functional.cross_entropy(model(images), torch.tensor([0, 1])).backward()
    with_grad = {n for n, p in model.named_parameters() if p.grad is not None}
    assert with_grad and all(n.startswith(("backbone.layer4.", "head.")) for n in with_grad)


@pytest.mark.parametrize("bn", ["frozen", "train"])
def test_batchnorm_of_frozen_blocks_stays_in_eval_mode(resnet, bn):
    model = TransferModel(resnet, nn.Linear(512, 2))
    PartialUnfreeze(["layer4"], bn=bn).setup(model, resnet)
    model.train()
    modes = {name: layer.training for name, layer in batchnorm_layers(model.backbone)}
    assert not any(mode for name, mode in modes.items() if not name.startswith("layer4"))
    assert any(modes[n] for n in modes if n.startswith("layer4")) == (bn == "train")
    model.eval()
    assert not any(layer.training for _, layer in batchnorm_layers(model.backbone))


def test_linear_probe_runs_the_backbone_once_then_reads_the_cache(photos, resnet, tmp_path):
    config = _config(epochs=3)
    tuner = FineTuner(resnet, LinearProbe(), config=config, cache_dir=tmp_path).fit(photos)
    assert tuner.backbone_.n_forward_batches == 2  # 8 photos / batch 4, once: not per epoch
    assert len(tuner.trainer_.history_) == 3
    again = FineTuner(resnet, LinearProbe(), config=config, cache_dir=tmp_path).fit(photos)
    assert again.backbone_.n_forward_batches == 0
    assert tuner.parameter_report_.trainable == 512 * 2 + 2
    assert tuner.parameter_report_.frozen == sum(p.numel() for p in resnet.module.parameters())
    proba = again.predict_proba(photos)
    assert proba.shape == (8, 2) and np.allclose(proba.sum(1), 1.0, atol=1e-5)
    assert set(again.predict(photos)) <= {"mug", "keyboard"}


def test_gradual_unfreeze_follows_the_ulmfit_schedule(tabular):
    strategy = GradualUnfreeze(["0", "2"], decay=2.0)
    tuner = FineTuner(_mlp(), strategy, config=_config(epochs=3)).fit(tabular)
    assert not hasattr(strategy, "schedule_")  # the caller's strategy is not modified
    assert tuner.strategy_.schedule_ == [(0, []), (1, ["2"]), (2, ["2", "0"])]
    frame = tuner.parameter_report_.to_frame()
    assert frame.loc["backbone.2", "lr_mult"] == 0.5
    assert frame.loc["backbone.0", "lr_mult"] == 0.25
    assert "epoch 1: 2" in tuner.parameter_report_.to_text()


def test_l2sp_penalty_is_zero_at_the_start_and_holds_weights_back(tabular):
    backbone = _mlp()
    model = TransferModel(backbone, nn.Linear(8, 2))
    strategy = L2SP(alpha=1.0, beta=0.0)
    strategy.setup(model, backbone)
    assert float(strategy.penalty(model).detach()) == 0.0
    start = backbone.module[0].weight.detach().clone()
    drift = {}
    for alpha in (0.0, 10.0):
        tuner = FineTuner(backbone, L2SP(alpha=alpha, beta=0.0, lr_mult=1.0),
                          config=_config(epochs=4, lr=0.05)).fit(tabular)
        drift[alpha] = float((tuner.backbone_.module[0].weight.detach() - start).norm())
    assert drift[10.0] < drift[0.0]


def test_lpft_probes_on_cached_features_then_fine_tunes(tabular, tmp_path):
    tuner = FineTuner(_mlp(), LPFT(probe_epochs=3), config=_config(), cache_dir=tmp_path)
    tuner.fit(tabular)
    assert len(tuner.probe_trainer_.history_) == 3 and len(tuner.trainer_.history_) == 2
    assert tuner.parameter_report_.frozen == 0
    assert tuner.score(tabular) > 0.6


def test_validation_is_logged(tabular):
    train, valid = tabular.split(0.25, seed=0)
    tuner = FineTuner(_mlp(), PartialUnfreeze(["2"]), config=_config()).fit(
        train, validation=valid)
    assert "val_accuracy" in tuner.trainer_.history_[-1]


def test_bad_input_is_explained(tabular, photos, resnet):
    with pytest.raises(ValueError, match="has no layer 'layer9'. Did you mean 'layer4'"):
        FineTuner(resnet, PartialUnfreeze(["layer9"]), config=_config()).fit(photos)
    with pytest.raises(ValueError, match="'layers' parameter of PartialUnfreeze"):
        FineTuner(resnet, PartialUnfreeze([]), config=_config()).fit(photos)
    with pytest.raises(ValueError, match="names layers \\['layer3'\\] that are not in"):
        FineTuner(resnet, PartialUnfreeze(["layer4"], lr_mult={"layer3": 0.1}),
                  config=_config()).fit(photos)
    reviews = Domain.from_texts(["good", "bad", "fine", "awful"], [1, 0, 1, 0], name="ja")
    with pytest.raises(ValueError, match="not a torch backbone"):
        FineTuner(MultilingualUSEBackbone(), PartialUnfreeze(["x"])).fit(reviews)
    with pytest.raises(TypeError, match="must be a Strategy"):
        FineTuner(_mlp(), "linear_probe").fit(tabular)
    with pytest.raises(ValueError, match="no labelled rows"):
        FineTuner(_mlp()).fit(tabular.hide_labels(0))


def test_fine_tuned_model_is_a_backbone_for_the_next_market(tabular):
    source_model = FineTuner(_mlp(), PartialUnfreeze(["2"]), config=_config()).fit(tabular)
    features = source_model.transform(tabular)
    assert features.X.shape == (48, 8)
    probe = FineTuner(source_model, LinearProbe(), config=_config()).fit(tabular)
    np.testing.assert_allclose(
        probe.backbone_.module[2].weight.detach().numpy(),
        source_model.backbone_.module[2].weight.detach().numpy())


def test_frozen_lower_blocks_run_once_and_match_the_full_network(photos, resnet, tmp_path):
    config = _config(epochs=2)
    tuner = FineTuner(resnet, PartialUnfreeze(["layer4"]), config=config,
                      cache_dir=tmp_path).fit(photos)
    assert tuner.prefix_blocks_ == 7  # conv1, bn1, relu, maxpool, layer1..layer3
    assert tuner.frozen_forward_batches_ == 2  # 8 photos / batch 4, once for 2 epochs
    full = TransferModel(tuner.backbone_, tuner.model_.head).eval()
    with torch.no_grad():
        logits = full(tuner.backbone_.preprocess(photos.image_paths))
    expected = torch.softmax(logits, dim=1).numpy()
    np.testing.assert_allclose(tuner.predict_proba(photos), expected, atol=1e-5)
    plain = FineTuner(resnet, PartialUnfreeze(["layer4"]), config=config,
                      reuse_frozen_blocks=False).fit(photos)
    assert plain.prefix_blocks_ == 0
    np.testing.assert_allclose(plain.predict_proba(photos), tuner.predict_proba(photos),
                               atol=1e-4)


def test_lbfgs_linear_probe_equals_logistic_regression(tabular):
    from sklearn.linear_model import LogisticRegression

    backbone = _mlp()
    tuner = FineTuner(backbone, LinearProbe(C=0.5), config=_config()).fit(tabular)
    features = tuner.transform(tabular).X
    reference = LogisticRegression(C=0.5, max_iter=3000).fit(features, tabular.y)
    np.testing.assert_allclose(tuner.predict_proba(tabular),
                               reference.predict_proba(features), atol=1e-5)
    assert tuner.trainer_ is None
    chosen = FineTuner(backbone, LinearProbe(C="cv"), config=_config()).fit(tabular)
    assert chosen.strategy_.C_ > 0 and chosen.score(tabular) > 0.7
    with pytest.raises(ValueError, match="'C' parameter of LinearProbe"):
        FineTuner(backbone, LinearProbe(C=-1.0)).fit(tabular)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_partial_unfreeze_on_cuda_with_amp(photos, resnet, tmp_path):
    config = _config(device="cuda", amp="auto")
    tuner = FineTuner(resnet, PartialUnfreeze(["layer4"]), config=config,
                      cache_dir=tmp_path).fit(photos)
    assert tuner.trainer_.device_.type == "cuda"
    assert next(tuner.model_.parameters()).device.type == "cuda"
    proba = tuner.predict_proba(photos)
    assert proba.shape == (8, 2) and np.isfinite(proba).all()
