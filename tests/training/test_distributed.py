"""DistributedDataParallel under torchrun: 2 CPU processes with the gloo backend."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from transferkit.training import latest_checkpoint, load_weights

JOBS = Path(__file__).with_name("_jobs.py")


@pytest.mark.skipif(not dist.is_available(), reason="torch built without distributed")
def test_two_gloo_processes_train_one_synchronised_model(tmp_path):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nnodes=1", "--nproc-per-node=2", str(JOBS), "ddp", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180,
                            env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    runs = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in runs] == [2, 2]
    # DistributedSampler gives each process half of the 50 source rows (25 -> 3 batches
    # of 12), so an epoch has 3 steps instead of the 5 of a single process.
    assert runs[0]["steps_per_epoch"] == 3 and runs[0]["global_step"] == 12
    # epoch metrics are all-reduced: both processes log the same history
    strip = [[{k: v for k, v in row.items() if k != "seconds"} for row in r["history"]]
             for r in runs]
    assert strip[0] == strip[1]
    weights = [load_weights(tmp_path / f"rank{r}.safetensors") for r in (0, 1)]
    for name in weights[0]:
        assert torch.equal(weights[0][name], weights[1][name]), name
    # rank 0 wrote the checkpoint, which holds the final, synchronised weights
    saved = load_weights(Path(latest_checkpoint(tmp_path / "checkpoints")) / "model.safetensors")
    for name in weights[0]:
        assert torch.equal(saved[name], weights[0][name])
