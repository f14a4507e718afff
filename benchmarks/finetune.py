"""Fine-tuning, measured: per task and mode the metric reached, seconds per step, trainable parameters and
forgetting; and whether LoRA is cheaper per step than full fine-tuning at this size.

    python benchmarks/finetune.py --json benchmarks/finetune.json            # every task × mode, ~20 min
    python benchmarks/finetune.py --tasks qa-en --modes lora,full           # a part of it
    python benchmarks/finetune.py --merge en.json zh.json --json benchmarks/finetune.json   # parts run apart
    python benchmarks/finetune.py --n-chars 8000 --modes lora,scratch --no-step-costs --json small.json
    python benchmarks/finetune.py --modes '' --json steps.json             # only the side-by-side step costs

Every run uses the task's recommended steps and batch (tinylm.finetune.RECOMMENDED_FINETUNE) with the
mode's learning rate, one torch thread, seed 0. Seconds per step come from the trainer's own timing of
the training steps (evaluations excluded); on a shared machine they vary with its load, so the load
average is recorded next to them, and the per-step cost of the modes is also measured side by side on
one fixed batch (interleaved, median of many steps), which is fairer than comparing runs made minutes
apart. The SVD of what full fine-tuning changed (ΔW of every projection) shows how low-rank it is.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tinylm import read_checkpoint  # noqa: E402
from tinylm.fast import make_optimizer  # noqa: E402
from tinylm.finetune import (  # noqa: E402
    MODES,
    RECOMMENDED_LORA,
    finetune_result,
    finetune_train_config,
    prepare_finetune,
    recommended_setup,
)
from tinylm.finetune_tasks import FINETUNE_CHARS, FINETUNE_TASKS, pretraining_corpus  # noqa: E402
from tinylm.lora import LoraSettings, apply_lora, delta_singular_values, projection_weight  # noqa: E402


def load() -> float:
    return round(os.getloadavg()[0], 2)


def run_one(base, task: str, mode: str, n_chars: int) -> tuple[dict, object]:
    recommended_mode, lora, _ = recommended_setup(task)
    lora = lora if recommended_mode == "lora" else RECOMMENDED_LORA
    config = finetune_train_config(task, mode)
    setup = prepare_finetune(base, task, mode, lora if mode == "lora" else None, config, n_chars=n_chars)
    load_before = load()
    trainer = setup.trainer()
    curve = [(event.step, event.accuracy) for event in trainer.events() if event.kind == "eval"]
    result = finetune_result(setup, trainer).to_dict()
    result.update(
        curve=curve,
        n_chars=n_chars,
        training_examples=len(setup.data.train_starts),
        learning_rate=setup.train_config.learning_rate,
        batch_size=setup.train_config.batch_size,
        lora=setup.lora.to_dict() if setup.lora else None,
        load_average=[load_before, load()],
    )
    return result, setup.model


def low_rank_share(base_model, tuned_model, rank: int) -> dict:
    """For every projection: the share of ‖ΔW‖² (Σσ²) that the top ``rank`` singular values hold."""
    shares = {}
    for layer in range(base_model.config.n_layers):
        for part in ("q", "k", "v", "o", "fc1", "fc2"):
            values = delta_singular_values(
                projection_weight(base_model, layer, part), projection_weight(tuned_model, layer, part)
            )
            energy = values**2
            shares[f"{layer}.{part}"] = round(float(energy[:rank].sum() / energy.sum()), 4)
    return shares


def step_costs(base, task: str, repeats: int) -> dict:
    """Milliseconds per training step of each mode on one fixed batch, interleaved (median)."""
    setup = prepare_finetune(base, task, "full")
    x, y = setup.data.train_batch(setup.train_config.batch_size, 64, torch.Generator().manual_seed(0))
    variants = {}
    for name, targets in [("full", None), ("lora all", RECOMMENDED_LORA.targets), ("lora q,v", ("q", "v")),
                          ("probe", None)]:  # fmt: skip
        model = copy.deepcopy(base.model).train()
        if targets:
            apply_lora(model, LoraSettings(rank=RECOMMENDED_LORA.rank, alpha=16.0, targets=targets))
        elif name == "probe":
            model.requires_grad_(False)
            model.lm_head.weight.requires_grad_(True)
        parameters = [p for p in model.parameters() if p.requires_grad]
        variants[name] = (model, parameters, make_optimizer(parameters, lr=1e-4))
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, (model, parameters, optimizer) in variants.items():
            start = time.perf_counter()
            loss = model(x, y).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, 1.0)
            optimizer.step()
            times[name].append(time.perf_counter() - start)
    medians = {name: round(1000 * statistics.median(values[3:]), 2) for name, values in times.items()}
    return {
        "task": task,
        "batch": list(x.shape),
        "ms_per_step": medians,
        "repeats": repeats,
        "load_average": load(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--tasks", default=",".join(FINETUNE_TASKS))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--step-repeats", type=int, default=40)
    parser.add_argument("--n-chars", type=int, default=FINETUNE_CHARS, help="training text per task")
    parser.add_argument("--no-step-costs", action="store_true", help="skip the side-by-side step costs")
    parser.add_argument("--merge", nargs="+", metavar="PART.json", help="join the reports of separate runs")
    args = parser.parse_args()
    if args.merge:
        parts = [json.loads(Path(path).read_text(encoding="utf-8")) for path in args.merge]
        merged = {**parts[0], "parts": [part["machine"] for part in parts]}
        merged["runs"] = [run for part in parts for run in part["runs"]]
        merged["step_costs"] = [  # with the load of the run that measured them
            {
                "part_load_average": [part["machine"][f"load_average_{end}"] for end in ("start", "end")],
                **cost,
            }
            for part in parts
            for cost in part["step_costs"]
        ]
        merged["low_rank_share_of_full_finetuning"] = {
            task: shares
            for part in parts
            for task, shares in part["low_rank_share_of_full_finetuning"].items()
        }
        Path(args.json).write_text(json.dumps(merged, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return 0
    torch.set_num_threads(1)
    bases = {corpus: read_checkpoint(ROOT / "models" / corpus) for corpus in ("stories-en", "stories-zh")}
    report: dict = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "torch": torch.__version__, "threads": 1, "load_average_start": load()},
        "runs": [],
        "step_costs": [],
        "low_rank_share_of_full_finetuning": {},
    }  # fmt: skip
    for task in args.tasks.split(","):
        base = bases[pretraining_corpus(task)]
        for mode in [mode for mode in args.modes.split(",") if mode]:  # --modes '': the step costs only
            result, model = run_one(base, task, mode, args.n_chars)
            report["runs"].append(result)
            print(json.dumps({k: v for k, v in result.items() if k != "curve"}), file=sys.stderr, flush=True)
            if mode == "full" and args.n_chars == FINETUNE_CHARS:
                shares = low_rank_share(base.model, model, RECOMMENDED_LORA.rank)
                report["low_rank_share_of_full_finetuning"][task] = shares
    for corpus in () if args.no_step_costs else ("stories-en", "stories-zh"):
        task = next((t for t in args.tasks.split(",") if pretraining_corpus(t) == corpus), None)
        if task:
            report["step_costs"].append(step_costs(bases[corpus], task, args.step_repeats))
            print(json.dumps(report["step_costs"][-1]), file=sys.stderr, flush=True)
    report["machine"]["load_average_end"] = load()
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
