"""The job manager's rules as plain functions: its limits, how long runs are expected to take and
how long a queued run waits, the time budget that keeps a class's waits within minutes, and which runs on
disk pruning must keep (see ui/runs/manager.py)."""

from __future__ import annotations

import heapq
import logging
import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tinylm.errors import TinyLMError
from tinylm.plan import APP_LIMITS, RunSpec, estimate_seconds_per_step
from ui.runs.records import FINISHED_STATES
from ui.runs.store import RunStore

LOG = logging.getLogger("tinylm.runs")
# A class's waits in minutes (fair_budget): the last student of a round should start within this time,
# no run is offered less than MIN_FAIR_SECONDS, and every run costs about RUN_OVERHEAD_SECONDS beyond its
# budget (preparing its data and model, the final checkpoint).
TARGET_WAIT_SECONDS = 210.0
MIN_FAIR_SECONDS = 10.0
RUN_OVERHEAD_SECONDS = 2.0
RECENT_SECONDS = 3600.0  # a run used or finished within this time is never pruned
NEWEST_KEPT = 3  # every student's newest runs are never pruned (but for their own caps)


def cpu_count() -> int:
    """Cores this process may use (a container's CPU set, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 2


@dataclass
class Limits:
    max_jobs: int = field(default_factory=lambda: max(1, cpu_count() - 1))
    max_queue: int = 40  # a class of 30 all pressing Start fits (a student has one queued or training run)
    max_runs: int = 50
    orphan_seconds: float = 90.0
    max_pause_seconds: float = 600.0  # all of a run's pauses together
    max_runs_per_owner: int = 20
    max_imports_per_owner: int = 5

    @classmethod
    def from_env(cls) -> Limits:
        limits = cls()
        for attribute, name, convert, low in (
            ("max_jobs", "TINYLM_MAX_JOBS", int, 1),
            ("max_queue", "TINYLM_MAX_QUEUE", int, 0),
            ("max_runs", "TINYLM_MAX_RUNS", int, 1),
            ("orphan_seconds", "TINYLM_ORPHAN_SECONDS", float, 1.0),
        ):
            raw = os.environ.get(name)
            if raw is None:
                continue
            try:
                setattr(limits, attribute, max(low, convert(raw)))
            except ValueError:
                LOG.warning("ignoring %s=%r (not a number)", name, raw)
        return limits


def session_alive_in_streamlit(session_id: str) -> bool:
    """Whether a Streamlit browser session is still connected (False outside a Streamlit server)."""
    try:
        from streamlit.runtime import Runtime

        return Runtime.exists() and Runtime.instance().is_active_session(session_id)
    except Exception:  # no runtime (tests, scripts), or an internal change: rely on touches alone
        return False


def expected_seconds(spec: RunSpec) -> float:
    """How long a run is expected to train (for queue waits): its time budget, or its steps at the
    planner's estimated speed (a vocabulary of 100 characters: a guess until it is prepared)."""
    if spec.budget == "time":
        return float(min(spec.time_budget, APP_LIMITS.max_seconds))
    try:
        per_step = estimate_seconds_per_step(spec.model_config(100), spec.batch_size)
    except TinyLMError:
        return 60.0
    return float(min(spec.max_steps * per_step * 1.1, APP_LIMITS.max_seconds))


def queue_wait(seconds_left: list[float], ahead: list[float], slots: int) -> float:
    """Seconds until a queued run starts: each slot frees up when the run training in it ends
    (``seconds_left``, from their measured progress), then each run queued before it (``ahead``, in
    order, their expected times) takes the first slot to free up.

        >>> queue_wait([30.0], [60.0, 60.0], slots=1)   # one slot: 30 s, then two minutes of runs
        150.0
    """
    free_at = sorted(seconds_left)[:slots] + [0.0] * max(0, slots - len(seconds_left))
    heapq.heapify(free_at)
    for expected in ahead:
        heapq.heappush(free_at, heapq.heappop(free_at) + expected)
    return free_at[0]


def fair_budget(
    seconds_left: list[float],
    waiting: int,
    slots: int,
    wanted: float,
    *,
    target: float = TARGET_WAIT_SECONDS,
    floor: float = MIN_FAIR_SECONDS,
    overhead: float = RUN_OVERHEAD_SECONDS,
) -> float:
    """The time budget to offer a student so that the queue drains within minutes: the longest budget
    (whole seconds, at most ``wanted``, never below ``floor``) such that if ``waiting`` runs of that
    budget queue behind the runs training now (``seconds_left`` each) on ``slots`` slots, each costing
    ``overhead`` seconds more than its budget, the last of them starts within ``target`` seconds.

    ``waiting`` counts the runs that will start before this student's: the ones queued now, or, in a
    class, the classmates expected in this round (a class of 30 on one slot: 29). A shorter budget does
    not shorten the student's own wait (the runs ahead keep theirs); it is everyone's fair share of the
    lesson, and it shortens the wait of everyone behind. When even ``floor`` cannot meet the target,
    ``floor`` is offered and the page says the honest wait.

        >>> fair_budget([], waiting=29, slots=2, wanted=60.0)   # a class of 30, two slots
        13.0
        >>> fair_budget([], waiting=29, slots=1, wanted=60.0)   # ... one slot: the floor
        10.0
        >>> fair_budget([20.0], waiting=2, slots=1, wanted=60.0)  # a short queue: what was asked
        60.0
    """
    wanted = float(wanted)
    if wanted <= floor:
        return wanted

    def last_start(budget: float) -> float:
        return queue_wait(list(seconds_left), [budget + overhead] * max(0, waiting), max(1, slots))

    if last_start(wanted) <= target:
        return wanted
    low, high = math.floor(floor), math.ceil(wanted)  # last_start(low) may exceed the target: the floor
    while high - low > 1:  # the largest whole second that meets the target (last_start grows with it)
        middle = (low + high) // 2
        if last_start(middle) <= target:
            low = middle
        else:
            high = middle
    return float(min(max(low, floor), wanted))


def owned_runs(store: RunStore, owner: str | None) -> list[dict[str, Any]]:
    """The finished runs of one student on disk, as their summaries (oldest first)."""
    found = [
        summary
        for summary in map(store.read_summary, store.run_ids())
        if summary is not None and summary["owner"] == owner and summary["status"] in FINISHED_STATES
    ]
    return sorted(found, key=lambda summary: summary["created_clock"])


def protected_runs(
    store: RunStore,
    live: set[str],
    uses: Iterable[tuple[str, tuple[float, tuple[str, ...]]]],
    grace_seconds: float,
    session_alive: Callable[[str], bool],
) -> set[str]:
    """Runs pruning never deletes: training or queued (``live``), used or finished recently, shown by
    a connected session (or one seen within ``grace_seconds``), and every student's NEWEST_KEPT runs."""
    now_wall, now = time.time(), time.monotonic()
    keep = set(live)
    for session_id, (seen, run_ids) in uses:
        if now - seen < grace_seconds or session_alive(session_id):
            keep.update(run_ids)
    newest: dict[str, list[tuple[float, str]]] = {}
    for run_id in store.run_ids():
        if now_wall - store.last_used(run_id) < RECENT_SECONDS:
            keep.add(run_id)
        summary = store.read_summary(run_id)
        if summary is not None and summary["owner"]:
            newest.setdefault(summary["owner"], []).append((summary["created_clock"], run_id))
    for runs in newest.values():
        keep.update(run_id for _, run_id in sorted(runs)[-NEWEST_KEPT:])
    return keep
