"""Checkpoint format, atomic writes and exact resume after a killed run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from transferkit.exceptions import TransferWarning
from transferkit.training import (
    TrainConfig,
    latest_checkpoint,
    load_checkpoint,
    load_weights,
    save_weights,
)

sys.path.insert(0, str(Path(__file__).parent))
import _jobs  # noqa: E402

JOBS = Path(__file__).with_name("_jobs.py")


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _without_seconds(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path, one_thread):
    folder = tmp_path / "run"
    # 5 steps per epoch, checkpoints every 3 steps: killed after step 8, the latest
    # checkpoint is step 6, in the middle of the second epoch.
    result = subprocess.run([sys.executable, str(JOBS), "resume", str(folder), "8"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == -9, result.stderr  # SIGKILL: no cleanup ran
    latest = latest_checkpoint(folder)
    assert latest is not None and latest.endswith("checkpoint-000000006")
    assert not [p for p in os.listdir(os.path.dirname(latest)) if p.startswith(".tmp")]

    resumed = _jobs.train(str(folder), resume=True)
    reference = _jobs.train(None)
    assert resumed.global_step_ == reference.global_step_ == 20
    for name, value in reference.model_.state_dict().items():
        assert torch.equal(value, resumed.model_.state_dict()[name]), name
    assert _without_seconds(resumed.history_) == _without_seconds(reference.history_)


def test_checkpoint_folder_holds_safetensors_and_json(tmp_path, one_thread):
    trainer = _jobs.train(str(tmp_path))
    latest = latest_checkpoint(tmp_path)
    assert sorted(os.listdir(latest)) == ["model.safetensors", "state.json",
                                          "state.safetensors"]
    with open(os.path.join(latest, "state.json")) as handle:
        state = json.load(handle)
    assert state["global_step"] == 20 and len(state["history"]) == 4
    assert state["config"]["batch_size"] == 12
    loaded = load_checkpoint(latest)
    for name, value in trainer.model_.state_dict().items():
        assert torch.equal(loaded["model"][name], value.cpu())
    # only the newest checkpoints are kept, in the run's own subfolder
    assert os.path.dirname(latest) == trainer.checkpoint_folder_
    assert os.listdir(tmp_path) == ["step-Sequential"]
    assert len([p for p in os.listdir(trainer.checkpoint_folder_)
                if p.startswith("checkpoint-")]) == 2


def test_resume_of_a_finished_run_changes_nothing(tmp_path, one_thread):
    first = _jobs.train(str(tmp_path))
    again = _jobs.train(str(tmp_path), resume=True)
    assert again.global_step_ == first.global_step_
    for name, value in first.model_.state_dict().items():
        assert torch.equal(value, again.model_.state_dict()[name])


def test_resume_with_other_settings_is_refused(tmp_path, one_thread):
    _jobs.train(str(tmp_path))
    with pytest.raises(ValueError, match="scheduler"):
        _jobs.train(str(tmp_path), resume=True, scheduler="linear")


def test_resume_without_checkpoint_warns_and_starts_fresh(tmp_path, one_thread):
    with pytest.warns(TransferWarning, match="no checkpoint"):
        trainer = _jobs.train(str(tmp_path / "empty"), resume=True)
    assert trainer.global_step_ == 20


def test_resume_needs_a_checkpoint_dir():
    with pytest.raises(ValueError, match="needs a checkpoint_dir"):
        TrainConfig(resume=True)


def test_weights_round_trip_and_tied_tensors(tmp_path):
    shared = torch.arange(6.0).reshape(2, 3)
    path = tmp_path / "w.safetensors"
    save_weights(path, {"a": shared, "b": shared[0]})  # views of one storage
    loaded = load_weights(path)
    assert torch.equal(loaded["a"], shared) and torch.equal(loaded["b"], shared[0])
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]
