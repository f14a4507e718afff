"""Page 6 — generate: the model writes one token at a time, and the student sees every choice it makes.

Stream mode: the text appears while ``tinylm.generate.generate`` produces it (a placeholder updated token by
token), then coloured by the probability of every chosen token, with greedy decoding next to sampling.
Step mode: one token per click, with the next-token distribution before and after temperature, top-k and
top-p (``tinylm.generate.distribution_stages``) and the chosen token marked. Step k of the step mode is
token k of the stream: both replay the same seeded generation.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from tinylm.errors import TinyLMError
from tinylm.generate import GenerationStep, SamplingSettings, generate, window_start
from ui import figures, generation, widgets
from ui.charts import generate as charts
from ui.i18n import t
from ui.layout import model_page, show_error, stop_here
from ui.state import model_by_cache_key

PRESETS = {"zh": "早上，小明", "en": "One morning, Lily"}
MAX_PROMPT_CHARS = 1000  # longer than any demo model's context, so the window can be shown
MAX_NEW_TOKENS = 400  # per request: a few seconds at most on a busy CPU
DEFAULT_NEW_TOKENS = 80
STEP_CHUNK = 16  # step mode generates this many tokens ahead, so most "next step" clicks cost nothing
TOP_BARS = 20  # the step mode's chart: the 20 most likely tokens (plus the chosen one if not among them)
REPLAY_SECONDS = 3.0  # "write again" types each text out in about this long, so the class can watch
STAGES = ("model", "temperature", "top_k", "top_p")
REPLAY_KEY = "_generate_replay"  # plain session key: "write again" was pressed

page, active = model_page("generate")
config = active.model.config
tokenizer = active.tokenizer


@st.cache_data(max_entries=32, show_spinner=False)
def step_run(
    cache_key: str, prompt: str, temperature: float, top_k: int, top_p: float, seed: int, n_steps: int
) -> tuple[list[GenerationStep], np.ndarray]:
    """The first n_steps tokens of the seeded generation (exactly as the stream makes them) and, for each,
    the raw scores (logits, shape (n_steps, V)) it was chosen from, kept apart as one array: cache_data
    pickles what it returns, and the steps alone are small."""
    found = model_by_cache_key(cache_key)
    settings = sampling_settings(temperature, top_k, top_p, seed, n_steps)
    ids = found.tokenizer.encode(prompt)
    steps = list(generate(found.model, ids, settings, found.tokenizer, n_candidates=1, return_logits=True))
    logits = np.stack([step.logits.numpy() for step in steps])
    for step in steps:
        step.logits = None
    return steps, logits


# ----------------------------------------------------------------------------------------- helpers


def sampling_settings(
    temperature: float, top_k: int, top_p: float, seed: int, max_tokens: int
) -> SamplingSettings:
    """The page's controls as tinylm settings: top-k 0 and top-p 1 mean "off"."""
    return SamplingSettings(
        temperature=float(temperature),
        top_k=int(top_k) if top_k > 0 else None,
        top_p=float(top_p) if top_p < 1.0 else None,
        seed=int(seed),
        max_new_tokens=int(max_tokens),
    )


def reset_steps() -> None:
    page.set("step", 0)


def next_seed() -> None:
    page.set("seed", (page.get("seed") + 1) % 2**31)


def request_replay() -> None:
    st.session_state[REPLAY_KEY] = True


def move_step(delta: int) -> None:
    page.set("step", min(max(page.get("step") + delta, 0), page.get("max_tokens") - 1))


# ------------------------------------------------------------------------------------------- page

st.markdown(t("generate.intro"))
st.latex(
    r"p_i = \mathrm{softmax}\!\left(\frac{z}{\tau}\right)_i = \frac{e^{z_i/\tau}}{\sum_j e^{z_j/\tau}}"
    r"\qquad x_{t+1} \sim p"
)

modes = ["stream", "step"]
mode_names = {"stream": t("generate.mode_stream"), "step": t("generate.mode_step")}  # not t() in format_func
vocab_size = config.vocab_size
with page.controls():
    widgets.text_with_examples(
        page,
        "prompt",
        t("common.prompt"),
        t("generate.prompt_help", context=config.context_len),
        tokenizer,
        PRESETS,
        {"zh": t("generate.preset_zh"), "en": t("generate.preset_en")},
        max_chars=MAX_PROMPT_CHARS,
        multiline=True,
        then=reset_steps,  # a new prompt: back to its first step
    )
    temperature_column, top_k_column, top_p_column = st.columns(3)
    percent = {"step": 0.05, "format": "%.2f"}
    label, tip = t("generate.temperature"), t("generate.temperature_help")
    widgets.ranged(page, temperature_column.slider, "temperature", label, 0.0, 2.0, 0.8, help=tip, **percent)
    label, tip = t("generate.top_k"), t("generate.top_k_help", vocab=vocab_size)
    widgets.ranged(page, top_k_column.number_input, "top_k", label, 0, vocab_size, 0, step=1, help=tip)
    label, tip = t("generate.top_p"), t("generate.top_p_help")
    widgets.ranged(page, top_p_column.slider, "top_p", label, 0.05, 1.0, 0.9, help=tip, **percent)
    length_column, seed_column, mode_column = st.columns(3, vertical_alignment="bottom")
    label, tip = t("generate.max_tokens"), t("generate.max_tokens_help")
    widgets.ranged(
        page, length_column.slider, "max_tokens", label, 1, MAX_NEW_TOKENS, DEFAULT_NEW_TOKENS, help=tip
    )
    seed_input, seed_button = seed_column.columns([3, 2], vertical_alignment="bottom")
    label, tip = t("common.seed"), t("generate.seed_help")
    widgets.ranged(page, seed_input.number_input, "seed", label, 0, 2**31 - 1, 0, step=1, help=tip)
    seed_button.button(
        t("generate.new_seed"), on_click=next_seed, key="generate.new_seed", icon=":material/casino:"
    )
    mode_column.radio(
        t("generate.mode"),
        modes,
        format_func=mode_names.__getitem__,
        horizontal=True,
        **page.bind_setting("mode", "stream", options=modes),
    )
page.setting("step", 0, low=0, high=MAX_NEW_TOKENS - 1)  # step mode's position: no widget, but in the URL

prompt = page.get("prompt")
temperature, top_k, top_p = page.get("temperature"), page.get("top_k"), page.get("top_p")
seed, max_tokens, mode = page.get("seed"), page.get("max_tokens"), page.get("mode")
settings = sampling_settings(temperature, top_k, top_p, seed, max_tokens)

settings_summary = t(
    "generate.settings_summary",
    temperature=f"{temperature:.2f}",
    top_k=top_k if top_k > 0 else t("generate.off"),
    top_p=f"{top_p:.2f}" if top_p < 1.0 else t("generate.off"),
    seed=seed,
)
if temperature == 0.0:
    st.caption(t("generate.temperature_zero"))

if not prompt:
    st.info(t("common.empty_prompt"))
    stop_here(page)

prompt_ids = tokenizer.encode(prompt)
widgets.warn_unknown_chars(tokenizer.unknown_chars(prompt))
context, half = config.context_len, max(1, config.context_len // 2)
if len(prompt_ids) > context:
    st.info(t("generate.long_prompt", n=len(prompt_ids), context=context, half=half))
elif len(prompt_ids) + max_tokens > context:
    st.caption(t("generate.window_note", context=context, half=half))

try:
    if mode == "stream":
        # ------------------------------------------------------------------------------------ stream
        replay = bool(st.session_state.pop(REPLAY_KEY, False))
        typing_delay = REPLAY_SECONDS / max_tokens if replay else 0.0
        st.subheader(t("generate.compare_title"))
        st.markdown(t("generate.compare_explain"))
        button_column, note_column = st.columns([1, 3], vertical_alignment="center")
        button_column.button(
            t("generate.replay"), on_click=request_replay, key="generate.replay", icon=":material/replay:"
        )
        note_column.caption(t("generate.replay_help"))
        legend_column, caption_column = st.columns([2, 3], vertical_alignment="center")
        legend_column.markdown(generation.legend_html(), unsafe_allow_html=True)
        caption_column.caption(t("generate.colors_caption"))
        greedy_column, sampled_column = st.columns(2)
        with sampled_column:
            title = t("generate.sampled_title")
            sampled = generation.output_column(
                title, settings_summary, active, prompt, prompt_ids, settings, typing_delay, "sampled"
            )
        with greedy_column:
            greedy_settings = SamplingSettings(greedy=True, max_new_tokens=max_tokens)
            title, subtitle = t("generate.greedy_title"), t("generate.greedy_subtitle")
            greedy = generation.output_column(
                title, subtitle, active, prompt, prompt_ids, greedy_settings, typing_delay, "greedy"
            )
        if [w.token_id for w in greedy] == [w.token_id for w in sampled]:
            st.info(t("generate.compare_same"))
    else:
        # ------------------------------------------------------------------------------------ step mode
        step = min(page.get("step"), max_tokens - 1)
        page.set("step", step)
        n_steps = min(max_tokens, STEP_CHUNK * (step // STEP_CHUNK + 1))
        run_steps, run_logits = step_run(active.cache_key, prompt, temperature, top_k, top_p, seed, n_steps)
        chosen = run_steps[step]
        st.subheader(t("generate.step_title", step=step + 1, total=max_tokens))
        back_column, next_column, reset_column, _ = st.columns([1, 1, 1, 3])
        back_column.button(
            t("generate.back"),
            on_click=move_step,
            args=(-1,),
            disabled=step == 0,
            key="generate.back",
            icon=":material/arrow_back:",
        )
        next_column.button(
            t("generate.next"),
            on_click=move_step,
            args=(1,),
            disabled=step >= max_tokens - 1,
            key="generate.next",
            type="primary",
            icon=":material/arrow_forward:",
            icon_position="right",
        )
        reset_column.button(
            t("generate.reset"),
            on_click=reset_steps,
            disabled=step == 0,
            key="generate.reset",
            icon=":material/restart_alt:",
        )
        start = window_start(context, len(prompt_ids), step)
        shown = generation.chips(tokenizer, prompt, prompt_ids, run_steps[:step], window_start=start)
        st.markdown(shown, unsafe_allow_html=True)
        seen = len(prompt_ids) + step - start
        st.caption(t("generate.step_window", seen=seen, context=context))
        if start > 0:
            st.caption(t("generate.step_outside", start=start))
        st.caption(t("generate.step_replay_note"))

        stages = settings.stages(torch.from_numpy(run_logits[step]))
        stage_probs = {name: stages[name].double().numpy() for name in STAGES}
        order = np.argsort(-run_logits[step], kind="stable")  # most likely first, the same in every stage
        shown_ids = [int(i) for i in order[:TOP_BARS]]
        if chosen.token_id not in shown_ids:
            shown_ids.append(chosen.token_id)
        rank = {int(token_id): r + 1 for r, token_id in enumerate(order)}
        labels = [
            ("★ " if token_id == chosen.token_id else "") + f"{rank[token_id]}. {figures.plot_label(piece)}"
            for token_id, piece in zip(shown_ids, tokenizer.token_strings(shown_ids), strict=True)
        ]
        stage_names = {
            "model": t("generate.stage_model"),
            "temperature": t("generate.stage_temperature", temperature=f"{temperature:.2f}"),
            "top_k": t("generate.stage_top_k", k=top_k if top_k > 0 else t("generate.off")),
            "top_p": t("generate.stage_top_p", p=f"{top_p:.2f}" if top_p < 1.0 else t("generate.off")),
        }
        figures.show(
            charts.stage_bars(
                labels,
                {stage_names[name]: stage_probs[name][shown_ids] for name in STAGES},
                shown_ids.index(chosen.token_id),
                t("generate.chosen_marker"),
                (t("generate.axis_candidates"), t("common.probability")),
                t("generate.fig_stages", step=step + 1),
            ),
            key="generate.fig.stages",
            filename=f"generate_step{step + 1}_distribution",
        )

        kept_k = int((stage_probs["top_k"] > 0).sum())
        kept_p = int((stage_probs["top_p"] > 0).sum())
        metric_columns = st.columns(4)
        chosen_text = widgets.markdown_literal(figures.visible(chosen.token_text))  # a metric is Markdown
        metric_columns[0].metric(t("generate.metric_chosen"), chosen_text)
        metric_columns[1].metric(t("generate.metric_chosen_p"), f"{chosen.probability:.3f}")
        metric_columns[2].metric(t("generate.metric_chosen_model_p"), f"{chosen.model_probability:.3f}")
        metric_columns[3].metric(t("generate.metric_kept"), f"{kept_p} / {vocab_size}")
        st.markdown(t("generate.stages_explain", kept_k=kept_k, kept_p=kept_p, vocab=vocab_size))
        st.latex(
            r"p'_i = \frac{p_i\,\mathbb{1}[\,i \in S\,]}{\sum_{j \in S} p_j},\qquad "
            r"S_{\text{top-}k}:\ |S| = k,\qquad "
            r"S_{\text{top-}p} = \operatorname{arg\,min}_{S}"
            r"\Big\{\,|S| \;:\; \textstyle\sum_{i \in S} p_i \ge p\Big\}"
        )

        table_header = [
            t("generate.col_rank"),
            t("common.token"),
            "id",
            *(stage_names[name] for name in STAGES),
            t("generate.col_chosen"),
        ]
        table_rows = [
            [
                r + 1,
                figures.visible(piece),
                int(token_id),
                *(float(stage_probs[name][token_id]) for name in STAGES),  # full precision: tiny p matter too
                "★" if int(token_id) == chosen.token_id else "",
            ]
            for r, (token_id, piece) in enumerate(zip(order, tokenizer.token_strings(order), strict=True))
        ]
        with st.expander(t("generate.table_title", vocab=vocab_size)):
            file = f"generate_step{step + 1}.csv"
            widgets.table(
                table_header, table_rows, file, csv_key="generate.csv.stages", key="generate.table.stages"
            )
except TinyLMError as exc:
    show_error(exc)

page.sync_url()
