"""Teacher: create a class, or open its dashboard with the teacher key, and run the lesson: every run of
the class live (flags for waiting, stuck and diverged runs), pause or stop any of them, push the settings
every student's Train page starts from, and a projector view of the best runs with their samples.

Only the teacher key opens the dashboard. A teacher link (``?teacher=<key>``) is taken out of the
address bar in the page's first run; the key then lives in the session and a cookie of the teacher's
browser (ui/class_session.py). The projector view (and presenter mode) hides the key and every control.
The dashboard itself is drawn in ui/class_view.py.
"""

from __future__ import annotations

import time

import streamlit as st

from ui import class_session, class_view
from ui.classroom import Limits, shared_store
from ui.i18n import t
from ui.layout import page_setup, presenter, show_error
from ui.widgets import markdown_literal

page = page_setup("teacher")
opened = class_session.take_teacher_key_from_url()  # first: the key leaves the address bar at once
page.setting("projector", False)
class_view.declare_curve_settings(page)

NAME_KEY, HOURS_KEY, KEY_KEY = "teacher.new_name", "teacher.new_hours", "teacher.key"
ERROR_KEY = "_teacher_error"
DEFAULT_HOURS = 3.0


def create() -> None:
    """The Create button: a new class, with this browser as its teacher."""
    try:
        class_session.create_class(
            st.session_state.get(NAME_KEY, ""), float(st.session_state.get(HOURS_KEY, DEFAULT_HOURS))
        )
    except Exception as exc:  # TinyLMError: a bad name, too many classes; or the database did not answer
        st.session_state[ERROR_KEY] = exc


def open_with_key() -> None:
    """The Open button: the dashboard of the class whose key (or teacher link) was pasted."""
    text = st.session_state.get(KEY_KEY, "")
    st.session_state[KEY_KEY] = ""  # the key does not stay in the field
    try:
        opened = class_session.sign_in(text)
    except Exception as exc:
        st.session_state[ERROR_KEY] = exc
        return
    if opened is None:
        st.session_state[ERROR_KEY] = "teacher.bad_key"


def saved_link() -> None:
    st.session_state.pop(class_session.NEW_CLASS_KEY, None)


def end_class() -> None:
    klass = class_session.teacher_class()
    if klass is not None and st.session_state.get("teacher.end_confirm"):
        try:
            shared_store().delete_class(klass)
        except Exception as exc:
            st.session_state[ERROR_KEY] = exc
            return
        class_session.sign_out()
        st.session_state[class_session.NOTICE_KEY] = "teacher.class_deleted"


st.title(t("nav.teacher"))
notice = class_session.pop_notice()
if notice:
    st.info(notice)
class_view.show_notice()
if opened is False:
    st.error(t("teacher.bad_link"))
error = st.session_state.pop(ERROR_KEY, None)  # what a button's callback could not do
if isinstance(error, Exception):
    show_error(error)
elif error:
    st.error(t("teacher.bad_key"))

klass = class_session.teacher_class()
if klass is None:
    # -- no class open: open one with its key, or create one --------------------------------------
    st.markdown(t("teacher.intro"))
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(t("teacher.open_title"))
        st.text_input(t("teacher.key_label"), key=KEY_KEY, type="password", help=t("teacher.key_help"))
        st.button(t("teacher.open"), key="teacher.open", on_click=open_with_key, icon=":material/key:")
    with right:
        st.subheader(t("teacher.create_title"))
        st.text_input(t("teacher.class_name"), key=NAME_KEY, max_chars=Limits().class_name_chars)
        st.session_state.setdefault(HOURS_KEY, DEFAULT_HOURS)
        st.number_input(t("teacher.hours"), 0.5, 72.0, step=0.5, key=HOURS_KEY, help=t("teacher.hours_help"))
        st.button(t("teacher.create"), key="teacher.create", type="primary", on_click=create)
    class_session.write_cookies()
    page.sync_url()
    st.stop()

# -- the dashboard --------------------------------------------------------------------------------
projector = bool(page.get("projector") or presenter())
st.subheader(markdown_literal(klass.name))
join_link = f"{class_session.page_url(class_session.current_url(), 'Class')}?class={klass.code}"
cols = st.columns([1, 3], vertical_alignment="center")
cols[0].metric(t("teacher.code"), klass.code)
with cols[1]:
    st.caption(t("teacher.join_hint"))
    st.code(join_link, language=None)
minutes = max(0, round((klass.expires_at - time.time()) / 60))
st.caption(t("teacher.ends_in", hours=minutes // 60, minutes=minutes % 60))
st.toggle(t("teacher.projector"), help=t("teacher.projector_help"), **page.bind("projector"))
if presenter():
    st.caption(t("teacher.presenter_is_projector"))

if not projector:
    if st.session_state.get(class_session.NEW_CLASS_KEY):
        with st.container(border=True):
            st.warning(t("teacher.save_link"))
            st.code(class_session.teacher_link(class_session.current_url()), language=None)
            st.button(t("teacher.saved_it"), key="teacher.saved_it", on_click=saved_link)
    with st.expander(t("teacher.preset_title"), expanded=False):
        class_view.preset_editor(klass)
    with st.expander(t("teacher.manage_title"), expanded=False):
        if st.toggle(t("teacher.show_link"), key="teacher.show_link"):
            st.code(class_session.teacher_link(class_session.current_url()), language=None)
        st.button(t("teacher.sign_out"), key="teacher.sign_out", on_click=class_session.sign_out)
        st.checkbox(t("teacher.end_confirm"), key="teacher.end_confirm")
        st.button(
            t("teacher.end_class"),
            key="teacher.end_class",
            on_click=end_class,
            disabled=not st.session_state.get("teacher.end_confirm"),
        )
    class_view.curve_options(page, "teacher.curves")

class_view.dashboard(page, projector)

class_session.write_cookies()
page.sync_url()
