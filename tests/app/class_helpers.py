"""Shared pieces of the classroom AppTests (tests/app/test_page_class.py, test_page_teacher.py): a job
manager and a classroom store of the test's own, pages opened as a browser would open them (with its
cookies), and everything a page rendered, for the tests that a secret never shows."""

from __future__ import annotations

import pytest
import streamlit.runtime.state.session_state_proxy
from streamlit.testing.v1 import AppTest

import ui.class_session
import ui.i18n
import ui.layout
from tests.conftest import ROOT
from ui import runs
from ui.classroom import ClassroomStore, reset_shared_store_for_tests
from ui.classroom.backends import sqlite_url

CLASS_PAGE, TEACHER_PAGE, TRAIN_PAGE = "pages/11_Class.py", "pages/12_Teacher.py", "pages/7_Train.py"
# A model that trains 150 steps in about a second (as in test_page_train.py).
TINY = {
    "corpus": "stories-en",
    "n_layers": "1",
    "n_heads": "2",
    "d_model": "32",
    "context_len": "16",
    "batch_size": "8",
    "learning_rate": "0.01",
    "warmup_steps": "10",
    "budget": "steps",
    "max_steps": "150",
}


class Browser:
    """The cookies of one browser: ``open`` starts a new session (a refresh, a new tab) that sends them.
    Cookies the page writes (ui.class_session.write_cookies) are taken over as a browser would."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.cookies: dict[str, str] = {}
        self._monkeypatch = monkeypatch

    def open(self, page: str, lang: str = "en", **query: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.query_params["lang"] = lang
        for key, value in query.items():
            at.query_params[key] = value
        self.use()
        at.switch_page(page).run()
        self.keep(at)
        assert not at.exception, [e.value for e in at.exception]
        return at

    def use(self) -> None:
        """Before a run: this browser's cookies are the ones the session reads."""
        self._monkeypatch.setattr(ui.class_session, "_cookie", self.cookies.get)

    def keep(self, at: AppTest) -> None:
        """After a run: the cookies the page asked the browser to write."""
        for element in at.get("html"):
            for name, value in _cookie_writes(element.proto.body):
                if value:
                    self.cookies[name] = value
                else:
                    self.cookies.pop(name, None)

    def run(self, target) -> AppTest:
        """Run the page (``target``: the AppTest, or a widget of it just set or clicked) in this browser."""
        self.use()
        at = target.run()
        self.keep(at)
        assert not at.exception, [e.value for e in at.exception]
        return at


def _cookie_writes(body: str) -> list[tuple[str, str]]:
    import re

    return re.findall(r"document\.cookie = '(tinylm_[a-z]+)=([^;]*);", body)


@pytest.fixture(name="classroom")
def classroom_fixture(tmp_path, monkeypatch):
    """A job manager (one training slot) and a classroom store (a temporary SQLite file) of the test's own."""
    monkeypatch.setattr(ui.layout, "_model_label", str)
    formatting_language(monkeypatch, "en")
    monkeypatch.setattr(ui.layout, "PAGES", [p for p in ui.layout.PAGES if (ROOT / p[1]).is_file()])
    monkeypatch.setattr(ui.class_session, "_cookie", lambda name: None)
    manager = runs.reset_manager_for_tests(
        tmp_path / "runs", max_jobs=1, max_queue=8, orphan_seconds=60.0, session_alive=lambda session: False
    )
    store = ClassroomStore(sqlite_url(tmp_path / "classroom.sqlite3"))
    reset_shared_store_for_tests(store)
    yield manager, store
    manager.shutdown()
    reset_shared_store_for_tests(None)


def formatting_language(monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    """The language t() uses in the test thread, where AppTest calls the widgets' format_func."""
    monkeypatch.setattr(ui.i18n, "DEFAULT_LANGUAGE", lang)
    monkeypatch.setattr(streamlit.runtime.state.session_state_proxy, "_mock_session_state", None)


def rendered(at: AppTest, cookie_scripts: bool = True) -> str:
    """Everything the page sent to the browser: every element (text, labels, widget values, HTML), and
    the address bar's query string. ``cookie_scripts=False`` leaves out the invisible script that
    writes this browser's cookies (in the teacher's own browser it holds the key, for one run)."""
    parts = [repr(dict(at.query_params))]

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        body = getattr(proto, "body", "") if getattr(node, "type", "") == "html" else ""
        if proto is not None and (cookie_scripts or not body.startswith("<script>document.cookie")):
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def texts(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "success", "warning", "error", "text", "code")
    return "\n".join(str(e.value) for kind in kinds for e in at.get(kind))


def keys_of(at: AppTest) -> set[str]:
    """The keys of every widget on the page."""
    found = set()

    def walk(node) -> None:
        key = getattr(node, "key", None)
        if isinstance(key, str):
            found.add(key)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


def join(browser: Browser, code: str, name: str) -> AppTest:
    """Open the class link and join under ``name``."""
    at = browser.open(CLASS_PAGE, **{"class": code})
    at.text_input(key="class.name").input(name)
    browser.run(at.button(key="class.join").click())
    assert "_class_member" in at.session_state, texts(at)
    return at
