"""One training run inside a Ray actor (see ui/runs/ray_backend.py for the app's side).

This module imports only tinylm, torch and the standard library (never streamlit; ray only to end
itself), so a Ray worker imports it cheaply; ``ray_backend`` turns :class:`RunActor` into a remote class with
``ray.remote(num_cpus=1, max_concurrency=...)``: the run holds one CPU of the cluster.

Inside the actor:
    a training thread   ``make_job(spec, text, meta).events()`` with one torch thread; every event
                        is appended to the run's event log with the time it was made
    the method threads  poll(cursor) answers with the events after a cursor (waiting up to a moment
                        for new ones: a long poll), and pause / resume / stop / checkpoint / touch /
                        release / progress are served while the training thread trains
    a watchdog thread   once a second: a run that no app replica has polled for ``orphan_seconds``
                        (every replica is gone) is stopped as "abandoned"; an ended run exits once the
                        replicas that watched it have released it, or ``linger_seconds`` after its end

The log keeps every event (a run has at most a few thousand: the planner logs at most ~2000 steps), so
a replica that attaches later replays the run from cursor 0 and rebuilds exactly the same record.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from typing import Any

import torch

from tinylm.fast import use_threads
from tinylm.job import make_job, message
from tinylm.plan import RunSpec

LOG = logging.getLogger("tinylm.runs.ray")
MAX_EVENTS = 20_000  # beyond this (it does not happen with the app's limits), old step events are dropped
WATCHER_SECONDS = 10.0  # a replica that has not polled for this long no longer counts as watching


class RunActor:
    """A run: its job, its event log, and the replicas that watch it."""

    def __init__(
        self,
        run_id: str,
        spec: dict[str, Any],
        text: str | None,
        meta: dict[str, Any],
        expected_seconds: float = 60.0,
        orphan_seconds: float = 90.0,
        linger_seconds: float = 30.0,
    ) -> None:
        torch.set_num_threads(1)
        self.run_id = run_id
        self.expected_seconds = float(expected_seconds)
        self.orphan_seconds, self.linger_seconds = float(orphan_seconds), float(linger_seconds)
        self.job = make_job(RunSpec.from_dict(spec), text, meta)  # a job of the spec's kind
        self._events: list[tuple[float, dict[str, Any]] | None] = []  # (time made, event); None: dropped
        self._steps_kept: list[int] = []  # indexes of the step events in the log (the ones dropped first)
        self._changed = threading.Condition()
        self._paused = False
        self._ended_at: float | None = None  # time.monotonic() of the end event
        self._last_poll = self._last_touch = time.monotonic()
        self._watchers: dict[str, float] = {}  # replica's watcher id → when it last polled
        self._released: set[str] = set()
        self._progress = {"step": 0, "elapsed": 0.0, "max_steps": 0, "time_budget": None}
        threading.Thread(target=self._train, name="tinylm-ray-train", daemon=True).start()
        threading.Thread(target=self._watch, name="tinylm-ray-watchdog", daemon=True).start()

    # -- the training thread -------------------------------------------------------------------------
    def _train(self) -> None:
        use_threads(1)  # a per-thread setting: this thread trains with one core
        ended = False
        try:
            for event in self.job.events():
                ended = ended or event["type"] == "end"
                self._append(event)
        except Exception:  # TrainingJob catches its own errors; this is a last resort
            LOG.exception("run %s: the training thread failed", self.run_id)
        if not ended:
            self._append(
                {
                    "type": "end",
                    "status": "error",
                    "message": message("error", "unexpected"),
                    "step": int(self._progress["step"]),
                    "elapsed": float(self._progress["elapsed"]),
                    "model_version": self.job.model_version,
                }
            )

    def _append(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        with self._changed:
            if kind == "prepared":
                self._progress["max_steps"] = int(event["max_steps"])
                self._progress["time_budget"] = event.get("time_budget")
            elif kind in ("step", "eval"):
                self._progress["step"], self._progress["elapsed"] = event["step"], event["elapsed"]
            elif kind == "end":
                self._ended_at = time.monotonic()
            if kind == "step":
                self._steps_kept.append(len(self._events))
            self._events.append((time.time(), event))
            if len(self._steps_kept) > MAX_EVENTS:
                self._events[self._steps_kept.pop(0)] = None
            self._changed.notify_all()

    # -- the app's calls ------------------------------------------------------------------------------
    def poll(self, cursor: int, watcher: str, wait: float = 0.5) -> dict[str, Any]:
        """The events from ``cursor`` on as (index, time made, event), waiting up to ``wait`` seconds for
        one; also whether the run is paused and how long ago any replica's page last showed it."""
        now = time.monotonic()
        with self._changed:
            self._last_poll = now
            self._watchers[watcher] = now
            if len(self._events) <= cursor and self._ended_at is None:
                self._changed.wait(timeout=max(0.0, min(float(wait), 5.0)))
            events = [
                (index, item[0], item[1])
                for index, item in enumerate(self._events[cursor:], start=cursor)
                if item is not None
            ]
            return {
                "events": events,
                "next": len(self._events),
                "paused": self._paused,
                "unseen": time.monotonic() - self._last_touch,
            }

    def pause(self) -> None:
        self._paused = True
        self.job.pause()

    def resume(self) -> None:
        self._paused = False
        self.job.resume()

    def stop(self, reason: str = "user") -> None:
        self.job.stop(reason)

    def touch(self) -> None:
        """A page of some replica shows the run (the manager's janitor reads ``unseen`` from polls)."""
        self._last_touch = time.monotonic()

    def checkpoint(self, known_version: int = -1) -> tuple[int, dict[str, bytes] | None]:
        """The published snapshot's version and its two files (None when it is ``known_version``)."""
        version = self.job.model_version
        if version == known_version:
            return version, None
        files = self.job.checkpoint_files()
        return version, files

    def progress(self) -> dict[str, Any]:
        """For other replicas' queue estimates: seconds left (0 once ended) and whether it ended."""
        with self._changed:
            ended = self._ended_at is not None
            step, elapsed = self._progress["step"], self._progress["elapsed"]
            budget, max_steps = self._progress["time_budget"], self._progress["max_steps"]
        if ended:
            left = 0.0
        elif budget:
            left = max(0.0, float(budget) - elapsed)
        elif step and max_steps:
            left = elapsed / step * max(0, max_steps - step)
        else:
            left = self.expected_seconds
        return {"seconds_left": left, "ended": ended}

    def release(self, watcher: str) -> int:
        """The replica ``watcher`` has what it needs of the ended run. Returns how many other replicas
        still watch it (polled within WATCHER_SECONDS and not released): 0 means the caller ends it."""
        now = time.monotonic()
        with self._changed:
            self._released.add(watcher)
            return sum(
                1
                for other, seen in self._watchers.items()
                if other not in self._released and now - seen < WATCHER_SECONDS
            )

    def info(self) -> dict[str, Any]:
        """The worker's process id and memory (tests and benchmarks): resident (VmRSS), proportional
        (Pss: shared libraries split between the processes using them) and private bytes (Linux)."""
        memory = {"VmRSS": 0, "Pss": 0, "Private_Clean": 0, "Private_Dirty": 0}
        for path in ("/proc/self/status", "/proc/self/smaps_rollup"):
            with contextlib.suppress(OSError), open(path) as lines:
                for line in lines:
                    name, _, value = line.partition(":")
                    if name in memory and value.strip().endswith("kB"):
                        memory[name] = int(value.split()[0]) * 1024
        return {
            "pid": os.getpid(),
            "rss_bytes": memory["VmRSS"],
            "pss_bytes": memory["Pss"],
            "private_bytes": memory["Private_Clean"] + memory["Private_Dirty"],
            "torch_threads": torch.get_num_threads(),
        }

    # -- the watchdog ----------------------------------------------------------------------------------
    def _watch(self) -> None:
        while True:
            time.sleep(1.0)
            now = time.monotonic()
            with self._changed:
                ended_at, last_poll = self._ended_at, self._last_poll
                watching = [w for w, seen in self._watchers.items() if now - seen < WATCHER_SECONDS]
                released = all(w in self._released for w in watching) and bool(self._released)
            if ended_at is None:
                if now - last_poll > self.orphan_seconds:  # no replica polls: every one is gone
                    self.job.stop("abandoned")
            elif released or now - ended_at > self.linger_seconds:
                self._exit()
                return

    def _exit(self) -> None:
        """End this actor (normally the last replica to release it does; this is the fallback)."""
        try:
            import ray

            ray.kill(ray.get_runtime_context().current_actor)
        except Exception:
            LOG.exception("run %s: the actor could not end itself", self.run_id)
            os._exit(0)
