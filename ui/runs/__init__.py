"""Training jobs for the app: run records and their store, the manager, and the backends.

    records.py   a run's state (RunRecord), what pages draw (RunView), its JSON on disk
    store.py     the runs folder: atomic writes of records and checkpoints, run ids
    backend.py   the backend interface and the in-process backend (a thread per run)
    ray_backend.py, ray_actor.py   the Ray backend: a run per actor of a cluster (TINYLM_RAY_ADDRESS)
    replicas.py  what the manager does when several app replicas share a cluster and the runs folder
    manager.py   the queue, fair sharing, the janitor, the models of finished runs
    pruning.py   which runs the manager deletes, and when (most recently used kept; a student's newest kept)
    session.py   Streamlit glue: a session's runs, the student's id, the sidebar badge

The job itself (a spec and a text → events, checkpoint) is ``tinylm.job.TrainingJob``; the run's
description and its cost are ``tinylm.plan``. Importing this package starts nothing: the server-wide
manager is created by the first call to :func:`manager`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from ui.runs.backend import Backend, ThreadBackend
from ui.runs.manager import MAX_PASTED_CHARS, JobManager
from ui.runs.policy import Limits
from ui.runs.records import ACTIVE_STATES, FINISHED_STATES, MAX_SNAPSHOTS, RunView
from ui.runs.store import new_run_id, valid_run_id

__all__ = [
    "ACTIVE_STATES",
    "FINISHED_STATES",
    "MAX_PASTED_CHARS",
    "MAX_SNAPSHOTS",
    "Backend",
    "JobManager",
    "Limits",
    "RunView",
    "manager",
    "new_run_id",
    "reset_manager_for_tests",
    "valid_run_id",
]

RAY_ADDRESS_ENV = "TINYLM_RAY_ADDRESS"  # the Ray cluster's address ("auto", "host:6379"); unset: threads
_MANAGER: JobManager | None = None
_MANAGER_LOCK = threading.Lock()


def backend_from_env(limits: Limits) -> Backend:
    """The backend the environment asks for: a Ray cluster when TINYLM_RAY_ADDRESS is set
    (ui/runs/ray_backend.py: the cluster's CPUs are the slots, TINYLM_MAX_JOBS does not apply);
    else ``TINYLM_BACKEND=process`` trains in worker processes of this machine; unset (or
    ``thread``), in threads of this server process (the embedded default)."""
    if os.environ.get(RAY_ADDRESS_ENV):
        from ui.runs.ray_backend import RayBackend  # imports ray: only when asked for

        return RayBackend.from_env(orphan_seconds=limits.orphan_seconds)
    if os.environ.get("TINYLM_BACKEND", "thread") == "process":
        from ui.runs.process_backend import ProcessBackend

        return ProcessBackend(limits.max_jobs)
    return ThreadBackend(limits.max_jobs)


def manager() -> JobManager:
    """The server-wide job manager (created on first use, from the environment)."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None:
            limits = Limits.from_env()
            _MANAGER = JobManager(limits=limits, backend=backend_from_env(limits))
        return _MANAGER


def reset_manager_for_tests(runs_dir: Path | str | None = None, **options: Any) -> JobManager:
    """Shut the current manager down and start a fresh one (``options``: Limits fields, session_alive,
    train_hook for the thread backend)."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is not None:
            _MANAGER.shutdown()
        session_alive = options.pop("session_alive", lambda session: False)
        train_hook = options.pop("train_hook", None)
        limits = replace(Limits.from_env(), **options)
        backend = ThreadBackend(limits.max_jobs, train_hook=train_hook)
        _MANAGER = JobManager(runs_dir, limits, backend=backend, session_alive=session_alive)
        return _MANAGER
