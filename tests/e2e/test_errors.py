"""No traceback on any page (issue #11, section 2), in a real browser: a page that fails on purpose
(tests/app/failing_page.py, served with the app's own .streamlit/config.toml) shows one sentence in the
reader's language, or before the guard is installed Streamlit's redacted box, and neither the exception's
message, its traceback, a file path nor its type reaches the browser: not in the page (DOM), not in any
message of the websocket. The server log has the traceback."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.app.test_error_guard import REDACTED, SECRET
from tests.e2e.appserver import free_port, start_app, stop_app, wait_healthy
from tests.e2e.conftest import ROOT, STARTUP_SECONDS
from tests.e2e.driver import VIEWPORT, App
from ui.i18n import t

pytestmark = pytest.mark.e2e

SCRIPT = "tests/app/failing_page.py"
# What the browser must never receive. (".py" is not checked in the websocket messages: Streamlit sends
# the main script's own name to the frontend, tests/app/failing_page.py; it is checked in the page.)
NEVER_SENT = ["secret detail", "Traceback", "RuntimeError", "/srv/tinylm", "exec_code", "site-packages"]
NEVER_SHOWN = [*NEVER_SENT, ".py", 'File "']


@pytest.fixture(scope="module")
def failing_server(chromium, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    log = tmp_path_factory.mktemp("failing-page") / "server.log"
    port = free_port()
    python = ROOT / ".venv" / "bin" / "python"
    with log.open("wb") as output:
        process = start_app(
            port,
            dict(os.environ),
            python=str(python) if python.exists() else sys.executable,
            output=output,
            script=SCRIPT,
        )
    try:
        try:
            wait_healthy(process, port, STARTUP_SECONDS)
        except RuntimeError as exc:
            pytest.fail(f"{exc}:\n{log.read_text(errors='replace')[-3000:]}")
        yield f"http://127.0.0.1:{port}", log
    finally:
        stop_app(process)


def open_failing(browser, url: str) -> tuple[App, list[bytes]]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    frames: list[bytes] = []

    def record(payload: bytes | str) -> None:
        frames.append(payload.encode() if isinstance(payload, str) else payload)

    page.on("websocket", lambda socket: socket.on("framereceived", record))
    app = App(page, url)
    page.goto(url)
    return app, frames


def assert_nothing_leaked(app: App, frames: list[bytes]) -> None:
    html = app.page.content()
    shown = [word for word in NEVER_SHOWN if word in html]
    assert not shown, f"{shown} reached the page"
    sent = [word for word in NEVER_SENT if any(word.encode() in frame for frame in frames)]
    assert not sent, f"{sent} reached the browser"
    assert frames, "no websocket message was recorded"
    assert app.errors == [] and app.dialogs == [], app.errors + app.dialogs


@pytest.mark.parametrize(("where", "lang"), [("page", "zh"), ("fragment", "en"), ("callback", "zh")])
def test_a_failing_page_shows_one_translated_sentence(browser, failing_server, where, lang):
    base, log = failing_server
    app, frames = open_failing(browser, f"{base}/?fail={where}&lang={lang}")
    app.wait_loaded()
    if where == "callback":
        expect(app.alerts("Error")).to_have_count(0)
        app.click("fail")
    expect(app.alerts("Error")).to_have_count(1)
    expect(app.alerts("Error")).to_contain_text(t("error.page_failed", lang))
    app.wait_idle()
    assert app.page.locator('[data-testid="stException"]').count() == 0
    assert app.exceptions() == app.alerts("Error").all_inner_texts()  # the driver counts it as a failure
    assert_nothing_leaked(app, frames)
    deadline = time.monotonic() + 10
    while "Traceback" not in log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert SECRET in log.read_text(errors="replace")  # the detail is in the server log
    app.page.context.close()


def test_a_failure_before_the_guard_shows_streamlits_redacted_box(browser, failing_server):
    base, _ = failing_server
    app, frames = open_failing(browser, f"{base}/?fail=early&lang=en")
    box = app.page.locator('[data-testid="stException"]')
    expect(box).to_contain_text(REDACTED)
    app.wait_idle()
    assert_nothing_leaked(app, frames)
    app.page.context.close()
