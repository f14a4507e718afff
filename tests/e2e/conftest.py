"""Browser tests: one Streamlit server for the whole session, driven by Debian's Chromium via Playwright.

The server runs ``streamlit run app.py`` on a free loopback port with its own temporary runs directory
and a concurrency limit of one training job (so a second student's run visibly queues). Without
/usr/bin/chromium the tests skip with the reason, except under CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.appserver import free_port, start_app, stop_app, wait_healthy
from tests.e2e.driver import CHROMIUM, CHROMIUM_ARGS, EXPECT_TIMEOUT, VIEWPORT, App

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
MAX_JOBS = 1  # training jobs at once on the test server: the second student queues
STARTUP_SECONDS = 90


@dataclass
class Server:
    url: str
    runs_dir: Path
    log: Path
    process: subprocess.Popen

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (install it with `sudo sh scripts/install_browser.sh`)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -r requirements-dev.txt)")
    return CHROMIUM


def _python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


@pytest.fixture(scope="session")
def server(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("e2e-server")
    runs_dir, log = base / "runs", base / "server.log"
    port = free_port()
    env = {
        **os.environ,
        "TINYLM_RUNS_DIR": str(runs_dir),
        "TINYLM_MAX_JOBS": str(MAX_JOBS),
        "TINYLM_MAX_QUEUE": "4",
        "TINYLM_MAX_RUNS": "50",
        "TINYLM_ORPHAN_SECONDS": "120",
    }
    with log.open("wb") as log_file:
        process = start_app(port, env, python=_python(), output=log_file)
    running = Server(f"http://127.0.0.1:{port}", runs_dir, log, process)
    try:
        try:
            wait_healthy(process, port, STARTUP_SECONDS)
        except RuntimeError as exc:
            pytest.fail(f"{exc}:\n{running.log_tail()}")
        yield running
    finally:
        stop_app(process)


@pytest.fixture(scope="session")
def browser(chromium: Path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT)  # a rerun of a page with many charts takes seconds on 2 cores

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_app(browser, server: Server) -> Iterator[Callable[..., App]]:
    """Open a tab in a fresh browser context (a separate student: own cookies, own Streamlit session).
    Every tab is checked at the end for JavaScript errors, dialogs and failed requests."""
    contexts, apps = [], []

    def make(**context_options) -> App:
        context = browser.new_context(viewport=VIEWPORT, accept_downloads=True, **context_options)
        contexts.append(context)
        app = App(context.new_page(), server.url)
        apps.append(app)
        return app

    yield make
    unreported = [p for app in apps for p in (app.errors + app.dialogs + app.failed_requests)[app.checked :]]
    for context in contexts:
        context.close()
    assert not unreported, "browser-side problems:\n" + "\n".join(unreported)


@pytest.fixture
def app(new_app: Callable[..., App]) -> App:
    return new_app()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
