"""A sweep: a ladder of model sizes, each trained on the same tokens (or for the same compute), one after
the other, as one job of the job layer (kind "sweep").

    spec = sweep_spec("stories-en", mode="tokens", sizes=5, tokens=2_000_000)
    plan = plan_sweep(spec, vocab_size=55)   # each size: its shape, N, steps, tokens D, FLOPs C, seconds
    job = SweepJob(spec)                     # a TrainingJob: pause / resume / stop / checkpoint as any run
    for event in job.events(): ...

The ladder (``LADDER``) goes from about 11 thousand to 2 million parameters in steps of about 3.6×, at
the same context (64) and batch (32 windows). Every size trains with the library's Trainer: in mode
"tokens" on ``sweep_tokens`` tokens each (how loss falls with N at a fixed D), in mode "compute" for
``sweep_flops`` training FLOPs each, so a small model reads many tokens and a large one few (which size
wins for a budget: Hoffmann et al. 2022). Wider models get a smaller learning rate,
η = η₀·√(64 / d_model) (η₀: the spec's learning_rate, 3e-3), and a warm-up of at most a fifth of their
steps. Each size's final loss is measured again on FINAL_EVAL_TOKENS fixed validation tokens (the same
windows for every size), so sizes are compared on one yardstick, more precisely than the training's
running evaluations.

Events (the shapes of tinylm.job, so the job manager, its records and every view take them as they are):
    prepared  once: data (+ sweep_mode, sweep_sizes, sweep_seconds), parameters (the largest size's),
              max_steps (every size's steps together), time_budget None, probe_tokens []
    step, eval, sample
              of the size in training, with step and elapsed counted from the sweep's start (the sizes
              one after the other: a run's history holds them in order) and "size", its index; an eval
              also has "tokens" (seen by this size), attention None (the sizes' shapes differ) and the
              sweep's model_version
    point     one per finished size: size, parameters N, tokens D, flops C (training FLOPs), val_loss,
              seconds (its training time), steps, first_step (where its steps begin in the history),
              n_layers, d_model, n_heads, learning_rate, mode
    end       "done" after the last size; "stopped" / "failed" / "error" end the sweep where it is
The model a sweep publishes is its best finished size so far (the lowest final validation loss): "use
this model" gives the size that won, and there is none until the first size has finished.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tinylm.checkpoint import Checkpoint
from tinylm.config import ModelConfig, count_parameters
from tinylm.corpora import BUILTIN_CORPORA, generate_corpus
from tinylm.data import (
    BUILTIN_CORPUS_CHARS,
    TokenData,
    evaluation_windows,
    prepare_data,
    unigram_entropy,
)
from tinylm.errors import TinyLMError
from tinylm.job import STOP_REASONS, TrainingJob, jsonable, message
from tinylm.model import TinyLM
from tinylm.plan import (
    APP_BOUNDS,
    APP_LIMITS,
    SETTING_BOUNDS,
    Bound,
    Plan,
    RunLimits,
    RunSpec,
    build_tokenizer,
    default_sample_prompt,
    make_plan,
)
from tinylm.scaling import train_flops_per_token
from tinylm.tokenizers import Tokenizer
from tinylm.train import MAX_STEPS, Trainer, TrainEvent, evaluate_loss

LOG = logging.getLogger("tinylm.sweep")


@dataclass(frozen=True)
class Rung:
    n_layers: int
    d_model: int
    n_heads: int


# About 11 k, 40 k, 154 k, 569 k and 2.05 M parameters with a vocabulary of 55 characters.
LADDER: tuple[Rung, ...] = (
    Rung(2, 20, 2),
    Rung(3, 32, 2),
    Rung(3, 64, 4),
    Rung(6, 88, 4),
    Rung(6, 168, 6),
)
# What every size shares, unless a spec says otherwise.
SWEEP_DEFAULTS: dict[str, Any] = {"context_len": 64, "batch_size": 32, "learning_rate": 3e-3}
BASE_WIDTH = 64  # the width at which a size trains with the spec's learning rate
FINAL_EVAL_TOKENS = 32_768  # validation tokens each size's final loss is measured on
NOMINAL_VOCAB = 64  # a vocabulary to plan with before the text is known
MAX_SWEEP_CHARS = 4_500_000  # the generated text (tinylm.data.MAX_TEXT_BYTES is 5 MB)
SWEEP_SETTINGS = ("sweep_mode", "sweep_sizes", "sweep_tokens", "sweep_flops")


@dataclass(frozen=True)
class SweepSize:
    """One rung as it will train: its spec (kind "train"), plan, N, steps, tokens D and FLOPs C."""

    index: int
    spec: RunSpec
    plan: Plan
    parameters: int
    flops_per_token: float
    steps: int
    tokens: int
    flops: float
    seconds: float  # estimated training time (tinylm.plan)


@dataclass(frozen=True)
class SweepPlan:
    sizes: tuple[SweepSize, ...]
    mode: str
    tokens_per_step: int

    @property
    def seconds(self) -> float:
        return sum(size.seconds for size in self.sizes)

    @property
    def steps(self) -> int:
        return sum(size.steps for size in self.sizes)


def sweep_spec(
    corpus: str = "stories-en",
    mode: str = "tokens",
    sizes: int = 3,
    tokens: int = 500_000,
    flops: float = 3e11,
    **settings: Any,
) -> RunSpec:
    """The spec of a sweep (its shape fields name its largest size, for labels; max_steps is every
    size's steps together at a nominal vocabulary, for the queue's estimates)."""
    largest = LADDER[min(max(sizes, 1), len(LADDER)) - 1]
    spec = RunSpec(
        kind="sweep",
        corpus=corpus,
        preset="sweep",
        budget="steps",
        sweep_mode=mode,
        sweep_sizes=sizes,
        sweep_tokens=tokens,
        sweep_flops=float(flops),
        n_layers=largest.n_layers,
        d_model=largest.d_model,
        n_heads=largest.n_heads,
        **{**SWEEP_DEFAULTS, **settings},
    )
    try:
        steps = sum(_steps(spec, rung, NOMINAL_VOCAB) for rung in LADDER[: spec.sweep_sizes])
    except TinyLMError:
        steps = spec.max_steps
    return spec.with_settings(max_steps=min(max(1, steps), MAX_STEPS))


def rung_config(spec: RunSpec, rung: Rung, vocab_size: int) -> ModelConfig:
    """A rung's model: the spec's settings (context, positions, ...) with the rung's shape."""
    sized = spec.with_settings(n_layers=rung.n_layers, d_model=rung.d_model, n_heads=rung.n_heads, d_ff=None)
    return sized.model_config(vocab_size)


def _steps(spec: RunSpec, rung: Rung, vocab_size: int) -> int:
    """Steps of one rung: D / (B·T) with D = sweep_tokens, or D = sweep_flops / (training FLOPs per token)."""
    tokens_per_step = spec.batch_size * spec.context_len
    if spec.sweep_mode == "compute":
        tokens = spec.sweep_flops / train_flops_per_token(rung_config(spec, rung, vocab_size))
    else:
        tokens = spec.sweep_tokens
    return max(1, round(tokens / tokens_per_step))


def _check_settings(spec: RunSpec, bounds: dict[str, Bound]) -> None:
    if spec.kind != "sweep":
        raise TinyLMError("bad_config_choice", "not a sweep", name="kind", value=spec.kind, choices="sweep")
    mode = bounds["sweep_mode"]
    if spec.sweep_mode not in mode.options:
        raise TinyLMError(
            "bad_config_choice",
            f"unknown sweep_mode {spec.sweep_mode!r}",
            name="sweep_mode",
            value=spec.sweep_mode,
            choices=", ".join(mode.options),
        )
    names = ("sweep_sizes", "sweep_tokens" if spec.sweep_mode == "tokens" else "sweep_flops")
    for name in names:
        bound, value = bounds[name], getattr(spec, name)
        if not bound.low <= value <= bound.high:
            raise TinyLMError(
                "bad_config_range",
                f"{name} must be between {bound.low:g} and {bound.high:g} (got {value!r})",
                name=name,
                low=f"{bound.low:,.4g}",
                high=f"{bound.high:,.4g}",
                value=f"{value:,.4g}",
            )


def plan_sweep(
    spec: RunSpec, vocab_size: int, text_tokens: int | None = None, limits: RunLimits = APP_LIMITS
) -> SweepPlan:
    """Check a sweep and plan each of its sizes (tinylm.plan.make_plan: the same checks as any run).

    Raises TinyLMError: a sweep setting out of bounds (the app's when ``limits`` are the app's), a size
    the model or trainer refuses, or a sweep that would take longer than ``limits`` allow altogether."""
    _check_settings(spec, APP_BOUNDS if limits is APP_LIMITS else SETTING_BOUNDS)
    sizes = []
    for index, rung in enumerate(LADDER[: spec.sweep_sizes]):
        config = rung_config(spec, rung, vocab_size)
        steps = _steps(spec, rung, vocab_size)
        if steps > MAX_STEPS:
            raise TinyLMError(
                "too_many_steps", "a size would need too many steps", value=steps, limit=MAX_STEPS
            )
        size_spec = spec.with_settings(
            kind="train",
            n_layers=rung.n_layers,
            d_model=rung.d_model,
            n_heads=rung.n_heads,
            d_ff=None,
            budget="steps",
            max_steps=steps,
            learning_rate=spec.learning_rate * math.sqrt(BASE_WIDTH / rung.d_model),
            warmup_steps=min(spec.warmup_steps, max(1, steps // 5)),
            sample_every=steps,  # one sample, at the end
        )
        plan = make_plan(size_spec, vocab_size, text_tokens, limits)
        tokens = steps * spec.batch_size * spec.context_len
        flops_per_token = train_flops_per_token(config)
        sizes.append(
            SweepSize(
                index=index,
                spec=size_spec,
                plan=plan,
                parameters=count_parameters(config),
                flops_per_token=flops_per_token,
                steps=steps,
                tokens=tokens,
                flops=flops_per_token * tokens,
                seconds=plan.seconds,
            )
        )
    made = SweepPlan(tuple(sizes), spec.sweep_mode, spec.batch_size * spec.context_len)
    if made.seconds > limits.max_seconds:
        raise TinyLMError(
            "too_slow",
            f"the sweep would take about {made.seconds / 60:.1f} minutes; the limit is "
            f"{limits.max_seconds / 60:.0f} minutes",
            steps=made.steps,
            minutes=round(made.seconds / 60, 1),
            limit_minutes=round(limits.max_seconds / 60),
        )
    return made


def corpus_chars(spec: RunSpec) -> int:
    """How much of a built-in corpus a sweep generates: enough that no size reads a token twice (about
    one character per token), from BUILTIN_CORPUS_CHARS up to MAX_SWEEP_CHARS (a third of that for the
    Chinese stories: three UTF-8 bytes a character)."""
    try:
        most = max(_steps(spec, rung, NOMINAL_VOCAB) for rung in LADDER[: spec.sweep_sizes])
    except (TinyLMError, ValueError):
        most = 0
    wanted = math.ceil(most * spec.batch_size * spec.context_len / 0.9 * 1.02) + spec.context_len
    limit = MAX_SWEEP_CHARS // 3 if spec.corpus == "stories-zh" else MAX_SWEEP_CHARS
    return int(min(max(wanted, BUILTIN_CORPUS_CHARS), limit))


@dataclass
class _Shared:
    """What every size of a sweep uses: one text, one tokenizer, one train / validation split."""

    tokenizer: Tokenizer
    data: TokenData
    plan: SweepPlan
    prompt: str
    data_info: dict[str, Any]
    windows: Any  # the fixed validation windows of every size's final loss


class _SizeJob(TrainingJob):
    """One size of a sweep: a TrainingJob (its events, publishing, pause and stop) whose trainer starts
    from the sweep's shared text and split instead of preparing its own."""

    def __init__(
        self, size: SweepSize, shared: _Shared, meta: dict[str, Any], limits: RunLimits, hook
    ) -> None:
        super().__init__(size.spec, None, meta, limits, on_train_event=hook)
        self._size, self._shared = size, shared

    def _prepare(self) -> Trainer | None:
        shared, plan = self._shared, self._size.plan
        model = TinyLM(plan.model_config, seed=self.spec.seed)
        trainer = Trainer(
            model,
            shared.tokenizer,
            shared.data,
            plan.train_config,
            task=self.spec.task,
            sample_prompt=shared.prompt,
        )
        self.data_info = dict(shared.data_info)
        return self._take(trainer)


class SweepJob(TrainingJob):
    """A sweep, from its spec to its end (see the module docstring for its events)."""

    def __init__(
        self,
        spec: RunSpec,
        text: str | None = None,
        meta: dict[str, Any] | None = None,
        limits: RunLimits = APP_LIMITS,
        on_train_event: Callable[[Trainer, TrainEvent], None] | None = None,
    ) -> None:
        super().__init__(spec, text, meta, limits, on_train_event)
        self._size_job: TrainingJob | None = None
        self._best_loss = math.inf

    # -- control: the sweep's own flags (for sizes not started yet) and the size in training -------
    def pause(self) -> None:
        with self._lock:
            self._pause_requested = True
            job = self._size_job
        if job is not None:
            job.pause()

    def resume(self) -> None:
        with self._lock:
            self._pause_requested = False
            job = self._size_job
        if job is not None:
            job.resume()

    def stop(self, reason: str = "user") -> None:
        with self._lock:
            if self._stop_reason is None:
                self._stop_reason = reason if reason in STOP_REASONS else "user"
            job = self._size_job
        if job is not None:
            job.stop(self._stop_reason)

    # -- the sweep ------------------------------------------------------------------------------------
    def events(self) -> Iterator[dict[str, Any]]:
        try:
            shared = self._prepare_sweep()
            if shared is None:
                reason = self._stop_reason or "user"
                yield self._end(
                    "stopped", message("msg", "cancelled" if reason == "user" else reason, steps=0), 0, 0.0
                )
                return
            yield self._sweep_prepared(shared)
            step0, time0 = 0, 0.0
            for size in shared.plan.sizes:
                job = self._start_size(size, shared)
                end: dict[str, Any] = {}
                for event in job.events():
                    if event["type"] == "end":
                        end = event
                        break
                    shifted = self._shifted(event, size, shared, step0, time0)
                    if shifted is not None:
                        yield shifted
                step, elapsed = step0 + end.get("step", 0), time0 + end.get("elapsed", 0.0)
                if end.get("status") != "done":
                    yield self._sweep_end(end, step, elapsed)
                    return
                yield {"type": "point", "point": self._finish_size(size, job, end, shared, step0)}
                step0, time0 = step, elapsed
            yield self._end("done", message("msg", "done", steps=step0), step0, time0)
        except TinyLMError as exc:
            yield self._end("error", message("error", exc.code, **jsonable(exc.params)), 0, 0.0)
        except Exception:
            LOG.exception("sweep %s failed", self.meta.get("run_id"))
            yield self._end("error", message("error", "unexpected"), 0, 0.0)
        finally:
            with self._lock:
                self._size_job = None
            self._text = None

    def _prepare_sweep(self) -> _Shared | None:
        """Text → tokenizer → token ids → the plan of every size; None when stopped meanwhile."""
        spec, text = self.spec, self._text
        self._text = None
        if text is None:
            if spec.corpus not in BUILTIN_CORPORA:
                raise TinyLMError(
                    "unknown_corpus", "unknown corpus", name=spec.corpus, choices=", ".join(BUILTIN_CORPORA)
                )
            text = generate_corpus(spec.corpus, n_chars=corpus_chars(spec), seed=0)
        tokenizer = build_tokenizer(spec.tokenizer, text, spec.bpe_vocab)
        data = prepare_data(text, tokenizer, spec.context_len)
        plan = plan_sweep(spec, tokenizer.vocab_size, data.num_tokens, self.limits)
        prompt = spec.sample_prompt or default_sample_prompt(spec.corpus, text)
        info = {
            "chars": len(text),
            "tokens": data.num_tokens,
            "train_tokens": len(data.train),
            "val_tokens": len(data.val),
            "vocab": tokenizer.vocab_size,
            "unigram_entropy": unigram_entropy(data.train, tokenizer.vocab_size),
            "sample_prompt": prompt,
            "sweep_mode": spec.sweep_mode,
            "sweep_sizes": len(plan.sizes),
            "sweep_seconds": round(plan.seconds, 1),
        }
        windows = evaluation_windows(data.val, spec.context_len, FINAL_EVAL_TOKENS)
        with self._lock:
            if self._stop_reason is not None:
                return None
        self.data_info = info
        return _Shared(tokenizer, data, plan, prompt, info, windows)

    def _sweep_prepared(self, shared: _Shared) -> dict[str, Any]:
        return {
            "type": "prepared",
            "data": self.data_info,
            "parameters": shared.plan.sizes[-1].parameters,
            "max_steps": shared.plan.steps,
            "time_budget": None,
            "probe_tokens": [],
        }

    def _start_size(self, size: SweepSize, shared: _Shared) -> TrainingJob:
        job = _SizeJob(size, shared, self.meta, self.limits, self.on_train_event)
        with self._lock:
            self._size_job = job
            paused, reason = self._pause_requested, self._stop_reason
        if paused:
            job.pause()
        if reason is not None:
            job.stop(reason)
        return job

    def _shifted(
        self, event: dict[str, Any], size: SweepSize, shared: _Shared, step0: int, time0: float
    ) -> dict[str, Any] | None:
        """A size's event as the sweep's: its steps and time after those of the sizes before it."""
        kind = event["type"]
        if kind not in ("step", "eval", "sample"):
            return None  # its own "prepared" (the sweep's came first) and "schedule" (steps, not time)
        shifted = {**event, "step": step0 + event["step"], "size": size.index}
        if "elapsed" in event:
            shifted["elapsed"] = time0 + event["elapsed"]
        if kind == "eval":
            shifted.update(
                attention=None,
                model_version=self._version,
                tokens=event["step"] * shared.plan.tokens_per_step,
            )
        return shifted

    def _finish_size(
        self, size: SweepSize, job: TrainingJob, end: dict[str, Any], shared: _Shared, step0: int
    ) -> dict[str, Any]:
        """The size's point: its final loss on the fixed validation windows; published if the best yet."""
        final = job.checkpoint()
        val_loss = evaluate_loss(final.model, shared.windows) if final is not None else math.nan
        tokens = end["step"] * shared.plan.tokens_per_step
        config = size.plan.model_config
        point = {
            "size": size.index,
            "parameters": size.parameters,
            "tokens": tokens,
            "flops": size.flops_per_token * tokens,
            "val_loss": val_loss,
            "seconds": round(end["elapsed"], 3),
            "steps": end["step"],
            "first_step": step0,
            "n_layers": config.n_layers,
            "d_model": config.d_model,
            "n_heads": config.n_heads,
            "learning_rate": size.spec.learning_rate,
            "mode": self.spec.sweep_mode,
        }
        if final is not None and math.isfinite(val_loss) and val_loss < self._best_loss:
            self._best_loss = val_loss
            meta = {**final.meta, "val_loss": val_loss, "sweep_size": size.index}
            self._published = Checkpoint(final.model, final.tokenizer, final.history, jsonable(meta))
            self._version += 1
        return jsonable(point)

    def _sweep_end(self, end: dict[str, Any], step: int, elapsed: float) -> dict[str, Any]:
        """A size that did not finish ends the sweep: stopped (why), failed or an error (its message)."""
        status = end.get("status", "error")
        if status == "stopped":
            reason = self._stop_reason or "user"
            code = "cancelled" if reason == "user" and step == 0 else reason
            return self._end("stopped", message("msg", code, steps=step), step, elapsed)
        return self._end(status, end.get("message") or message("error", "unexpected"), step, elapsed)


def points_from_runs(runs: Sequence[Any], corpus: str | None = None) -> list[dict[str, Any]]:
    """Finished runs as points of the scaling plots (the hook for a class's runs): a sweep's own points;
    a training run's N (its parameters), D = steps × batch × context, C = training FLOPs per token × D,
    and its last validation loss. ``runs``: ui.runs.RunView objects, or anything with their fields
    (status, spec, points, history, data, step, parameters, label). ``corpus``: only runs on it."""
    points: list[dict[str, Any]] = []
    for run in runs:
        if run.status not in ("done", "stopped") or (corpus is not None and run.spec.corpus != corpus):
            continue
        if run.spec.kind == "sweep":
            points.extend(
                {**point, "label": run.label}
                for point in run.points
                if isinstance(point.get("val_loss"), float)
            )
            continue
        losses = [
            row[2]
            for row in run.history.get("val", [])
            if isinstance(row[2], float) and math.isfinite(row[2])
        ]
        vocab = run.data.get("vocab")
        if not losses or not run.step or not isinstance(vocab, int):
            continue
        try:
            config = run.spec.model_config(vocab)
        except TinyLMError:
            continue
        tokens = run.step * run.spec.batch_size * config.context_len
        points.append(
            {
                "parameters": run.parameters or count_parameters(config),
                "tokens": tokens,
                "flops": train_flops_per_token(config) * tokens,
                "val_loss": losses[-1],
                "label": run.label,
            }
        )
    return points


def sweep_curves(
    spec: RunSpec, vocab_size: int, val_rows: Sequence[Sequence[float]], points: Sequence[dict[str, Any]]
) -> list[tuple[int, float, float, float]]:
    """A sweep run's validation losses (its history's (step, elapsed, loss) rows) as (size, tokens seen,
    training FLOPs, loss). The sizes' rows come one after the other: a finished size's last row is at
    first_step + steps (its point), the rows after the last finished size are the size in training.
    Rows at 0 tokens (each size's first evaluation) are left out: they have no place on a log axis."""
    tokens_per_step = spec.batch_size * spec.context_len
    ends = [
        (p["size"], p["first_step"], p["first_step"] + p["steps"])
        for p in sorted(points, key=lambda p: p["size"])
    ]
    per_token: dict[int, float] = {}
    rows, done = [], 0
    for step, _, loss in val_rows:
        if done < len(ends):
            size, first, last = ends[done]
        else:
            size, first, last = len(ends), (ends[-1][2] if ends else 0), None
        if last is not None and step == last:
            done += 1
        if size >= len(LADDER) or not math.isfinite(loss) or step <= first:
            continue
        if size not in per_token:
            per_token[size] = train_flops_per_token(rung_config(spec, LADDER[size], vocab_size))
        tokens = (step - first) * tokens_per_step
        rows.append((size, float(tokens), per_token[size] * tokens, float(loss)))
    return rows


def sweep_progress(plan: SweepPlan, finished: int, step_in_size: int) -> float:
    """How far a sweep is, by the estimated time of its sizes: the finished ones, then the share of the
    size in training that its steps have done (0..1)."""
    if not plan.sizes:
        return 0.0
    done = sum(size.seconds for size in plan.sizes[:finished])
    if finished < len(plan.sizes):
        current = plan.sizes[finished]
        done += current.seconds * min(1.0, step_in_size / max(1, current.steps))
    return min(1.0, done / max(plan.seconds, 1e-9))
