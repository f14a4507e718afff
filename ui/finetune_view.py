"""The Fine-tuning page's helpers: the base models it offers, starting a fine-tuning run (a job of kind
"finetune", tinylm.finetune_job), its live status and curves (two fragments, like the Train page's),
the comparison of the session's fine-tuning runs, and the tables and downloads. Importing this module
only defines things; pages/8_Finetune.py draws the page.

A fine-tuning run is queued like a training run: ``manager.submit(spec, None, owner, base=files)`` with
the base's checkpoint files. When a run this session watched ends, its (merged) model becomes the one
every page uses, as a finished Train-page run does.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import streamlit as st

from tinylm.checkpoint import Checkpoint, checkpoint_files
from tinylm.errors import TinyLMError
from tinylm.finetune_job import adapter_zip_bytes, lora_settings
from tinylm.lora import TARGETS
from tinylm.plan import RunSpec
from ui import figures
from ui.charts import finetune as charts
from ui.i18n import t
from ui.layout import Page, show_error
from ui.runs import JobManager, RunView, valid_run_id
from ui.runs.session import (
    current_session_id,
    live_timers,
    remember_run,
    session_runs,
    student_id,
    timers_changed,
)
from ui.state import MODEL_KEY, available_demos, resolve, set_active_model
from ui.train_view import duration, message_text, status_label

REFRESH_SECONDS = 1.0
CHART_SECONDS = 3.0
CURRENT_KEY = "_finetune_current"  # the fine-tuning run this page shows
START_ERROR_KEY = "_finetune_start_error"
WATCHED_KEY = "_finetune_watched"  # runs this session saw training (their model is used when they end)
URL_SEEN_KEY = "_finetune_url_seen"
MAX_COMPARED = 8


# ---------------------------------------------------------------------------------------------
# Bases, runs, starting
# ---------------------------------------------------------------------------------------------


def base_choices() -> list[str]:
    """Model keys a fine-tuning run may start from: the demo models, then this session's runs that
    hold a model (trained, uploaded or fine-tuned), the model in use among them."""
    keys = [f"demo:{name}" for name in available_demos()]
    manager_ = _manager()
    keys += [f"run:{r}" for r in session_runs() if manager_.has_model(r)]
    current = st.session_state.get(MODEL_KEY)
    if current and current not in keys and resolve(current) is not None:
        keys.append(current)
    return keys


def _manager() -> JobManager:
    from ui import runs

    return runs.manager()


def base_label(key: str) -> str:
    found = resolve(key)
    return found.label if found is not None else key


def finetune_runs(manager: JobManager) -> list[RunView]:
    """This session's fine-tuning runs, oldest first (at most MAX_COMPARED, the newest)."""
    views = [manager.get(r) for r in session_runs()]
    return [v for v in views if v is not None and v.spec.kind == "finetune"][-MAX_COMPARED:]


def start(spec: RunSpec, manager: JobManager) -> None:
    """The Start button's callback: the base's checkpoint files go with the run."""
    base = resolve(spec.base_model)
    if base is None:
        st.session_state[START_ERROR_KEY] = TinyLMError("finetune_no_base", "the base model is gone")
        return
    files = checkpoint_files(base.model, base.tokenizer, {}, base.meta)
    try:
        run_id = manager.submit(spec, None, owner=student_id(), base=files)
    except TinyLMError as exc:
        st.session_state[START_ERROR_KEY] = exc
        return
    remember_run(run_id)
    st.session_state[CURRENT_KEY] = run_id
    st.session_state.setdefault(WATCHED_KEY, []).append(run_id)


def start_errors() -> None:
    if START_ERROR_KEY in st.session_state:
        show_error(st.session_state.pop(START_ERROR_KEY))


def shown_run(manager: JobManager) -> RunView | None:
    run_id = st.session_state.get(CURRENT_KEY)
    view = manager.get(run_id) if run_id else None
    if run_id and (view is None or view.spec.kind != "finetune"):
        st.session_state[CURRENT_KEY] = view = None
    return view


def adopt_from_url(manager: JobManager) -> None:
    """A link or a refresh: ``?ft=<run id>`` shows that fine-tuning run (once per value)."""
    raw = st.query_params.get("ft")
    if raw and st.session_state.get(URL_SEEN_KEY) != raw:
        st.session_state[URL_SEEN_KEY] = raw
        if valid_run_id(raw) and manager.exists(raw):
            remember_run(raw)
            st.session_state[CURRENT_KEY] = raw


def url_extra() -> dict[str, Any]:
    current = st.session_state.get(CURRENT_KEY)
    st.session_state[URL_SEEN_KEY] = current
    return {"ft": current}


def targets_choice(page: Page, labels: dict[str, str]) -> str:
    """A multiselect of LoRA targets kept in the URL setting ``targets`` as "q,k,v"; nothing valid left
    means all of them. Returns the chosen targets, comma-separated, in the canonical order."""
    page.setting("targets", ",".join(TARGETS), max_length=40)
    picked = [name for name in TARGETS if name in str(page.get("targets")).split(",")] or list(TARGETS)
    page.set("targets", ",".join(picked))
    key = "finetune.targets_pick"
    st.session_state[key] = picked

    def store() -> None:
        page.set("targets", ",".join(n for n in TARGETS if n in st.session_state[key]) or ",".join(TARGETS))

    st.multiselect(t("finetune.targets"), list(TARGETS), format_func=labels.get, key=key, on_change=store)
    return page.get("targets")


# ---------------------------------------------------------------------------------------------
# Numbers shown
# ---------------------------------------------------------------------------------------------


def share_text(share: float | None) -> str:
    """A share of the parameters as "0.8 %" (two significant digits below 1 %)."""
    if share is None or not math.isfinite(share):
        return "–"
    percent = 100 * share
    return f"{percent:.2g} %" if percent < 1 else f"{percent:.1f} %"


def seconds_per_step(view: RunView) -> float | None:
    """Median over the last log intervals: batch × context tokens / tokens per second."""
    speeds = [speed for _, speed in view.history["tokens_per_sec"][-20:] if speed]
    if not speeds:
        return None
    return view.spec.batch_size * view.spec.context_len / statistics.median(speeds)


def result_of(view: RunView) -> dict[str, Any]:
    """The run's result point (after it ended), else what is known while it trains."""
    if view.points:
        return view.points[-1]
    accuracy = view.history["accuracy"]
    return {
        "metric": accuracy[-1][1] if accuracy else None,
        "seconds_per_step": seconds_per_step(view),
        "trainable": view.data.get("trainable"),
        "trainable_share": view.data.get("trainable_share"),
        "forgetting_before": view.data.get("forgetting_before"),
        "forgetting_after": None,
    }


def mode_name(spec: RunSpec) -> str:
    if spec.finetune_mode == "lora":
        return t("finetune.mode_lora_rank", rank=spec.lora_rank, targets=spec.lora_targets)
    return t(f"finetune.mode.{spec.finetune_mode}")


def _number(value: Any, digits: str = ".3f") -> str:
    return format(value, digits) if isinstance(value, (int, float)) and math.isfinite(value) else "–"


def compare_table(views: list[RunView]) -> tuple[list[str], list[list[Any]]]:
    header = [
        t("finetune.col_run"),
        t("finetune.col_task"),
        t("finetune.col_mode"),
        t("finetune.col_status"),
        t("finetune.col_steps"),
        t("finetune.col_metric"),
        t("finetune.col_time"),
        t("finetune.col_s_step"),
        t("finetune.col_trainable"),
        t("finetune.col_share"),
        t("finetune.col_forget_before"),
        t("finetune.col_forget_after"),
    ]
    rows = []
    for view in views:
        result = result_of(view)
        rows.append(
            [
                view.label,
                view.spec.finetune_task,
                mode_name(view.spec),
                status_label(view.status),
                view.step,
                _number(result.get("metric"), ".0%"),
                duration(view.elapsed),
                _number(result.get("seconds_per_step")),
                f"{result['trainable']:,}" if isinstance(result.get("trainable"), int) else "–",
                share_text(result.get("trainable_share")),
                _number(result.get("forgetting_before")),
                _number(result.get("forgetting_after")),
            ]
        )
    return header, rows


# ---------------------------------------------------------------------------------------------
# The live view (two fragments while the run trains)
# ---------------------------------------------------------------------------------------------


def _buttons(view: RunView, manager: JobManager) -> None:
    run_id, student = view.run_id, student_id()
    row = st.container(horizontal=True)
    if manager.can_control(run_id, student) and view.active:
        if view.status == "paused":
            row.button(
                t("train.resume"), key="finetune.resume", on_click=manager.resume, args=(run_id, student)
            )
        else:
            row.button(t("train.pause"), key="finetune.pause", on_click=manager.pause, args=(run_id, student))
        row.button(
            t("train.stop"),
            key="finetune.stop",
            on_click=manager.stop,
            args=(run_id, student),
            disabled=view.stop_requested,
        )
    elif view.active:
        st.caption(t("train.not_yours"))
    if view.model_saved:
        in_use = st.session_state.get(MODEL_KEY) == f"run:{run_id}"
        row.button(
            t("finetune.use_model") if not in_use else t("train.model_in_use"),
            key="finetune.use_model",
            disabled=in_use,
            on_click=set_active_model,
            args=(f"run:{run_id}",),
            icon=":material/check_circle:",
        )


def metrics_row(view: RunView) -> None:
    result = result_of(view)
    cols = st.columns(5)
    metric = result.get("metric")
    cols[0].metric(
        t(f"finetune.metric.{view.data.get('metric_name', 'exact_match')}"),
        f"{metric:.0%}" if isinstance(metric, float) else "–",
        help=t("finetune.metric_help"),
    )
    train = view.history["train"]
    cols[1].metric(t("train.train_loss"), f"{train[-1][2]:.3f}" if train else "–")
    trainable = result.get("trainable")
    cols[2].metric(
        t("finetune.trainable"),
        f"{trainable:,}" if isinstance(trainable, int) else "–",
        delta=share_text(result.get("trainable_share")),
        delta_color="off",
        delta_arrow="off",
        help=t("finetune.trainable_help", total=f"{view.data.get('total', 0):,}"),
    )
    cols[3].metric(t("finetune.s_per_step"), _number(result.get("seconds_per_step")))
    before, after = result.get("forgetting_before"), result.get("forgetting_after")
    cols[4].metric(
        t("finetune.forgetting"),
        _number(after),
        delta=t("finetune.forgetting_before", before=_number(before)),
        delta_color="off",
        delta_arrow="off",
        help=t("finetune.forgetting_help", corpus=view.data.get("forgetting_corpus") or "–"),
    )


def live_status(run_id: str, page: Page, manager: JobManager) -> None:
    view = manager.get(run_id)
    if view is None:
        st.warning(t("train.run_not_found"))
        return
    manager.touch([run_id, *session_runs()], current_session_id())
    watched = st.session_state.setdefault(WATCHED_KEY, [])
    if view.active and run_id not in watched:
        watched.append(run_id)
    elif view.finished and run_id in watched:  # it ended while watched: its model is used everywhere
        watched.remove(run_id)
        if view.model_saved:
            set_active_model(f"run:{run_id}")
        st.rerun()
    if timers_changed("finetune", view):  # it moved up the queue or started: the page sets new timers
        st.rerun()
    st.markdown(f"**{t('finetune.run')}:** {status_label(view.status)}")
    st.text(view.label)
    if view.status == "queued":
        st.info(t("train.queued", position=view.queue_position or 1))
    elif view.status == "preparing":
        st.info(t("finetune.preparing"))
    note = message_text(view.message)
    if note:
        (st.error if view.status in ("failed", "error") else st.success)(note)
    if view.status not in ("queued", "preparing", "error"):
        text = t("finetune.progress", step=f"{view.step:,}", total=f"{view.spec.max_steps:,}")
        st.progress(min(1.0, max(0.0, view.progress)), text=f"{text} · {duration(view.elapsed)}")
        metrics_row(view)
    _buttons(view, manager)
    page.sync_url(extra=url_extra())


def live_charts(run_id: str, page: Page, manager: JobManager) -> None:
    view = manager.get(run_id)
    if view is None or not view.history["train"]:
        return
    left, right = st.columns(2)
    with left:
        accuracy = view.history["accuracy"]
        figure = charts.curves(
            [(t("finetune.metric_curve"), [r[0] for r in accuracy], [r[1] for r in accuracy], "solid")],
            t("train.step"),
            t(f"finetune.metric.{view.data.get('metric_name', 'exact_match')}"),
            t("finetune.chart_metric"),
            percent=True,
        )
        figures.show(figure, key="finetune.chart_metric", filename="finetune-metric")
    with right:
        train, val = view.history["train"], view.history["val"]
        figure = charts.curves(
            [
                (t("train.train_loss"), [r[0] for r in train], [r[2] for r in train], "solid"),
                (t("train.val_loss"), [r[0] for r in val], [r[2] for r in val], "dash"),
            ],
            t("train.step"),
            t("finetune.loss_axis"),
            t("finetune.chart_loss"),
        )
        figures.show(figure, key="finetune.chart_loss", filename="finetune-loss")
    page.sync_url(extra=url_extra())


def live_view(view: RunView, page: Page, manager: JobManager) -> None:
    st.subheader(t("finetune.live_title"))
    args = (view.run_id, page, manager)
    status_every, charts_every = live_timers("finetune", view, REFRESH_SECONDS, CHART_SECONDS)
    st.fragment(live_status, run_every=status_every)(*args)
    st.fragment(live_charts, run_every=charts_every)(*args)


# ---------------------------------------------------------------------------------------------
# Downloads
# ---------------------------------------------------------------------------------------------


def downloads(view: RunView, manager: JobManager) -> None:
    """The merged model (every mode) and, for LoRA, the adapter alone (needs the base, to recover A, B)."""
    if not (view.finished and view.model_saved):
        return
    row = st.container(horizontal=True)
    row.download_button(
        t("finetune.download_model"),
        data=lambda: manager.checkpoint_zip(view.run_id) or b"",
        file_name=f"tinylm-{view.spec.finetune_task}-{view.spec.finetune_mode}.zip",
        mime="application/zip",
        key="finetune.download_model",
        on_click="ignore",
        icon=":material/download:",
    )
    if view.spec.finetune_mode != "lora":
        return
    base = resolve(view.spec.base_model)
    if base is None:
        st.caption(t("finetune.adapter_needs_base"))
        return

    def adapter() -> bytes:
        found = manager.model_for(view.run_id)
        if found is None:
            return b""
        tuned = found[0]
        base_checkpoint = Checkpoint(base.model, base.tokenizer, base.history, base.meta)
        return adapter_zip_bytes(base_checkpoint, tuned, lora_settings(view.spec), view.spec.finetune_task)

    row.download_button(
        t("finetune.download_adapter"),
        data=adapter,
        file_name=f"tinylm-adapter-{view.spec.finetune_task}-r{view.spec.lora_rank}.zip",
        mime="application/zip",
        key="finetune.download_adapter",
        on_click="ignore",
        icon=":material/download:",
    )
