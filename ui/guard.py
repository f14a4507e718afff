"""No traceback on any page: an uncaught exception shows one short sentence in the reader's language.

Two layers (issue #11):

1. ``.streamlit/config.toml`` sets ``client.showErrorDetails = "none"``: whatever Streamlit itself
   still shows for an uncaught exception (one raised in a session's first run before its page has
   called ``page_setup``) is a generic English sentence, without the exception's type, message or
   traceback.
2. ``install()``, which ``ui.layout.page_setup`` calls at the start of every page run, sets
   Streamlit's ``on_script_error`` hook to ``show_unexpected_error``. It is the hook behind
   ``st.App(..., on_script_error=...)`` (Streamlit 1.67), which ``streamlit run`` leaves empty. Streamlit
   calls it for an uncaught exception of the page script, of a fragment or of a widget callback, after
   it has logged the full traceback to the server log; the handler draws ``t("error.page_failed")``
   where the failure happened (the page, or the fragment's container) and returns True, so Streamlit
   draws nothing of its own. Two places hold the hook:
   * ``ScriptRunContext.on_script_error`` (a dataclass field) of this run: read when this run fails;
   * ``AppSession._on_script_error`` (private) of this browser session, found through the public
     ``Runtime.get_app_session``: each later run's context is created from it, so widget callbacks
     (they run before the page script) and later runs are covered from their first line. Without a
     runtime (AppTest) or if a Streamlit upgrade removes it, only the first place is used.

tests/app/test_error_guard.py pins both hook points (it fails loudly if a Streamlit upgrade moves them);
tests/e2e/test_errors.py checks in a browser that neither the traceback, a file path nor the exception's
type reaches the page, for a failure in the page, a fragment and a callback. Since a failing page no
longer shows an exception box, the tests look for this sentence instead: tests/app/conftest.py records
every call of show_unexpected_error and fails the test, tests/e2e/driver.App.exceptions() lists it.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.i18n import t

LOG = logging.getLogger(__name__)
FALLBACK = "出了点问题，请再试一次。 Something went wrong; please try again."
HOOK = "on_script_error"  # ScriptRunContext's field
SESSION_HOOK = "_on_script_error"  # AppSession's attribute, copied into each new run's context


def show_unexpected_error(exc: Exception) -> bool:
    """Streamlit's on_script_error handler: our message instead of Streamlit's exception box.

    Returns True when the message was drawn (Streamlit then shows nothing more); False if even that
    failed, so that Streamlit's own, redacted, box appears rather than nothing.
    """
    try:
        message = t("error.page_failed")
    except Exception:  # the language lookup itself may be what broke
        message = FALLBACK
    try:
        st.error(message, icon="⚠️")
    except Exception:
        LOG.exception("could not show the error message")
        return False
    return True


def hook_available() -> bool:
    """Whether this Streamlit's script-run context still has the hook (a dataclass field)."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext

    return HOOK in {f.name for f in dataclasses.fields(ScriptRunContext)}


def _app_session(session_id: str) -> Any:
    from streamlit.runtime import Runtime

    return Runtime.instance().get_app_session(session_id) if Runtime.exists() else None


def install() -> None:
    """Route uncaught exceptions of this run, and of this session's later runs (their callbacks
    included), to show_unexpected_error. Call first in a page."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:  # not inside a Streamlit script run (e.g. a plain import): nothing to guard
        return
    if not hook_available():
        LOG.error("streamlit has no ScriptRunContext.%s: errors show Streamlit's redacted box", HOOK)
        return
    ctx.on_script_error = show_unexpected_error
    session = _app_session(ctx.session_id)
    if session is not None and hasattr(session, SESSION_HOOK):
        setattr(session, SESSION_HOOK, show_unexpected_error)
