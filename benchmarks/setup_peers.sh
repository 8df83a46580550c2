#!/usr/bin/env bash
# Benchmark-only environments for the peer libraries, never transferkit's dependencies.
#
# The peers live in virtual environments under benchmarks/.peers/<name>/ because their pins
# conflict: `torch` holds the PyTorch peers (SKADA, pytorch-adapt) on transferkit's torch,
# `adapt` holds ADAPT with TensorFlow (numpy < 2), and evidently and nannyml pin their own
# pandas/numpy.
# The benchmark runner (benchmarks/run.py) starts one subprocess per method with the
# interpreter of the environment that method needs, so no environment imports another's
# packages. What was installed is written to benchmarks/.peers/<name>/freeze.txt and the
# versions the run used are printed in every RESULTS.md table.
#
#   bash benchmarks/setup_peers.sh            # all peers
#   bash benchmarks/setup_peers.sh torch adapt  # only some
#
# Re-running is cheap: an environment whose freeze.txt exists is kept; one without it
# (an interrupted install) is rebuilt.
set -euo pipefail
cd "$(dirname "$0")"
PEERS_DIR="${TRANSFERKIT_PEERS_DIR:-.peers}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$PEERS_DIR"

# name | pip arguments (pinned). torch/torchvision are the versions transferkit pins, so the
# deep peers train the same network with the same kernels as ours.
declare -A SPEC=(
  [torch]="skada==0.6.0 POT==0.9.5 skorch==1.1.0 torch==2.14.1 torchvision==0.29.1 pytorch-metric-learning==2.8.1 torchmetrics==1.6.1"
  [adapt]="adapt==0.4.5 tensorflow-cpu==2.15.1 numpy<2 scikit-learn<1.6 cvxopt"
  [evidently]="evidently==0.7.23 pandas<3"
  [nannyml]="nannyml==0.13.1 statsmodels"
)
# Installed after SPEC with --no-deps (its torchvision pin has no CPU build here and is
# needed only for its data set zoo).
declare -A NO_DEPS=(
  [torch]="pytorch-adapt==0.0.83"
)

names=("$@")
if [ ${#names[@]} -eq 0 ]; then names=(torch adapt evidently nannyml); fi

for name in "${names[@]}"; do
  if [ -z "${SPEC[$name]+x}" ]; then
    echo "setup_peers: unknown peer '$name' (known: ${!SPEC[*]})" >&2; exit 2
  fi
  env="$PEERS_DIR/$name"
  if [ -f "$env/freeze.txt" ]; then echo "setup_peers: $name ready ($env)"; continue; fi
  echo "setup_peers: installing $name into $env"
  start=$(date +%s)
  rm -rf "$env"   # an interrupted install has no freeze.txt: start it again
  "$PYTHON" -m venv "$env"
  # shellcheck disable=SC2086
  "$env/bin/python" -m pip install -q --disable-pip-version-check ${SPEC[$name]}
  if [ -n "${NO_DEPS[$name]+x}" ]; then
    # shellcheck disable=SC2086
    "$env/bin/python" -m pip install -q --disable-pip-version-check --no-deps ${NO_DEPS[$name]}
  fi
  "$env/bin/python" -m pip freeze --disable-pip-version-check > "$env/freeze.txt.partial"
  mv "$env/freeze.txt.partial" "$env/freeze.txt"   # written last: marks the environment complete
  echo "setup_peers: $name installed in $(( $(date +%s) - start )) s"
done
