"""The job layer's Streamlit glue: which runs a browser session has, who the student is, and the
sidebar's "your run is training" badge. Everything else in ui/runs is plain Python.

A student is a browser, not a tab: a random id kept in a cookie (set by a line of JavaScript the first
time, read back by every later session through ``st.context.cookies``), so a refresh or a second tab
is the same student — the one who may pause or stop their run, and who has one run at a time. Without
the cookie (the first visit, tests) the id lives in the session only.
"""

from __future__ import annotations

import secrets

import streamlit as st

from ui.runs.records import ACTIVE_STATES, RunView
from ui.runs.store import valid_run_id

SESSION_RUNS_KEY = "_runs"  # st.session_state: this browser session's run ids, newest last
STUDENT_KEY = "_student"  # st.session_state: the student's id (see the module docstring)
STUDENT_COOKIE = "tinylm_student"
COOKIE_SET_KEY = "_student_cookie_set"
MAX_SESSION_RUNS = 20  # a session lists its 20 newest runs
HEARTBEAT_SECONDS = 10.0
QUEUED_REFRESH_SECONDS = 5.0  # a live view's status while its run waits behind others (see live_timers)
TIMERS_KEY = "_live_timers"  # {page: (run id, its timers as drawn, the page's timers)}


def current_session_id() -> str | None:
    """The browser session running this script (None outside Streamlit)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        context = get_script_run_ctx()
        return context.session_id if context is not None else None
    except Exception:
        return None


def student_id() -> str:
    """This browser's student id (the same in every tab, after a refresh; see the module docstring)."""
    student = st.session_state.get(STUDENT_KEY)
    if student is None:
        try:
            cookie = st.context.cookies.get(STUDENT_COOKIE)
        except Exception:  # no browser request behind this session (tests)
            cookie = None
        student = cookie if valid_run_id(cookie) else secrets.token_urlsafe(16)
        st.session_state[STUDENT_KEY] = student
        st.session_state[COOKIE_SET_KEY] = student == cookie
    return student


def remember_browser() -> None:
    """Write the student id into the browser's cookie once per session (it is [A-Za-z0-9_-]{22}:
    nothing in it can break out of the script)."""
    student = student_id()
    if not st.session_state.get(COOKIE_SET_KEY):
        st.session_state[COOKIE_SET_KEY] = True
        st.html(
            f"<script>document.cookie = '{STUDENT_COOKIE}={student}; path=/; max-age=2592000; "
            "SameSite=Strict';</script>",
            unsafe_allow_javascript=True,
        )


def session_runs() -> list[str]:
    return st.session_state.setdefault(SESSION_RUNS_KEY, [])


def remember_run(run_id: str) -> None:
    """Put a run at the end (the newest) of this session's list."""
    runs = session_runs()
    if run_id in runs:
        runs.remove(run_id)
    runs.append(run_id)
    del runs[:-MAX_SESSION_RUNS]


def heartbeat(train_page: str, label: str) -> None:
    """In the sidebar of every page: this session still shows its runs (so a student who reads another
    page for minutes keeps the run, and its model stays off the pruning list), and while one of them
    trains, a small fragment re-touches them every HEARTBEAT_SECONDS and shows "training: step N"
    with a link to the Train page. ``label`` is the translated text, with {step} in it."""
    from ui.runs import manager

    run_ids = session_runs()
    if not run_ids:
        return
    states = manager().touch(run_ids, current_session_id())
    if any(status in ACTIVE_STATES for status, _ in states.values()):
        st.fragment(_training_badge, run_every=HEARTBEAT_SECONDS)(train_page, label)


def _training_badge(train_page: str, label: str) -> None:
    from ui.runs import manager

    states = manager().touch(session_runs(), current_session_id())
    for status, step in states.values():
        if status in ("preparing", "running", "paused"):
            st.page_link(train_page, label=label.format(step=f"{step:,}"), icon=":material/model_training:")


def live_cadence(
    view: RunView | None, status_every: float, charts_every: float
) -> tuple[float | None, float | None]:
    """How often a live view's two fragments (its status; its charts) re-draw a run: every
    ``status_every`` / ``charts_every`` seconds while it trains, prepares or is next in the queue;
    only the status, every QUEUED_REFRESH_SECONDS, while it waits further back (nothing to chart yet,
    and its place changes once per run ahead of it); never once it ended. Why: in a class of 30 most
    runs wait, and their one-second refreshes were most of the server's work while the class trained.
    E.g. with (1.0, 4.0): queued 7th (5.0, None), queued 1st (1.0, None), running (1.0, 4.0), done
    (None, None)."""
    if view is None or not view.active:
        return None, None
    if view.status == "queued":
        next_up = (view.queue_position or 1) <= 1
        return (status_every if next_up else QUEUED_REFRESH_SECONDS), None
    return status_every, charts_every


def live_timers(
    page: str, view: RunView | None, status_every: float, charts_every: float
) -> tuple[float | None, float | None]:
    """For a whole-page run: ``live_cadence``, remembered for ``timers_changed``."""
    timers = live_cadence(view, status_every, charts_every)
    drawn = st.session_state.setdefault(TIMERS_KEY, {})
    drawn[page] = (view.run_id if view is not None else None, timers, (status_every, charts_every))
    return timers


def timers_changed(page: str, view: RunView) -> bool:
    """In a timed fragment run: the run moved up the queue or started, so its fragments need the timers
    of another cadence — which only a whole-page run sets (the caller then calls ``st.rerun()``)."""
    run_id, timers, every = st.session_state.get(TIMERS_KEY, {}).get(page, (None, None, None))
    return view.active and run_id == view.run_id and timers != live_cadence(view, *every)
