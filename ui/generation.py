"""What the Generate page shows of a generation: the server-wide store of finished generations, the text
streamed into the page while ``tinylm.generate.generate`` writes it, the token chips coloured by
probability, and one output column (text, chips, metrics, plain text, CSV).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import astuple

import numpy as np
import streamlit as st

from tinylm.generate import GenerationStep, SamplingSettings, generate, repeated_share
from tinylm.tokenizers import Tokenizer
from ui import figures, widgets
from ui.i18n import t
from ui.state import ActiveModel

STORE_SIZE = 128  # finished generations remembered server-wide (a class opening the same link shares them)
REDRAW_SECONDS = 0.05  # while streaming, redraw the text at most this often
PROMPT_COLOR, OUTSIDE_COLOR = "#e0e7ff", "#f1f5f9"

Generation = tuple[GenerationStep, ...]  # the new tokens, each with the probabilities it was drawn with


class GenerationStore:
    """Finished generations, least recently used first out; shared by the sessions of this server."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[tuple, Generation] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> Generation | None:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def put(self, key: tuple, value: Generation) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


@st.cache_resource(show_spinner=False)
def generation_store() -> GenerationStore:
    return GenerationStore(STORE_SIZE)


def write(
    placeholder,
    active: ActiveModel,
    prompt: str,
    prompt_ids: list[int],
    settings: SamplingSettings,
    typing_delay: float = 0.0,
) -> Generation:
    """The generation for these settings: from the store, or produced now and streamed into placeholder
    (typing_delay > 0: produced again, slowly, for the class to watch)."""
    key = (active.cache_key, prompt, astuple(settings))
    store = generation_store()
    stored = store.get(key)
    if stored is not None and typing_delay == 0.0:
        return stored
    tokenizer = active.tokenizer
    written: list[GenerationStep] = []
    last_drawn = 0.0
    for step in generate(active.model, prompt_ids, settings, tokenizer, n_candidates=1):
        written.append(step)
        now = time.monotonic()
        if typing_delay or now - last_drawn >= REDRAW_SECONDS:
            text = prompt + tokenizer.decode([w.token_id for w in written])
            placeholder.code(text + "▌", language=None, wrap_lines=True)  # plain text: never HTML
            last_drawn = now
        if typing_delay:
            time.sleep(typing_delay)
    result = tuple(written)
    store.put(key, result)
    return result


def probability_color(probability: float) -> str:
    """Red (unlikely) → yellow → green (likely), light enough to read the token on it."""
    return f"hsl({120 * min(max(probability, 0.0), 1.0):.0f}, 85%, 80%)"


def prompt_pieces(tokenizer: Tokenizer, prompt: str, ids: Sequence[int]) -> list[str]:
    """What to show for each prompt token: with one token per character, the character as typed."""
    if getattr(tokenizer, "kind", "") == "char" and len(prompt) == len(ids):
        return list(prompt)
    return tokenizer.token_strings(ids)


def chips(
    tokenizer: Tokenizer,
    prompt: str,
    prompt_ids: Sequence[int],
    written: Sequence[GenerationStep],
    window_start: int = 0,
) -> str:
    """Prompt chips (unknown characters red, tokens before the model's window pale) and generated chips
    coloured by their probability, every one escaped, with the numbers in the tooltip."""
    unknown = set(tokenizer.unknown_chars(prompt))
    pieces, colors, titles = [], [], []
    for position, piece in enumerate(prompt_pieces(tokenizer, prompt, prompt_ids)):
        if piece in unknown:
            color, title = widgets.UNKNOWN_COLOR, t("generate.chip_unknown", position=position)
        elif position < window_start:
            color, title = OUTSIDE_COLOR, t("generate.chip_outside", position=position)
        else:
            color, title = PROMPT_COLOR, t("generate.chip_prompt", position=position)
        pieces.append(piece)
        colors.append(color)
        titles.append(title)
    for index, token in enumerate(written):
        outside = len(prompt_ids) + index < window_start
        pieces.append(token.token_text)
        colors.append(OUTSIDE_COLOR if outside else probability_color(token.model_probability))
        p, model_p = f"{token.probability:.3f}", f"{token.model_probability:.3f}"
        titles.append(t("generate.chip_title", step=index + 1, p=p, model_p=model_p, id=token.token_id))
    return figures.token_html(pieces, colors, titles)


def legend_html() -> str:
    values = [0.1, 0.3, 0.5, 0.7, 0.9]
    return figures.token_html([f"p={v:.2f}" for v in values], [probability_color(v) for v in values])


def output_column(
    title: str,
    subtitle: str,
    active: ActiveModel,
    prompt: str,
    prompt_ids: list[int],
    settings: SamplingSettings,
    typing_delay: float,
    slug: str,
) -> Generation:
    """One output column: title, streamed text, then coloured chips, metrics, plain text and a CSV."""
    st.subheader(title)
    st.caption(subtitle)
    placeholder = st.empty()
    written = write(placeholder, active, prompt, prompt_ids, settings, typing_delay)
    placeholder.markdown(chips(active.tokenizer, prompt, prompt_ids, written), unsafe_allow_html=True)
    left, middle, right = st.columns(3)
    left.metric(t("generate.metric_tokens"), len(written))
    repeats = f"{100 * repeated_share([w.token_id for w in written]):.0f}%"
    middle.metric(t("generate.metric_repeats"), repeats, help=t("generate.metric_repeats_help"))
    mean_p = f"{np.mean([w.model_probability for w in written]):.3f}" if written else "–"
    right.metric(t("generate.metric_mean_p"), mean_p, help=t("generate.metric_mean_p_help"))
    with st.expander(t("generate.plain_text")):
        text = prompt + active.tokenizer.decode([w.token_id for w in written])
        st.code(text, language=None, wrap_lines=True)
        header = [
            t("generate.col_step"),
            t("common.token"),
            "id",
            t("generate.col_p"),
            t("generate.col_model_p"),
        ]
        rows = [
            [
                i + 1,
                figures.visible(w.token_text),
                w.token_id,
                round(w.probability, 6),
                round(w.model_probability, 6),
            ]
            for i, w in enumerate(written)
        ]
        figures.download_csv(header, rows, f"generate_{slug}.csv", key=f"generate.csv.{slug}")
    return written
