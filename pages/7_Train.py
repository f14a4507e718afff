"""7 · Train: train a real tiny GPT-style Transformer live and watch it learn.

The training runs in a background job (ui/jobs.py), not in this script: a Streamlit script is
interrupted by every click, language switch or page change, a worker thread is not. This page
configures a run, starts it, and draws the job's state in two fragments that only read it while it
trains: the status and numbers every second, the charts, samples and attention map every four
seconds. The run's id is in the URL (``?run=…``), so a refresh or a shared link finds it again.
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from tinylm.config import ACTIVATIONS, POSITIONAL_ENCODINGS
from tinylm.corpora import BUILTIN_CORPORA, corpus_info, generate_corpus
from tinylm.data import BUILTIN_CORPUS_CHARS, check_text, decode_text_bytes
from tinylm.errors import TinyLMError
from tinylm.presets import PRESETS
from tinylm.tokenizers import CharTokenizer
from ui import figures, jobs
from ui.charts import train as train_charts
from ui.i18n import STRINGS, current_language, t
from ui.layout import page_setup, presenter, show_error
from ui.state import MODEL_KEY, set_active_model

page = page_setup("train")
manager = jobs.manager()

REFRESH_SECONDS = 1.0  # the live view's refresh while a run trains
CHART_SECONDS = 4.0  # ... and of its charts, samples and attention map
CURRENT_KEY = "_train_current"  # the run this page shows
URL_SEEN_KEY = "_train_url_seen"  # the ?run= / ?runs= values already taken from the URL
TEXT_KEY = "_train_text"  # the pasted text (kept out of the URL: it can be long)
SEEN_ACTIVE_KEY = "_train_seen_active"  # runs this session watched train (activated when they end)
IMPORTED_KEY = "_train_imported"  # uploaded checkpoint file id -> run id (or None when refused)
NOTICE_KEY = "_train_notice"  # a message to show once after a button's callback
ACTIVATED_KEY = "_train_activated"  # the run whose end made its model the one every page uses
REDRAW_KEY = "_train_redraw"  # set when a run's end changed the model: the whole page must be redrawn
START_ERROR_KEY = "_train_start_error"  # why the Start button's callback could not start a run
SOURCES = [*BUILTIN_CORPORA, "paste", "upload"]
LEARNING_RATES = [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2, 3e-2, 0.1, 0.3, 1.0]
MAX_URL_RUNS = 8


# ---------------------------------------------------------------------------------------------
# Which runs this session has, and which one is shown
# ---------------------------------------------------------------------------------------------


def session_runs() -> list[str]:
    return st.session_state.setdefault(jobs.SESSION_RUNS_KEY, [])


def remember_run(run_id: str) -> None:
    runs = session_runs()
    if run_id in runs:
        runs.remove(run_id)
    runs.append(run_id)
    del runs[:-20]  # a session keeps its 20 newest runs


def adopt_runs_from_url() -> None:
    """A link or a refresh: ``?run=<id>`` shows that run, ``?runs=a,b`` adds runs to compare."""
    seen = st.session_state.setdefault(URL_SEEN_KEY, {})
    for name in ("runs", "run"):
        raw = st.query_params.get(name)
        if not raw or seen.get(name) == raw:
            continue
        seen[name] = raw
        for run_id in raw.split(",")[:MAX_URL_RUNS]:
            if jobs.valid_run_id(run_id) and manager.exists(run_id):
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
# Settings (all in the URL except the pasted text)
# ---------------------------------------------------------------------------------------------

SPEC_SETTINGS: dict[str, dict[str, Any]] = {
    "n_layers": {"low": 1, "high": 12},
    "n_heads": {"low": 1, "high": 16},
    "d_model": {"low": 4, "high": 512},
    "context_len": {"low": 8, "high": 512},
    "dropout": {"low": 0.0, "high": 0.5},
    "pos_encoding": {"options": POSITIONAL_ENCODINGS},
    "activation": {"options": ACTIVATIONS},
    "tie_weights": {},
    "tokenizer": {"options": ("char", "bpe")},
    "bpe_vocab": {"low": 256, "high": 4096},
    "batch_size": {"low": 1, "high": 512},
    "learning_rate": {"options": LEARNING_RATES},
    "warmup_steps": {"low": 0, "high": 5000},
    "budget": {"options": ("time", "steps")},
    "time_budget": {"low": 5.0, "high": jobs.MAX_APP_SECONDS},
    "max_steps": {"low": 10, "high": jobs.MAX_APP_STEPS},
    "sample_every": {"low": 0, "high": jobs.MAX_APP_STEPS},
    "seed": {"low": 0, "high": 1_000_000},
    "sample_prompt": {"max_length": 100},
}


def limits(name: str) -> tuple[Any, Any]:
    """A setting's (low, high), the same for its widget as for the URL check."""
    return SPEC_SETTINGS[name]["low"], SPEC_SETTINGS[name]["high"]


def spec_corpus(source: str) -> str:
    return source if source in BUILTIN_CORPORA else "custom"


def apply_spec(spec: jobs.RunSpec) -> None:
    """Write a spec's values into the page's settings (a preset or corpus was chosen)."""
    page.set("preset", spec.preset)
    for name in SPEC_SETTINGS:
        if name != "sample_prompt":
            page.set(name, getattr(spec, name))


def on_source_change() -> None:
    page.on_change("corpus")
    apply_spec(jobs.recommended_spec(spec_corpus(page.get("corpus"))))
    page.set("sample_prompt", "")


def on_preset_change() -> None:
    page.on_change("preset")
    apply_spec(jobs.recommended_spec(spec_corpus(page.get("corpus")), page.get("preset")))


page.setting("corpus", "stories-zh" if current_language() == "zh" else "stories-en", options=SOURCES)
recommended = jobs.recommended_spec(spec_corpus(page.get("corpus")))
page.setting("preset", recommended.preset, options=list(PRESETS))
starting_point = jobs.recommended_spec(spec_corpus(page.get("corpus")), page.get("preset"))
for setting_name, validation in SPEC_SETTINGS.items():
    page.setting(setting_name, getattr(starting_point, setting_name), **validation)
page.setting("expert", False)
page.setting("log_y", False)
page.setting("compare_x", "step", options=("step", "time"))
page.setting("att_layer", 0, low=0, high=11)
page.setting("att_head", 0, low=0, high=15)
page.setting("snapshot", 0, low=0, high=jobs.MAX_SNAPSHOTS)  # 0 follows the newest snapshot


# ---------------------------------------------------------------------------------------------
# Cached helpers (data previews)
# ---------------------------------------------------------------------------------------------


@st.cache_data(max_entries=len(BUILTIN_CORPORA), show_spinner=False)
def builtin_text(name: str) -> str:
    return generate_corpus(name, n_chars=BUILTIN_CORPUS_CHARS, seed=0)


@st.cache_data(max_entries=16, show_spinner=False)
def summarize(text: str) -> dict[str, Any]:
    return jobs.data_summary(text)


@st.cache_data(max_entries=16, show_spinner=False)
def unknown_prompt_chars(text: str, prompt: str) -> tuple[list[str], int]:
    """Characters of the sample prompt the character tokenizer of this text does not know, and the
    prompt's length in (character) tokens."""
    tokenizer = CharTokenizer.from_text(text)
    return tokenizer.unknown_chars(prompt), len(prompt)


@st.cache_data(max_entries=8, show_spinner=False)
def uploaded_text(file_id: str, data: bytes) -> str:
    return decode_text_bytes(data)


# ---------------------------------------------------------------------------------------------
# Small drawing helpers
# ---------------------------------------------------------------------------------------------


def translated(key: str, **params: Any) -> str:
    """t() for a key built at run time, falling back to the generic error when it does not exist."""
    return t(key, **params) if key in STRINGS[current_language()] else t("error.unexpected")


def message_text(message: dict[str, Any] | None) -> str:
    """A job's message (status explanation or error) in the reader's language."""
    if not message:
        return ""
    kind, code, params = message.get("kind"), str(message.get("code")), message.get("params") or {}
    if kind == "error":
        return translated(f"error.{code}", **params)
    if kind == "job_error":
        return translated(f"train.error.{code}", **params)
    return translated(f"train.msg.{code}", **params)


def show_refusal(exc: Exception) -> None:
    if isinstance(exc, jobs.JobError):
        st.error(translated(f"train.error.{exc.code}", **exc.params))
    else:
        show_error(exc)


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
        return corpus_info(name)[f"title_{current_language()}"]
    return t(f"train.source.{name}")


def status_label(status: str) -> str:
    return translated(f"train.status.{status}")


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------

adopt_runs_from_url()

st.title(t("nav.train"))
st.markdown(t("train.intro"))
st.latex(
    r"\mathcal{L}(\theta) = -\frac{1}{B\,T}\sum_{b=1}^{B}\sum_{t=1}^{T}"
    r"\log p_\theta\!\left(x_{t+1} \mid x_{1}, \dots, x_{t}\right)"
)
st.caption(t("train.formula_note"))

st.session_state.pop(REDRAW_KEY, None)  # this is the whole-page run live_status asked for
notice = st.session_state.pop(NOTICE_KEY, None)
if notice:
    getattr(st, notice[0])(notice[1])

# -- 1 · data and settings ------------------------------------------------------------------------
source = page.get("corpus")
text_for_job: str | None = None  # the student's own text (None: a built-in corpus)
preview: str | None = None  # the text shown and measured before training
upload = None
data_problem: Exception | None = None

with page.controls():
    st.subheader(t("train.data_title"))
    st.selectbox(
        t("train.corpus"), SOURCES, format_func=corpus_title, key="train.corpus", on_change=on_source_change
    )
    if source in BUILTIN_CORPORA:
        st.caption(corpus_info(source)[f"description_{current_language()}"])
        preview = builtin_text(source)
    elif source == "paste":
        st.session_state["train.text_area"] = st.session_state.get(TEXT_KEY, "")
        st.text_area(
            t("train.paste_label"),
            key="train.text_area",
            height=160,
            max_chars=jobs.MAX_PASTED_CHARS,
            placeholder=t("train.paste_placeholder"),
            on_change=lambda: st.session_state.__setitem__(TEXT_KEY, st.session_state["train.text_area"]),
        )
        pasted = st.session_state.get(TEXT_KEY, "")
        if pasted.strip():
            try:
                preview = text_for_job = check_text(pasted)
            except TinyLMError as exc:
                data_problem = exc
        else:
            st.info(t("train.paste_hint"))
    else:
        upload = st.file_uploader(t("train.upload_label"), type=["txt"], key="train.text_upload")
        st.caption(t("train.upload_hint", limit_mb=round(jobs.MAX_UPLOAD_TEXT_BYTES / 1e6)))
        if upload is not None:
            try:
                preview = text_for_job = uploaded_text(upload.file_id, upload.getvalue())
            except TinyLMError as exc:
                data_problem = exc

    st.subheader(t("train.model_title"))
    st.radio(
        t("train.preset"),
        list(PRESETS),
        format_func=lambda name: t(f"train.preset.{name}"),
        horizontal=True,
        key="train.preset",
        on_change=on_preset_change,
    )
    advice_key = f"train.advice.{spec_corpus(source)}"
    st.caption(translated(advice_key))
    st.toggle(t("train.expert"), **page.bind("expert"))
    if page.get("expert"):
        left, middle, right = st.columns(3)
        with left:
            st.markdown(f"**{t('train.shape')}**")
            st.number_input(t("train.n_layers"), *limits("n_layers"), step=1, **page.bind("n_layers"))
            st.number_input(t("train.n_heads"), *limits("n_heads"), step=1, **page.bind("n_heads"))
            st.number_input(t("train.d_model"), *limits("d_model"), step=4, **page.bind("d_model"))
            st.number_input(
                t("train.context_len"), *limits("context_len"), step=8, **page.bind("context_len")
            )
            st.slider(t("train.dropout"), *limits("dropout"), step=0.05, **page.bind("dropout"))
            st.selectbox(
                t("train.pos_encoding"),
                POSITIONAL_ENCODINGS,
                format_func=lambda name: t(f"pos.{name}"),
                **page.bind("pos_encoding"),
            )
            st.selectbox(t("train.activation"), ACTIVATIONS, format_func=str.upper, **page.bind("activation"))
            st.checkbox(t("train.tie_weights"), help=t("train.tie_weights_help"), **page.bind("tie_weights"))
        with middle:
            st.markdown(f"**{t('train.optimiser')}**")
            st.number_input(t("train.batch_size"), *limits("batch_size"), step=1, **page.bind("batch_size"))
            st.select_slider(
                t("train.learning_rate"),
                LEARNING_RATES,
                format_func=lambda v: f"{v:g}",
                **page.bind("learning_rate"),
            )
            st.number_input(
                t("train.warmup_steps"), *limits("warmup_steps"), step=10, **page.bind("warmup_steps")
            )
            st.radio(
                t("train.budget"),
                ("time", "steps"),
                format_func=lambda mode: t(f"train.budget.{mode}"),
                horizontal=True,
                **page.bind("budget"),
            )
            if page.get("budget") == "time":
                st.slider(
                    t("train.time_budget"), *limits("time_budget"), step=5.0, **page.bind("time_budget")
                )
            else:
                st.number_input(t("train.max_steps"), *limits("max_steps"), step=50, **page.bind("max_steps"))
        with right:
            st.markdown(f"**{t('train.text_and_samples')}**")
            st.radio(
                t("train.tokenizer"),
                ("char", "bpe"),
                format_func=lambda kind: t(f"train.tokenizer.{kind}"),
                horizontal=True,
                **page.bind("tokenizer"),
            )
            if page.get("tokenizer") == "bpe":
                st.number_input(t("train.bpe_vocab"), *limits("bpe_vocab"), step=64, **page.bind("bpe_vocab"))
            st.number_input(
                t("train.sample_every"),
                *limits("sample_every"),
                step=10,
                help=t("train.sample_every_help"),
                **page.bind("sample_every"),
            )
            st.text_input(
                t("train.sample_prompt"),
                max_chars=100,
                placeholder=jobs.default_sample_prompt(spec_corpus(source), preview or ""),
                **page.bind("sample_prompt"),
            )
            st.number_input(t("common.seed"), *limits("seed"), step=1, **page.bind("seed"))

spec = jobs.RunSpec(
    corpus=spec_corpus(source),
    text_name=(t("train.source.paste") if source == "paste" else getattr(upload, "name", "")[:60])
    if source in ("paste", "upload")
    else "",
    preset=page.get("preset"),
    **{name: page.get(name) for name in SPEC_SETTINGS},
)

# -- 2 · what the data and the run look like before starting -------------------------------------
st.subheader(t("train.before_title"))
summary = summarize(preview) if preview is not None and data_problem is None else None
if data_problem is not None:
    show_error(data_problem)
if summary is not None:
    cols = st.columns(5)
    cols[0].metric(t("train.chars"), f"{summary['chars']:,}")
    cols[1].metric(t("train.vocab"), f"{summary['vocab']:,}", help=t("train.vocab_help"))
    cols[2].metric(t("train.train_tokens"), f"{summary['train_tokens']:,}")
    cols[3].metric(t("train.val_tokens"), f"{summary['val_tokens']:,}", help=t("train.split_help"))
    cols[4].metric(t("train.unigram"), f"{summary['unigram_entropy']:.2f}", help=t("train.unigram_help"))
    with st.expander(t("train.sample_of_data"), expanded=False):
        st.code(preview[:600], language=None, wrap_lines=True)
    if spec.tokenizer == "bpe":
        st.caption(t("train.bpe_note", vocab=spec.bpe_vocab))
    prompt = spec.sample_prompt or jobs.default_sample_prompt(spec.corpus, preview)
    unknown, prompt_tokens = unknown_prompt_chars(preview, prompt)
    if unknown and spec.tokenizer == "char":
        st.warning(t("common.unknown_chars", chars=" ".join(unknown[:20])))
    if prompt_tokens > spec.context_len:
        st.info(t("common.cropped", n=prompt_tokens, context=spec.context_len))

plan: jobs.Plan | None = None
refusal: Exception | None = None
if summary is not None:
    vocab = summary["vocab"] if spec.tokenizer == "char" else spec.bpe_vocab
    try:
        plan = jobs.make_plan(spec, vocab, text_tokens=summary["chars"] if spec.tokenizer == "char" else None)
    except (TinyLMError, jobs.JobError) as exc:
        refusal = exc
if plan is not None:
    cols = st.columns(4)
    cols[0].metric(t("train.parameters"), f"{plan.parameters:,}")
    cols[1].metric(t("train.memory"), f"{plan.memory_bytes / 1e6:,.0f} MB", help=t("train.memory_help"))
    cols[2].metric(t("train.estimated_time"), duration(plan.seconds), help=t("train.estimate_help"))
    cols[3].metric(
        t("train.steps_label"),
        f"{plan.steps:,}" if spec.budget == "steps" else f"≈ {plan.steps:,}",
        help=t("train.tokens_per_step", tokens=f"{plan.tokens_per_step:,}"),
    )
elif refusal is not None:
    show_refusal(refusal)
    st.caption(t("train.refused"))

# -- 3 · start ------------------------------------------------------------------------------------
current_id: str | None = st.session_state.get(CURRENT_KEY)
current = manager.get(current_id) if current_id else None
if current_id and current is None:
    st.session_state[CURRENT_KEY] = current_id = None
busy = current is not None and current.active


def start_run(spec_: jobs.RunSpec, text: str | None) -> None:
    """Start button callback (runs before the script, so the page is drawn with the new run)."""
    try:
        run_id = manager.submit(spec_, text)
    except (TinyLMError, jobs.JobError) as exc:
        st.session_state[START_ERROR_KEY] = exc
        return
    remember_run(run_id)
    st.session_state[CURRENT_KEY] = run_id
    st.session_state.setdefault(SEEN_ACTIVE_KEY, []).append(run_id)


st.button(
    t("train.start"),
    type="primary",
    disabled=plan is None or busy,
    key="train.start",
    icon=":material/play_arrow:",
    on_click=start_run,
    args=(spec, text_for_job),
)
if START_ERROR_KEY in st.session_state:
    show_refusal(st.session_state.pop(START_ERROR_KEY))
if busy:
    st.caption(t("train.one_at_a_time"))
load = manager.load()
st.caption(t("train.server_load", running=load["running"], slots=load["max_jobs"], queued=load["queued"]))


# -- 4 · the live view ------------------------------------------------------------------------------
def control_buttons(view: jobs.RunView) -> None:
    run_id = view.run_id
    row = st.container(horizontal=True)  # buttons as wide as their labels
    if view.status in ("preparing", "running"):
        row.button(
            t("train.pause"),
            key="train.pause",
            on_click=manager.pause,
            args=(run_id,),
            icon=":material/pause:",
        )
    elif view.status == "paused":
        row.button(
            t("train.resume"),
            key="train.resume",
            on_click=manager.resume,
            args=(run_id,),
            icon=":material/play_arrow:",
        )
    if view.active:
        row.button(
            t("train.stop"),
            key="train.stop",
            on_click=manager.stop,
            args=(run_id,),
            icon=":material/stop:",
            disabled=view.stop_requested,
        )

    def reset() -> None:
        if view.active:
            manager.stop(run_id)
        st.session_state[CURRENT_KEY] = None

    row.button(
        t("train.reset"),
        key="train.reset",
        on_click=reset,
        icon=":material/restart_alt:",
        help=t("train.reset_help"),
    )
    if view.has_model:
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


def status_panel(view: jobs.RunView) -> None:
    st.markdown(f"**{t('train.run')}:** {status_label(view.status)}")
    st.text(view.label)  # may contain a file name: plain text, never markdown
    if view.status == "queued":
        st.info(t("train.queued", position=view.queue_position or 1))
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


def metrics_row(view: jobs.RunView) -> None:
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


def chart_stamp(view: jobs.RunView) -> int:
    """What the charts are cached by: the run's revision once it ended; while it trains, a clock tick
    every CHART_SECONDS, so all viewers of a run share one figure per tick and the browser re-plots a
    chart at most that often (the numbers above still refresh every second)."""
    return view.revision if not view.active else -int(time.monotonic() // CHART_SECONDS)


@st.cache_resource(max_entries=32, show_spinner=False)
def run_charts(run_id: str, stamp: int, lang: str, presenter_mode: bool, log_y: bool) -> dict[str, go.Figure]:
    """The loss, learning-rate and accuracy (tasks) or tokens/s charts of a run (built once per stamp)."""
    view = manager.get(run_id)
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


def charts(view: jobs.RunView) -> None:
    if not view.history["train"] and not view.history["val"]:
        return
    st.toggle(t("train.log_y"), **page.bind("log_y"))
    built = run_charts(view.run_id, chart_stamp(view), current_language(), presenter(), page.get("log_y"))
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


def samples_panel(view: jobs.RunView) -> None:
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


def attention_panel(view: jobs.RunView) -> None:
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


def live_status(run_id: str) -> None:
    """Status, progress, buttons and numbers of the shown run: re-drawn every REFRESH_SECONDS while it
    trains (only this part of the page). Also where the page notices that the run ended."""
    if st.session_state.get(CURRENT_KEY) != run_id:  # Reset was clicked
        st.rerun()
    view = manager.get(run_id)
    if view is None:
        st.warning(t("train.run_not_found"))
        return
    manager.touch([run_id], jobs.current_session_id())
    seen_active = st.session_state.setdefault(SEEN_ACTIVE_KEY, [])
    if view.active and run_id not in seen_active:
        seen_active.append(run_id)
    if view.finished and run_id in seen_active:
        # It ended while this session watched: its model becomes the one every page uses.
        seen_active.remove(run_id)
        if view.has_model:
            set_active_model(f"run:{run_id}")
            st.session_state[ACTIVATED_KEY] = run_id
        st.session_state[REDRAW_KEY] = True
    if st.session_state.get(REDRAW_KEY):
        # The sidebar (the model in use) and the rest of the page are outside this fragment. Asked again on
        # every tick until a whole-page run has started: a rerun asked for from a timed fragment run can
        # be lost when the browser's other timer fires at the same moment (seen in CI).
        st.rerun()
    status_panel(view)
    control_buttons(view)
    if view.kind == "trained" and view.status not in ("queued", "preparing"):
        metrics_row(view)
    page.sync_url(extra=url_extra())


def live_details(run_id: str) -> None:
    """Charts, samples and attention of the shown run: re-drawn every CHART_SECONDS while it trains.
    Slower than the numbers on purpose: the browser re-plotting charts every second would take CPU
    from training on a small server."""
    view = manager.get(run_id)
    if view is None:
        return
    charts(view)
    left, right = st.columns(2) if not presenter() else (st.container(), st.container())
    with left:
        samples_panel(view)
    with right:
        attention_panel(view)
    page.sync_url(extra=url_extra())


if current is not None:
    st.divider()
    st.subheader(t("train.live_title"))
    st.fragment(live_status, run_every=REFRESH_SECONDS if current.active else None)(current.run_id)
    st.fragment(live_details, run_every=CHART_SECONDS if current.active else None)(current.run_id)


# -- 5 · comparing this session's runs ----------------------------------------------------------------
def comparison_rows(views: list[jobs.RunView]) -> tuple[list[str], list[list[Any]]]:
    header = [
        t("train.col.run"),
        t("train.col.status"),
        t("train.corpus"),
        t("train.tokenizer"),
        t("train.n_layers"),
        t("train.n_heads"),
        t("train.d_model"),
        t("train.context_len"),
        t("train.pos_encoding"),
        t("train.dropout"),
        t("train.batch_size"),
        t("train.learning_rate"),
        t("train.parameters"),
        t("train.step"),
        t("train.col.seconds"),
        t("train.col.final_val"),
        t("train.col.best_val"),
        t("train.accuracy"),
        t("train.tokens_per_sec"),
    ]
    rows = []
    for view in views:
        spec_ = view.spec
        val = [v for _, _, v in view.history["val"] if math.isfinite(v)]
        speeds = [s for _, s in view.history["tokens_per_sec"]]
        rows.append(
            [
                view.label,
                status_label(view.status),
                corpus_title(spec_.corpus) if spec_.corpus in BUILTIN_CORPORA else spec_.text_name,
                spec_.tokenizer,
                spec_.n_layers,
                spec_.n_heads,
                spec_.d_model,
                spec_.context_len,
                t(f"pos.{spec_.pos_encoding}"),
                spec_.dropout,
                spec_.batch_size,
                spec_.learning_rate,
                view.parameters,
                view.step,
                round(view.elapsed, 1),
                round(val[-1], 4) if val else None,
                round(min(val), 4) if val else None,
                view.history["accuracy"][-1][1] if view.history["accuracy"] else None,
                round(statistics.median(speeds)) if speeds else None,
            ]
        )
    return header, rows


views = [v for v in (manager.get(r) for r in session_runs()) if v is not None]
if views:
    st.divider()
    st.subheader(t("train.compare_title"))
    st.caption(t("train.compare_caption"))
    by_id = {view.run_id: view for view in views}
    finished_ids = [view.run_id for view in views if view.history["val"]]
    # Each run joins the chart once it has a validation loss; the student may then take it out again.
    selection = st.session_state.setdefault("_train_compare", [])
    offered = st.session_state.setdefault("_train_compare_offered", [])
    for run_id in finished_ids:
        if run_id not in offered:
            offered.append(run_id)
            selection.append(run_id)
    selection[:] = [r for r in selection if r in by_id][-MAX_URL_RUNS:]
    st.session_state["train.compare_select"] = list(selection)
    chosen_ids = st.multiselect(
        t("train.compare_select"),
        list(by_id),
        format_func=lambda run_id: by_id[run_id].label,
        key="train.compare_select",
        on_change=lambda: st.session_state.__setitem__(
            "_train_compare", st.session_state["train.compare_select"]
        ),
    )
    st.radio(
        t("train.compare_x"),
        ("step", "time"),
        format_func=lambda x: t(f"train.compare_x.{x}"),
        horizontal=True,
        **page.bind("compare_x"),
    )
    by_time = page.get("compare_x") == "time"
    series = []
    for run_id in chosen_ids:
        rows = train_charts.thin(by_id[run_id].history["val"])
        series.append(
            (by_id[run_id].label, [r[1] if by_time else r[0] for r in rows], [r[2] for r in rows], "solid")
        )
    if series:
        compare = train_charts.line_figure(
            series,
            t("train.compare_x." + page.get("compare_x")),
            t("train.val_loss"),
            height=380,
            log_y=page.get("log_y"),
        )
        figures.show(compare, key="train.compare_chart", filename="tinylm-compare-runs")
    header, rows = comparison_rows(views)
    st.dataframe([dict(zip(header, row, strict=True)) for row in rows], hide_index=True)
    figures.download_csv(header, rows, filename="tinylm-runs.csv", key="train.runs_csv")
    if len(views) > 1:

        def open_run() -> None:
            st.session_state[CURRENT_KEY] = st.session_state["train.open_run"]

        st.session_state["train.open_run"] = current_id if current_id in by_id else views[-1].run_id
        st.selectbox(
            t("train.open_run"),
            list(by_id),
            format_func=lambda run_id: by_id[run_id].label,
            key="train.open_run",
            on_change=open_run,
        )


# -- 6 · bring back a downloaded model --------------------------------------------------------------
st.divider()
st.subheader(t("train.upload_title"))
st.caption(t("train.upload_checkpoint_hint"))
checkpoint_upload = st.file_uploader(
    t("train.upload_checkpoint"), type=["zip"], key="train.checkpoint_upload"
)
if checkpoint_upload is not None:
    imported = st.session_state.setdefault(IMPORTED_KEY, {})
    file_id = checkpoint_upload.file_id
    if file_id not in imported:
        try:
            imported[file_id] = manager.import_checkpoint(
                checkpoint_upload.getvalue(), checkpoint_upload.name
            )
        except TinyLMError as exc:
            imported[file_id] = exc
        else:
            remember_run(imported[file_id])
            st.session_state[CURRENT_KEY] = imported[file_id]
            set_active_model(f"run:{imported[file_id]}")
            st.session_state[NOTICE_KEY] = ("success", t("train.uploaded"))
            st.rerun()
    if isinstance(imported[file_id], Exception):
        show_error(imported[file_id])

st.divider()
with st.expander(t("common.explanation"), expanded=False):
    st.markdown(t("train.explanation"))

page.sync_url(extra=url_extra())
