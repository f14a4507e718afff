"""Pruning the runs folder: which runs the job manager deletes, and when.

At most TINYLM_MAX_RUNS runs are kept; pruning deletes the least recently used first and never a
run that trains, that finished recently, that a connected session uses, or one of a student's newest
runs; each student keeps at most max_runs_per_owner runs and uploads at most max_imports_per_owner
checkpoints (their own oldest go first).

A mixin of :class:`ui.runs.manager.JobManager` (it uses the manager's lock, live set, caches, limits
and store), kept apart like ui/runs/replicas.py. The manager prunes when a run ends and when a
checkpoint is uploaded; what must be kept is decided by plain functions of ui/runs/policy.py
(``owned_runs``, ``protected_runs``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from tinylm.checkpoint import Checkpoint
from ui.runs.policy import Limits, owned_runs, protected_runs
from ui.runs.records import RunRecord
from ui.runs.store import RunStore


class RunPruning:
    """Mixed into JobManager; see the module docstring."""

    _lock: threading.RLock
    _live: dict[str, RunRecord]
    _uses: dict[str, tuple[float, tuple[str, ...]]]
    _finished_cache: OrderedDict[str, RunRecord]
    _models: OrderedDict[str, tuple[Checkpoint, int]]
    limits: Limits
    store: RunStore
    session_alive: Callable[[str], bool]

    def _owned(self, owner: str | None) -> list[dict[str, Any]]:
        return owned_runs(self.store, owner)

    def _protected(self) -> set[str]:
        with self._lock:
            live, uses = set(self._live), list(self._uses.items())
        return protected_runs(self.store, live, uses, self.limits.orphan_seconds, self.session_alive)

    def _prune(self, owner: str | None = None) -> None:
        """A student's own runs beyond their cap (oldest first), then the least recently used runs
        beyond the server's cap, never a protected one."""
        if owner is not None:
            owned = self._owned(owner)
            for summary in owned[: max(0, len(owned) - self.limits.max_runs_per_owner)]:
                self._delete(summary["id"])
        run_ids = self.store.run_ids()
        if len(run_ids) <= self.limits.max_runs:
            return
        keep = self._protected()
        candidates = sorted((r for r in run_ids if r not in keep), key=self.store.last_used)
        for run_id in candidates[: len(run_ids) - self.limits.max_runs]:
            self._delete(run_id)

    def _delete(self, run_id: str) -> None:
        with self._lock:
            if run_id in self._live:
                return
            self._finished_cache.pop(run_id, None)
            self._models.pop(run_id, None)
        self.store.delete(run_id)
