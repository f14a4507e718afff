"""User text shown literally wherever Streamlit renders Markdown (issue #11 §3).

Streamlit renders Markdown in far more places than ``st.markdown``: captions, alerts, toasts, titles and
headers, metric labels *and values*, expander, tab, button and page-link labels, every widget's label
and help, and the options of radio buttons, pills, segmented controls and select sliders. There it
interprets, besides Markdown proper, LaTeX (``$x$``), colour and other directives (``:red[...]``), icons
and emoji shortcodes (``:material/home:``, ``:smile:``), images and links from any address, raw HTML
and bare web addresses. Text a user controls (a typed text, an uploaded file's name, a checkpoint's
name, corpus or date, a zip entry or config key echoed in an error) goes into such a place only
through :func:`markdown_literal`. It returns a string that Streamlit renders as exactly the user's
characters, except for the documented placeholders:

* Every ASCII punctuation character is backslash-escaped (CommonMark allows it for all of them):
  nothing becomes emphasis, code, a link, an image (so nothing is ever loaded from elsewhere), HTML,
  an entity, a table, a list, a heading, maths (``\\$``) or a directive (``\\:red\\[``).
* A word joiner (U+2060: invisible, no line break) goes where Streamlit rewrites text *after* parsing,
  which a backslash cannot stop: after a colon followed by a letter, digit, ``_``, ``+``, ``-`` or
  ``/`` (emoji shortcodes, ``:material_x:`` / ``:streamlit:`` icons, ``http://`` links), after an ``@``
  before a name (e-mail links), between ``www`` and ``.`` (web links), and inside ``->``, ``<-``,
  ``--``, ``>=``, ``<=``, ``~=`` (which Streamlit turns into arrows, dashes and ≥ ≤ ≈).
* A line break (``\\n``, ``\\r\\n``, ``\\r``, U+2028 …) becomes the visible ``↵``: user text is one line,
  so it never starts a heading, a list, a quote or a new paragraph.
* Bidirectional controls (U+202A-202E embeddings and overrides, U+2066-2069 isolates, U+200E/200F and
  U+061C marks) become visible placeholders such as ``⟨RLO⟩``: an override typed by a user cannot
  reverse the text around it (the app's own words in the same line), and the reader sees it is there.
  Right-to-left letters themselves are kept; only invisible controls are replaced.
* ``limit`` keeps at most that many of the user's characters (a ``…`` marks the cut), cut *before*
  escaping, so a cut never leaves a dangling backslash.

Where text is not Markdown (``st.text``, ``st.code``, ``st.dataframe``, widget values, the options of a
selectbox or multiselect) it is shown as it is: escaping it there would show the backslashes. In HTML it
goes through ``html.escape`` (``ui.figures.token_html``), in chart labels through
``ui.figures.plot_label``. A plain-text label that mixes user text with the app's own words (a run's
label) passes the user's part through :func:`bidi_visible`.

This module imports nothing from Streamlit or the rest of the app, so every ``ui`` module can use it.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping
from typing import Any

WORD_JOINER = "\u2060"
NEWLINE_MARK = "↵"
CUT_MARK = "…"
# The invisible controls that reorder text, and the visible placeholder each becomes.
BIDI_CONTROLS = {
    "\u061c": "⟨ALM⟩",
    "\u200e": "⟨LRM⟩",
    "\u200f": "⟨RLM⟩",
    "\u202a": "⟨LRE⟩",
    "\u202b": "⟨RLE⟩",
    "\u202c": "⟨PDF⟩",
    "\u202d": "⟨LRO⟩",
    "\u202e": "⟨RLO⟩",
    "\u2066": "⟨LRI⟩",
    "\u2067": "⟨RLI⟩",
    "\u2068": "⟨FSI⟩",
    "\u2069": "⟨PDI⟩",
}
_BIDI = re.compile("[" + "".join(BIDI_CONTROLS) + "]")
_LINE_BREAK = re.compile("\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Where Streamlit's text transforms (run on the parsed text, after backslashes are gone) would match.
_JOIN_POINTS = re.compile(
    r"(?<=:)(?=[A-Za-z0-9_+\-/])"  # :smile:  :material_home:  :streamlit:  http://
    r"|(?<=@)(?=[A-Za-z0-9_\-])"  # a@b.example
    r"|(?<=[Ww]{3})(?=\.)"  # www.example.com
    r"|(?<=<)(?=[-=])|(?<=-)(?=[->])|(?<=[>~])(?==)"  # <-  ->  --  <=  >=  ~=
)


def bidi_visible(text: Any) -> str:
    """The text with every bidirectional control character replaced by its visible placeholder."""
    return _BIDI.sub(lambda found: BIDI_CONTROLS[found.group()], str(text))


def one_line(text: Any) -> str:
    """The text on one line: every line break shown as ↵."""
    return _LINE_BREAK.sub(NEWLINE_MARK, str(text))


def markdown_literal(text: Any, limit: int | None = None) -> str:
    """``text`` made safe to put into anything Streamlit renders as Markdown: it is shown exactly as
    typed (see the module's docstring for the placeholders ↵, ⟨RLO⟩ … and the invisible word joiners),
    formats nothing, loads nothing and calls no directive. ``limit``: at most that many characters of
    the text, then ``…``."""
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + CUT_MARK
    text = bidi_visible(one_line(text))
    text = _JOIN_POINTS.sub(WORD_JOINER, text)
    return _ASCII_PUNCTUATION.sub(r"\\\1", text)


def literal_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters for ``t(key, **params)`` when the translated string is rendered as Markdown and the
    values are data (an error's file name, config key, value, version ...): numbers stay numbers (the
    templates format them, e.g. ``{value:,}``), everything else goes through :func:`markdown_literal`."""
    return {
        name: value if isinstance(value, numbers.Number) else markdown_literal(value)
        for name, value in params.items()
    }
