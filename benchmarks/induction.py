"""When do induction heads form? Train the induction presets (tinylm/repeats.py) on the repeats corpus and
measure the steps, tokens and seconds until the best head's induction score first reaches 0.4, the ICL
score before and after, and the loss curve (its bump), for several seeds.

    python benchmarks/induction.py --seeds 0,1,2 --threads 1 --parallel 2 --json benchmarks/induction.json

Each training runs in its own process with ``--threads`` torch threads, ``--parallel`` at a time. The
scores are recorded every ``--eval-interval`` steps by the same hook the CLI uses
(tinylm.explain.induction.training_recorder); its cost per evaluation is measured and reported. Elapsed
times include the evaluations. Check ``uptime`` first: the figures are only as quiet as the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THRESHOLD = 0.4


def run_one(preset: str, seed: int, threads: int, eval_interval: int) -> dict:
    """One training; everything measured, as a JSON-ready dict."""
    import torch

    torch.set_num_threads(threads)
    sys.path.insert(0, str(ROOT))
    from tinylm import CharTokenizer, TinyLM
    from tinylm.corpora import generate_corpus
    from tinylm.data import BUILTIN_CORPUS_CHARS, prepare_data
    from tinylm.explain.induction import training_recorder
    from tinylm.repeats import NAME, preset_configs
    from tinylm.train import Trainer

    text = generate_corpus(NAME, BUILTIN_CORPUS_CHARS, seed=seed)
    tokenizer = CharTokenizer.from_text(text)
    config, train_config = preset_configs(preset, tokenizer.vocab_size, seed=seed)
    train_config.eval_interval = eval_interval
    data = prepare_data(text, tokenizer, config.context_len)
    model = TinyLM(config, seed=seed)
    recorder = training_recorder(tokenizer, data.val, config.context_len)
    costs: list[float] = []

    def timed(model_: TinyLM) -> dict:
        start = time.perf_counter()
        extras = recorder(model_)
        costs.append(time.perf_counter() - start)
        return extras

    trainer = Trainer(model, tokenizer, data, train_config, eval_extras=timed)
    evals, crossed = [], None
    started = time.perf_counter()
    for event in trainer.events():
        if event.kind != "eval":
            continue
        best = max(max(row) for row in event.extras["induction"])
        evals.append(
            {
                "step": event.step,
                "seconds": round(event.elapsed, 2),
                "val_loss": round(event.val_loss, 4),
                "best_induction": round(best, 4),
                "best_prev_token": round(max(max(row) for row in event.extras["prev_token"]), 4),
                "icl": event.extras["icl"],
            }
        )
        if crossed is None and best >= THRESHOLD:
            crossed = {
                "step": event.step,
                "tokens": event.step * train_config.batch_size * config.context_len,
                "seconds": round(event.elapsed, 2),
            }
    thin = max(1, len(trainer.history.train) // 60)
    return {
        "preset": preset,
        "seed": seed,
        "threads": threads,
        "steps": trainer.step,
        "wall_seconds": round(time.perf_counter() - started, 2),
        "crossed": crossed,
        "best_induction": max(e["best_induction"] for e in evals),
        "icl_before": evals[0]["icl"],
        "icl_after": evals[-1]["icl"],
        "val_loss_before": evals[0]["val_loss"],
        "val_loss_after": evals[-1]["val_loss"],
        "record_ms_per_eval": round(1000 * statistics.median(costs), 1),
        "train_loss": [[s, round(loss, 4)] for s, _, loss in trainer.history.train[::thin]],
        "evals": evals,
    }


def run_in_subprocess(preset: str, seed: int, threads: int, eval_interval: int) -> dict:
    code = (
        "import json, sys; sys.path.insert(0, 'benchmarks'); from induction import run_one; "
        f"print(json.dumps(run_one({preset!r}, {seed}, {threads}, {eval_interval})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": str(threads)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary(runs: list[dict]) -> dict:
    """Medians over seeds (a run that never crossed counts as not crossed)."""
    crossed = [run["crossed"] for run in runs if run["crossed"]]
    result = {
        "runs": len(runs),
        "crossed": len(crossed),
        "median_best_induction": statistics.median(run["best_induction"] for run in runs),
        "median_icl_before": statistics.median(run["icl_before"] for run in runs),
        "median_icl_after": statistics.median(run["icl_after"] for run in runs),
        "median_record_ms_per_eval": statistics.median(run["record_ms_per_eval"] for run in runs),
        "median_wall_seconds": statistics.median(run["wall_seconds"] for run in runs),
    }
    if 2 * len(crossed) > len(runs):  # the median run crossed
        for key in ("step", "tokens", "seconds"):
            values = [c[key] for c in crossed] + [float("inf")] * (len(runs) - len(crossed))
            result[f"median_{key}_to_{THRESHOLD}"] = statistics.median(values)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", default="induction-2l,induction-1l")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--eval-interval", type=int, default=50)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    jobs = [(p, int(s)) for p in args.presets.split(",") for s in args.seeds.split(",")]
    load_before = os.getloadavg()
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        runs = list(pool.map(lambda job: run_in_subprocess(*job, args.threads, args.eval_interval), jobs))
    result = {
        "created": time.strftime("%Y-%m-%d %H:%M"),
        "threads_per_run": args.threads,
        "parallel_runs": args.parallel,
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "threshold": THRESHOLD,
        "summary": {p: summary([r for r in runs if r["preset"] == p]) for p in args.presets.split(",")},
        "runs": runs,
    }
    print(json.dumps(result["summary"], indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
