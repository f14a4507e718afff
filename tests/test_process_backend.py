"""The local process backend (ui/runs/process_backend.py): runs train in warm worker processes, their
events and models cross a local socket, and a worker that dies leaves an interrupted run."""

from __future__ import annotations

import os
import signal
import time

import pytest
import torch

from tests.helpers import SMALL_RUN
from ui.runs import JobManager, Limits
from ui.runs.process_backend import ProcessBackend

SMALL = SMALL_RUN
LONG = SMALL.with_settings(budget="time", time_budget=120.0)


@pytest.fixture
def manager(tmp_path):
    backend = ProcessBackend(max_jobs=1)
    made = JobManager(tmp_path / "runs", Limits(max_jobs=1), backend=backend, session_alive=lambda s: False)
    yield made
    made.shutdown()
    assert all(not worker.alive for worker in backend._workers)  # no worker process is left behind


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_runs_train_in_a_worker_process_one_after_the_other_and_hand_over_their_models(manager):
    first, second = manager.submit(SMALL, owner="ann"), manager.submit(SMALL, owner="ben")
    assert manager.get(second).status == "queued"
    for run_id in (first, second):
        view = manager.wait(run_id, timeout=120)
        assert view.status == "done" and view.step == 60 and view.model_saved
        assert [step for step, _ in view.samples] == [30, 60]
        checkpoint, version = manager.model_for(run_id)
        assert version == view.model_version and checkpoint.meta["steps"] == 60
        assert not any(p.requires_grad for p in checkpoint.model.parameters())
        assert view.snapshots[-1][1].shape == (1, 2, 16, 16)
    # Both runs were trained by the same warm worker: one slot, one process.
    assert len(manager.backend._workers) == 1 and manager.backend._workers[0].process.pid != os.getpid()
    a, b = manager.model_for(first)[0].model, manager.model_for(second)[0].model
    assert torch.equal(a.token_embedding.weight, b.token_embedding.weight)  # same seed, same data


def test_pause_resume_and_stop_reach_the_worker(manager):
    run_id = manager.submit(LONG, owner="ann")
    wait_for(lambda: manager.get(run_id).step >= 10)
    assert manager.pause(run_id, "ann")
    time.sleep(0.5)
    held = manager.get(run_id).step
    time.sleep(0.8)
    assert manager.get(run_id).step == held
    assert manager.resume(run_id, "ann")
    wait_for(lambda: manager.get(run_id).step > held + 5)
    assert manager.stop(run_id, "ann")
    view = manager.wait(run_id, timeout=20)
    assert view.status == "stopped" and view.message["code"] == "user" and view.model_saved


def test_a_worker_that_dies_leaves_an_interrupted_run_with_its_last_saved_model(manager):
    run_id = manager.submit(LONG, owner="ann")
    wait_for(lambda: manager.get(run_id).model_saved, timeout=90)  # a checkpoint at an evaluation
    saved_step = manager.get(run_id).data["saved_step"]
    worker = manager.backend._workers[0]
    os.kill(worker.process.pid, signal.SIGKILL)
    view = manager.wait(run_id, timeout=20)
    assert view.status == "interrupted" and view.message["code"] == "interrupted"
    # The newest model it had handed over is kept: the one saved at an evaluation, or a newer one.
    assert view.model_saved and view.data["saved_step"] >= saved_step
    assert manager.model_for(run_id)[0].meta["steps"] == view.data["saved_step"]
    # The next run gets a fresh worker.
    again = manager.submit(SMALL, owner="ann")
    assert manager.wait(again, timeout=120).status == "done"


def test_a_start_never_waits_for_a_worker_process_and_a_stop_before_it_connects_is_kept(tmp_path):
    backend = ProcessBackend(
        max_jobs=1
    )  # its worker starts in the background (importing torch takes seconds)
    made = JobManager(tmp_path / "runs", Limits(max_jobs=1), backend=backend, session_alive=lambda s: False)
    try:
        run_id = made.submit(LONG, owner="ann")  # returns at once, though no worker is connected yet
        assert backend._workers[0].connection is None and made.get(run_id).status == "preparing"
        assert made.stop(run_id, "ann")  # asked for before any worker took the run
        view = made.wait(run_id, timeout=90)
        assert view.status == "stopped" and view.step == 0
    finally:
        made.shutdown()
