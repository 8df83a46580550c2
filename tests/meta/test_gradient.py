"""MAML's meta-gradient against finite differences and its first-order decomposition;
the vmap path against the loop; each gradient learner learns something on real tasks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.func import functional_call

from transferkit.meta import ANIL, FOMAML, MAML, MetaSGD, PooledModel, Reptile, TaskSampler
from transferkit.meta._base import EncodedEpisode
from transferkit.meta._nets import episode_loss
from transferkit.training import TrainConfig

from ._data import FAST, class_markets, offset_users, sine_tasks


def _tiny(learner, seed: int = 0):
    """A float64 tiny network and one encoded sine episode for exact gradient checks."""
    tasks = TaskSampler(sine_tasks(3), k_shot=5, n_query=5)
    learner._learn_layout(tasks)
    torch.manual_seed(seed)
    module = learner._build_module().double()
    raw = learner.encode(tasks.episode(seed))
    episode = EncodedEpisode(raw.X_support.double(), raw.y_support.double(),
                             raw.X_query.double(), raw.y_query.double(), None, 0)
    return module, episode


def _meta_grad(learner, module, episode) -> torch.Tensor:
    module.zero_grad()
    loss, _ = learner._episode_objective(module, episode)
    loss.backward()
    return torch.cat([p.grad.flatten() for p in module.parameters()])


def test_maml_meta_gradient_matches_finite_differences() -> None:
    learner = MAML(hidden=(3,), inner_lr=0.1, inner_steps=2)
    module, episode = _tiny(learner)
    analytic = _meta_grad(learner, module, episode)
    numeric = []
    with torch.no_grad():
        for p in module.parameters():
            for i in range(p.numel()):
                old = p.view(-1)[i].item()
                values = []
                for shift in (1e-6, -1e-6):
                    p.view(-1)[i] = old + shift
                    values.append(learner._episode_objective(module, episode)[0].item())
                p.view(-1)[i] = old
                numeric.append((values[0] - values[1]) / 2e-6)
    assert torch.allclose(analytic, torch.tensor(numeric, dtype=torch.float64),
                          atol=1e-7, rtol=1e-5)
    assert analytic.abs().max() > 1e-3


def test_first_order_equals_dropping_the_second_order_term() -> None:
    alpha = 0.1
    maml, fomaml = MAML(hidden=(3,), inner_lr=alpha), FOMAML(hidden=(3,), inner_lr=alpha)
    module, episode = _tiny(maml, seed=1)
    fomaml._learn_layout(TaskSampler(sine_tasks(3), k_shot=5, n_query=5))
    second, first = _meta_grad(maml, module, episode), _meta_grad(fomaml, module, episode)
    names = [n for n, _ in module.named_parameters()]
    theta = torch.cat([p.detach().flatten() for p in module.parameters()])

    def unflatten(flat):
        out, start = {}, 0
        for name, p in module.named_parameters():
            out[name] = flat[start:start + p.numel()].view_as(p)
            start += p.numel()
        return out

    def support_loss(flat):
        return episode_loss(module, unflatten(flat), episode.X_support, episode.y_support, None)

    def query_loss(flat):
        return episode_loss(module, unflatten(flat), episode.X_query, episode.y_query, None)

    phi = theta - alpha * torch.autograd.functional.jacobian(support_loss, theta)
    query_grad = torch.autograd.functional.jacobian(query_loss, phi)
    hessian = torch.autograd.functional.hessian(support_loss, theta)
    assert torch.allclose(first, query_grad, atol=1e-10)
    # MAML's meta-gradient is (I - alpha H) g: first order plus the second-order term.
    assert torch.allclose(second, first - alpha * hessian @ query_grad, atol=1e-10)
    assert (second - first).abs().max() > 1e-6 and len(names) == 4


def test_vmap_path_gives_the_loop_gradient() -> None:
    tasks = TaskSampler(offset_users(6), k_shot=4, n_query=6)
    grads = []
    for batched in (False, True):
        learner = MAML(hidden=(8,), inner_lr=0.1, inner_steps=2, batched=batched)
        learner._learn_layout(tasks)
        torch.manual_seed(0)
        module = learner._build_module()
        episodes = [learner.encode(e) for e in tasks.episodes(4)]
        loss, _ = learner._batch_objective(module, episodes)
        loss.backward()
        grads.append(torch.cat([p.grad.flatten() for p in module.parameters()]))
    assert torch.allclose(grads[0], grads[1], atol=1e-5)


def test_short_sine_maml_adapts_where_pooled_cannot() -> None:
    train = TaskSampler(sine_tasks(400, n_rows=20), k_shot=10, n_query=10)
    test = TaskSampler(sine_tasks(30, n_rows=20, seed=1), k_shot=10, n_query=10)
    config = TrainConfig(epochs=1, batch_size=10, lr=1e-2, optimizer="adam", progress=False)
    maml = MAML(hidden=(32, 32), inner_lr=0.1, batched=True, episodes_per_epoch=4000,
                config=config).meta_fit(train)
    pooled = PooledModel(hidden=(32, 32), episodes_per_epoch=1000, config=config).meta_fit(train)

    def mse(learner, steps=None):
        return float((learner.evaluate(test, steps=steps).scores["rmse"] ** 2).mean())

    before, one, ten = mse(maml, 0), mse(maml, 1), mse(maml, 10)
    assert one < 0.6 * before and ten < one
    assert one < 0.6 * mse(pooled)


@pytest.mark.parametrize("cls", [MAML, FOMAML, ANIL, Reptile, MetaSGD])
def test_gradient_learners_beat_no_adaptation_on_offset_users(cls) -> None:
    users = offset_users(16)
    train, _, test = TaskSampler(users, k_shot=10, n_query=10).split(2, 4)
    kwargs = {} if cls is Reptile else {"inner_lr": 0.1, "inner_steps": 2}
    learner = cls(hidden=(16,), episodes_per_epoch=40, config=FAST, **kwargs).meta_fit(train)
    adapted = learner.evaluate(test).mean("mae")
    unadapted = learner.evaluate(test, steps=0).mean("mae")
    assert adapted < unadapted
    assert len(learner.history_) == FAST.epochs and "query_loss" in learner.history_[0]


def test_meta_sgd_learns_its_step_sizes() -> None:
    train = TaskSampler(offset_users(12), k_shot=5, n_query=10)
    learner = MetaSGD(hidden=(8,), inner_lr=0.05, episodes_per_epoch=40, config=FAST)
    learner.meta_fit(train)
    rates = torch.cat([r.detach().flatten() for r in learner.module_.rates.values()])
    assert not torch.allclose(rates, torch.full_like(rates, 0.05))


def test_maml_n_way_classification_beats_chance() -> None:
    tasks = TaskSampler(class_markets(10), n_way=(2, 3), k_shot=3, n_query=5)
    train, _, test = tasks.split(2, 3)
    maml = MAML(hidden=(32,), inner_lr=0.5, inner_steps=3, episodes_per_epoch=60,
                config=FAST).meta_fit(train)
    result = maml.evaluate(test, repeats=3)
    assert result.mean("accuracy") > 0.6
    model = maml.adapt(test.episode(0))
    assert model.predict_proba(test.episode(0).X_query).shape[1] == test.episode(0).n_way


def test_checkpoints_and_resume_through_the_shared_trainer(tmp_path) -> None:
    train = TaskSampler(offset_users(8), k_shot=5, n_query=5)
    config = TrainConfig(epochs=2, batch_size=4, lr=1e-2, optimizer="adam", progress=False,
                         checkpoint_dir=str(tmp_path))
    full = MAML(hidden=(8,), episodes_per_epoch=16, config=config).meta_fit(train)
    resumed = MAML(hidden=(8,), episodes_per_epoch=16,
                   config=TrainConfig(**{**config.to_dict(), "resume": True})).meta_fit(train)
    for (_, a), (_, b) in zip(full.module_.state_dict().items(),
                              resumed.module_.state_dict().items(), strict=True):
        assert torch.equal(a, b)
    assert any(tmp_path.rglob("*.safetensors"))


def test_adapt_checks_its_input() -> None:
    train = TaskSampler(offset_users(6), k_shot=5, n_query=5)
    learner = MAML(hidden=(8,), episodes_per_epoch=8, config=FAST)
    with pytest.raises(Exception, match="not meta-trained"):
        learner.adapt((np.zeros((3, 3)), np.zeros(3)))
    learner.meta_fit(train)
    with pytest.raises(ValueError, match="meta-trained on 3"):
        learner.adapt((np.zeros((3, 4)), np.zeros(3)))
    with pytest.raises(ValueError, match="'steps' parameter"):
        learner.adapt((np.zeros((3, 3)), np.zeros(3)), steps=-1)
    assert np.asarray(functional_call(learner.module_, dict(learner.module_.named_parameters()),
                                      (torch.zeros(1, 3),)).detach()).shape == (1, 1)


def test_meta_validation_drives_early_stopping() -> None:
    train, val, _ = TaskSampler(offset_users(16), k_shot=5, n_query=10).split(4, 2)
    config = TrainConfig(epochs=30, batch_size=4, lr=5e-2, optimizer="adam", progress=False,
                         patience=2, monitor="val_loss")
    learner = MAML(hidden=(8,), inner_lr=0.1, episodes_per_epoch=8, config=config)
    learner.meta_fit(train, validation=val)
    assert all("val_loss" in row for row in learner.history_)
    assert len(learner.history_) < 30
