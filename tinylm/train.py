"""Training: minimise the next-token cross-entropy with AdamW, one small batch at a time.

    loss = −(1/(B·T)) Σ log p_model(x_{t+1} | x_0 .. x_t)         (nats per token)

One step: take a random batch, run the model, compute the loss, backpropagate, clip the gradient's
norm (so one bad batch cannot throw the weights far), and let AdamW move every weight.

The learning rate warms up linearly for ``warmup_steps`` (Adam's moment estimates are poor at the
start), then follows a cosine from ``learning_rate`` down to ``min_lr_ratio × learning_rate`` at the
end of training — the end being ``max_steps`` or, with a ``time_budget``, the wall-clock deadline.
With ``schedule="trapezoid"`` it stays at ``learning_rate`` instead and falls linearly to zero over
the last ``decay_fraction`` of training (warm-up, stable, decay: a trapezoid).

``optimizer="muon"`` trains the blocks' weight matrices with Muon (``tinylm.muon``: momentum, then
an orthogonalised update) at ``muon_lr`` and everything else with AdamW at ``learning_rate``; the
schedule scales both alike.

:class:`Trainer` is a step-wise driver for a UI: ``events()`` is a generator that trains and yields a
:class:`TrainEvent` every ``log_interval`` steps (and at evaluations). Between steps it obeys
``pause()``, ``resume()`` and ``stop()`` from any thread. A NaN/Inf loss stops it with a clear
message and the weights from the last healthy step restored.

``eval_extras(model) -> {name: value}``, if given, is called at every evaluation; its numbers go into
the eval event and the history (e.g. ``tinylm.explain.induction.training_recorder``: head scores).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from tinylm.data import TokenData
from tinylm.errors import TinyLMError
from tinylm.fast import autocast, faster_precision, make_optimizer, resolve_precision
from tinylm.generate import SamplingSettings, generate
from tinylm.model import TinyLM
from tinylm.muon import Muon
from tinylm.tasks import TASKS, evaluate_task
from tinylm.tokenizers import Tokenizer

MAX_STEPS = 200_000
MAX_TIME_BUDGET = 24 * 3600.0
MAX_BATCH = 1024
OPTIMIZERS = ("adamw", "muon")
SCHEDULES = ("cosine", "trapezoid")

# Bounds of every numeric TrainConfig setting, checked once in TrainConfig.validate (the app's widgets and
# URL checks read them from here too, see tinylm.plan.SETTING_BOUNDS).
TRAIN_LIMITS: dict[str, tuple[float, float]] = {
    "max_steps": (1, MAX_STEPS),
    "time_budget": (0.1, MAX_TIME_BUDGET),
    "batch_size": (1, MAX_BATCH),
    "learning_rate": (1e-7, 1.0),
    "min_lr_ratio": (0.0, 1.0),
    "warmup_steps": (0, MAX_STEPS),
    "weight_decay": (0.0, 1.0),
    "beta1": (0.0, 0.9999),
    "beta2": (0.0, 0.99999),
    "grad_clip": (0.0, 1e6),
    "log_interval": (1, MAX_STEPS),
    "eval_interval": (1, MAX_STEPS),
    "eval_tokens": (1, 1_000_000),
    "sample_interval": (0, MAX_STEPS),
    "sample_tokens": (1, 1000),
    "task_examples": (1, 1000),
    "seed": (0, 2**31 - 1),
    "muon_lr": (1e-5, 1.0),
    "muon_momentum": (0.0, 0.999),
    "decay_fraction": (0.0, 1.0),
    "embedding_lr_scale": (0.01, 100.0),
}


@dataclass
class TrainConfig:
    """Optimisation settings. With ``time_budget`` (seconds) training ends at that wall time."""

    max_steps: int = 2000
    time_budget: float | None = None
    batch_size: int = 32
    learning_rate: float = 3e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 30
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0
    log_interval: int = 10
    eval_interval: int = 100
    eval_tokens: int = 8192
    sample_interval: int = 0  # steps between generated samples (0: none)
    sample_tokens: int = 80
    task_examples: int = 50  # exact-match examples per evaluation for the algorithmic tasks
    seed: int = 0
    precision: str = "auto"
    # Learning more per step (issue 17). optimizer "adamw": AdamW for every weight; "muon": Muon
    # (orthogonalised momentum, tinylm.muon) at muon_lr for the blocks' matrices, AdamW for the rest.
    optimizer: str = "adamw"
    muon_lr: float = 0.02
    muon_momentum: float = 0.95
    # schedule "cosine": warm-up, then cosine down to min_lr_ratio; "trapezoid": warm-up, constant,
    # then linear to zero over the last decay_fraction of training.
    schedule: str = "cosine"
    decay_fraction: float = 0.3
    # The token embedding's peak learning rate over learning_rate (AdamW in either optimizer). Each
    # row only moves on the steps its character occurs in, and modded-nanogpt trains it far faster
    # than the rest; 1.0: the same rate as every other AdamW weight.
    embedding_lr_scale: float = 1.0

    def validate(self) -> None:
        """Raise TinyLMError("bad_train_setting", ...) naming the first setting outside TRAIN_LIMITS."""
        for name, (low, high) in TRAIN_LIMITS.items():
            value = getattr(self, name)
            if name == "time_budget" and value is None:  # no time budget: the step count ends training
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
                raise TinyLMError(
                    "bad_train_setting",
                    f"{name} must be between {low} and {high} (got {value!r})",
                    name=name,
                    low=low,
                    high=high,
                    value=value,
                )
        for name, value, choices in (
            ("optimizer", self.optimizer, OPTIMIZERS),
            ("schedule", self.schedule, SCHEDULES),
        ):
            if value not in choices:
                raise TinyLMError(
                    "bad_config_choice",
                    f"{name} must be one of {choices} (got {value!r})",
                    name=name,
                    value=value,
                    choices=", ".join(choices),
                )
        resolve_precision(self.precision)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def learning_rate_at(config: TrainConfig, step: int, progress: float) -> float:
    """The learning rate of step ``step``; progress ∈ [0, 1]: the fraction of training done (steps or time).

    warm-up      lr = peak · (step + 1) / warmup_steps                 for the first warmup_steps
    cosine       lr = min + (peak − min) · ½ (1 + cos(π · progress))   min = min_lr_ratio · peak
    trapezoid    lr = peak, then peak · (1 − progress) / decay_fraction over the last decay_fraction

    Decaying to zero at the very end lets the last steps average out the noise of the batches, which
    is why a schedule that knows when training ends (steps or the clock) ends lower than a constant.
    """
    peak = config.learning_rate
    if step < config.warmup_steps:
        return peak * (step + 1) / config.warmup_steps
    progress = min(1.0, max(0.0, progress))
    if config.schedule == "trapezoid":
        left = 1.0 - progress
        return peak if left >= config.decay_fraction else peak * left / config.decay_fraction
    min_lr = peak * config.min_lr_ratio
    cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
    return min_lr + (peak - min_lr) * cosine


@dataclass
class TrainEvent:
    """Something that happened during training, for a progress bar, a chart or a log line.

    kind: "step" (every log_interval steps), "eval" (validation loss measured), "sample" (text
    generated), "done" (finished), "stopped" (stop() was called) or "failed" (NaN/Inf loss).
    elapsed: training wall time in seconds (pauses excluded). tokens_per_sec: training throughput
    over the last log interval.
    """

    kind: str
    step: int
    elapsed: float
    train_loss: float | None = None
    val_loss: float | None = None
    learning_rate: float | None = None
    tokens_per_sec: float | None = None
    accuracy: float | None = None
    sample: str | None = None
    message: str | None = None
    extras: dict[str, Any] | None = None  # eval events: what eval_extras returned


@dataclass
class TrainingHistory:
    """Everything worth plotting later; saved with the checkpoint."""

    train: list[tuple[int, float, float]] = field(default_factory=list)  # (step, elapsed, loss)
    val: list[tuple[int, float, float]] = field(default_factory=list)  # (step, elapsed, loss)
    learning_rate: list[tuple[int, float]] = field(default_factory=list)  # (step, lr)
    tokens_per_sec: list[tuple[int, float]] = field(default_factory=list)
    accuracy: list[tuple[int, float]] = field(default_factory=list)  # (step, exact-match accuracy)
    samples: list[tuple[int, str]] = field(default_factory=list)
    extras: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)  # name → (step, value) rows

    def to_dict(self) -> dict[str, Any]:
        """Lists of lists for JSON; each extra becomes a key of its own, next to "val" and the others."""
        rows = asdict(self)
        extras = rows.pop("extras")
        return {key: [list(row) for row in value] for key, value in (rows | extras).items()}


def decay_groups(model: TinyLM, weight_decay: float) -> list[dict]:
    """Weight decay for matrices (and embeddings) only; biases and LayerNorm γ, β are not shrunk.

    Only parameters with ``requires_grad`` are optimised: fine-tuning freezes the others.
    """
    trainable = [p for p in model.parameters() if p.requires_grad]
    matrices = [p for p in trainable if p.dim() >= 2]
    vectors = [p for p in trainable if p.dim() < 2]
    return [{"params": matrices, "weight_decay": weight_decay}, {"params": vectors, "weight_decay": 0.0}]


def make_optimizers(model: TinyLM, config: TrainConfig) -> list[torch.optim.Optimizer]:
    """AdamW for every parameter, or (optimizer="muon") Muon for the blocks' weight matrices plus
    AdamW for the embeddings, the output layer, the gains and the biases.

    Each parameter group keeps "lr_scale", its peak learning rate over ``learning_rate``: the schedule's
    learning rate times it is the group's learning rate at every step.
    """
    betas = (config.beta1, config.beta2)
    if config.optimizer != "muon":
        groups = embedding_apart(model, decay_groups(model, config.weight_decay), config.embedding_lr_scale)
        return [scaled(make_optimizer(groups, lr=config.learning_rate, betas=betas))]
    matrices = [p for name, p in model.named_parameters() if name.startswith("blocks.") and p.dim() == 2]
    chosen = {id(p) for p in matrices}
    rest = [p for p in model.parameters() if id(p) not in chosen]
    adam_groups = [
        {"params": [p for p in rest if p.dim() >= 2], "weight_decay": config.weight_decay},
        {"params": [p for p in rest if p.dim() < 2], "weight_decay": 0.0},
    ]
    adam_groups = embedding_apart(model, adam_groups, config.embedding_lr_scale)
    muon = Muon(matrices, lr=config.muon_lr, momentum=config.muon_momentum)
    adam = make_optimizer(adam_groups, lr=config.learning_rate, betas=betas)
    return [scaled(muon, config.muon_lr / config.learning_rate), scaled(adam)]


def embedding_apart(model: TinyLM, groups: list[dict], lr_scale: float) -> list[dict]:
    """The token embedding in a group of its own with ``lr_scale`` (when it is not 1 and it trains);
    empty groups dropped."""
    embedding = model.token_embedding.weight
    if lr_scale != 1.0 and embedding.requires_grad:
        for group in groups:
            if any(p is embedding for p in group["params"]):
                group["params"] = [p for p in group["params"] if p is not embedding]
                groups = [*groups, {**group, "params": [embedding], "lr_scale": lr_scale}]
                break
    return [group for group in groups if group["params"]]


def scaled(optimizer: torch.optim.Optimizer, lr_scale: float = 1.0) -> torch.optim.Optimizer:
    """Give every group that has none its "lr_scale" (a group made with one keeps it)."""
    for group in optimizer.param_groups:
        group.setdefault("lr_scale", lr_scale)
    return optimizer


@torch.no_grad()
def evaluate_loss(
    model: TinyLM,
    windows: torch.Tensor,
    batch_size: int = 64,
    precision: str = "fp32",
    targets: torch.Tensor | None = None,
) -> float:
    """Mean next-token cross-entropy (nats/token) over fixed windows (rows of T+1 ids).

    targets (N, T): what to predict instead of windows[:, 1:], −100 where a token does not count
    (fine-tuning counts only the answers); the mean is then over the counted tokens.
    """
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        for start in range(0, len(windows), batch_size):
            chunk = windows[start : start + batch_size]
            if targets is None:  # every window counts the same: weigh by windows
                wanted, weight = chunk[:, 1:], chunk.shape[0]
            else:  # weigh by the tokens that count
                wanted = targets[start : start + batch_size]
                weight = int((wanted != -100).sum())
                if weight == 0:
                    continue
            with autocast(precision):
                loss = model(chunk[:, :-1], wanted).loss
            total += float(loss) * weight
            count += weight
    finally:
        model.train(was_training)
    return total / max(count, 1)


def greedy_completer(model: TinyLM, tokenizer: Tokenizer) -> Callable[[str, int], str]:
    """complete(prompt, max_new_chars) by greedy decoding, for the exact-match task metric."""

    def complete(prompt: str, max_new: int) -> str:
        settings = SamplingSettings(greedy=True, max_new_tokens=max_new)
        ids = [step.token_id for step in generate(model, tokenizer.encode(prompt), settings, n_candidates=1)]
        return tokenizer.decode(ids)

    return complete


class Trainer:
    """Trains a model on TokenData; drive it with ``for event in trainer.events(): ...``."""

    def __init__(
        self,
        model: TinyLM,
        tokenizer: Tokenizer,
        data: TokenData,
        config: TrainConfig,
        task: str | None = None,
        sample_prompt: str = "",
        eval_extras: Callable[[TinyLM], dict[str, Any]] | None = None,
        metric: Callable[[TinyLM], float] | None = None,
    ) -> None:
        """task: an algorithmic task whose exact match is measured at each evaluation; metric: any other
        score of the model (0 to 1, e.g. a fine-tuning task's), measured the same way (``accuracy``)."""
        config.validate()
        if task is not None and task not in TASKS:
            raise ValueError(f"unknown task {task!r}")
        self.model, self.tokenizer, self.data, self.config = model, tokenizer, data, config
        self.task, self.metric = task, metric
        self.sample_prompt = sample_prompt
        self.eval_extras = eval_extras
        self.precision = resolve_precision(config.precision)
        self.history = TrainingHistory()
        self.step = 0
        self.state = "ready"  # ready → running ⇄ paused → done | stopped | failed
        self.message = ""
        self._stop_requested = threading.Event()
        self._running = threading.Event()
        self._running.set()
        context = model.config.context_len
        self._val_windows, self._val_targets = data.validation_windows(context, config.eval_tokens)
        self._batch_generator = torch.Generator().manual_seed(config.seed)
        self._sample_count = 0

    # -- control, callable from any thread -------------------------------------------------
    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop_requested.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    # -- the loop ----------------------------------------------------------------------------
    def _progress(self, elapsed: float) -> float:
        if self.config.time_budget:
            return elapsed / self.config.time_budget
        return self.step / self.config.max_steps

    def _finished(self, elapsed: float) -> bool:
        if self.step >= self.config.max_steps:
            return True
        return self.config.time_budget is not None and elapsed >= self.config.time_budget

    def _evaluate(self, elapsed: float) -> TrainEvent:
        val_loss = evaluate_loss(
            self.model, self._val_windows, precision=self.precision, targets=self._val_targets
        )
        self.history.val.append((self.step, elapsed, val_loss))
        accuracy = None
        if self.task is not None:
            complete = greedy_completer(self.model, self.tokenizer)
            accuracy = evaluate_task(self.task, complete, n=self.config.task_examples)
        elif self.metric is not None:
            accuracy = self.metric(self.model)
        if accuracy is not None:
            self.history.accuracy.append((self.step, accuracy))
        extras = None
        if self.eval_extras is not None:
            extras = self.eval_extras(self.model)
            for name, value in extras.items():
                self.history.extras.setdefault(name, []).append((self.step, value))
        return TrainEvent("eval", self.step, elapsed, val_loss=val_loss, accuracy=accuracy, extras=extras)

    def generate_sample(self) -> str:
        """A short text from the current model (fixed seed, τ = 0.8) to show learning progress."""
        prompt = self.sample_prompt or self.tokenizer.decode(self.data.train[:1].tolist())
        prompt_ids = self.tokenizer.encode(prompt)[-self.model.config.context_len :] or [0]
        settings = SamplingSettings(
            temperature=0.8, seed=self.config.seed, max_new_tokens=self.config.sample_tokens
        )
        new_ids = [step.token_id for step in generate(self.model, prompt_ids, settings, n_candidates=1)]
        return prompt + self.tokenizer.decode(new_ids)

    def events(self) -> Iterator[TrainEvent]:
        """Train, yielding events; returns when done, stopped or failed (see ``state``)."""
        config, model = self.config, self.model
        model.train()
        optimizers = make_optimizers(model, config)
        parameters = [
            p for optimizer in optimizers for group in optimizer.param_groups for p in group["params"]
        ]
        healthy = [p.detach().clone() for p in parameters]  # weights after the last finite-loss step
        healthy_step = 0
        context = model.config.context_len
        tokens_per_step = config.batch_size * context
        if config.precision == "auto" and self.precision == "bf16":  # fast bf16 matmuls: is the model?
            probe = torch.Generator().manual_seed(config.seed + 1)  # the training batches stay the seed's
            self.precision = faster_precision(
                model, *self.data.train_batch(config.batch_size, context, probe)
            )

        self.state = "running"
        elapsed = 0.0  # training wall time, pauses excluded, evaluations included
        yield self._evaluate(elapsed)
        interval_loss, interval_steps, interval_time = 0.0, 0, 0.0
        resumed_at = time.perf_counter()
        while not self._finished(elapsed + time.perf_counter() - resumed_at):
            if self._stop_requested.is_set():
                break
            if not self._running.is_set():  # paused: stop the clock until resumed or stopped
                elapsed += time.perf_counter() - resumed_at
                self.state = "paused"
                while not self._running.wait(timeout=0.1):
                    pass
                self.state = "running"
                resumed_at = time.perf_counter()
                continue
            step_start = time.perf_counter()
            lr = learning_rate_at(config, self.step, self._progress(elapsed + step_start - resumed_at))
            for optimizer in optimizers:  # every group follows the schedule, in proportion to its peak
                for group in optimizer.param_groups:
                    group["lr"] = lr * group["lr_scale"]
            x, y = self.data.train_batch(config.batch_size, context, self._batch_generator)
            with autocast(self.precision):
                loss = model(x, y).loss
            loss_value = float(loss.detach())
            grad_norm = 0.0
            if math.isfinite(loss_value):
                for optimizer in optimizers:
                    optimizer.zero_grad(set_to_none=True)
                loss.backward()
                grad_norm = float(
                    torch.nn.utils.clip_grad_norm_(parameters, config.grad_clip or float("inf"))
                )
            if not (math.isfinite(loss_value) and math.isfinite(grad_norm)):
                with torch.no_grad():
                    for parameter, saved in zip(parameters, healthy, strict=True):
                        parameter.copy_(saved)
                self.state = "failed"
                self.message = (
                    f"the loss became {loss_value} at step {self.step + 1}: the learning rate ({lr:.2g}) is "
                    f"probably too high. Training stopped; the weights from step {healthy_step} were kept."
                )
                now = elapsed + time.perf_counter() - resumed_at
                yield TrainEvent(
                    "failed", self.step, now, train_loss=loss_value, learning_rate=lr, message=self.message
                )
                return
            for optimizer in optimizers:
                optimizer.step()
            self.step += 1
            step_seconds = time.perf_counter() - step_start
            interval_loss += loss_value
            interval_steps += 1
            interval_time += step_seconds
            if self.step % config.log_interval == 0 or self._finished(
                elapsed + time.perf_counter() - resumed_at
            ):
                with torch.no_grad():
                    for parameter, saved in zip(parameters, healthy, strict=True):
                        saved.copy_(parameter)
                healthy_step = self.step
                now = elapsed + time.perf_counter() - resumed_at
                mean_loss = interval_loss / interval_steps
                speed = interval_steps * tokens_per_step / max(interval_time, 1e-9)
                self.history.train.append((self.step, now, mean_loss))
                self.history.learning_rate.append((self.step, lr))
                self.history.tokens_per_sec.append((self.step, speed))
                yield TrainEvent(
                    "step", self.step, now, train_loss=mean_loss, learning_rate=lr, tokens_per_sec=speed
                )
                interval_loss, interval_steps, interval_time = 0.0, 0, 0.0
            now = elapsed + time.perf_counter() - resumed_at
            if self.step % config.eval_interval == 0 and not self._finished(now):
                yield self._evaluate(now)
            if config.sample_interval and self.step % config.sample_interval == 0 and not self._finished(now):
                yield self._sample_event(now)
        elapsed += time.perf_counter() - resumed_at
        stopped = self._stop_requested.is_set() and not self._finished(elapsed)
        if not self.history.val or self.history.val[-1][0] != self.step:
            yield self._evaluate(elapsed)
        if config.sample_interval:
            yield self._sample_event(elapsed)
        self.state = "stopped" if stopped else "done"
        self.message = f"stopped at step {self.step}" if stopped else f"finished {self.step} steps"
        yield TrainEvent(
            self.state, self.step, elapsed, val_loss=self.history.val[-1][2], message=self.message
        )

    def _sample_event(self, elapsed: float) -> TrainEvent:
        text = self.generate_sample()
        self.history.samples.append((self.step, text))
        return TrainEvent("sample", self.step, elapsed, sample=text)

    def run(self, on_event: Callable[[TrainEvent], None] | None = None) -> TrainingHistory:
        """Train to the end, passing each event to on_event; returns the history."""
        for event in self.events():
            if on_event is not None:
                on_event(event)
        return self.history
