"""Small UI pieces the pages share (figures are in ``ui.figures``): user text made literal for Markdown,
the unknown-characters warning, example texts and their buttons, token chips, tables with a CSV
download, and settings whose valid range depends on what is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import streamlit as st

from tinylm.tokenizers import Tokenizer
from ui import figures
from ui.i18n import current_language, t
from ui.layout import Page
from ui.text import markdown_literal  # user text inside Markdown (pages call widgets.markdown_literal)

UNKNOWN_COLOR = "#fecaca"  # a token made of characters the model never saw
TOKEN_COLOR = "#dbeafe"
MAX_UNKNOWN_SHOWN = 20


def warn_unknown_chars(chars: Sequence[str]) -> None:
    """Name the characters the model never saw (each became its unknown token), if there are any."""
    if chars:
        shown = " ".join(figures.visible(c) for c in chars[:MAX_UNKNOWN_SHOWN])
        st.warning(t("common.unknown_chars", chars=markdown_literal(shown)))


def example_for(tokenizer: Tokenizer, examples: Mapping[str, str]) -> str:
    """The example text ({"zh": …, "en": …}) in the reader's language if the model can read it (its
    tokenizer knows every character), else the other one: the page opens on text the model knows."""
    order = ["zh", "en"] if current_language() == "zh" else ["en", "zh"]
    for lang in order:
        if not tokenizer.unknown_chars(examples[lang]):
            return examples[lang]
    return examples[order[0]]


def example_buttons(
    page: Page,
    setting: str,
    examples: Mapping[str, str],
    labels: Mapping[str, str],
    key_prefix: str,
    then: Callable[[], None] | None = None,
    **button: Any,
) -> None:
    """A row of buttons, one per example text (keys ``key_prefix + lang``); a click puts the text into
    the page's setting (its text box), then calls ``then`` (e.g. to go back to the first step)."""
    for column, lang in zip(st.columns(len(examples)), examples, strict=True):
        column.button(
            labels[lang],
            key=f"{key_prefix}{lang}",
            on_click=_use_example,
            args=(page, setting, examples[lang], then),
            **button,
        )


def _use_example(page: Page, setting: str, text: str, then: Callable[[], None] | None) -> None:
    page.set(setting, text)
    if then is not None:
        then()


def text_with_examples(
    page: Page,
    setting: str,
    label: str,
    help: str,
    tokenizer: Tokenizer,
    examples: Mapping[str, str],
    labels: Mapping[str, str],
    *,
    max_chars: int,
    multiline: bool = False,
    then: Callable[[], None] | None = None,
) -> None:
    """The page's text box (its setting ``setting``, first filled with the example the model can read)
    and beside it one button per example text (keys ``<page>.preset.<lang>``). ``then`` is called
    whenever the text changes, typed or picked."""

    def changed() -> None:
        page.on_change(setting)
        if then is not None:
            then()

    text_column, example_column = st.columns([3, 2], vertical_alignment="bottom")
    key = page.setting(setting, example_for(tokenizer, examples), max_length=max_chars)
    box = text_column.text_area if multiline else text_column.text_input
    box(
        label,
        max_chars=max_chars,
        help=help,
        key=key,
        on_change=changed,
        **({"height": 90} if multiline else {}),
    )
    with example_column:
        example_buttons(page, setting, examples, labels, f"{page.name}.preset.", then)


def token_chips(pieces: Sequence[str], unknown: Collection[str], titles: Sequence[str] | None = None) -> None:
    """The tokens as coloured chips (escaped; titles are tooltips); a piece in ``unknown`` is red."""
    colors = [UNKNOWN_COLOR if piece in unknown else TOKEN_COLOR for piece in pieces]
    st.markdown(figures.token_html(pieces, colors, titles), unsafe_allow_html=True)


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    filename: str,
    csv_key: str,
    key: str | None = None,
    height: int | str = "auto",
) -> None:
    """A table (one column per header cell, one row per row) and its CSV download."""
    columns = {name: [row[c] for row in rows] for c, name in enumerate(header)}
    st.dataframe(columns, hide_index=True, key=key, height=height)
    figures.download_csv(header, rows, filename, key=csv_key)


def column_table(
    columns: Mapping[str, Sequence[Any]], filename: str, csv_key: str, key: str | None = None
) -> None:
    """A table given column by column ({header: values}) and its CSV download."""
    table(list(columns), [list(row) for row in zip(*columns.values(), strict=True)], filename, csv_key, key)


def rounded(values: Sequence[float], digits: int = 4) -> list[float]:
    """Numbers for a table: plain floats, rounded."""
    return [round(float(value), digits) for value in values]


def ranged(
    page: Page,
    widget: Callable[..., Any],
    name: str,
    label: str,
    low: float,
    high: float,
    default: float,
    **options: Any,
) -> None:
    """A slider or number input (``widget``, e.g. ``column.slider``) bound to the page's URL-backed
    setting ``name``, whose range is the widget's own: the bounds are written once, for both.
    ``options`` are the widget's (step, format, help ...)."""
    widget(
        label,
        min_value=low,
        max_value=high,
        **options,
        **page.bind_setting(name, default, low=low, high=high),
    )


def int_choices(
    page: Page,
    name: str,
    label: str,
    options: Sequence[int],
    default: str,
    max_selections: int,
    fallback: Sequence[int],
    format_func: Callable[[int], str],
) -> list[int]:
    """A multiselect of ints (widget key ``<page>.<name>_pick``) kept in the page's URL setting ``name``
    as "0,1,10". A value from a link keeps, in its order and once each, the entries that are options,
    at most ``max_selections`` of them; nothing left means ``fallback``. Returns the chosen ints."""
    page.setting(name, default, max_length=200)
    allowed = set(options)
    chosen: list[int] = []
    for part in str(page.get(name)).split(","):
        part = part.strip()
        if part.isdigit() and int(part) in allowed and int(part) not in chosen:
            chosen.append(int(part))
    chosen = chosen[:max_selections] or list(fallback)
    page.set(name, ",".join(map(str, chosen)))
    widget_key = f"{page.name}.{name}_pick"
    st.session_state[widget_key] = chosen

    def store() -> None:
        page.set(name, ",".join(str(value) for value in st.session_state[widget_key]))

    st.multiselect(
        label,
        options=list(options),
        format_func=format_func,
        max_selections=max_selections,
        key=widget_key,
        on_change=store,
    )
    return chosen


def bounded_setting(
    page: Page, name: str, default: int, high: int, limit: int, low: int = 0
) -> dict[str, Any]:
    """Declare an int setting whose range depends on what is shown (the text's length, d_model) and
    return the widget's keyword arguments.

    A link may hold any value in [low, limit]; the value is pulled inside [low, high] before the
    widget is drawn (Streamlit refuses a value outside the widget's range), so a shorter text than
    before keeps its selected row on the page.
    """
    key = page.setting(name, default, low=low, high=limit)
    value = min(max(int(page.get(name)), low), high)
    if value != page.get(name):
        page.set(name, value)
        st.session_state[key] = value
    return page.bind(name)
