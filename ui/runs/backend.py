"""Where runs train: the backend interface, and the in-process backend (a thread per run).

A backend does one thing: "run this training spec somewhere, stream its events back, pause / resume /
stop it, hand over its checkpoint". The job manager (ui/runs/manager.py) does everything else (the
queue, limits, records, disk), so a new backend (a Ray cluster: ui/runs/ray_backend.py) drops in
without touching the manager or any page.

    backend.start(run_id, spec, text, meta, sink) -> RunHandle
        runs ``tinylm.job.make_job(spec, text, meta)`` (a job of the spec's kind) and calls
        ``sink(event)`` with each of its events, in order, from a thread of the backend's; the last
        event is always {"type": "end"}
    handle.pause() / handle.resume() / handle.stop(reason)
    handle.checkpoint() -> Checkpoint | None     the run's newest published model
    backend.attach(run_id, sink) -> RunHandle | None
        a run this process did not start (another app replica did) that still trains, if the backend
        can reach it; None otherwise (a thread of another process cannot be reached)
    backend.slots() -> int                       runs it can train at once
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

import torch

from tinylm.checkpoint import Checkpoint
from tinylm.fast import make_optimizer, use_threads
from tinylm.job import TrainingJob, make_job, message
from tinylm.plan import RunSpec
from tinylm.train import Trainer, TrainEvent

LOG = logging.getLogger("tinylm.runs")
Sink = Callable[[dict[str, Any]], None]


class RunHandle(Protocol):
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self, reason: str = "user") -> None: ...
    def checkpoint(self) -> Checkpoint | None: ...


class Backend(Protocol):
    name: str

    def slots(self) -> int: ...
    def start(
        self, run_id: str, spec: RunSpec, text: str | None, meta: dict[str, Any], sink: Sink
    ) -> RunHandle: ...
    def attach(self, run_id: str, sink: Sink) -> RunHandle | None: ...
    def shutdown(self, timeout: float = 10.0) -> None: ...


class ThreadRun:
    """A run training in a thread of this process: the handle is the job itself."""

    def __init__(self, job: TrainingJob, thread: threading.Thread) -> None:
        self.job, self.thread = job, thread

    def pause(self) -> None:
        self.job.pause()

    def resume(self) -> None:
        self.job.resume()

    def stop(self, reason: str = "user") -> None:
        self.job.stop(reason)

    def checkpoint(self) -> Checkpoint | None:
        return self.job.checkpoint()


def _warm_up_torch() -> None:
    """Make a fused AdamW once, in the background, when the server starts: its first construction
    imports torch's compiler stack (sympy and more, 2-6 s of CPU), which would otherwise delay the
    first student's first step."""
    try:
        use_threads(1)
        make_optimizer([torch.nn.Parameter(torch.zeros(2))], lr=1e-3)
    except Exception:  # only an optimisation
        LOG.debug("torch warm-up failed", exc_info=True)


class ThreadBackend:
    """The embedded default: each run trains in a daemon thread of the app's own server process, with
    one torch thread (two runs with two threads each on two cores fight and run many times slower)."""

    name = "thread"

    def __init__(
        self, max_jobs: int, train_hook: Callable[[Trainer, TrainEvent], None] | None = None
    ) -> None:
        self.max_jobs = max_jobs
        self.train_hook = train_hook  # tests: called after every trainer event (e.g. to poison the weights)
        self._runs: dict[str, ThreadRun] = {}
        self._threads: dict[str, threading.Thread] = {}  # the newest runs' threads, finished ones too (tests)
        self._lock = threading.Lock()
        threading.Thread(target=_warm_up_torch, name="tinylm-warm-up", daemon=True).start()

    def slots(self) -> int:
        return self.max_jobs

    def start(
        self, run_id: str, spec: RunSpec, text: str | None, meta: dict[str, Any], sink: Sink
    ) -> ThreadRun:
        job = make_job(spec, text, meta, on_train_event=self.train_hook)
        thread = threading.Thread(
            target=self._work, args=(run_id, job, sink), name=f"tinylm-run-{run_id[:6]}", daemon=True
        )
        run = ThreadRun(job, thread)
        with self._lock:
            self._runs[run_id] = run
            self._threads[run_id] = thread
            while len(self._threads) > 64:
                self._threads.pop(next(iter(self._threads)))
        thread.start()
        return run

    def _work(self, run_id: str, job: TrainingJob, sink: Sink) -> None:
        use_threads(1)  # a per-thread setting: this thread trains with one core
        ended = False
        try:
            for event in job.events():
                ended = ended or event["type"] == "end"
                sink(event)
        except Exception:  # the sink failed: the run must still end, not hang as "running"
            LOG.exception("run %s: applying an event failed", run_id)
            if not ended:
                job.stop("user")
                sink(
                    {
                        "type": "end",
                        "status": "error",
                        "message": message("error", "unexpected"),
                        "step": 0,
                        "elapsed": 0.0,
                        "model_version": job.model_version,
                    }
                )
        finally:
            with self._lock:
                self._runs.pop(run_id, None)

    def attach(self, run_id: str, sink: Sink) -> ThreadRun | None:
        return None  # a thread of another process cannot be reached: its record says "interrupted"

    def thread_of(self, run_id: str) -> threading.Thread | None:
        with self._lock:
            return self._threads.get(run_id)

    def shutdown(self, timeout: float = 10.0) -> None:
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.stop("shutdown")
        for run in runs:
            run.thread.join(timeout)
