"""The training loop: learning, pairing, determinism, hooks, schedules, NaN handling."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from transferkit import Domain
from transferkit.exceptions import TransferWarning
from transferkit.training import (
    Callback,
    LambdaCallback,
    NonFiniteLossError,
    StepOutput,
    TrainConfig,
    Trainer,
)


def classification_step(model, batch, context):
    X, y = batch.source[:2]
    logits = model(X)
    accuracy = (logits.argmax(1) == y).float().mean()
    return StepOutput(nn.functional.cross_entropy(logits, y), {"accuracy": accuracy})


def eval_step(model, tensors, context):
    return classification_step(model, type("B", (), {"source": tensors})(), context)


def separable(n=80, seed=0):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 2, generator=generator)
    return X, (X[:, 0] > 0).long()


def config(**changes):
    return TrainConfig(**{"epochs": 3, "batch_size": 16, "lr": 0.05, "progress": False,
                          **changes})


def test_learns_a_separable_problem():
    X, y = separable()
    trainer = Trainer(nn.Linear(2, 2), classification_step, config=config(epochs=15))
    trainer.fit((X, y))
    assert trainer.history_[-1]["accuracy"] > 0.9
    assert trainer.history_[-1]["loss"] < trainer.history_[0]["loss"]
    logits = trainer.predict(X)
    assert logits.shape == (80, 2) and (logits.argmax(1) == y).float().mean() > 0.9


def test_accepts_domains_and_datasets():
    X, y = separable()
    domain = Domain.from_arrays(X.numpy(), np.where(y.numpy() == 1, "yes", "no"))
    trainer = Trainer(nn.Linear(2, 2), classification_step, config=config()).fit(domain)
    assert trainer.global_step_ == 3 * math.ceil(80 / 16)
    dataset = torch.utils.data.TensorDataset(X, y)
    Trainer(nn.Linear(2, 2), classification_step, config=config(num_workers=0)).fit(dataset)


class Recorder(Callback):
    def __init__(self):
        self.events = []
        self.batches = []

    def on_fit_start(self, trainer):
        self.events.append("fit_start")

    def on_epoch_start(self, trainer, epoch):
        self.events.append(f"epoch_start{epoch}")

    def on_step_end(self, trainer, logs):
        self.events.append("step")

    def on_epoch_end(self, trainer, epoch, logs):
        self.events.append(f"epoch_end{epoch}")

    def on_fit_end(self, trainer):
        self.events.append("fit_end")


def test_paired_batches_cover_the_larger_market_and_cycle_the_smaller():
    X_source = torch.arange(50.0).reshape(50, 1)
    X_target = torch.arange(100.0, 120.0).reshape(20, 1)
    seen_source, seen_target = [], []

    def step(model, batch, context):
        (xs,), (xt,) = batch.source, batch.target
        seen_source.append(xs[:, 0].tolist())
        seen_target.append(xt[:, 0].tolist())
        return model(xs).sum() * 0

    trainer = Trainer(nn.Linear(1, 1), step, config=config(epochs=2, batch_size=10))
    trainer.fit(X_source, X_target)
    assert trainer.steps_per_epoch_ == 5
    assert all(len(b) == 10 for b in seen_source + seen_target)  # full batches on both sides
    first_epoch = sum(seen_source[:5], [])
    assert sorted(first_epoch) == list(range(50))  # every source row once per epoch
    targets = sum(seen_target[:2], [])
    assert sorted(targets) == list(range(100, 120))  # a full shuffled pass, then re-shuffled
    assert sum(seen_target[2:4], []) != targets


def test_same_seed_same_result_other_seed_other_result():
    X, y = separable()

    def run(seed):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 2))
        Trainer(model, classification_step, config=config(seed=seed)).fit((X, y))
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))


def test_fit_leaves_the_global_rng_alone():
    X, y = separable()
    model = nn.Linear(2, 2)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    Trainer(model, classification_step, config=config()).fit((X, y))
    assert torch.equal(torch.rand(3), expected)


def test_callbacks_run_in_order_and_can_unfreeze_between_epochs():
    X, y = separable()
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    first_layer = model[0].weight.detach().clone()
    snapshots = []

    class Unfreeze(Callback):
        def on_epoch_start(self, trainer, epoch):
            model[0].requires_grad_(epoch >= 1)

        def on_epoch_end(self, trainer, epoch, logs):
            snapshots.append(model[0].weight.detach().clone())

    recorder = Recorder()
    Trainer(model, classification_step, config=config(epochs=2, batch_size=40),
            callbacks=[recorder, Unfreeze()]).fit((X, y))
    assert recorder.events == ["fit_start", "epoch_start0", "step", "step", "epoch_end0",
                               "epoch_start1", "step", "step", "epoch_end1", "fit_end"]
    assert torch.equal(snapshots[0], first_layer)  # frozen in epoch 0
    assert not torch.equal(snapshots[1], first_layer)  # trained once unfrozen


def test_callback_can_stop_training():
    X, y = separable()
    stopper = LambdaCallback(on_step_end=lambda trainer, logs: setattr(
        trainer, "stop_training", trainer.global_step_ >= 2))
    trainer = Trainer(nn.Linear(2, 2), classification_step, config=config(),
                      callbacks=[stopper]).fit((X, y))
    assert trainer.global_step_ == 2 and len(trainer.history_) == 1
    with pytest.raises(ValueError, match="unknown hooks"):
        LambdaCallback(on_batch=print)


def test_param_groups_set_per_group_learning_rates():
    X, y = separable()
    model = nn.Sequential(nn.Linear(2, 4), nn.Linear(4, 2))
    trainer = Trainer(model, classification_step, config=config(lr=0.1), param_groups=[
        {"params": model[0].parameters(), "lr_mult": 0.1},
        {"params": model[1].parameters(), "lr": 0.5}]).fit((X, y))
    assert [g["lr"] for g in trainer.optimizer_.param_groups] == pytest.approx([0.01, 0.5])
    with pytest.warns(TransferWarning, match="in no param_group"):
        Trainer(model, classification_step, config=config(),
                param_groups=[{"params": model[1].parameters()}]).fit((X, y))
    with pytest.raises(ValueError, match="no 'params' key"):
        Trainer(model, classification_step, config=config(), param_groups=[{"lr": 1}]).fit(
            (X, y))


def test_penalties_are_added_to_the_loss():
    X, y = separable()

    def weights_after(penalty):
        torch.manual_seed(0)
        model = nn.Linear(2, 2)
        penalties = [lambda m: penalty * m.weight.pow(2).sum()]
        trainer = Trainer(model, classification_step, config=config(epochs=10),
                          penalties=penalties).fit((X, y))
        return float(model.weight.norm()), trainer.history_[-1]["loss"]

    free_norm, free_loss = weights_after(0.0)
    tied_norm, tied_loss = weights_after(1.0)
    assert tied_norm < 0.5 * free_norm
    assert tied_loss > free_loss  # the logged loss includes the penalty


def test_gradient_clipping_bounds_the_update():
    X, y = separable()
    model = nn.Linear(2, 2)
    before = torch.cat([p.detach().flatten() for p in model.parameters()])

    def huge(model, batch, context):
        return 1e6 * classification_step(model, batch, context).loss

    Trainer(model, huge, config=config(epochs=1, batch_size=80, optimizer="sgd",
                                       momentum=0.0, lr=0.1, grad_clip=0.5)).fit((X, y))
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert float((after - before).norm()) == pytest.approx(0.1 * 0.5, rel=1e-4)


@pytest.mark.parametrize("scheduler, last", [("constant", 1.0), ("linear", 0.0),
                                             ("cosine", 0.0), ("inverse_decay", 11 ** -0.75)])
def test_schedules(scheduler, last):
    X, y = separable()
    lrs = []
    record = LambdaCallback(on_step_end=lambda trainer, logs: lrs.append(
        trainer.optimizer_.param_groups[0]["lr"]))
    Trainer(nn.Linear(2, 2), classification_step,
            config=config(lr=1.0, scheduler=scheduler, warmup_steps=2, epochs=2),
            callbacks=[record]).fit((X, y))
    # lr used by step k is printed after the scheduler moved on to step k + 1
    assert lrs[0] == pytest.approx(1.0)  # warm-up: step 1 of 2
    assert lrs[-1] == pytest.approx(last, abs=1e-6)


def test_early_stopping_restores_the_best_epoch():
    X, y = separable()
    X_val, y_val = separable(seed=1)
    scores = iter([0.5, 0.9, 0.6, 0.7, 0.8, 0.95])
    weights = []

    def scripted_eval(model, tensors, context):
        output = eval_step(model, tensors, context)
        return StepOutput(output.loss, {"accuracy": torch.tensor(next(scores))},
                          n_samples=len(tensors[0]))

    class Snapshot(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            weights.append(trainer.model_.weight.detach().clone())

    trainer = Trainer(nn.Linear(2, 2), classification_step, eval_step=scripted_eval,
                      config=config(epochs=6, batch_size=80, patience=2,
                                    monitor="val_accuracy"),
                      callbacks=[Snapshot()])
    trainer.fit((X, y), validation=(X_val, y_val))
    assert trainer.stopped_early_ and trainer.best_epoch_ == 1
    assert len(trainer.history_) == 4  # epochs 2 and 3 did not beat 0.9
    assert torch.equal(trainer.model_.weight, weights[1])


def test_early_stopping_on_a_missing_key_says_which_exist():
    X, y = separable()
    trainer = Trainer(nn.Linear(2, 2), classification_step, config=config(patience=1))
    with pytest.raises(ValueError, match="monitor='val_loss'.*accuracy"):
        trainer.fit((X, y))


def test_validation_needs_an_eval_step_and_is_logged():
    X, y = separable()
    with pytest.raises(ValueError, match="no eval_step"):
        Trainer(nn.Linear(2, 2), classification_step, config=config()).fit(
            (X, y), validation=(X, y))
    trainer = Trainer(nn.Linear(2, 2), classification_step, config=config(),
                      eval_step=eval_step).fit((X, y), validation=(X, y))
    assert {"val_loss", "val_accuracy"} <= set(trainer.history_[0])
    assert trainer.evaluate((X, y))["accuracy"] == pytest.approx(
        float((trainer.predict(X).argmax(1) == y).float().mean()))


def test_nan_in_a_batch_stops_naming_step_rows_and_checkpoint(tmp_path):
    X, y = separable()
    X[37, 1] = float("nan")
    trainer = Trainer(nn.Linear(2, 2), classification_step,
                      config=config(checkpoint_dir=str(tmp_path), epochs=3))
    with pytest.raises(NonFiniteLossError) as error:
        trainer.fit((X, y))
    message = str(error.value)
    assert "loss is nan at epoch" in message and "global step" in message
    assert "source batch's tensor 0 is not finite in 1 row (37)" in message
    # the run dies in epoch 0 (row 37 is in every pass): no checkpoint yet, weights intact
    assert "No checkpoint was written yet" in message
    assert torch.isfinite(trainer.model_.weight).all()


def test_divergence_keeps_the_last_good_checkpoint(tmp_path):
    X, y = separable()

    def diverging(model, batch, context):
        loss = classification_step(model, batch, context).loss
        return loss * (float("inf") if context.global_step == 7 else 1.0)

    trainer = Trainer(nn.Linear(2, 2), diverging,
                      config=config(checkpoint_dir=str(tmp_path), epochs=3))
    with pytest.raises(NonFiniteLossError, match=r"epoch 1, step 2 \(global step 7\)") as error:
        trainer.fit((X, y))
    assert "inputs are finite" in str(error.value)
    assert "checkpoint-000000005" in str(error.value)
    folder = trainer.checkpoint_folder_
    assert (tmp_path / folder / "checkpoint-000000005" / "model.safetensors").exists()


def test_bad_inputs():
    X, y = separable()
    with pytest.raises(ValueError, match="target data are empty"):
        Trainer(nn.Linear(2, 2), classification_step, config=config()).fit(
            (X, y), torch.empty(0, 2))
    with pytest.raises(TypeError, match="must be a TrainConfig"):
        Trainer(nn.Linear(2, 2), classification_step, config={"epochs": 1}).fit((X, y))
    with pytest.raises(TypeError, match="StepOutput or a scalar loss"):
        Trainer(nn.Linear(2, 2), lambda m, b, c: 1.0, config=config()).fit((X, y))
    with pytest.raises(ValueError, match="must be a scalar"):
        Trainer(nn.Linear(2, 2), lambda m, b, c: m(b.source[0]), config=config()).fit((X, y))
    with pytest.raises(RuntimeError, match="not fitted"):
        Trainer(nn.Linear(2, 2), classification_step).predict(X)


def test_amp_request_on_cpu_warns_and_runs_in_full_precision():
    X, y = separable()
    with pytest.warns(TransferWarning, match="needs a CUDA device"):
        trainer = Trainer(nn.Linear(2, 2), classification_step,
                          config=config(amp="bf16", device="cpu")).fit((X, y))
    assert trainer.scaler_ is None and trainer.predict(X).dtype == torch.float32


def test_progress_bar_shows_live_metrics(capsys):
    X, y = separable()
    Trainer(nn.Linear(2, 2), classification_step, config=config(progress=True)).fit((X, y))
    err = capsys.readouterr().err
    assert "epoch 3/3" in err and "accuracy=" in err and "loss=" in err
