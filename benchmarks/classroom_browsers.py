"""The real-browser students of the classroom load test (benchmarks/classroom_load.py).

Each is a fresh context of one headless Chromium (Debian's /usr/bin/chromium, the browser tests'
flags), so each has its own cookies: its own student to the app. Playwright's sync API belongs to the
thread that started it, so one thread drives them all in turns: a student joins at its time (opening
the Train page, measured from navigation until the page shows its title and the script is idle, as
tests/e2e/driver.py waits), clicks Start, and then each turn checks what its page shows; the pages'
own timers keep the live views refreshing in between. The first browser student downloads its
checkpoint and uploads it again; the second opens the Generate page through the sidebar and comes back
(each navigation measured). Console errors, failed requests, dialogs and exception boxes are problems.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.e2e.driver import CHROMIUM, CHROMIUM_ARGS, IDLE, VIEWPORT, App

HEADING = '[data-testid="stMain"] h1'
STATUS = '[data-testid="stMain"] [data-testid="stMarkdownContainer"]'


class BrowserStudent:
    def __init__(self, plan: Any, browser: Any, base_url: str, record: Any, args: Any, workdir: Path) -> None:
        from ui.i18n import t

        self.plan, self.browser, self.base_url, self.record, self.args = plan, browser, base_url, record, args
        self.workdir = workdir
        self.t = lambda key, **params: t(key, plan.lang, **params)
        self.entry = record.student(plan.index)
        self.entry.update(client="browser", lang=plan.lang, plan=plan.__dict__)
        self.app: App | None = None
        self.state = "waiting"
        self.role = ""  # "transfer" (download, then upload) or "explore"
        self.away_until = 0.0
        self.statuses = {
            self.t(f"train.status.{s}"): s
            for s in ("queued", "preparing", "running", "paused", "done", "stopped", "failed", "error")
        }

    # ------------------------------------------------------------------------------------- steps
    def join(self) -> None:
        from benchmarks.classroom_load import TRAIN, now_wall, train_query

        context = self.browser.new_context(viewport=VIEWPORT)
        self.app = App(context.new_page(), self.base_url)
        at, started = now_wall(), time.monotonic()
        self.app.page.goto(f"{self.base_url}/{TRAIN}?{train_query(self.plan.lang, self.args.budget_seconds)}")
        self._wait_shown(self.t("nav.train"))
        self.record.latency(self.plan.index, "browser", "open", TRAIN, time.monotonic() - started, at)
        self.entry["clicked"] = at = now_wall()
        started = time.monotonic()
        self.app.click("train.start")
        deadline = started + 300
        while "run" not in self.app.query():  # the page writes the run into the URL at the end of its run
            if time.monotonic() > deadline:
                raise TimeoutError("no run in the URL after Start")
            self.app.page.wait_for_timeout(50)
        self.record.latency(self.plan.index, "browser", "click", "Start", time.monotonic() - started, at)
        self.entry["run_id"] = self.app.query()["run"]
        self.state = "watching"

    def watch(self) -> None:
        """One look at the page: the run's status, and the student's next action."""
        from benchmarks.classroom_load import now_wall

        app = self.app
        if self.state == "away":
            if time.monotonic() >= self.away_until:
                self._navigate("train", "Train")
                self.state = "watching" if "finished_seen" not in self.entry else "finished"
            return
        status = self._status()
        if status is not None and status != "queued" and "left_queue" not in self.entry:
            self.entry["left_queue"] = now_wall()
        if (
            self.state == "watching"
            and self.role == "explore"
            and status == "running"
            and not self.entry.get("explored")
        ):
            self.entry["explored"] = True
            self._navigate("generate", "Generate")
            self.away_until, self.state = time.monotonic() + self.args.dwell_seconds, "away"
            return
        if self.state == "watching" and app.key("train.download").locator("button").count() > 0:
            self.entry["finished_seen"], self.entry["status_seen"] = now_wall(), status
            self.state = "finished"
        if self.state == "finished":
            if self.role == "transfer" and "download_ok" not in self.entry:
                self._transfer()
            self._check()
            self.entry["done"] = True
            self.state = "done"

    # ------------------------------------------------------------------------------------- helpers
    def _wait_shown(self, title: str, timeout: float = 300) -> None:
        heading = self.app.page.locator(HEADING).first
        deadline = time.monotonic() + timeout
        while True:
            try:
                if heading.count() and heading.inner_text(timeout=1000).strip() == title:
                    break
            except Exception:  # the page is being redrawn
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{title!r} was not shown within {timeout:.0f} s")
            self.app.page.wait_for_timeout(50)
        self.app.page.wait_for_selector(IDLE, timeout=(deadline - time.monotonic()) * 1000)

    def _navigate(self, name: str, path: str) -> None:
        from benchmarks.classroom_load import now_wall

        at, started = now_wall(), time.monotonic()
        self.app.sidebar_link(self.t(f"nav.{name}"))
        self._wait_shown(self.t(f"nav.{name}"))
        self.record.latency(self.plan.index, "browser", "navigate", path, time.monotonic() - started, at)

    def _status(self) -> str | None:
        prefix = f"{self.t('train.run')}: "
        for text in self.app.page.locator(STATUS).all_inner_texts():
            if text.startswith(prefix):
                return self.statuses.get(text[len(prefix) :].strip().splitlines()[0], "unknown")
        return None

    def _transfer(self) -> None:
        """Download the model, then bring it back through the upload box."""
        import zipfile

        from benchmarks.classroom_load import TRAIN, now_wall

        app = self.app
        for attempt in range(1, 4):  # a student clicks again when the file does not come
            try:
                with app.page.expect_download() as info:
                    app.click("train.download")
                path = self.workdir / f"browser-{self.plan.index}-{info.value.suggested_filename}"
                info.value.save_as(path)
                break
            except Exception as exc:
                self.record.problem(self.plan.index, f"download attempt {attempt} failed: {exc}")
                if attempt == 3:
                    raise
                app.page.wait_for_timeout(1000)
        try:
            with zipfile.ZipFile(path) as archive:
                self.entry["download_ok"] = {"model.safetensors", "tinylm.json"} <= set(archive.namelist())
        except zipfile.BadZipFile:
            self.entry["download_ok"] = False
        run_id = self.entry["run_id"]
        at, started = now_wall(), time.monotonic()
        app.upload("train.checkpoint_upload", path)
        success = app.alerts("Success").filter(has_text=self.t("train.uploaded"))
        success.first.wait_for(timeout=300_000)
        app.page.wait_for_selector(IDLE)
        self.record.latency(self.plan.index, "browser", "upload", TRAIN, time.monotonic() - started, at)
        self.entry["import_ok"] = True
        deadline = time.monotonic() + 60
        while app.query().get("run") in (None, run_id) and time.monotonic() < deadline:
            app.page.wait_for_timeout(100)
        self.entry["imported_run_id"] = app.query().get("run")

    def _check(self) -> None:
        if self.app is None:
            return
        for text in self.app.errors + self.app.dialogs + self.app.failed_requests + self.app.exceptions():
            self.record.problem(self.plan.index, text)

    def close(self) -> None:
        if self.app is not None:
            self._check()
            self.app.page.context.close()


def browser_students(
    plans: list, base_url: str, lesson: Any, record: Any, args: Any, workdir: Path, ready: Any
) -> None:
    """Start Chromium (then ``ready`` is set: the lesson begins), and drive every browser student in
    turns until each is done or the lesson is over."""
    from playwright.sync_api import sync_playwright

    from benchmarks.classroom_load import lower_priority

    lower_priority(args.client_nice)
    if not CHROMIUM.exists():
        for plan in plans:
            record.problem(plan.index, f"{CHROMIUM} is missing: no browser students")
            record.student(plan.index)["done"] = True
        ready.set()
        return
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        finally:
            ready.set()
        lesson.begun.wait()
        students = [BrowserStudent(plan, browser, base_url, record, args, workdir) for plan in plans]
        for index, student in enumerate(students):
            student.role = ("transfer", "explore")[index] if index < 2 else ""
        try:
            while not lesson.over.is_set() and lesson.left() > 0:
                active = [s for s in students if s.state not in ("done", "failed")]
                if not active:
                    break
                for student in active:
                    try:
                        if student.state == "waiting":
                            if time.monotonic() >= lesson.start + student.plan.join_at:
                                student.join()
                        else:
                            student.watch()
                    except Exception as exc:  # this student fails; the others go on
                        record.problem(student.plan.index, f"{type(exc).__name__}: {exc}")
                        student.state = "failed"
                        student.entry["done"] = student.entry["failed"] = True
                lesson.sleep(0.3)
            for student in students:
                if student.state not in ("done", "failed", "waiting"):
                    record.problem(student.plan.index, f"not done when the lesson ended ({student.state})")
            lesson.over.wait(max(0.0, lesson.left()))  # pages stay open until the lesson ends
        finally:
            for student in students:
                try:
                    student.close()
                except Exception as exc:
                    record.problem(student.plan.index, f"closing: {exc}")
            browser.close()
