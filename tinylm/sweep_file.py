"""Sweeps from the command line, the JSON file they make, its checks, and what is fitted to it.

    python -m tinylm --threads 1 sweep --corpus stories-en --tokens 2000000 \\
        --flops 3e11,1e12,3e12 --workers 2 --out models/scaling/sweep.json

runs one sweep of mode "tokens" (every size on 2 M tokens) and one of mode "compute" per budget (every
size for that many training FLOPs), each a :class:`tinylm.sweep.SweepJob` (the job the app runs), in up
to ``--workers`` processes of one torch thread each, and writes (after every finished sweep):

    format "tinylm-sweep", version 1, command, date, machine (cpu, cores, torch, threads, load average),
    wall_seconds, cpu_seconds, corpus, settings (context, batch, learning rate, seed),
    ladder: [{size, n_layers, d_model, n_heads, parameters, flops_per_token}],
    sweeps: [{mode, tokens | flops, vocab, corpus_chars, wall_seconds, cpu_seconds,
              points: [the sweep's "point" events], curves: [[size, tokens seen, val_loss], ...]}],
    fits: analyse(sweeps)

``analyse`` is what the Scaling page shows: L(N) = E + A/N^α on the tokens sweep's sizes, L(D) and L(C)
on the frontiers of its learning curves (each with Kaplan's pure power law beside it), the loss surface
L(N, D) on every final point, and, per compute budget, the size that wins. ``read_sweep_file`` checks a
file before the page draws it (TinyLMError "bad_sweep_file" otherwise). ``--refit --out FILE`` fits a
file's points again without training (after a change to ``analyse``) and notes when in "refitted".
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from tinylm.config import count_parameters
from tinylm.corpora import BUILTIN_CORPORA, generate_corpus
from tinylm.errors import TinyLMError
from tinylm.job import jsonable
from tinylm.plan import LIBRARY_LIMITS, RunSpec
from tinylm.scaling import (
    LossSurfaceFit,
    chinchilla_parameters,
    fit_loss_surface,
    fit_power_law,
    frontier,
    iso_flop_minimum,
    train_flops_per_token,
)
from tinylm.sweep import LADDER, SweepJob, corpus_chars, rung_config, sweep_spec

FORMAT, VERSION = "tinylm-sweep", 1
MAX_FILE_BYTES = 2_000_000
POINT_FIELDS = ("size", "parameters", "tokens", "flops", "val_loss", "seconds", "steps")


# ---------------------------------------------------------------------------------------------
# Running sweeps
# ---------------------------------------------------------------------------------------------


def run_sweep(
    spec_dict: dict[str, Any], text: str | None = None, threads: int = 1, label: str = ""
) -> dict[str, Any]:
    """Train one sweep to its end (library limits), printing each evaluation and each finished size;
    returns its part of the file. Runs in a worker process (hence a spec as a dict)."""
    from tinylm.fast import use_threads

    use_threads(threads)
    spec = RunSpec.from_dict(spec_dict)
    started, cpu_started = time.perf_counter(), time.process_time()
    job = SweepJob(spec, text, limits=LIBRARY_LIMITS)
    points: list[dict[str, Any]] = []
    curves: list[list[float]] = []
    info: dict[str, Any] = {}
    end: dict[str, Any] = {}
    for event in job.events():
        kind = event["type"]
        if kind == "prepared":
            info = event["data"]
        elif kind == "eval" and event["tokens"] > 0 and event["val_loss"] is not None:
            curves.append([event["size"], event["tokens"], round(event["val_loss"], 5)])
            print(
                f"[{label}] size {event['size']} tokens {event['tokens']:,} val {event['val_loss']:.4f}",
                file=sys.stderr,
            )
        elif kind == "point":
            points.append(event["point"])
            point = event["point"]
            print(
                f"[{label}] size {point['size']} done: N {point['parameters']:,} D {point['tokens']:,} "
                f"C {point['flops']:.3g} loss {point['val_loss']:.4f} ({point['seconds']:.0f} s)",
                file=sys.stderr,
            )
        elif kind == "end":
            end = event
    if end.get("status") != "done":
        raise TinyLMError(
            "sweep_failed", f"the sweep {label} ended: {end.get('status')}", status=str(end.get("status"))
        )
    sweep: dict[str, Any] = {"mode": spec.sweep_mode}
    sweep["tokens" if spec.sweep_mode == "tokens" else "flops"] = (
        spec.sweep_tokens if spec.sweep_mode == "tokens" else spec.sweep_flops
    )
    sweep.update(
        vocab=info.get("vocab"),
        corpus_chars=info.get("chars"),
        wall_seconds=round(time.perf_counter() - started, 1),
        cpu_seconds=round(time.process_time() - cpu_started, 1),
        points=points,
        curves=curves,
    )
    return sweep


def _command(args: argparse.Namespace) -> str:
    parts = ["python -m tinylm", f"--threads {args.threads or 1}", "sweep", f"--corpus {args.corpus}"]
    if args.tokens:
        parts.append(f"--tokens {args.tokens}")
    if args.flops:
        parts.append(f"--flops {args.flops}")
    parts += [
        f"--sizes {args.sizes}",
        f"--seed {args.seed}",
        f"--workers {args.workers}",
        f"--out {args.out}",
    ]
    return " ".join(parts)


def _machine(threads: int) -> dict[str, Any]:
    import torch

    from tinylm.bench import cpu_name

    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "threads": threads,
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }


def cmd_sweep(args: argparse.Namespace) -> int:
    if args.refit:  # the fits again from the file's own points (after a change to analyse), no training
        out = Path(args.out)
        document = read_sweep_file(out)
        document.update(fits=analyse(document["sweeps"]), refitted=time.strftime("%Y-%m-%d %H:%M"))
        out.write_text(json.dumps(jsonable(document), indent=1) + "\n", encoding="utf-8")
        print(json.dumps({"out": str(out), "refitted": document["refitted"]}))
        return 0
    if args.corpus not in BUILTIN_CORPORA:
        raise TinyLMError(
            "unknown_corpus", "unknown corpus", name=args.corpus, choices=", ".join(BUILTIN_CORPORA)
        )
    budgets = [float(value) for value in args.flops.split(",") if value.strip()] if args.flops else []
    specs = []
    if args.tokens:
        specs.append(
            ("tokens", sweep_spec(args.corpus, "tokens", args.sizes, tokens=args.tokens, seed=args.seed))
        )
    specs += [
        (f"compute {flops:g}", sweep_spec(args.corpus, "compute", args.sizes, flops=flops, seed=args.seed))
        for flops in budgets
    ]
    if not specs:
        raise TinyLMError("bad_output", "give --tokens and/or --flops", path=str(args.out))
    threads = args.threads or 1
    first = specs[0][1]
    # One text for every sweep (the same training tokens and validation split), as long as the
    # longest-reading sweep needs.
    chars = max(corpus_chars(spec) for _, spec in specs)
    text = generate_corpus(args.corpus, n_chars=chars, seed=0)
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "command": _command(args),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": _machine(threads),
        "corpus": args.corpus,
        "corpus_chars": len(text),
        "settings": {
            "context_len": first.context_len,
            "batch_size": first.batch_size,
            "learning_rate": first.learning_rate,
            "seed": args.seed,
            "pos_encoding": first.pos_encoding,
        },
    }
    started = time.perf_counter()
    results: dict[int, dict[str, Any]] = {}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=max(1, args.workers), mp_context=get_context("spawn")) as pool:
        futures = {
            pool.submit(run_sweep, spec.to_dict(), text, threads, label): i
            for i, (label, spec) in enumerate(specs)
        }
        for future in futures:
            results[futures[future]] = future.result()
            sweeps = [results[i] for i in sorted(results)]
            vocab = sweeps[0].get("vocab") or 64
            document.update(
                wall_seconds=round(time.perf_counter() - started, 1),
                cpu_seconds=round(sum(s["cpu_seconds"] for s in sweeps), 1),
                ladder=ladder_table(first, vocab),
                sweeps=sweeps,
                fits=analyse(sweeps),
            )
            out.write_text(json.dumps(jsonable(document), indent=1) + "\n", encoding="utf-8")
            print(f"wrote {out} ({len(sweeps)} of {len(specs)} sweeps)", file=sys.stderr)
    print(
        json.dumps(
            {
                "out": str(out),
                "wall_seconds": document["wall_seconds"],
                "cpu_seconds": document["cpu_seconds"],
            }
        )
    )
    return 0


def ladder_table(spec: RunSpec, vocab: int) -> list[dict[str, Any]]:
    rows = []
    for index, rung in enumerate(LADDER[: spec.sweep_sizes]):
        config = rung_config(spec, rung, vocab)
        rows.append(
            {
                "size": index,
                "n_layers": rung.n_layers,
                "d_model": rung.d_model,
                "n_heads": rung.n_heads,
                "parameters": count_parameters(config),
                "flops_per_token": train_flops_per_token(config),
            }
        )
    return rows


def add_parser(sub: Any) -> None:
    """``python -m tinylm sweep``: registered by tinylm.cli."""
    sweep = sub.add_parser(
        "sweep", help="train a ladder of model sizes and write the scaling results as JSON"
    )
    sweep.add_argument("--corpus", default="stories-en", help="a built-in corpus")
    sweep.add_argument("--tokens", type=int, help="a sweep with every size trained on this many tokens")
    sweep.add_argument(
        "--flops", help="comma-separated compute budgets: one sweep each, every size for that many FLOPs"
    )
    sweep.add_argument(
        "--sizes", type=int, default=len(LADDER), help="how many rungs of the ladder, from the smallest"
    )
    sweep.add_argument("--seed", type=int, default=0)
    sweep.add_argument("--workers", type=int, default=1, help="sweeps trained at once, one process each")
    sweep.add_argument("--out", required=True, help="the JSON file to write")
    sweep.add_argument("--refit", action="store_true", help="only fit the points of the --out file again")
    sweep.set_defaults(func=cmd_sweep)


# ---------------------------------------------------------------------------------------------
# What is fitted to a file
# ---------------------------------------------------------------------------------------------


def _fits(x: Sequence[float], y: Sequence[float]) -> dict[str, Any] | None:
    """E + A/x^α and Kaplan's pure A/x^α on the same points (None with too few of them)."""
    try:
        return {"floor": fit_power_law(x, y).to_dict(), "pure": fit_power_law(x, y, floor=False).to_dict()}
    except ValueError:
        return None


def learning_curves(
    sweep: dict[str, Any], flops_per_token: dict[int, float]
) -> list[tuple[int, float, float, float]]:
    """A sweep's evaluations as (size, tokens D, compute C, loss)."""
    return [
        (int(size), float(tokens), flops_per_token[int(size)] * float(tokens), float(loss))
        for size, tokens, loss in sweep.get("curves", [])
        if int(size) in flops_per_token
    ]


def analyse(sweeps: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every fit the page shows, from a file's sweeps (see the module docstring)."""
    fits: dict[str, Any] = {}
    tokens_sweeps = [s for s in sweeps if s["mode"] == "tokens" and len(s["points"]) >= 3]
    if tokens_sweeps:
        sweep = tokens_sweeps[0]
        points = sweep["points"]
        fits["loss_vs_parameters"] = _fits([p["parameters"] for p in points], [p["val_loss"] for p in points])
        per_token = {p["size"]: p["flops"] / p["tokens"] for p in points}
        curves = learning_curves(sweep, per_token)
        for name, column in (("loss_vs_tokens", 1), ("loss_vs_compute", 2)):
            x, y = frontier([row[column] for row in curves], [row[3] for row in curves])
            fit = _fits(x, y)
            if fit is not None:
                fit["frontier"] = [[float(a), float(b)] for a, b in zip(x, y, strict=True)]
            fits[name] = fit
    everything = [p for s in sweeps for p in s["points"]]
    if len(everything) >= 6:
        surface = fit_loss_surface(
            [p["parameters"] for p in everything],
            [p["tokens"] for p in everything],
            [p["val_loss"] for p in everything],
        )
        fits["loss_surface"] = {
            **surface.to_dict(),
            "N_opt_exponent": surface.beta / (surface.alpha + surface.beta),
        }
    iso = []
    for sweep in sweeps:
        if sweep["mode"] != "compute" or not sweep["points"]:
            continue
        points = sweep["points"]
        best = min(points, key=lambda p: p["val_loss"])
        parabola = iso_flop_minimum(
            [p["parameters"] for p in points], [p["tokens"] for p in points], [p["val_loss"] for p in points]
        )
        row = {
            "flops": sweep["flops"],
            "winner": {**{k: best[k] for k in ("size", "parameters", "tokens", "val_loss")}},
            "winner_tokens_per_parameter": best["tokens"] / best["parameters"],
            "parabola": parabola,
            "parabola_tokens_per_parameter": parabola["tokens"] / parabola["parameters"]
            if parabola
            else None,
            "chinchilla_parameters": chinchilla_parameters(sweep["flops"]),
        }
        if "loss_surface" in fits:
            surface = LossSurfaceFit(
                **{k: fits["loss_surface"][k] for k in ("E", "A", "B", "alpha", "beta", "rel_rmse", "n")}
            )
            n_opt, d_opt = surface.optimal(sweep["flops"])
            row["surface_optimum"] = {
                "parameters": n_opt,
                "tokens": d_opt,
                "tokens_per_parameter": d_opt / n_opt,
            }
        iso.append(row)
    fits["iso_flop"] = sorted(iso, key=lambda row: row["flops"])
    return fits


# ---------------------------------------------------------------------------------------------
# Reading a file back
# ---------------------------------------------------------------------------------------------


def _bad(detail: str) -> TinyLMError:
    return TinyLMError("bad_sweep_file", f"not a valid sweep file: {detail}", detail=detail)


def _positive(value: Any) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    )


def validate(document: Any) -> dict[str, Any]:
    """A sweep file's document, checked: its format, every sweep's mode and budget, every point's
    numbers (finite, positive, its size on the ladder), every curve row. Raises "bad_sweep_file"."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _bad("format")
    if document.get("version") != VERSION:
        raise _bad("version")
    sweeps = document.get("sweeps")
    if not isinstance(sweeps, list) or not sweeps:
        raise _bad("sweeps")
    for sweep in sweeps:
        if not isinstance(sweep, dict) or sweep.get("mode") not in ("tokens", "compute"):
            raise _bad("mode")
        if not _positive(sweep.get("tokens" if sweep["mode"] == "tokens" else "flops")):
            raise _bad("budget")
        points, curves = sweep.get("points"), sweep.get("curves", [])
        if not isinstance(points, list) or not isinstance(curves, list):
            raise _bad("points")
        for point in points:
            if not isinstance(point, dict) or not all(
                _positive(point.get(k)) or k == "size" for k in POINT_FIELDS
            ):
                raise _bad("point")
            if not isinstance(point["size"], int) or not 0 <= point["size"] < len(LADDER):
                raise _bad("size")
        for row in curves:
            if not (isinstance(row, list) and len(row) == 3 and all(_positive(v) for v in row[1:])):
                raise _bad("curve")
            if not isinstance(row[0], int) or not 0 <= row[0] < len(LADDER):
                raise _bad("curve size")
    if not isinstance(document.get("command"), str) or not isinstance(document.get("fits"), dict):
        raise _bad("command")
    return document


def read_sweep_file(path: str | Path) -> dict[str, Any]:
    """A sweep file from disk, size-bounded and validated."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise _bad("size")
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(type(exc).__name__) from None
    return validate(document)
