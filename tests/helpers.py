"""Small builders shared by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tinylm import ModelConfig, TinyLM

ROOT = Path(__file__).resolve().parents[1]


def make_model(vocab_size: int = 50, seed: int = 0, **overrides) -> TinyLM:
    settings = {"context_len": 16, "d_model": 32, "n_layers": 2, "n_heads": 4}
    settings.update(overrides)
    model = TinyLM(ModelConfig(vocab_size=vocab_size, **settings), seed=seed)
    model.eval()
    return model


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
