"""Time to loss: the held-out loss a character model reaches in a fixed training time (issue 17).

The measure is the true held-out cross-entropy of a character model: the text's first 90 % is
trained on, its last 10 % is cut into non-overlapping windows of context_len + 1 characters and
every next character of every window is scored (nats per character). The same for every contender.

Two ways to measure, both behind ``python -m tinylm bench --time-to-loss FILE``:

* wall clock (``--budgets 60,240``): train nanoGPT's recipe (``tinylm.baselines``) and tinylm one
  after the other in one process with the same threads, each for the budget in seconds, and print
  both curves (loss against seconds, evaluations included in the clock). Needs an idle machine.
* step-equivalent (``--measure-throughput``, then ``--steps-for-seconds``): the loss after n steps is
  fixed by the seed and does not depend on how busy the machine is, as long as the learning-rate
  schedule counts steps. So measure each configuration's seconds per step (with the threads the
  real run would use) once, and train it for the number of steps it would finish in the budget,
  with a step-based schedule, on any number of threads, two runs at a time.

A configuration is written as atoms joined by "+" and applied over ``BASELINE`` (the "live" preset
before issue 17): a named atom from ``ATOMS`` ("muon", "relu2", ...), "live" (the current preset),
"nanogpt" (the recipe, alone), or "key=value" for any ModelConfig / TrainConfig field
("muon+relu2+batch_size=24").
"""

from __future__ import annotations

import concurrent.futures
import copy
import math
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from tinylm.baselines import NanoGPTRecipe, make_train_step, nanogpt_learning_rate
from tinylm.config import ModelConfig
from tinylm.data import TokenData, evaluation_windows, load_text, prepare_data
from tinylm.fast import use_threads
from tinylm.model import TinyLM
from tinylm.presets import DEFAULT_PRESET, PRESETS
from tinylm.tokenizers import CharTokenizer
from tinylm.train import TrainConfig, Trainer, evaluate_loss

# The "live" preset as it was before issue 17 (README: 1.91 at 60 s, 1.66 at 240 s): the ablation's 0.
BASELINE: dict[str, dict[str, Any]] = {
    "model": {
        "context_len": 64,
        "d_model": 128,
        "n_layers": 4,
        "n_heads": 4,
        "pos_encoding": "rope",
        "activation": "relu",
        "tie_weights": False,
    },
    "train": {"batch_size": 12, "learning_rate": 4e-3},
}
ATOMS: dict[str, dict[str, Any]] = {
    "muon": {"optimizer": "muon"},
    "relu2": {"activation": "relu2"},
    "qk_norm": {"qk_norm": True},
    "zero_init": {"zero_init_out": True},
    "softcap": {"logit_softcap": 15.0},
    "trapezoid": {"schedule": "trapezoid"},
}
NANOGPT = "nanogpt"
NANOGPT_SHAPE = {"context_len": 64, "d_model": 128, "n_layers": 4, "n_heads": 4}
NANOGPT_BATCH = 12
EVAL_INTERVAL = 100  # steps between the curve's points (the same cadence for every contender)
EVAL_TOKENS = 8192
# Settings that change the numbers an optimizer step uses but not the work it does: two setups that
# differ only in these cost the same CPU time per step (a learning-rate sweep needs no new throughput).
RATE_KEYS = frozenset(
    {
        "learning_rate",
        "muon_lr",
        "embedding_lr_scale",
        "min_lr_ratio",
        "warmup_steps",
        "weight_decay",
        "beta1",
        "beta2",
        "muon_momentum",
        "schedule",
        "decay_fraction",
        "seed",
    }
)
MODEL_KEYS = {f.name for f in fields(ModelConfig)} - {"vocab_size"}
TRAIN_KEYS = {f.name for f in fields(TrainConfig)}


@dataclass
class Setup:
    """One contender: its name, ModelConfig keywords (without vocab_size) and TrainConfig keywords."""

    name: str
    model: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)

    @property
    def is_nanogpt(self) -> bool:
        return self.name == NANOGPT


def _value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_setup(spec: str) -> Setup:
    """'muon+relu2+batch_size=24' → a Setup (see the module docstring); unknown atoms raise ValueError."""
    if spec == NANOGPT:
        return Setup(NANOGPT, dict(NANOGPT_SHAPE), {"batch_size": NANOGPT_BATCH})
    model, train = dict(BASELINE["model"]), dict(BASELINE["train"])
    for atom in filter(None, spec.split("+")):
        if atom == "baseline":
            continue
        if atom == "live":
            model.update(PRESETS[DEFAULT_PRESET].model)
            train.update({k: v for k, v in PRESETS[DEFAULT_PRESET].train.items() if k in TRAIN_KEYS})
            continue
        if "=" in atom:
            key, raw = atom.split("=", 1)
            overrides = {key: _value(raw)}
        elif atom in ATOMS:
            overrides = ATOMS[atom]
        else:
            raise ValueError(
                f"unknown setting {atom!r}: use one of {sorted(ATOMS)}, live, baseline or key=value"
            )
        for key, value in overrides.items():
            if key in MODEL_KEYS:
                model[key] = value
            elif key in TRAIN_KEYS:
                train[key] = value
            else:
                raise ValueError(f"{key!r} is neither a ModelConfig nor a TrainConfig field")
    for key in ("time_budget", "max_steps"):  # the measurement decides how long to train
        train.pop(key, None)
    return Setup(spec, model, train)


def load_split(path: str | Path, context_len: int) -> tuple[CharTokenizer, TokenData]:
    """Character tokens; the first 90 % for training, the last 10 % held out."""
    text = load_text(str(path))
    tokenizer = CharTokenizer.from_text(text)
    return tokenizer, prepare_data(text, tokenizer, context_len, val_fraction=0.1)


def heldout_windows(data: TokenData, context_len: int) -> torch.Tensor:
    """Every held-out character once: non-overlapping rows of context_len + 1 ids."""
    return data.val.unfold(0, context_len + 1, context_len)


@torch.no_grad()
def nanogpt_loss(model: NanoGPTRecipe, windows: torch.Tensor, batch_size: int = 64) -> float:
    model.eval()
    total = 0.0
    for start in range(0, len(windows), batch_size):
        chunk = windows[start : start + batch_size]
        logits = model.logits(chunk[:, :-1])
        total += float(F.cross_entropy(logits.flatten(0, 1), chunk[:, 1:].flatten(), reduction="sum"))
    model.train()
    return total / (windows.shape[0] * (windows.shape[1] - 1))


@dataclass
class Run:
    """What one training run gives: the final held-out loss, the steps done, the curve."""

    loss: float
    steps: int
    seconds: float
    curve: list[tuple[int, float, float]]  # (step, seconds, loss on EVAL_TOKENS held-out tokens)

    def to_dict(self) -> dict[str, Any]:
        return {
            "loss": round(self.loss, 4),
            "steps": self.steps,
            "seconds": round(self.seconds, 1),
            "curve": [[s, round(t, 1), round(v, 4)] for s, t, v in self.curve],
        }


def train_tinylm(
    setup: Setup,
    tokenizer: CharTokenizer,
    data: TokenData,
    seed: int,
    seconds: float | None = None,
    steps: int | None = None,
) -> Run:
    """Train through the real Trainer: for ``seconds`` of wall time (time-based schedule) or ``steps``."""
    config = ModelConfig(vocab_size=tokenizer.vocab_size, **setup.model)
    model = TinyLM(config, seed=seed)
    budget = {"time_budget": seconds, "max_steps": 10**5} if seconds else {"max_steps": steps}
    settings = {"eval_interval": EVAL_INTERVAL, "eval_tokens": EVAL_TOKENS, **setup.train, **budget}
    trainer = Trainer(model, tokenizer, data, TrainConfig(seed=seed, precision="fp32", **settings))
    started = time.perf_counter()
    trainer.run()
    elapsed = time.perf_counter() - started
    loss = evaluate_loss(model, heldout_windows(data, config.context_len))
    return Run(loss, trainer.step, elapsed, list(trainer.history.val))


def train_nanogpt(
    tokenizer: CharTokenizer,
    data: TokenData,
    seed: int,
    seconds: float | None = None,
    steps: int | None = None,
) -> Run:
    """nanoGPT's shakespeare_char CPU recipe (its own step-based schedule), for seconds or steps.

    Its curve is measured like tinylm's: EVAL_TOKENS held-out tokens every EVAL_INTERVAL steps,
    the evaluations inside the clock."""
    torch.manual_seed(seed)
    model = NanoGPTRecipe(tokenizer.vocab_size, bias=False, **NANOGPT_SHAPE)
    context = NANOGPT_SHAPE["context_len"]
    step = make_train_step(model, data.train, NANOGPT_BATCH, context, schedule=nanogpt_learning_rate)
    windows = evaluation_windows(data.val, context, EVAL_TOKENS)
    curve, done, started = [], 0, time.perf_counter()
    curve.append((0, 0.0, nanogpt_loss(model, windows)))
    while True:
        elapsed = time.perf_counter() - started
        if (seconds and elapsed >= seconds) or (not seconds and done >= steps):
            break
        step()
        done += 1
        if done % EVAL_INTERVAL == 0:
            curve.append((done, time.perf_counter() - started, nanogpt_loss(model, windows)))
    elapsed = time.perf_counter() - started
    return Run(nanogpt_loss(model, heldout_windows(data, context)), done, elapsed, curve)


def run_one(setup: Setup, path: str, seed: int, seconds: float | None, steps: int | None) -> Run:
    tokenizer, data = load_split(path, setup.model["context_len"])
    if setup.is_nanogpt:
        return train_nanogpt(tokenizer, data, seed, seconds, steps)
    return train_tinylm(setup, tokenizer, data, seed, seconds, steps)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def wall_clock(
    path: str, specs: list[str], budgets: list[float], repeats: int, threads: int
) -> dict[str, Any]:
    """Each contender for each budget, repeat by repeat, one after the other in this process."""
    use_threads(threads)
    report: dict[str, Any] = {
        "mode": "wall clock",
        "threads": threads,
        "file": Path(path).name,
        "budgets": {},
    }
    for budget in budgets:
        entry: dict[str, Any] = {}
        for repeat in range(repeats):
            for spec in specs:
                setup = parse_setup(spec)
                before = load_average()
                run = run_one(setup, path, repeat, budget, None)
                row = entry.setdefault(spec, {"runs": []})
                row["runs"].append({**run.to_dict(), "seed": repeat, "load_before": before})
                print(
                    f"{budget:g} s  {spec:30s} seed {repeat}: loss {run.loss:.4f} after {run.steps} steps",
                    flush=True,
                )
        summarise(entry)
        report["budgets"][f"{budget:g}"] = entry
    return report


def seconds_per_step(setup: Setup, path: str, threads: int, seconds: float) -> dict[str, float]:
    """Median seconds of one training step (blocks of 10 steps for about ``seconds``) and of one
    evaluation of EVAL_TOKENS held-out tokens, for this setup with ``threads`` threads.

    "cpu" is the process's CPU seconds per step (all threads): on a busy machine it stays near
    what the step costs on an idle one, where the wall time does not."""
    use_threads(threads)
    tokenizer, data = load_split(path, setup.model["context_len"])
    windows = evaluation_windows(data.val, setup.model["context_len"], EVAL_TOKENS)
    if setup.is_nanogpt:
        torch.manual_seed(0)
        nano = NanoGPTRecipe(tokenizer.vocab_size, bias=False, **NANOGPT_SHAPE)
        step = make_train_step(nano, data.train, NANOGPT_BATCH, 64, schedule=nanogpt_learning_rate)

        def block() -> None:
            for _ in range(10):
                step()

        def evaluate() -> None:
            nanogpt_loss(nano, windows)

    else:
        config = ModelConfig(vocab_size=tokenizer.vocab_size, **setup.model)
        train = {**setup.train, "max_steps": 10**5, "log_interval": 10, "eval_interval": 10**5}
        trainer = Trainer(TinyLM(config), tokenizer, data, TrainConfig(precision="fp32", **train))
        events = trainer.events()
        next(events)  # the step-0 evaluation

        def block() -> None:  # one "step" event every log_interval = 10 steps
            next(event for event in events if event.kind == "step")

        def evaluate() -> None:
            evaluate_loss(trainer.model, windows)

    block()  # warm-up, not counted
    blocks, cpu, evals = [], [], []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(blocks) < 3:
        start, start_cpu = time.perf_counter(), time.process_time()
        block()
        blocks.append((time.perf_counter() - start) / 10)
        cpu.append((time.process_time() - start_cpu) / 10)
        if len(blocks) % 5 == 1:
            start = time.perf_counter()
            evaluate()
            evals.append(time.perf_counter() - start)
    return {"step": _median(blocks), "cpu": _median(cpu), "eval": _median(evals), "blocks": len(blocks)}


def steps_in(budget: float, timing: dict[str, float]) -> int:
    """Steps that fit in ``budget`` seconds with an evaluation every EVAL_INTERVAL steps."""
    return max(1, math.floor(budget / (timing["step"] + timing["eval"] / EVAL_INTERVAL)))


def measure_throughput(
    path: str, specs: list[str], threads: int, seconds: float, rounds: int
) -> dict[str, Any]:
    """Seconds per step of every setup, interleaved round by round (a busy neighbour slows all alike)."""
    timings: dict[str, list[dict[str, float]]] = {spec: [] for spec in specs}
    load_before = load_average()
    for _ in range(rounds):
        for spec in specs:
            timings[spec].append(seconds_per_step(parse_setup(spec), path, threads, seconds))
    result: dict[str, Any] = {"threads": threads, "load_before": load_before, "load_after": load_average()}
    for spec, rows in timings.items():
        step, evaluation = _median([r["step"] for r in rows]), _median([r["eval"] for r in rows])
        result[spec] = {
            "step_ms": round(1000 * step, 2),
            "eval_ms": round(1000 * evaluation, 1),
            "step_ms_rounds": [round(1000 * r["step"], 2) for r in rows],
            "cpu_ms_per_step": round(1000 * _median([r["cpu"] for r in rows]), 2),
            "steps_per_second": round(1 / step, 2),
        }
    return result


def summarise(entry: dict[str, Any]) -> None:
    """Median, lowest and highest final loss of each setup's runs."""
    for row in entry.values():
        losses = [run["loss"] for run in row["runs"]]
        row.update(median=round(_median(losses), 4), low=min(losses), high=max(losses))


def _job(args: tuple[str, str, str, int, int, int]) -> dict[str, Any]:
    budget, spec, path, seed, steps, threads = args
    use_threads(threads)
    run = run_one(parse_setup(spec), path, seed, None, steps)
    return {"budget": budget, "spec": spec, "seed": seed, **run.to_dict()}


def arithmetic_twin(spec: str, throughput: dict[str, Any]) -> str | None:
    """The setup whose measured throughput ``spec`` shares: itself if measured, else a measured setup
    with the same model and the same training settings apart from RATE_KEYS (the same arithmetic per
    step), else None. E.g. "live+muon_lr=0.03" shares the throughput of a measured "live"."""
    if spec in throughput:
        return spec
    if spec == NANOGPT:
        return None
    wanted = parse_setup(spec)

    def work(setup: Setup) -> tuple[dict[str, Any], dict[str, Any]]:
        return setup.model, {k: v for k, v in setup.train.items() if k not in RATE_KEYS}

    for measured in throughput:
        if isinstance(throughput[measured], dict) and "cpu_ms_per_step" in throughput[measured]:
            try:
                candidate = parse_setup(measured)
            except ValueError:
                continue
            if not candidate.is_nanogpt and work(candidate) == work(wanted):
                return measured
    return None


def steps_for(
    spec: str,
    budget: float,
    throughput: dict[str, Any],
    anchor: dict[float, int] | None = None,
    anchor_setup: str = "baseline",
) -> int:
    """The steps ``spec`` does in ``budget`` seconds, from measured throughput.

    Without an anchor: from its wall-clock seconds per step and per evaluation (an idle machine).
    With one ({budget: steps ``anchor_setup`` did in it, measured on an idle machine}): those
    steps times the ratio of CPU time per step, anchor_setup / spec, measured with one thread: on a
    busy machine CPU time still compares the setups' costs, where wall time does not.
    """
    twin = arithmetic_twin(spec, throughput)
    if twin is None:
        raise ValueError(f"no throughput measured for {spec!r} or a setup of the same arithmetic")
    row = throughput[twin]
    if anchor is None:
        return steps_in(budget, {"step": row["step_ms"] / 1000, "eval": row["eval_ms"] / 1000})
    if anchor_setup not in throughput:
        raise ValueError(f"the anchor needs the throughput of {anchor_setup!r}: measure it with the others")
    reference = throughput[anchor_setup]["cpu_ms_per_step"]
    return max(1, round(anchor[budget] * reference / row["cpu_ms_per_step"]))


def step_equivalent(
    path: str,
    specs: list[str],
    budgets: list[float],
    seeds: list[int],
    throughput: dict[str, Any],
    threads: int = 1,
    jobs: int = 2,
    anchor: dict[float, int] | None = None,
    anchor_setup: str = "baseline",
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Train each setup for the steps it would do in each budget (``steps_for``, step-based schedule),
    ``jobs`` runs at a time with ``threads`` threads each; median and range over the seeds.

    Runs go seed by seed (every setup's seed 0, then every setup's seed 1, ...), and ``on_result``, if
    given, gets the report so far after each run: a bench stopped early still holds every setup at
    the seeds it finished (the loss of a run does not depend on the order)."""
    twins = {spec: arithmetic_twin(spec, throughput) for spec in specs}
    missing = [spec for spec, twin in twins.items() if twin is None]
    if missing:
        raise ValueError(f"no throughput measured for {missing}: run --measure-throughput for them first")
    work = [
        (f"{budget:g}", spec, path, seed, steps_for(spec, budget, throughput, anchor, anchor_setup), threads)
        for seed in seeds
        for budget in budgets
        for spec in specs
    ]
    report: dict[str, Any] = {
        "mode": "step-equivalent",
        "steps_from": (
            f"{anchor_setup} steps {anchor} x CPU-time ratio ({throughput.get('threads')} thread)"
            if anchor
            else f"wall-clock throughput, {throughput.get('threads')} threads"
        ),
        "throughput_of": twins,
        "threads_for_training": threads,
        "file": Path(path).name,
        "load_before": load_average(),
        "budgets": {},
    }
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        for result in pool.map(_job, work):
            entry = report["budgets"].setdefault(result.pop("budget"), {})
            entry.setdefault(result.pop("spec"), {"runs": []})["runs"].append(result)
            print(f"{result['steps']} steps, seed {result['seed']}: loss {result['loss']:.4f}", flush=True)
            if on_result is not None:
                for done in report["budgets"].values():
                    summarise(done)
                on_result(copy.deepcopy({**report, "load_after": load_average()}))  # a snapshot
    report["load_after"] = load_average()
    for entry in report["budgets"].values():
        summarise(entry)
    return report
