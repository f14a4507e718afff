"""Planning a training run: one description of it, the bounds of every setting, and what it will cost.

A run is described by a :class:`RunSpec`: where its text comes from and how that text becomes tokens,
plus every setting of :class:`~tinylm.config.ModelConfig` (the model's shape) and of
:class:`~tinylm.train.TrainConfig` (the optimisation), under their own names. RunSpec is *built from*
the fields of those two dataclasses, so a new model or training option is a run setting at once: the
app's widgets and URL, the comparison of runs, uploaded checkpoints and ``python -m tinylm train`` all
speak the same vocabulary, and there is no third list of fields to keep in step.

    spec = recommended_spec("stories-en")                 # a corpus and its recommended preset
    spec = spec.with_settings(n_layers=2, learning_rate=1e-3)
    plan = make_plan(spec, vocab_size=55)                 # parameters, memory, seconds, the schedule
    run = prepare_run(spec, text)                         # tokenizer, data, model and TrainConfig

Bounds (:data:`SETTING_BOUNDS`) come from the library's own limits (``config.LIMITS``,
``config.CHOICES``, ``train.TRAIN_LIMITS``, the BPE tokenizer's vocabulary limits); :data:`APP_BOUNDS`
narrows a few of them to what one student may ask of a shared classroom server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, make_dataclass, replace
from typing import Any

from tinylm.config import CHOICES, LIMITS, MAX_DROPOUT, MAX_LOGIT_SOFTCAP, ModelConfig, count_parameters
from tinylm.config import estimate_training_memory_bytes as memory_needed
from tinylm.corpora import BUILTIN_CORPORA, generate_corpus
from tinylm.data import BUILTIN_CORPUS_CHARS, TokenData, min_chars_needed, prepare_data
from tinylm.errors import TinyLMError
from tinylm.fast import PRECISIONS
from tinylm.finetune import MODES as FINETUNE_MODES
from tinylm.finetune_tasks import FINETUNE_TASKS
from tinylm.lora import ALPHA_RANGE, MAX_RANK
from tinylm.model import TinyLM
from tinylm.presets import DEFAULT_PRESET, PRESETS, RECOMMENDED
from tinylm.scaling import train_flops_per_token
from tinylm.tasks import TASKS
from tinylm.tokenizers import MAX_VOCAB_SIZE, MIN_VOCAB_SIZE, BPETokenizer, CharTokenizer, Tokenizer
from tinylm.train import MAX_STEPS, OPTIMIZERS, SCHEDULES, TRAIN_LIMITS, TrainConfig

TOKENIZERS = ("char", "bpe")
BUDGETS = ("time", "steps")  # train for time_budget seconds, or for max_steps steps
KINDS = ("train", "sweep", "finetune")  # the kinds of job a spec describes (tinylm.job.make_job;
# sweep: tinylm.sweep; finetune: tinylm.finetune_job)
SWEEP_MODES = ("tokens", "compute")  # every size of a sweep trains on the same tokens, or the same FLOPs

# TrainConfig fields the planner sets (how often to log, evaluate and sample), not the student.
PLANNED = (
    "log_interval",
    "eval_interval",
    "eval_tokens",
    "sample_interval",
    "sample_tokens",
    "task_examples",
)

# The run's own settings, before the model's and the training's: (name, type, default).
RUN_FIELDS: tuple[tuple[str, type, Any], ...] = (
    ("kind", str, "train"),
    ("corpus", str, "stories-en"),  # a built-in corpus (tinylm.corpora) or "custom"
    ("text_name", str, ""),  # custom text: "pasted" or the uploaded file's name
    ("tokenizer", str, "char"),
    ("bpe_vocab", int, 512),
    ("budget", str, "time"),
    ("sample_every", int, 0),  # steps between samples; 0 lets the planner choose about ten per run
    ("sample_prompt", str, ""),
    ("preset", str, ""),  # the preset the settings started from (shown in the comparison of runs)
    # A sweep (kind "sweep", tinylm.sweep): the first sweep_sizes rungs of its ladder of model sizes, each
    # trained on sweep_tokens tokens ("tokens") or for sweep_flops training FLOPs ("compute").
    ("sweep_mode", str, "tokens"),
    ("sweep_sizes", int, 3),
    ("sweep_tokens", int, 500_000),
    ("sweep_flops", float, 3e11),
    # A fine-tuning run (kind "finetune", tinylm.finetune_job): a built-in task, a mode (full, lora, probe,
    # scratch), LoRA's rank, alpha and targets ("q,k,v,o,ffn"), and the base model it starts from, as the app
    # names it ("demo:stories-zh", "run:<id>"); its weights come with the job (tinylm.job.JobInputs.base).
    ("finetune_task", str, "qa-en"),
    ("finetune_mode", str, "lora"),
    ("lora_rank", int, 8),
    ("lora_alpha", float, 16.0),
    ("lora_targets", str, "q,k,v,o,ffn"),
    ("base_model", str, ""),
)
# A spec always has a time budget and a step count ready (the budget setting picks one).
SPEC_DEFAULTS = {"time_budget": 60.0, "max_steps": 1000}

MODEL_SETTINGS = tuple(f.name for f in fields(ModelConfig) if f.name != "vocab_size")
TRAIN_SETTINGS = tuple(f.name for f in fields(TrainConfig) if f.name not in PLANNED)


def _spec_fields() -> list[tuple[str, Any, Any]]:
    made = [(name, kind, field(default=default)) for name, kind, default in RUN_FIELDS]
    for source, names in ((ModelConfig, MODEL_SETTINGS), (TrainConfig, TRAIN_SETTINGS)):
        for item in fields(source):
            if item.name in names:
                made.append((item.name, item.type, field(default=SPEC_DEFAULTS.get(item.name, item.default))))
    return made


def _model_config(self, vocab_size: int) -> ModelConfig:
    """The model this spec describes (TinyLMError with the reason when it cannot exist)."""
    return ModelConfig(vocab_size=vocab_size, **{name: getattr(self, name) for name in MODEL_SETTINGS})


def _task(self) -> str | None:
    """The algorithmic task scored by exact match, if the corpus is one."""
    return self.corpus if self.corpus in TASKS else None


def _to_dict(self) -> dict[str, Any]:
    return {item.name: getattr(self, item.name) for item in fields(self)}


def _with_settings(self, **changes: Any):
    """A copy with some settings changed (any run, model or training setting, by name)."""
    return replace(self, **changes)


@classmethod
def _from_dict(cls, data: Any):
    """Tolerant: unknown keys and values of the wrong type are dropped (a run.json of an older app)."""
    if not isinstance(data, dict):
        return cls()
    defaults = cls()
    kwargs = {}
    for item in fields(cls):
        value, default = data.get(item.name), getattr(defaults, item.name)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if value is not None and (type(value) is type(default) or default is None):
            kwargs[item.name] = value
    return cls(**kwargs)


@classmethod
def _from_configs(cls, model: ModelConfig, train: dict[str, Any] | None = None, **run: Any):
    """The spec of an existing model (an uploaded checkpoint): its own shape and training settings."""
    settings = {name: getattr(model, name) for name in MODEL_SETTINGS}
    for name, value in (train or {}).items():
        if name in TRAIN_SETTINGS and name not in SPEC_DEFAULTS:
            settings[name] = value
    return cls.from_dict({**settings, **run})


RunSpec = make_dataclass(
    "RunSpec",
    _spec_fields(),
    frozen=True,
    namespace={
        "__doc__": "Every setting of a run, flat: the run's own (RUN_FIELDS), then every ModelConfig "
        "field but vocab_size, then every TrainConfig field the student sets (not PLANNED).",
        "__module__": __name__,
        "model_config": _model_config,
        "task": property(_task),
        "to_dict": _to_dict,
        "with_settings": _with_settings,
        "from_dict": _from_dict,
        "from_configs": _from_configs,
    },
)


# ---------------------------------------------------------------------------------------------
# The bounds of every setting
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    """What a setting may be: a range (low ≤ value ≤ high), one of some options, or a text up to a length."""

    low: float | None = None
    high: float | None = None
    options: tuple[Any, ...] | None = None
    max_length: int | None = None

    def narrowed(self, low: float | None = None, high: float | None = None) -> Bound:
        """This bound intersected with a narrower range (never wider than the library allows)."""
        new_low = self.low if low is None else max(low, self.low if self.low is not None else low)
        new_high = self.high if high is None else min(high, self.high if self.high is not None else high)
        return replace(self, low=new_low, high=new_high)


def _library_bounds() -> dict[str, Bound]:
    bounds = {name: Bound(low, high) for name, (low, high) in LIMITS.items() if name in MODEL_SETTINGS}
    bounds.update({name: Bound(options=choices) for name, choices in CHOICES.items()})
    bounds["dropout"] = Bound(0.0, MAX_DROPOUT - 0.01)
    bounds["rope_base"] = Bound(2.0, 1e7)
    bounds.update(
        {name: Bound(low, high) for name, (low, high) in TRAIN_LIMITS.items() if name not in PLANNED}
    )
    bounds["precision"] = Bound(options=PRECISIONS)
    bounds["optimizer"] = Bound(options=OPTIMIZERS)
    bounds["schedule"] = Bound(options=SCHEDULES)
    bounds["logit_softcap"] = Bound(0.0, MAX_LOGIT_SOFTCAP)
    bounds.update(
        kind=Bound(options=KINDS),
        tokenizer=Bound(options=TOKENIZERS),
        bpe_vocab=Bound(MIN_VOCAB_SIZE, MAX_VOCAB_SIZE),
        budget=Bound(options=BUDGETS),
        sample_every=Bound(0, MAX_STEPS),
        sample_prompt=Bound(max_length=100),
        text_name=Bound(max_length=60),
        corpus=Bound(options=(*BUILTIN_CORPORA, "custom")),
        preset=Bound(max_length=40),
        sweep_mode=Bound(options=SWEEP_MODES),
        sweep_sizes=Bound(2, 5),  # tinylm.sweep.LADDER has five rungs
        sweep_tokens=Bound(10_000, 100_000_000),
        sweep_flops=Bound(1e9, 1e17),
        finetune_task=Bound(options=FINETUNE_TASKS),
        finetune_mode=Bound(options=FINETUNE_MODES),
        lora_rank=Bound(1, MAX_RANK),
        lora_alpha=Bound(*ALPHA_RANGE),
        lora_targets=Bound(max_length=20),  # "q,k,v,o,ffn": tinylm.lora.TARGETS, comma-separated
        base_model=Bound(max_length=40),  # "demo:<name>" or "run:<22-character id>"
    )
    for item in fields(RunSpec):  # a switch is on or off
        if isinstance(item.default, bool):
            bounds.setdefault(item.name, Bound(options=(False, True)))
    return bounds


SETTING_BOUNDS: dict[str, Bound] = _library_bounds()

MAX_APP_SECONDS = 600.0  # the longest training run the app accepts (10 minutes)
MAX_APP_STEPS = 20_000  # the most steps a step-counted run may ask for in the app
MAX_JOB_MEMORY = 1_500_000_000  # estimated bytes one app run may need (config.estimate_training_memory_bytes)

# What one student may ask of a shared server: narrower than the library (a context of 4 tokens or a
# dropout of 0.9 teach nothing; a ten-minute run is the longest a lesson can wait for).
APP_BOUNDS: dict[str, Bound] = {
    **SETTING_BOUNDS,
    "context_len": SETTING_BOUNDS["context_len"].narrowed(low=8),
    "dropout": SETTING_BOUNDS["dropout"].narrowed(high=0.5),
    "batch_size": SETTING_BOUNDS["batch_size"].narrowed(high=512),
    "warmup_steps": SETTING_BOUNDS["warmup_steps"].narrowed(high=5000),
    "time_budget": SETTING_BOUNDS["time_budget"].narrowed(low=5.0, high=MAX_APP_SECONDS),
    "max_steps": SETTING_BOUNDS["max_steps"].narrowed(low=10, high=MAX_APP_STEPS),
    "sample_every": SETTING_BOUNDS["sample_every"].narrowed(high=MAX_APP_STEPS),
    "seed": SETTING_BOUNDS["seed"].narrowed(high=1_000_000),
    "sweep_tokens": SETTING_BOUNDS["sweep_tokens"].narrowed(high=2_000_000),
    "sweep_flops": SETTING_BOUNDS["sweep_flops"].narrowed(high=3e12),
}


@dataclass(frozen=True)
class RunLimits:
    """The limits a plan is checked against: the app's (a classroom server) or the library's (the CLI)."""

    max_seconds: float
    max_steps: int
    max_memory: int | None


APP_LIMITS = RunLimits(MAX_APP_SECONDS, MAX_APP_STEPS, MAX_JOB_MEMORY)
LIBRARY_LIMITS = RunLimits(TRAIN_LIMITS["time_budget"][1], MAX_STEPS, None)

# ---------------------------------------------------------------------------------------------
# What a run will cost, and how often it evaluates
# ---------------------------------------------------------------------------------------------

TIME_MODE_MAX_STEPS = 100_000  # safety cap on a time-budget run's steps (the time ends it first)
EVAL_TOKENS = 8192  # validation tokens per evaluation (the same windows every time)
SAMPLE_TOKENS = 80  # tokens per generated sample
TASK_EXAMPLES = 40  # held-out questions per evaluation of a task (exact match)

# Time of a training step with one torch thread, fitted on this project's 2-core test machine
# (benchmarks/app_training.py prints the measured figures): a fixed cost per step and per layer (Python
# and kernel launches dominate tiny models) plus the FLOPs of tinylm.scaling.train_flops_per_token at a
# sustained rate. Measured with one thread while other jobs loaded the machine (load average 5-6):
# 18 ms/step for the tiny preset (estimate 30), 118 for small (162), 343 for live (362), 1.9 s for a
# 6-layer d_model-192 context-128 model (2.4 s): the estimate errs on the long side. Time-budget runs
# re-plan their evaluations from the measured speed after their first steps (tinylm.job).
STEP_OVERHEAD_SECONDS = 0.004
LAYER_OVERHEAD_SECONDS = 0.0015
SUSTAINED_FLOPS = 30e9
DECODE_OVERHEAD_SECONDS = 0.001  # one generated token (KV cache): overhead-bound for tiny models
DECODE_LAYER_SECONDS = 0.0009


@dataclass(frozen=True)
class Plan:
    """What a spec will cost, worked out before anything is trained (shown next to the Start button)."""

    parameters: int
    memory_bytes: int
    seconds_per_step: float  # estimated, one thread
    steps: int  # the step limit, or the steps expected to fit in the time budget
    seconds: float  # expected training time (without waiting in a queue)
    tokens_per_step: int
    model_config: ModelConfig
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


def _refuse_beyond(spec: RunSpec, limits: RunLimits, memory: int) -> None:
    if spec.budget == "time":
        if not 1.0 <= spec.time_budget <= limits.max_seconds:
            raise TinyLMError(
                "too_long",
                f"time_budget must be between 1 and {limits.max_seconds:g} s (got {spec.time_budget!r})",
                value=spec.time_budget,
                limit=limits.max_seconds,
            )
    elif not 1 <= spec.max_steps <= limits.max_steps:
        raise TinyLMError(
            "too_many_steps",
            f"max_steps must be between 1 and {limits.max_steps} (got {spec.max_steps!r})",
            value=spec.max_steps,
            limit=limits.max_steps,
        )
    if limits.max_memory is not None and memory > limits.max_memory:
        raise TinyLMError(
            "too_much_memory",
            f"the run would need about {memory / 1e6:.0f} MB; the limit is {limits.max_memory / 1e6:.0f} MB",
            memory_mb=round(memory / 1e6),
            limit_mb=round(limits.max_memory / 1e6),
        )


def make_plan(
    spec: RunSpec, vocab_size: int, text_tokens: int | None = None, limits: RunLimits = APP_LIMITS
) -> Plan:
    """Check a spec against the model's, the trainer's and ``limits``, and estimate its cost.

    Raises TinyLMError: a setting the model or trainer cannot take, a text too short for the context,
    or more than ``limits`` allow (too long, too many steps, too much memory, too slow).
    """
    config = spec.model_config(vocab_size)
    for name in ("kind", "tokenizer", "budget"):
        if getattr(spec, name) not in SETTING_BOUNDS[name].options:
            choices = ", ".join(SETTING_BOUNDS[name].options)
            raise TinyLMError(
                "bad_config_choice", f"unknown {name}", name=name, value=getattr(spec, name), choices=choices
            )
    memory = memory_needed(config, spec.batch_size)
    _refuse_beyond(spec, limits, memory)
    train_settings = {name: getattr(spec, name) for name in TRAIN_SETTINGS}
    TrainConfig(**train_settings).validate()  # before any estimate divides by them
    if text_tokens is not None:
        needed = min_chars_needed(config.context_len, 0.1)
        if text_tokens < needed:
            raise TinyLMError(
                "text_too_short",
                f"the text has {text_tokens} tokens; a context of {config.context_len} needs {needed}",
                tokens=text_tokens,
                needed=needed,
                context_len=config.context_len,
            )
    per_step = estimate_seconds_per_step(config, spec.batch_size)
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
        if seconds > limits.max_seconds:
            raise TinyLMError(
                "too_slow",
                f"{steps} steps would take about {seconds / 60:.1f} minutes; the limit is "
                f"{limits.max_seconds / 60:.0f} minutes",
                steps=steps,
                minutes=round(seconds / 60, 1),
                limit_minutes=round(limits.max_seconds / 60),
            )
    train_settings = {name: getattr(spec, name) for name in TRAIN_SETTINGS}
    train_settings.update(
        max_steps=max_steps, time_budget=spec.time_budget if spec.budget == "time" else None
    )
    train_config = TrainConfig(
        **train_settings,
        log_interval=log_interval,
        eval_interval=eval_interval,
        sample_interval=sample_every,
        eval_tokens=EVAL_TOKENS,
        sample_tokens=SAMPLE_TOKENS,
        task_examples=TASK_EXAMPLES,
    )
    train_config.validate()
    return Plan(
        parameters=count_parameters(config),
        memory_bytes=memory,
        seconds_per_step=per_step,
        steps=steps,
        seconds=seconds,
        tokens_per_step=spec.batch_size * config.context_len,
        model_config=config,
        train_config=train_config,
    )


# ---------------------------------------------------------------------------------------------
# Where a run starts from, and getting it ready to train
# ---------------------------------------------------------------------------------------------


def spec_from_preset(preset: str = DEFAULT_PRESET, **settings: Any) -> RunSpec:
    """A spec with a preset's model and training settings (its time budget included), then ``settings``."""
    chosen = PRESETS[preset]
    return RunSpec(**{"preset": preset, **chosen.model, **chosen.train, **settings})


_TUNING = ("learning_rate",)  # corpus advice applied only together with the corpus's recommended preset


def recommended_spec(corpus: str, preset: str | None = None) -> RunSpec:
    """The settings to start from for a corpus ("custom" for the student's own text) and a preset
    (None: the preset recommended for the corpus; tinylm.presets.RECOMMENDED)."""
    advice = RECOMMENDED.get(corpus, RECOMMENDED["custom"])
    preset = preset if preset in PRESETS else advice["preset"]
    tuned = {
        key: value
        for key, value in advice.items()
        if key != "preset" and (key not in _TUNING or preset == advice["preset"])
    }
    return spec_from_preset(preset, corpus=corpus if corpus in BUILTIN_CORPORA else "custom", **tuned)


BPE_SECONDS = 15.0  # time limit for learning BPE merges on a custom text


def build_tokenizer(kind: str, text: str, bpe_vocab: int) -> Tokenizer:
    """A character tokenizer, or a byte-level BPE learned on (at most the first BUILTIN_CORPUS_CHARS
    characters of) the text within BPE_SECONDS: the same for the app and the command line."""
    if kind == "bpe":
        return BPETokenizer.train(text[:BUILTIN_CORPUS_CHARS], vocab_size=bpe_vocab, max_seconds=BPE_SECONDS)
    return CharTokenizer.from_text(text)


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


@dataclass
class PreparedRun:
    """A spec made real: its tokenizer, token data, a fresh model and the plan (with its TrainConfig)."""

    spec: RunSpec
    tokenizer: Tokenizer
    data: TokenData
    model: TinyLM
    plan: Plan
    chars: int  # length of the text in characters


def prepare_run(spec: RunSpec, text: str | None = None, limits: RunLimits = APP_LIMITS) -> PreparedRun:
    """Text (None: the spec's built-in corpus) → tokenizer → token ids → checked plan → model."""
    if text is None:
        if spec.corpus not in BUILTIN_CORPORA:
            raise TinyLMError(
                "unknown_corpus", "unknown corpus", name=spec.corpus, choices=", ".join(BUILTIN_CORPORA)
            )
        text = generate_corpus(spec.corpus, n_chars=BUILTIN_CORPUS_CHARS, seed=0)
    tokenizer = build_tokenizer(spec.tokenizer, text, spec.bpe_vocab)
    config = spec.model_config(tokenizer.vocab_size)
    data = prepare_data(text, tokenizer, config.context_len)
    plan = make_plan(spec, tokenizer.vocab_size, data.num_tokens, limits)
    return PreparedRun(spec, tokenizer, data, TinyLM(plan.model_config, seed=spec.seed), plan, len(text))
