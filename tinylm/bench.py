"""``python -m tinylm bench``: how fast is TinyLM on this machine, measured against references in one run.

For each thread count it measures, interleaving the contenders block by block so that a noisy
neighbour slows all of them alike (medians over blocks are reported):

* the fp32 (and bf16) matmul peak of this CPU, so training speed can be read as a fraction of it;
* training throughput on nanoGPT's shakespeare_char shape (4 layers, 4 heads, d_model 128, context
  64, batch 12): TinyLM through its real Trainer (the code path the app and CLI use) versus
  the nanoGPT-recipe reference and an LM built from torch's ``nn.TransformerEncoderLayer``
  (``tinylm.baselines``) — tokens/s, ms/step, achieved GFLOP/s and fraction of the matmul peak;
* the explicit attention path (returns the weights) versus the fused fast path;
* generation tokens/s with and without the KV cache for 64/256/512 new tokens, and nanoGPT's
  no-cache sampling loop for comparison.

``--time-to-loss FILE`` trains on a text file instead (``tinylm.time_to_loss``): nanoGPT's recipe and
tinylm side by side for each wall-clock budget (``--budgets 60,240``), printing both curves; or, on a
busy machine, ``--measure-throughput`` then ``--steps-for-seconds THROUGHPUT_JSON`` (the step-equivalent
runs: each setup trained for the steps it does in each budget).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from tinylm import time_to_loss
from tinylm.baselines import NanoGPTRecipe, TorchEncoderLM, make_train_step
from tinylm.config import ModelConfig
from tinylm.corpora import generate_corpus
from tinylm.fast import bf16_speedup, resolve_precision, use_threads
from tinylm.generate import SamplingSettings, generate
from tinylm.model import TinyLM
from tinylm.scaling import train_flops_per_token  # the one count of training FLOPs
from tinylm.tokenizers import CharTokenizer
from tinylm.train import TrainConfig, Trainer

RECIPE = {"context_len": 64, "d_model": 128, "n_layers": 4, "n_heads": 4}
RECIPE_BATCH = 12
SHAKESPEARE = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare.txt"


def cpuinfo_field(key: str, cpuinfo: str | None = None) -> str | None:
    """The value of the first `key : value` line of /proc/cpuinfo (or of `cpuinfo`), None if absent."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return None
    for line in cpuinfo.splitlines():
        if line.startswith(key):
            return line.split(":", 1)[1].strip()
    return None


def cpu_name() -> str:
    return cpuinfo_field("model name") or platform.processor() or platform.machine()


VECTOR_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16")


def cpu_vector_flags(cpuinfo: str | None = None) -> list[str]:
    r"""The vector-unit flags of /proc/cpuinfo that change what a kernel costs.

    The same "AMD EPYC" name has come with AVX2 only and with AVX-512 + bf16 units here, and
    torch's capability string says AVX2 on both, so a figure records which it was measured on.

    >>> cpu_vector_flags("flags\t: fpu sse2 avx2 fma avx512f\n")
    ['avx2', 'fma', 'avx512f']
    """
    present = set((cpuinfo_field("flags", cpuinfo) or "").split())
    return [flag for flag in VECTOR_FLAGS if flag in present]


def matmul_peak(dtype: torch.dtype, size: int = 1024, seconds: float = 1.0) -> float:
    """Best GFLOP/s of a size³ matmul over about `seconds`."""
    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    a @ b
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        a @ b
        best = max(best, 2 * size**3 / (time.perf_counter() - start) / 1e9)
    return best


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def training_throughput(data_ids: torch.Tensor, vocab: int, blocks: int, block_steps: int) -> dict[str, Any]:
    """Tokens/s of TinyLM (Trainer), the nanoGPT recipe and torch's encoder LM, interleaved block by block."""
    config = ModelConfig(vocab_size=vocab, **RECIPE)
    tokens_per_step = RECIPE_BATCH * config.context_len
    split = int(len(data_ids) * 0.9)
    data = prepare_data_from_ids(data_ids, split)

    tinylm_model = TinyLM(config, seed=1337)
    trainer = Trainer(
        tinylm_model,
        CharTokenizer([chr(32 + i) for i in range(vocab - 1)]),
        data,
        TrainConfig(
            max_steps=10**5,
            batch_size=RECIPE_BATCH,
            learning_rate=1e-3,
            warmup_steps=0,
            log_interval=block_steps,
            eval_interval=10**5,
            eval_tokens=64,
            precision="auto",
        ),
    )
    events = trainer.events()
    next(events)  # the step-0 evaluation

    def tinylm_block() -> float:
        for event in events:
            if event.kind == "step":
                return event.tokens_per_sec
        raise RuntimeError("trainer ended early")

    torch.manual_seed(1337)
    nano_step = make_train_step(
        NanoGPTRecipe(vocab, **_sizes()), data.train, RECIPE_BATCH, RECIPE["context_len"]
    )
    torch.manual_seed(1337)
    encoder_step = make_train_step(
        TorchEncoderLM(vocab, **_sizes()), data.train, RECIPE_BATCH, RECIPE["context_len"]
    )

    def timed(step: Callable[[], float]) -> Callable[[], float]:
        def block() -> float:
            start = time.perf_counter()
            for _ in range(block_steps):
                step()
            return block_steps * tokens_per_step / (time.perf_counter() - start)

        return block

    contenders = {
        "tinylm": tinylm_block,
        "nanogpt_recipe": timed(nano_step),
        "torch_encoder": timed(encoder_step),
    }
    for block in contenders.values():  # warm-up block, not counted
        block()
    speeds: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(blocks):
        for name, block in contenders.items():
            speeds[name].append(block())
    flops = train_flops_per_token(config)
    result: dict[str, Any] = {
        "config": {**RECIPE, "batch_size": RECIPE_BATCH, "vocab_size": vocab},
        "precision": trainer.precision,
        "flops_per_token": flops,
    }
    for name, values in speeds.items():
        median = _median(values)
        result[name] = {
            "tokens_per_sec": round(median),
            "ms_per_step": round(1000 * tokens_per_step / median, 2),
            "gflops": round(median * flops / 1e9, 1),
            "all_blocks_tokens_per_sec": [round(v) for v in values],
        }
    result["ratio_vs_nanogpt_recipe"] = round(
        result["tinylm"]["tokens_per_sec"] / result["nanogpt_recipe"]["tokens_per_sec"], 3
    )
    result["ratio_vs_torch_encoder"] = round(
        result["tinylm"]["tokens_per_sec"] / result["torch_encoder"]["tokens_per_sec"], 3
    )
    return result


def _sizes() -> dict[str, int]:
    return {
        "context_len": RECIPE["context_len"],
        "d_model": RECIPE["d_model"],
        "n_layers": RECIPE["n_layers"],
        "n_heads": RECIPE["n_heads"],
    }


def prepare_data_from_ids(ids: torch.Tensor, split: int):
    from tinylm.data import TokenData

    return TokenData(train=ids[:split], val=ids[split:])


def attention_paths(vocab: int, repeats: int) -> dict[str, float]:
    """Forward + backward ms of the explicit path (weights returned) vs the fused path, interleaved."""
    model = TinyLM(ModelConfig(vocab_size=vocab, **RECIPE))
    model.train()
    x = torch.randint(0, vocab, (RECIPE_BATCH, RECIPE["context_len"]))
    y = torch.randint(0, vocab, (RECIPE_BATCH, RECIPE["context_len"]))

    def one(explicit: bool) -> float:
        start = time.perf_counter()
        for _ in range(10):
            model.zero_grad(set_to_none=True)
            model(x, y, return_attention=explicit).loss.backward()
        return (time.perf_counter() - start) / 10 * 1000

    one(True), one(False)
    explicit, fast = [], []
    for _ in range(repeats):
        explicit.append(one(True))
        fast.append(one(False))
    return {
        "explicit_ms": round(_median(explicit), 2),
        "fast_ms": round(_median(fast), 2),
        "fast_speedup": round(_median(explicit) / _median(fast), 3),
    }


def generation_speed(vocab: int, repeats: int, lengths: tuple[int, ...] = (64, 256, 512)) -> dict[str, Any]:
    """New tokens per second, with and without the KV cache, and nanoGPT's loop, for each length."""
    model = TinyLM(ModelConfig(vocab_size=vocab, **RECIPE), seed=0)
    model.eval()
    torch.manual_seed(0)
    nano = NanoGPTRecipe(vocab, **_sizes()).eval()
    results: dict[str, Any] = {}
    for length in lengths:
        settings = SamplingSettings(temperature=1.0, seed=0, max_new_tokens=length)

        def ours(use_cache: bool, settings: SamplingSettings = settings, length: int = length) -> float:
            start = time.perf_counter()
            for _ in generate(model, [1], settings, use_cache=use_cache, n_candidates=1):
                pass
            return length / (time.perf_counter() - start)

        def nanogpt(length: int = length) -> float:
            start = time.perf_counter()
            nano.generate(torch.ones(1, 1, dtype=torch.long), length)
            return length / (time.perf_counter() - start)

        ours(True)
        cached, uncached, reference = [], [], []
        for _ in range(repeats):
            cached.append(ours(True))
            uncached.append(ours(False))
            reference.append(nanogpt())
        results[str(length)] = {
            "kv_cache_tokens_per_sec": round(_median(cached)),
            "no_cache_tokens_per_sec": round(_median(uncached)),
            "nanogpt_recipe_tokens_per_sec": round(_median(reference)),
            "cache_speedup_vs_nanogpt": round(_median(cached) / _median(reference), 2),
        }
    return results


def run_benchmarks(args: argparse.Namespace) -> int:
    repeats = 2 if args.quick else args.repeats
    block_steps = 10 if args.quick else 30
    thread_counts = [int(n) for n in str(args.threads_list).split(",") if n.strip()]
    if SHAKESPEARE.is_file():
        text = SHAKESPEARE.read_text(encoding="utf-8")
        corpus = "tinyshakespeare"
    else:
        text = generate_corpus("stories-en", 300_000)
        corpus = "stories-en (generated)"
    tokenizer = CharTokenizer.from_text(text)
    ids = torch.tensor(tokenizer.encode(text), dtype=torch.long)
    report: dict[str, Any] = {
        "machine": {
            "cpu": cpu_name(),
            "cores": os.cpu_count(),
            "torch": torch.__version__,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "cpu_flags": cpu_vector_flags(),
            "python": platform.python_version(),
        },
        "corpus": corpus,
        "bf16_matmul_speedup": round(bf16_speedup(), 3),
        "auto_precision": resolve_precision("auto"),
        "by_threads": {},
        "command": "python -m tinylm bench "
        + ("--quick " if args.quick else "")
        + f"--repeats {args.repeats} --threads-list '{args.threads_list}'"
        + (f" --time-to-loss {Path(args.time_to_loss).name} ..." if args.time_to_loss else ""),
        "arguments": {key: value for key, value in vars(args).items() if key != "func"},
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    for threads in thread_counts:
        use_threads(threads)
        print(f"-- {threads} thread(s)", flush=True)
        entry: dict[str, Any] = {
            "matmul_peak_gflops_fp32": round(matmul_peak(torch.float32), 1),
            "matmul_peak_gflops_bf16": round(matmul_peak(torch.bfloat16, size=512, seconds=0.5), 1),
        }
        entry["training"] = training_throughput(
            ids, tokenizer.vocab_size, blocks=repeats, block_steps=block_steps
        )
        for name in ("tinylm", "nanogpt_recipe", "torch_encoder"):
            row = entry["training"][name]
            row["fraction_of_peak"] = round(row["gflops"] / entry["matmul_peak_gflops_fp32"], 3)
        entry["attention_paths"] = attention_paths(tokenizer.vocab_size, repeats)
        entry["generation"] = generation_speed(tokenizer.vocab_size, repeats)
        report["by_threads"][str(threads)] = entry
        _print_entry(threads, entry)

    def write(partial: dict[str, Any] | None = None) -> None:
        if args.json:  # a step-equivalent bench writes after every run: stopped early, it keeps what it did
            document = report if partial is None else {**report, "time_to_loss": partial, "partial": True}
            Path(args.json).write_text(
                json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )

    if args.time_to_loss:
        report["time_to_loss"] = run_time_to_loss(args, write)
    if args.json:
        write()
        print(f"wrote {args.json}")
    return 0


def _print_entry(threads: int, entry: dict[str, Any]) -> None:
    training = entry["training"]
    fp32, bf16 = entry["matmul_peak_gflops_fp32"], entry["matmul_peak_gflops_bf16"]
    print(f"matmul peak fp32 {fp32} GFLOP/s, bf16 {bf16}")
    for name in ("tinylm", "nanogpt_recipe", "torch_encoder"):
        row = training[name]
        print(
            f"train {name:15s} {row['tokens_per_sec']:8d} tok/s  {row['ms_per_step']:6.2f} ms/step  "
            f"{row['gflops']:6.1f} GFLOP/s  ({row['fraction_of_peak'] * 100:.0f}% of peak)"
        )
    print(
        f"ratio tinylm / nanogpt_recipe = {training['ratio_vs_nanogpt_recipe']}, "
        f"tinylm / torch_encoder = {training['ratio_vs_torch_encoder']}  ({training['precision']})"
    )
    paths = entry["attention_paths"]
    print(f"attention fwd+bwd: explicit {paths['explicit_ms']} ms, fast {paths['fast_ms']} ms")
    for length, row in entry["generation"].items():
        print(
            f"generate {length:>3s} tokens: cache {row['kv_cache_tokens_per_sec']} tok/s, "
            f"no cache {row['no_cache_tokens_per_sec']}, nanoGPT loop {row['nanogpt_recipe_tokens_per_sec']} "
            f"(x{row['cache_speedup_vs_nanogpt']})"
        )


def run_time_to_loss(
    args: argparse.Namespace, on_result: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """The --time-to-loss modes: wall clock, --measure-throughput or --steps-for-seconds (which gives
    ``on_result`` its report so far after every run)."""
    setups = [spec.strip() for spec in args.setups.split(",") if spec.strip()]
    budgets = [float(b) for b in args.budgets.split(",")]
    for spec in setups:
        time_to_loss.parse_setup(spec)  # a typo fails now, not after an hour of training
    anchor = None
    if args.anchor_steps:
        pairs = (item.split("=") for item in args.anchor_steps.split(","))
        anchor = {float(budget): int(steps) for budget, steps in pairs}
    if args.measure_throughput:
        result = time_to_loss.measure_throughput(
            args.time_to_loss, setups, args.ttl_threads, args.throughput_seconds, args.throughput_rounds
        )
        print(
            f"threads {args.ttl_threads}, load average before {result['load_before']}, "
            f"after {result['load_after']}"
        )
        for spec in setups:
            row = result[spec]
            steps = {
                f"{b:g}s": time_to_loss.steps_for(spec, b, result, anchor, args.anchor_setup) for b in budgets
            }
            print(
                f"{spec:40s} {row['step_ms']:7.2f} ms/step (CPU {row['cpu_ms_per_step']:6.2f} ms)  "
                f"eval {row['eval_ms']:6.1f} ms  steps {steps}"
            )
        return result
    seeds = list(range(args.ttl_repeats))
    if args.steps_for_seconds:
        measured = json.loads(Path(args.steps_for_seconds).read_text(encoding="utf-8"))
        throughput = measured.get("time_to_loss", measured)
        result = time_to_loss.step_equivalent(
            args.time_to_loss,
            setups,
            budgets,
            seeds,
            throughput,
            args.ttl_threads,
            args.jobs,
            anchor,
            args.anchor_setup,
            on_result,
        )
    else:
        result = time_to_loss.wall_clock(
            args.time_to_loss, setups, budgets, args.ttl_repeats, args.ttl_threads
        )
    print_time_to_loss(result)
    return result


def print_time_to_loss(result: dict[str, Any]) -> None:
    """Each setup's median held-out loss per budget, then (wall clock) its curves, loss against seconds."""
    for budget, entry in result["budgets"].items():
        for spec, row in entry.items():
            steps = [run["steps"] for run in row["runs"]]
            print(
                f"{budget:>4s} s  {spec:40s} loss {row['median']:.4f} "
                f"(range {row['low']:.4f}-{row['high']:.4f})  steps {min(steps)}-{max(steps)}"
            )
    if result["mode"] != "wall clock":
        return
    for budget, entry in result["budgets"].items():
        print(f"curves, {budget} s budget (seconds: held-out loss on {time_to_loss.EVAL_TOKENS} tokens):")
        for spec, row in entry.items():
            for run in row["runs"]:
                points = "  ".join(f"{seconds:.0f}:{loss:.3f}" for _, seconds, loss in run["curve"])
                print(f"  {spec} seed {run['seed']}: {points}")
