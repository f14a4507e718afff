"""The Train page's form: its run settings (URL-backed, bounded by ``tinylm.plan.APP_BOUNDS``), the
expert-settings block, and the :class:`~tinylm.plan.RunSpec` they describe; in a class, the settings the
teacher pushed as the starting point; and the wait a new run would have, with a shorter budget offered
when the queue is long.

Every setting of the form is a RunSpec field under its own name, so a setting's bounds, its URL value
and the spec it fills are one and the same; there is no list of limits here to keep in step with the
library's.
"""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from tinylm.corpora import BUILTIN_CORPORA
from tinylm.plan import APP_BOUNDS, TOKENIZERS, RunSpec, default_sample_prompt, recommended_spec
from tinylm.presets import PRESETS
from ui.class_data import preset_spec, queue_now
from ui.classroom import Preset
from ui.i18n import t
from ui.layout import Page
from ui.runs import JobManager
from ui.runs.policy import RUN_OVERHEAD_SECONDS, expected_seconds, fair_budget, queue_wait
from ui.train_view import duration

SOURCES = [*BUILTIN_CORPORA, "paste", "upload"]
# The learning rates the slider offers (the library accepts any value in its bounds; a link may too).
LEARNING_RATES = [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 4e-3, 5e-3, 8e-3, 1e-2, 2e-2, 3e-2, 0.1, 0.3, 1.0]
# The run settings the form shows; the others keep the preset's value.
FORM_SETTINGS = (
    "n_layers",
    "n_heads",
    "d_model",
    "context_len",
    "dropout",
    "pos_encoding",
    "activation",
    "norm_position",
    "attention_only",
    "tie_weights",
    "tokenizer",
    "bpe_vocab",
    "batch_size",
    "optimizer",
    "learning_rate",
    "schedule",
    "warmup_steps",
    "budget",
    "time_budget",
    "max_steps",
    "sample_every",
    "seed",
    "sample_prompt",
)
WAIT_REFRESH_SECONDS = 5.0  # the wait a new run would have is re-estimated this often


def limits(name: str) -> tuple[Any, Any]:
    """A setting's (low, high), the same for its widget as for the URL check."""
    bound = APP_BOUNDS[name]
    kind = type(getattr(RunSpec(), name))
    return kind(bound.low), kind(bound.high)


def validation(name: str) -> dict[str, Any]:
    """What page.setting checks a URL value against."""
    bound = APP_BOUNDS[name]
    if name == "learning_rate":
        return {"options": LEARNING_RATES}
    if bound.options is not None:
        return {"options": bound.options}
    if bound.max_length is not None:
        return {"max_length": bound.max_length}
    if bound.low is not None:
        low, high = limits(name)
        return {"low": low, "high": high}
    return {}


def spec_corpus(source: str) -> str:
    return source if source in BUILTIN_CORPORA else "custom"


def apply_spec(page: Page, spec: RunSpec) -> None:
    """Write a spec's values into the page's settings (a preset or corpus was chosen)."""
    page.set("preset", spec.preset)
    for name in FORM_SETTINGS:
        if name != "sample_prompt":
            page.set(name, getattr(spec, name))


def nearest_rate(rate: float) -> float:
    """The learning rate the slider offers closest to ``rate`` (a preset may hold any in the bounds)."""
    return min(LEARNING_RATES, key=lambda offered: abs(math.log(offered) - math.log(max(rate, 1e-12))))


def starting_spec(corpus: str, preset: str | None = None, overrides: dict[str, Any] | None = None) -> RunSpec:
    """The recommended settings of a corpus (and preset); in a class, the teacher's settings on top, unless
    the student picked another preset than the teacher's (then that preset's own settings)."""
    if overrides and (preset is None or preset == overrides.get("preset", preset)):
        spec = preset_spec(corpus, {**overrides, **({"preset": preset} if preset else {})})
        return spec.with_settings(learning_rate=nearest_rate(spec.learning_rate))
    return recommended_spec(corpus, preset)


def on_source_change(page: Page, overrides: dict[str, Any] | None = None) -> None:
    """A corpus was chosen: start again from its recommended settings (and the class's preset)."""
    page.on_change("corpus")
    apply_spec(page, starting_spec(spec_corpus(page.get("corpus")), None, overrides))
    page.set("sample_prompt", (overrides or {}).get("sample_prompt", ""))


def on_preset_change(page: Page, overrides: dict[str, Any] | None = None) -> None:
    page.on_change("preset")
    apply_spec(page, starting_spec(spec_corpus(page.get("corpus")), page.get("preset"), overrides))


def declare_settings(page: Page, default_corpus: str, overrides: dict[str, Any] | None = None) -> None:
    """The form's settings, each starting from the recommended spec of the chosen corpus and preset (in
    a class, with the teacher's settings on top: ``overrides``)."""
    overrides = overrides or {}
    page.setting("corpus", overrides.get("corpus", default_corpus), options=SOURCES)
    recommended = starting_spec(spec_corpus(page.get("corpus")), None, overrides)
    page.setting("preset", recommended.preset, options=list(PRESETS))
    starting_point = starting_spec(spec_corpus(page.get("corpus")), page.get("preset"), overrides)
    for name in FORM_SETTINGS:
        page.setting(name, getattr(starting_point, name), **validation(name))


def apply_class_preset(page: Page, preset: Preset | None) -> bool:
    """Settings the teacher pushed that this page has not applied yet replace the form's values, once.
    Which push was applied is itself a setting (``class_preset``, in the URL), so a refresh does not apply
    it again over the student's own changes. Returns whether it was applied in this run."""
    if preset is None:
        return False
    page.setting("class_preset", "", max_length=24)
    stamp = f"{preset.set_at:.3f}"
    if page.get("class_preset") == stamp:
        return False
    settings = preset.settings
    if settings.get("corpus"):
        page.set("corpus", settings["corpus"])
    apply_spec(page, starting_spec(spec_corpus(page.get("corpus")), None, settings))
    page.set("sample_prompt", settings.get("sample_prompt", ""))
    page.set("class_preset", stamp)
    for name in page.names:  # the widgets are drawn after this: they show the new values
        st.session_state[f"{page.name}.{name}"] = page.get(name)
    return True


def form_spec(page: Page, source: str, text_name: str) -> RunSpec:
    """The spec the form describes: the preset's, with every setting of the form applied."""
    corpus = spec_corpus(source)
    base = recommended_spec(corpus, page.get("preset"))
    return base.with_settings(
        corpus=corpus,
        text_name=text_name[:60],
        preset=page.get("preset"),
        **{name: page.get(name) for name in FORM_SETTINGS},
    )


def expert_settings(page: Page, source: str, preview: str | None) -> None:
    """Every setting of the model, the optimiser and the samples, in three columns."""
    left, middle, right = st.columns(3)
    with left:
        st.markdown(f"**{t('train.shape')}**")
        st.number_input(t("train.n_layers"), *limits("n_layers"), step=1, **page.bind("n_layers"))
        st.number_input(t("train.n_heads"), *limits("n_heads"), step=1, **page.bind("n_heads"))
        st.number_input(t("train.d_model"), *limits("d_model"), step=4, **page.bind("d_model"))
        st.number_input(t("train.context_len"), *limits("context_len"), step=8, **page.bind("context_len"))
        st.slider(t("train.dropout"), *limits("dropout"), step=0.05, **page.bind("dropout"))
        positions = {name: t(f"pos.{name}") for name in APP_BOUNDS["pos_encoding"].options}
        st.selectbox(
            t("train.pos_encoding"), list(positions), format_func=positions.get, **page.bind("pos_encoding")
        )
        activations = APP_BOUNDS["activation"].options
        st.selectbox(t("train.activation"), activations, format_func=str.upper, **page.bind("activation"))
        norms = {name: t(f"train.norm.{name}") for name in APP_BOUNDS["norm_position"].options}
        st.selectbox(
            t("train.norm_position"),
            list(norms),
            format_func=norms.get,
            help=t("train.norm_position_help"),
            **page.bind("norm_position"),
        )
        st.checkbox(t("train.tie_weights"), help=t("train.tie_weights_help"), **page.bind("tie_weights"))
        st.checkbox(
            t("train.attention_only"), help=t("train.attention_only_help"), **page.bind("attention_only")
        )
    with middle:
        st.markdown(f"**{t('train.optimiser')}**")
        st.number_input(t("train.batch_size"), *limits("batch_size"), step=1, **page.bind("batch_size"))
        optimizers = {name: t(f"train.optimizer.{name}") for name in APP_BOUNDS["optimizer"].options}
        st.selectbox(
            t("train.optimizer"), list(optimizers), format_func=optimizers.get, **page.bind("optimizer")
        )
        defaults = RunSpec()  # the settings the form does not show (Muon's rate, the schedule's shape)
        st.caption(t(f"train.optimizer_about.{page.get('optimizer')}", muon_lr=f"{defaults.muon_lr:g}"))
        st.select_slider(
            t("train.learning_rate"),
            LEARNING_RATES,
            format_func=lambda v: f"{v:g}",
            help=t("train.learning_rate_help"),
            **page.bind("learning_rate"),
        )
        schedules = {name: t(f"train.schedule.{name}") for name in APP_BOUNDS["schedule"].options}
        st.selectbox(t("train.schedule"), list(schedules), format_func=schedules.get, **page.bind("schedule"))
        st.caption(
            t(
                f"train.schedule_about.{page.get('schedule')}",
                floor=f"{100 * defaults.min_lr_ratio:g}",
                decay=f"{100 * defaults.decay_fraction:g}",
            )
        )
        st.number_input(
            t("train.warmup_steps"), *limits("warmup_steps"), step=10, **page.bind("warmup_steps")
        )
        budgets = {mode: t(f"train.budget.{mode}") for mode in APP_BOUNDS["budget"].options}
        st.radio(
            t("train.budget"), list(budgets), format_func=budgets.get, horizontal=True, **page.bind("budget")
        )
        if page.get("budget") == "time":
            st.slider(t("train.time_budget"), *limits("time_budget"), step=5.0, **page.bind("time_budget"))
        else:
            st.number_input(t("train.max_steps"), *limits("max_steps"), step=50, **page.bind("max_steps"))
    with right:
        st.markdown(f"**{t('train.text_and_samples')}**")
        kinds = {kind: t(f"train.tokenizer.{kind}") for kind in TOKENIZERS}
        st.radio(
            t("train.tokenizer"),
            list(kinds),
            format_func=kinds.get,
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
            max_chars=APP_BOUNDS["sample_prompt"].max_length,
            placeholder=default_sample_prompt(spec_corpus(source), preview or ""),
            **page.bind("sample_prompt"),
        )
        st.number_input(t("common.seed"), *limits("seed"), step=1, **page.bind("seed"))


def wait_offer(page: Page, manager: JobManager, spec: RunSpec, to_come: int = 0) -> None:
    """Before Start: how long a run started now would wait (re-estimated every WAIT_REFRESH_SECONDS from
    the queue and the runs' measured progress) and, when the runs queued (and, in a class, ``to_come``:
    the classmates who have not started yet) would keep the last of them waiting beyond the target,
    "Train for N s instead" (ui.runs.policy.fair_budget)."""
    st.fragment(_wait_panel, run_every=WAIT_REFRESH_SECONDS)(page, manager, spec, to_come)


def _wait_panel(page: Page, manager: JobManager, spec: RunSpec, to_come: int) -> None:
    queue = queue_now(manager)
    if queue.running < queue.slots and queue.queued == 0:
        st.caption(t("wait.none"))
    else:
        st.caption(t("wait.now", wait=duration(queue.wait), queued=queue.queued, slots=queue.slots))
    wanted = spec.time_budget if spec.budget == "time" else expected_seconds(spec)
    waiting = queue.queued + to_come
    offer = fair_budget(list(queue.seconds_left), waiting, queue.slots, wanted)
    if offer >= wanted - 0.5:
        return
    last = queue_wait(list(queue.seconds_left), [wanted + RUN_OVERHEAD_SECONDS] * waiting, queue.slots)
    st.caption(t("wait.long", runs=waiting + 1, slots=queue.slots, wait=duration(last)))
    if st.button(t("wait.offer", seconds=f"{offer:.0f}"), key="train.fair_budget", icon=":material/timer:"):
        page.set("budget", "time")
        page.set("time_budget", float(offer))
        st.rerun()
