"""A classroom load test: a class plays a lesson through the real server (issue #11 §8, issue #14).

    python benchmarks/classroom_load.py [--students 30] [--browsers 3] [--minutes 8]
        [--backend thread process] [--budget-seconds 5] [--join-seconds 60] [--json FILE]

For each backend (TINYLM_BACKEND=thread: training in threads of the server, the default; =process:
in worker processes), a fresh `streamlit run app.py` with its own runs folder, and then:

1. A teacher opens the app before class (the cold first visit is reported apart) and every page once
   more: the idle page latencies to compare with.
2. The class joins within --join-seconds (in join order, alternating English and Chinese): each student
   opens the Train page (a new session: HTTP page, health, websocket, first run) with a short run
   planned in its URL (the tiny preset, a time budget of --budget-seconds), clicks Start and watches
   the run (the live view's fragments rerun every second, the charts every four, as the browser asks).
   Some students (--explorers) open other pages meanwhile (Attention explorer, Generate, Tokens: a
   sidebar link, then back to Train) and keep doing so while the class trains. After their run, some
   download its checkpoint (--downloaders) and some of those import it again (--importers).
   --browsers of the students are real headless Chromium contexts (benchmarks/classroom_browsers.py);
   the rest speak Streamlit's websocket protocol (benchmarks/st_client.py), one cookie each, so every
   one is its own student to the app's job manager.
3. The lesson ends when every student has done their part, or after --minutes (then what is unfinished
   is a failure). Sessions close; the server's memory is read again a few seconds later.

Reported (JSON, --json): the queue waits (first and last student, every student in join order), the
runs' budgets and what they trained (steps, tokens/s), page latencies (median, p90, max: while some
run trains, at other times, and idle before class; page opens by new sessions and sidebar navigation;
protocol and browser clients apart; the live view's refresh), server memory at start, peak and end
(VmRSS of the server, and of the server with its child processes: the process backend's workers), and
the checks: every started run finished ("done") with its run.json and checkpoint in the runs folder,
every download is a checkpoint and every import became a run, no session saw an exception or error
and the server log has no traceback. Exit status 1 if a check failed.

The numbers depend on the machine being otherwise idle: the load average at the start and end is in
the output, with a warning when the machine was busy. The driver (and its browsers) runs at a lower
priority than the server (--client-nice) so that on one machine it takes less from the server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the server helpers are shared with the browser tests
from benchmarks.st_client import Session  # noqa: E402
from tests.e2e.appserver import free_port, start_app, stop_app, wait_healthy  # noqa: E402

PYTHON = sys.executable
EXPLORE_PAGES = ("Attention_explorer", "Generate", "Tokens")  # URL paths of the pages explorers open
TRAIN = "Train"
NAV_KEYS = {
    "Attention_explorer": "nav.explorer",
    "Generate": "nav.generate",
    "Tokens": "nav.tokens",
    TRAIN: "nav.train",
}
SESSION_TIMEOUT = 300.0  # one page run may take long on a loaded 2-core server; that is the measurement


def now_wall() -> float:
    return time.time()


def lower_priority(steps: int) -> None:
    """Lower the calling thread's priority by ``steps``. Linux keeps a niceness per thread, and threads
    and processes started from it inherit it (a student's connection threads, the browsers), while the
    servers, started from the main thread, keep theirs."""
    if steps <= 0:
        return
    tid = threading.get_native_id()
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + steps)


# ------------------------------------------------------------------------------------------ memory
def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from each process's parent in /proc/<pid>/stat)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class MemorySampler(threading.Thread):
    """The server's VmRSS, alone and with its child processes, twice a second."""

    def __init__(self, pid: int) -> None:
        super().__init__(name="memory", daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, int, int, int]] = []  # (wall, server kB, with children kB, children)
        self.stopped = threading.Event()

    def sample(self) -> tuple[float, int, int, int]:
        server = rss_kb(self.pid)
        kids = descendants(self.pid)
        row = (now_wall(), server, server + sum(rss_kb(p) for p in kids), len(kids))
        self.samples.append(row)
        return row

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            self.sample()

    def report(self, start: tuple, end: tuple) -> dict[str, Any]:
        def mb(kb: float) -> float:
            return round(kb / 1024, 1)

        rows = self.samples or [start]
        return {
            "server_mb": {"start": mb(start[1]), "peak": mb(max(r[1] for r in rows)), "end": mb(end[1])},
            "server_and_children_mb": {
                "start": mb(start[2]),
                "peak": mb(max(r[2] for r in rows)),
                "end": mb(end[2]),
            },
            "child_processes": {"start": start[3], "peak": max(r[3] for r in rows), "end": end[3]},
            "how": "VmRSS from /proc/<pid>/status every 0.5 s; children: every process below the server",
        }


# ------------------------------------------------------------------------------------------ records
@dataclass
class Record:
    """What the class measured, from every student thread (thread-safe)."""

    lesson_start_wall: float = 0.0
    latencies: list[dict[str, Any]] = field(default_factory=list)
    students: dict[int, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def latency(self, student: int, client: str, what: str, page: str, seconds: float, at: float) -> None:
        with self.lock:
            self.latencies.append(
                {
                    "student": student,
                    "client": client,
                    "what": what,
                    "page": page,
                    "seconds": seconds,
                    "at": at,
                }
            )

    def student(self, index: int) -> dict[str, Any]:
        with self.lock:
            return self.students.setdefault(index, {"problems": [], "done": False})

    def problem(self, index: int, text: str) -> None:
        entry = self.student(index)
        with self.lock:
            if text not in entry["problems"]:
                entry["problems"].append(text)


@dataclass
class Plan:
    """One student's part in the lesson."""

    index: int
    lang: str
    join_at: float  # seconds after the class starts
    browser: bool
    explorer: bool
    downloads: bool
    imports: bool


def class_plans(args: argparse.Namespace) -> list[Plan]:
    rng = random.Random(args.seed)
    n, b = args.students, min(args.browsers, args.students)
    browsers = {round(i * n / b) for i in range(b)} if b else set()
    step = args.join_seconds / max(1, n - 1) if n > 1 else 0.0
    plans, protocol_seen = [], 0
    explorers = set(rng.sample(range(n), round(n * args.explorers)))
    for index in range(n):
        browser = index in browsers
        downloads = imports = False
        if not browser:
            downloads = protocol_seen < args.downloaders
            imports = protocol_seen < min(args.importers, args.downloaders)
            protocol_seen += 1
        lang = args.langs[index % len(args.langs)]
        join = 0.0 if index == 0 else min(args.join_seconds, index * step + rng.uniform(-0.3, 0.3) * step)
        plans.append(Plan(index, lang, max(0.0, join), browser, index in explorers, downloads, imports))
    return plans


def train_query(lang: str, budget: float) -> str:
    corpus = "stories-zh" if lang == "zh" else "stories-en"
    return f"lang={lang}&corpus={corpus}&preset=tiny&budget=time&time_budget={budget:g}"


def status_reader(lang: str):
    """The run's status as the Train page shows it ("**Run:** training" → "running")."""
    from ui.i18n import t

    prefix = f"**{t('train.run', lang)}:** "
    labels = {
        t(f"train.status.{s}", lang): s
        for s in ("queued", "preparing", "running", "paused", "done", "stopped", "failed", "error")
    }

    def read(session: Session) -> str | None:
        for text in session.texts("markdown"):
            if text.startswith(prefix):
                return labels.get(text[len(prefix) :].strip(), "unknown")
        return None

    return read


def check_zip(data: bytes) -> bool:
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {"model.safetensors", "tinylm.json"} <= set(archive.namelist())
    except zipfile.BadZipFile:
        return False


# ------------------------------------------------------------------------------------------ students
class Lesson:
    """The shared clock (from ``begin()``, once the browsers have started) and the end of the lesson."""

    def __init__(self, minutes: float) -> None:
        self.minutes = minutes
        self.start = self.start_wall = 0.0
        self.deadline = float("inf")
        self.begun = threading.Event()
        self.over = threading.Event()

    def begin(self) -> None:
        self.start, self.start_wall = time.monotonic(), now_wall()
        self.deadline = self.start + self.minutes * 60
        self.begun.set()

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def sleep(self, seconds: float) -> bool:
        """Sleep, or return False early once the lesson is over."""
        return not self.over.wait(max(0.0, min(seconds, self.left())))

    def until(self, offset: float) -> bool:
        """Wait until ``offset`` seconds into the lesson (False if it ended first)."""
        self.begun.wait()
        return self.sleep(self.start + offset - time.monotonic())


def protocol_student(plan: Plan, base_url: str, lesson: Lesson, record: Record, args: argparse.Namespace):
    """One student on the websocket protocol client: the plan's part of the lesson."""
    from ui.i18n import t

    lower_priority(args.client_nice)
    entry = record.student(plan.index)
    entry.update(client="protocol", lang=plan.lang, plan=plan.__dict__)
    read_status = status_reader(plan.lang)
    rng = random.Random(args.seed * 1000 + plan.index)
    pages = list(EXPLORE_PAGES)
    rng.shuffle(pages)
    session = Session(base_url, timeout=SESSION_TIMEOUT)
    entry["student_id"] = session.student

    def visit(path: str) -> None:
        at = now_wall()
        record.latency(plan.index, "protocol", "navigate", path, session.navigate(path), at)
        if session.title() != t(NAV_KEYS[path], plan.lang):
            record.problem(plan.index, f"{path}: the page's title was {session.title()!r}")

    def explore(path: str) -> None:
        visit(path)
        lesson.sleep(args.dwell_seconds)
        visit(TRAIN)

    try:
        if not lesson.until(plan.join_at):
            return
        at = now_wall()
        seconds = session.open(TRAIN, train_query(plan.lang, args.budget_seconds))
        record.latency(plan.index, "protocol", "open", TRAIN, seconds, at)
        if session.title() != t("nav.train", plan.lang):
            record.problem(plan.index, f"Train page title was {session.title()!r}")
        entry["clicked"] = at = now_wall()
        record.latency(plan.index, "protocol", "click", "Start", session.click("train.start"), at)
        entry["run_id"] = run_id = session.wait_for(lambda s: s.query().get("run"), what="the run in the URL")
        turn = 0
        next_explore = time.monotonic() + rng.uniform(2, 2 + args.dwell_seconds)
        while lesson.left() > 0:
            status = read_status(session)
            if status is not None and status != "queued" and "left_queue" not in entry:
                entry["left_queue"] = now_wall()  # seen on the page (within a second)
            if (
                status in ("done", "stopped", "failed", "error")
                and session.widget("train.download") is not None
            ):
                entry["finished_seen"], entry["status_seen"] = now_wall(), status
                break
            if plan.explorer and time.monotonic() >= next_explore:
                explore(pages[turn % len(pages)])
                turn += 1
                next_explore = time.monotonic() + rng.uniform(1, args.dwell_seconds)
            else:
                lesson.sleep(0.5)
        else:
            record.problem(plan.index, f"run {run_id} not finished when the lesson ended")
            return
        if plan.downloads:
            data = download(session, plan, record)
            entry["download_ok"] = check_zip(data)
            if plan.imports:
                at = now_wall()
                seconds = session.upload(
                    "train.checkpoint_upload", f"student-{plan.index}.zip", data, "application/zip"
                )
                record.latency(plan.index, "protocol", "upload", TRAIN, seconds, at)
                imported = session.wait_for(
                    lambda s: s.query().get("run") if s.query().get("run") != run_id else None,
                    what="the imported run in the URL",
                )
                entry["imported_run_id"] = imported
                entry["import_ok"] = t("train.uploaded", plan.lang) in session.alerts("success")
        entry["done"] = True
        while plan.explorer and not lesson.over.is_set() and lesson.left() > 0:
            explore(pages[turn % len(pages)])  # the others still train: keep reading other pages
            turn += 1
            lesson.sleep(rng.uniform(1, args.dwell_seconds))
        lesson.over.wait(max(0.0, lesson.left()))
    except Exception as exc:  # the student's failure is reported, the lesson goes on
        record.problem(plan.index, f"{type(exc).__name__}: {exc}")
        entry["done"] = entry["failed"] = True
    finally:
        entry["fragment_latencies"] = list(session.fragment_latencies)
        for text in session.problems:
            record.problem(plan.index, text)
        session.close()


def download(session: Session, plan: Plan, record: Record, attempts: int = 3) -> bytes:
    """The Download button, clicked again (as a student would) when the file does not come; every
    failed attempt is a problem of the lesson."""
    for attempt in range(1, attempts + 1):
        try:
            return session.download("train.download")
        except Exception as exc:
            record.problem(plan.index, f"download attempt {attempt} failed: {type(exc).__name__}: {exc}")
            if attempt == attempts:
                raise
            time.sleep(1.0)
    return b""


def teacher(base_url: str, record: Record, args: argparse.Namespace, idle: dict[str, Any]) -> None:
    """Before class: the cold first visit, then every page once more (idle latencies)."""
    lower_priority(args.client_nice)
    with Session(base_url, timeout=SESSION_TIMEOUT) as session:
        idle["cold_first_open_train"] = round(session.open(TRAIN, train_query("en", 5)), 3)
        for page in EXPLORE_PAGES:
            session.navigate(page)  # the first visit of each page (imports, caches)
        for page in (*EXPLORE_PAGES, TRAIN):
            record.latency(-1, "protocol", "navigate", page, session.navigate(page), now_wall())
        problems = list(session.problems)
    for page in (TRAIN, *EXPLORE_PAGES):
        with Session(base_url, timeout=SESSION_TIMEOUT) as fresh:
            query = train_query("en", 5) if page == TRAIN else "lang=en"
            record.latency(-1, "protocol", "open", page, fresh.open(page, query), now_wall())
            problems += fresh.problems
    idle["problems"] = problems


# ------------------------------------------------------------------------------------------ one class
def run_class(args: argparse.Namespace, backend: str, workdir: Path) -> dict[str, Any]:
    from benchmarks.classroom_report import analyse

    runs_dir, log_path = workdir / f"runs-{backend}", workdir / f"server-{backend}.log"
    env = {**os.environ, "TINYLM_RUNS_DIR": str(runs_dir), "TINYLM_BACKEND": backend}
    env["TINYLM_MAX_QUEUE"] = str(args.max_queue if args.max_queue is not None else args.students)
    if args.max_jobs is not None:
        env["TINYLM_MAX_JOBS"] = str(args.max_jobs)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        server = start_app(port, env, python=PYTHON, output=log)
    record, plans = Record(), class_plans(args)
    sampler = MemorySampler(server.pid)
    result: dict[str, Any] = {
        "backend": backend,
        "server_env": {k: env[k] for k in env if k.startswith("TINYLM_")},
        "training_slots": args.max_jobs
        or f"{max(1, len(os.sched_getaffinity(0)) - 1)} (the app's default: cores - 1)",
    }
    try:
        wait_healthy(server, port, timeout=120)
        time.sleep(1.0)
        start_memory = sampler.sample()
        sampler.start()
        result["load_average_at_class_start"] = os.getloadavg()
        result["teacher"] = idle = {}
        before_class = threading.Thread(target=teacher, args=(base_url, record, args, idle), name="teacher")
        before_class.start()
        before_class.join()
        lesson, browsers_ready = Lesson(args.minutes), threading.Event()
        threads = [
            threading.Thread(
                target=protocol_student,
                args=(plan, base_url, lesson, record, args),
                name=f"student-{plan.index}",
            )
            for plan in plans
            if not plan.browser
        ]
        browser_plans = [plan for plan in plans if plan.browser]
        if browser_plans:
            from benchmarks.classroom_browsers import browser_students

            threads.append(
                threading.Thread(
                    target=browser_students,
                    args=(browser_plans, base_url, lesson, record, args, workdir, browsers_ready),
                    name="browsers",
                )
            )
        else:
            browsers_ready.set()
        for thread in threads:
            thread.start()
        browsers_ready.wait(timeout=300)  # Chromium started: the class begins
        lesson.begin()
        record.lesson_start_wall = lesson.start_wall
        while lesson.left() > 0 and not all(record.student(p.index)["done"] for p in plans):
            time.sleep(0.5)
        result["lesson_seconds"] = round(time.monotonic() - lesson.start, 1)
        result["ended_by"] = (
            "every student done" if lesson.left() > 0 else f"the {args.minutes:g}-minute limit"
        )
        lesson.over.set()
        for thread in threads:
            thread.join(timeout=120)
        time.sleep(5.0)  # sessions closed: what the server keeps afterwards
        sampler.stopped.set()
        end_memory = sampler.sample()
        result["memory"] = sampler.report(start_memory, end_memory)
    finally:
        sampler.stopped.set()
        stop_app(server)
    result.update(analyse(args, plans, record, runs_dir, log_path))
    memory = result.get("memory")
    if memory:
        result["headline"]["server_mb_start_peak_end"] = list(memory["server_mb"].values())
        result["headline"]["with_children_mb_start_peak_end"] = list(
            memory["server_and_children_mb"].values()
        )
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--browsers", type=int, default=3, help="students that are real Chromium contexts")
    parser.add_argument("--minutes", type=float, default=8.0, help="the lesson's bound, from the first join")
    parser.add_argument("--backend", nargs="+", choices=("thread", "process"), default=["thread"])
    parser.add_argument("--budget-seconds", type=float, default=5.0, help="each run's time budget (>= 5)")
    parser.add_argument("--join-seconds", type=float, default=60.0, help="the class joins within this time")
    parser.add_argument("--explorers", type=float, default=0.5, help="share of students opening other pages")
    parser.add_argument("--dwell-seconds", type=float, default=8.0, help="time an explorer stays on a page")
    parser.add_argument("--downloaders", type=int, default=3, help="protocol students who download")
    parser.add_argument("--importers", type=int, default=2, help="... of whom import it again")
    parser.add_argument("--max-jobs", type=int, default=None, help="TINYLM_MAX_JOBS (default: the app's)")
    parser.add_argument("--max-queue", type=int, default=None, help="TINYLM_MAX_QUEUE (default: students)")
    parser.add_argument("--langs", default="en,zh", help="students' languages, in turn")
    parser.add_argument("--client-nice", type=int, default=5, help="niceness of this driver and its browsers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", help="keep the runs folders and server logs in this directory")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "classroom_load.json"))
    args = parser.parse_args(argv)
    args.langs = [lang.strip() for lang in args.langs.split(",") if lang.strip()]
    if args.budget_seconds < 5:
        parser.error("--budget-seconds: the app accepts time budgets of 5 s and more")
    return args


def main(argv: list[str] | None = None) -> int:
    from benchmarks.classroom_report import machine_note

    args = parse_args(argv)
    summary: dict[str, Any] = {
        "what": "A simulated class on the real server: benchmarks/classroom_load.py (see its docstring).",
        "command": " ".join(
            ["python", "benchmarks/classroom_load.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine": {"cores": len(os.sched_getaffinity(0)), "load_average_start": os.getloadavg()},
        "settings": {k: v for k, v in vars(args).items() if k not in ("json", "keep")},
        "results": {},
    }
    with tempfile.TemporaryDirectory(prefix="tinylm-class-") as tmp:
        workdir = Path(args.keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for backend in args.backend:
            result = run_class(args, backend, workdir)
            summary["results"][backend] = result
            print(json.dumps({backend: result.get("headline")}, ensure_ascii=False), file=sys.stderr)
    summary["machine"]["load_average_end"] = os.getloadavg()
    summary["machine"]["note"] = machine_note(summary["machine"])
    summary["comparison"] = {b: r.get("headline") for b, r in summary["results"].items()}
    summary["ok"] = all(r.get("ok") for r in summary["results"].values())
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    Path(args.json).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
