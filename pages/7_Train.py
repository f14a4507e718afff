"""7 · Train: train a real tiny GPT-style Transformer live and watch it learn.

The training runs in a background job (ui/runs), not in this script: a Streamlit script is interrupted
by every click, language switch or page change, a background job is not. This page configures a run
(ui/train_form.py), starts it, and draws the job's state in two fragments that only read it while it
trains: the status and numbers every second, the charts, samples and attention map every four seconds
(ui/train_view.py; the comparison of the session's runs: ui/train_compare.py). The run's id is in the URL
(``?run=…``), so a refresh or a shared link finds it again.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import streamlit as st

from tinylm.checkpoint import MAX_ZIP_BYTES
from tinylm.corpora import BUILTIN_CORPORA, generate_corpus
from tinylm.data import BUILTIN_CORPUS_CHARS, MAX_TEXT_BYTES, check_text, data_summary, decode_text_bytes
from tinylm.errors import TinyLMError
from tinylm.plan import Plan, default_sample_prompt, make_plan
from tinylm.presets import PRESETS
from tinylm.tokenizers import CharTokenizer
from ui import class_session, runs, train_compare, train_form, train_view, widgets
from ui.i18n import current_language, t
from ui.layout import page_setup, show_error
from ui.runs.session import remember_run, session_runs, student_id
from ui.state import set_active_model
from ui.train_view import CURRENT_KEY, REDRAW_KEY, SEEN_ACTIVE_KEY, corpus_title, duration, translated
from ui.widgets import markdown_literal

page = page_setup("train")
manager = runs.manager()
LOG = logging.getLogger("tinylm.pages.train")

TEXT_KEY = "_train_text"  # the pasted text (kept out of the URL: it can be long)
UPLOADED_KEY = "_train_uploaded"  # uploaded text file id -> its text (or the refusal)
IMPORTED_KEY = "_train_imported"  # uploaded checkpoint file id -> run id (or the error when refused)
NOTICE_KEY = "_train_notice"  # a message to show once after a button's callback
START_ERROR_KEY = "_train_start_error"  # why the Start button's callback could not start a run

class_preset = class_session.class_preset()  # in a class: the settings the teacher pushed, if any
class_settings = class_preset.settings if class_preset else {}
train_form.declare_settings(
    page, "stories-zh" if current_language() == "zh" else "stories-en", class_settings
)
preset_applied = train_form.apply_class_preset(page, class_preset)
page.setting("expert", False)
page.setting("log_y", False)
page.setting("compare_x", "step", options=("step", "time"))
page.setting("att_layer", 0, low=0, high=11)
page.setting("att_head", 0, low=0, high=15)
page.setting("snapshot", 0, low=0, high=runs.MAX_SNAPSHOTS)  # 0 follows the newest snapshot


# ---------------------------------------------------------------------------------------------
# Cached helpers (data previews)
# ---------------------------------------------------------------------------------------------


@st.cache_data(max_entries=len(BUILTIN_CORPORA), show_spinner=False)
def builtin_text(name: str) -> str:
    return generate_corpus(name, n_chars=BUILTIN_CORPUS_CHARS, seed=0)


@st.cache_data(max_entries=16, show_spinner=False)
def summarize(text: str) -> dict[str, Any]:
    return data_summary(text)


@st.cache_data(max_entries=16, show_spinner=False)
def unknown_prompt_chars(text: str, prompt: str) -> tuple[list[str], int]:
    """Characters of the sample prompt the character tokenizer of this text does not know, and the
    prompt's length in (character) tokens."""
    return CharTokenizer.from_text(text).unknown_chars(prompt), len(prompt)


def uploaded_text(upload: Any) -> str:
    """The uploaded file's text, decoded once per file (an accepted or a refused file is not read,
    decoded and hashed again on every rerun); raises the refusal (TinyLMError) each time."""
    seen = st.session_state.setdefault(UPLOADED_KEY, {})
    if upload.file_id not in seen:
        seen.clear()  # one file at a time: the last one only
        try:
            seen[upload.file_id] = decode_text_bytes(upload.getvalue())
        except TinyLMError as exc:
            seen[upload.file_id] = exc
    found = seen[upload.file_id]
    if isinstance(found, TinyLMError):
        raise found
    return found


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------

train_view.adopt_runs_from_url(manager)

st.title(t("nav.train"))
st.markdown(t("train.intro"))
st.latex(
    r"\mathcal{L}(\theta) = -\frac{1}{B\,T}\sum_{b=1}^{B}\sum_{t=1}^{T}"
    r"\log p_\theta\!\left(x_{t+1} \mid x_{1}, \dots, x_{t}\right)"
)
st.caption(t("train.formula_note"))

st.session_state.pop(REDRAW_KEY, None)  # this is the whole-page run train_view.live_status asked for
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
        t("train.corpus"),
        train_form.SOURCES,
        format_func=corpus_title,
        key="train.corpus",
        on_change=train_form.on_source_change,
        args=(page, class_settings),
    )
    if source in BUILTIN_CORPORA:
        st.caption(t(f"corpus.{source}.description"))
        preview = builtin_text(source)
    elif source == "paste":
        st.session_state["train.text_area"] = st.session_state.get(TEXT_KEY, "")
        st.text_area(
            t("train.paste_label"),
            key="train.text_area",
            height=160,
            max_chars=runs.MAX_PASTED_CHARS,
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
        upload = st.file_uploader(
            t("train.upload_label"),
            type=["txt"],
            key="train.text_upload",
            max_upload_size=math.ceil(MAX_TEXT_BYTES / 2**20),  # the browser refuses a bigger file
        )
        st.caption(t("train.upload_hint", limit_mb=round(MAX_TEXT_BYTES / 1e6)))
        if upload is not None:
            try:
                preview = text_for_job = uploaded_text(upload)
            except TinyLMError as exc:
                data_problem = exc

    st.subheader(t("train.model_title"))
    presets = {name: t(f"train.preset.{name}") for name in PRESETS}
    st.radio(
        t("train.preset"),
        list(presets),
        format_func=presets.get,
        horizontal=True,
        key="train.preset",
        on_change=train_form.on_preset_change,
        args=(page, class_settings),
    )
    if class_preset is not None:
        label = markdown_literal(class_preset.label or "–")
        (st.success if preset_applied else st.info)(t("class.train_preset", label=label))
    st.caption(translated(f"train.advice.{train_form.spec_corpus(source)}"))
    st.toggle(t("train.expert"), **page.bind("expert"))
    if page.get("expert"):
        train_form.expert_settings(page, source, preview)

text_name = t("train.source.paste") if source == "paste" else getattr(upload, "name", "") if upload else ""
spec = train_form.form_spec(page, source, text_name)

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
    prompt = spec.sample_prompt or default_sample_prompt(spec.corpus, preview)
    unknown, prompt_tokens = unknown_prompt_chars(preview, prompt)
    if spec.tokenizer == "char":
        widgets.warn_unknown_chars(unknown)  # the characters shown literally
    if prompt_tokens > spec.context_len:
        st.info(t("common.cropped", n=prompt_tokens, context=spec.context_len))

plan: Plan | None = None
refusal: Exception | None = None
if summary is not None:
    vocab = summary["vocab"] if spec.tokenizer == "char" else spec.bpe_vocab
    try:
        plan = make_plan(spec, vocab, text_tokens=summary["chars"] if spec.tokenizer == "char" else None)
    except TinyLMError as exc:
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
    show_error(refusal)
    st.caption(t("train.refused"))

# -- 3 · start ------------------------------------------------------------------------------------
current_id: str | None = st.session_state.get(CURRENT_KEY)
current = manager.get(current_id) if current_id else None
if current_id and current is None:
    st.session_state[CURRENT_KEY] = current_id = None
student = student_id()
busy = manager.active_run_of(student) is not None


def start_run(spec_: Any, text: str | None) -> None:
    """Start button callback (runs before the script, so the page is drawn with the new run)."""
    try:
        run_id = manager.submit(spec_, text, owner=student_id())
    except TinyLMError as exc:
        st.session_state[START_ERROR_KEY] = exc
        return
    remember_run(run_id)
    st.session_state[CURRENT_KEY] = run_id
    not_recorded = class_session.record_run(run_id)  # a class member's run joins the class's dashboard
    if not_recorded is not None:
        st.session_state[START_ERROR_KEY] = not_recorded
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
    show_error(st.session_state.pop(START_ERROR_KEY))
if busy:
    st.caption(t("train.one_at_a_time"))
load = manager.server_load()
st.caption(t("train.server_load", running=load["running"], slots=load["max_jobs"], queued=load["queued"]))
if plan is not None and not busy:  # the wait a run started now would have (and a shorter budget)
    train_form.wait_offer(page, manager, spec, class_session.classmates_not_started())


# -- 4 · the live view (ui/train_view.py: two fragments that re-draw themselves while it trains) -----
if current is not None:
    train_view.live_view(current, page, manager, train_view.url_extra)

# -- 5 · comparing this session's runs ----------------------------------------------------------------
views = [v for v in (manager.get(r) for r in session_runs()) if v is not None]
if views:
    train_compare.compare_runs(views, current_id, page)


# -- 6 · bring back a downloaded model --------------------------------------------------------------
st.divider()
st.subheader(t("train.upload_title"))
st.caption(t("train.upload_checkpoint_hint"))
checkpoint_upload = st.file_uploader(
    t("train.upload_checkpoint"),
    type=["zip"],
    key="train.checkpoint_upload",
    max_upload_size=math.ceil(MAX_ZIP_BYTES / 2**20),  # the browser refuses a bigger file
)
if checkpoint_upload is not None:
    imported = st.session_state.setdefault(IMPORTED_KEY, {})
    file_id = checkpoint_upload.file_id
    if file_id not in imported:
        try:
            imported[file_id] = manager.import_checkpoint(
                checkpoint_upload.getvalue(), checkpoint_upload.name, owner=student
            )
        except TinyLMError as exc:
            imported[file_id] = exc
        except Exception:  # a disk or a bug: said once, logged, and not tried again on every rerun
            LOG.exception("importing an uploaded checkpoint failed")
            imported[file_id] = TinyLMError("unexpected", "the upload could not be imported")
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

page.sync_url(extra=train_view.url_extra())
