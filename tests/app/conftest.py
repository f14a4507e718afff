"""AppTest fixtures and helpers: run the real app script, then switch to a page, in a chosen language."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tinylm import Checkpoint, read_checkpoint

PAGE_FILES = {
    "home": "app.py",
    "tokens": "pages/1_Tokens.py",
    "positional": "pages/2_Positional_encoding.py",
    "attention": "pages/3_Self_attention.py",
    "block": "pages/4_Inside_a_block.py",
    "explorer": "pages/5_Attention_explorer.py",
    "generate": "pages/6_Generate.py",
    "train": "pages/7_Train.py",
    "finetune": "pages/8_Finetune.py",
    "scaling": "pages/9_Scaling.py",
    "learned": "pages/10_What_it_learned.py",
}


class PageFailures(list):
    """Tracebacks of the uncaught exceptions the pages raised during a test."""

    expected = False  # a test that makes a page fail on purpose sets this and checks the list itself


@pytest.fixture(autouse=True)
def page_failures(monkeypatch) -> PageFailures:
    """The app's error guard (ui/guard.py) shows an uncaught exception as one sentence, not as an exception
    element, so ``at.exception`` stays empty when a page fails: every failure is recorded here instead,
    and fails the test (with its traceback) unless the test set ``page_failures.expected``."""
    import traceback

    from ui import guard

    failures = PageFailures()
    show = guard.show_unexpected_error

    def recording(exc: Exception) -> bool:
        failures.append("".join(traceback.format_exception(exc)))
        return show(exc)

    monkeypatch.setattr(guard, "show_unexpected_error", recording)
    yield failures
    if not failures.expected:
        assert not failures, "a page failed (the error guard showed its sentence):\n" + "\n".join(failures)


def open_page(page: str, lang: str = "en", timeout: float = 60, **query: str) -> AppTest:
    """Start the app on the home page and switch to `page` (query params as if from the URL): opens a
    link such as ``/Tokens?text=Tom&k=5`` with that view."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.query_params["lang"] = lang
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page != "home":
        for key, value in {"lang": lang, **query}.items():  # the home page's sync_url() replaced them
            at.query_params[key] = value
        at.switch_page(PAGE_FILES[page]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def page_opener() -> Callable[..., AppTest]:
    return open_page


def chart(at: AppTest, key: str) -> dict | None:
    """The plotly figure the page drew with widget key `key`, as plotly JSON (None if it drew none)."""
    for element in at.get("plotly_chart"):
        if element.proto.id.endswith(key):
            return json.loads(element.proto.spec)
    return None


def shown_as_code(text: str) -> str:
    """What an ``st.code`` block holds for ``text``: Streamlit drops one leading and one trailing newline of
    the body (streamlit/elements/code.py), so a sample that ends in a blank line shows one newline fewer.

    >>> shown_as_code("upon a time.\\n\\n\\n")
    'upon a time.\\n\\n'
    """
    return re.sub(r"\n\Z", "", re.sub(r"\A\n", "", text))


@cache
def demo(name: str = "stories-zh") -> Checkpoint:
    """A shipped demo checkpoint, read once per test session."""
    checkpoint = read_checkpoint(ROOT / "models" / name)
    checkpoint.model.eval()
    return checkpoint


class FakeJobs:
    """Stands in for ui.runs.manager(): serves one checkpoint as the Train-page run `run_id`."""

    def __init__(self, run_id: str, checkpoint: Checkpoint) -> None:
        self.run_id, self.checkpoint = run_id, checkpoint

    def model_for(self, run_id: str):
        return (self.checkpoint, 1) if run_id == self.run_id else None

    def has_model(self, run_id: str) -> bool:
        return run_id == self.run_id

    def touch(self, run_ids, session_id=None) -> dict:
        return {}  # the run is not training

    def get(self, run_id: str):
        return None  # no run record (the "What did it learn?" page shows the model's own history)

    def active_run_of(self, owner) -> str | None:
        return None


# AppTest calls widgets' format_func in the test thread, after the script run. There t() reads Streamlit's
# bare-mode session state, where the language is Chinese, so the sidebar's model selector (whose labels
# are translated) would not match its English options. Tests of the English interface use one of these.


@pytest.fixture
def language_independent_model_labels(monkeypatch):
    """The model selector labelled by plain keys, in every language."""
    import ui.layout  # imported here: importing the app's modules is left to the tests that use them

    monkeypatch.setattr(ui.layout, "_model_label", str)


@pytest.fixture
def english_formatting():
    """The bare-mode session state's language set to English for the test."""
    import streamlit as st

    import ui.i18n

    previous = st.session_state.get(ui.i18n.LANG_KEY)
    st.session_state[ui.i18n.LANG_KEY] = "en"
    yield
    st.session_state[ui.i18n.LANG_KEY] = previous or ui.i18n.DEFAULT_LANGUAGE
