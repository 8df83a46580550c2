"""Training throughput (source samples per second) of SourceOnly, DANN and CDAN.

All three run through the same ``Trainer`` on the same synthetic tensors shaped like the
Amazon sentiment features (400 numeric features, 2 classes, 4096 rows per market), the
same MLP (400 -> 256 -> 2) and batch size; DANN and CDAN add the discriminator
(256 -> 256 -> 1) and the target half of the batch. Steps after a warm-up are timed with
a callback; the loss is read back every step (the trainer's NaN check), so CUDA timings
include the synchronisation. On CUDA the default AMP (bf16 where supported) and the
device-resident tensor cache are used.

Usage::

    python benchmarks/align_throughput.py --device cpu --threads 1 \
        --section benchmarks/sections/align_throughput.md
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from transferkit import Domain
from transferkit.align import ALIGNERS
from transferkit.training import Callback, TrainConfig

METHODS = ("source_only", "dann", "cdan")


class Clock(Callback):
    """Wall time of the steps after ``warmup``."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start: float | None = None
        self.steps = 0

    def on_step_end(self, trainer, logs) -> None:
        if trainer.global_step_ == self.warmup:
            if trainer.device_.type == "cuda":
                torch.cuda.synchronize()
            self.start = time.perf_counter()
        elif trainer.global_step_ > self.warmup:
            self.steps += 1

    def seconds(self) -> float:
        return time.perf_counter() - self.start


def measure(method: str, source: Domain, target: Domain, *, device: str, batch_size: int,
            steps: int, warmup: int) -> float:
    clock = Clock(warmup)
    config = TrainConfig(epochs=1, steps_per_epoch=steps + warmup, batch_size=batch_size,
                         device=device, progress=False, seed=0)
    name = "nn_source_only" if method == "source_only" else method
    model = ALIGNERS.get(name)(hidden_sizes=(256,), dropout=0.2, config=config,
                                 callbacks=[clock])
    model.fit(source, target)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return clock.steps * batch_size / clock.seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--section", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    X_source = rng.random((4096, 400)).astype(np.float32)
    X_target = rng.random((4096, 400)).astype(np.float32) + 0.1
    source = Domain.from_arrays(X_source, (X_source[:, 0] > 0.5).astype(int), name="us")
    target = Domain.from_arrays(X_target, name="jp")
    rates: dict[str, list[float]] = {m: [] for m in METHODS}
    for _ in range(args.repeats):  # interleaved, so load changes hit every method alike
        for method in METHODS:
            rates[method].append(measure(method, source, target, device=args.device,
                                         batch_size=args.batch_size, steps=args.steps,
                                         warmup=args.warmup))
    base = np.median(rates["source_only"])
    device_name = (torch.cuda.get_device_name() if args.device.startswith("cuda")
                   else f"CPU ({platform.processor() or platform.machine()}), "
                        f"{args.threads} torch thread(s), 2-core machine shared and noisy")
    lines = [
        "## Alignment training throughput (`benchmarks/align_throughput.py`)", "",
        f"Device: {device_name}; date {time.strftime('%Y-%m-%d')}; torch {torch.__version__}; "
        f"batch {args.batch_size} source + {args.batch_size} target rows, 400 features, "
        f"MLP 400-256-2, discriminator 256-256-1; {args.steps} timed steps after "
        f"{args.warmup} warm-up, median of {args.repeats} interleaved repeats.", "",
        f"Command: `python benchmarks/align_throughput.py --device {args.device} "
        f"--threads {args.threads} --steps {args.steps} --repeats {args.repeats}`", "",
        "| method | source samples/s (median) | all runs | cost per sample vs SourceOnly |",
        "|---|---|---|---|",
    ]
    for method in METHODS:
        median = float(np.median(rates[method]))
        runs = ", ".join(f"{r:.0f}" for r in rates[method])
        lines.append(f"| {method} | {median:.0f} | {runs} | {base / median:.2f}x |")
    lines += ["", "DANN and CDAN also push the target rows through the extractor and both "
              "halves through the discriminator, so on a CPU, where cost grows with rows, "
              "about 2x per source sample is the floor; the issue's <= 1.3x goal is a GPU "
              "goal, where a step of this size is bound by launch latency, not arithmetic.",
              "", "CUDA with AMP could not be measured here: no GPU was lent to this task. "
              "The CUDA paths (autocast bf16/fp16 with GradScaler, device-resident tensors, "
              "pinned host batches with non-blocking copies) are covered by tests marked "
              "`gpu` that skip without CUDA.", ""]
    text = "\n".join(lines)
    print(text)
    if args.section:
        os.makedirs(os.path.dirname(args.section), exist_ok=True)
        with open(args.section + ".tmp", "w") as handle:
            handle.write(text)
        os.replace(args.section + ".tmp", args.section)


if __name__ == "__main__":
    main()
