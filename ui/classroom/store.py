"""The classroom store: classes, their members, the members' runs and the teacher's preset.

Plain Python (no streamlit): the app, a test or a script opens it from a database URL::

    store = ClassroomStore()                       # $TINYLM_CLASSROOM_DB, else <runs dir>/classroom.sqlite3
    code, teacher_key = store.create_class("Year 9 · Tuesday", expires_in_seconds=3 * 3600)
    lily = store.join(code, "Lily")                # lily.token: keep it (URL / session) to come back
    store.add_run(store.find_class(code), lily, run_id)
    teacher = store.teacher_class(teacher_key)     # the teacher's view: the only Class that may push a preset
    store.set_preset(teacher, {"n_layers": 2, "pos_encoding": "rope", "seconds": 30}, "today")

Every method runs in one short transaction of its own, so several app replicas can share one
PostgreSQL database (or several processes one SQLite file) and each sees the others' writes at once.
A student whose reconnect lands on another replica finds their class with the code and their member
(and so their runs) with the member token.

Time comes from ``clock`` (``time.time`` unless a test gives a fake one). A class lives until its
``expires_at``: after that it is never found, and the next :meth:`ClassroomStore.create_class` or
:meth:`ClassroomStore.purge_expired` deletes it with its members and runs.

Limits (:class:`Limits`) bound everything a user can grow: the name lengths, the members of a class,
the runs recorded per member (the oldest are dropped), the classes alive at once and the preset's
size. Mistakes a user can make raise ``TinyLMError`` with the codes in :data:`ERROR_CODES`.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from tinylm.errors import TinyLMError
from ui.classroom import migrations
from ui.classroom.backends import Pool, Transaction, backend_for, default_url
from ui.classroom.records import (
    MAX_TYPED_CHARS,
    RUN_ID_PATTERN,
    Class,
    ClassRun,
    Limits,
    Member,
    Preset,
    bad_display_name,
    class_not_found,
    default_expiry_seconds,
)
from ui.classroom.text import (
    clean_text,
    looks_like_secret,
    name_key,
    new_class_code,
    new_member_token,
    new_teacher_key,
    normalise_code,
    numbered_name,
    secret_hash,
)

T = TypeVar("T")

_CLASS_COLUMNS = "id, code, name, created_at, expires_at"


def _class(row: tuple, teacher: bool = False) -> Class:
    return Class(int(row[0]), row[1], row[2], float(row[3]), float(row[4]), teacher)


class ClassroomStore:
    """Classes, members, runs and presets in one SQLite file or PostgreSQL database (see module doc)."""

    def __init__(
        self,
        url: str | None = None,
        *,
        clock: Callable[[], float] = time.time,
        limits: Limits | None = None,
        expiry_seconds: float | None = None,
        pool_size: int = 4,
    ) -> None:
        self._backend = backend_for(url or default_url())
        self._clock = clock
        self.limits = limits or Limits()
        self.expiry_seconds = expiry_seconds if expiry_seconds is not None else default_expiry_seconds()
        self._pool = Pool(self._backend.connect, pool_size)
        self.migrate()

    def __repr__(self) -> str:
        return f"ClassroomStore({self._backend.description!r})"

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._backend.name

    def __enter__(self) -> ClassroomStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pool.close()

    # -- transactions ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self, write: bool) -> Iterator[Transaction]:
        with self._pool.connection(self._backend.broken_errors) as conn:
            self._backend.begin(conn, write)
            try:
                yield Transaction(self._backend, conn)
                conn.execute("COMMIT")
            except BaseException:
                # A failed COMMIT leaves SQLite's transaction open; ROLLBACK ends it (and is harmless
                # where there is nothing to roll back). Its own failure must not hide the first error.
                with contextlib.suppress(Exception):
                    conn.execute("ROLLBACK")
                raise

    def _read(self, work: Callable[[Transaction], T]) -> T:
        with self._transaction(write=False) as tx:
            return work(tx)

    def _write(self, work: Callable[[Transaction], T], attempts: int = 1) -> T:
        """Run ``work`` in a writing transaction, again from the start if a unique constraint said no
        (a random class code taken, two replicas naming two students 'Lily' at once)."""
        for attempt in range(attempts):
            try:
                with self._transaction(write=True) as tx:
                    return work(tx)
            except self._backend.integrity_errors:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def migrate(self) -> list[int]:
        """Apply the schema migrations this database lacks (idempotent; safe from many replicas at once)."""
        with self._pool.connection(self._backend.broken_errors) as conn:
            return migrations.migrate(self._backend, conn, self._clock())

    def schema_version(self) -> int:
        return self._read(lambda tx: migrations.schema_version(tx.conn))

    def _live_class(self, tx: Transaction, klass: Class) -> None:
        """Raise class_not_found unless ``klass`` still exists and has not expired."""
        found = tx.row("SELECT id FROM classes WHERE id = ? AND expires_at > ?", klass.id, self._clock())
        if found is None:
            raise class_not_found(klass.code)

    @staticmethod
    def _require_teacher(klass: Class) -> None:
        if not klass.teacher:
            raise TinyLMError("teacher_only", "Only the class's teacher can do this.")

    # -- classes -----------------------------------------------------------------------------------

    def create_class(self, name: str, expires_in_seconds: float | None = None) -> tuple[str, str]:
        """A new class; returns ``(class code, teacher key)``. The key is shown to the teacher once
        (in their link) and never stored: keep it."""
        limits = self.limits
        cleaned = clean_text(name) if isinstance(name, str) and len(name) <= MAX_TYPED_CHARS else ""
        if not cleaned or len(cleaned) > limits.class_name_chars:
            raise TinyLMError(
                "bad_class_name",
                f"A class name needs 1 to {limits.class_name_chars} characters.",
                limit=limits.class_name_chars,
            )
        seconds = self.expiry_seconds if expires_in_seconds is None else float(expires_in_seconds)
        if not (limits.min_expiry_seconds <= seconds <= limits.max_expiry_seconds):
            low, high = limits.min_expiry_seconds / 60, limits.max_expiry_seconds / 3600
            raise TinyLMError(
                "bad_class_expiry",
                f"A class can last from {low:g} minutes to {high:g} hours.",
                low_minutes=f"{low:g}",
                high_hours=f"{high:g}",
            )
        teacher_key = new_teacher_key()

        def work(tx: Transaction) -> str:
            now = self._clock()
            # Serialises class creation across replicas, so the count below cannot be overtaken.
            tx.lock("tinylm-classroom-create-class")
            # Expired classes go first: their codes become free and they no longer count.
            tx.run("DELETE FROM classes WHERE expires_at <= ?", now)
            (alive,) = tx.row("SELECT COUNT(*) FROM classes")
            if alive >= limits.live_classes:
                raise TinyLMError(
                    "too_many_classes",
                    f"This server already has {limits.live_classes} classes; try again later.",
                    limit=limits.live_classes,
                )
            code = new_class_code()  # the UNIQUE constraint refuses a clash: _write tries a new code
            tx.insert(
                "INSERT INTO classes (code, name, teacher_key_hash, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                code,
                cleaned,
                secret_hash(teacher_key),
                now,
                now + seconds,
            )
            return code

        return self._write(work, attempts=8), teacher_key

    def find_class(self, code: str) -> Class | None:
        """The live class with this code (any case, spaces and dashes ignored), else None."""
        normal = normalise_code(code)
        if normal is None:
            return None
        row = self._read(
            lambda tx: tx.row(
                f"SELECT {_CLASS_COLUMNS} FROM classes WHERE code = ? AND expires_at > ?",
                normal,
                self._clock(),
            )
        )
        return None if row is None else _class(row)

    def teacher_class(self, teacher_key: str) -> Class | None:
        """The live class this teacher key opens (as a teacher's Class), else None."""
        if not looks_like_secret(teacher_key):
            return None
        digest = secret_hash(teacher_key)
        row = self._read(
            lambda tx: tx.row(
                f"SELECT {_CLASS_COLUMNS}, teacher_key_hash FROM classes "
                "WHERE teacher_key_hash = ? AND expires_at > ?",
                digest,
                self._clock(),
            )
        )
        # The lookup is by hash, so its timing tells nothing about the key itself; the final check
        # compares in constant time anyway, so correctness never rests on the index alone.
        if row is None or not hmac.compare_digest(row[5], digest):
            return None
        return _class(row, teacher=True)

    def delete_class(self, klass: Class) -> None:
        """End a class now (teacher only): its members and the record of their runs go with it."""
        self._require_teacher(klass)
        self._write(lambda tx: tx.run("DELETE FROM classes WHERE id = ?", klass.id))

    def purge_expired(self) -> int:
        """Delete the expired classes (with their members and runs); returns how many."""
        return self._write(lambda tx: tx.run("DELETE FROM classes WHERE expires_at <= ?", self._clock()))

    # -- members -----------------------------------------------------------------------------------

    def join(self, code: str, display_name: str | None, *, member_token: str | None = None) -> Member:
        """Join the class with this code, or come back to it.

        With the ``member_token`` of a member of this class, the student is that member again (and is
        renamed if ``display_name`` is given and differs). Otherwise a new member is made with a fresh
        token (never one the caller chose). The display name is cleaned and made unique in the class:
        a second 'Lily' becomes 'Lily (2)'.
        """
        limits = self.limits
        normal = normalise_code(code)
        if normal is None:
            raise class_not_found(code)
        name = None
        if display_name is not None:
            name = clean_text(display_name[:MAX_TYPED_CHARS], limits.display_name_chars)
            if not name:
                raise bad_display_name(limits)
        token_hash = secret_hash(member_token) if looks_like_secret(member_token) else None

        def work(tx: Transaction) -> Member:
            now = self._clock()
            # The class row stays locked until COMMIT (PostgreSQL; SQLite's BEGIN IMMEDIATE locks all):
            # counting the members and choosing a free name cannot interleave with another join.
            row = tx.row(
                f"SELECT id FROM classes WHERE code = ? AND expires_at > ?{self._backend.for_update()}",
                normal,
                now,
            )
            if row is None:
                raise class_not_found(normal)
            class_id = int(row[0])
            if token_hash is not None:
                found = tx.row(
                    "SELECT id, display_name, joined_at FROM members WHERE class_id = ? AND token_hash = ?",
                    class_id,
                    token_hash,
                )
                if found is not None:
                    member_id, current, joined_at = int(found[0]), found[1], float(found[2])
                    if name is not None and name != current:
                        current = self._free_name(tx, class_id, name, exclude=member_id)
                    tx.run(
                        "UPDATE members SET display_name = ?, name_key = ?, seen_at = ? WHERE id = ?",
                        current,
                        name_key(current),
                        now,
                        member_id,
                    )
                    return Member(member_id, class_id, current, joined_at, token=member_token)
            if name is None:
                raise bad_display_name(limits)
            (count,) = tx.row("SELECT COUNT(*) FROM members WHERE class_id = ?", class_id)
            if count >= limits.members_per_class:
                raise TinyLMError(
                    "class_full",
                    f"This class is full ({limits.members_per_class} students).",
                    limit=limits.members_per_class,
                )
            unique = self._free_name(tx, class_id, name)
            token = new_member_token()
            member_id = tx.insert(
                "INSERT INTO members (class_id, token_hash, display_name, name_key, joined_at, seen_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                class_id,
                secret_hash(token),
                unique,
                name_key(unique),
                now,
                now,
            )
            return Member(member_id, class_id, unique, now, token=token)

        return self._write(work, attempts=3)

    def _free_name(self, tx: Transaction, class_id: int, name: str, exclude: int | None = None) -> str:
        taken = {
            key
            for (key,) in tx.rows(
                "SELECT name_key FROM members WHERE class_id = ? AND id <> ?", class_id, exclude or -1
            )
        }
        if name_key(name) not in taken:
            return name
        # len(taken) < members_per_class, so one of these many numbers is free.
        for number in range(2, self.limits.members_per_class + 2):
            candidate = numbered_name(name, number, self.limits.display_name_chars)
            if name_key(candidate) not in taken:
                return candidate
        raise AssertionError("no free display name")

    def member(self, klass: Class, member_token: str) -> Member | None:
        """The member of ``klass`` this token belongs to (a reconnect, on any replica), else None."""
        if not looks_like_secret(member_token):
            return None

        def work(tx: Transaction) -> Member | None:
            self._live_class(tx, klass)
            row = tx.row(
                "SELECT id, display_name, joined_at FROM members WHERE class_id = ? AND token_hash = ?",
                klass.id,
                secret_hash(member_token),
            )
            return None if row is None else Member(int(row[0]), klass.id, row[1], float(row[2]), member_token)

        return self._read(work)

    def members(self, klass: Class) -> list[Member]:
        """The class's members in the order they joined."""

        def work(tx: Transaction) -> list[Member]:
            self._live_class(tx, klass)
            rows = tx.rows(
                "SELECT id, display_name, joined_at FROM members WHERE class_id = ? ORDER BY joined_at, id",
                klass.id,
            )
            return [Member(int(r[0]), klass.id, r[1], float(r[2])) for r in rows]

        return self._read(work)

    def remove_member(self, klass: Class, member_id: int) -> bool:
        """Remove a student from the class (teacher only); the record of their runs goes too (the runs
        themselves stay in the runs folder). Returns False if there was no such member."""
        self._require_teacher(klass)

        def work(tx: Transaction) -> bool:
            self._live_class(tx, klass)
            return tx.run("DELETE FROM members WHERE id = ? AND class_id = ?", int(member_id), klass.id) > 0

        return self._write(work)

    # -- runs --------------------------------------------------------------------------------------

    def add_run(self, klass: Class, member: Member, run_id: str) -> None:
        """Record that ``member`` trained run ``run_id`` in this class (again: no change). Only the
        member's latest ``runs_per_member`` runs are kept."""
        if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
            raise ValueError(f"not a run id: {run_id!r}")  # ids come from ui.jobs, not from a user
        keep = self.limits.runs_per_member

        def work(tx: Transaction) -> None:
            now = self._clock()
            self._live_class(tx, klass)
            # Locking the member row serialises this member's add_runs (so the trim below counts right)
            # and waits for a remove_member running at the same time.
            found = tx.row(
                f"SELECT id FROM members WHERE id = ? AND class_id = ?{self._backend.for_update()}",
                member.id,
                klass.id,
            )
            if found is None:
                raise TinyLMError(
                    "member_not_found", "You are no longer in this class: please join it again."
                )
            tx.run(
                "INSERT INTO class_runs (class_id, member_id, run_id, added_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (member_id, run_id) DO NOTHING",
                klass.id,
                member.id,
                run_id,
                now,
            )
            tx.run(
                "DELETE FROM class_runs WHERE member_id = ? AND id NOT IN (SELECT id FROM class_runs "
                "WHERE member_id = ? ORDER BY added_at DESC, id DESC LIMIT ?)",
                member.id,
                member.id,
                keep,
            )
            tx.run("UPDATE members SET seen_at = ? WHERE id = ?", now, member.id)

        self._write(work)

    _RUN_QUERY = (
        "SELECT r.member_id, m.display_name, r.run_id, r.added_at FROM class_runs r "
        "JOIN members m ON m.id = r.member_id WHERE r.class_id = ?"
    )

    def runs_of_class(self, klass: Class) -> list[ClassRun]:
        """Every recorded run of the class, oldest first, with its member's display name."""

        def work(tx: Transaction) -> list[ClassRun]:
            self._live_class(tx, klass)
            rows = tx.rows(self._RUN_QUERY + " ORDER BY r.added_at, r.id", klass.id)
            return [ClassRun(int(r[0]), r[1], r[2], float(r[3])) for r in rows]

        return self._read(work)

    def runs_of_member(self, klass: Class, member: Member) -> list[ClassRun]:
        """One member's recorded runs in the class, oldest first."""

        def work(tx: Transaction) -> list[ClassRun]:
            self._live_class(tx, klass)
            rows = tx.rows(
                self._RUN_QUERY + " AND r.member_id = ? ORDER BY r.added_at, r.id", klass.id, member.id
            )
            return [ClassRun(int(r[0]), r[1], r[2], float(r[3])) for r in rows]

        return self._read(work)

    # -- the preset --------------------------------------------------------------------------------

    def set_preset(self, klass: Class, preset: dict[str, Any], label: str = "") -> Preset:
        """Push the settings every student's Train page starts from (teacher only): a JSON object of
        at most ``preset_bytes`` bytes. Returns it as students will read it back."""
        self._require_teacher(klass)
        limits = self.limits
        if not isinstance(preset, dict) or not all(isinstance(key, str) for key in preset):
            raise TinyLMError("bad_preset", "The class settings must be a set of named values.")
        try:
            text = json.dumps(preset, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:  # a value JSON cannot hold (a NaN, an object...)
            raise TinyLMError("bad_preset", "The class settings must be a set of named values.") from exc
        size = len(text.encode("utf-8"))
        if size > limits.preset_bytes:
            raise TinyLMError(
                "preset_too_large",
                f"The class settings take {size} bytes; at most {limits.preset_bytes} are allowed.",
                size=size,
                limit=limits.preset_bytes,
            )
        label = clean_text(
            label[:MAX_TYPED_CHARS] if isinstance(label, str) else "", limits.preset_label_chars
        )

        def work(tx: Transaction) -> float:
            now = self._clock()
            self._live_class(tx, klass)
            tx.run(
                "UPDATE classes SET preset_json = ?, preset_label = ?, preset_at = ? WHERE id = ?",
                text,
                label,
                now,
                klass.id,
            )
            return now

        return Preset(label, json.loads(text), self._write(work))

    def clear_preset(self, klass: Class) -> None:
        """Stop pushing settings (teacher only): students' Train pages start from their own again."""
        self._require_teacher(klass)

        def work(tx: Transaction) -> None:
            self._live_class(tx, klass)
            tx.run(
                "UPDATE classes SET preset_json = NULL, preset_label = NULL, preset_at = NULL WHERE id = ?",
                klass.id,
            )

        self._write(work)

    def get_preset(self, klass: Class) -> Preset | None:
        """The preset the teacher pushed, or None."""

        def work(tx: Transaction) -> tuple | None:
            self._live_class(tx, klass)
            return tx.row("SELECT preset_json, preset_label, preset_at FROM classes WHERE id = ?", klass.id)

        row = self._read(work)
        if row is None or row[0] is None:
            return None
        return Preset(row[1] or "", json.loads(row[0]), float(row[2]))


_SHARED: ClassroomStore | None = None
_SHARED_LOCK = threading.Lock()


def shared_store() -> ClassroomStore:
    """The app's one store per server process, opened on first use from ``$TINYLM_CLASSROOM_DB``."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = ClassroomStore()
        return _SHARED


def reset_shared_store_for_tests(store: ClassroomStore | None = None) -> None:
    """Replace (or, with None, forget) the shared store; the old one is closed."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is not None and _SHARED is not store:
            _SHARED.close()
        _SHARED = store
