"""The short-context attention path (tinylm/fast.py) against torch's fused kernel, on the wall clock.

The same setup is trained for the same seconds twice per seed, once with every attention through
``scaled_dot_product_attention`` (``SHORT_CONTEXT = 0``) and once with contexts of up to 128 tokens
through the batched matmuls (the default), the two in turns so that a change in the machine's load
hits both; one process, the time-to-loss split and held-out windows (tinylm/time_to_loss.py).

    python benchmarks/attention_ab.py ../shared/data/tinyshakespeare.txt --setup live --seconds 60 \\
        --seeds 3 --threads 2 --json benchmarks/wall_60_epyc_attention.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinylm.model
from tinylm.bench import cpu_name, cpu_vector_flags
from tinylm.fast import SHORT_CONTEXT, use_threads
from tinylm.time_to_loss import load_average, parse_setup, run_one

VARIANTS = {"fused kernel": 0, "batched matmuls": SHORT_CONTEXT}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--setup", default="live")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    use_threads(args.threads)
    runs = []
    for seed in range(args.seeds):
        for variant, short_context in VARIANTS.items():
            tinylm.model.SHORT_CONTEXT = short_context  # what fused_attention reads
            before = load_average()
            run = run_one(parse_setup(args.setup), args.file, seed, args.seconds, None)
            runs.append({"variant": variant, "seed": seed, **run.to_dict(), "load_before": before})
            print(f"{variant:16s} seed {seed}: loss {run.loss:.4f} after {run.steps} steps", flush=True)
    report = {
        "setup": args.setup,
        "seconds": args.seconds,
        "threads": args.threads,
        "machine": cpu_name(),
        "cpu_flags": cpu_vector_flags(),
        "runs": runs,
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
