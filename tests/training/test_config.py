"""TrainConfig validation and the YAML mapping."""

from __future__ import annotations

import pytest

from transferkit.training import TrainConfig


@pytest.mark.parametrize("changes, message", [
    ({"epochs": 0}, "'epochs' parameter of TrainConfig must be an int >= 1. Got 0"),
    ({"batch_size": 2.5}, "'batch_size'"),
    ({"lr": 0}, "'lr'"),
    ({"optimizer": "adagrad"}, "one of 'adamw', 'adam', 'sgd'"),
    ({"scheduler": "cos"}, "'scheduler'"),
    ({"amp": "fp8"}, "'amp'"),
    ({"device": "tpu"}, "'device'"),
    ({"grad_clip": -1.0}, "'grad_clip'"),
    ({"patience": 0}, "'patience'"),
    ({"pin_memory": "yes"}, "'pin_memory'"),
    ({"epochs": True}, "'epochs'"),
])
def test_bad_settings_are_named(changes, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TrainConfig(**changes)


def test_frozen_and_round_trips_through_a_mapping(tmp_path):
    config = TrainConfig(epochs=3, checkpoint_dir=tmp_path)
    assert config.checkpoint_dir == str(tmp_path)
    with pytest.raises(AttributeError):
        config.epochs = 4
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert config.replace(lr=0.1).lr == 0.1


def test_unknown_key_names_the_key_and_file():
    with pytest.raises(ValueError, match="Unknown key 'bacth_size' in the training section "
                                         "of runs/a.yaml. Did you mean 'batch_size'"):
        TrainConfig.from_dict({"bacth_size": 3}, source="runs/a.yaml")
