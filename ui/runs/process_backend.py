"""The local process backend: each training slot is a worker process of this machine.

A thread of the app's server shares the server's interpreter with every student's page: its Python
code holds the same GIL as their scripts, so the pages slow training down and training slows pages
down. A worker process has an interpreter of its own; the server only forwards its events. The
workers are started by this module (``python -m ui.runs.process_backend``), one per training slot,
the first time a slot is needed, and stay warm (torch imported) for the next run.

    server                                   worker (one per slot)
    ProcessBackend.start(...) ── ("run", run id, spec, text, meta) ──▶ make_job(spec, text, meta).events()
    sink(event) ◀── ("event", event, files) ────────────────────────── every event, in order; evaluations
                                                                       and the end bring the published
                                                                       model's checkpoint files along
    handle.pause/resume/stop ── ("pause" | "resume" | "stop", reason) ─▶ TrainingJob.pause/resume/stop
    handle.checkpoint()          the newest files received, parsed and validated once per version

The two sides talk over a local socket (``multiprocessing.connection``, authenticated with a random
key given to the worker in its environment): the messages are pickles, but only between this server
and the workers it started itself, never anything a user uploaded. A worker that dies ends its run as
"interrupted" (its last saved checkpoint stays on disk); the next run starts a fresh worker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import subprocess
import sys
import threading
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

from tinylm.checkpoint import Checkpoint, parse_checkpoint
from tinylm.job import TrainingJob, make_job, message
from tinylm.plan import RunSpec

LOG = logging.getLogger("tinylm.runs")
ROOT = Path(__file__).resolve().parents[2]
ADDRESS_ENV, KEY_ENV = "TINYLM_WORKER_ADDRESS", "TINYLM_WORKER_KEY"
CHECKPOINT_SECONDS = 30.0  # how long a page waits for a worker to hand over its model


class Worker:
    """One worker process and, once it has said hello, the server's end of its connection."""

    def __init__(self, address: tuple[str, int], key: bytes) -> None:
        host, port = address
        env = {**os.environ, ADDRESS_ENV: f"{host}:{port}", KEY_ENV: key.hex(), "OMP_NUM_THREADS": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "ui.runs.process_backend"], cwd=ROOT, env=env)
        self.connection: Connection | None = None
        self.send_lock = threading.Lock()
        self.run: ProcessRun | None = None  # the run it trains now

    def send(self, *parts: Any) -> None:
        if self.connection is None:
            raise OSError("the worker is not connected")
        with self.send_lock:
            self.connection.send(parts)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    @property
    def idle(self) -> bool:
        return self.connection is not None and self.run is None and self.alive


class ProcessRun:
    """The handle of a run: waiting for a worker, then training in one."""

    def __init__(self, run_id: str, order: tuple[Any, ...], sink) -> None:
        self.run_id, self.order, self.sink = run_id, order, sink
        self.worker: Worker | None = None  # None until a worker takes it
        self.ended = threading.Event()
        self._early: list[tuple[Any, ...]] = []  # pause / stop asked for before a worker took it
        self._lock = threading.Lock()
        self._files: tuple[int, dict[str, bytes]] | None = None  # the newest model received, as files
        self._parsed: tuple[int, Checkpoint] | None = None

    def pause(self) -> None:
        self._tell("pause")

    def resume(self) -> None:
        self._tell("resume")

    def stop(self, reason: str = "user") -> None:
        self._tell("stop", reason)

    def _tell(self, *parts: Any) -> None:
        with self._lock:
            if self.worker is None:
                self._early.append(parts)
                return
            worker = self.worker
        if not self.ended.is_set():
            with contextlib.suppress(OSError):  # the worker is gone: its reader thread ends the run
                worker.send(*parts)

    def hand_to(self, worker: Worker) -> None:
        """A worker takes the run: the order first, then what was asked for meanwhile."""
        with self._lock:
            self.worker, early, self._early = worker, self._early, []
            worker.run = self
            worker.send(*self.order)
            for parts in early:
                worker.send(*parts)

    def received(self, version: int, files: dict[str, bytes]) -> None:
        self._files = (version, files)

    def checkpoint(self) -> Checkpoint | None:
        """The worker's newest published model (parsed once per model version)."""
        files = self._files
        if files is None:
            return None
        if self._parsed is None or self._parsed[0] != files[0]:
            checkpoint = parse_checkpoint(files[1]["model.safetensors"], files[1]["tinylm.json"])
            checkpoint.model.requires_grad_(False)
            self._parsed = (files[0], checkpoint)
        return self._parsed[1]

    def end(self, status: str, code: str) -> None:
        """End a run that will never get its worker, or lost it."""
        if not self.ended.is_set():
            self.ended.set()
            note = message("error" if status == "error" else "msg", code)
            self.sink(
                {
                    "type": "end",
                    "status": status,
                    "message": note,
                    "step": 0,
                    "elapsed": 0.0,
                    "model_version": 0,
                }
            )


class ProcessBackend:
    """Runs train in worker processes of this machine, one per slot (see the module docstring).

    The workers are started with the backend, in the background: a run never waits in a page's
    callback for a process to start. ``start`` queues the run; a dispatcher thread hands it to the
    next idle worker (the run shows "preparing" meanwhile)."""

    name = "process"
    MAX_FAILED_STARTS = 3  # workers in a row that die before they connect: then runs end with an error

    def __init__(self, max_jobs: int) -> None:
        self.max_jobs = max_jobs
        self._key = secrets.token_bytes(32)
        self._listener = Listener(("127.0.0.1", 0), authkey=self._key)
        self._workers: list[Worker] = []
        self._waiting: list[ProcessRun] = []  # runs started, not yet taken by a worker
        self._changed = threading.Condition()
        self._closed = False
        self._failed_starts = 0
        for target, name in (
            (self._accept, "tinylm-worker-accept"),
            (self._dispatch, "tinylm-worker-dispatch"),
        ):
            threading.Thread(target=target, name=name, daemon=True).start()
        with self._changed:
            self._spawn_missing()

    def slots(self) -> int:
        return self.max_jobs

    def start(self, run_id: str, spec: RunSpec, text: str | None, meta: dict[str, Any], sink) -> ProcessRun:
        run = ProcessRun(run_id, ("run", run_id, spec.to_dict(), text, meta), sink)
        with self._changed:
            self._waiting.append(run)
            self._changed.notify_all()
        return run

    def _spawn_missing(self) -> None:
        """Start workers until there is one per slot (callers hold ``_changed``)."""
        self._workers = [worker for worker in self._workers if worker.alive]
        while len(self._workers) < self.max_jobs and not self._closed:
            self._workers.append(Worker(self._listener.address, self._key))

    def _accept(self) -> None:
        """Each worker connects and says which process it is; then it is ready for a run."""
        while not self._closed:
            try:
                connection = self._listener.accept()
                kind, pid = connection.recv()
            except (OSError, EOFError, ValueError):
                if self._closed:
                    return
                continue
            with self._changed:
                worker = next(
                    (w for w in self._workers if w.process.pid == pid and w.connection is None), None
                )
                if kind != "hello" or worker is None:
                    connection.close()
                    continue
                worker.connection = connection
                self._failed_starts = 0
                self._changed.notify_all()
            threading.Thread(
                target=self._read, args=(worker,), name="tinylm-worker-reader", daemon=True
            ).start()

    def _dispatch(self) -> None:
        """Hand each waiting run to an idle worker; replace workers that died."""
        while True:
            with self._changed:
                self._changed.wait(timeout=1.0)
                if self._closed:
                    return
                dead = [w for w in self._workers if not w.alive and w.connection is None]
                self._failed_starts += len(dead)
                self._spawn_missing()
                if self._failed_starts >= self.MAX_FAILED_STARTS:
                    broken, self._waiting = self._waiting, []
                    LOG.error("worker processes keep dying before they connect; runs end with an error")
                else:
                    broken = []
                pairs = []
                idle = [w for w in self._workers if w.idle]
                while self._waiting and idle:
                    pairs.append((self._waiting.pop(0), idle.pop(0)))
                    pairs[-1][1].run = pairs[-1][0]  # taken now, so it is not idle at the next pass
            for run in broken:
                run.end("error", "unexpected")
            for run, worker in pairs:
                try:
                    run.hand_to(worker)
                except OSError:
                    run.end("interrupted", "interrupted")

    def _read(self, worker: Worker) -> None:
        """The server's reader of one worker: each event to its run's sink, in order."""
        while True:
            try:
                kind, *rest = worker.connection.recv()
            except (EOFError, OSError):
                break
            run = worker.run
            if run is None or kind != "event":
                continue
            event, files = rest
            if files is not None:
                run.received(int(event["model_version"]), files)
            if event["type"] == "end":
                run.ended.set()
                with self._changed:
                    worker.run = None  # the slot is free for the next run
                    self._changed.notify_all()
            run.sink(event)
        run, worker.run = worker.run, None
        if run is not None and not run.ended.is_set():  # the worker died mid-run
            if not self._closed:
                LOG.warning("run %s: its worker process ended", run.run_id)
            run.end("interrupted", "interrupted")
        with self._changed:
            self._changed.notify_all()  # the dispatcher replaces the worker

    def attach(self, run_id: str, sink) -> ProcessRun | None:
        return None  # another server's workers are not reachable

    def shutdown(self, timeout: float = 10.0) -> None:
        with self._changed:
            self._closed = True
            workers, waiting, self._waiting = list(self._workers), self._waiting, []
            self._changed.notify_all()
        for run in waiting:
            run.end("stopped", "shutdown")
        for worker in workers:
            if worker.run is not None:
                worker.run.stop("shutdown")
        for worker in workers:
            if worker.run is not None:
                worker.run.ended.wait(timeout)
            with contextlib.suppress(OSError):
                worker.send("exit")
            try:
                worker.process.wait(timeout)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout)
        self._listener.close()


# ---------------------------------------------------------------------------------------------
# The worker process
# ---------------------------------------------------------------------------------------------


def _worker_main() -> None:
    from tinylm.fast import use_threads

    use_threads(1)  # one core per training slot
    host, port = os.environ[ADDRESS_ENV].rsplit(":", 1)
    connection = Client((host, int(port)), authkey=bytes.fromhex(os.environ[KEY_ENV]))
    connection.send(("hello", os.getpid()))  # which worker process this connection is
    send_lock = threading.Lock()
    current: dict[str, TrainingJob] = {}
    runs: list[TrainingJob | None] = []
    has_run = threading.Condition()

    def send(*parts: Any) -> None:
        with send_lock:
            connection.send(parts)

    def listen() -> None:  # control messages arrive while the main thread trains
        while True:
            try:
                kind, *rest = connection.recv()
            except (EOFError, OSError):
                kind, rest = "exit", []
            job = current.get("job")
            if kind == "run":  # the job exists at once: a pause or stop sent right after it applies
                _, spec, text, meta = rest
                job = current["job"] = make_job(RunSpec.from_dict(spec), text, meta)
                with has_run:
                    runs.append(job)
                    has_run.notify()
            elif kind == "exit":
                if job is not None:
                    job.stop("shutdown")
                with has_run:
                    runs.append(None)
                    has_run.notify()
                return
            elif job is not None and kind == "pause":
                job.pause()
            elif job is not None and kind == "resume":
                job.resume()
            elif job is not None and kind == "stop":
                job.stop(*rest)

    threading.Thread(target=listen, daemon=True).start()
    while True:
        with has_run:
            has_run.wait_for(lambda: runs)
            job = runs.pop(0)
        if job is None:
            return
        for event in job.events():
            carries_model = event["type"] in ("eval", "end") and event["model_version"]
            send("event", event, job.checkpoint_files() if carries_model else None)


if __name__ == "__main__":
    _worker_main()
