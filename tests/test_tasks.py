"""The algorithmic tasks are learnable: the settings the app recommends (tinylm.presets.RECOMMENDED) reach
high exact-match accuracy on held-out questions (never seen in training), for every built-in task.

Each task trains its own small model for 1 500 to 5 000 steps with one torch thread. The four
trainings run two at a time in separate processes, one per core: a model this small gains little from
a second thread, so two one-thread trainings side by side take about half the time of running them one
after the other. The exact-match metric itself is tested in test_task_generators.py.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from tests.helpers import last_line_of_python
from tinylm.presets import PRESETS, RECOMMENDED
from tinylm.tasks import TASKS, evaluate_task
from tinylm.train import Trainer, greedy_completer

HIGH = 0.8  # exact match on 200 held-out questions; the measured values are in tinylm/presets.py
TRAIN_TIMEOUT = 900  # seconds for one task's training (about 40-150 s on the project's machine)


def train_and_score(task: str) -> float:
    """Train a fresh model on ``task`` with the app's recommended settings; its exact match (0 to 1)."""
    import torch

    torch.set_num_threads(1)  # one core per training: the other core trains another task
    from tinylm.plan import prepare_run, recommended_spec  # the very settings the Train page starts with

    run = prepare_run(recommended_spec(task))
    model, tokenizer = run.model, run.tokenizer
    train_config = replace(
        run.plan.train_config,
        eval_interval=run.spec.max_steps,  # evaluate at the end only: accuracy is measured below
        sample_interval=0,
    )
    Trainer(model, tokenizer, run.data, train_config).run()
    model.eval()
    return evaluate_task(task, greedy_completer(model, tokenizer), n=200)


def score_in_subprocess(task: str, scorer: str = "tests.test_tasks.train_and_score") -> float:
    """scorer(task) (train_and_score, or another module's) in a fresh interpreter
    (tests.helpers.last_line_of_python): each training gets its own process and core."""
    module, function = scorer.rsplit(".", 1)
    code = f"from {module} import {function}; print({function}({task!r}))"
    return float(last_line_of_python(code, TRAIN_TIMEOUT, label=task))


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
