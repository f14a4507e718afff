"""Classroom mode's Streamlit glue: who this browser is in a class (a student's membership, a teacher's
key), kept in session state and in a cookie, and what the other pages need from it (the class's preset
for the Train page, recording a student's run, the sidebar's links and lines).

The secrets, and where they live:

* The **teacher key** opens the class's dashboard. It reaches the server once: typed into a password
  field of the Teacher page, or in a teacher link ``/Teacher?teacher=<key>``, which that page removes
  from the address bar in its first run (:func:`take_teacher_key_from_url`). From then on it lives in
  this session's state and in a cookie of the teacher's browser (``tinylm_teacher``: a refresh keeps
  the dashboard open). It is never written into a URL, a widget's value, a download, or any text the
  pages show, but for the teacher link shown to the teacher when the class is made (never in the
  projector view).
* The **member token** brings a student back as the same member of their class (their display name and
  their runs). It lives in the session's state and in the cookie ``tinylm_class`` (``CODE.TOKEN``),
  never in a URL. The class code itself is public: it is meant to be read out and shared (``?class=``).

Cookie values are used only when they match their exact pattern, and written by a line of JavaScript
only from values of that pattern, so nothing in them can break out of the script. The database keeps
only hashes of both secrets (ui/classroom/text.py).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import streamlit as st

from tinylm.errors import TinyLMError
from ui.class_data import clean_preset
from ui.classroom import Class, Member, Preset, shared_store
from ui.classroom.text import CODE_ALPHABET, CODE_LENGTH, normalise_code
from ui.i18n import t

LOG = logging.getLogger("tinylm.classroom")

CLASS_PAGE = "pages/11_Class.py"
TEACHER_PAGE = "pages/12_Teacher.py"
MEMBER_KEY = "_class_member"  # st.session_state: {"code": ..., "token": ...}
MEMBER_CHECKED_KEY = "_class_member_checked"  # (time.monotonic(), Class, Member) of the last check
TEACHER_KEY = "_class_teacher_key"  # st.session_state: the teacher key
TEACHER_CHECKED_KEY = "_class_teacher_checked"  # (time.monotonic(), key, Class)
NEW_CLASS_KEY = "_class_new"  # a class just created: its teacher link is shown until dismissed
COOKIES_READ_KEY = "_class_cookies_read"
COOKIE_WRITES_KEY = "_class_cookie_writes"  # cookies to write (or delete) in the browser
NOTICE_KEY = "_class_notice"  # a message for the next page run ("your class has ended")
MEMBER_COOKIE, TEACHER_COOKIE = "tinylm_class", "tinylm_teacher"
RECHECK_SECONDS = 15.0  # a session re-reads its class from the database at most this often
MAX_COOKIE_SECONDS = 30 * 24 * 3600
MEMBER_COOKIE_PATTERN = re.compile(rf"([{CODE_ALPHABET}]{{{CODE_LENGTH}}})\.([A-Za-z0-9_-]{{22}})")
TEACHER_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24)
COOKIE_NAME = re.compile(r"tinylm_[a-z]+")


# ---------------------------------------------------------------------------------------------
# Cookies
# ---------------------------------------------------------------------------------------------


def _cookie(name: str) -> str | None:
    try:
        value = st.context.cookies.get(name)
    except Exception:  # no browser request behind this session (tests)
        return None
    return value if isinstance(value, str) else None


def _read_cookies_once() -> None:
    """A new session (a refresh, a reconnect, a second tab): take the secrets from the cookies."""
    if st.session_state.get(COOKIES_READ_KEY):
        return
    st.session_state[COOKIES_READ_KEY] = True
    member = MEMBER_COOKIE_PATTERN.fullmatch(_cookie(MEMBER_COOKIE) or "")
    if member is not None and MEMBER_KEY not in st.session_state:
        st.session_state[MEMBER_KEY] = {"code": member[1], "token": member[2]}
    key = _cookie(TEACHER_COOKIE) or ""
    if TEACHER_KEY_PATTERN.fullmatch(key) and TEACHER_KEY not in st.session_state:
        st.session_state[TEACHER_KEY] = key


def _queue_cookie(name: str, value: str, seconds: float) -> None:
    st.session_state.setdefault(COOKIE_WRITES_KEY, {})[name] = (value, max(0, int(seconds)))


def write_cookies() -> None:
    """Write the cookies this session changed into the browser (once). Every value written matches
    MEMBER_COOKIE_PATTERN or TEACHER_KEY_PATTERN, or is empty (a deletion)."""
    writes = st.session_state.pop(COOKIE_WRITES_KEY, None)
    if not writes:
        return
    lines = []
    for name, (value, seconds) in writes.items():
        safe = (
            value == ""
            or MEMBER_COOKIE_PATTERN.fullmatch(value) is not None
            or TEACHER_KEY_PATTERN.fullmatch(value) is not None
        )
        if COOKIE_NAME.fullmatch(name) and safe:
            lines.append(f"document.cookie = '{name}={value}; path=/; max-age={seconds}; SameSite=Strict';")
    if lines:
        st.html("<script>" + "".join(lines) + "</script>", unsafe_allow_javascript=True)


def _seconds_left(klass: Class) -> float:
    return min(MAX_COOKIE_SECONDS, max(60.0, klass.expires_at - time.time()))


def _notice(key: str) -> None:
    st.session_state[NOTICE_KEY] = key


def pop_notice() -> str | None:
    """The translated message left for this page run, if any ("your class has ended")."""
    key = st.session_state.pop(NOTICE_KEY, None)
    return t(key) if key else None


# ---------------------------------------------------------------------------------------------
# A student's class
# ---------------------------------------------------------------------------------------------


def membership() -> tuple[Class, Member] | None:
    """The class this browser's student is in, and their member; None if not in one (any more).
    Checked against the database at most every RECHECK_SECONDS; a database that does not answer
    leaves the student in their class (and this page working)."""
    _read_cookies_once()
    saved = st.session_state.get(MEMBER_KEY)
    if not saved:
        return None
    checked = st.session_state.get(MEMBER_CHECKED_KEY)
    now = time.monotonic()
    if checked and checked[1].code == saved["code"] and now - checked[0] < RECHECK_SECONDS:
        return checked[1], checked[2]
    try:
        store = shared_store()
        klass = store.find_class(saved["code"])
        member = store.member(klass, saved["token"]) if klass is not None else None
    except TinyLMError:  # the class ended between the two reads
        member = None
    except Exception:
        LOG.exception("classroom database")
        return (checked[1], checked[2]) if checked else None
    if member is None:
        leave()
        _notice("class.ended")
        return None
    st.session_state[MEMBER_CHECKED_KEY] = (now, klass, member)
    return klass, member


def _remember_member(klass: Class, member: Member) -> None:
    st.session_state[MEMBER_KEY] = {"code": klass.code, "token": member.token}
    st.session_state[MEMBER_CHECKED_KEY] = (time.monotonic(), klass, member)
    _queue_cookie(MEMBER_COOKIE, f"{klass.code}.{member.token}", _seconds_left(klass))


def join(code: str, name: str) -> tuple[Class, Member]:
    """Join the class with this code under a display name (or come back to it: the same member, renamed).
    Raises TinyLMError (no such class, a bad name, a full class)."""
    store = shared_store()
    saved = st.session_state.get(MEMBER_KEY) or {}
    token = saved.get("token") if saved.get("code") == normalise_code(code) else None
    member = store.join(code, name, member_token=token)
    klass = store.find_class(code)
    if klass is None:
        raise TinyLMError("class_not_found", "the class ended", class_code=str(code)[:16])
    _remember_member(klass, member)
    return klass, member


def leave() -> None:
    """Forget the class in this browser (the member and their runs stay in the class)."""
    st.session_state.pop(MEMBER_KEY, None)
    st.session_state.pop(MEMBER_CHECKED_KEY, None)
    _queue_cookie(MEMBER_COOKIE, "", 0)


def code_from_url() -> str | None:
    """The class code of a shared link (``?class=CODE``), if it is one."""
    raw = st.query_params.get("class")
    return normalise_code(raw) if isinstance(raw, str) else None


def record_run(run_id: str) -> Exception | None:
    """A class member started a run: the class records it (the dashboard and the gallery list it).
    Returns the reason it could not be recorded (the run trains anyway)."""
    found = membership()
    if found is None:
        return None
    try:
        shared_store().add_run(found[0], found[1], run_id)
    except TinyLMError as exc:
        return exc
    except Exception as exc:
        LOG.exception("classroom database")
        return exc
    return None


def class_preset() -> Preset | None:
    """The settings the student's teacher pushed (checked against the app's bounds), or None."""
    found = membership()
    if found is None:
        return None
    try:
        preset = shared_store().get_preset(found[0])
    except Exception:  # an ended class or a database that does not answer: the usual starting point
        return None
    if preset is None:
        return None
    return Preset(preset.label, clean_preset(preset.settings), preset.set_at)


def classmates_not_started() -> int:
    """Classmates who joined but have not started a run yet (0 outside a class): the runs still to come
    in this round, on top of the queue, for the Train page's fair budget."""
    found = membership()
    if found is None:
        return 0
    klass, me = found
    try:
        store = shared_store()
        started = {run.member_id for run in store.runs_of_class(klass)}
        return sum(1 for member in store.members(klass) if member.id != me.id and member.id not in started)
    except Exception:
        return 0


# ---------------------------------------------------------------------------------------------
# A teacher
# ---------------------------------------------------------------------------------------------


def key_from_text(text: Any) -> str | None:
    """The teacher key in what was pasted: the key itself, or a teacher link holding it."""
    if not isinstance(text, str) or len(text) > 2000:
        return None
    text = text.strip()
    if "teacher=" in text:
        values = parse_qs(urlsplit(text).query).get("teacher") or parse_qs(text.split("?")[-1]).get("teacher")
        text = (values or [""])[0].strip()
    return text if TEACHER_KEY_PATTERN.fullmatch(text) else None


def teacher_class() -> Class | None:
    """The class whose teacher key this session holds (a teacher's Class), or None."""
    _read_cookies_once()
    key = st.session_state.get(TEACHER_KEY)
    if not key:
        return None
    checked = st.session_state.get(TEACHER_CHECKED_KEY)
    now = time.monotonic()
    if checked and checked[1] == key and now - checked[0] < RECHECK_SECONDS:
        return checked[2]
    try:
        klass = shared_store().teacher_class(key)
    except Exception:
        LOG.exception("classroom database")
        return checked[2] if checked and checked[1] == key else None
    if klass is None:
        sign_out()
        _notice("teacher.class_ended")
        return None
    st.session_state[TEACHER_CHECKED_KEY] = (now, key, klass)
    return klass


def sign_in(text: str) -> Class | None:
    """Open a class's dashboard with its teacher key (or teacher link); None if it opens none."""
    key = key_from_text(text)
    if key is None:
        return None
    klass = shared_store().teacher_class(key)
    if klass is None:
        return None
    st.session_state[TEACHER_KEY] = key
    st.session_state[TEACHER_CHECKED_KEY] = (time.monotonic(), key, klass)
    _queue_cookie(TEACHER_COOKIE, key, _seconds_left(klass))
    return klass


def take_teacher_key_from_url() -> bool | None:
    """A teacher link (``?teacher=<key>``): the key moves into this session (and its cookie) and out of
    the address bar at once. Returns whether it opened a class (None: no key in the URL)."""
    if "teacher" not in st.query_params:
        return None
    raw = st.query_params.get("teacher")
    del st.query_params["teacher"]
    try:
        return sign_in(raw) is not None
    except Exception:
        LOG.exception("classroom database")
        return False


def create_class(name: str, hours: float) -> Class:
    """A new class with this session as its teacher. Raises TinyLMError (a bad name or length, too many
    classes on the server)."""
    store = shared_store()
    code, key = store.create_class(name, expires_in_seconds=hours * 3600.0)
    klass = sign_in(key)
    if klass is None:
        raise TinyLMError("class_not_found", "the class ended", class_code=code)
    st.session_state[NEW_CLASS_KEY] = True
    return klass


def teacher_link(base_url: str | None) -> str:
    """The teacher link of this session's class (for the teacher alone: never shown in the projector view)."""
    key = st.session_state.get(TEACHER_KEY, "")
    return f"{page_url(base_url, 'Teacher')}?teacher={key}"


def sign_out() -> None:
    """Close the dashboard in this browser (the class goes on; the teacher link opens it again)."""
    for name in (TEACHER_KEY, TEACHER_CHECKED_KEY, NEW_CLASS_KEY):
        st.session_state.pop(name, None)
    _queue_cookie(TEACHER_COOKIE, "", 0)


def is_teacher_session() -> bool:
    """Whether this browser holds a teacher key (cheap: no database; the Teacher page checks the key)."""
    _read_cookies_once()
    return bool(st.session_state.get(TEACHER_KEY))


def page_url(base_url: str | None, path: str) -> str:
    """The address of another page of this app (``base_url``: st.context.url, the current page's)."""
    if not base_url:
        return f"/{path}"
    parts = urlsplit(base_url)
    segments = parts.path.rstrip("/").split("/")
    if segments and segments[-1] in ("Class", "Teacher", "Train"):
        segments = segments[:-1]
    return f"{parts.scheme}://{parts.netloc}{'/'.join(segments)}/{path}"


def current_url() -> str | None:
    try:
        return st.context.url
    except Exception:
        return None


# ---------------------------------------------------------------------------------------------
# The sidebar
# ---------------------------------------------------------------------------------------------


def sidebar(page: str) -> None:
    """Under the page links: the class page, the student's class and name (as plain text: names are
    data), a link to join the class of a shared link, and the dashboard's link in a teacher's browser."""
    st.page_link(CLASS_PAGE, label=t("nav.class"), disabled=page == "class")
    found = membership()
    if found is not None:
        st.text(t("class.sidebar_member", name=found[0].name, you=found[1].display_name))
    code = code_from_url()
    if code and page != "class" and (found is None or found[0].code != code):
        st.page_link(CLASS_PAGE, label=t("class.sidebar_join", code=code), query_params={"class": code})
    if is_teacher_session():
        st.page_link(TEACHER_PAGE, label=t("nav.teacher"), disabled=page == "teacher")
