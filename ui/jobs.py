"""Background training runs: one worker thread per job, a server-wide queue, runs kept on disk.

Why a thread: a Streamlit script is re-run (and a running one interrupted) by every click, by a
language switch and by leaving the page, so the training loop cannot live in the page script. A
worker thread owns it instead and writes plain Python state into a :class:`Job` under a lock; the
Train page only *reads* that state (in a fragment that refreshes about once a second). Nothing here
calls ``st.*`` from a worker (no Streamlit API is thread-safe), except the two helpers at the end,
which run in the page's own script thread.

One job, step by step (``JobManager._work``):
    queued → preparing (text → tokenizer → token ids → model) → running ⇄ paused → done | stopped | failed
The worker sets one torch thread (``tinylm.fast.use_threads(1)``; two jobs with two threads each on two
cores fight and run many times slower), then iterates ``Trainer.events()``. The trainer is a generator,
so between two events it is suspended: on an ``"eval"`` event the worker can safely copy the weights
into a *published snapshot* (eval mode, never touched again; other pages run forward passes on it
from their own threads) and record the attention weights on a fixed probe text.

Classroom safety, all configurable through environment variables:
    TINYLM_RUNS_DIR        where runs are kept (default ``<repo>/runs``), one directory per run
    TINYLM_MAX_JOBS        jobs training at the same time (default: cores − 1, at least 1); the rest queue
    TINYLM_MAX_QUEUE       jobs allowed to wait (default 20); more are refused with a message
    TINYLM_MAX_RUNS        finished runs kept on disk (default 50); the oldest are deleted
    TINYLM_ORPHAN_SECONDS  a job nobody has looked at for this long, and whose browser session is gone,
                           is stopped (default 90); its model is kept, its memory released
Hard limits per run: ``MAX_APP_SECONDS`` of training, ``MAX_APP_STEPS`` steps, ``MAX_JOB_MEMORY``
of estimated memory, ``MAX_PAUSE_SECONDS`` of pause (a paused job keeps its place in the queue).

On disk, ``<runs dir>/<run id>/``: ``run.json`` (status, settings, history, samples, attention
snapshots, times) and, once the run has a model, the checkpoint (``model.safetensors`` +
``tinylm.json``, see ``tinylm.checkpoint``). A run id is ``secrets.token_urlsafe(16)`` (128 random
bits): it is the only key to a run, so students see each other's runs only if they share the link.
Ids are checked against a strict pattern before they ever touch the file system.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import os
import re
import secrets
import shutil
import statistics
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import torch

from tinylm.bench import train_flops_per_token
from tinylm.checkpoint import (
    Checkpoint,
    checkpoint_zip_bytes,
    read_checkpoint,
    read_checkpoint_zip,
    save_checkpoint,
)
from tinylm.config import ModelConfig, count_parameters, estimate_training_memory_bytes
from tinylm.corpora import BUILTIN_CORPORA, generate_corpus
from tinylm.data import BUILTIN_CORPUS_CHARS, MAX_TEXT_BYTES, min_chars_needed, prepare_data
from tinylm.errors import TinyLMError
from tinylm.fast import make_optimizer, use_threads
from tinylm.model import TinyLM
from tinylm.presets import PRESETS, RECOMMENDED
from tinylm.tasks import TASKS
from tinylm.tokenizers import BPETokenizer, CharTokenizer, Tokenizer
from tinylm.train import TrainConfig, Trainer, TrainEvent

LOG = logging.getLogger("tinylm.jobs")
ROOT = Path(__file__).resolve().parents[1]

SESSION_RUNS_KEY = "_runs"  # st.session_state: this browser session's run ids, newest last
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22}$")  # secrets.token_urlsafe(16) and nothing else

ACTIVE_STATES = ("queued", "preparing", "running", "paused")
FINISHED_STATES = ("done", "stopped", "failed", "error", "interrupted", "uploaded")

MAX_APP_SECONDS = 600.0  # longest training run the app accepts (10 minutes)
MAX_APP_STEPS = 20_000  # most steps a step-counted run may ask for
TIME_MODE_MAX_STEPS = 100_000  # safety cap on a time-budget run's steps (the time ends it first)
MAX_JOB_MEMORY = (
    1_500_000_000  # estimated bytes one job may need (tinylm.config.estimate_training_memory_bytes)
)
MAX_PAUSE_SECONDS = 600.0  # a job paused this long is stopped (it holds a training slot)
MAX_PASTED_CHARS = 200_000  # a pasted text; uploads may be larger
MAX_UPLOAD_TEXT_BYTES = MAX_TEXT_BYTES  # an uploaded .txt (tinylm.data checks it, with a bilingual message)
MAX_SNAPSHOTS = 40  # attention snapshots kept per run (thinned evenly beyond that)
MAX_SAMPLES = 60  # generated samples kept per run
PROBE_TOKENS = 24  # length of the fixed text whose attention is recorded
MODELS_IN_MEMORY = 8  # published models of finished runs kept loaded (least recently used dropped)
RECORDS_IN_MEMORY = 16  # finished runs' records (history, samples, snapshots) kept loaded
SAVE_EVERY_SECONDS = 30.0  # a running job writes its checkpoint this often (a server crash loses little)
WRITE_EVERY_SECONDS = 5.0  # ... and its run.json this often
BPE_SECONDS = 15.0  # time limit for learning BPE merges on a custom text

# Time estimate for a training step with one torch thread, fitted on this project's 2-core test machine
# (benchmarks/app_training.py prints the measured figures): a fixed cost per step and per layer (Python
# and kernel launches dominate tiny models) plus the FLOPs of tinylm.bench.train_flops_per_token at a
# sustained rate. Measured with one thread while other jobs loaded the machine (load average 5-6):
# 18 ms/step for the tiny preset (estimate 30), 118 for small (162), 343 for live (362), 1.9 s for a
# 6-layer d_model-192 context-128 model (2.4 s): the estimate errs on the long side. Time-budget runs
# re-plan their evaluations from the measured speed after their first steps (JobManager._record).
EVAL_TOKENS = 8192  # validation tokens per evaluation (the same windows every time)
SAMPLE_TOKENS = 80  # tokens per generated sample
TASK_EXAMPLES = 40  # held-out questions per evaluation of a task (exact match)
STEP_OVERHEAD_SECONDS = 0.004
LAYER_OVERHEAD_SECONDS = 0.0015
SUSTAINED_FLOPS = 30e9
DECODE_OVERHEAD_SECONDS = 0.001  # one generated token (KV cache): overhead-bound for tiny models
DECODE_LAYER_SECONDS = 0.0009


# ---------------------------------------------------------------------------------------------
# What a student asks for, and what it will cost
# ---------------------------------------------------------------------------------------------


class JobError(Exception):
    """A refusal by the job runner (queue full, run too long, ...). ``code`` names a ``train.error.*``
    string, ``params`` fill it; ``message`` is English for logs."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.params = code, message, params


@dataclass(frozen=True)
class RunSpec:
    """Every setting of a training run, flat, so that runs can be compared column by column."""

    corpus: str = "stories-en"  # a built-in corpus (tinylm.corpora) or "custom"
    text_name: str = ""  # custom text: "pasted" or the uploaded file's name
    tokenizer: str = "char"  # "char" or "bpe"
    bpe_vocab: int = 512
    n_layers: int = 4
    n_heads: int = 4
    d_model: int = 128
    context_len: int = 64
    dropout: float = 0.0
    pos_encoding: str = "sinusoidal"
    activation: str = "gelu"
    tie_weights: bool = True
    batch_size: int = 32
    learning_rate: float = 3e-3
    warmup_steps: int = 30
    budget: str = "time"  # "time": train for time_budget seconds; "steps": for max_steps steps
    time_budget: float = 60.0
    max_steps: int = 1000
    sample_every: int = 0  # steps between samples; 0 chooses about ten samples per run
    seed: int = 0
    preset: str = ""  # the preset the settings started from (shown in the comparison table)
    sample_prompt: str = ""

    def model_config(self, vocab_size: int) -> ModelConfig:
        """The model this spec describes (raises TinyLMError with the reason when it cannot exist)."""
        return ModelConfig(
            vocab_size=vocab_size,
            context_len=self.context_len,
            d_model=self.d_model,
            n_layers=self.n_layers,
            n_heads=self.n_heads,
            dropout=self.dropout,
            pos_encoding=self.pos_encoding,
            activation=self.activation,
            tie_weights=self.tie_weights,
        )

    @property
    def task(self) -> str | None:
        """The algorithmic task to score by exact match, if the corpus is one."""
        return self.corpus if self.corpus in TASKS else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> RunSpec:
        """Tolerant: unknown keys and values of the wrong type are dropped (a run.json from an older app)."""
        if not isinstance(data, dict):
            return cls()
        defaults = cls()
        kwargs = {}
        for item in fields(cls):
            value = data.get(item.name)
            default = getattr(defaults, item.name)
            if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if value is not None and type(value) is type(default):
                kwargs[item.name] = value
        return cls(**kwargs)


@dataclass(frozen=True)
class Plan:
    """What a spec will cost, worked out before anything is trained (shown next to the Start button)."""

    parameters: int
    memory_bytes: int
    seconds_per_step: float  # estimated, one thread
    steps: int  # the step limit, or the steps expected to fit in the time budget
    seconds: float  # expected training time (without waiting in the queue)
    tokens_per_step: int
    train_config: TrainConfig  # everything the Trainer gets, intervals included


def estimate_seconds_per_step(config: ModelConfig, batch_size: int) -> float:
    """Estimated wall time of one training step with one thread (see SUSTAINED_FLOPS above)."""
    flops = train_flops_per_token(config) * batch_size * config.context_len
    return STEP_OVERHEAD_SECONDS + LAYER_OVERHEAD_SECONDS * config.n_layers + flops / SUSTAINED_FLOPS


def overhead_seconds(config: ModelConfig, spec: RunSpec, seconds_per_step: float) -> tuple[float, float]:
    """Estimated seconds of one evaluation and of one sample.

    An evaluation is a forward pass over EVAL_TOKENS validation tokens (about 40 % of a training step's
    work per token: no backward pass, no optimizer), plus, for a task, greedy answers to TASK_EXAMPLES
    questions token by token; a sample is SAMPLE_TOKENS tokens generated one at a time (KV cache)."""
    tokens_per_step = spec.batch_size * config.context_len
    decode = DECODE_OVERHEAD_SECONDS + DECODE_LAYER_SECONDS * config.n_layers
    evaluation = EVAL_TOKENS / tokens_per_step * seconds_per_step * 0.4
    if spec.task:
        evaluation += TASK_EXAMPLES * 10 * decode
    return evaluation, SAMPLE_TOKENS * decode


def schedule(
    steps: int, seconds_per_step: float, eval_seconds: float, sample_seconds: float, sample_every: int = 0
) -> tuple[int, int, int]:
    """How often to log, evaluate and sample in a run of about ``steps`` steps.

    A log event about twice a second (at most ~2000 points). Evaluations (validation loss, attention
    snapshot, published weights) and samples show progress but cost time the run does not train:
    up to twelve evaluations and ten samples, fewer when they would take more than about 6 % and 4 % of
    the run (at least three evaluations and two samples). ``sample_every`` overrides the samples."""
    run_seconds = steps * seconds_per_step
    n_evals = int(min(12, max(3, 0.06 * run_seconds / max(eval_seconds, 1e-9))))
    n_samples = int(min(10, max(2, 0.04 * run_seconds / max(sample_seconds, 1e-9))))
    log_interval = max(1, min(50, round(0.5 / seconds_per_step)), math.ceil(steps / 2000))
    eval_interval = max(log_interval, round(steps / n_evals / log_interval) * log_interval)
    sample_interval = sample_every or max(
        log_interval, round(steps / n_samples / log_interval) * log_interval
    )
    return log_interval, eval_interval, sample_interval


def make_plan(spec: RunSpec, vocab_size: int, text_tokens: int | None = None) -> Plan:
    """Check a spec against the model's, the trainer's and the app's limits, and estimate its cost.

    Raises TinyLMError (a setting the model or trainer cannot take, a text too short for the context)
    or JobError (beyond what the app allows one student: too long, too many steps, too much memory).
    """
    config = spec.model_config(vocab_size)
    if spec.tokenizer not in ("char", "bpe"):
        raise TinyLMError(
            "bad_config_choice",
            "unknown tokenizer",
            name="tokenizer",
            value=spec.tokenizer,
            choices="char, bpe",
        )
    if spec.budget == "time":
        if not 1.0 <= spec.time_budget <= MAX_APP_SECONDS:
            raise JobError(
                "too_long", "time budget out of range", value=spec.time_budget, limit=MAX_APP_SECONDS
            )
    elif not 1 <= spec.max_steps <= MAX_APP_STEPS:
        raise JobError("too_many_steps", "too many steps", value=spec.max_steps, limit=MAX_APP_STEPS)
    memory = estimate_training_memory_bytes(config, spec.batch_size)
    if memory > MAX_JOB_MEMORY:
        raise JobError(
            "too_much_memory",
            "the job would need too much memory",
            memory_mb=round(memory / 1e6),
            limit_mb=round(MAX_JOB_MEMORY / 1e6),
        )
    if text_tokens is not None:
        needed = min_chars_needed(config.context_len, 0.1)
        if text_tokens < needed:
            raise TinyLMError(
                "text_too_short",
                "text too short for this context",
                tokens=text_tokens,
                needed=needed,
                context_len=config.context_len,
            )
    per_step = estimate_seconds_per_step(config, spec.batch_size)
    tokens_per_step = spec.batch_size * config.context_len
    eval_seconds, sample_seconds = overhead_seconds(config, spec, per_step)
    if spec.budget == "time":
        # The budget includes evaluations and samples: schedule() keeps them to about a tenth of it.
        steps = max(1, int(0.9 * spec.time_budget / per_step))
        max_steps = TIME_MODE_MAX_STEPS
    else:
        steps = max_steps = spec.max_steps
    log_interval, eval_interval, sample_every = schedule(
        steps, per_step, eval_seconds, sample_seconds, spec.sample_every
    )
    if spec.budget == "time":
        seconds = spec.time_budget
    else:
        seconds = steps * per_step + (steps // eval_interval + 1) * eval_seconds
        seconds += (steps // sample_every + 1) * sample_seconds
        if seconds > MAX_APP_SECONDS:
            raise JobError(
                "too_slow",
                "this many steps would take too long",
                steps=steps,
                minutes=round(seconds / 60, 1),
                limit_minutes=round(MAX_APP_SECONDS / 60),
            )
    train_config = TrainConfig(
        max_steps=max_steps,
        time_budget=spec.time_budget if spec.budget == "time" else None,
        batch_size=spec.batch_size,
        learning_rate=spec.learning_rate,
        warmup_steps=spec.warmup_steps,
        log_interval=log_interval,
        eval_interval=eval_interval,
        sample_interval=sample_every,
        eval_tokens=EVAL_TOKENS,
        sample_tokens=SAMPLE_TOKENS,
        seed=spec.seed,
        task_examples=TASK_EXAMPLES,
    )
    train_config.validate()
    return Plan(
        parameters=count_parameters(config),
        memory_bytes=memory,
        seconds_per_step=per_step,
        steps=steps,
        seconds=seconds,
        tokens_per_step=tokens_per_step,
        train_config=train_config,
    )


_TUNING = ("learning_rate",)  # applied only together with the recommended preset


def recommended_spec(corpus: str, preset: str | None = None) -> RunSpec:
    """The settings to start from for a corpus ("custom" for the student's own text) and a preset
    (None: the preset recommended for the corpus)."""
    advice = RECOMMENDED.get(corpus, RECOMMENDED["custom"])
    preset = preset if preset in PRESETS else advice["preset"]
    chosen = PRESETS[preset]
    values: dict[str, Any] = {
        "corpus": corpus if corpus in BUILTIN_CORPORA else "custom",
        "preset": preset,
        **chosen.model,
        "batch_size": chosen.train.get("batch_size", 32),
        "learning_rate": chosen.train.get("learning_rate", 3e-3),
        "time_budget": float(chosen.train.get("time_budget", 60.0)),
    }
    for key, value in advice.items():
        if key != "preset" and (key not in _TUNING or preset == advice["preset"]):
            values[key] = value
    return RunSpec(**values)


def data_summary(text: str) -> dict[str, Any]:
    """What the Train page shows before training: sizes, the character vocabulary, the 90 / 10 split
    (as tinylm.data.prepare_data makes it) and the unigram entropy of the training part."""
    tokenizer = CharTokenizer.from_text(text)
    ids = torch.tensor(tokenizer.encode(text), dtype=torch.long)
    n_train = int(len(ids) * 0.9)
    return {
        "chars": len(text),
        "bytes": len(text.encode("utf-8", errors="surrogatepass")),
        "vocab": tokenizer.vocab_size,
        "train_tokens": n_train,
        "val_tokens": len(ids) - n_train,
        "unigram_entropy": unigram_entropy(ids[:n_train], tokenizer.vocab_size) if n_train else 0.0,
        "lines": text.count("\n") + 1,
    }


def build_tokenizer(kind: str, text: str, bpe_vocab: int) -> Tokenizer:
    """A character tokenizer, or a byte-level BPE learned on (at most the first 300 000 characters of)
    the text within BPE_SECONDS."""
    if kind == "bpe":
        return BPETokenizer.train(text[:BUILTIN_CORPUS_CHARS], vocab_size=bpe_vocab, max_seconds=BPE_SECONDS)
    return CharTokenizer.from_text(text)


def unigram_entropy(ids: torch.Tensor, vocab_size: int) -> float:
    """H = −Σ_v p(v) log p(v) in nats, p(v) = the share of token v in ids.

    The loss of the best model that ignores context (it always predicts the token frequencies): a model
    whose validation loss falls below this has learned something about order, not just what is common.
    """
    counts = torch.bincount(ids, minlength=vocab_size).double()
    p = counts[counts > 0] / counts.sum()
    return float(-(p * p.log()).sum())


def default_sample_prompt(corpus: str, text: str = "") -> str:
    """A prompt that shows progress: a story opening, a task question, or the start of the student's text."""
    if corpus == "stories-en":
        return "Once upon a time"
    if corpus == "stories-zh":
        return "小明"
    if corpus in TASKS:
        first = generate_corpus(corpus, n_chars=200, seed=0).split("\n", 1)[0]
        return first.split("=", 1)[0] + "="
    return text.strip()[:12]


def new_run_id() -> str:
    return secrets.token_urlsafe(16)


def valid_run_id(run_id: Any) -> bool:
    return isinstance(run_id, str) and RUN_ID_PATTERN.fullmatch(run_id) is not None


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------
# A job: plain Python state shared by its worker (writes) and the pages (read copies)
# ---------------------------------------------------------------------------------------------


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
    stop_requested: bool
    history: dict[str, list[tuple]]
    samples: list[tuple[int, str]]
    probe_tokens: list[str]
    snapshots: list[tuple[int, np.ndarray]]  # (step, (layers, heads, T, T) attention weights)
    has_model: bool
    model_version: int
    revision: int  # changes whenever anything above changes

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATES

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATES


def _empty_history() -> dict[str, list[tuple]]:
    return {"train": [], "val": [], "learning_rate": [], "tokens_per_sec": [], "accuracy": []}


class Job:
    """One run. The worker thread writes, pages read through :meth:`view`; both under ``lock``."""

    def __init__(self, run_id: str, spec: RunSpec, kind: str = "trained", text: str | None = None) -> None:
        self.lock = threading.Lock()
        self.run_id, self.spec, self.kind = run_id, spec, kind
        self.status = "queued"
        self.message: dict[str, Any] | None = None
        self.created = _now_iso()
        self.created_clock = time.time()
        self.label = ""
        self.data: dict[str, Any] = {}
        self.parameters = 0
        self.step = 0
        self.elapsed = 0.0
        self.history = _empty_history()
        self.samples: list[tuple[int, str]] = []
        self.probe_tokens: list[str] = []
        self.snapshots: list[tuple[int, np.ndarray]] = []
        self.has_model = False
        self.model_version = 0
        self.revision = 0
        self.max_steps = spec.max_steps
        self.time_budget: float | None = spec.time_budget if spec.budget == "time" else None
        # Worker-side only:
        self.text = text  # custom text, handed to the worker once and then dropped
        self.trainer: Trainer | None = None
        self.published: Checkpoint | None = None  # the snapshot other pages may use while it trains
        self.thread: threading.Thread | None = None
        self.stop_requested = False
        self.stop_reason = ""  # why a stop was requested: "user", "abandoned", "pause_cap", "time_cap"
        self.pause_requested = False
        self.paused_since: float | None = None
        self.last_seen = time.monotonic()
        self.watchers: OrderedDict[str, None] = OrderedDict()  # browser sessions that looked at it
        self.last_written = 0.0
        self.last_saved = time.monotonic()
        self.rescheduled = False  # evaluations re-planned from the measured speed (time-budget runs)

    def touch(self, session_id: str | None = None) -> None:
        with self.lock:
            self.last_seen = time.monotonic()
            if session_id:
                self.watchers[session_id] = None
                self.watchers.move_to_end(session_id)
                while len(self.watchers) > 16:
                    self.watchers.popitem(last=False)

    def _bump(self) -> None:
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

    def view(self, queue_position: int | None = None) -> RunView:
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
                stop_requested=self.stop_requested,
                history={key: list(rows) for key, rows in self.history.items()},
                samples=list(self.samples),
                probe_tokens=list(self.probe_tokens),
                snapshots=list(self.snapshots),
                has_model=self.has_model,
                model_version=self.model_version,
                revision=self.revision,
            )

    # -- persistence -------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        with self.lock:
            return {
                "format": "tinylm-run",
                "version": 1,
                "id": self.run_id,
                "kind": self.kind,
                "status": self.status,
                "message": self.message,
                "label": self.label,
                "created": self.created,
                "updated": _now_iso(),
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
                    [step, np.round(array.astype(np.float32), 4).tolist()] for step, array in self.snapshots
                ],
                "has_model": self.has_model,
                "model_version": self.model_version,
            }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Job:
        """A finished (or, after a server restart, interrupted) run read back from its run.json."""
        job = cls(
            str(document["id"]), RunSpec.from_dict(document.get("spec")), str(document.get("kind", "trained"))
        )
        status = str(document.get("status", "interrupted"))
        if status in ACTIVE_STATES or status not in FINISHED_STATES:
            status = "interrupted"  # it was training when its server stopped
            job.message = {"kind": "msg", "code": "interrupted", "params": {}}
        else:
            job.message = document.get("message") if isinstance(document.get("message"), dict) else None
        job.status = status
        job.label = str(document.get("label", ""))[:80]
        job.created = str(document.get("created", ""))
        job.data = document.get("data") if isinstance(document.get("data"), dict) else {}
        job.parameters = int(document.get("parameters") or 0)
        job.step = int(document.get("step") or 0)
        job.elapsed = float(document.get("elapsed") or 0.0)
        job.time_budget = (
            document.get("time_budget") if isinstance(document.get("time_budget"), (int, float)) else None
        )
        job.max_steps = int(document.get("max_steps") or job.spec.max_steps)
        job.history = clean_history(document.get("history"))
        job.samples = clean_samples(document.get("samples"))
        tokens = document.get("probe_tokens")
        job.probe_tokens = [str(token) for token in tokens] if isinstance(tokens, list) else []
        snapshots = []
        for row in document.get("snapshots") or []:
            with contextlib.suppress(TypeError, ValueError, IndexError):
                snapshots.append((int(row[0]), np.asarray(row[1], dtype=np.float16)))
        job.snapshots = [s for s in snapshots if s[1].ndim == 4][:MAX_SNAPSHOTS]
        job.has_model = bool(document.get("has_model"))
        job.model_version = int(document.get("model_version") or 0)
        return job


def clean_history(history: Any) -> dict[str, list[tuple]]:
    """A history dict (ours, or from an uploaded checkpoint) reduced to finite numeric rows."""
    clean = _empty_history()
    if not isinstance(history, dict):
        return clean
    widths = {"train": 3, "val": 3, "learning_rate": 2, "tokens_per_sec": 2, "accuracy": 2}
    for key, width in widths.items():
        rows = history.get(key)
        if not isinstance(rows, list):
            continue
        for row in rows[:50_000]:
            if (
                isinstance(row, (list, tuple))
                and len(row) == width
                and all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in row
                )
            ):
                clean[key].append(tuple(row))
    return clean


def clean_samples(samples: Any) -> list[tuple[int, str]]:
    if not isinstance(samples, list):
        return []
    clean = []
    for row in samples[:MAX_SAMPLES]:
        if (
            isinstance(row, (list, tuple))
            and len(row) == 2
            and isinstance(row[0], int)
            and isinstance(row[1], str)
        ):
            clean.append((row[0], row[1][:2000]))
    return clean


def _thin(items: list, limit: int) -> list:
    """Keep at most ``limit`` items, evenly spread, always keeping the first and the newest."""
    if len(items) <= limit:
        return items
    keep = {round(i * (len(items) - 1) / (limit - 1)) for i in range(limit)}
    return [item for index, item in enumerate(items) if index in keep]


@torch.no_grad()
def attention_weights(model: TinyLM, probe_ids: list[int]) -> np.ndarray:
    """softmax(QKᵀ/√d_k + M) of every head of every layer on the probe text: (layers, heads, T, T).

    Taken from the model's own forward pass (``return_attention=True``), in eval mode.
    """
    was_training = model.training
    model.eval()
    try:
        output = model(torch.tensor([probe_ids], dtype=torch.long), return_attention=True)
    finally:
        model.train(was_training)
    return np.stack([weights[0].float().numpy() for weights in output.attentions]).astype(np.float16)


def _session_alive_in_streamlit(session_id: str) -> bool:
    """Whether a Streamlit browser session is still connected (False outside a Streamlit server)."""
    try:
        from streamlit.runtime import Runtime

        return Runtime.exists() and Runtime.instance().is_active_session(session_id)
    except Exception:  # no runtime (tests, scripts), or an internal change: rely on touches alone
        return False


# ---------------------------------------------------------------------------------------------
# The manager: queue, workers, disk, and the published models
# ---------------------------------------------------------------------------------------------


def _cpu_count() -> int:
    """Cores this process may use (a container's CPU set, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 2


@dataclass
class Limits:
    max_jobs: int = field(default_factory=lambda: max(1, _cpu_count() - 1))
    max_queue: int = 20
    max_runs: int = 50
    orphan_seconds: float = 90.0
    max_pause_seconds: float = MAX_PAUSE_SECONDS

    @classmethod
    def from_env(cls) -> Limits:
        limits = cls()

        def read(name: str, convert: Callable[[str], Any], low: float) -> Any:
            raw = os.environ.get(name)
            if raw is None:
                return None
            try:
                value = convert(raw)
            except ValueError:
                LOG.warning("ignoring %s=%r (not a number)", name, raw)
                return None
            return max(low, value)

        for attribute, name, convert, low in (
            ("max_jobs", "TINYLM_MAX_JOBS", int, 1),
            ("max_queue", "TINYLM_MAX_QUEUE", int, 0),
            ("max_runs", "TINYLM_MAX_RUNS", int, 1),
            ("orphan_seconds", "TINYLM_ORPHAN_SECONDS", float, 1.0),
        ):
            value = read(name, convert, low)
            if value is not None:
                setattr(limits, attribute, value)
        return limits


def _warm_up_torch() -> None:
    """Make a fused AdamW once, in the background, when the server starts: its first construction
    imports torch's compiler stack (sympy and more, 2-6 s of CPU), which would otherwise delay the
    first student's first step."""
    try:
        use_threads(1)
        make_optimizer([torch.nn.Parameter(torch.zeros(2))], lr=1e-3)
    except Exception:  # only an optimisation
        LOG.debug("torch warm-up failed", exc_info=True)


def default_runs_dir() -> Path:
    return Path(os.environ.get("TINYLM_RUNS_DIR") or ROOT / "runs")


class JobManager:
    """The server-wide registry of runs. Thread-safe; one per server process (see :func:`manager`)."""

    def __init__(
        self,
        runs_dir: Path | str | None = None,
        limits: Limits | None = None,
        session_alive: Callable[[str], bool] = _session_alive_in_streamlit,
        event_hook: Callable[[Job, Trainer, TrainEvent], None] | None = None,
    ) -> None:
        self.runs_dir = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.limits = limits or Limits.from_env()
        self.session_alive = session_alive
        self.event_hook = event_hook  # tests: called by the worker after each training event
        self._lock = threading.RLock()
        self._live: dict[str, Job] = {}  # queued and training jobs
        self._queue: deque[str] = deque()
        self._running: set[str] = set()
        self._records: OrderedDict[str, Job] = OrderedDict()  # finished runs (LRU)
        self._models: OrderedDict[str, tuple[Checkpoint, int]] = OrderedDict()  # finished runs' models (LRU)
        self._closed = threading.Event()
        self._janitor = threading.Thread(target=self._janitor_loop, name="tinylm-jobs-janitor", daemon=True)
        self._janitor.start()
        threading.Thread(target=_warm_up_torch, name="tinylm-jobs-warm-up", daemon=True).start()

    # -- starting and controlling jobs ---------------------------------------------------------
    def submit(self, spec: RunSpec, text: str | None = None) -> str:
        """Queue a training run; returns its id. ``text`` is the custom text (None: a built-in corpus)."""
        if spec.corpus not in BUILTIN_CORPORA and text is None:
            raise TinyLMError(
                "unknown_corpus", "unknown corpus", name=spec.corpus, choices=", ".join(BUILTIN_CORPORA)
            )
        with self._lock:
            if len(self._queue) >= self.limits.max_queue and len(self._running) >= self.limits.max_jobs:
                raise JobError("queue_full", "the queue is full", limit=self.limits.max_queue)
            run_id = new_run_id()
            job = Job(run_id, spec, text=text)
            job.label = _label(spec, job.created_clock)
            self._live[run_id] = job
            self._queue.append(run_id)
        self._write(job)
        self._schedule()
        return run_id

    def pause(self, run_id: str) -> None:
        job = self._live_job(run_id)
        if job is None:
            return
        with job.lock:
            if job.status not in ("preparing", "running"):
                return
            job.pause_requested = True
            job.paused_since = time.monotonic()
            if job.trainer is not None:
                job.trainer.pause()
                job.status = "paused"
            job._bump()

    def resume(self, run_id: str) -> None:
        job = self._live_job(run_id)
        if job is None:
            return
        with job.lock:
            job.pause_requested = False
            job.paused_since = None
            if job.trainer is not None:
                job.trainer.resume()
                if job.status == "paused":
                    job.status = "running"
            job._bump()

    def stop(self, run_id: str, reason: str = "user") -> None:
        """Stop a job: a queued one is dropped, a training one ends after its current step (well under a
        second) and keeps the model trained so far."""
        with self._lock:
            job = self._live.get(run_id)
            if job is None:
                return
            if run_id in self._queue:
                self._queue.remove(run_id)
                with job.lock:
                    job.status = "stopped"
                    job.stop_requested = True
                    job.message = {
                        "kind": "msg",
                        "code": "cancelled" if reason == "user" else reason,
                        "params": {"steps": 0},
                    }
                    job.text = None
                    job._bump()
                self._retire(job)
                dropped = True
            else:
                dropped = False
        if dropped:
            self._write(job)
            return
        with job.lock:
            if job.stop_requested:
                return
            job.stop_requested = True
            job.stop_reason = reason
            if job.trainer is not None:
                job.trainer.stop()
            job._bump()

    def touch(self, run_ids: Iterable[str], session_id: str | None = None) -> dict[str, tuple[str, int]]:
        """A browser session is looking at these runs. Returns {run id: (status, step)} of the live ones."""
        states = {}
        with self._lock:
            jobs = [self._live[r] for r in run_ids if r in self._live]
        for job in jobs:
            job.touch(session_id)
            states[job.run_id] = (job.status, job.step)
        return states

    # -- reading runs ---------------------------------------------------------------------------
    def get(self, run_id: str) -> RunView | None:
        """The run's current state, from memory or from its run.json; None if there is no such run."""
        job = self._job(run_id)
        if job is None:
            return None
        return job.view(self.queue_position(run_id))

    def exists(self, run_id: str) -> bool:
        return self._job(run_id) is not None

    def queue_position(self, run_id: str) -> int | None:
        with self._lock:
            try:
                return self._queue.index(run_id) + 1
            except ValueError:
                return None

    def model_for(self, run_id: str) -> tuple[Checkpoint, int] | None:
        """The run's published model (never the one being trained) and its version; None without one."""
        if not valid_run_id(run_id):
            return None
        with self._lock:
            job = self._live.get(run_id)
            if job is not None:
                with job.lock:
                    return (job.published, job.model_version) if job.published is not None else None
            if run_id in self._models:
                self._models.move_to_end(run_id)
                return self._models[run_id]
        record = self._job(run_id)
        if record is None or not record.has_model:
            return None
        try:
            checkpoint = read_checkpoint(self.runs_dir / run_id)
        except TinyLMError:
            LOG.warning("run %s: checkpoint unreadable", run_id)
            return None
        checkpoint.model.requires_grad_(False)
        found = (checkpoint, record.model_version)
        with self._lock:
            self._remember_model(run_id, found)
        return found

    def checkpoint_path(self, run_id: str) -> Path | None:
        """The run's checkpoint directory on disk, once it has one."""
        if not valid_run_id(run_id):
            return None
        path = self.runs_dir / run_id
        return path if (path / "tinylm.json").is_file() else None

    def checkpoint_zip(self, run_id: str) -> bytes | None:
        """The run's model as a .zip checkpoint (safetensors + JSON) for a download; None without a model."""
        found = self.model_for(run_id)
        if found is None:
            return None
        checkpoint, _ = found
        return checkpoint_zip_bytes(
            checkpoint.model, checkpoint.tokenizer, checkpoint.history, checkpoint.meta
        )

    def import_checkpoint(self, data: bytes, filename: str = "") -> str:
        """An uploaded .zip checkpoint becomes a run of kind "uploaded" (validated by
        tinylm.checkpoint.read_checkpoint_zip: no pickles, no torch .pt files, shapes checked)."""
        checkpoint = read_checkpoint_zip(data)
        checkpoint.model.requires_grad_(False)
        config = checkpoint.model.config
        meta = dict(checkpoint.meta)
        name = str(meta.get("name") or Path(filename).stem or "uploaded")[:60]
        spec = RunSpec(
            corpus="custom",
            text_name=str(meta.get("corpus") or "?")[:60],
            tokenizer=checkpoint.tokenizer.kind,
            n_layers=config.n_layers,
            n_heads=config.n_heads,
            d_model=config.d_model,
            context_len=config.context_len,
            dropout=float(config.dropout),
            pos_encoding=config.pos_encoding,
            preset="upload",
        )
        run_id = new_run_id()
        job = Job(run_id, spec, kind="uploaded")
        job.status = "uploaded"
        job.label = f"⬆ {name}"
        job.parameters = checkpoint.model.num_parameters()
        job.history = clean_history(checkpoint.history)
        job.samples = clean_samples(checkpoint.history.get("samples"))
        job.step = meta["steps"] if isinstance(meta.get("steps"), int) else 0
        job.data = {"vocab": checkpoint.tokenizer.vocab_size}
        job.has_model = True
        job.model_version = 1
        meta.update(name=job.label, run_id=run_id)
        save_checkpoint(
            self.runs_dir / run_id, checkpoint.model, checkpoint.tokenizer, checkpoint.history, meta
        )
        checkpoint.meta = meta
        self._write(job)
        with self._lock:
            self._records[run_id] = job
            self._trim_records()
            self._remember_model(run_id, (checkpoint, job.model_version))
        self._prune_disk()
        return run_id

    def load(self) -> dict[str, int]:
        """How busy the server is: jobs training, jobs waiting, training slots."""
        with self._lock:
            return {
                "running": len(self._running),
                "queued": len(self._queue),
                "max_jobs": self.limits.max_jobs,
            }

    def live_jobs(self) -> list[str]:
        with self._lock:
            return list(self._live)

    def thread_of(self, run_id: str) -> threading.Thread | None:
        with self._lock:
            job = self._live.get(run_id) or self._records.get(run_id)
        return job.thread if job is not None else None

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
        """Stop every job and the janitor, and wait for the workers (tests, server exit)."""
        self._closed.set()
        with self._lock:
            live = list(self._live)
        for run_id in live:
            self.stop(run_id, reason="user")
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = [job.thread for job in [*self._live.values(), *self._records.values()] if job.thread]
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._janitor.join(max(0.0, deadline - time.monotonic()))

    # -- internals ------------------------------------------------------------------------------
    def _live_job(self, run_id: str) -> Job | None:
        with self._lock:
            return self._live.get(run_id)

    def _job(self, run_id: str) -> Job | None:
        """A run's Job: live, cached, or read from disk."""
        if not valid_run_id(run_id):
            return None
        with self._lock:
            if run_id in self._live:
                return self._live[run_id]
            if run_id in self._records:
                self._records.move_to_end(run_id)
                return self._records[run_id]
        path = self.runs_dir / run_id / "run.json"
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            job = Job.from_json(document)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            LOG.warning("run %s: run.json unreadable", run_id)
            return None
        if job.run_id != run_id:
            return None
        with self._lock:
            if run_id in self._live:  # it was submitted meanwhile (cannot happen with random ids)
                return self._live[run_id]
            self._records[run_id] = job
            self._trim_records()
        return job

    def _trim_records(self) -> None:
        while len(self._records) > RECORDS_IN_MEMORY:
            self._records.popitem(last=False)

    def _remember_model(self, run_id: str, found: tuple[Checkpoint, int]) -> None:
        self._models[run_id] = found
        self._models.move_to_end(run_id)
        while len(self._models) > MODELS_IN_MEMORY:
            self._models.popitem(last=False)

    def _schedule(self) -> None:
        """Start queued jobs while there are free training slots."""
        with self._lock:
            while self._queue and len(self._running) < self.limits.max_jobs and not self._closed.is_set():
                run_id = self._queue.popleft()
                job = self._live[run_id]
                self._running.add(run_id)
                with job.lock:
                    job.status = "preparing"
                    job._bump()
                job.thread = threading.Thread(
                    target=self._work, args=(job,), name=f"tinylm-job-{run_id[:6]}", daemon=True
                )
                job.thread.start()

    def _retire(self, job: Job) -> None:
        """A job left the live set: keep its record (and its final model) in the bounded caches."""
        with self._lock:
            self._live.pop(job.run_id, None)
            self._running.discard(job.run_id)
            self._records[job.run_id] = job
            self._records.move_to_end(job.run_id)
            self._trim_records()
            with job.lock:
                published, job.published = job.published, None
                job.trainer = None
                job.text = None
            if published is not None:
                self._remember_model(job.run_id, (published, job.model_version))

    def _janitor_loop(self) -> None:
        """Once a second: stop jobs whose browser is gone, that were paused too long, or ran too long."""
        while not self._closed.wait(1.0):
            try:
                self._sweep()
            except Exception:  # the janitor must never die
                LOG.exception("job janitor")

    def _sweep(self) -> None:
        now = time.monotonic()
        with self._lock:
            jobs = list(self._live.values())
        for job in jobs:
            with job.lock:
                unseen = now - job.last_seen
                watchers = list(job.watchers)
                paused_for = now - job.paused_since if job.paused_since is not None else 0.0
                over_time = job.elapsed > MAX_APP_SECONDS + 10 and job.status == "running"
                stopping = job.stop_requested
            if stopping:
                continue
            if unseen > self.limits.orphan_seconds and not any(self.session_alive(s) for s in watchers):
                self.stop(job.run_id, reason="abandoned")
            elif paused_for > self.limits.max_pause_seconds:
                self.stop(job.run_id, reason="pause_cap")
            elif over_time:
                self.stop(job.run_id, reason="time_cap")
        self._schedule()

    # -- the worker -------------------------------------------------------------------------------
    def _work(self, job: Job) -> None:
        use_threads(1)  # a per-thread setting: this thread trains with one core
        trainer: Trainer | None = None
        try:
            trainer = self._prepare(job)
            if trainer is not None:
                probe_ids = trainer.data.val[: min(PROBE_TOKENS, trainer.model.config.context_len)].tolist()
                with job.lock:
                    job.probe_tokens = trainer.tokenizer.token_strings(probe_ids)
                for event in trainer.events():
                    self._record(job, trainer, event, probe_ids)
                    if self.event_hook is not None:
                        self.event_hook(job, trainer, event)
        except TinyLMError as exc:
            self._end(job, "error", {"kind": "error", "code": exc.code, "params": _jsonable(exc.params)})
        except JobError as exc:
            self._end(job, "error", {"kind": "job_error", "code": exc.code, "params": _jsonable(exc.params)})
        except Exception:
            LOG.exception("training job %s failed", job.run_id)
            self._end(job, "error", {"kind": "error", "code": "unexpected", "params": {}})
        finally:
            if trainer is not None and job.status in ACTIVE_STATES:  # the generator ended without a verdict
                self._finish(job, trainer, "stopped", {"kind": "msg", "code": "stopped", "params": {}})
            self._retire(job)
            self._write(job)
            self._prune_disk()
            self._schedule()

    def _prepare(self, job: Job) -> Trainer | None:
        """Text → tokenizer → token ids → model → Trainer (status "preparing")."""
        spec = job.spec
        with job.lock:
            text, job.text = job.text, None
        if text is None:
            text = generate_corpus(spec.corpus, n_chars=BUILTIN_CORPUS_CHARS, seed=0)
        tokenizer = build_tokenizer(spec.tokenizer, text, spec.bpe_vocab)
        config = spec.model_config(tokenizer.vocab_size)
        data = prepare_data(text, tokenizer, config.context_len)
        plan = make_plan(spec, tokenizer.vocab_size, data.num_tokens)
        model = TinyLM(config, seed=spec.seed)
        prompt = spec.sample_prompt or default_sample_prompt(spec.corpus, text)
        trainer = Trainer(model, tokenizer, data, plan.train_config, task=spec.task, sample_prompt=prompt)
        info = {
            "chars": len(text),
            "tokens": data.num_tokens,
            "train_tokens": len(data.train),
            "val_tokens": len(data.val),
            "vocab": tokenizer.vocab_size,
            "unigram_entropy": unigram_entropy(data.train, tokenizer.vocab_size),
            "sample_prompt": prompt,
            "log_interval": plan.train_config.log_interval,
            "eval_interval": plan.train_config.eval_interval,
            "sample_interval": plan.train_config.sample_interval,
        }
        del text
        with job.lock:
            job.data = info
            job.parameters = model.num_parameters()
            job.max_steps = plan.train_config.max_steps
            if job.stop_requested:  # stopped while preparing: nothing was trained, no model
                job.status = "stopped"
                code = "cancelled" if job.stop_reason in ("", "user") else job.stop_reason
                job.message = {"kind": "msg", "code": code, "params": {"steps": 0}}
                job._bump()
                return None
            job.trainer = trainer
            if job.pause_requested:
                trainer.pause()
                job.status = "paused"
            else:
                job.status = "running"
            job._bump()
        return trainer

    def _record(self, job: Job, trainer: Trainer, event: TrainEvent, probe_ids: list[int]) -> None:
        """One training event into the job's plain state (and, at evaluations, a published snapshot)."""
        now = time.monotonic()
        if event.kind == "eval":
            with job.lock:
                job.history["val"].append((event.step, event.elapsed, event.val_loss))
                if event.accuracy is not None:
                    job.history["accuracy"].append((event.step, event.accuracy))
                job.step, job.elapsed = event.step, event.elapsed
            snapshot = self._snapshot(job, trainer)
            weights = attention_weights(snapshot.model, probe_ids) if probe_ids else None
            with job.lock:
                job.published = snapshot
                job.has_model = True
                job.model_version += 1
                if weights is not None:
                    job.snapshots = _thin([*job.snapshots, (event.step, weights)], MAX_SNAPSHOTS)
                job._bump()
            if now - job.last_saved > SAVE_EVERY_SECONDS:
                job.last_saved = now
                self._save_model(job, snapshot)
            if now - job.last_written > WRITE_EVERY_SECONDS:
                self._write(job)
        elif event.kind == "step":
            with job.lock:
                job.history["train"].append((event.step, event.elapsed, event.train_loss))
                job.history["learning_rate"].append((event.step, event.learning_rate))
                job.history["tokens_per_sec"].append((event.step, event.tokens_per_sec))
                job.step, job.elapsed = event.step, event.elapsed
                job._bump()
            if not job.rescheduled and len(job.history["tokens_per_sec"]) >= 3:
                self._reschedule(job, trainer)
        elif event.kind == "sample":
            with job.lock:
                job.samples = _thin([*job.samples, (event.step, event.sample or "")], MAX_SAMPLES)
                job._bump()
        elif event.kind in ("done", "stopped"):
            reason = job.stop_reason or "user"
            if event.kind == "done":
                message = {"kind": "msg", "code": "done", "params": {"steps": event.step}}
            else:
                message = {"kind": "msg", "code": reason, "params": {"steps": event.step}}
            self._finish(job, trainer, event.kind, message, event)
        elif event.kind == "failed":
            good_step = job.history["train"][-1][0] if job.history["train"] else 0
            lr = event.learning_rate or trainer.config.learning_rate
            message = {
                "kind": "msg",
                "code": "nan",
                "params": {"step": event.step + 1, "lr": f"{lr:.2g}", "good_step": good_step},
            }
            self._finish(job, trainer, "failed", message, event)

    def _reschedule(self, job: Job, trainer: Trainer) -> None:
        """A time-budget run plans its evaluations and samples from an estimated step time; once the
        real one is known (the server may be faster or busier than estimated), plan them again."""
        job.rescheduled = True
        config = trainer.config
        if not config.time_budget:
            return
        with job.lock:
            speeds = [speed for _, speed in job.history["tokens_per_sec"]]
        model_config = trainer.model.config
        seconds_per_step = config.batch_size * model_config.context_len / statistics.median(speeds)
        eval_seconds, sample_seconds = overhead_seconds(model_config, job.spec, seconds_per_step)
        steps = max(1, int(0.9 * config.time_budget / seconds_per_step))
        _, eval_interval, sample_interval = schedule(
            steps, seconds_per_step, eval_seconds, sample_seconds, job.spec.sample_every
        )
        config.eval_interval = max(
            config.log_interval, eval_interval // config.log_interval * config.log_interval
        )
        if config.sample_interval and not job.spec.sample_every:
            config.sample_interval = max(config.log_interval, sample_interval)
        with job.lock:
            job.data.update(eval_interval=config.eval_interval, sample_interval=config.sample_interval)

    def _snapshot(self, job: Job, trainer: Trainer) -> Checkpoint:
        """A frozen copy of the weights being trained (eval mode, no gradients), safe to share."""
        model = copy.deepcopy(trainer.model)
        model.eval()
        model.requires_grad_(False)
        history = _jsonable(job_history_dict(job))  # JSON has no NaN: a diverged loss is stored as null
        meta = {
            "name": job.label,
            "corpus": job.spec.corpus if job.spec.corpus != "custom" else job.spec.text_name or "custom",
            "created": job.created,
            "steps": trainer.step,
            "val_loss": trainer.history.val[-1][2] if trainer.history.val else None,
            "train_config": trainer.config.to_dict(),
            "run_id": job.run_id,
        }
        return Checkpoint(model=model, tokenizer=trainer.tokenizer, history=history, meta=_jsonable(meta))

    def _finish(
        self, job: Job, trainer: Trainer, status: str, message: dict, event: TrainEvent | None = None
    ) -> None:
        snapshot = self._snapshot(job, trainer)
        snapshot.meta["state"] = status
        with job.lock:
            job.published = snapshot
            job.has_model = True
            job.model_version += 1
            job.status = status
            job.message = message
            if event is not None:
                job.step, job.elapsed = event.step, event.elapsed
            job.paused_since = None
            job._bump()
        self._save_model(job, snapshot)

    def _end(self, job: Job, status: str, message: dict) -> None:
        with job.lock:
            job.status = status
            job.message = message
            job._bump()

    def _save_model(self, job: Job, snapshot: Checkpoint) -> None:
        try:
            save_checkpoint(
                self.runs_dir / job.run_id,
                snapshot.model,
                snapshot.tokenizer,
                snapshot.history,
                snapshot.meta,
            )
        except OSError:
            LOG.exception("run %s: could not save the checkpoint", job.run_id)

    def _write(self, job: Job) -> None:
        """run.json, written atomically (a reader never sees half a file)."""
        job.last_written = time.monotonic()
        directory = self.runs_dir / job.run_id
        try:
            directory.mkdir(parents=True, exist_ok=True)
            temporary = directory / "run.json.tmp"
            temporary.write_text(
                json.dumps(_jsonable(job.to_json()), ensure_ascii=False, allow_nan=False), encoding="utf-8"
            )
            temporary.replace(directory / "run.json")
        except OSError:
            LOG.exception("run %s: could not write run.json", job.run_id)

    def _prune_disk(self) -> None:
        """Keep the newest ``max_runs`` finished runs on disk; delete older ones (never a live job)."""
        with self._lock:
            live = set(self._live)
        try:
            entries = [
                entry
                for entry in self.runs_dir.iterdir()
                if entry.is_dir() and valid_run_id(entry.name) and entry.name not in live
            ]
        except OSError:
            return
        if len(entries) <= self.limits.max_runs:
            return

        def modified(entry: Path) -> float:
            try:
                return (entry / "run.json").stat().st_mtime
            except OSError:
                return 0.0

        entries.sort(key=modified)
        for entry in entries[: len(entries) - self.limits.max_runs]:
            shutil.rmtree(entry, ignore_errors=True)
            with self._lock:
                self._records.pop(entry.name, None)
                self._models.pop(entry.name, None)


def job_history_dict(job: Job) -> dict[str, Any]:
    """The history in the checkpoint format of tinylm.train.TrainingHistory.to_dict (lists of lists)."""
    with job.lock:
        history: dict[str, Any] = {key: [list(row) for row in rows] for key, rows in job.history.items()}
        history["samples"] = [list(row) for row in job.samples]
    return history


def _jsonable(value: Any) -> Any:
    """Plain JSON values: NaN/Inf → None, tuples → lists, anything else odd → its str."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (np.floating, np.integer)):
        return _jsonable(value.item())
    return str(value)


def _label(spec: RunSpec, created: float) -> str:
    """A short name for menus: corpus · shape · start time (no part of the secret run id)."""
    corpus = spec.corpus if spec.corpus != "custom" else (spec.text_name or "custom")[:24]
    clock = datetime.fromtimestamp(created).strftime("%H:%M:%S")
    return f"{corpus} · {spec.n_layers}L×{spec.n_heads}H d{spec.d_model} · {clock}"


# ---------------------------------------------------------------------------------------------
# The singleton, and the two helpers that run in a page's script thread
# ---------------------------------------------------------------------------------------------

_MANAGER: JobManager | None = None
_MANAGER_LOCK = threading.Lock()


def manager() -> JobManager:
    """The server-wide job manager (created on first use, from the environment)."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None:
            _MANAGER = JobManager()
        return _MANAGER


def reset_manager_for_tests(runs_dir: Path | str | None = None, **options: Any) -> JobManager:
    """Shut the current manager down and start a fresh one (``options``: Limits fields, event_hook)."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is not None:
            _MANAGER.shutdown()
        event_hook = options.pop("event_hook", None)
        session_alive = options.pop("session_alive", _session_alive_in_streamlit)
        limits = replace(Limits.from_env(), **options)
        _MANAGER = JobManager(runs_dir, limits, session_alive=session_alive, event_hook=event_hook)
        return _MANAGER


def current_session_id() -> str | None:
    """The browser session running this script (None outside Streamlit)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        context = get_script_run_ctx()
        return context.session_id if context is not None else None
    except Exception:
        return None


HEARTBEAT_SECONDS = 20


def heartbeat() -> None:
    """Call on every page, inside the sidebar: this session still watches its runs.

    While one of them trains, a small fragment re-touches them every HEARTBEAT_SECONDS (so a student
    who reads another page for minutes does not lose the run) and shows its step.
    """
    run_ids = st.session_state.get(SESSION_RUNS_KEY, [])
    if not run_ids:
        return
    states = manager().touch(run_ids, current_session_id())
    if any(status in ACTIVE_STATES for status, _ in states.values()):
        _training_badge()


@st.fragment(run_every=HEARTBEAT_SECONDS)
def _training_badge() -> None:
    from ui.i18n import t

    states = manager().touch(st.session_state.get(SESSION_RUNS_KEY, []), current_session_id())
    for status, step in states.values():
        if status in ("preparing", "running", "paused"):
            st.caption(":material/model_training: " + t("sidebar.training_running", step=step))
