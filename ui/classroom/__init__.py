"""Classroom mode's storage: classes, their members and runs, and the teacher's preset (issue #14).

One database for every app replica (issue #15): ``TINYLM_CLASSROOM_DB`` is a URL,
``sqlite:///path/to/classroom.db`` (the default: ``classroom.sqlite3`` in the runs folder) or
``postgresql://user@host:port/db`` when several replicas share it. ``TINYLM_CLASSROOM_HOURS`` is how
long a class lives unless its teacher says otherwise (default 12).

Modules: ``store`` (:class:`ClassroomStore`), ``records`` (the dataclasses, the limits, the errors),
``backends`` (the URL, the SQL dialect layer, the connection pool), ``migrations`` (the schema,
versioned), ``text`` (class codes, secret keys, display names). None of them imports streamlit.
"""

from ui.classroom.backends import DB_ENV, default_url
from ui.classroom.records import ERROR_CODES, Class, ClassRun, Limits, Member, Preset
from ui.classroom.store import ClassroomStore, reset_shared_store_for_tests, shared_store

__all__ = [
    "DB_ENV",
    "ERROR_CODES",
    "Class",
    "ClassRun",
    "ClassroomStore",
    "Limits",
    "Member",
    "Preset",
    "default_url",
    "reset_shared_store_for_tests",
    "shared_store",
]
