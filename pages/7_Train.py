"""7 · Train: train a real tiny GPT-style Transformer live and watch it learn.

The training runs in a background job (ui/jobs.py), not in this script: a Streamlit script is
interrupted by every click, language switch or page change, a worker thread is not. This page
configures a run, starts it, and draws the job's state in two fragments that only read it while it
trains: the status and numbers every second, the charts, samples and attention map every four
seconds (ui/train_view.py, with the comparison of the session's runs). The run's id is in the URL
(``?run=…``), so a refresh or a shared link finds it again.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from tinylm.config import ACTIVATIONS, POSITIONAL_ENCODINGS
from tinylm.corpora import BUILTIN_CORPORA, generate_corpus
from tinylm.data import BUILTIN_CORPUS_CHARS, check_text, decode_text_bytes
from tinylm.errors import TinyLMError
from tinylm.presets import PRESETS
from tinylm.tokenizers import CharTokenizer
from ui import jobs, train_view
from ui.i18n import current_language, t
from ui.layout import page_setup, show_error
from ui.state import set_active_model
from ui.train_view import (  # keys and text helpers the page shares with its live view
    CURRENT_KEY,
    MAX_URL_RUNS,
    REDRAW_KEY,
    SEEN_ACTIVE_KEY,
    corpus_title,
    duration,
    translated,
)

page = page_setup("train")
manager = jobs.manager()

URL_SEEN_KEY = "_train_url_seen"  # the ?run= / ?runs= values already taken from the URL
TEXT_KEY = "_train_text"  # the pasted text (kept out of the URL: it can be long)
IMPORTED_KEY = "_train_imported"  # uploaded checkpoint file id -> run id (or None when refused)
NOTICE_KEY = "_train_notice"  # a message to show once after a button's callback
START_ERROR_KEY = "_train_start_error"  # why the Start button's callback could not start a run
SOURCES = [*BUILTIN_CORPORA, "paste", "upload"]
LEARNING_RATES = [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2, 3e-2, 0.1, 0.3, 1.0]


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
# Small drawing helpers (the text helpers the live view shares are in ui/train_view.py)
# ---------------------------------------------------------------------------------------------


def show_refusal(exc: Exception) -> None:
    if isinstance(exc, jobs.JobError):
        st.error(translated(f"train.error.{exc.code}", **exc.params))
    else:
        show_error(exc)


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
        t("train.corpus"), SOURCES, format_func=corpus_title, key="train.corpus", on_change=on_source_change
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


# -- 4 · the live view (ui/train_view.py: two fragments that re-draw themselves while it trains) -----
if current is not None:
    train_view.live_view(current, page, manager, url_extra)

# -- 5 · comparing this session's runs ----------------------------------------------------------------
views = [v for v in (manager.get(r) for r in session_runs()) if v is not None]
if views:
    train_view.compare_runs(views, current_id, page)


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
