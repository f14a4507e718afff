"""Class: a student joins their class with its code (typed, or from a link ``?class=CODE``) and a
display name, then sees the class gallery: the class's finished runs side by side, their settings,
losses and samples, and any of their models can be used on every page.

No account and no password: the member token that brings the student back (after a refresh, a
reconnect, on another page) is kept in the session and a cookie, never in the URL (ui/class_session.py).
The gallery is drawn in ui/class_view.py.
"""

from __future__ import annotations

import streamlit as st

from ui import class_session, class_view
from ui.classroom import Limits
from ui.i18n import t
from ui.layout import page_setup, show_error
from ui.widgets import markdown_literal

page = page_setup("class")
class_view.declare_curve_settings(page)

CODE_KEY, NAME_KEY, RENAME_KEY = "class.code", "class.name", "class.rename"
JOIN_ERROR_KEY = "_class_join_error"


def join() -> None:
    """The Join button: the class with the typed code, under the typed name."""
    try:
        klass, _ = class_session.join(st.session_state.get(CODE_KEY, ""), st.session_state.get(NAME_KEY, ""))
    except Exception as exc:  # TinyLMError: no such class, a bad name; or a database that did not answer
        st.session_state[JOIN_ERROR_KEY] = exc
    else:
        st.query_params["class"] = klass.code  # the page below reads the class of the link


def rename(code: str) -> None:
    try:
        class_session.join(code, st.session_state.get(RENAME_KEY, ""))
    except Exception as exc:
        st.session_state[JOIN_ERROR_KEY] = exc


st.title(t("nav.class"))
notice = class_session.pop_notice()
if notice:
    st.warning(notice)
class_view.show_notice()

found = class_session.membership()
link_code = class_session.code_from_url()
joining = found is None or (link_code is not None and link_code != found[0].code)

if joining:
    # -- joining ---------------------------------------------------------------------------------
    st.markdown(t("class.intro"))
    if found is not None:
        st.info(t("class.other_class", name=markdown_literal(found[0].name)))
    if link_code and not st.session_state.get(CODE_KEY):
        st.session_state[CODE_KEY] = link_code
    limits = Limits()
    left, right = st.columns(2)
    left.text_input(t("class.code"), key=CODE_KEY, max_chars=12, placeholder="ABC234")
    right.text_input(
        t("class.display_name"),
        key=NAME_KEY,
        max_chars=limits.display_name_chars,
        help=t("class.display_name_help"),
    )
    st.button(t("class.join"), key="class.join", type="primary", on_click=join, icon=":material/login:")
    if JOIN_ERROR_KEY in st.session_state:
        show_error(st.session_state.pop(JOIN_ERROR_KEY))
    st.caption(t("class.privacy"))
    class_session.write_cookies()
    page.sync_url(extra={"class": link_code})
    st.stop()

# -- in a class ----------------------------------------------------------------------------------
klass, member = found
st.subheader(markdown_literal(klass.name))
st.text(t("class.you_are", name=member.display_name))
with page.controls():
    cols = st.columns([2, 1, 1], vertical_alignment="bottom")
    st.session_state.setdefault(RENAME_KEY, member.display_name)
    cols[0].text_input(t("class.rename"), key=RENAME_KEY, max_chars=Limits().display_name_chars)
    cols[1].button(t("class.rename_button"), key="class.rename_button", on_click=rename, args=(klass.code,))
    cols[2].button(
        t("class.leave"), key="class.leave", on_click=class_session.leave, icon=":material/logout:"
    )
    if JOIN_ERROR_KEY in st.session_state:
        show_error(st.session_state.pop(JOIN_ERROR_KEY))
    st.caption(t("class.privacy"))

preset = class_session.class_preset()
if preset is not None:
    st.info(t("class.preset_note", label=markdown_literal(preset.label or "–")))
st.page_link("pages/7_Train.py", label=t("class.go_train"), icon=":material/model_training:")

st.divider()
st.subheader(t("class.gallery_title"))
st.caption(t("class.gallery_caption"))
try:
    class_view.gallery(klass, page)
except Exception as exc:  # the class ended while the page was open, or the database did not answer
    show_error(exc)

class_session.write_cookies()
page.sync_url(extra={"class": klass.code})
