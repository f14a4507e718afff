"""What the job manager does when several app replicas share one Ray cluster and one runs folder.

A mixin of :class:`ui.runs.manager.JobManager` (it uses the manager's lock, live set, handles and
store), kept apart so the manager reads as the single-server story it mostly is. With the in-process
thread backend none of this changes anything: that backend has no ``others`` and no
``runs_outlive_server``, so the cluster-wide counts are empty and no run is ever attached.

    _others()            seconds left of the runs *other* replicas train on the cluster: busy slots for
                         scheduling, and part of a queued run's estimated wait (``backend.others``)
    _attach(run_id, doc) a run.json that says "training" while this replica has no such run: another
                         replica started it (or this one before a restart). If the backend reaches the
                         run (a live actor of that name), the run becomes live here too: a record made
                         from run.json's settings and owner, then from the run's own events replayed
                         from the first, so it is exactly the record the other replica holds
    who writes run.json  the replica that started a run writes it (and saves its checkpoint at
                         evaluations) while the run trains; a replica that follows it does so only once
                         the starter has stopped writing (it is gone); both write the final state and
                         save the final checkpoint (atomic writes of the same content: whichever lands
                         last is right). A queued run lives in one replica's queue: that replica
                         rewrites its run.json every QUEUED_REWRITE_SECONDS, and another replica shows
                         it as "queued" while the file is fresh
    who ends the actor   ui/runs/ray_backend.py: the last replica to release the ended run kills it
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ui.runs.policy import expected_seconds
from ui.runs.records import RunRecord
from ui.runs.store import RECORD_FILE, RunStore

QUEUED_REWRITE_SECONDS = 20.0  # a queued run's run.json is rewritten this often (shared runs folder),
QUEUED_FRESH_SECONDS = 60.0  # ... so another replica shows it as queued while it is this fresh
TAKEOVER_SECONDS = 15.0  # three of the manager's run.json intervals without a write: its starter is gone


class ReplicaSharing:
    """Mixed into JobManager; see the module docstring."""

    _lock: threading.RLock
    _live: dict[str, RunRecord]
    _running: set[str]
    _attached: set[str]
    _handles: dict[str, Any]
    store: RunStore
    _save_model: Callable[[RunRecord], None]

    def _sink(self, record: RunRecord) -> tuple[Callable[[dict[str, Any]], None], threading.Event]:
        """The record's event sink, held back until its handle is registered (``registered.set()``):
        an attached run replays its events at once, and an evaluation's save needs the handle."""
        registered = threading.Event()

        def sink(event: dict[str, Any]) -> None:
            registered.wait(10.0)
            self._on_event(record, event)

        return sink, registered

    def elsewhere_seconds_left(self) -> list[float]:
        """Seconds left of each run other replicas train on the same cluster (none for a local backend):
        for estimates of the wait a new run would have (ui/class_data.queue_now)."""
        return self._others()

    def _others(self) -> list[float]:
        """Seconds left of the runs other replicas train on the same cluster ([] for the thread backend)."""
        others = getattr(self.backend, "others", None)
        if others is None:
            return []
        with self._lock:
            local = set(self._running)
        return others(local)

    def _attach(self, run_id: str, document: dict[str, Any]) -> RunRecord | None:
        """Follow a run that another replica started and that still trains (the backend reaches it by
        its id): a record rebuilt from run.json's settings and owner, then from the run's own events,
        replayed from the first. None when the backend cannot reach it."""
        try:
            base = RunRecord.from_json(document)
        except (KeyError, TypeError, ValueError):
            return None
        record = RunRecord(run_id, base.spec, kind=base.kind, owner=base.owner)
        record.label, record.created, record.created_clock = base.label, base.created, base.created_clock
        record.data["expected_seconds"] = expected_seconds(base.spec)
        record.model_saved = base.model_saved and self.store.has_checkpoint(run_id)
        record.status = "preparing"
        record.last_written = time.monotonic()
        sink, registered = self._sink(record)
        with self._lock:
            if run_id in self._live:
                return self._live[run_id]
            self._live[run_id] = record
            self._running.add(run_id)
            self._attached.add(run_id)
        handle = self.backend.attach(run_id, sink)
        with self._lock:
            if handle is None:
                self._live.pop(run_id, None)
                self._running.discard(run_id)
                self._attached.discard(run_id)
                return None
            if run_id in self._live:
                self._handles[run_id] = handle
        registered.set()
        with record.lock:
            stopped, reason = record.stop_requested, record.stop_reason
        if stopped:  # stopped from a page of this replica meanwhile
            handle.stop(reason or "user")
        replayed = getattr(handle, "replayed", None)
        if replayed is not None:
            replayed.wait(5.0)  # the first view shows the run as it is, not as "preparing"
        with record.lock:
            if "saved_step" in base.data:
                record.data.setdefault("saved_step", base.data["saved_step"])
        return record

    def _save_at_evaluation(self, record: RunRecord) -> None:
        """The starter saves the training run's checkpoint; a follower only notes that one is on disk
        (two replicas saving different versions could pair one's weights with the other's history)."""
        if self._writes_while_active(record):
            self._save_model(record)
        elif not record.model_saved and self.store.has_checkpoint(record.run_id):
            with record.lock:
                record.model_saved = True
                record.bump()

    def _writes_while_active(self, record: RunRecord) -> bool:
        """The replica that started a run writes its run.json while it trains; one that follows it
        takes over once run.json has not been written for TAKEOVER_SECONDS (its starter is gone)."""
        if record.run_id in self._attached and not self._fresh(record.run_id, TAKEOVER_SECONDS):
            self._attached.discard(record.run_id)  # from now on this replica writes it
        return record.run_id not in self._attached

    def _fresh(self, run_id: str, seconds: float) -> bool:
        try:
            return time.time() - (self.store.root / run_id / RECORD_FILE).stat().st_mtime < seconds
        except OSError:
            return False


def mark_paused(record: RunRecord) -> bool:
    """The record of a run that pauses (False when it cannot: not preparing or running)."""
    with record.lock:
        if record.status not in ("preparing", "running"):
            return False
        if not record.pause_requested:
            record.pause_requested = True
            record.paused_since = time.monotonic()
        if record.status == "running":
            record.status = "paused"
        record.bump()
    return True


def mark_resumed(record: RunRecord) -> None:
    with record.lock:
        record.pause_requested = False
        if record.paused_since is not None:
            record.paused_total += time.monotonic() - record.paused_since
            record.paused_since = None
        if record.status == "paused":
            record.status = "running"
        record.bump()
