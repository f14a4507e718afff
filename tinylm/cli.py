"""Command line: ``python -m tinylm train | generate | eval | info | bench | sweep | finetune``.

User mistakes (a missing file, a bad setting, a corrupt checkpoint) print one line and exit with
status 2; no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch

from tinylm import __version__
from tinylm.adapter import read_model
from tinylm.checkpoint import save_checkpoint
from tinylm.config import ACTIVATIONS, POSITIONAL_ENCODINGS
from tinylm.corpora import BUILTIN_CORPORA
from tinylm.data import load_text, prepare_data
from tinylm.errors import TinyLMError
from tinylm.explain.induction import (
    head_scores,
    icl_score,
    position_losses,
    probe_for_context,
    training_recorder,
)
from tinylm.fast import PRECISIONS, use_threads
from tinylm.finetune_tasks import FINETUNE_TASKS
from tinylm.generate import SamplingSettings, generate
from tinylm.plan import LIBRARY_LIMITS, RunSpec, prepare_run, spec_from_preset
from tinylm.presets import DEFAULT_PRESET, PRESETS
from tinylm.sweep_file import add_parser as add_sweep_parser
from tinylm.tasks import TASKS
from tinylm.train import OPTIMIZERS, SCHEDULES, Trainer, TrainEvent, evaluate_loss


class ProgressBar:
    """A one-line progress bar on stderr: [#####.....] 52% step 520 loss 1.93 val 1.98 31k tok/s ETA 12s."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        stream = stream or sys.stderr  # looked up now, not at import: follows a redirected sys.stderr
        self.stream, self.width = stream, width
        self.val_loss: float | None = None
        # On a terminal the bar redraws in place; in a log file it prints a line every 10%.
        self.interactive = stream.isatty()
        self.last_printed = -1

    def update(self, fraction: float, event: TrainEvent) -> None:
        fraction = min(1.0, max(0.0, fraction))
        filled = round(fraction * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        if event.val_loss is not None:
            self.val_loss = event.val_loss
        parts = [f"[{bar}] {fraction * 100:3.0f}%", f"step {event.step}"]
        if event.train_loss is not None:
            parts.append(f"loss {event.train_loss:.3f}")
        if self.val_loss is not None:
            parts.append(f"val {self.val_loss:.3f}")
        if event.tokens_per_sec:
            parts.append(f"{event.tokens_per_sec / 1000:.1f}k tok/s")
        if 0 < fraction < 1 and event.elapsed > 0:
            parts.append(f"ETA {event.elapsed * (1 - fraction) / fraction:.0f}s")
        if self.interactive:
            self.stream.write("\r" + "  ".join(parts) + "   ")
        elif int(fraction * 10) > self.last_printed:
            self.last_printed = int(fraction * 10)
            self.stream.write("  ".join(parts) + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()


def run_with_progress(trainer: Trainer, log: TextIO | None) -> None:
    """Drive the trainer, drawing a progress bar, printing each evaluation, logging events as JSON lines.

    Ctrl-C stops training between steps; the model trained so far is still saved by the caller.
    """
    config = trainer.config
    bar = ProgressBar()
    try:
        for event in trainer.events():
            if log is not None:
                log.write(json.dumps({k: v for k, v in vars(event).items() if v is not None}) + "\n")
                log.flush()
            if event.kind == "eval":
                bar.close()
                extra = f"  exact-match {event.accuracy:.3f}" if event.accuracy is not None else ""
                if event.extras and "induction" in event.extras:
                    best = max(max(row) for row in event.extras["induction"])
                    extra += f"  induction {best:.2f}  icl {event.extras['icl']:+.3f}"
                print(
                    f"eval  step {event.step:6d}  time {event.elapsed:7.1f}s  "
                    f"val_loss {event.val_loss:.4f}{extra}",
                    file=sys.stderr,
                )
            elif event.kind == "step":
                budget = config.time_budget
                bar.update(event.elapsed / budget if budget else event.step / config.max_steps, event)
            elif event.kind in ("done", "stopped"):
                bar.update(1.0, event)
            elif event.kind == "failed":
                bar.close()
                print(f"error: {event.message}", file=sys.stderr)
    except KeyboardInterrupt:
        trainer.stop()
        print("\ninterrupted; saving the model as it is", file=sys.stderr)
    finally:
        bar.close()


def spec_from_args(args: argparse.Namespace) -> RunSpec:
    """The run the command line describes: a preset, then the flags given (the same RunSpec the app
    builds from its widgets, so the two can never disagree)."""
    overrides = {
        name: value
        for name, value in (
            ("n_layers", args.layers),
            ("n_heads", args.heads),
            ("d_model", args.d_model),
            ("context_len", args.context),
            ("pos_encoding", args.pos),
            ("dropout", args.dropout),
            ("norm_position", args.norm),
            ("activation", args.activation),
            ("batch_size", args.batch),
            ("learning_rate", args.lr),
            ("warmup_steps", args.warmup),
            ("optimizer", args.optimizer),
            ("schedule", args.schedule),
        )
        if value is not None
    }
    if args.attention_only:
        overrides["attention_only"] = True
    if args.steps is not None:
        overrides.update(budget="steps", max_steps=args.steps)
    elif args.time_budget is not None:
        overrides.update(budget="time", time_budget=args.time_budget)
    builtin = args.corpus in BUILTIN_CORPORA
    return spec_from_preset(
        args.preset,
        corpus=args.corpus if builtin else "custom",
        text_name="" if builtin else Path(args.corpus).name[:60],
        tokenizer=args.tokenizer,
        bpe_vocab=args.bpe_vocab,
        seed=args.seed,
        precision=args.precision,
        **overrides,
    )


def cmd_train(args: argparse.Namespace) -> int:
    if Path(args.out).exists() and not Path(args.out).is_dir():  # found now, not after the training
        raise TinyLMError("bad_output", f"--out {args.out} is a file, not a directory", path=str(args.out))
    spec = spec_from_args(args)
    text = load_text(args.corpus, seed=args.seed, n_chars=args.corpus_chars)
    run = prepare_run(spec, text, limits=LIBRARY_LIMITS)
    model, tokenizer, data, config = run.model, run.tokenizer, run.data, run.plan.model_config
    train_config = run.plan.train_config
    train_config.sample_interval = 0  # the command line shows no samples: all its time goes to training
    if args.eval_interval is not None:
        train_config.eval_interval = args.eval_interval
    if args.eval_tokens is not None:
        train_config.eval_tokens = args.eval_tokens
    # every run records its heads' induction and previous-token scores and the ICL score at each evaluation
    recorder = training_recorder(tokenizer, data.val, config.context_len)
    trainer = Trainer(model, tokenizer, data, train_config, task=spec.task, eval_extras=recorder)
    print(
        f"corpus {args.corpus}: {len(text):,} chars, {data.num_tokens:,} tokens, "
        f"vocab {tokenizer.vocab_size} | "
        f"model {model.num_parameters():,} parameters ({config.n_layers} layers, {config.n_heads} heads, "
        f"d_model {config.d_model}, context {config.context_len}, {config.pos_encoding}) | "
        f"{trainer.precision}, {torch.get_num_threads()} threads",
        file=sys.stderr,
    )
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        log = None
        if args.log_jsonl:
            log = stack.enter_context(Path(args.log_jsonl).open("w", encoding="utf-8"))
        run_with_progress(trainer, log)
    meta = {
        "name": Path(args.out).name,
        "corpus": args.corpus if args.corpus in BUILTIN_CORPORA else Path(args.corpus).name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "steps": trainer.step,
        "val_loss": trainer.history.val[-1][2] if trainer.history.val else None,
        "train_config": train_config.to_dict(),
        "tinylm_version": __version__,
        "state": trainer.state,
        "wall_seconds": round(time.perf_counter() - started, 2),
    }
    if trainer.history.accuracy:
        meta["accuracy"] = trainer.history.accuracy[-1][1]
    save_checkpoint(args.out, model, tokenizer, history=trainer.history.to_dict(), meta=meta)
    summary = {
        "out": str(args.out),
        "state": trainer.state,
        "steps": trainer.step,
        "val_loss": meta["val_loss"],
        "parameters": model.num_parameters(),
        "seconds": meta["wall_seconds"],
    }
    if "accuracy" in meta:
        summary["accuracy"] = meta["accuracy"]
    print(json.dumps(summary))
    return 1 if trainer.state == "failed" else 0


def cmd_generate(args: argparse.Namespace) -> int:
    checkpoint = read_model(args.checkpoint)  # a checkpoint, or an adapter on its recorded base
    model, tokenizer = checkpoint.model, checkpoint.tokenizer
    unknown = tokenizer.unknown_chars(args.prompt)
    if unknown:
        print(
            f"note: {len(unknown)} character(s) never seen in training are replaced by the unknown token: "
            f"{''.join(unknown[:20])}",
            file=sys.stderr,
        )
    settings = SamplingSettings(
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        greedy=args.greedy,
        seed=args.seed,
        max_new_tokens=args.max_new_tokens,
    )
    settings.validate()  # before anything is printed: a mistake prints one error line and nothing else
    prompt_ids = tokenizer.encode(args.prompt)
    sys.stdout.write(args.prompt)
    new_ids: list[int] = []
    printed = ""
    for step in generate(model, prompt_ids, settings, use_cache=not args.no_cache, n_candidates=1):
        new_ids.append(step.token_id)
        text = tokenizer.decode(new_ids)
        # Byte-level BPE may be in the middle of a multi-byte character: print only what is complete.
        stable = text[:-1] if text.endswith("\ufffd") else text
        sys.stdout.write(stable[len(printed) :])
        sys.stdout.flush()
        printed = stable
    sys.stdout.write(tokenizer.decode(new_ids)[len(printed) :] + "\n")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    if args.corpus in FINETUNE_TASKS:
        from tinylm.cli_finetune import cmd_eval_task

        return cmd_eval_task(args)
    checkpoint = read_model(args.checkpoint, args.base)  # a checkpoint, or an adapter on its base
    model, tokenizer = checkpoint.model, checkpoint.tokenizer
    text = load_text(args.corpus, seed=args.seed, n_chars=args.corpus_chars)
    unknown = tokenizer.unknown_chars(text)
    data = prepare_data(text, tokenizer, model.config.context_len)
    context = model.config.context_len
    windows = data.val.unfold(0, context + 1, context)[: max(1, args.max_tokens // context)]
    val_loss = evaluate_loss(model, windows)
    result = {
        "corpus": args.corpus,
        "val_loss": round(val_loss, 5),
        "unit": "nats/token",
        "val_tokens": int(windows.shape[0] * context),
        "unknown_chars": len(unknown),
        "icl_score": round(icl_score(position_losses(model, windows)), 5),
    }
    probe = probe_for_context(tokenizer, context, batch=8, seed=args.seed)  # 2 × 24 tokens (or T/2)
    if probe is not None:
        scores = head_scores(model, probe)
        result["induction_scores"] = np.round(scores.induction, 4).tolist()
        result["prev_token_scores"] = np.round(scores.previous_token, 4).tolist()
    if args.corpus in TASKS:
        from tinylm.tasks import evaluate_task
        from tinylm.train import greedy_completer

        result["exact_match"] = evaluate_task(
            args.corpus, greedy_completer(model, tokenizer), n=args.task_examples
        )
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    checkpoint = read_model(args.checkpoint)
    info: dict[str, Any] = {
        "config": checkpoint.model.config.to_dict(),
        "parameters": checkpoint.model.num_parameters(),
        "tokenizer": {"kind": checkpoint.tokenizer.kind, "vocab_size": checkpoint.tokenizer.vocab_size},
        "meta": checkpoint.meta,
    }
    print(json.dumps(info, ensure_ascii=False, indent=2))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from tinylm.bench import run_benchmarks

    return run_benchmarks(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tinylm", description="TinyLM: a tiny Transformer you can read."
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a model and save a checkpoint directory")
    train.add_argument("--corpus", required=True, help="built-in corpus name or a UTF-8 .txt path")
    train.add_argument("--out", required=True, help="checkpoint directory to write")
    budget = train.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int)
    budget.add_argument("--time-budget", type=float, help="seconds of training (lr schedule follows time)")
    train.add_argument("--preset", choices=sorted(PRESETS), default=DEFAULT_PRESET)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--layers", type=int)
    train.add_argument("--heads", type=int)
    train.add_argument("--d-model", type=int)
    train.add_argument("--context", type=int)
    train.add_argument("--batch", type=int)
    train.add_argument("--lr", type=float)
    train.add_argument("--warmup", type=int)
    train.add_argument("--dropout", type=float)
    train.add_argument("--pos", choices=POSITIONAL_ENCODINGS)
    train.add_argument("--norm", choices=("pre", "post"))
    train.add_argument("--activation", choices=ACTIVATIONS)
    train.add_argument("--optimizer", choices=OPTIMIZERS, help="AdamW, or Muon for the blocks' matrices")
    train.add_argument("--schedule", choices=SCHEDULES, help="learning-rate schedule after the warm-up")
    train.add_argument(
        "--attention-only", action="store_true", help="no feed-forward layers (as in Olsson et al. 2022)"
    )
    train.add_argument("--tokenizer", choices=("char", "bpe"), default="char")
    train.add_argument("--bpe-vocab", type=int, default=512)
    train.add_argument("--eval-interval", type=int)
    train.add_argument("--eval-tokens", type=int)
    train.add_argument(
        "--corpus-chars", type=int, default=300_000, help="size of a generated built-in corpus"
    )
    train.add_argument("--precision", choices=PRECISIONS, default="auto")
    train.add_argument("--log-jsonl", help="write every training event as a JSON line here")
    train.set_defaults(func=cmd_train)

    gen = sub.add_parser("generate", help="continue a prompt with a trained model")
    gen.add_argument("checkpoint")
    gen.add_argument("--prompt", required=True)
    gen.add_argument("--max-new-tokens", type=int, default=200)
    gen.add_argument("--temperature", type=float, default=0.8)
    gen.add_argument("--top-k", type=int)
    gen.add_argument("--top-p", type=float)
    gen.add_argument("--greedy", action="store_true")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--no-cache", action="store_true", help="recompute the whole window every step")
    gen.set_defaults(func=cmd_generate)

    ev = sub.add_parser("eval", help="validation loss (nats/token) of a checkpoint on a corpus")
    ev.add_argument("checkpoint")
    ev.add_argument("--corpus", required=True)
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--corpus-chars", type=int, default=300_000)
    ev.add_argument("--max-tokens", type=int, default=200_000)
    ev.add_argument("--task-examples", type=int, default=200)
    ev.add_argument("--base", help="for an adapter directory: its base model (default: the recorded path)")
    ev.set_defaults(func=cmd_eval)

    info = sub.add_parser("info", help="a checkpoint's config and parameter count as JSON")
    info.add_argument("checkpoint")
    info.set_defaults(func=cmd_info)

    bench = sub.add_parser("bench", help="measure training and generation speed")
    bench.add_argument("--json", help="also write the results to this JSON file")
    bench.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    bench.add_argument("--repeats", type=int, default=5)
    bench.add_argument(
        "--time-to-loss", metavar="TEXT_FILE", help="also measure val loss vs wall time on this file"
    )
    bench.add_argument("--budgets", default="60,240", help="time budgets (s) for --time-to-loss")
    bench.add_argument(
        "--threads-list", default="1,2", help="thread counts to measure, e.g. 1,2 ('' for time-to-loss only)"
    )
    bench.add_argument("--ttl-repeats", type=int, default=3, help="runs per budget (the median is reported)")
    bench.add_argument("--ttl-threads", type=int, default=2)
    bench.add_argument(
        "--setups",
        default="nanogpt,live",
        help="time-to-loss contenders, comma-separated: nanogpt, live, or atoms joined by + "
        "(see tinylm.time_to_loss)",
    )
    bench.add_argument(
        "--measure-throughput", action="store_true", help="time-to-loss: measure the setups' seconds per step"
    )
    bench.add_argument("--throughput-seconds", type=float, default=10.0, help="per setup and round")
    bench.add_argument("--throughput-rounds", type=int, default=2)
    bench.add_argument(
        "--steps-for-seconds",
        metavar="THROUGHPUT_JSON",
        help="time-to-loss, step-equivalent: train each setup for the steps it does in each budget at the "
        "throughput measured in this file (written by --measure-throughput)",
    )
    bench.add_argument(
        "--jobs", type=int, default=2, help="step-equivalent runs at a time (each --ttl-threads)"
    )
    bench.add_argument(
        "--anchor-steps",
        metavar="BUDGET=STEPS,...",
        help="with --steps-for-seconds on a busy machine: the steps the baseline did in each budget on an "
        "idle one (e.g. 60=700,240=2877); the others get them times the CPU-time ratio",
    )
    bench.add_argument(
        "--anchor-setup", default="baseline", help="the setup --anchor-steps were measured for"
    )
    bench.set_defaults(func=cmd_bench)
    add_sweep_parser(sub)  # python -m tinylm sweep (tinylm/sweep_file.py)

    from tinylm.cli_finetune import add_finetune_parser  # imported here: it builds on this module

    add_finetune_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.threads is not None:
        use_threads(args.threads)
    try:
        return args.func(args)
    except TinyLMError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
