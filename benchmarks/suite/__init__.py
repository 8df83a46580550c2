"""One benchmark run for every headline figure: ``python benchmarks/run.py``.

Data flow: the parent (transferkit's environment) loads each real pair once, z-scores it
and writes one split file per (pair, seed) with ``contract.save_split``; every method then
runs in its own subprocess (``isolate.run_job``) with the interpreter of the environment
its library lives in (``envs``), reads the same split files, and returns predictions for
the target rows. The worker scores every library's predictions with the same code
(``contract.score``), so the splits and the metric are identical by construction.

Modules: ``contract`` (split files, scoring; numpy only, importable in every peer
environment), ``synthetic`` (seeded synthetic markets; numpy/pandas only), ``worker``
(child entry point), ``isolate`` (timeout, memory cap, error rows), ``envs``,
``data`` (real pairs -> split files), ``tracks`` (which jobs a run makes), ``render``
(RESULTS sections and the accuracy-vs-time plot), ``libs/<library>.py`` (one adapter per
library: ours, sklearn baselines, SKADA, ADAPT, pytorch-adapt, evidently, nannyml).
"""
