"""A run's record: the plain state of one run (settings, status, history, samples, attention snapshots),
what a page draws from it (:class:`RunView`), and its JSON form on disk (``run.json``).

A record is written by the job manager as its run's events arrive (from whichever backend trains it)
and read by the pages through :meth:`RunRecord.view`, a consistent copy taken under the record's lock.
Nothing here imports streamlit or torch.

Everything read back from disk or from an uploaded checkpoint goes through the ``clean_*`` functions:
known fields only, each type-checked and length-capped.
"""

from __future__ import annotations

import contextlib
import copy
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from tinylm.checkpoint_meta import HEAD_SCORE_KEYS, HISTORY_WIDTHS
from tinylm.checkpoint_meta import clean_history as clean_checkpoint_history
from tinylm.job import jsonable
from tinylm.plan import RunSpec
from ui.text import bidi_visible

ACTIVE_STATES = ("queued", "preparing", "running", "paused")
FINISHED_STATES = ("done", "stopped", "failed", "error", "interrupted", "uploaded")
MAX_SNAPSHOTS = 40  # attention snapshots kept per run (thinned evenly beyond that)
MAX_REPEAT_TOKENS = 64  # tokens of the repeated probe kept (the job's is 2 × 12)
MAX_SAMPLES = 60  # generated samples kept per run
MAX_POINTS = 200  # "point" events kept per run (a sweep's finished sizes, ...)
MAX_LABEL_CHARS = 80


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def empty_history() -> dict[str, list[tuple]]:
    return {key: [] for key in (*HISTORY_WIDTHS, *HEAD_SCORE_KEYS)}


def run_label(spec: RunSpec, created: float) -> str:
    """A short name for menus: corpus · shape · start time (no part of the secret run id). A file name's
    bidirectional controls are shown as placeholders: they cannot reverse the rest of the label."""
    corpus = spec.corpus if spec.corpus != "custom" else bidi_visible((spec.text_name or "custom")[:24])
    clock = datetime.fromtimestamp(created).strftime("%H:%M:%S")
    if spec.kind == "finetune":  # a fine-tuning run: its task and mode (LoRA with its rank)
        mode = f"LoRA r{spec.lora_rank}" if spec.finetune_mode == "lora" else spec.finetune_mode
        return f"{spec.finetune_task} · {mode} · {clock}"
    return f"{corpus} · {spec.n_layers}L×{spec.n_heads}H d{spec.d_model} · {clock}"


@dataclass(frozen=True)
class RunView:
    """A consistent copy of a run's state for drawing. Lists are copies; snapshot arrays are never
    changed after they are recorded, so they are shared."""

    run_id: str
    kind: str  # "trained" or "uploaded"
    status: str
    message: dict[str, Any] | None  # {"kind": "msg" | "error", "code": ..., "params": {...}}
    label: str
    created: str
    spec: RunSpec
    data: dict[str, Any]
    parameters: int
    step: int
    elapsed: float
    progress: float  # 0..1
    eta_seconds: float | None
    queue_position: int | None  # 1 = next to start
    wait_seconds: float | None  # estimated wait before a queued run starts
    stop_requested: bool
    history: dict[str, list[tuple]]
    samples: list[tuple[int, str]]
    probe_tokens: list[str]
    snapshots: list[tuple[int, np.ndarray]]  # (step, (layers, heads, T, T) attention weights)
    points: list[dict[str, Any]]  # results reported one at a time (e.g. a sweep's finished sizes)
    has_model: bool  # a model is published (other pages may use it)
    model_saved: bool  # its checkpoint is on disk (downloads and "use this model" after a restart)
    model_version: int
    owner: str | None  # who may pause, stop or reset it (a browser's identity); None: nobody
    revision: int  # changes whenever anything above changes
    repeat_tokens: list[str] = field(default_factory=list)  # the repeated probe [x₁ … xₙ, x₁ … xₙ]
    repeat_snapshots: list[tuple[int, np.ndarray]] = field(default_factory=list)  # its attention, as above

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATES

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATES


class RunRecord:
    """One run's state. The manager writes (as events arrive), pages read through :meth:`view`;
    both under ``lock``."""

    def __init__(self, run_id: str, spec: RunSpec, kind: str = "trained", owner: str | None = None) -> None:
        self.lock = threading.Lock()
        self.run_id, self.spec, self.kind, self.owner = run_id, spec, kind, owner
        self.status = "queued"
        self.message: dict[str, Any] | None = None
        self.created = now_iso()
        self.created_clock = time.time()
        self.label = run_label(spec, self.created_clock)
        self.data: dict[str, Any] = {}
        self.parameters = 0
        self.step = 0
        self.elapsed = 0.0
        self.history = empty_history()
        self.samples: list[tuple[int, str]] = []
        self.probe_tokens: list[str] = []
        self.snapshots: list[tuple[int, np.ndarray]] = []
        self.repeat_tokens: list[str] = []
        self.repeat_snapshots: list[tuple[int, np.ndarray]] = []
        self.points: list[dict[str, Any]] = []  # results a job reports one at a time ("point" events)
        self.has_model = False
        self.model_saved = False
        self.model_version = 0
        self.revision = 0
        self.max_steps = spec.max_steps
        self.time_budget: float | None = spec.time_budget if spec.budget == "time" else None
        # Control state (the manager's; not saved):
        self.stop_requested = False
        self.stop_reason = ""  # why a stop was requested: "user", "abandoned", "pause_cap", "time_cap"
        self.pause_requested = False
        self.started_clock: float | None = None  # time.monotonic() when training began (pauses count)
        self.paused_since: float | None = None
        self.paused_total = 0.0  # seconds paused so far, all pauses together
        self.last_seen = time.monotonic()
        self.watchers: OrderedDict[str, None] = OrderedDict()  # browser sessions that looked at it
        self.last_written = 0.0
        self.last_saved = time.monotonic()
        self.saved_version = 0  # the model version on disk

    def touch(self, session_id: str | None = None) -> None:
        with self.lock:
            self.last_seen = time.monotonic()
            if session_id:
                self.watchers[session_id] = None
                self.watchers.move_to_end(session_id)
                while len(self.watchers) > 16:
                    self.watchers.popitem(last=False)

    def bump(self) -> None:
        """Call under the lock after any change: views (and the charts cached on them) are renewed."""
        self.revision += 1

    def progress(self) -> tuple[float, float | None]:
        """Fraction done and seconds left, from the time budget or the step count."""
        if self.status in FINISHED_STATES:
            return 1.0, None
        if self.time_budget:
            fraction = min(1.0, self.elapsed / self.time_budget)
            return fraction, max(0.0, self.time_budget - self.elapsed) if self.step else None
        fraction = min(1.0, self.step / max(1, self.max_steps))
        if self.step == 0:
            return fraction, None
        return fraction, self.elapsed / self.step * (self.max_steps - self.step)

    def view(self, queue_position: int | None = None, wait_seconds: float | None = None) -> RunView:
        with self.lock:
            progress, eta = self.progress()
            return RunView(
                run_id=self.run_id,
                kind=self.kind,
                status=self.status,
                message=copy.deepcopy(self.message),
                label=self.label,
                created=self.created,
                spec=self.spec,
                data=dict(self.data),
                parameters=self.parameters,
                step=self.step,
                elapsed=self.elapsed,
                progress=progress,
                eta_seconds=eta,
                queue_position=queue_position,
                wait_seconds=wait_seconds,
                stop_requested=self.stop_requested,
                history={key: list(rows) for key, rows in self.history.items()},
                samples=list(self.samples),
                probe_tokens=list(self.probe_tokens),
                snapshots=list(self.snapshots),
                points=[dict(point) for point in self.points],
                has_model=self.has_model,
                model_saved=self.model_saved,
                model_version=self.model_version,
                owner=self.owner,
                revision=self.revision,
                repeat_tokens=list(self.repeat_tokens),
                repeat_snapshots=list(self.repeat_snapshots),
            )

    # -- events from the job (tinylm.job), applied under the lock ---------------------------------
    def apply(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        with self.lock:
            if kind == "prepared":
                self.data = dict(event["data"])
                self.parameters = int(event["parameters"])
                self.max_steps = int(event["max_steps"])
                self.probe_tokens = list(event["probe_tokens"])
                self.repeat_tokens = list(event.get("repeat_tokens") or [])[:MAX_REPEAT_TOKENS]
                self.status = "paused" if self.pause_requested else "running"
            elif kind == "step":
                step, elapsed = event["step"], event["elapsed"]
                self.history["train"].append((step, elapsed, event["train_loss"]))
                self.history["learning_rate"].append((step, event["learning_rate"]))
                self.history["tokens_per_sec"].append((step, event["tokens_per_sec"]))
                self.step, self.elapsed = step, elapsed
            elif kind == "eval":
                self.history["val"].append((event["step"], event["elapsed"], event["val_loss"]))
                if event.get("accuracy") is not None:
                    self.history["accuracy"].append((event["step"], event["accuracy"]))
                for name, value in (event.get("extras") or {}).items():  # head and ICL scores
                    if name in self.history:
                        self.history[name].append((event["step"], value))
                self.step, self.elapsed = event["step"], event["elapsed"]
                if event.get("attention") is not None:
                    self.snapshots = thin(
                        [*self.snapshots, (event["step"], event["attention"])], MAX_SNAPSHOTS
                    )
                if event.get("repeat_attention") is not None:
                    self.repeat_snapshots = thin(
                        [*self.repeat_snapshots, (event["step"], event["repeat_attention"])], MAX_SNAPSHOTS
                    )
                self.has_model, self.model_version = True, int(event["model_version"])
            elif kind == "sample":
                self.samples = thin([*self.samples, (event["step"], event["text"])], MAX_SAMPLES)
            elif kind == "point":
                self.points = [*self.points, clean_data(event.get("point"))][-MAX_POINTS:]
            elif kind == "schedule":
                self.data.update(
                    eval_interval=event["eval_interval"], sample_interval=event["sample_interval"]
                )
            elif kind == "end":
                self.status = event["status"]
                self.message = event["message"]
                if event["model_version"]:
                    self.has_model, self.model_version = True, int(event["model_version"])
                    self.step, self.elapsed = event["step"], event["elapsed"]
                self.paused_since = None
            self.bump()

    # -- persistence -------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        with self.lock:
            return jsonable(
                {
                    "format": "tinylm-run",
                    "version": 1,
                    "id": self.run_id,
                    "kind": self.kind,
                    "status": self.status,
                    "message": self.message,
                    "label": self.label,
                    "created": self.created,
                    "created_clock": self.created_clock,
                    "updated": now_iso(),
                    "spec": self.spec.to_dict(),
                    "data": self.data,
                    "parameters": self.parameters,
                    "step": self.step,
                    "elapsed": round(self.elapsed, 3),
                    "time_budget": self.time_budget,
                    "max_steps": self.max_steps,
                    "history": {key: [list(row) for row in rows] for key, rows in self.history.items()},
                    "samples": [list(row) for row in self.samples],
                    "probe_tokens": self.probe_tokens,
                    "snapshots": [
                        [step, np.round(array.astype(np.float32), 4).tolist()]
                        for step, array in self.snapshots
                    ],
                    "repeat_tokens": self.repeat_tokens,
                    "repeat_snapshots": [
                        [step, np.round(array.astype(np.float32), 4).tolist()]
                        for step, array in self.repeat_snapshots
                    ],
                    "points": self.points,
                    "has_model": self.has_model,
                    "model_saved": self.model_saved,
                    "model_version": self.model_version,
                    "owner": self.owner,
                }
            )

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> RunRecord:
        """A finished run (or, after its server stopped, an interrupted one) read back from its run.json."""
        record = cls(
            str(document["id"]), RunSpec.from_dict(document.get("spec")), _text(document.get("kind"), 16)
        )
        status = str(document.get("status", "interrupted"))
        if status in ACTIVE_STATES or status not in FINISHED_STATES:
            status = "interrupted"  # it was training when its server stopped
            record.message = {"kind": "msg", "code": "interrupted", "params": {}}
        else:
            record.message = clean_message(document.get("message"))
        record.status = status
        record.label = _text(document.get("label"), MAX_LABEL_CHARS)
        record.created = _text(document.get("created"), 40)
        record.created_clock = _number(document.get("created_clock")) or 0.0
        record.data = clean_data(document.get("data"))
        record.parameters = _count(document.get("parameters"))
        record.step = _count(document.get("step"))
        record.elapsed = _number(document.get("elapsed")) or 0.0
        record.time_budget = _number(document.get("time_budget"))
        record.max_steps = _count(document.get("max_steps")) or record.spec.max_steps
        record.history = clean_history(document.get("history"))
        record.samples = clean_samples(document.get("samples"))
        tokens = document.get("probe_tokens")
        record.probe_tokens = [_text(token, 40) for token in tokens[:512]] if isinstance(tokens, list) else []
        record.snapshots = clean_snapshots(document.get("snapshots"))
        tokens = document.get("repeat_tokens")
        if isinstance(tokens, list):
            record.repeat_tokens = [_text(token, 40) for token in tokens[:MAX_REPEAT_TOKENS]]
        record.repeat_snapshots = clean_snapshots(document.get("repeat_snapshots"))
        points = document.get("points")
        record.points = (
            [clean_data(point) for point in points[:MAX_POINTS]] if isinstance(points, list) else []
        )
        record.has_model = bool(document.get("has_model"))
        # Older run.json files did not say; their model was on disk exactly when they had one.
        record.model_saved = bool(document.get("model_saved", record.has_model))
        record.model_version = _count(document.get("model_version"))
        record.saved_version = record.model_version if record.model_saved else 0
        owner = document.get("owner")
        record.owner = owner if isinstance(owner, str) and len(owner) <= 64 else None
        return record


def clean_snapshots(rows: Any) -> list[tuple[int, np.ndarray]]:
    """[step, (layers, heads, T, T) attention] rows read back from a run.json (at most MAX_SNAPSHOTS)."""
    snapshots = []
    for row in (rows if isinstance(rows, list) else [])[:MAX_SNAPSHOTS]:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            snapshots.append((int(row[0]), np.asarray(row[1], dtype=np.float16)))
    return [s for s in snapshots if s[1].ndim == 4]


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12 else 0


def clean_message(message: Any) -> dict[str, Any] | None:
    """A stored status message: a short code and a few short parameters, nothing else."""
    if not isinstance(message, dict) or not isinstance(message.get("code"), str):
        return None
    params = message.get("params") if isinstance(message.get("params"), dict) else {}
    kept = {
        str(key)[:40]: value if not isinstance(value, str) else value[:200]
        for key, value in list(params.items())[:10]
        if isinstance(value, (str, int, float)) and not isinstance(value, bool)
    }
    return {"kind": _text(message.get("kind"), 16), "code": message["code"][:40], "params": kept}


def clean_data(data: Any) -> dict[str, Any]:
    """A run's data summary: numbers and a short sample prompt."""
    if not isinstance(data, dict):
        return {}
    kept: dict[str, Any] = {}
    for key, value in list(data.items())[:20]:
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and math.isfinite(value):
            kept[str(key)[:40]] = value
        elif isinstance(value, str):
            kept[str(key)[:40]] = value[:200]
    return kept


def clean_history(history: Any) -> dict[str, list[tuple]]:
    """A history (ours, or an uploaded checkpoint's) reduced to finite numeric rows, bounded
    (tinylm.checkpoint.clean_history), as the tuples a record holds."""
    cleaned = clean_checkpoint_history(history)
    return {key: [tuple(row) for row in cleaned.get(key, [])] for key in (*HISTORY_WIDTHS, *HEAD_SCORE_KEYS)}


def clean_samples(samples: Any) -> list[tuple[int, str]]:
    """(step, text) samples, bounded and thinned to MAX_SAMPLES."""
    rows = clean_checkpoint_history({"samples": samples}).get("samples", [])
    return thin([(step, text) for step, text in rows], MAX_SAMPLES)


def thin(items: list, limit: int) -> list:
    """Keep at most ``limit`` items, evenly spread, always keeping the first and the newest."""
    if len(items) <= limit:
        return items
    keep = {round(i * (len(items) - 1) / (limit - 1)) for i in range(limit)}
    return [item for index, item in enumerate(items) if index in keep]
