"""中文 / English strings: ``t("key", **params)`` looks a key up in the current language.

Each page keeps its strings in its own module under ``ui/strings/`` as two dicts, ``EN`` and ``ZH``,
with the same keys (a test checks it, and that every key used in the code exists). Keys are
dotted: ``"<page>.<name>"``; errors raised by tinylm are translated with ``"error.<code>"`` keys and
their ``params``.

The language lives in ``st.session_state["_lang"]`` (a plain key, not a widget key, so it survives
page changes) and in the URL (``?lang=zh``) so a shared link opens in the same language.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import streamlit as st

from ui.text import literal_params, markdown_literal

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"
LANG_KEY = "_lang"


def _load_tables() -> dict[str, dict[str, str]]:
    import ui.strings as package

    tables: dict[str, dict[str, str]] = {"en": {}, "zh": {}}
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"ui.strings.{module_info.name}")
        for lang, table in (("en", module.EN), ("zh", module.ZH)):
            duplicated = set(tables[lang]) & set(table)
            if duplicated:
                raise RuntimeError(f"string keys defined twice: {sorted(duplicated)[:5]}")
            tables[lang].update(table)
    return tables


STRINGS = _load_tables()


def current_language() -> str:
    """The session's language: session state, else the URL's ?lang=, else Chinese."""
    lang = st.session_state.get(LANG_KEY)
    if lang not in LANGUAGES:
        lang = st.query_params.get("lang")
        if lang not in LANGUAGES:
            lang = DEFAULT_LANGUAGE
        st.session_state[LANG_KEY] = lang
    return lang


def set_language(lang: str) -> None:
    if lang in LANGUAGES:
        st.session_state[LANG_KEY] = lang


def t(key: str, lang: str | None = None, **params: Any) -> str:
    """The string for key in the current (or given) language, formatted with params.

    A missing key shows the key itself (and the string-table test fails), never a crash.
    """
    table = STRINGS[lang or current_language()]
    text = table.get(key) or STRINGS["en"].get(key) or key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def error_message(exc: Exception, lang: str | None = None) -> str:
    """A tinylm error in the user's language (falls back to its English message), as Markdown.

    An error's params are data, often the user's own (a zip entry's name, an unknown config key or
    value, a version, a file name, characters): each text param is made literal (``ui.text``) before
    it goes into the translated template, and so is an untranslated message."""
    code = getattr(exc, "code", None)
    params = getattr(exc, "params", {}) or {}
    key = f"error.{code}"
    if code and key in STRINGS[lang or current_language()]:
        return t(key, lang, **literal_params(params))
    message = getattr(exc, "message", None)
    return markdown_literal(message) if message else t("error.unexpected", lang)
