"""No traceback on any page (issue #11, section 2): an uncaught exception shows one sentence in the reader's
language (ui/guard.py); what fails before that is set up shows Streamlit's redacted box
(client.showErrorDetails = "none"). Pages are made to fail on purpose: a real page with a library call
patched to raise, the Train page's checkpoint import, and tests/app/failing_page.py (tests only)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest
import streamlit.config
import streamlit.runtime.state.session_state_proxy
import tomllib
from streamlit.testing.v1 import AppTest

import ui.layout
import ui.state
from tests.app.conftest import PAGE_FILES
from tests.checkpoint_craft import base_zip
from tests.conftest import ROOT
from ui import guard, runs
from ui.i18n import t

FAILING_PAGE = ROOT / "tests" / "app" / "failing_page.py"
SECRET = "secret detail from /srv/tinylm/ui/jobs.py"
# Nothing of the exception may reach the page: its message, the traceback, a file path, its type.
FORBIDDEN = ["secret detail", "Traceback", ".py", 'File "', "RuntimeError", "OSError", "Error:", "Errno"]
REDACTED = "This app has encountered an error. The original error message is redacted"


def fail(*args, **kwargs):
    raise RuntimeError(SECRET)


def nodes(node) -> Iterator:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from nodes(child)


def rendered(at: AppTest) -> str:
    """Everything the app sent for the page, as protobuf text (what the browser would receive)."""
    return "\n".join(str(getattr(node, "proto", "")) for node in nodes(at._tree))


def assert_nothing_leaked(at: AppTest) -> None:
    text = rendered(at)
    leaked = [word for word in FORBIDDEN if word in text]
    assert not leaked, f"{leaked} reached the page"


def assert_our_sentence(at: AppTest, lang: str, failures: list[str]) -> None:
    assert not at.exception, "Streamlit's exception box is shown"
    assert [e.value for e in at.error] == [t("error.page_failed", lang)]
    assert_nothing_leaked(at)
    # The guard saw the exception itself (Streamlit logs it with this traceback, server-side only).
    assert len(failures) == 1 and "Traceback" in failures[0] and SECRET in failures[0]


def failing_page(where: str, lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(FAILING_PAGE), default_timeout=30)
    at.query_params["fail"] = where
    at.query_params["lang"] = lang
    return at.run()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_real_page_that_fails_shows_one_sentence_in_the_readers_language(monkeypatch, page_failures, lang):
    page_failures.expected = True
    monkeypatch.setattr(ui.state, "model_summary", fail)  # the home page's line about the model
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    assert_our_sentence(at, lang, page_failures)
    assert at.title[0].value.startswith("TinyLM Lab")  # what came before the failure is still shown


@pytest.mark.parametrize(
    ("where", "shown"), [("page", "before the failure"), ("fragment", "inside the fragment")]
)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_failure_in_the_script_or_a_fragment_is_shown_where_it_happened(page_failures, where, shown, lang):
    page_failures.expected = True
    at = failing_page(where, lang)
    assert_our_sentence(at, lang, page_failures)
    assert shown in [m.value for m in at.markdown]
    assert "the end of the page" not in [m.value for m in at.markdown]


@pytest.fixture
def train_page_jobs(tmp_path, monkeypatch):
    """The Train page with a job manager of its own (see tests/app/test_page_train.py)."""
    monkeypatch.setattr(ui.layout, "_model_label", str)
    monkeypatch.setattr(streamlit.runtime.state.session_state_proxy, "_mock_session_state", None)
    manager = runs.reset_manager_for_tests(
        tmp_path / "runs", max_jobs=1, max_queue=2, orphan_seconds=60.0, session_alive=lambda session: False
    )
    yield manager
    manager.shutdown()


def test_an_import_that_fails_unexpectedly_on_the_train_page_shows_one_sentence_once(
    train_page_jobs, monkeypatch
):
    calls = []

    def disk_full(self, data, filename="", owner=None):
        calls.append(filename)
        raise OSError(28, f"No space left on device: {SECRET}")

    monkeypatch.setattr(runs.JobManager, "import_checkpoint", disk_full)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "zh"
    at.switch_page(PAGE_FILES["train"]).run()
    assert not at.exception
    at.file_uploader(key="train.checkpoint_upload").set_value(
        ("mine.zip", base_zip(), "application/zip")
    ).run()
    for _ in range(2):  # reruns show the same sentence without importing the file again
        assert not at.exception
        assert [e.value for e in at.error] == [t("error.unexpected", "zh")]
        assert_nothing_leaked(at)
        at.run()
    assert calls == ["mine.zip"]


def configured_error_details() -> str:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    return config["client"]["showErrorDetails"]


def test_the_config_hides_error_details():
    assert configured_error_details() == "none"


@pytest.fixture
def error_details_as_configured():
    """client.showErrorDetails as .streamlit/config.toml sets it (AppTest reads that file only when the
    tests run from the repository's root)."""
    previous = streamlit.config.get_option("client.showErrorDetails")
    streamlit.config.set_option("client.showErrorDetails", configured_error_details())
    yield
    streamlit.config.set_option("client.showErrorDetails", previous)


def test_a_failure_before_the_guard_shows_only_streamlits_redacted_box(error_details_as_configured):
    at = failing_page("early")
    assert len(at.exception) == 1 and at.exception[0].value.startswith(REDACTED)
    assert not at.exception[0].stack_trace
    assert_nothing_leaked(at)


def test_a_failing_callback_shows_at_least_streamlits_redacted_box(error_details_as_configured):
    # AppTest has no Streamlit runtime, so only the run's own context holds the guard, and a callback
    # runs in the next run's context before the page installs it. In the server the session's hook
    # covers callbacks too (tests/e2e/test_errors.py).
    at = failing_page("callback")
    assert not at.exception
    at.button(key="fail").click().run()
    assert len(at.exception) == 1 and at.exception[0].value.startswith(REDACTED)
    assert_nothing_leaked(at)


def test_the_streamlit_hook_points_the_guard_relies_on_exist():
    """Fails loudly if a Streamlit upgrade moves them (then ui/guard.py needs a new way in)."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.fragment import _fragment
    from streamlit.runtime.scriptrunner import exec_code

    assert guard.hook_available(), "ScriptRunContext.on_script_error is gone"
    assert "ctx.on_script_error" in inspect.getsource(exec_code.exec_func_with_error_handling)
    assert "ctx.on_script_error" in inspect.getsource(_fragment)
    assert callable(Runtime.get_app_session)
    source = inspect.getsource(AppSession)
    assert f"self.{guard.SESSION_HOOK} = on_script_error" in source
    assert f"on_script_error=self.{guard.SESSION_HOOK}" in source  # handed to each new script runner


def test_install_outside_a_script_run_does_nothing():
    guard.install()  # no ScriptRunContext here: must not raise
