"""Alignment losses against direct formulas, gradient reversal, identical-domain zeros."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from transferkit.align import (
    CDANLoss,
    CORALLoss,
    DANNLoss,
    DomainDiscriminator,
    GradientReversal,
    MMDLoss,
    RandomizedMultilinearMap,
    dann_lambda,
    gradient_reversal,
)


@pytest.mark.parametrize("coeff", [0.0, 0.3, 1.0, 2.5])
def test_gradient_reversal_flips_and_scales_the_gradient(coeff):
    x = torch.randn(4, 3, requires_grad=True)
    weights = torch.randn(4, 3)
    out = GradientReversal(coeff)(x)
    assert torch.equal(out, x)  # identity forward
    (out * weights).sum().backward()
    assert torch.allclose(x.grad, -coeff * weights)


def test_gradient_reversal_reaches_the_extractor_but_not_the_discriminator():
    features = torch.nn.Linear(2, 2)
    head = torch.nn.Linear(2, 1)
    x = torch.randn(5, 2)
    head(gradient_reversal(features(x), 1.0)).sum().backward()
    reversed_grad, head_grad = features.weight.grad.clone(), head.weight.grad.clone()
    features.zero_grad()
    head.zero_grad()
    head(features(x)).sum().backward()
    assert torch.allclose(reversed_grad, -features.weight.grad)
    assert torch.allclose(head_grad, head.weight.grad)


def test_dann_lambda_schedule():
    assert dann_lambda(0.0) == 0.0
    assert dann_lambda(0.5) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert dann_lambda(1.0, gamma=10) == pytest.approx(0.99990920)


def _coral_numpy(source, target):
    d = source.shape[1]
    difference = np.cov(source, rowvar=False) - np.cov(target, rowvar=False)
    return float((difference ** 2).sum() / (4 * d * d))


def test_coral_matches_the_formula():
    rng = np.random.default_rng(0)
    source, target = rng.normal(size=(30, 5)), rng.normal(size=(20, 5)) * 2 + 1
    value = CORALLoss()(torch.tensor(source), torch.tensor(target))
    assert float(value) == pytest.approx(_coral_numpy(source, target), rel=1e-5)


def _mmd_numpy(source, target, n_kernels=5, kernel_mul=2.0):
    pooled = np.concatenate([source, target])
    distances = ((pooled[:, None, :] - pooled[None, :, :]) ** 2).sum(-1)
    n = len(pooled)
    base = distances.sum() / (n * n - n)
    kernel = sum(np.exp(-distances / (base * kernel_mul ** (k - n_kernels // 2)))
                 for k in range(n_kernels))
    m = len(source)
    return kernel[:m, :m].mean() + kernel[m:, m:].mean() - 2 * kernel[:m, m:].mean()


@pytest.mark.parametrize("n_kernels, kernel_mul", [(5, 2.0), (1, 2.0), (3, 1.5)])
def test_mmd_matches_the_formula(n_kernels, kernel_mul):
    rng = np.random.default_rng(1)
    source, target = rng.normal(size=(12, 4)), rng.normal(0.7, 1.0, size=(9, 4))
    value = MMDLoss(n_kernels, kernel_mul)(torch.tensor(source), torch.tensor(target))
    assert float(value) == pytest.approx(_mmd_numpy(source, target, n_kernels, kernel_mul),
                                         rel=1e-5)


def test_mmd_grows_with_the_shift_and_has_finite_gradients():
    rng = np.random.default_rng(2)
    source = torch.tensor(rng.normal(size=(40, 3)))
    values = [float(MMDLoss()(source, source + shift)) for shift in (0.0, 0.5, 2.0)]
    assert values[0] == pytest.approx(0.0, abs=1e-6) and values[0] < values[1] < values[2]
    features = source.clone().requires_grad_(True)
    MMDLoss()(features, features.detach() + 1.0).backward()
    assert torch.isfinite(features.grad).all()


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(1, 5)),
              elements=st.floats(-10, 10)))
def test_identical_domains_give_zero_loss(X):
    tensor = torch.tensor(X)
    assert float(CORALLoss()(tensor, tensor)) == pytest.approx(0.0, abs=1e-9)
    assert float(MMDLoss()(tensor, tensor)) == pytest.approx(0.0, abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, (8, 3), elements=st.floats(-5, 5)),
       arrays(np.float64, (6, 3), elements=st.floats(-5, 5)))
def test_losses_are_non_negative_and_symmetric(A, B):
    a, b = torch.tensor(A), torch.tensor(B)
    for loss in (CORALLoss(), MMDLoss()):
        forward, backward = float(loss(a, b)), float(loss(b, a))
        # The MMD is a difference of kernel means near 1, computed in float32: its
        # cancellation error is about 1e-6 whatever the size of the loss.
        assert forward >= 0 and forward == pytest.approx(backward, rel=1e-4, abs=1e-5)


def test_dann_loss_is_the_discriminator_cross_entropy():
    torch.manual_seed(0)
    discriminator = DomainDiscriminator(3, hidden_sizes=(4,), dropout=0.0)
    source, target = torch.randn(5, 3), torch.randn(7, 3)
    value = DANNLoss(discriminator)(source, target, coeff=0.7)
    logits = discriminator(torch.cat([source, target]))
    labels = torch.cat([torch.ones(5), torch.zeros(7)])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    assert float(value) == pytest.approx(float(expected))


def test_cdan_conditions_on_the_outer_product_of_features_and_predictions():
    torch.manual_seed(0)
    seen = []

    class Spy(torch.nn.Module):
        def forward(self, x):
            seen.append(x.detach())
            return x.sum(1)

    features, logits = torch.randn(6, 3), torch.randn(6, 2)
    CDANLoss(Spy(), 3, 2)(features[:4], features[4:], logits[:4], logits[4:])
    probabilities = torch.softmax(logits, 1)
    expected = (probabilities[:, :, None] * features[:, None, :]).flatten(1)
    assert torch.allclose(seen[0], expected)
    assert CDANLoss.input_dim(3, 2) == 6
    assert CDANLoss.input_dim(512, 31) == 1024  # 15872 > 4096: randomized


def test_randomized_map_approximates_inner_products_of_the_outer_product():
    torch.manual_seed(0)
    rmap = RandomizedMultilinearMap(8, 4, output_dim=4096)
    f, g = torch.randn(2, 8), torch.softmax(torch.randn(2, 4), 1)
    exact = (torch.einsum("i,j->ij", g[0], f[0]) * torch.einsum("i,j->ij", g[1], f[1])).sum()
    mapped = rmap(f, g)
    assert float((mapped[0] * mapped[1]).sum()) == pytest.approx(float(exact), abs=0.35)


def test_entropy_conditioning_weights_confident_rows_more():
    torch.manual_seed(0)
    discriminator = torch.nn.Linear(6, 1)
    features = torch.randn(4, 3)
    confident = torch.tensor([[9.0, -9.0], [0.0, 0.0], [9.0, -9.0], [0.0, 0.0]])
    plain = CDANLoss(lambda x: discriminator(x).squeeze(-1), 3, 2)
    weighted = CDANLoss(lambda x: discriminator(x).squeeze(-1), 3, 2,
                        entropy_conditioning=True)
    assert float(plain(features[:2], features[2:], confident[:2], confident[2:])) != float(
        weighted(features[:2], features[2:], confident[:2], confident[2:]))


def test_bad_feature_shapes_and_tiny_batches():
    with pytest.raises(ValueError, match="5 columns but target features have 4"):
        CORALLoss()(torch.randn(3, 5), torch.randn(3, 4))
    with pytest.raises(ValueError, match="at least 2 rows per market"):
        CORALLoss()(torch.randn(1, 5), torch.randn(3, 5))
    with pytest.raises(ValueError, match="2-D features"):
        MMDLoss()(torch.randn(3, 5, 2), torch.randn(3, 5, 2))
