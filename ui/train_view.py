"""The Train page's live view of the shown run (pages/7_Train.py configures and starts runs, then calls
``live_view``; the comparison of the session's runs is ui/train_compare.py), and the text helpers and
URL run list the page shares with it.

The live view is two fragments that only read the background job's state while it trains: the
status, buttons and numbers every REFRESH_SECONDS, the charts, samples and attention map every
CHART_SECONDS. A fragment re-runs only its own function, so what it needs from the page (the page's
settings, the job manager, the URL's run list) is passed in rather than read from the page's globals:
``page_setup`` runs once, in the page. Importing this module only defines things.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from tinylm.corpora import BUILTIN_CORPORA
from ui import figures
from ui.charts import train as train_charts
from ui.i18n import STRINGS, current_language, t
from ui.layout import Page, presenter
from ui.runs import JobManager, RunView, valid_run_id
from ui.runs.session import (
    current_session_id,
    live_timers,
    remember_run,
    session_runs,
    student_id,
    timers_changed,
)
from ui.state import MODEL_KEY, set_active_model
from ui.text import literal_params

REFRESH_SECONDS = 1.0  # the live view's refresh while a run trains (ui.runs.session.live_cadence)
CHART_SECONDS = 4.0  # ... and of its charts, samples and attention map
CURRENT_KEY = "_train_current"  # the run this page shows
SEEN_ACTIVE_KEY = "_train_seen_active"  # runs this session watched train (activated when they end)
ACTIVATED_KEY = "_train_activated"  # the run whose end made its model the one every page uses
REDRAW_KEY = "_train_redraw"  # set when a run's end changed the model: the whole page must be redrawn
MAX_URL_RUNS = 8  # runs named in the URL, and runs in the comparison chart

UrlExtra = Callable[[], dict[str, Any]]  # the page's run / runs values for page.sync_url(extra=...)


# ---------------------------------------------------------------------------------------------
# Small text helpers (the page uses them too)
# ---------------------------------------------------------------------------------------------


def translated(key: str, **params: Any) -> str:
    """t() for a key built at run time, falling back to the generic error when it does not exist."""
    return t(key, **params) if key in STRINGS[current_language()] else t("error.unexpected")


def message_text(message: dict[str, Any] | None) -> str:
    """A job's message (status explanation or error) in the reader's language, as Markdown."""
    if not message:
        return ""
    kind, code, params = message.get("kind"), str(message.get("code")), message.get("params") or {}
    if kind in ("error", "job_error"):  # "job_error": a run.json written by an older version
        return translated(f"error.{code}", **literal_params(params))  # shown in an alert: values are data
    return translated(f"train.msg.{code}", **literal_params(params))


def duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–"
    if seconds < 10:
        return t("train.seconds", n=f"{max(0.0, seconds):.1f}")
    seconds = round(seconds)
    if seconds < 90:
        return t("train.seconds", n=seconds)
    return t("train.minutes", m=seconds // 60, s=seconds % 60)


def corpus_title(name: str) -> str:
    """A built-in corpus's title in the reader's language, or "pasted text" / "uploaded file"."""
    if name in BUILTIN_CORPORA:
        return t(f"corpus.{name}.title")
    return t(f"train.source.{name}")


def status_label(status: str) -> str:
    return translated(f"train.status.{status}")


# ---------------------------------------------------------------------------------------------
# Which runs this session has, and which one is shown (in the URL: ?run=<shown>&runs=<others>)
# ---------------------------------------------------------------------------------------------

URL_SEEN_KEY = "_train_url_seen"  # the ?run= / ?runs= values already taken from the URL


def adopt_runs_from_url(manager: JobManager) -> None:
    """A link or a refresh: ``?run=<id>`` shows that run, ``?runs=a,b`` adds runs to compare."""
    seen = st.session_state.setdefault(URL_SEEN_KEY, {})
    for name in ("runs", "run"):
        raw = st.query_params.get(name)
        if not raw or seen.get(name) == raw:
            continue
        seen[name] = raw
        for run_id in raw.split(",")[:MAX_URL_RUNS]:
            if valid_run_id(run_id) and manager.exists(run_id):
                remember_run(run_id)
                if name == "run":
                    st.session_state[CURRENT_KEY] = run_id
            elif name == "run":
                st.warning(t("train.run_not_found"))


def url_extra() -> dict[str, Any]:
    current = st.session_state.get(CURRENT_KEY)
    others = [r for r in session_runs() if r != current][-MAX_URL_RUNS:]
    extra = {"run": current, "runs": ",".join(others) or None}
    seen = st.session_state.setdefault(URL_SEEN_KEY, {})
    seen.update(run=current, runs=extra["runs"])  # what we write is not news when read back
    return extra


# ---------------------------------------------------------------------------------------------
# The live view of the shown run
# ---------------------------------------------------------------------------------------------


def control_buttons(view: RunView, manager: JobManager) -> None:
    """Pause / resume / stop / reset for the student who started the run; "use" and "download" for
    everyone, once its checkpoint is on disk."""
    run_id, student = view.run_id, student_id()
    row = st.container(horizontal=True)  # buttons as wide as their labels
    if manager.can_control(run_id, student):
        if view.status in ("preparing", "running"):
            row.button(
                t("train.pause"),
                key="train.pause",
                on_click=manager.pause,
                args=(run_id, student),
                icon=":material/pause:",
            )
        elif view.status == "paused":
            row.button(
                t("train.resume"),
                key="train.resume",
                on_click=manager.resume,
                args=(run_id, student),
                icon=":material/play_arrow:",
            )
        if view.active:
            row.button(
                t("train.stop"),
                key="train.stop",
                on_click=manager.stop,
                args=(run_id, student),
                icon=":material/stop:",
                disabled=view.stop_requested,
            )

        def reset() -> None:
            if view.active:
                manager.stop(run_id, student)
            st.session_state[CURRENT_KEY] = None

        row.button(
            t("train.reset"),
            key="train.reset",
            on_click=reset,
            icon=":material/restart_alt:",
            help=t("train.reset_help"),
        )
    elif view.active:
        st.caption(t("train.not_yours"))
    if view.model_saved:
        in_use = st.session_state.get(MODEL_KEY) == f"run:{run_id}"
        row.button(
            t("train.use_model") if not in_use else t("train.model_in_use"),
            key="train.use_model",
            disabled=in_use,
            on_click=set_active_model,
            args=(f"run:{run_id}",),
            icon=":material/check_circle:",
        )
        if view.finished:
            row.download_button(
                t("train.download"),
                data=lambda: manager.checkpoint_zip(run_id) or b"",
                file_name=f"tinylm-{view.spec.corpus}-{view.step}-steps.zip",
                mime="application/zip",
                key="train.download",
                on_click="ignore",
                icon=":material/download:",
            )


def status_panel(view: RunView) -> None:
    st.markdown(f"**{t('train.run')}:** {status_label(view.status)}")
    st.text(view.label)  # may contain a file name: plain text, never markdown
    if view.status == "queued":
        st.info(t("train.queued", position=view.queue_position or 1))
        if view.wait_seconds is not None:
            st.caption(t("train.queued_wait", wait=duration(view.wait_seconds)))
    elif view.status == "preparing":
        st.info(t("train.preparing"))
    if (
        view.finished
        and st.session_state.get(ACTIVATED_KEY) == view.run_id
        and st.session_state.get(MODEL_KEY) == f"run:{view.run_id}"
    ):
        st.success(t("train.now_active"))  # stays while this run's model is the one in use
    note = message_text(view.message)
    if note:
        level = {"failed": st.error, "error": st.error, "interrupted": st.warning}.get(
            view.status, st.success
        )
        if view.message and view.message.get("code") in ("abandoned", "pause_cap", "time_cap"):
            level = st.warning
        level(note)
    if view.status == "interrupted":
        if view.model_saved:
            saved_step = view.data.get("saved_step", view.step)
            st.caption(t("train.interrupted_with_model", step=f"{saved_step:,}"))
        else:
            st.caption(t("train.interrupted_no_model"))
    if view.stop_requested and view.active:
        st.caption(t("train.stopping"))
    if view.kind == "trained":
        text = t(
            "train.progress",
            step=f"{view.step:,}",
            elapsed=duration(view.elapsed),
            eta=duration(view.eta_seconds) if view.active else "–",
        )
        st.progress(min(1.0, max(0.0, view.progress)), text=text)


def metrics_row(view: RunView) -> None:
    history = view.history
    cols = st.columns(5)
    cols[0].metric(t("train.step"), f"{view.step:,}")
    if history["train"]:
        cols[1].metric(t("train.train_loss"), f"{history['train'][-1][2]:.3f}")
    if history["val"]:
        first = history["val"][0][2]
        last = history["val"][-1][2]
        delta = f"{last - first:+.3f}" if len(history["val"]) > 1 and math.isfinite(last) else None
        cols[2].metric(t("train.val_loss"), f"{last:.3f}", delta=delta, delta_color="inverse")
    if history["tokens_per_sec"]:
        recent = [speed for _, speed in history["tokens_per_sec"][-10:]]
        cols[3].metric(t("train.tokens_per_sec"), f"{statistics.median(recent):,.0f}")
    if history["accuracy"]:
        cols[4].metric(
            t("train.accuracy"), f"{history['accuracy'][-1][1]:.0%}", help=t("train.accuracy_help")
        )
    elif view.parameters:
        cols[4].metric(t("train.parameters"), f"{view.parameters:,}")


def chart_stamp(view: RunView) -> int:
    """What the charts are cached by: the run's revision once it ended; while it trains, a clock tick
    every CHART_SECONDS, so all viewers of a run share one figure per tick and the browser re-plots a
    chart at most that often (the numbers above still refresh every second)."""
    return view.revision if not view.active else -int(time.monotonic() // CHART_SECONDS)


@st.cache_resource(max_entries=32, show_spinner=False)
def run_charts(
    _manager: JobManager, run_id: str, stamp: int, lang: str, presenter_mode: bool, log_y: bool
) -> dict[str, go.Figure]:
    """The loss, learning-rate and accuracy (tasks) or tokens/s charts of a run (built once per stamp).
    ``_manager`` is not part of the cache key (the leading underscore): there is one server-wide manager,
    and the run id names the run."""
    view = _manager.get(run_id)
    if view is None:
        return {}
    history = view.history
    train_rows, val_rows = train_charts.thin(history["train"]), train_charts.thin(history["val"])
    entropy = view.data.get("unigram_entropy")
    charts_ = {
        "loss": train_charts.line_figure(
            [
                (t("train.train_loss"), [r[0] for r in train_rows], [r[2] for r in train_rows], "solid"),
                (t("train.val_loss"), [r[0] for r in val_rows], [r[2] for r in val_rows], "dash"),
            ],
            t("train.step"),
            t("train.loss_axis"),
            height=340,
            log_y=log_y,
            reference=(entropy, t("train.unigram_line")) if entropy else None,
        )
    }
    rows = train_charts.thin(history["learning_rate"])
    charts_["lr"] = train_charts.line_figure(
        [(t("train.lr_axis"), [r[0] for r in rows], [r[1] for r in rows], "solid")],
        t("train.step"),
        t("train.lr_axis"),
        height=240,
    )
    if history["accuracy"]:
        rows = train_charts.thin(history["accuracy"])
        charts_["accuracy"] = train_charts.line_figure(
            [(t("train.accuracy"), [r[0] for r in rows], [r[1] for r in rows], "solid")],
            t("train.step"),
            t("train.accuracy"),
            height=240,
            y_axis={"range": [0, 1.05], "tickformat": ".0%"},
        )
    else:
        rows = train_charts.thin(history["tokens_per_sec"])
        charts_["speed"] = train_charts.line_figure(
            [(t("train.tokens_per_sec"), [r[0] for r in rows], [r[1] for r in rows], "solid")],
            t("train.step"),
            t("train.tokens_per_sec"),
            height=240,
        )
    return charts_


def charts(view: RunView, page: Page, manager: JobManager) -> None:
    if not view.history["train"] and not view.history["val"]:
        return
    st.toggle(t("train.log_y"), **page.bind("log_y"))
    built = run_charts(
        manager, view.run_id, chart_stamp(view), current_language(), presenter(), page.get("log_y")
    )
    if not built:
        return
    figures.show(built["loss"], key="train.loss_chart", filename="tinylm-loss")
    st.caption(t("train.loss_caption"))
    left, right = st.columns(2)
    with left:
        figures.show(built["lr"], key="train.lr_chart", filename="tinylm-learning-rate")
    with right:
        if "accuracy" in built:
            figures.show(built["accuracy"], key="train.accuracy_chart", filename="tinylm-accuracy")
        else:
            figures.show(built["speed"], key="train.speed_chart", filename="tinylm-tokens-per-second")


def samples_panel(view: RunView) -> None:
    if not view.samples:
        return
    st.markdown(f"**{t('train.samples_title')}**")
    st.caption(t("train.samples_caption"))
    st.code(view.data.get("sample_prompt", ""), language=None)  # the student's text: shown as typed
    with st.container(height=320 if not presenter() else 460):
        for step, text in reversed(view.samples):
            st.caption(t("train.sample_at", step=f"{step:,}"))
            st.code(text, language=None, wrap_lines=True)
    figures.download_csv(
        [t("train.step"), t("train.sample")],
        [[step, text] for step, text in view.samples],
        filename="tinylm-samples.csv",
        key="train.samples_csv",
    )


@st.cache_resource(max_entries=32, show_spinner=False)
def attention_figure(
    matrix: np.ndarray,
    tokens: tuple[str, ...],
    step: int,
    layer: int,
    head: int,
    lang: str,
    presenter_mode: bool,
) -> go.Figure:
    """The heatmap of one attention snapshot (built once: snapshots never change once recorded).
    figures.heatmap escapes the labels: the student's text stays text."""
    return figures.heatmap(
        matrix,
        tokens,
        tokens,
        zmin=0.0,
        zmax=1.0,
        height=460,
        y_title=t("train.queries"),
    )


def attention_panel(view: RunView, page: Page) -> None:
    if not view.snapshots or not view.probe_tokens:
        return
    st.markdown(f"**{t('train.attention_title')}**")
    layers, heads = view.snapshots[-1][1].shape[:2]
    cols = st.columns([1, 1, 3])
    layer = min(page.get("att_layer"), layers - 1)
    head = min(page.get("att_head"), heads - 1)
    page.set("att_layer", layer)
    page.set("att_head", head)
    st.session_state["train.att_layer"], st.session_state["train.att_head"] = layer, head
    cols[0].selectbox(
        t("common.layer"), list(range(layers)), format_func=lambda i: str(i + 1), **page.bind("att_layer")
    )
    cols[1].selectbox(
        t("common.head"), list(range(heads)), format_func=lambda i: str(i + 1), **page.bind("att_head")
    )
    count = len(view.snapshots)
    chosen = page.get("snapshot")
    index = chosen - 1 if 1 <= chosen <= count else count - 1
    if count > 1:
        st.session_state["train.snapshot_slider"] = index + 1

        def on_snapshot() -> None:
            value = st.session_state["train.snapshot_slider"]
            page.set("snapshot", 0 if value == count else value)  # the newest follows training

        cols[2].slider(
            t("train.snapshot"),
            1,
            count,
            key="train.snapshot_slider",
            on_change=on_snapshot,
            help=t("train.snapshot_help"),
        )
    step, weights = view.snapshots[index]
    matrix = weights[layer, head].astype(np.float32)
    title = t("train.attention_at", step=f"{step:,}", layer=layer + 1, head=head + 1)
    st.markdown(f"**{title}**")
    fig = attention_figure(
        matrix, tuple(view.probe_tokens), step, layer, head, current_language(), presenter()
    )
    figures.show(fig, key="train.attention_chart", filename="tinylm-attention")
    st.caption(t("train.attention_caption"))
    if not view.active:  # the slide image is drawn by matplotlib only when the button is clicked
        figures.download_matrix_png(
            matrix,
            view.probe_tokens,
            view.probe_tokens,
            title,
            filename=f"tinylm-attention-step{step}-L{layer + 1}H{head + 1}.png",
            key="train.attention_png",
        )


def live_status(run_id: str, page: Page, manager: JobManager, url_extra: UrlExtra) -> None:
    """Status, progress, buttons and numbers of the shown run: re-drawn every REFRESH_SECONDS while it
    trains (only this part of the page). Also where the page notices that the run ended."""
    if st.session_state.get(CURRENT_KEY) != run_id:  # Reset was clicked
        st.rerun()
    view = manager.get(run_id)
    if view is None:
        st.warning(t("train.run_not_found"))
        return
    manager.touch([run_id, *session_runs()], current_session_id())
    seen_active = st.session_state.setdefault(SEEN_ACTIVE_KEY, [])
    if view.active and run_id not in seen_active:
        seen_active.append(run_id)
    if view.finished and run_id in seen_active:
        # It ended while this session watched: its model becomes the one every page uses.
        seen_active.remove(run_id)
        if view.model_saved:
            set_active_model(f"run:{run_id}")
            st.session_state[ACTIVATED_KEY] = run_id
        st.session_state[REDRAW_KEY] = True
    if timers_changed("train", view):  # it moved up the queue or started
        st.session_state[REDRAW_KEY] = True
    if st.session_state.get(REDRAW_KEY):
        # The sidebar (the model in use) and the rest of the page are outside this fragment. Asked again on
        # every tick until a whole-page run has started: once, a CI run showed the page stuck with the old
        # sidebar after a run ended, as if the rerun asked for from a timed fragment run had been lost.
        st.rerun()
    status_panel(view)
    control_buttons(view, manager)
    if view.kind == "trained" and view.status not in ("queued", "preparing"):
        metrics_row(view)
    page.sync_url(extra=url_extra())


def live_details(run_id: str, page: Page, manager: JobManager, url_extra: UrlExtra) -> None:
    """Charts, samples and attention of the shown run: re-drawn every CHART_SECONDS while it trains.
    Slower than the numbers on purpose: the browser re-plotting charts every second would take CPU
    from training on a small server."""
    view = manager.get(run_id)
    if view is None:
        return
    charts(view, page, manager)
    left, right = st.columns(2) if not presenter() else (st.container(), st.container())
    with left:
        samples_panel(view)
    with right:
        attention_panel(view, page)
    page.sync_url(extra=url_extra())


def live_view(current: RunView, page: Page, manager: JobManager, url_extra: UrlExtra) -> None:
    """The shown run: its status and numbers, then its charts, samples and attention map. Each part is a
    fragment that re-draws itself on a timer only while the run trains (an ended run changes no more).
    The fragments get page, manager and url_extra as arguments, not from the page's globals: a timed
    re-run of a fragment calls its function again with the arguments of the whole-page run that drew it."""
    st.divider()
    st.subheader(t("train.live_title"))
    st.page_link("pages/10_What_it_learned.py", label=t("train.go_learned"), icon=":material/psychology:")
    args = (current.run_id, page, manager, url_extra)
    status_every, details_every = live_timers("train", current, REFRESH_SECONDS, CHART_SECONDS)
    st.fragment(live_status, run_every=status_every)(*args)
    st.fragment(live_details, run_every=details_every)(*args)
