"""ParameterReport: counts per layer, the unfrozen list, JSON written atomically."""

from __future__ import annotations

import json

from torch import nn

from transferkit.finetune import parameter_report


def test_counts_unfrozen_layers_and_leftovers(tmp_path):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    model[0].requires_grad_(False)
    report = parameter_report(model, layers=["2"], lr_mults={"2": 0.1},
                              schedule=[(0, []), (1, ["2"])])
    assert (report.trainable, report.frozen) == (27, 40)
    assert report.unfrozen == ("2",)
    frame = report.to_frame()
    assert frame.loc["(other)", "frozen"] == 40 and frame.loc["2", "lr_mult"] == 0.1
    assert "27 trainable / 40 frozen parameters (40.30% trainable)" in str(report)
    assert "epoch 0: head only" in report.to_text()
    path = tmp_path / "params.json"
    report.to_json(path)
    saved = json.loads(path.read_text())
    assert saved["unfrozen"] == ["2"] and saved["schedule"] == [[0, []], [1, ["2"]]]
    assert [p.name for p in tmp_path.iterdir()] == ["params.json"]
