#!/bin/sh
# Retrains the two demo checkpoints shipped in models/ (run from the project root: `make demo-models`).
# The live preset (tinylm/presets.py) with the paper's sinusoidal positional encoding, so the pages show
# the formula the course teaches; a fixed number of steps and seed, so the result does not depend on
# how fast the machine is, and one thread so that the arithmetic is the same on any machine.
set -eu
PY="${PY:-.venv/bin/python}"
for corpus in stories-en stories-zh; do
  "$PY" -m tinylm --threads 1 train --corpus "$corpus" --out "models/$corpus" \
    --preset live --pos sinusoidal --steps 3000 --seed 0
done
