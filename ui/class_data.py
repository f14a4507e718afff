"""Classroom mode's data, as plain Python (no streamlit): a class's runs as rows for the teacher's
dashboard and the class gallery, their flags (waiting, stuck, diverged), the teacher's preset checked
against the app's bounds, and the queue as a student about to press Start sees it.

The pages draw what these functions return (ui/class_view.py). Reading a class's runs is kept cheap for
pages that refresh every few seconds: a finished run never changes, so its row is built once and kept
(:class:`RowCache`); only the runs that are queued or training are read from the job manager again.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from tinylm.corpora import BUILTIN_CORPORA
from tinylm.plan import APP_BOUNDS, RunSpec
from tinylm.presets import PRESETS
from ui.classroom import ClassRun
from ui.runs import JobManager, RunView
from ui.runs.policy import expected_seconds, queue_wait

STUCK_SECONDS = 30.0  # a training run that has shown no new step for this long is flagged "stuck"
CURVE_POINTS = 150  # points kept of each run's loss curve (a class of 30 overlaid stays light)
SAMPLE_CHARS = 400  # of a run's latest sample
FLAGS = ("diverged", "stuck", "waiting")
# Settings a preset may not set: what kind of job it is and the name of a student's own text.
NOT_IN_PRESET = ("kind", "text_name")


# ---------------------------------------------------------------------------------------------
# A run as one row
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRow:
    """What the dashboard and the gallery show of one run (and nothing about its student but the name)."""

    run_id: str
    member: str  # the display name
    status: str
    active: bool
    step: int
    progress: float  # 0..1 of its budget
    elapsed: float
    queue_position: int | None
    wait_seconds: float | None
    val_loss: float | None  # the last finite validation loss
    best_val: float | None
    entropy: float | None  # the unigram entropy of its text: a loss above it learned nothing
    non_finite: bool  # a loss became NaN or infinite
    message_code: str
    sample: str  # the latest generated sample ("" before the first)
    sample_step: int
    spec: RunSpec
    parameters: int
    model_saved: bool
    train_curve: tuple[tuple[int, float, float], ...]  # (step, seconds, loss), thinned
    val_curve: tuple[tuple[int, float, float], ...]
    revision: int


def thin(rows: Sequence[tuple], limit: int = CURVE_POINTS) -> tuple[tuple, ...]:
    """At most ``limit`` evenly spaced rows, the last one always kept."""
    if len(rows) <= limit:
        return tuple(rows)
    stride = math.ceil(len(rows) / limit)
    return (*rows[::stride][:-1], rows[-1])


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def row_from_view(view: RunView, member: str) -> RunRow:
    val = view.history["val"]
    finite_val = [loss for _, _, loss in val if math.isfinite(loss)]
    non_finite = len(finite_val) < len(val) or any(not math.isfinite(r[2]) for r in view.history["train"])
    message_code = str((view.message or {}).get("code") or "")
    sample_step, sample = view.samples[-1] if view.samples else (0, "")
    return RunRow(
        run_id=view.run_id,
        member=member,
        status=view.status,
        active=view.active,
        step=view.step,
        progress=float(view.progress),
        elapsed=float(view.elapsed),
        queue_position=view.queue_position,
        wait_seconds=view.wait_seconds,
        val_loss=finite_val[-1] if finite_val else None,
        best_val=min(finite_val) if finite_val else None,
        entropy=_finite(view.data.get("unigram_entropy")),
        non_finite=non_finite,
        message_code=message_code,
        sample=sample[:SAMPLE_CHARS],
        sample_step=sample_step,
        spec=view.spec,
        parameters=view.parameters,
        model_saved=view.model_saved,
        train_curve=thin(view.history["train"]),
        val_curve=thin(view.history["val"]),
        revision=view.revision,
    )


# ---------------------------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------------------------


def diverged(row: RunRow) -> bool:
    """The loss became NaN (the run failed on it, or a loss was not finite), or the validation loss is
    still above the unigram entropy after more than half of the run: it learned nothing of the context."""
    if row.non_finite or (row.status == "failed" and row.message_code == "nan"):
        return True
    return (
        row.entropy is not None
        and row.val_loss is not None
        and row.progress > 0.5
        and row.status not in ("queued", "preparing")
        and row.val_loss > row.entropy
    )


def run_flag(row: RunRow, stalled_seconds: float, stuck_after: float = STUCK_SECONDS) -> str | None:
    """ "diverged", "stuck" (training, and no new step for ``stuck_after`` seconds), "waiting" (queued),
    or None."""
    if diverged(row):
        return "diverged"
    if row.status in ("preparing", "running") and stalled_seconds > stuck_after:
        return "stuck"
    if row.status == "queued":
        return "waiting"
    return None


class ProgressWatch:
    """When each run last moved (a new step or a new status), as seen by the pages that look at it:
    a run's record says how long it trained, not when its last step arrived. Shared by the server's
    sessions (one watch per process), bounded."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, limit: int = 4096) -> None:
        self._clock, self._limit = clock, limit
        self._seen: OrderedDict[str, tuple[int, str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def stalled_for(self, run_id: str, step: int, status: str) -> float:
        """Seconds since this run's step or status last changed (0 the first time it is seen)."""
        now = self._clock()
        with self._lock:
            seen = self._seen.get(run_id)
            if seen is None or seen[:2] != (step, status):
                self._seen[run_id] = (step, status, now)
                seen = self._seen[run_id]
            self._seen.move_to_end(run_id)
            while len(self._seen) > self._limit:
                self._seen.popitem(last=False)
            return now - seen[2]


# ---------------------------------------------------------------------------------------------
# A class's runs, cheaply
# ---------------------------------------------------------------------------------------------


class RowCache:
    """The rows of finished runs (which never change), so a refresh reads only the live runs again.
    A run deleted from disk (pruning) is skipped and forgotten."""

    def __init__(self, limit: int = 1024) -> None:
        self._rows: OrderedDict[str, RunRow] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def rows(self, manager: JobManager, class_runs: Iterable[ClassRun]) -> list[RunRow]:
        live = set(manager.live_jobs())
        found = []
        for run in class_runs:
            row = None
            if run.run_id not in live:
                with self._lock:
                    row = self._rows.get(run.run_id)
                if row is not None and not manager.store.directory(run.run_id).is_dir():
                    with self._lock:
                        self._rows.pop(run.run_id, None)
                    continue  # pruned since
            if row is None:
                view = manager.get(run.run_id)
                if view is None:
                    continue  # no such run any more
                row = row_from_view(view, run.member_name)
                if view.finished:
                    with self._lock:
                        self._rows[run.run_id] = row
                        while len(self._rows) > self._limit:
                            self._rows.popitem(last=False)
            if row.member != run.member_name:  # the student renamed themselves
                row = replace(row, member=run.member_name)
            found.append(row)
        return found


def gallery(rows: Iterable[RunRow]) -> list[RunRow]:
    """The finished training runs of a class, best (lowest final validation loss) first."""
    done = [row for row in rows if not row.active and row.status != "error" and row.step > 0]
    return sorted(done, key=lambda row: (row.val_loss is None, row.val_loss or 0.0, row.member))


def best_runs(rows: Iterable[RunRow], count: int) -> list[RunRow]:
    """The ``count`` best finished runs, at most one per student (their best)."""
    chosen, members = [], set()
    for row in gallery(rows):
        if row.val_loss is not None and row.member not in members:
            members.add(row.member)
            chosen.append(row)
    return chosen[:count]


def rows_stamp(rows: Sequence[RunRow], tick_seconds: float) -> tuple:
    """What a chart of these rows is cached by: while any trains, a clock tick (every viewer shares one
    figure per tick); once all have ended, their revisions."""
    if any(row.active for row in rows):
        return ("tick", int(time.monotonic() // tick_seconds))
    return tuple((row.run_id, row.revision, row.member) for row in rows)


# ---------------------------------------------------------------------------------------------
# The teacher's preset
# ---------------------------------------------------------------------------------------------


def _valid(name: str, value: Any, default: Any) -> tuple[bool, Any]:
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        if isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        ok = isinstance(value, float) and math.isfinite(value)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    else:
        ok = False
    if not ok:
        return False, value
    bound = APP_BOUNDS[name]
    if bound.options is not None and value not in bound.options:
        return False, value
    if bound.low is not None and value < bound.low:
        return False, value
    if bound.high is not None and value > bound.high:
        return False, value
    if bound.max_length is not None and len(value) > bound.max_length:
        return False, value
    return True, value


def clean_preset(settings: Any) -> dict[str, Any]:
    """The run settings of a preset that the app accepts: RunSpec fields within ``APP_BOUNDS``, of the
    right type, a built-in corpus and a known preset name; anything else is dropped (a preset is read
    back from a database, so it is checked again wherever it is used)."""
    if not isinstance(settings, dict):
        return {}
    defaults = RunSpec()
    names = {item.name for item in fields(RunSpec)} - set(NOT_IN_PRESET)
    kept: dict[str, Any] = {}
    for name, value in settings.items():
        if name not in names or name not in APP_BOUNDS:
            continue
        ok, value = _valid(name, value, getattr(defaults, name))
        if ok:
            kept[name] = value
    if kept.get("corpus") not in (None, *BUILTIN_CORPORA):
        kept.pop("corpus")
    if kept.get("preset") not in (None, *PRESETS):
        kept.pop("preset")
    return kept


def preset_spec(corpus: str, settings: dict[str, Any]) -> RunSpec:
    """Where a student's Train page starts in a class: the corpus's recommended spec (with the preset the
    teacher chose), then the teacher's settings (``corpus`` is the student's choice here)."""
    from tinylm.plan import recommended_spec

    clean = clean_preset(settings)
    base = recommended_spec(corpus, clean.get("preset"))
    clean.pop("corpus", None)
    return base.with_settings(**clean)


# ---------------------------------------------------------------------------------------------
# The queue, as a student about to press Start sees it
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueNow:
    wait: float  # seconds a run submitted now waits before it starts
    running: int
    queued: int
    slots: int
    seconds_left: tuple[float, ...]  # of each run training now (from its measured progress)


def queue_now(manager: JobManager) -> QueueNow:
    """The queue now: how long a new run would wait (the runs training free their slots as their own
    measured progress says, then each queued run takes its expected time), from the manager's views."""
    views = [view for view in map(manager.get, manager.live_jobs()) if view is not None]
    running = [view for view in views if view.status != "queued"]
    queued = sorted((v for v in views if v.status == "queued"), key=lambda v: v.queue_position or 0)
    left = tuple(v.eta_seconds if v.eta_seconds is not None else expected_seconds(v.spec) for v in running)
    left += tuple(manager.elsewhere_seconds_left())  # other app replicas' runs on a shared Ray cluster
    slots = max(1, manager.server_load()["max_jobs"])
    wait = queue_wait(list(left), [expected_seconds(v.spec) for v in queued], slots)
    return QueueNow(wait, len(left), len(queued), slots, left)
