"""Classroom mode's views: the teacher's dashboard (every run of the class live, flags, controls, the
loss curves overlaid, the projector view of the best runs, the preset editor) and the class gallery
students see (the class's finished runs side by side).

Cheap on purpose, for a 2-core server that trains while a class watches: the dashboard is a fragment
re-drawn every DASHBOARD_SECONDS that only reads run views (a finished run's row is built once,
ui/class_data.RowCache); its chart is rebuilt once per CHART_SECONDS tick for every viewer; the gallery
is drawn by whole-page runs only, and a small fragment asks for one when a classmate's run finishes.
No torch work here. Names are data: shown with st.text, st.dataframe, st.code, or escaped for Markdown.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from tinylm.corpora import BUILTIN_CORPORA
from tinylm.errors import TinyLMError
from tinylm.plan import RunSpec, make_plan
from tinylm.presets import PRESETS
from ui import class_data, class_session, figures, runs, train_form
from ui.charts import classroom as class_charts
from ui.class_data import RowCache, RunRow
from ui.classroom import Class, Member, shared_store
from ui.i18n import current_language, error_message, t
from ui.layout import Page, presenter, show_error
from ui.runs.session import current_session_id, session_runs
from ui.state import MODEL_KEY, set_active_model
from ui.train_view import corpus_title, duration, status_label
from ui.widgets import markdown_literal

DASHBOARD_SECONDS = 3.0  # the dashboard's refresh
CHART_SECONDS = 6.0  # ... and of its chart while runs train
GALLERY_CHECK_SECONDS = 5.0  # the gallery looks for newly finished runs this often
BEST_SHOWN = 6  # runs in the projector view
GALLERY_CARDS = 24
NOTICE_KEY = "_class_view_notice"  # (level, text) to show once, after a button's callback

ROWS = RowCache()
WATCH = class_data.ProgressWatch()
LOG = logging.getLogger("tinylm.classroom")
CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a cell starting so as a formula


def guarded(callback: Callable[..., None]) -> Callable[..., None]:
    """A button's callback that never shows a traceback: an unexpected failure (the classroom database
    not answering) is logged and told in the reader's language."""

    @functools.wraps(callback)
    def run(*args: Any) -> None:
        try:
            callback(*args)
        except Exception as exc:
            LOG.exception("classroom: %s", callback.__name__)
            st.session_state[NOTICE_KEY] = ("error", error_message(exc))

    return run


def csv_safe(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Rows for a CSV a teacher opens in a spreadsheet: text that would start a formula (a display name
    like "=HYPERLINK(...)") gets a leading apostrophe, so it stays text."""
    return [
        [f"'{cell}" if isinstance(cell, str) and cell.startswith(CSV_FORMULA) else cell for cell in row]
        for row in rows
    ]


def data_table(
    header: list[str], rows: list[list[Any]], filename: str, csv_key: str, key: str | None = None
) -> None:
    """A table and its CSV download (the CSV made safe for spreadsheets)."""
    st.dataframe({name: [row[c] for row in rows] for c, name in enumerate(header)}, hide_index=True, key=key)
    figures.download_csv(header, csv_safe(rows), filename, key=csv_key)


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------


def loss_text(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "–"


def corpus_name(spec: RunSpec) -> str:
    return corpus_title(spec.corpus) if spec.corpus in BUILTIN_CORPORA else t("class.own_text")


def settings_line(spec: RunSpec) -> str:
    budget = duration(spec.time_budget) if spec.budget == "time" else t("class.steps", steps=spec.max_steps)
    return t(
        "class.settings_line",
        corpus=corpus_name(spec),
        layers=spec.n_layers,
        heads=spec.n_heads,
        d_model=spec.d_model,
        context=spec.context_len,
        pos=t(f"pos.{spec.pos_encoding}"),
        budget=budget,
    )


def flag_label(flag: str | None, row: RunRow) -> str:
    if flag is None:
        return ""
    if flag == "waiting" and row.wait_seconds is not None:
        return t("teacher.flag.waiting_for", wait=duration(row.wait_seconds))
    return t(f"teacher.flag.{flag}")


def show_notice() -> None:
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        getattr(st, notice[0])(notice[1])


def class_rows(klass: Class) -> list[RunRow]:
    return ROWS.rows(runs.manager(), shared_store().runs_of_class(klass))


# ---------------------------------------------------------------------------------------------
# Tables and the chart (shared by the dashboard and the gallery)
# ---------------------------------------------------------------------------------------------


def settings_columns(spec: RunSpec) -> list[Any]:
    return [
        corpus_name(spec),
        spec.n_layers,
        spec.n_heads,
        spec.d_model,
        spec.context_len,
        t(f"pos.{spec.pos_encoding}"),
        spec.batch_size,
        spec.learning_rate,
    ]


def settings_header() -> list[str]:
    return [
        t("train.corpus"),
        t("train.n_layers"),
        t("train.n_heads"),
        t("train.d_model"),
        t("train.context_len"),
        t("train.pos_encoding"),
        t("train.batch_size"),
        t("train.learning_rate"),
    ]


@st.cache_resource(max_entries=16, show_spinner=False)
def curves_figure(
    _rows: Sequence[RunRow], stamp: tuple, scope: str, metric: str, by_time: bool, lang: str, big: bool
) -> go.Figure:
    """The runs' loss curves overlaid (built once per stamp, for every viewer of the class). ``_rows``
    is not part of the cache key (the leading underscore): ``scope`` and ``stamp`` name them."""
    series = []
    for row in _rows:
        curve = row.val_curve if metric == "val" else row.train_curve
        if curve:
            series.append((row.member, [r[1] if by_time else r[0] for r in curve], [r[2] for r in curve]))
    return class_charts.class_curves(
        series,
        t("train.compare_x.time") if by_time else t("train.step"),
        t("train.val_loss") if metric == "val" else t("train.train_loss"),
        height=460 if big else 400,
    )


def curves(rows: Sequence[RunRow], scope: str, page: Page, key: str, download: bool = True) -> None:
    """The overlaid curves with their CSV (the PNG is the chart's camera button)."""
    if not any(row.val_curve or row.train_curve for row in rows):
        return
    metric, by_time = page.get("curves"), page.get("curves_x") == "time"
    stamp = class_data.rows_stamp(rows, CHART_SECONDS)
    fig = curves_figure(tuple(rows), stamp, scope, metric, by_time, current_language(), presenter())
    figures.show(fig, key=f"{key}.chart", filename="tinylm-class-curves")
    if not download:
        return
    header = [t("class.col.student"), t("train.step"), t("train.col.seconds"), t("train.loss_axis")]
    table = [
        [row.member, step, round(seconds, 2), round(loss, 4)]
        for row in rows
        for step, seconds, loss in (row.val_curve if metric == "val" else row.train_curve)
    ]
    figures.download_csv(header, csv_safe(table), filename="tinylm-class-curves.csv", key=f"{key}.csv")


def curve_options(page: Page, key: str) -> None:
    cols = st.columns(2)
    metrics = {"val": t("train.val_loss"), "train": t("train.train_loss")}
    cols[0].radio(
        t("class.curves"), list(metrics), format_func=metrics.get, horizontal=True, **page.bind("curves")
    )
    axes = {x: t(f"train.compare_x.{x}") for x in ("step", "time")}
    cols[1].radio(
        t("train.compare_x"), list(axes), format_func=axes.get, horizontal=True, **page.bind("curves_x")
    )


def declare_curve_settings(page: Page) -> None:
    page.setting("curves", "val", options=("val", "train"))
    page.setting("curves_x", "step", options=("step", "time"))


def best_cards(rows: Sequence[RunRow], columns: int = 3) -> None:
    """The best runs side by side: the student's name, the settings, the loss reached, the latest sample."""
    for start in range(0, len(rows), columns):
        for column, row in zip(st.columns(columns), rows[start : start + columns], strict=False):
            with column.container(border=True):
                st.markdown(f"#### {markdown_literal(row.member)}")
                st.caption(settings_line(row.spec))
                st.metric(t("class.final_val"), loss_text(row.val_loss))
                if row.sample:
                    st.code(row.sample, language=None, wrap_lines=True)


# ---------------------------------------------------------------------------------------------
# The teacher's dashboard
# ---------------------------------------------------------------------------------------------


def _control(action: str, run_id: str) -> None:
    """A dashboard button: pause, resume or stop a run, only if it is one of this teacher's class."""
    klass = class_session.teacher_class()
    if klass is None:
        return
    if run_id not in {run.run_id for run in shared_store().runs_of_class(klass)}:
        return  # not a run of this class: the job manager knows nothing of classes, so this check is here
    manager = runs.manager()
    done = {
        "pause": lambda: manager.pause(run_id, force=True),
        "resume": lambda: manager.resume(run_id, force=True),
        "stop": lambda: manager.stop(run_id, reason="user", force=True),
    }[action]()
    if not done:
        st.session_state[NOTICE_KEY] = ("warning", t("teacher.control_refused"))


def run_controls(rows: Sequence[RunRow]) -> None:
    live = [row for row in rows if row.active]
    if not live:
        return
    st.markdown(f"**{t('teacher.controls_title')}**")
    for index, row in enumerate(live):
        line = st.container(horizontal=True, vertical_alignment="center")
        line.text(t("teacher.control_line", name=row.member, status=status_label(row.status), step=row.step))
        if row.status in ("preparing", "running"):
            line.button(
                t("train.pause"),
                key=f"teacher.pause.{index}",
                on_click=guarded(_control),
                args=("pause", row.run_id),
                icon=":material/pause:",
            )
        elif row.status == "paused":
            line.button(
                t("train.resume"),
                key=f"teacher.resume.{index}",
                on_click=guarded(_control),
                args=("resume", row.run_id),
                icon=":material/play_arrow:",
            )
        line.button(
            t("train.stop"),
            key=f"teacher.stop.{index}",
            on_click=guarded(_control),
            args=("stop", row.run_id),
            icon=":material/stop:",
        )


def runs_table(rows: Sequence[RunRow], flags: dict[str, str | None]) -> None:
    header = [
        t("class.col.student"),
        t("train.col.status"),
        t("teacher.col.flag"),
        t("train.step"),
        t("teacher.col.progress"),
        t("train.val_loss"),
        t("train.col.seconds"),
        t("teacher.col.sample"),
        *settings_header(),
    ]
    table = [
        [
            row.member,
            status_label(row.status),
            flag_label(flags.get(row.run_id), row),
            row.step,
            round(100 * row.progress),
            loss_text(row.val_loss),
            round(row.elapsed, 1),
            row.sample[-80:],
            *settings_columns(row.spec),
        ]
        for row in reversed(rows)
    ]
    data_table(header, table, "tinylm-class-runs.csv", csv_key="teacher.runs_csv", key="teacher.runs")


def students_table(members: Sequence[Member], rows: Sequence[RunRow]) -> None:
    by_member: dict[str, list[RunRow]] = {}
    for row in rows:
        by_member.setdefault(row.member, []).append(row)
    header = [t("class.col.student"), t("teacher.col.runs"), t("teacher.col.latest"), t("class.best_val")]
    table = []
    for member in members:
        own = by_member.get(member.display_name, [])
        best = [row.best_val for row in own if row.best_val is not None]
        latest = status_label(own[-1].status) if own else t("teacher.not_started")
        table.append([member.display_name, len(own), latest, loss_text(min(best) if best else None)])
    data_table(header, table, "tinylm-class-students.csv", csv_key="teacher.students_csv")


def attention_list(rows: Sequence[RunRow], flags: dict[str, str | None]) -> None:
    flagged = [(row, flags[row.run_id]) for row in rows if flags.get(row.run_id) in ("diverged", "stuck")]
    for row, flag in flagged:
        text = t(f"teacher.alert.{flag}", name=markdown_literal(row.member), step=row.step)
        (st.error if flag == "diverged" else st.warning)(text)


def dashboard(page: Page, projector: bool) -> None:
    """The class's runs live: a fragment re-drawn every DASHBOARD_SECONDS."""
    st.fragment(_dashboard_live, run_every=DASHBOARD_SECONDS)(page, projector)


def _dashboard_live(page: Page, projector: bool) -> None:
    try:
        _dashboard_body(page, projector)
    except Exception as exc:  # the classroom database did not answer: say so, try again next tick
        LOG.exception("classroom dashboard")
        show_error(exc)


def _dashboard_body(page: Page, projector: bool) -> None:
    klass = class_session.teacher_class()
    if klass is None:
        st.rerun()  # the class ended: the page says so
    manager = runs.manager()
    try:
        members = shared_store().members(klass)
        rows = class_rows(klass)
    except TinyLMError:
        st.rerun()
    flags = {
        row.run_id: class_data.run_flag(row, WATCH.stalled_for(row.run_id, row.step, row.status))
        for row in rows
    }
    # The teacher watches these runs (and this session's own, which the sidebar's heartbeat touches too).
    watched = [row.run_id for row in rows if row.active][-48:]
    manager.touch([*watched, *session_runs()], current_session_id())
    count = st.columns(5)
    count[0].metric(t("teacher.students"), len(members))
    count[1].metric(t("teacher.training"), sum(row.status in ("preparing", "running") for row in rows))
    count[2].metric(t("teacher.waiting"), sum(row.status == "queued" for row in rows))
    count[3].metric(t("teacher.finished"), sum(not row.active for row in rows))
    count[4].metric(t("teacher.flagged"), sum(flag in ("diverged", "stuck") for flag in flags.values()))
    if not projector:
        attention_list(rows, flags)
        run_controls(rows)
    st.subheader(t("teacher.curves_title"))
    curves(rows, f"teacher:{klass.id}", page, "teacher.curves", download=not projector)
    best = class_data.best_runs(rows, BEST_SHOWN)
    if best:
        st.subheader(t("teacher.best_title"))
        best_cards(best)
        if not projector:
            figures.download_csv(
                [t("class.col.student"), t("class.final_val"), t("train.sample"), *settings_header()],
                csv_safe(
                    [[r.member, loss_text(r.val_loss), r.sample, *settings_columns(r.spec)] for r in best]
                ),
                filename="tinylm-class-best.csv",
                key="teacher.best_csv",
            )
    if not projector:
        st.subheader(t("teacher.runs_title"))
        if rows:
            runs_table(rows, flags)
        else:
            st.info(t("teacher.no_runs"))
        st.subheader(t("teacher.students_title"))
        students_table(members, rows)


# ---------------------------------------------------------------------------------------------
# The teacher's preset: the Train page's own form, then pushed to the class
# ---------------------------------------------------------------------------------------------

PRESET_PAGE = "class_preset"  # the editor's settings (a Page that is never written into the URL)


def preset_settings(page: Page) -> dict[str, Any]:
    spec = train_form.form_spec(page, page.get("corpus"), "")
    settings = {name: getattr(spec, name) for name in (*train_form.FORM_SETTINGS, "preset")}
    if not settings.get("sample_prompt"):
        settings.pop("sample_prompt", None)
    if page.get("fixed_corpus"):
        settings["corpus"] = page.get("corpus")
    return class_data.clean_preset(settings)


def _push(page: Page) -> None:
    klass = class_session.teacher_class()
    if klass is None:
        return
    try:
        shared_store().set_preset(klass, preset_settings(page), page.get("label"))
    except TinyLMError as exc:
        st.session_state[NOTICE_KEY] = ("error", error_message(exc))
        return
    st.session_state[NOTICE_KEY] = ("success", t("teacher.preset_pushed"))


def _clear() -> None:
    klass = class_session.teacher_class()
    if klass is not None:
        shared_store().clear_preset(klass)
        st.session_state[NOTICE_KEY] = ("info", t("teacher.preset_cleared"))


def preset_editor(klass: Class) -> None:
    """The settings every student's Train page starts from: the Train page's form (ui/train_form.py),
    checked by the planner, pushed with a label."""
    page = Page(PRESET_PAGE)
    if page.store.get("corpus", "stories-en") not in BUILTIN_CORPORA:
        page.set("corpus", "stories-en")
    train_form.declare_settings(page, "stories-en")
    page.setting("fixed_corpus", False)
    page.setting("label", "", max_length=80)
    current = shared_store().get_preset(klass)
    if current is not None:
        st.info(t("teacher.preset_current", label=markdown_literal(current.label or "–")))
    st.selectbox(
        t("train.corpus"),
        list(BUILTIN_CORPORA),
        format_func=corpus_title,
        key=f"{PRESET_PAGE}.corpus",
        on_change=train_form.on_source_change,
        args=(page,),
    )
    st.checkbox(t("teacher.fixed_corpus"), help=t("teacher.fixed_corpus_help"), **page.bind("fixed_corpus"))
    presets = {name: t(f"train.preset.{name}") for name in PRESETS}
    st.radio(
        t("train.preset"),
        list(presets),
        format_func=presets.get,
        horizontal=True,
        key=f"{PRESET_PAGE}.preset",
        on_change=train_form.on_preset_change,
        args=(page,),
    )
    train_form.expert_settings(page, page.get("corpus"), None)
    st.text_input(
        t("teacher.preset_label"),
        max_chars=80,
        placeholder=t("teacher.preset_label_hint"),
        **page.bind("label"),
    )
    spec = train_form.form_spec(page, page.get("corpus"), "")
    refusal = None
    try:  # a vocabulary of about 100 characters: the students' texts differ, so this is an estimate
        plan = make_plan(spec, spec.bpe_vocab if spec.tokenizer == "bpe" else 100)
        st.caption(t("teacher.preset_plan", params=f"{plan.parameters:,}", time=duration(plan.seconds)))
    except TinyLMError as exc:
        refusal = exc
        show_error(exc)
    row = st.container(horizontal=True)
    row.button(
        t("teacher.push"),
        key="teacher.push",
        type="primary",
        disabled=refusal is not None,
        on_click=guarded(_push),
        args=(page,),
        icon=":material/send:",
    )
    if current is not None:
        row.button(t("teacher.clear_preset"), key="teacher.clear_preset", on_click=guarded(_clear))


# ---------------------------------------------------------------------------------------------
# The class gallery (students)
# ---------------------------------------------------------------------------------------------


def _use_model(run_id: str) -> None:
    if runs.manager().has_model(run_id):
        set_active_model(f"run:{run_id}")
        st.session_state[NOTICE_KEY] = ("success", t("class.model_used"))
    else:
        st.session_state[NOTICE_KEY] = ("warning", t("class.model_gone"))


def gallery_table(shown: Sequence[RunRow]) -> None:
    header = [
        t("class.col.student"),
        t("train.col.status"),
        *settings_header(),
        t("train.step"),
        t("train.col.seconds"),
        t("class.final_val"),
        t("class.best_val"),
    ]
    table = [
        [
            row.member,
            status_label(row.status),
            *settings_columns(row.spec),
            row.step,
            round(row.elapsed, 1),
            loss_text(row.val_loss),
            loss_text(row.best_val),
        ]
        for row in shown
    ]
    data_table(header, table, "tinylm-class-gallery.csv", csv_key="class.gallery_csv", key="class.gallery")


def gallery(klass: Class, page: Page) -> None:
    """The class's finished runs side by side: a table of settings and results, their curves, and a card
    per run with its latest sample and "use this model"."""
    rows = class_rows(klass)
    shown = class_data.gallery(rows)
    st.fragment(_gallery_watch, run_every=GALLERY_CHECK_SECONDS)(klass, tuple(r.run_id for r in shown))
    training = sum(row.active for row in rows)
    if training:
        st.caption(t("class.training_now", n=training))
    if not shown:
        st.info(t("class.gallery_empty"))
        return
    gallery_table(shown)
    curve_options(page, "class.curves")
    curves(shown, f"class:{klass.id}", page, "class.curves")
    st.subheader(t("class.cards_title"))
    in_use = st.session_state.get(MODEL_KEY)
    cards = shown[:GALLERY_CARDS]
    for start in range(0, len(cards), 3):
        for index, (column, row) in enumerate(zip(st.columns(3), cards[start : start + 3], strict=False)):
            with column.container(border=True):
                st.markdown(f"**{markdown_literal(row.member)}** · {status_label(row.status)}")
                st.caption(settings_line(row.spec))
                st.metric(t("class.final_val"), loss_text(row.val_loss))
                if row.sample:
                    st.code(row.sample, language=None, wrap_lines=True)
                used = in_use == f"run:{row.run_id}"
                st.button(
                    t("class.model_in_use") if used else t("class.use_model"),
                    key=f"class.use.{start + index}",
                    disabled=used or not row.model_saved,
                    on_click=guarded(_use_model),
                    args=(row.run_id,),
                    icon=":material/check_circle:",
                )


def _gallery_watch(klass: Class, drawn: tuple[str, ...]) -> None:
    """Every GALLERY_CHECK_SECONDS: when the class's finished runs differ from those drawn, redraw the
    page (asked again on every tick until a whole-page run has drawn them)."""
    try:
        now = tuple(row.run_id for row in class_data.gallery(class_rows(klass)))
    except TinyLMError:  # the class ended
        now = ()
    except Exception:  # the classroom database did not answer: look again next time
        LOG.exception("classroom gallery")
        return
    if now != drawn:
        st.rerun()
