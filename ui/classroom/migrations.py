"""The classroom database's schema, as numbered migrations.

``schema_version`` holds one row per migration applied. :func:`migrate` applies the missing ones in
order, all inside one transaction that first takes the database's write lock (SQLite: ``BEGIN
IMMEDIATE``; PostgreSQL: an advisory lock), so two app replicas starting at once never both apply the
same migration: the second waits, then finds nothing left to do. Applying is idempotent.

A migration is a list of statements, written once for both databases: ``{id}`` is the dialect's
auto-numbered primary key, ``{float}`` its double-precision type (times are Unix seconds).
Never edit a migration that has shipped: add the next one.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from ui.classroom.backends import Backend

log = logging.getLogger(__name__)

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "classes, their members and the members' runs",
        [
            # code: what students type; teacher_key_hash: sha256 of the teacher key, which itself is
            # never stored. preset_*: the settings the teacher pushed (a JSON object), if any.
            """CREATE TABLE classes (
                id {id},
                code TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                teacher_key_hash TEXT NOT NULL UNIQUE,
                created_at {float} NOT NULL,
                expires_at {float} NOT NULL,
                preset_json TEXT,
                preset_label TEXT,
                preset_at {float}
            )""",
            "CREATE INDEX classes_expires_at ON classes (expires_at)",
            # token_hash: sha256 of the member token the student's browser keeps (so a database dump
            # cannot be used to act as a student); name_key: the display name case-folded, unique per
            # class, so 'Lily' and 'lily' are not two different students on the teacher's screen.
            """CREATE TABLE members (
                id {id},
                class_id BIGINT NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
                token_hash TEXT NOT NULL UNIQUE,
                display_name TEXT NOT NULL,
                name_key TEXT NOT NULL,
                joined_at {float} NOT NULL,
                seen_at {float} NOT NULL,
                UNIQUE (class_id, name_key)
            )""",
            """CREATE TABLE class_runs (
                id {id},
                class_id BIGINT NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
                member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
                run_id TEXT NOT NULL,
                added_at {float} NOT NULL,
                UNIQUE (member_id, run_id)
            )""",
            "CREATE INDEX class_runs_class ON class_runs (class_id, added_at)",
        ],
    ),
]
LATEST = MIGRATIONS[-1][0]
LOCK_NAME = "tinylm-classroom-migrations"


def migrate(backend: Backend, conn: Any, now: float) -> list[int]:
    """Apply the missing migrations on ``conn`` (in autocommit mode); returns the versions applied."""
    backend.begin(conn, write=True)
    try:
        backend.lock(conn, LOCK_NAME)
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
            f"description TEXT NOT NULL, applied_at {backend.float_type} NOT NULL)"
        )
        row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        current = row[0] or 0
        applied = []
        for version, description, statements in MIGRATIONS:
            if version <= current:
                continue
            for statement in statements:
                conn.execute(statement.format(id=backend.id_column, float=backend.float_type))
            conn.execute(
                backend.sql("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)"),
                (version, description, now),
            )
            applied.append(version)
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):  # its own failure must not hide the first error
            conn.execute("ROLLBACK")
        raise
    if current > LATEST:
        # A newer replica already migrated further. Migrations only add, so this code still works.
        log.warning("classroom database is at schema %s, newer than this app's %s", current, LATEST)
    for version in applied:
        log.info("classroom database: applied migration %s", version)
    return applied


def schema_version(conn: Any) -> int:
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)
