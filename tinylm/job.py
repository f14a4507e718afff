"""A training job: one RunSpec and its text, trained to the end and told as a stream of plain events.

This is the part of a run that works wherever a backend puts it (a thread of the app's server, a Ray
actor on another machine); it knows nothing of pages, queues or disks. The app's job manager turns
its events into what students see, and asks it for the model it has published.

    job = TrainingJob(spec, text=None, meta={"name": "...", "run_id": "..."})
    for event in job.events():        # plain dicts, {"type": ..., ...}: see below
        ...
    job.pause(); job.resume(); job.stop("user")        # from any thread
    job.checkpoint()                  # the newest published snapshot (a frozen copy), or None

One job, step by step: text → tokenizer → token ids → plan → model (``tinylm.plan.prepare_run``), then
``Trainer.events()``. The trainer is a generator, so between two of its events it is suspended: at an
evaluation the job can safely copy the weights into a *published snapshot* (eval mode, never touched
again; pages run forward passes on it from their own threads) and record the attention weights on a
fixed probe text.

Events (numbers are Python floats and ints; ``attention`` is a numpy array):
    prepared  data (sizes, vocabulary, unigram entropy, sample prompt, intervals), parameters,
              max_steps, time_budget, probe_tokens (the probe text's tokens), repeat_tokens (the
              repeated probe's: n random tokens, then the same n again; [] if the context is too short)
    step      step, elapsed, train_loss, learning_rate, tokens_per_sec
    eval      step, elapsed, val_loss, accuracy (tasks, else None), attention ((L, H, T, T) float16),
              repeat_attention ((L, H, 2n, 2n) float16 on the repeated probe, or None), extras (head
              and ICL scores), model_version (the published snapshot's number)
    sample    step, text
    schedule  eval_interval, sample_interval (re-planned from the measured speed)
    end       status ("done" | "stopped" | "failed" | "error"), message, step, elapsed, model_version
A message is {"kind": "msg" | "error", "code": ..., "params": {...}}: a code and its parameters, which
the app translates (``train.msg.<code>`` / ``error.<code>``).
"""

from __future__ import annotations

import copy
import logging
import math
import statistics
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from tinylm.checkpoint import Checkpoint, checkpoint_files
from tinylm.data import unigram_entropy
from tinylm.errors import TinyLMError
from tinylm.explain.induction import probe_for_context, training_recorder
from tinylm.model import TinyLM
from tinylm.plan import APP_LIMITS, RunLimits, RunSpec, default_sample_prompt, overhead_seconds, prepare_run
from tinylm.plan import schedule as plan_schedule
from tinylm.train import Trainer, TrainEvent

LOG = logging.getLogger("tinylm.job")
PROBE_TOKENS = 24  # length of the fixed text whose attention is recorded at every evaluation
REPEAT_TOKENS = 12  # n: the repeated random sequence (2n tokens) whose attention is recorded too, so the
# "What did it learn?" page can replay the induction stripe; as small as the text probe, one forward pass
STOP_REASONS = ("user", "abandoned", "pause_cap", "time_cap", "shutdown")


def message(kind: str, code: str, **params: Any) -> dict[str, Any]:
    return {"kind": kind, "code": code, "params": params}


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


class TrainingJob:
    """One run, from its spec to its end. ``events()`` is called once, in the thread that trains."""

    def __init__(
        self,
        spec: RunSpec,
        text: str | None = None,
        meta: dict[str, Any] | None = None,
        limits: RunLimits = APP_LIMITS,
        on_train_event: Callable[[Trainer, TrainEvent], None] | None = None,
    ) -> None:
        self.spec, self.limits = spec, limits
        self.meta = dict(meta or {})  # name, created, run_id: written into every published checkpoint
        self.on_train_event = on_train_event  # tests: called after each trainer event (e.g. to poison it)
        self._text = text  # handed to the trainer once, then dropped
        self._lock = threading.Lock()
        self._trainer: Trainer | None = None
        self._stop_reason: str | None = None
        self._pause_requested = False
        self._published: Checkpoint | None = None
        self._version = 0
        self._files: tuple[int, dict[str, bytes]] | None = None  # the published snapshot, serialised once
        self._probe_ids: list[int] = []
        self._repeat_ids: list[int] = []
        self.data_info: dict[str, Any] = {}

    # -- control, callable from any thread ------------------------------------------------------
    def pause(self) -> None:
        with self._lock:
            self._pause_requested = True
            if self._trainer is not None:
                self._trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._pause_requested = False
            if self._trainer is not None:
                self._trainer.resume()

    def stop(self, reason: str = "user") -> None:
        """End after the current step (well under a second), keeping the model trained so far."""
        with self._lock:
            if self._stop_reason is None:
                self._stop_reason = reason if reason in STOP_REASONS else "user"
            if self._trainer is not None:
                self._trainer.stop()

    # -- what it hands over -------------------------------------------------------------------------
    def checkpoint(self) -> Checkpoint | None:
        """The newest published snapshot (never the model being trained), or None before the first."""
        return self._published

    @property
    def model_version(self) -> int:
        return self._version

    def checkpoint_files(self) -> dict[str, bytes] | None:
        """The published snapshot as the two files of a checkpoint (for a backend on another machine)."""
        published, version = self._published, self._version
        if published is None:
            return None
        if self._files is None or self._files[0] != version:
            files = checkpoint_files(published.model, published.tokenizer, published.history, published.meta)
            self._files = (version, files)
        return self._files[1]

    # -- the run -------------------------------------------------------------------------------------
    def events(self) -> Iterator[dict[str, Any]]:
        trainer: Trainer | None = None
        try:
            trainer = self._prepare()
            if trainer is None:
                reason = self._stop_reason or "user"
                code = "cancelled" if reason == "user" else reason
                yield self._end("stopped", message("msg", code, steps=0), 0, 0.0)
                return
            yield self._prepared_event(trainer)
            rescheduled = False
            speeds: list[float] = []
            for event in trainer.events():
                if self.on_train_event is not None:
                    self.on_train_event(trainer, event)
                if event.kind == "step":
                    speeds.append(event.tokens_per_sec or 0.0)
                    yield {
                        "type": "step",
                        "step": event.step,
                        "elapsed": event.elapsed,
                        "train_loss": event.train_loss,
                        "learning_rate": event.learning_rate,
                        "tokens_per_sec": event.tokens_per_sec,
                    }
                    if not rescheduled and len(speeds) >= 3:
                        rescheduled = True
                        replanned = self._reschedule(trainer, statistics.median(speeds))
                        if replanned is not None:
                            yield replanned
                elif event.kind == "eval":
                    yield self._eval_event(trainer, event)
                elif event.kind == "sample":
                    yield {"type": "sample", "step": event.step, "text": event.sample or ""}
                elif event.kind in ("done", "stopped", "failed"):
                    yield self._final_event(trainer, event)
                    return
        except TinyLMError as exc:
            yield self._end("error", message("error", exc.code, **jsonable(exc.params)), 0, 0.0)
        except Exception:
            LOG.exception("training job %s failed", self.meta.get("run_id"))
            yield self._end("error", message("error", "unexpected"), 0, 0.0)
        finally:
            with self._lock:
                self._trainer = None
            self._text = None

    def _prepare(self) -> Trainer | None:
        """Text → tokenizer → token ids → plan → model → Trainer; None when stopped meanwhile."""
        text, self._text = self._text, None
        run = prepare_run(self.spec, text, self.limits)
        prompt = self.spec.sample_prompt or default_sample_prompt(self.spec.corpus, text or "")
        # Every run records its heads' induction and previous-token scores and its in-context-learning
        # score at each evaluation (a few extra forward passes): the "What did it learn?" page plots them.
        recorder = training_recorder(run.tokenizer, run.data.val, run.plan.model_config.context_len)
        trainer = Trainer(
            run.model,
            run.tokenizer,
            run.data,
            run.plan.train_config,
            task=self.spec.task,
            sample_prompt=prompt,
            eval_extras=recorder,
        )
        self.data_info = {
            "chars": run.chars,
            "tokens": run.data.num_tokens,
            "train_tokens": len(run.data.train),
            "val_tokens": len(run.data.val),
            "vocab": run.tokenizer.vocab_size,
            "unigram_entropy": unigram_entropy(run.data.train, run.tokenizer.vocab_size),
            "sample_prompt": prompt,
            "log_interval": run.plan.train_config.log_interval,
            "eval_interval": run.plan.train_config.eval_interval,
            "sample_interval": run.plan.train_config.sample_interval,
        }
        return self._take(trainer)

    def _take(self, trainer: Trainer) -> Trainer | None:
        """The prepared trainer becomes this job's (None when the job was stopped meanwhile); a pause
        asked for while it was being prepared applies to it at once. Every kind of job ends its
        ``_prepare`` with this."""
        with self._lock:
            if self._stop_reason is not None:
                return None
            self._trainer = trainer
            if self._pause_requested:
                trainer.pause()
        return trainer

    def _prepared_event(self, trainer: Trainer) -> dict[str, Any]:
        context = trainer.model.config.context_len
        self._probe_ids = trainer.data.val[: min(PROBE_TOKENS, context)].tolist()
        repeated = probe_for_context(trainer.tokenizer, context, n=REPEAT_TOKENS, batch=1, seed=0)
        self._repeat_ids = repeated.ids[0].tolist() if repeated is not None else []
        return {
            "type": "prepared",
            "data": self.data_info,
            "parameters": trainer.model.num_parameters(),
            "max_steps": trainer.config.max_steps,
            "time_budget": trainer.config.time_budget,
            "probe_tokens": trainer.tokenizer.token_strings(self._probe_ids),
            "repeat_tokens": trainer.tokenizer.token_strings(self._repeat_ids),
        }

    def _reschedule(self, trainer: Trainer, tokens_per_sec: float) -> dict[str, Any] | None:
        """A time-budget run plans its evaluations and samples from an estimated step time; once the
        real one is known (the server may be faster or busier than estimated), plan them again."""
        config = trainer.config
        if not config.time_budget or tokens_per_sec <= 0:
            return None
        model_config = trainer.model.config
        seconds_per_step = config.batch_size * model_config.context_len / tokens_per_sec
        eval_seconds, sample_seconds = overhead_seconds(model_config, self.spec, seconds_per_step)
        steps = max(1, int(0.9 * config.time_budget / seconds_per_step))
        _, eval_interval, sample_interval = plan_schedule(
            steps, seconds_per_step, eval_seconds, sample_seconds, self.spec.sample_every
        )
        config.eval_interval = max(
            config.log_interval, eval_interval // config.log_interval * config.log_interval
        )
        if config.sample_interval and not self.spec.sample_every:
            config.sample_interval = max(config.log_interval, sample_interval)
        return {
            "type": "schedule",
            "eval_interval": config.eval_interval,
            "sample_interval": config.sample_interval,
        }

    def _publish(self, trainer: Trainer, state: str | None = None) -> int:
        """A frozen copy of the weights being trained (eval mode, no gradients), safe to share."""
        model = copy.deepcopy(trainer.model)
        model.eval()
        model.requires_grad_(False)
        meta = {
            **self.meta,
            "corpus": self.spec.corpus if self.spec.corpus != "custom" else self.spec.text_name or "custom",
            "steps": trainer.step,
            "val_loss": trainer.history.val[-1][2] if trainer.history.val else None,
            "train_config": trainer.config.to_dict(),
        }
        if state is not None:
            meta["state"] = state
        history = jsonable(trainer.history.to_dict())  # JSON has no NaN: a diverged loss is stored as null
        self._published = Checkpoint(
            model=model, tokenizer=trainer.tokenizer, history=history, meta=jsonable(meta)
        )
        self._version += 1
        return self._version

    def _eval_event(self, trainer: Trainer, event: TrainEvent) -> dict[str, Any]:
        version = self._publish(trainer)
        model = self._published.model
        attention = attention_weights(model, self._probe_ids) if self._probe_ids else None
        repeat = attention_weights(model, self._repeat_ids) if self._repeat_ids else None
        return {
            "type": "eval",
            "step": event.step,
            "elapsed": event.elapsed,
            "val_loss": event.val_loss,
            "accuracy": event.accuracy,
            "attention": attention,
            "repeat_attention": repeat,
            "extras": event.extras or {},
            "model_version": version,
        }

    def _final_event(self, trainer: Trainer, event: TrainEvent) -> dict[str, Any]:
        if event.kind == "failed":
            good_step = trainer.history.train[-1][0] if trainer.history.train else 0
            lr = event.learning_rate or trainer.config.learning_rate
            note = message("msg", "nan", step=event.step + 1, lr=f"{lr:.2g}", good_step=good_step)
        elif event.kind == "done":
            note = message("msg", "done", steps=event.step)
        else:
            note = message("msg", self._stop_reason or "user", steps=event.step)
        self._publish(trainer, state=event.kind)
        return self._end(event.kind, note, event.step, event.elapsed)

    def _end(self, status: str, note: dict[str, Any], step: int, elapsed: float) -> dict[str, Any]:
        return {
            "type": "end",
            "status": status,
            "message": note,
            "step": step,
            "elapsed": elapsed,
            "model_version": self._version,
        }


def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN/Inf → None, tuples → lists, numpy scalars → Python numbers, else str."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, (np.floating, np.integer)):
        return jsonable(value.item())
    return str(value)


@dataclass(frozen=True)
class JobInputs:
    """What a job reads besides its spec, handed to a backend in place of a plain text: the student's
    own text (None: the spec's built-in corpus) and, for a job that starts from a trained model
    (fine-tuning), that model's checkpoint files ({file name: bytes}; see tinylm.checkpoint)."""

    text: str | None = None
    base: dict[str, bytes] | None = None


def make_job(
    spec: RunSpec,
    text: str | JobInputs | None = None,
    meta: dict[str, Any] | None = None,
    on_train_event: Callable[[Trainer, TrainEvent], None] | None = None,
) -> TrainingJob:
    """The job a spec describes, by its kind (``spec.kind``, one of tinylm.plan.KINDS): every backend
    starts jobs through this one function, so a new kind of job needs no backend change. ``text`` is
    the custom text, or JobInputs when the job needs more than a text."""
    from tinylm.finetune_job import FinetuneJob  # TrainingJobs of their own (they import this module)
    from tinylm.sweep import SweepJob

    kinds: dict[str, Callable[..., TrainingJob]] = {
        "train": TrainingJob,
        "sweep": SweepJob,
        "finetune": FinetuneJob,
    }
    if spec.kind not in kinds:
        raise TinyLMError(
            "bad_config_choice",
            f"unknown job kind {spec.kind!r}",
            name="kind",
            value=spec.kind,
            choices=", ".join(kinds),
        )
    inputs = text if isinstance(text, JobInputs) else JobInputs(text=text)
    options: dict[str, Any] = {"on_train_event": on_train_event}
    if inputs.base is not None:
        options["base"] = inputs.base
    return kinds[spec.kind](spec, inputs.text, meta, **options)
