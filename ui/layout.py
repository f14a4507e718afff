"""What every page shares: page config, the sidebar, presenter mode, URL-backed settings, errors.

Every page starts with ``page = page_setup("tokens")`` and ends with ``page.sync_url()``.

Settings that live in the URL: each page declares its settings with ``page.setting(name, default)``,
which returns the widget key to pass to the widget. The value is kept in a plain session key (widget
keys are dropped when the page changes), seeded from the URL on first visit (so a bookmark or a link
reopens exactly that view), copied into the widget before it is drawn, and written back to the URL
by ``sync_url``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

import streamlit as st

from tinylm.errors import TinyLMError
from ui import class_session, guard, media_grace
from ui.i18n import LANG_KEY, LANGUAGES, current_language, error_message, set_language, t
from ui.runs.session import heartbeat, remember_browser
from ui.state import MODEL_KEY, active_model, default_key, model_choices, model_summary, resolve

PAGES = [
    ("home", "app.py"),
    ("tokens", "pages/1_Tokens.py"),
    ("positional", "pages/2_Positional_encoding.py"),
    ("attention", "pages/3_Self_attention.py"),
    ("block", "pages/4_Inside_a_block.py"),
    ("explorer", "pages/5_Attention_explorer.py"),
    ("generate", "pages/6_Generate.py"),
    ("train", "pages/7_Train.py"),
    ("finetune", "pages/8_Finetune.py"),
    ("scaling", "pages/9_Scaling.py"),
    ("learned", "pages/10_What_it_learned.py"),
]
PRESENTER_KEY = "_presenter"
SETTINGS_KEY = "_settings"
GLOBAL_URL_KEYS = ("lang", "presenter", "model")
T = TypeVar("T")
MODEL_DRAWN_KEY = "_w_model_drawn"  # (model, generation) the sidebar's model selector was drawn with

# Streamlit cuts a page link's label to one line with an ellipsis. Seen in a browser: in Chinese
# "3 · 一步步看自注意…" and "4 · Transformer 块内…", and in presenter mode (21 px root font, paragraphs at
# 1.25 rem) most English names too. A name that does not fit wraps onto a second line instead. Streamlit
# gives the label one line 2 em high: 1.35 em of line and 0.325 em above and below keep a one-line label
# exactly as high as before, while the lines of a wrapped one stay close together.
NAV_CSS = """
<style>
[data-testid="stPageLink-NavLink"] { height: auto; }
[data-testid="stPageLink-NavLink"] span { white-space: normal; overflow: visible; text-overflow: clip; }
[data-testid="stPageLink-NavLink"] [data-testid="stMarkdownContainer"] p {
    white-space: normal; line-height: 1.35; padding: 0.325em 0;
}
</style>
"""
PRESENTER_CSS = """
<style>
html { font-size: 21px; }
[data-testid="stMainBlockContainer"] { max-width: 100%; padding-left: 2rem; padding-right: 2rem; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.25rem; }
h1 { font-size: 2.6rem !important; } h2 { font-size: 2.0rem !important; }
.katex { font-size: 1.5em !important; }
</style>
"""


def presenter() -> bool:
    return bool(st.session_state.get(PRESENTER_KEY, False))


def _parse(raw: str, default: Any) -> Any:
    """A URL value as the type of the default; raises ValueError when it does not parse."""
    if isinstance(default, bool):
        if raw in ("1", "true", "True"):
            return True
        if raw in ("0", "false", "False"):
            return False
        raise ValueError(raw)
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        value = float(raw)
        if not math.isfinite(value):
            raise ValueError(raw)
        return value
    return raw


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


class Page:
    """One page's settings (URL-backed) and helpers."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.names: list[str] = []
        store = st.session_state.setdefault(SETTINGS_KEY, {})
        self.store: dict[str, Any] = store.setdefault(name, {})

    def setting(
        self,
        name: str,
        default: Any,
        options: Sequence[Any] | None = None,
        low: float | None = None,
        high: float | None = None,
        max_length: int = 2000,
    ) -> str:
        """Declare a setting; returns the widget key. URL values are validated (type, options, range)."""
        if name not in self.store:
            value = default
            raw = st.query_params.get(name)
            if raw is not None:
                try:
                    candidate = _parse(raw, default)
                    if options is not None and candidate not in options:
                        raise ValueError(raw)
                    if (low is not None and candidate < low) or (high is not None and candidate > high):
                        raise ValueError(raw)
                    if isinstance(candidate, str):
                        candidate = candidate[:max_length]
                    value = candidate
                except ValueError:
                    value = default  # a hand-edited or stale link: fall back quietly
            self.store[name] = value
        elif options is not None and self.store[name] not in options:
            self.store[name] = default
        widget_key = f"{self.name}.{name}"
        st.session_state[widget_key] = self.store[name]
        self.names.append(name)
        return widget_key

    def on_change(self, name: str) -> None:
        """Widget callback: copy the widget's value into the durable store."""
        self.store[name] = st.session_state[f"{self.name}.{name}"]

    def get(self, name: str) -> Any:
        return self.store[name]

    def set(self, name: str, value: Any) -> None:
        self.store[name] = value

    def bind(self, name: str) -> dict[str, Any]:
        """Keyword arguments for a widget bound to a declared setting: key, on_change, args."""
        return {"key": f"{self.name}.{name}", "on_change": self.on_change, "args": (name,)}

    def bind_setting(self, name: str, default: Any, **validation: Any) -> dict[str, Any]:
        """Declare a setting and return the widget keyword arguments in one go."""
        self.setting(name, default, **validation)
        return self.bind(name)

    def sync_url(self, extra: dict[str, Any] | None = None) -> None:
        """Write the language, presenter mode, model and this page's settings into the URL."""
        params = {"lang": current_language()}
        if presenter():
            params["presenter"] = "1"
        key = st.session_state.get(MODEL_KEY)
        if key:
            params["model"] = key
        for name in self.names:
            params[name] = _format(self.store[name])
        for name, value in (extra or {}).items():
            if value is not None:
                params[name] = _format(value)
        if dict(st.query_params) != params:
            st.query_params.from_dict(params)

    def controls(self):
        """A container for the page's controls: folded away in presenter mode."""
        return st.expander(t("common.controls"), expanded=not presenter())


def _on_language_change() -> None:
    set_language(st.session_state["_w_lang"])


def _on_presenter_change() -> None:
    st.session_state[PRESENTER_KEY] = st.session_state["_w_presenter"]


def _on_model_change(widget_key: str) -> None:
    _, generation = st.session_state.get(MODEL_DRAWN_KEY, (None, 0))
    if widget_key != f"_w_model.{generation}":
        return  # a selector from before the app changed the model (see sidebar): not the student's choice
    st.session_state[MODEL_KEY] = st.session_state[widget_key]
    st.session_state[MODEL_DRAWN_KEY] = (st.session_state[widget_key], generation)


def _model_label(key: str) -> str:
    found = resolve(key)
    return found.label if found is not None else key


def sidebar(page: str) -> None:
    with st.sidebar:
        st.markdown(f"### {t('app.title')}")
        st.session_state["_w_lang"] = current_language()
        st.radio(
            t("sidebar.language"),
            options=list(LANGUAGES),
            format_func=LANGUAGES.get,
            horizontal=True,
            key="_w_lang",
            on_change=_on_language_change,
        )
        for name, path in PAGES:
            st.page_link(path, label=t(f"nav.{name}"), disabled=name == page)
        class_session.sidebar(page)
        heartbeat("pages/7_Train.py", t("sidebar.training_running"))
        remember_browser()
        class_session.write_cookies()
        st.divider()
        st.session_state["_w_presenter"] = presenter()
        st.toggle(
            t("sidebar.presenter"),
            key="_w_presenter",
            help=t("sidebar.presenter_help"),
            on_change=_on_presenter_change,
        )
        choices = model_choices()
        current = st.session_state.get(MODEL_KEY) or default_key()  # the model this run will show
        if choices:
            selected = current if current in choices else choices[0]
            # A new selector (a new key) whenever the app itself changed the model (a run ended, a checkpoint
            # was loaded). A rerun the browser asked for before it saw that change (a fragment's timer on
            # the Train page) still carries the old selection; without this, the old selector's on_change
            # would take it for the student's choice and switch back to the old model.
            drawn, generation = st.session_state.get(MODEL_DRAWN_KEY, (None, 0))
            if selected != drawn:
                generation += 1
            st.session_state[MODEL_DRAWN_KEY] = (selected, generation)
            widget_key = f"_w_model.{generation}"
            st.session_state[widget_key] = selected
            # Labels computed now, in this run's language: Streamlit may call format_func later.
            labels = {key: _model_label(key) for key in choices}
            st.selectbox(
                t("sidebar.model_select"),
                options=choices,
                format_func=labels.get,
                key=widget_key,
                on_change=_on_model_change,
                args=(widget_key,),
            )


def _seed_globals_from_url() -> None:
    """On a session's first run, take language, presenter mode and model from the URL."""
    if "_url_seeded" in st.session_state:
        return
    st.session_state["_url_seeded"] = True
    lang = st.query_params.get("lang")
    if lang in LANGUAGES:
        st.session_state[LANG_KEY] = lang
    st.session_state[PRESENTER_KEY] = st.query_params.get("presenter") == "1"
    model = st.query_params.get("model")
    if model and resolve(model) is not None:
        st.session_state[MODEL_KEY] = model


def page_setup(page: str, wide: bool = True) -> Page:
    """Call first on every page: error guard, page config, language, sidebar, presenter styling."""
    guard.install()  # from here on an uncaught exception shows a translated sentence, not a traceback
    media_grace.install()  # a download's file outlives other sessions' reruns (ui/media_grace.py)
    st.set_page_config(page_title=f"{t('nav.' + page)} · TinyLM Lab", page_icon="🧠", layout="wide")
    _seed_globals_from_url()
    current_language()
    sidebar(page)
    st.html(NAV_CSS)
    if presenter():
        st.html(PRESENTER_CSS)
    return Page(page)


def show_error(exc: Exception) -> None:
    """A tinylm error (or any other) as a message in the user's language — never a traceback."""
    st.error(error_message(exc))


def require_model():
    """The active model, or stop the page with a message when there is none."""
    model = active_model()
    if model is None:
        st.warning(t("model.none"))
        st.stop()
    return model


def model_caption(model) -> None:
    st.caption(f"{t('sidebar.active_model')}: {model_summary(model)}")


def model_page(name: str) -> tuple[Page, Any]:
    """The start of every page that shows the active model: ``page_setup``, the model (or a message and
    the page stops), the page's title and which model it shows. Returns (page, active model)."""
    page = page_setup(name)
    active = require_model()
    st.title(t(f"nav.{name}"))
    model_caption(active)
    return page, active


def stop_here(page: Page) -> NoReturn:
    """End the page's run early (nothing to show yet, or an error shown): its settings still go into
    the URL, so the link keeps the view."""
    page.sync_url()
    st.stop()


def or_stop(page: Page, compute: Callable[..., T], *args: Any) -> T:
    """``compute(*args)``; if the student's input makes it raise a TinyLMError, the error in their
    language, and the page ends there."""
    try:
        return compute(*args)
    except TinyLMError as exc:
        show_error(exc)
        stop_here(page)
