"""The job manager: the server-wide registry of runs — queue, fair sharing, records, disk, models.

Why a background job at all: a Streamlit script is re-run (and a running one interrupted) by every
click, by a language switch and by leaving the page, so a training loop cannot live in a page script.
A backend (ui/runs/backend.py: a thread of this process by default, a Ray actor on a cluster) trains
the run and streams its events back; the manager turns them into the run's record, which pages only
*read* (in fragments that refresh about once a second).

One run: queued → preparing → running ⇄ paused → done | stopped | failed | error; after a server
restart a run that was training is "interrupted"; an uploaded checkpoint is a run of kind "uploaded".

Fair sharing, for a class of thirty on one server (environment variables in brackets):
    training slots: cores − 1, at least one [TINYLM_MAX_JOBS]; the rest wait in a queue of at most
    TINYLM_MAX_QUEUE runs; one student has at most one run queued or training (a student is a browser:
    ui/runs/session.py); a run's wall-clock time is bounded from its start, pauses included, and its
    pauses together by max_pause_seconds; a run nobody watches whose browser is gone is stopped after
    TINYLM_ORPHAN_SECONDS; only the student who started a run (or a teacher) may pause, stop or reset it.
Disk: pruning keeps the runs folder within TINYLM_MAX_RUNS runs and each student within their own caps
(ui/runs/pruning.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tinylm.checkpoint import Checkpoint, checkpoint_zip_bytes, read_checkpoint_zip
from tinylm.corpora import BUILTIN_CORPORA
from tinylm.errors import TinyLMError
from tinylm.job import JobInputs
from tinylm.plan import MAX_APP_SECONDS, RunSpec
from ui.runs.backend import Backend, ThreadBackend
from ui.runs.policy import Limits, expected_seconds, queue_wait, session_alive_in_streamlit
from ui.runs.pruning import RunPruning
from ui.runs.records import ACTIVE_STATES, FINISHED_STATES, RunRecord, RunView, clean_history, clean_samples
from ui.runs.replicas import (
    QUEUED_FRESH_SECONDS,
    QUEUED_REWRITE_SECONDS,
    ReplicaSharing,
    mark_paused,
    mark_resumed,
)
from ui.runs.store import RunStore, new_run_id, valid_run_id

LOG = logging.getLogger("tinylm.runs")

MAX_PASTED_CHARS = 200_000  # a pasted text; uploads may be larger (tinylm.data checks them)
MODELS_IN_MEMORY = 8  # models of finished runs kept loaded (least recently used dropped)
RECORDS_IN_MEMORY = 16  # finished runs' records (history, samples, snapshots) kept loaded
SAVE_EVERY_SECONDS = 5.0  # a training run's checkpoint is written at an evaluation at most this often
WRITE_EVERY_SECONDS = 5.0  # ... and its run.json


class JobManager(ReplicaSharing, RunPruning):
    """Thread-safe; one per server process (see ``ui.runs.manager()``)."""

    def __init__(
        self,
        runs_dir: Path | str | None = None,
        limits: Limits | None = None,
        backend: Backend | None = None,
        session_alive: Callable[[str], bool] = session_alive_in_streamlit,
    ) -> None:
        self.store = RunStore(runs_dir)
        self.runs_dir = self.store.root
        self.limits = limits or Limits.from_env()
        self.backend = backend or ThreadBackend(self.limits.max_jobs)
        self.session_alive = session_alive
        self._lock = threading.RLock()
        self._live: dict[str, RunRecord] = {}  # queued and training runs
        self._handles: dict[str, Any] = {}  # run id → the backend's RunHandle, while it trains
        self._texts: dict[str, str | JobInputs | None] = {}  # a queued run's inputs, until it starts
        self._queue: deque[str] = deque()
        self._running: set[str] = set()
        self._attached: set[str] = set()  # live runs another replica started (see _attach)
        self._finished_cache: OrderedDict[str, RunRecord] = OrderedDict()  # finished runs (LRU)
        self._models: OrderedDict[str, tuple[Checkpoint, int]] = OrderedDict()  # their models (LRU)
        self._uses: dict[str, tuple[float, tuple[str, ...]]] = {}  # session → (last seen, runs it shows)
        self._closed = threading.Event()
        self._janitor = threading.Thread(target=self._janitor_loop, name="tinylm-janitor", daemon=True)
        self._janitor.start()

    # -- starting and controlling runs ------------------------------------------------------------
    def submit(
        self,
        spec: RunSpec,
        text: str | None = None,
        owner: str | None = None,
        base: dict[str, bytes] | None = None,
    ) -> str:
        """Queue a run; returns its id. ``text`` is the custom text (None: a built-in corpus); ``owner``
        the student starting it (one active run each); ``base`` a trained model's checkpoint files for
        a job that starts from one (fine-tuning)."""
        if spec.corpus not in BUILTIN_CORPORA and text is None and base is None:
            raise TinyLMError(
                "unknown_corpus", "unknown corpus", name=spec.corpus, choices=", ".join(BUILTIN_CORPORA)
            )
        elsewhere = len(self._others())
        with self._lock:
            if self.active_run_of(owner) is not None:
                raise TinyLMError("one_run_each", "this student already has a run queued or training")
            busy = len(self._running) + elsewhere
            if len(self._queue) >= self.limits.max_queue and busy >= self.backend.slots():
                raise TinyLMError("queue_full", "the queue is full", limit=self.limits.max_queue)
            run_id = new_run_id()
            record = RunRecord(run_id, spec, owner=owner)
            record.data["expected_seconds"] = expected_seconds(spec)
            self._live[run_id] = record
            self._texts[run_id] = JobInputs(text, base) if base is not None else text
            self._queue.append(run_id)
        self._write(record)
        self._schedule()
        return run_id

    def active_run_of(self, owner: str | None) -> str | None:
        """The run this student has queued or training, if any."""
        with self._lock:
            return next((r.run_id for r in self._live.values() if owner and r.owner == owner), None)

    def can_control(self, run_id: str, who: str | None) -> bool:
        """Whether ``who`` (a student's identity) may pause, stop or reset the run: its owner only."""
        record = self._find_record(run_id)
        return record is not None and who is not None and record.owner == who

    def pause(self, run_id: str, who: str | None = None, force: bool = False) -> bool:
        record = self._live_record(run_id)
        if record is None or not (force or self.can_control(run_id, who)):
            return False
        if not mark_paused(record):
            return False
        handle = self._handles.get(run_id)
        if handle is not None:
            handle.pause()
        return True

    def resume(self, run_id: str, who: str | None = None, force: bool = False) -> bool:
        record = self._live_record(run_id)
        if record is None or not (force or self.can_control(run_id, who)):
            return False
        mark_resumed(record)
        handle = self._handles.get(run_id)
        if handle is not None:
            handle.resume()
        return True

    def stop(self, run_id: str, who: str | None = None, reason: str = "user", force: bool = False) -> bool:
        """Stop a run: a queued one is dropped, a training one ends after its current step (well under
        a second) and keeps the model trained so far. Only its owner may (or ``force``: the server)."""
        if not (force or self.can_control(run_id, who)):
            return False
        with self._lock:
            record = self._live.get(run_id)
            if record is None:
                return False
            if run_id in self._queue:
                self._queue.remove(run_id)
                self._texts.pop(run_id, None)
                code = "cancelled" if reason == "user" else reason
                record.apply(
                    {
                        "type": "end",
                        "status": "stopped",
                        "message": _msg(code, steps=0),
                        "step": 0,
                        "elapsed": 0.0,
                        "model_version": 0,
                    }
                )
                with record.lock:
                    record.stop_requested = True
                self._leave_live_set(record)
                dropped = True
            else:
                dropped = False
        if dropped:
            self._write(record)
            self._schedule()
            return True
        with record.lock:
            if record.stop_requested:
                return True
            record.stop_requested = True
            record.stop_reason = reason
            record.bump()
        handle = self._handles.get(run_id)
        if handle is not None:
            handle.stop(reason)
        return True

    def touch(self, run_ids: Iterable[str], session_id: str | None = None) -> dict[str, tuple[str, int]]:
        """A browser session shows these runs (it keeps them alive and off the pruning list).
        Returns {run id: (status, step)} of the live ones."""
        run_ids = tuple(r for r in run_ids if valid_run_id(r))[:64]
        if session_id:
            with self._lock:
                self._uses[session_id] = (time.monotonic(), run_ids)
                while len(self._uses) > 500:  # sessions that went away long ago
                    self._uses.pop(min(self._uses, key=lambda s: self._uses[s][0]))
        states = {}
        with self._lock:
            live = [(self._live[r], self._handles.get(r)) for r in run_ids if r in self._live]
        for record, handle in live:
            record.touch(session_id)
            if hasattr(handle, "touch"):  # a backend shared by replicas: tell the run itself
                handle.touch()
            states[record.run_id] = (record.status, record.step)
        return states

    # -- reading runs --------------------------------------------------------------------------------
    def get(self, run_id: str) -> RunView | None:
        """The run's current state, from memory or from its run.json; None if there is no such run."""
        record = self._find_record(run_id)
        if record is None:
            return None
        position = self.queue_position(run_id)
        return record.view(position, self.estimated_wait(run_id) if position else None)

    def exists(self, run_id: str) -> bool:
        return self._find_record(run_id) is not None

    def queue_position(self, run_id: str) -> int | None:
        with self._lock:
            try:
                return self._queue.index(run_id) + 1
            except ValueError:
                return None

    def estimated_wait(self, run_id: str) -> float | None:
        """Seconds until a queued run starts: the slots free up as the training runs end (their own
        time left, from their measured progress) and then as each run queued before it ends."""
        if self.queue_position(run_id) is None:
            return None
        elsewhere = self._others()  # other replicas' runs on a shared cluster
        with self._lock:
            if run_id not in self._queue:
                return None
            running = [self._live[r] for r in self._running if r in self._live]
            ahead = [self._live[r] for r in list(self._queue)[: self._queue.index(run_id)]]
            slots = max(1, self.backend.slots())
        left = [self._seconds_left(r) for r in running] + elsewhere
        return queue_wait(left, [float(r.data.get("expected_seconds", 60.0)) for r in ahead], slots)

    @staticmethod
    def _seconds_left(record: RunRecord) -> float:
        with record.lock:
            _, eta = record.progress()
            expected = float(record.data.get("expected_seconds", 60.0))
        return eta if eta is not None else expected

    def has_model(self, run_id: str) -> bool:
        """Whether the run's model can be used (its checkpoint is on disk), without loading it."""
        record = self._find_record(run_id)
        return record is not None and record.model_saved

    def model_for(self, run_id: str) -> tuple[Checkpoint, int] | None:
        """The run's model once its checkpoint is on disk (a training run: its newest published
        snapshot, never the weights being trained) and its version; None without one."""
        if not valid_run_id(run_id):
            return None
        with self._lock:
            record = self._live.get(run_id)
            handle = self._handles.get(run_id)
            if record is None and run_id in self._models:
                self._models.move_to_end(run_id)
                return self._models[run_id]
        if record is not None:  # training: its published snapshot, once one was saved
            checkpoint = handle.checkpoint() if handle is not None else None
            return (
                (checkpoint, record.model_version) if checkpoint is not None and record.model_saved else None
            )
        record = self._find_record(run_id)
        if record is None or not record.model_saved:
            return None
        checkpoint = self.store.read_checkpoint(run_id)
        if checkpoint is None:
            return None
        checkpoint.model.requires_grad_(False)
        found = (checkpoint, record.model_version)
        with self._lock:
            self._remember_model(run_id, found)
        return found

    def checkpoint_zip(self, run_id: str) -> bytes | None:
        """The run's model as a .zip checkpoint (safetensors + JSON) for a download; None without one."""
        found = self.model_for(run_id)
        if found is None:
            return None
        checkpoint, _ = found
        return checkpoint_zip_bytes(
            checkpoint.model, checkpoint.tokenizer, checkpoint.history, checkpoint.meta
        )

    def import_checkpoint(self, data: bytes, filename: str = "", owner: str | None = None) -> str:
        """An uploaded .zip checkpoint becomes a run of kind "uploaded" (validated by
        tinylm.checkpoint.read_checkpoint_zip: no pickles, no torch .pt files, shapes checked, metadata
        reduced to known fields)."""
        checkpoint = read_checkpoint_zip(data)
        if owner is not None:  # a student's own oldest uploads go when they bring too many
            imports = [summary for summary in self._owned(owner) if summary["kind"] == "uploaded"]
            for summary in imports[: max(0, len(imports) - self.limits.max_imports_per_owner + 1)]:
                self._delete(summary["id"])
        checkpoint.model.requires_grad_(False)
        meta = dict(checkpoint.meta)
        name = str(meta.get("name") or Path(filename).stem or "uploaded")[:60]
        train = meta.get("train_config") if isinstance(meta.get("train_config"), dict) else {}
        spec = RunSpec.from_configs(
            checkpoint.model.config,
            train,
            corpus="custom",
            text_name=str(meta.get("corpus") or "?")[:60],
            tokenizer=checkpoint.tokenizer.kind,
            preset="upload",
        )
        run_id = new_run_id()
        record = RunRecord(run_id, spec, kind="uploaded", owner=owner)
        record.status = "uploaded"
        record.label = f"⬆ {name}"
        record.parameters = checkpoint.model.num_parameters()
        record.history = clean_history(checkpoint.history)
        record.samples = clean_samples(checkpoint.history.get("samples"))
        record.step = meta["steps"] if isinstance(meta.get("steps"), int) and meta["steps"] >= 0 else 0
        record.data = {"vocab": checkpoint.tokenizer.vocab_size}
        record.has_model, record.model_version = True, 1
        meta.update(name=record.label, run_id=run_id)
        checkpoint.meta = meta
        if not self.store.save_checkpoint(run_id, checkpoint):
            raise TinyLMError("disk_full", "the server could not save the checkpoint")
        record.model_saved = True
        self._write(record)
        with self._lock:
            self._finished_cache[run_id] = record
            self._trim_records()
            self._remember_model(run_id, (checkpoint, record.model_version))
        self._prune(owner)
        return run_id

    def server_load(self) -> dict[str, int]:
        """How busy the server is: runs training, runs waiting, training slots."""
        elsewhere = len(self._others())
        with self._lock:
            return {
                "running": len(self._running) + elsewhere,
                "queued": len(self._queue),
                "max_jobs": self.backend.slots(),
            }

    def live_jobs(self) -> list[str]:
        with self._lock:
            return list(self._live)

    def thread_of(self, run_id: str) -> threading.Thread | None:
        """The thread a run trains in (the thread backend only; tests)."""
        finder = getattr(self.backend, "thread_of", None)
        return finder(run_id) if finder is not None else None

    def wait(
        self, run_id: str, timeout: float = 60.0, states: tuple[str, ...] = FINISHED_STATES
    ) -> RunView | None:
        """Block until the run reaches one of ``states`` (tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while True:
            view = self.get(run_id)
            if view is None or view.status in states or time.monotonic() > deadline:
                return view
            time.sleep(0.05)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every run and the janitor, and wait for the backend (tests, server exit). Runs on a
        backend shared by replicas go on training (another replica may follow them: ray_backend.py)."""
        self._closed.set()
        for run_id in [] if getattr(self.backend, "runs_outlive_server", False) else self.live_jobs():
            self.stop(run_id, reason="user", force=True)
        self.backend.shutdown(timeout)
        self._janitor.join(timeout)

    # -- events from the backend ---------------------------------------------------------------------
    def _on_event(self, record: RunRecord, event: dict[str, Any]) -> None:
        """Called by the backend, in its thread, with each of the run's events in order."""
        kind = event["type"]
        if kind == "end":
            self._end_run(record, event)
            return
        if kind == "paused":  # the run's own pause state changed (a replica paused or resumed it)
            mark_paused(record) if event["paused"] else mark_resumed(record)
            return
        record.apply(event)
        now = time.monotonic()
        if kind == "prepared":
            with record.lock:
                record.started_clock = now
        elif kind == "eval" and event["step"] > 0 and now - record.last_saved > SAVE_EVERY_SECONDS:
            record.last_saved = now
            self._save_at_evaluation(record)
        if now - record.last_written > WRITE_EVERY_SECONDS and self._writes_while_active(record):
            self._write(record)

    def _end_run(self, record: RunRecord, event: dict[str, Any]) -> None:
        """The run ended: its final model to disk first (so "use this model" and the download never
        offer what is not saved), then its status, then its slot to the next in the queue."""
        if event["model_version"]:
            with record.lock:
                record.model_version = int(event["model_version"])
            self._save_model(record)
        elif event["status"] == "interrupted" and record.model_version > record.saved_version:
            self._save_model(record)  # its worker died: keep the newest model it had handed over
        record.apply(event)
        with self._lock:
            self._leave_live_set(record)
        self._write(record)
        self._prune(record.owner)
        self._schedule()

    def _save_model(self, record: RunRecord) -> None:
        with self._lock:
            handle = self._handles.get(record.run_id)
        checkpoint = handle.checkpoint() if handle is not None else None
        if checkpoint is None:
            return
        saved = self.store.save_checkpoint(record.run_id, checkpoint)
        if saved:
            with record.lock:
                record.model_saved, record.saved_version = True, record.model_version
                record.data["saved_step"] = checkpoint.meta.get("steps", record.step)
                record.bump()

    # -- internals -------------------------------------------------------------------------------------
    def _live_record(self, run_id: str) -> RunRecord | None:
        with self._lock:
            return self._live.get(run_id)

    def _find_record(self, run_id: str) -> RunRecord | None:
        """A run's record: live, cached, or read from disk."""
        if not valid_run_id(run_id):
            return None
        with self._lock:
            if run_id in self._live:
                return self._live[run_id]
            if run_id in self._finished_cache:
                self._finished_cache.move_to_end(run_id)
                return self._finished_cache[run_id]
        document = self.store.read_record(run_id)
        if document is None:
            return None
        shared = getattr(self.backend, "runs_outlive_server", False)
        if shared and document.get("status") in ACTIVE_STATES:  # another replica's run, maybe
            live = self._attach(run_id, document)
            if live is not None:
                return live
            document = self.store.read_record(run_id) or document  # it may have ended meanwhile
        try:
            record = RunRecord.from_json(document)
        except (KeyError, TypeError, ValueError):
            LOG.warning("run %s: run.json unreadable", run_id)
            return None
        record.model_saved = record.model_saved and self.store.has_checkpoint(run_id)  # what the disk holds
        if shared and document.get("status") == "queued" and self._fresh(run_id, QUEUED_FRESH_SECONDS):
            record.status, record.message = "queued", None  # in another replica's queue: not cached
            return record
        with self._lock:
            if run_id in self._live:  # submitted meanwhile (cannot happen with random ids)
                return self._live[run_id]
            self._finished_cache[run_id] = record
            self._trim_records()
        return record

    def _trim_records(self) -> None:
        while len(self._finished_cache) > RECORDS_IN_MEMORY:
            self._finished_cache.popitem(last=False)

    def _remember_model(self, run_id: str, found: tuple[Checkpoint, int]) -> None:
        self._models[run_id] = found
        self._models.move_to_end(run_id)
        while len(self._models) > MODELS_IN_MEMORY:
            self._models.popitem(last=False)

    def _schedule(self) -> None:
        """Start queued runs while there are free training slots (on a shared cluster, the slots other
        replicas' runs hold are busy too)."""
        while True:
            with self._lock:
                if not self._queue or self._closed.is_set():
                    return
            elsewhere = len(self._others())
            with self._lock:
                if not self._queue or len(self._running) + elsewhere >= self.backend.slots():
                    return
                run_id = self._queue.popleft()
                record = self._live[run_id]
                text = self._texts.pop(run_id, None)
                self._running.add(run_id)
                with record.lock:
                    record.status = "preparing"
                    record.bump()
            meta = {"name": record.label, "created": record.created, "run_id": run_id}
            sink, registered = self._sink(record)
            handle = self.backend.start(run_id, record.spec, text, meta, sink)
            with self._lock:
                if run_id in self._live:
                    self._handles[run_id] = handle
            registered.set()
            with record.lock:
                paused, stopped, reason = record.pause_requested, record.stop_requested, record.stop_reason
            if stopped:  # stopped while the backend was starting it (a Ray actor takes a moment)
                handle.stop(reason or "user")
            elif paused:
                handle.pause()

    def _leave_live_set(self, record: RunRecord) -> None:
        """A run left the live set: keep its record (and its final model) in the bounded caches."""
        with self._lock:
            self._live.pop(record.run_id, None)
            self._running.discard(record.run_id)
            self._attached.discard(record.run_id)
            handle = self._handles.pop(record.run_id, None)
            self._finished_cache[record.run_id] = record
            self._finished_cache.move_to_end(record.run_id)
            self._trim_records()
            checkpoint = handle.checkpoint() if handle is not None else None
            if checkpoint is not None and record.model_saved and record.saved_version == record.model_version:
                self._remember_model(record.run_id, (checkpoint, record.model_version))  # the one on disk

    def _write(self, record: RunRecord) -> None:
        record.last_written = time.monotonic()
        self.store.write_record(record.run_id, record.to_json())

    def _janitor_loop(self) -> None:
        """Once a second: stop runs whose browser is gone, that paused too long, or ran too long."""
        while not self._closed.wait(1.0):
            try:
                self._sweep()
            except Exception:  # the janitor must never die
                LOG.exception("job janitor")

    def _sweep(self) -> None:
        now = time.monotonic()
        with self._lock:
            live = list(self._live.values())
        if getattr(self.backend, "runs_outlive_server", False):  # other replicas see it as queued
            for record in live:
                if record.status == "queued" and now - record.last_written > QUEUED_REWRITE_SECONDS:
                    self._write(record)
        for record in live:
            handle = self._handles.get(record.run_id)
            seen_anywhere = handle.unseen_seconds() if hasattr(handle, "unseen_seconds") else None
            with record.lock:
                if record.stop_requested:
                    continue
                unseen = now - record.last_seen
                if seen_anywhere is not None:  # shown by a page of another replica
                    unseen = min(unseen, seen_anywhere)
                watchers = list(record.watchers)
                paused = record.paused_total + (now - record.paused_since if record.paused_since else 0.0)
                started = record.started_clock
                budget = record.time_budget or MAX_APP_SECONDS
                over_time = record.elapsed > MAX_APP_SECONDS + 10 and record.status == "running"
            wall_limit = budget + self.limits.max_pause_seconds + 60.0  # pauses included, from its start
            if unseen > self.limits.orphan_seconds and not any(self.session_alive(s) for s in watchers):
                self.stop(record.run_id, reason="abandoned", force=True)
            elif paused > self.limits.max_pause_seconds:
                self.stop(record.run_id, reason="pause_cap", force=True)
            elif over_time or (started is not None and now - started > wall_limit):
                self.stop(record.run_id, reason="time_cap", force=True)
        self._schedule()


def _msg(code: str, **params: Any) -> dict[str, Any]:
    return {"kind": "msg", "code": code, "params": params}
