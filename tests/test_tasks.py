"""The algorithmic tasks are learnable: the settings the app recommends (tinylm.presets.RECOMMENDED) reach
high exact-match accuracy on held-out questions (never seen in training), for every built-in task.

Each task trains its own small model for one to four thousand steps with one torch thread. The four
trainings run two at a time in separate processes, one per core: a model this small gains little from
a second thread, so two one-thread trainings side by side take about half the time of running them one
after the other. The exact-match metric itself is tested in test_corpora.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tinylm import CharTokenizer, TinyLM
from tinylm.corpora import TASKS, evaluate_task, generate_corpus
from tinylm.data import BUILTIN_CORPUS_CHARS, prepare_data
from tinylm.presets import PRESETS, RECOMMENDED
from tinylm.train import TrainConfig, Trainer, greedy_completer

HIGH = 0.8  # exact match on 200 held-out questions; the measured values are in tinylm/presets.py
ROOT = Path(__file__).resolve().parents[1]
TRAIN_TIMEOUT = 900  # seconds for one task's training (about 40-150 s on the project's machine)


def train_and_score(task: str) -> float:
    """Train a fresh model on ``task`` with the app's recommended settings; its exact match (0 to 1)."""
    import torch

    torch.set_num_threads(1)  # one core per training: the other core trains another task
    from ui.jobs import recommended_spec  # the very settings the Train page starts a task run with

    spec = recommended_spec(task)
    text = generate_corpus(task, n_chars=BUILTIN_CORPUS_CHARS, seed=0)
    tokenizer = CharTokenizer.from_text(text)
    config = spec.model_config(tokenizer.vocab_size)
    model = TinyLM(config, seed=0)
    train_config = TrainConfig(
        batch_size=spec.batch_size,
        learning_rate=spec.learning_rate,
        warmup_steps=spec.warmup_steps,
        max_steps=spec.max_steps,
        eval_interval=spec.max_steps,  # evaluate at the end only: accuracy is measured below
        seed=0,
    )
    Trainer(model, tokenizer, prepare_data(text, tokenizer, config.context_len), train_config).run()
    model.eval()
    return evaluate_task(task, greedy_completer(model, tokenizer), n=200)


def score_in_subprocess(task: str, scorer: str = "tests.test_tasks.train_and_score") -> float:
    """scorer(task) (train_and_score, or another module's) in a fresh interpreter: each training gets its
    own process (and core), and nothing the other tests did in this process (torch's thread pool,
    AppTest's __main__) leaks in."""
    module, function = scorer.rsplit(".", 1)
    code = f"from {module} import {function}; print({function}({task!r}))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=TRAIN_TIMEOUT,
    )
    assert done.returncode == 0, f"{task}: the training process failed:\n{done.stderr[-3000:]}"
    return float(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def accuracies() -> dict[str, float]:
    """Every task's exact match, trained two at a time (two cores), the longest first."""
    longest_first = sorted(TASKS, key=lambda task: -RECOMMENDED[task]["max_steps"])
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(longest_first, pool.map(score_in_subprocess, longest_first), strict=True))


def test_every_task_has_reproducible_recommended_settings() -> None:
    for task in TASKS:
        advice = RECOMMENDED[task]
        assert advice["budget"] == "steps", task  # a step count, not a time budget: the same on any machine
        assert advice["preset"] in PRESETS and advice["max_steps"] <= 5000, task  # minutes, not hours


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
def test_recommended_settings_reach_high_exact_match(task: str, accuracies: dict[str, float]) -> None:
    steps = RECOMMENDED[task]["max_steps"]
    assert accuracies[task] >= HIGH, f"{task}: exact match {accuracies[task]:.2f} after {steps} steps"
