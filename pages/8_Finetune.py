"""8 · Fine-tuning: teach a pre-trained model a new task — full fine-tuning, LoRA, a linear probe, or
training from scratch on the same small data — live, and see why LoRA works.

A fine-tuning run is a job of the job layer (kind "finetune", tinylm.finetune_job.FinetuneJob): queued and
followed like a training run (ui/finetune_view.py: two fragments while it trains). Its published model is
plain (LoRA merged), so when it ends it becomes the model every page uses. The run's id is in the URL
(``?ft=…``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from tinylm.config import estimate_training_memory_bytes
from tinylm.errors import TinyLMError
from tinylm.finetune import MODES, RECOMMENDED_FINETUNE
from tinylm.finetune_data import greedy_continuations
from tinylm.finetune_job import finetune_spec, top_share, weight_change_spectrum
from tinylm.finetune_tasks import FINETUNE_TASKS, check_task_fits, finetune_examples
from tinylm.lora import TARGETS
from tinylm.plan import estimate_seconds_per_step
from ui import figures, finetune_view, runs, widgets
from ui.charts import finetune as charts
from ui.i18n import current_language, error_message, t
from ui.layout import page_setup, presenter
from ui.runs.session import student_id
from ui.state import model_by_cache_key, resolve
from ui.train_view import duration
from ui.widgets import markdown_literal

RANKS = (1, 2, 4, 8, 16, 32)
# the slider's step counts, every task's recommended steps among them (whatever they are retuned to)
RECOMMENDED_STEPS = {advice["max_steps"] for advice in RECOMMENDED_FINETUNE.values()}
STEPS = tuple(sorted({10, 20, 50, 100, 150, 200, 300, 400} | RECOMMENDED_STEPS))
PARTS = ("q", "k", "v", "o", "fc1", "fc2")
N_EXAMPLES = 20  # held-out prompts offered for the before / after comparison

page = page_setup("finetune")
manager = runs.manager()
finetune_view.adopt_from_url(manager)
bases = finetune_view.base_choices()
preferred = "demo:stories-zh" if current_language() == "zh" else "demo:stories-en"
page.setting("base", preferred if preferred in bases else bases[0] if bases else "", options=bases or None)
page.setting("mode", "lora", options=MODES)
page.setting("rank", 8, options=RANKS)
page.setting("steps", 150, options=STEPS)
page.setting("sv_part", "q", options=PARTS)


@st.cache_data(max_entries=32, show_spinner=False)
def task_fits(cache_key: str) -> dict[str, tuple[str, str, dict[str, Any]] | None]:
    """For every built-in task: None if the base can be fine-tuned on it, else its refusal (code,
    message, params: unknown characters, or too short a context)."""
    found = model_by_cache_key(cache_key)
    reasons: dict[str, tuple[str, str, dict[str, Any]] | None] = {}
    for task in FINETUNE_TASKS:
        try:
            check_task_fits(task, found.tokenizer, found.model.config.context_len)
            reasons[task] = None
        except TinyLMError as exc:
            reasons[task] = (exc.code, exc.message, exc.params)
    return reasons


@st.cache_data(max_entries=64, show_spinner=False)
def answers(cache_keys: tuple[str, ...], prompt: str, max_new: int) -> list[str]:
    """Each model's greedy continuation of the prompt, up to its first newline."""
    texts = []
    for key in cache_keys:
        found = model_by_cache_key(key)
        text = greedy_continuations(found.model, found.tokenizer, [prompt], [max_new])[0]
        texts.append(text.split("\n", 1)[0])
    return texts


@st.cache_data(max_entries=32, show_spinner=False)
def spectra(base_key: str, tuned_keys: tuple[str, ...], layer: int, part: str) -> list[np.ndarray]:
    base = model_by_cache_key(base_key).model
    return [weight_change_spectrum(base, model_by_cache_key(k).model, layer, part) for k in tuned_keys]


st.title(t("nav.finetune"))
st.markdown(t("finetune.intro"))
st.latex(
    r"W' = W + \frac{\alpha}{r}\,B\,A \qquad "
    r"B \in \mathbb{R}^{d_{out}\times r},\ A \in \mathbb{R}^{r\times d_{in}}"
)
st.caption(t("finetune.formula_note"))
if not bases:
    st.warning(t("model.none"))
    page.sync_url(extra=finetune_view.url_extra())
    st.stop()

# -- 1 · base, task, mode ------------------------------------------------------------------------
base = resolve(page.get("base"))
if base is None:  # a run that was pruned meanwhile
    page.set("base", bases[0])
    base = resolve(bases[0])
fits = task_fits(base.cache_key)
fitting = [task for task, reason in fits.items() if reason is None]
page.setting("task", fitting[0] if fitting else FINETUNE_TASKS[0], options=fitting or FINETUNE_TASKS)
labels = {key: finetune_view.base_label(key) for key in bases}
task_titles = {task: t(f"finetune.task.{task}") for task in FINETUNE_TASKS}
mode_titles = {mode: t(f"finetune.mode.{mode}") for mode in MODES}
target_titles = {name: t(f"finetune.target.{name}") for name in TARGETS}
with page.controls():
    st.subheader(t("finetune.setup_title"))
    left, right = st.columns(2)
    left.selectbox(t("finetune.base"), bases, format_func=labels.get, **page.bind("base"))
    if fitting:
        right.selectbox(t("finetune.task"), fitting, format_func=task_titles.get, **page.bind("task"))
    unfit = {task: reason for task, reason in fits.items() if reason is not None}
    if unfit:
        with st.expander(t("finetune.unfit_title", n=len(unfit)), expanded=not fitting):
            st.markdown(t("finetune.unfit_intro"))
            for task, (code, message, params) in unfit.items():
                reason = error_message(TinyLMError(code, message, **params))
                st.markdown(f"- **{task_titles[task]}**: {reason}")
    st.radio(
        t("finetune.mode"), list(MODES), format_func=mode_titles.get, horizontal=True, **page.bind("mode")
    )
    st.caption(t(f"finetune.mode_help.{page.get('mode')}"))
    if page.get("mode") == "lora":
        left, right = st.columns([1, 2])
        left.select_slider(t("finetune.rank"), RANKS, **page.bind("rank"))
        with right:
            targets = finetune_view.targets_choice(page, target_titles)
    else:
        targets = ",".join(TARGETS)
    st.select_slider(t("finetune.steps"), STEPS, **page.bind("steps"))
if not fitting:
    st.info(t("finetune.no_task"))
    page.sync_url(extra=finetune_view.url_extra())
    st.stop()

task = page.get("task")
st.caption(t(f"finetune.task_help.{task}"))
st.code(finetune_examples(task, 1)[0].line.rstrip("\n"), language=None, wrap_lines=True)
spec = finetune_spec(
    base.model.config,
    base.meta,
    base.key,
    task,
    page.get("mode"),
    rank=page.get("rank"),
    targets=targets,
    steps=page.get("steps"),
)
cols = st.columns(4)
cols[0].metric(t("finetune.base_parameters"), f"{base.model.num_parameters():,}")
cols[1].metric(
    t("train.memory"), f"{estimate_training_memory_bytes(base.model.config, spec.batch_size) / 1e6:,.0f} MB"
)
per_step = estimate_seconds_per_step(base.model.config, spec.batch_size)
cols[2].metric(
    t("finetune.estimated_steps"), duration(per_step * spec.max_steps), help=t("finetune.estimate_help")
)
cols[3].metric(
    t("finetune.recommended"),
    f"{RECOMMENDED_FINETUNE[task]['max_steps']}",
    help=t("finetune.recommended_help"),
)

busy = manager.active_run_of(student_id()) is not None
st.button(
    t("finetune.start"),
    type="primary",
    disabled=busy,
    key="finetune.start",
    icon=":material/play_arrow:",
    on_click=finetune_view.start,
    args=(spec, manager),
)
finetune_view.start_errors()
if busy:
    st.caption(t("train.one_at_a_time"))

# -- 2 · the run, live --------------------------------------------------------------------------
current = finetune_view.shown_run(manager)
if current is not None:
    st.divider()
    finetune_view.live_view(current, page, manager)
    finetune_view.downloads(current, manager)

# -- 3 · before / after ---------------------------------------------------------------------------
tuned = resolve(f"run:{current.run_id}") if current is not None and current.has_model else None
run_base = resolve(current.spec.base_model) if current is not None else None
if tuned is not None and run_base is not None:
    st.divider()
    st.subheader(t("finetune.before_after_title"))
    examples = finetune_examples(current.spec.finetune_task, N_EXAMPLES)
    widgets.ranged(page, st.slider, "example", t("finetune.example"), 0, N_EXAMPLES - 1, 0)
    example = examples[page.get("example")]
    st.markdown(f"**{t('finetune.prompt')}:** {markdown_literal(example.prompt)}")
    max_new = len(run_base.tokenizer.encode(example.answer)) + 4
    before, after = answers((run_base.cache_key, tuned.cache_key), example.prompt, max_new)
    box = st.container(key="finetune.before_after")
    left, right = box.columns(2) if not presenter() else (box.container(), box.container())
    left.markdown(f"**{t('finetune.before')}** ({markdown_literal(run_base.label)})")
    left.code(before or "∅", language=None, wrap_lines=True)
    right.markdown(f"**{t('finetune.after')}** ({markdown_literal(current.label)})")
    right.code(after or "∅", language=None, wrap_lines=True)
    verdict = "finetune.right" if after == example.answer else "finetune.wrong"
    st.caption(t(verdict, answer=markdown_literal(example.answer)))

# -- 4 · compare modes ----------------------------------------------------------------------------
views = finetune_view.finetune_runs(manager)
if views:
    st.divider()
    st.subheader(t("finetune.compare_title"))
    st.caption(t("finetune.compare_caption"))
    header, rows = finetune_view.compare_table(views)
    widgets.table(header, rows, "finetune-runs.csv", "finetune.compare_csv")
    series = [
        (
            f"{v.spec.finetune_task} · {finetune_view.mode_name(v.spec)}",
            [row[0] for row in v.history["accuracy"]],
            [row[1] for row in v.history["accuracy"]],
            "solid",
        )
        for v in views
    ]
    figure = charts.curves(
        series, t("train.step"), t("finetune.metric_axis"), t("finetune.chart_compare"), percent=True
    )
    figures.show(figure, key="finetune.chart_compare", filename="finetune-compare")

# -- 5 · why LoRA works ---------------------------------------------------------------------------
st.divider()
st.subheader(t("finetune.why_title"))
st.markdown(t("finetune.why_intro"))
st.latex(r"\Delta W = W_{\text{after}} - W_{\text{before}} = U\,\Sigma\,V^{\top},\quad "
         r"\text{share}(r) = \frac{\sum_{i \le r} \sigma_i^2}{\sum_i \sigma_i^2}")  # fmt: skip
done = [v for v in views if v.finished and v.model_saved and resolve(v.spec.base_model) is not None]
full = [v for v in done if v.spec.finetune_mode == "full"]
lora = [v for v in done if v.spec.finetune_mode == "lora"]
if not full:
    st.info(t("finetune.why_need_full"))
else:
    chosen = full[-1]
    partners = [v for v in lora if v.spec.base_model == chosen.spec.base_model]
    run_base = resolve(chosen.spec.base_model)
    layers = run_base.model.config.n_layers
    part_titles = {part: t(f"finetune.part.{part}") for part in PARTS}
    left, right = st.columns(2)
    widgets.ranged(page, left.slider, "sv_layer", t("finetune.layer"), 0, max(1, layers - 1), 0)
    right.selectbox(t("finetune.matrix"), PARTS, format_func=part_titles.get, **page.bind("sv_part"))
    layer, part = min(page.get("sv_layer"), layers - 1), page.get("sv_part")
    keys = [resolve(f"run:{v.run_id}") for v in (chosen, *partners[-1:])]
    if all(k is not None for k in keys):
        values = spectra(run_base.cache_key, tuple(k.cache_key for k in keys), layer, part)
        rank = partners[-1].spec.lora_rank if partners else 8
        lines = [(t("finetune.sv_full", task=chosen.spec.finetune_task), values[0])]
        if partners:
            lines.append((t("finetune.sv_lora", rank=rank), values[1]))
        labels_sv = {"x": t("finetune.sv_index"), "y": t("finetune.sv_value"), "rank": f"r = {rank}"}
        figure = charts.singular_values(
            lines, rank, labels_sv, t("finetune.chart_sv", layer=layer + 1, part=part_titles[part])
        )
        figures.show(figure, key="finetune.chart_sv", filename="finetune-singular-values")
        share = top_share(values[0], rank)
        st.markdown(t("finetune.why_share", rank=rank, share=f"{share:.0%}", n=len(values[0])))
        if not partners:
            st.caption(t("finetune.why_need_lora"))

st.divider()
with st.expander(t("common.explanation"), expanded=False):
    st.markdown(t("finetune.explanation"))

page.sync_url(extra=finetune_view.url_extra())
