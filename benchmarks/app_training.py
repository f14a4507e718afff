"""Training inside the app versus the command line, and the server's memory over many runs.

    python benchmarks/app_training.py [--seconds 60] [--repeats 1] [--json out.json] [--skip-memory]

(a) Throughput. The same configuration (the default "live" preset on English stories, one torch thread,
    a time budget) is trained
      * by the CLI:  python -m tinylm --threads 1 train --corpus stories-en --preset live --time-budget S
      * by the app:  `streamlit run app.py` with the Train page open in headless Chromium (Playwright,
        Debian's /usr/bin/chromium), Start clicked, the page left open so its live view keeps refreshing
        (every second, charts every three) until the run ends.
    Tokens/s is read from each run's own history (the trainer measures it over the training steps, so
    evaluations and samples are not counted against either side); the report gives the medians and the
    ratio app / CLI (the goal: at least 0.9, i.e. the UI costs less than a tenth). It also reports what the
    app run learned: the final validation loss against the corpus' unigram entropy, and its last sample.

(b) Memory. The server's resident memory (VmRSS from /proc/<pid>/status; psutil is not installed) when
    idle, after 5 completed runs in one browser session, and after 5 more sessions each with a run, then
    after those sessions closed. Runs are short (the tiny model, 5 s each) so the part takes about two
    minutes; nothing should grow without bound (finished jobs release their trainers; a bounded number
    of finished models stays loaded).

Prints a JSON summary. It needs the machine to itself: the numbers mean little when other jobs compete
for the two cores (check `uptime` first).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
sys.path.insert(0, str(ROOT))  # run as a script: the browser settings are shared with the browser tests
from tests.e2e.appserver import free_port, start_app, stop_app, wait_healthy  # noqa: E402
from tests.e2e.driver import CHROMIUM_ARGS, IDLE  # noqa: E402

START = '[data-testid="stButton"] button:has-text("Start training")'
TINY_RUN = "n_layers=2&n_heads=4&d_model=64&context_len=32&batch_size=32&budget=time&time_budget=5.0"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def median_tokens_per_sec(rows: list[list[float]]) -> float:
    return statistics.median(row[1] for row in rows) if rows else float("nan")


def cli_run(seconds: float, workdir: Path) -> dict[str, Any]:
    out = workdir / f"cli-{time.monotonic_ns()}"
    started = time.perf_counter()
    subprocess.run(
        [
            PYTHON,
            "-m",
            "tinylm",
            "--threads",
            "1",
            "train",
            "--corpus",
            "stories-en",
            "--preset",
            "live",
            "--time-budget",
            str(seconds),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    document = json.loads((out / "tinylm.json").read_text())
    history = document["history"]
    return {
        "tokens_per_sec": round(median_tokens_per_sec(history["tokens_per_sec"])),
        "steps": document["meta"]["steps"],
        "val_loss": round(history["val"][-1][2], 4),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }


class Server:
    """`streamlit run app.py` on a free loopback port, with its runs in a temporary directory."""

    def __init__(self, runs_dir: Path, max_jobs: int = 1) -> None:
        self.port = free_port()
        self.runs_dir = runs_dir
        env = {**os.environ, "TINYLM_RUNS_DIR": str(runs_dir), "TINYLM_MAX_JOBS": str(max_jobs)}
        self.process = start_app(self.port, env, python=PYTHON)
        wait_healthy(self.process, self.port, timeout=60)

    def url(self, query: str) -> str:
        return f"http://127.0.0.1:{self.port}/Train?lang=en&{query}"

    def rss(self) -> float:
        return rss_mb(self.process.pid)

    def runs(self) -> dict[str, dict]:
        found = {}
        for path in glob.glob(str(self.runs_dir / "*" / "run.json")):
            try:
                document = json.loads(Path(path).read_text())
            except (OSError, ValueError):
                continue  # being rewritten
            found[document["id"]] = document
        return found

    def wait_finished(self, run_ids: set[str], timeout: float) -> dict[str, dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.runs()
            if all(runs.get(r, {}).get("status") in ("done", "stopped", "failed", "error") for r in run_ids):
                return runs
            time.sleep(0.5)
        raise TimeoutError(f"runs {run_ids} did not finish")

    def close(self) -> None:
        stop_app(self.process)


def start_run(page, server: Server, query: str) -> str:
    """Open the Train page, click Start, and return the new run's id (from the URL)."""
    known = set(server.runs())
    if query is not None:
        page.goto(server.url(query))
    page.wait_for_selector(IDLE, timeout=60_000)
    page.locator(START).first.click()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        new = set(server.runs()) - known
        if new:
            return new.pop()
        time.sleep(0.2)
    raise TimeoutError("no run started")


def app_run(seconds: float, workdir: Path, browser) -> dict[str, Any]:
    server = Server(workdir / f"runs-{time.monotonic_ns()}")
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        started = time.perf_counter()
        run_id = start_run(page, server, f"corpus=stories-en&preset=live&budget=time&time_budget={seconds}")
        run = server.wait_finished({run_id}, timeout=seconds * 4 + 120)[run_id]
        shown = page.locator('[data-testid="stProgress"]').count() > 0  # the live view was on screen
        page.close()
    finally:
        server.close()
    history = run["history"]
    return {
        "tokens_per_sec": round(median_tokens_per_sec(history["tokens_per_sec"])),
        "steps": run["step"],
        "val_loss": round(history["val"][-1][2], 4),
        "unigram_entropy": round(run["data"]["unigram_entropy"], 4),
        "first_val_loss": round(history["val"][0][2], 4),
        "last_sample": run["samples"][-1][1] if run["samples"] else "",
        "evaluations": len(history["val"]),
        "samples": len(run["samples"]),
        "live_view_shown": shown,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }


def memory(workdir: Path, browser) -> dict[str, Any]:
    server = Server(workdir / "runs-memory")
    report: dict[str, Any] = {}
    try:
        time.sleep(2)
        report["idle_mb"] = server.rss()
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server.url(TINY_RUN))
        page.wait_for_selector(IDLE, timeout=60_000)
        report["train_page_open_mb"] = server.rss()
        one_session = []
        for index in range(5):
            run_id = start_run(page, server, TINY_RUN if index == 0 else None)
            server.wait_finished({run_id}, timeout=120)
            time.sleep(2)  # the page notices the end and re-draws
            one_session.append(server.rss())
        report["one_session_5_runs_mb"] = one_session
        page.close()
        contexts, run_ids = [], set()
        for _ in range(5):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            run_ids.add(start_run(context.new_page(), server, TINY_RUN))
            contexts.append(context)
        server.wait_finished(run_ids, timeout=300)
        time.sleep(3)
        report["five_sessions_each_a_run_mb"] = server.rss()
        for context in contexts:
            context.close()
        time.sleep(5)
        report["after_sessions_closed_mb"] = server.rss()
        report["runs_kept_on_disk"] = len(server.runs())
    finally:
        server.close()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="time budget of each throughput run")
    parser.add_argument("--repeats", type=int, default=1, help="CLI/app pairs, interleaved")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true", help="measure memory only")
    parser.add_argument("--json", help="also write the summary here")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    summary: dict[str, Any] = {"seconds": args.seconds, "load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="tinylm-bench-") as tmp, sync_playwright() as playwright:
        workdir = Path(tmp)
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        cli, app = [], []
        for _ in range(0 if args.skip_throughput else args.repeats):
            cli.append(cli_run(args.seconds, workdir))
            app.append(app_run(args.seconds, workdir, browser))
            print(json.dumps({"cli": cli[-1], "app": app[-1]}, ensure_ascii=False), file=sys.stderr)
        if cli and app:
            cli_speed = statistics.median(r["tokens_per_sec"] for r in cli)
            app_speed = statistics.median(r["tokens_per_sec"] for r in app)
            summary["throughput"] = {
                "cli_runs": cli,
                "app_runs": app,
                "cli_tokens_per_sec": cli_speed,
                "app_tokens_per_sec": app_speed,
                "app_over_cli": round(app_speed / cli_speed, 3),
            }
        if not args.skip_memory:
            summary["memory"] = memory(workdir, browser)
        browser.close()
    summary["load_average_after"] = os.getloadavg()
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
