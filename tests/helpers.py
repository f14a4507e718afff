"""Small builders shared by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

from tinylm import ModelConfig, TinyLM
from tinylm.corpora import generate_corpus
from tinylm.plan import RunSpec

# A run small enough that a hundred steps take well under a second on one busy core (job-layer tests).
SMALL_RUN = RunSpec(
    corpus="stories-en",
    n_layers=1,
    n_heads=2,
    d_model=32,
    context_len=16,
    batch_size=8,
    learning_rate=1e-2,
    warmup_steps=5,
    budget="steps",
    max_steps=60,
    sample_every=30,
)
FULL_CORPUS = 300_000  # characters: the default size, what the demo models were trained on

ROOT = Path(__file__).resolve().parents[1]


def make_model(vocab_size: int = 50, seed: int = 0, **overrides) -> TinyLM:
    settings = {"context_len": 16, "d_model": 32, "n_layers": 2, "n_heads": 4}
    settings.update(overrides)
    model = TinyLM(ModelConfig(vocab_size=vocab_size, **settings), seed=seed)
    model.eval()
    return model


@cache
def full_corpus(name: str) -> str:
    """A built-in corpus at its default size (seed 0), generated once per test session."""
    return generate_corpus(name, FULL_CORPUS, seed=0)


def last_line_of_python(code: str, timeout: float, label: str = "") -> str:
    """Run ``code`` in a fresh interpreter (the repository as working directory, one OpenMP thread) and
    return the last line it printed. A training gets its own process (and core), and nothing the other
    tests did in this process (torch's thread pool, AppTest's __main__) leaks in."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{label}: the training process failed:\n{done.stderr[-3000:]}"
    return done.stdout.strip().splitlines()[-1]
