"""The Ray backend against the in-process one, on this machine (issue #15's measured figures).

    python benchmarks/ray_backend.py [--seconds 20] [--repeats 2] [--json benchmarks/ray_backend.json]

Starts its own local Ray cluster with 2 CPUs (tests/raycluster.py: ``ray start --head --block`` in a
subprocess, stopped by its process id at the end; never ``ray stop``) and measures:

(a) Throughput: one run of the default "live" preset on English stories, a time budget of --seconds,
    one torch thread, trained by the ThreadBackend (a thread of this process) and by the RayBackend (an
    actor on the cluster), alternately, --repeats times each. Tokens/s is the median of the trainer's
    own per-step figures after the first 3 logged steps.
(b) Event latency: for every event of the Ray runs, the time from the moment the actor appended it to
    its log (right after the trainer yielded it) to the moment the app-side follower handed it to the
    sink (the manager's ``_on_event``). Same machine, so the two clocks are one. A page then shows it
    at its next refresh (the Train page's live view refreshes every second).
(c) Start-up: from ``backend.start()`` to the "prepared" event and to the first "step" event, for the
    first run on a fresh cluster (cold: a worker process must start and import torch) and later ones.
(d) Memory: the resident (VmRSS), proportional (Pss) and private memory of a run's actor process
    while it trains, and the resident memory of this process.
(e) Concurrency: three runs submitted at once to a JobManager on the 2-CPU cluster: two train, the third
    waits in the app's queue (its position and estimated wait are recorded); the tokens/s of each run
    while two train side by side, against one alone.

The machine is shared: the report records `uptime`'s load averages before and after; compare figures
within one report, not across machines or days.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # Ray puts the driver's working directory on the workers' path

import torch  # noqa: E402

from tests.raycluster import LocalRayCluster  # noqa: E402
from tinylm.plan import spec_from_preset  # noqa: E402
from ui.runs import JobManager, Limits, new_run_id  # noqa: E402
from ui.runs.backend import ThreadBackend  # noqa: E402


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


class Sink:
    def __init__(self) -> None:
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.ended = threading.Event()

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append((time.monotonic(), event))
        if event["type"] == "end":
            self.ended.set()

    def first(self, kind: str) -> float | None:
        return next((at for at, event in self.events if event["type"] == kind), None)

    def tokens_per_sec(self) -> float:
        speeds = [e["tokens_per_sec"] for _, e in self.events if e["type"] == "step" and e["tokens_per_sec"]]
        return statistics.median(speeds[3:] or speeds) if speeds else float("nan")


def one_run(backend, spec, sample_memory: bool = False) -> dict[str, Any]:
    sink = Sink()
    run_id = new_run_id()
    started = time.monotonic()
    handle = backend.start(run_id, spec, None, {"name": "bench", "run_id": run_id}, sink)
    memory = None
    if sample_memory:
        import ray

        while sink.first("step") is None and not sink.ended.is_set():
            time.sleep(0.05)
        time.sleep(spec.time_budget / 2)
        info = ray.get(handle.actor.info.remote(), timeout=30)
        memory = {
            "actor_rss_mb": round(info["rss_bytes"] / 2**20, 1),
            "actor_pss_mb": round(info["pss_bytes"] / 2**20, 1),
            "actor_private_mb": round(info["private_bytes"] / 2**20, 1),
            "torch_threads": info["torch_threads"],
        }
    assert sink.ended.wait(spec.time_budget * 4 + 120), "the run did not end"
    end = sink.events[-1][1]
    result = {
        "status": end["status"],
        "steps": end["step"],
        "tokens_per_sec": round(sink.tokens_per_sec(), 1),
        "start_to_prepared_s": round((sink.first("prepared") or float("nan")) - started, 3),
        "start_to_first_step_s": round((sink.first("step") or float("nan")) - started, 3),
    }
    if memory:
        result.update(memory)
    latencies = list(getattr(handle, "latencies", []))
    if latencies:
        result["latencies_ms"] = [round(x * 1000, 2) for x in latencies]
    return result


def concurrency(address: str, seconds: float) -> dict[str, Any]:
    from ui.runs.ray_backend import RayBackend

    jobs = JobManager(
        tempfile.mkdtemp(prefix="tinylm-bench-"),
        Limits(max_queue=4, orphan_seconds=600.0),
        RayBackend(address),
        session_alive=lambda session: True,
    )
    spec = spec_from_preset("live", corpus="stories-en", budget="time", time_budget=seconds)
    try:
        runs = [jobs.submit(spec, owner=f"student-{n}") for n in range(3)]
        time.sleep(1.0)
        third = jobs.get(runs[2])
        queued = {
            "status": third.status,
            "queue_position": third.queue_position,
            "wait_seconds": None if third.wait_seconds is None else round(third.wait_seconds, 1),
            "server_load": jobs.server_load(),
        }
        views = [jobs.wait(run_id, timeout=seconds * 6 + 180) for run_id in runs]
    finally:
        jobs.shutdown()
    speeds = [statistics.median(row[1] for row in view.history["tokens_per_sec"][3:]) for view in views]
    return {
        "third_run_while_two_train": queued,
        "statuses": [view.status for view in views],
        "tokens_per_sec_each": [round(speed, 1) for speed in speeds],
        "note": "runs 1 and 2 trained side by side (one CPU each); run 3 started when one of them ended",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_before": load(), "torch": torch.__version__},
        "spec": f"preset live, stories-en, time budget {args.seconds:.0f} s, one torch thread",
    }
    cluster_started = time.monotonic()
    cluster = LocalRayCluster(num_cpus=2).start()
    report["cluster_start_s"] = round(time.monotonic() - cluster_started, 1)
    try:
        from ui.runs.ray_backend import RayBackend

        ray_backend, thread_backend = RayBackend(cluster.address), ThreadBackend(1)
        connected = time.monotonic()
        ray_backend.connect()
        report["driver_connect_s"] = round(time.monotonic() - connected, 2)
        spec = spec_from_preset("live", corpus="stories-en", budget="time", time_budget=args.seconds)
        runs: dict[str, list[dict[str, Any]]] = {"thread": [], "ray": []}
        for repeat in range(args.repeats):
            for name, backend in (("ray", ray_backend), ("thread", thread_backend)):
                result = one_run(backend, spec, sample_memory=name == "ray" and repeat == 0)
                result["load_after"] = load()
                runs[name].append(result)
                print(name, {k: v for k, v in result.items() if k != "latencies_ms"}, flush=True)
        latencies = sorted(x for run in runs["ray"] for x in run.pop("latencies_ms", []))
        report["throughput"] = {
            name: {
                "tokens_per_sec": [run["tokens_per_sec"] for run in each],
                "median": statistics.median(run["tokens_per_sec"] for run in each),
            }
            for name, each in runs.items()
        }
        report["throughput"]["ray_over_thread"] = round(
            report["throughput"]["ray"]["median"] / report["throughput"]["thread"]["median"], 3
        )
        report["event_latency_ms"] = {
            "events": len(latencies),
            "median": round(statistics.median(latencies), 2),
            "p95": latencies[int(0.95 * (len(latencies) - 1))],
            "max": latencies[-1],
        }
        report["startup_s"] = {
            name: {
                "to_prepared": [run["start_to_prepared_s"] for run in each],
                "to_first_step": [run["start_to_first_step_s"] for run in each],
            }
            for name, each in runs.items()
        }
        report["memory_mb"] = {
            "ray_actor_rss_while_training": runs["ray"][0].get("actor_rss_mb"),
            "ray_actor_pss_while_training": runs["ray"][0].get("actor_pss_mb"),
            "ray_actor_private_while_training": runs["ray"][0].get("actor_private_mb"),
            "actor_torch_threads": runs["ray"][0].get("torch_threads"),
            "this_driver_process_rss": rss_mb(),
        }
        report["concurrency_2_cpus"] = concurrency(cluster.address, args.seconds)
        report["runs"] = runs
    finally:
        import ray

        ray.shutdown()
        cluster.stop()
        report["machine"]["load_after"] = load()
        report["leftover_cluster_processes"] = cluster.leftovers()
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
