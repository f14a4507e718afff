"""Command line for fine-tuning: ``python -m tinylm finetune`` and ``eval DIR --corpus TASK``.

    python -m tinylm finetune models/stories-en --task qa-en --mode lora --rank 8 --targets q,k,v,o,ffn \\
        --steps 300 --out runs/qa-lora
    python -m tinylm eval runs/qa-lora --corpus qa-en          # an adapter directory: its base is found

Registered from tinylm/cli.py; user mistakes print one ``error:`` line there, as for every command.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

import torch

from tinylm.adapter import ADAPTER_WEIGHTS, read_model
from tinylm.checkpoint import read_checkpoint
from tinylm.cli import run_with_progress
from tinylm.errors import TinyLMError
from tinylm.finetune import (
    MODES,
    RECOMMENDED_LORA,
    finetune_result,
    finetune_train_config,
    prepare_finetune,
    save_finetuned,
)
from tinylm.finetune_data import evaluate_finetune, example_data, metric_name
from tinylm.finetune_tasks import FINETUNE_TASKS, check_task_fits, finetune_training_examples
from tinylm.lora import LoraSettings, parse_targets
from tinylm.train import evaluate_loss


def lora_settings(args: argparse.Namespace) -> LoraSettings | None:
    """--rank / --alpha / --targets for --mode lora (defaults: the recommended adapter); refused otherwise."""
    given = [name for name in ("rank", "alpha", "targets") if getattr(args, name) is not None]
    if args.mode != "lora":
        if given:
            raise TinyLMError(
                "lora_option_without_lora",
                f"--{given[0]} only applies to --mode lora (the mode is {args.mode})",
                option=given[0],
                mode=args.mode,
            )
        return None
    rank = RECOMMENDED_LORA.rank if args.rank is None else args.rank
    alpha = 2.0 * rank if args.alpha is None else args.alpha
    targets = RECOMMENDED_LORA.targets if args.targets is None else parse_targets(args.targets)
    settings = LoraSettings(rank=rank, alpha=alpha, targets=targets)
    settings.validate()
    return settings


def cmd_finetune(args: argparse.Namespace) -> int:
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise TinyLMError("bad_output", f"--out {args.out} is a file, not a directory", path=str(args.out))
    lora = lora_settings(args)
    overrides: dict = {"seed": args.seed}
    if args.steps is not None:
        overrides["max_steps"] = args.steps
    if args.time_budget is not None:
        overrides.update(time_budget=args.time_budget, max_steps=100_000)
    for key, value in (
        ("learning_rate", args.lr),
        ("batch_size", args.batch),
        ("eval_interval", args.eval_interval),
    ):
        if value is not None:
            overrides[key] = value
    train_config = finetune_train_config(args.task, args.mode, **overrides)
    base = read_checkpoint(args.base_dir)
    setup = prepare_finetune(base, args.task, args.mode, lora, train_config, args.seed, args.base_dir)
    parts = [f"base {args.base_dir}", f"task {args.task}: {len(setup.data.train_starts):,} training examples"]
    mode = f"mode {args.mode}"
    if lora is not None:
        mode += f" (rank {lora.rank}, alpha {lora.alpha:g}, targets {','.join(lora.targets)})"
    parts += [
        mode,
        f"trainable {setup.trainable:,} of {setup.total:,} parameters ({setup.trainable / setup.total:.1%})",
    ]
    if setup.forgetting_before is not None:
        parts.append(f"loss on {setup.base['corpus']} before: {setup.forgetting_before:.3f}")
    print(" | ".join([*parts, f"{torch.get_num_threads()} threads"]), file=sys.stderr)
    trainer = setup.trainer()
    with contextlib.ExitStack() as stack:
        log = (
            stack.enter_context(Path(args.log_jsonl).open("w", encoding="utf-8")) if args.log_jsonl else None
        )
        run_with_progress(trainer, log)
    result = finetune_result(setup, trainer)
    out = save_finetuned(setup, trainer, result, args.out)
    summary = {"out": str(args.out), **result.to_dict(), result.metric_name: result.metric}
    summary.pop("metric")
    if lora is not None:
        summary["adapter_bytes"] = (out / ADAPTER_WEIGHTS).stat().st_size
    print(json.dumps(summary, ensure_ascii=False))
    return 1 if trainer.state == "failed" else 0


def cmd_eval_task(args: argparse.Namespace) -> int:
    """eval DIR --corpus TASK: the loss on the task's validation answers and the held-out metric."""
    checkpoint = read_model(args.checkpoint, args.base)
    model, tokenizer = checkpoint.model, checkpoint.tokenizer
    context = model.config.context_len
    check_task_fits(args.corpus, tokenizer, context)
    data = example_data(finetune_training_examples(args.corpus, seed=args.seed), tokenizer, context)
    windows, targets = data.validation_windows(context, args.max_tokens)
    result = {
        "corpus": args.corpus,
        "val_loss": round(evaluate_loss(model, windows, targets=targets), 5),
        "unit": "nats/token (answer tokens)",
        "val_tokens": int((targets != -100).sum()),
        metric_name(args.corpus): evaluate_finetune(args.corpus, model, tokenizer, n=args.task_examples),
        "examples": args.task_examples,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


def add_finetune_parser(sub: argparse._SubParsersAction) -> None:
    ft = sub.add_parser(
        "finetune", help="fine-tune a checkpoint on a built-in task (full, LoRA, probe, scratch)"
    )
    ft.add_argument("base_dir", help="the base model's checkpoint directory (e.g. models/stories-en)")
    ft.add_argument("--task", required=True, choices=FINETUNE_TASKS)
    ft.add_argument("--mode", required=True, choices=MODES)
    ft.add_argument("--rank", type=int, help=f"LoRA rank r (1-64; default {RECOMMENDED_LORA.rank})")
    ft.add_argument("--alpha", type=float, help="LoRA alpha (the update is scaled by alpha/r; default 2r)")
    ft.add_argument("--targets", help="LoRA targets, from q,k,v,o,ffn (default: all five)")
    budget = ft.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int)
    budget.add_argument("--time-budget", type=float, help="seconds of training (lr schedule follows time)")
    ft.add_argument(
        "--out", required=True, help="directory for the adapter (lora) or the model (other modes)"
    )
    ft.add_argument("--lr", type=float)
    ft.add_argument("--batch", type=int)
    ft.add_argument("--eval-interval", type=int)
    ft.add_argument("--seed", type=int, default=0)
    ft.add_argument("--log-jsonl", help="write every training event as a JSON line here")
    ft.set_defaults(func=cmd_finetune)
