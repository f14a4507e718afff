"""The two databases behind the classroom store, and the small SQL dialect layer between them.

The store writes each query once, in SQLite's spelling (``?`` placeholders), and a :class:`Backend`
turns it into what its database expects. What differs, and so lives here and nowhere else:

* placeholders: ``?`` (sqlite3) or ``%s`` (psycopg);
* the type of an auto-numbered key, and how an insert gives its new id back (``cursor.lastrowid`` on
  SQLite, ``RETURNING id`` on PostgreSQL: ``RETURNING`` needs SQLite 3.35, newer than some laptops have);
* how a writing transaction keeps other writers out: ``BEGIN IMMEDIATE`` takes SQLite's one write lock
  up front (so two writers never both read, then both fail to upgrade); on PostgreSQL, where writers
  run side by side, a transaction-scoped advisory lock (``pg_advisory_xact_lock``) or ``SELECT ... FOR
  UPDATE`` on the class row serialises only the transactions that must not interleave;
* which exception means "a unique constraint said no".

``ON CONFLICT (...) DO NOTHING`` / ``DO UPDATE`` is spelled the same by both (SQLite ≥ 3.24).

Connections come from a small :class:`Pool`: Streamlit runs every session's script in a thread of its
own (a new one for each rerun), so a connection per thread would leak one per rerun. A pool of a few
connections, each used by one thread at a time, serves any number of threads.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
DB_ENV = "TINYLM_CLASSROOM_DB"
DB_FILE = "classroom.sqlite3"
BUSY_TIMEOUT_SECONDS = 10.0  # SQLite: how long a writer waits for another one's lock before it gives up
CONNECT_TIMEOUT_SECONDS = 10  # PostgreSQL: how long to wait for the server to answer
POOL_WAIT_SECONDS = 30.0


def default_runs_dir() -> Path:
    """The runs folder, as ``ui.jobs`` finds it (not imported from there: ui.jobs imports streamlit)."""
    return Path(os.environ.get("TINYLM_RUNS_DIR") or ROOT / "runs")


def default_url() -> str:
    """``$TINYLM_CLASSROOM_DB``, else a SQLite file in the runs folder."""
    configured = os.environ.get(DB_ENV, "").strip()
    if configured:
        return configured
    return sqlite_url(default_runs_dir() / DB_FILE)


def sqlite_url(path: Path | str) -> str:
    return "sqlite://" + quote(str(Path(path).resolve()))


def redacted(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


class Backend:
    """One database: how to connect, and the dialect differences listed in the module docstring."""

    name: str
    id_column: str  # an auto-numbered integer primary key
    float_type: str
    integrity_errors: tuple[type[Exception], ...]
    # Errors after which a connection is not put back in the pool (the server went away, ...).
    broken_errors: tuple[type[Exception], ...] = ()

    def connect(self) -> Any:
        raise NotImplementedError

    def sql(self, query: str) -> str:
        return query

    def begin(self, conn: Any, write: bool) -> None:
        raise NotImplementedError

    def lock(self, conn: Any, name: str) -> None:
        """Hold a lock named ``name`` until the transaction ends (SQLite: BEGIN IMMEDIATE already did)."""

    def for_update(self) -> str:
        """The suffix that locks the rows a SELECT reads until the transaction ends."""
        return ""

    def insert(self, conn: Any, query: str, params: Sequence[Any]) -> int:
        """Run an INSERT and return the new row's id."""
        raise NotImplementedError

    @property
    def description(self) -> str:
        raise NotImplementedError


class SQLiteBackend(Backend):
    name = "sqlite"
    id_column = "INTEGER PRIMARY KEY AUTOINCREMENT"  # AUTOINCREMENT: an id is never reused after a delete
    float_type = "REAL"
    integrity_errors = (sqlite3.IntegrityError,)

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def description(self) -> str:
        return sqlite_url(self.path)

    def connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: the store writes BEGIN/COMMIT itself (sqlite3's implicit transactions
        # would start a deferred one behind our back). check_same_thread=False: the pool hands a
        # connection to one thread at a time, but not always the same thread.
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        # WAL: readers do not block the writer nor the writer the readers (many sessions reading the
        # class's runs while one student joins). synchronous=NORMAL is durable across an app crash,
        # which is what matters here. foreign_keys: ON DELETE CASCADE (SQLite's default is off).
        # Switching a new database to WAL takes an exclusive lock and SQLite does not wait for it (no
        # busy handler there): replicas opening an empty database at once retry, bounded.
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            while True:
                try:
                    conn.execute(f"PRAGMA {pragma}")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        conn.close()
                        raise
                    time.sleep(0.05)
        return conn

    def begin(self, conn: sqlite3.Connection, write: bool) -> None:
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def insert(self, conn: sqlite3.Connection, query: str, params: Sequence[Any]) -> int:
        cursor = conn.execute(query, params)
        return int(cursor.lastrowid)


class PostgresBackend(Backend):
    name = "postgresql"
    id_column = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    float_type = "DOUBLE PRECISION"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as exc:  # an optional dependency: only a PostgreSQL URL needs it
            raise RuntimeError(
                "a postgresql:// classroom database needs psycopg: pip install -r requirements-optional.txt"
            ) from exc
        self._psycopg = psycopg
        self.url = url
        self.integrity_errors = (psycopg.IntegrityError,)
        self.broken_errors = (psycopg.OperationalError, psycopg.InterfaceError)

    @property
    def description(self) -> str:
        return redacted(self.url)

    def connect(self) -> Any:
        # autocommit: as on SQLite, the store writes BEGIN/COMMIT itself.
        return self._psycopg.connect(
            self.url,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name="tinylm-classroom",
        )

    _PLACEHOLDER = re.compile(r"\?")

    def sql(self, query: str) -> str:
        # The store's queries hold no '?' or '%' inside string literals, so a plain replacement is exact.
        assert "%" not in query, query
        return self._PLACEHOLDER.sub("%s", query)

    def begin(self, conn: Any, write: bool) -> None:
        conn.execute("BEGIN")

    def lock(self, conn: Any, name: str) -> None:
        # Advisory locks are keyed by a 64-bit integer: a stable hash of the name, signed as bigint.
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))

    def for_update(self) -> str:
        return " FOR UPDATE"

    def insert(self, conn: Any, query: str, params: Sequence[Any]) -> int:
        row = conn.execute(self.sql(query) + " RETURNING id", params).fetchone()
        return int(row[0])


class Transaction:
    """One connection inside BEGIN ... COMMIT; queries in SQLite's spelling, translated by the backend."""

    def __init__(self, backend: Backend, conn: Any) -> None:
        self.backend, self.conn = backend, conn

    def rows(self, query: str, *params: Any) -> list[tuple]:
        return [tuple(row) for row in self.conn.execute(self.backend.sql(query), params).fetchall()]

    def row(self, query: str, *params: Any) -> tuple | None:
        found = self.conn.execute(self.backend.sql(query), params).fetchone()
        return None if found is None else tuple(found)

    def run(self, query: str, *params: Any) -> int:
        """Run a statement; returns the number of rows it changed."""
        return int(self.conn.execute(self.backend.sql(query), params).rowcount)

    def insert(self, query: str, *params: Any) -> int:
        return self.backend.insert(self.conn, query, params)

    def lock(self, name: str) -> None:
        self.backend.lock(self.conn, name)


def backend_for(url: str) -> Backend:
    """``sqlite:///absolute/path.db`` (also ``sqlite:relative/path.db``) or ``postgresql://...``."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        parts = urlsplit(url)
        if parts.netloc:
            raise ValueError(f"a SQLite URL has no host: sqlite:///path/to/file.db, not {url!r}")
        path = unquote(parts.path)
        if not path.strip("/") or path.lstrip("/") == ":memory:":
            # Every pooled connection would open a database of its own.
            raise ValueError("the classroom store needs a SQLite file, not an in-memory database")
        # sqlite:////abs (SQLAlchemy's spelling of an absolute path) means the same as sqlite:///abs.
        return SQLiteBackend(Path(re.sub(r"^/+", "/", path)))
    if scheme in ("postgresql", "postgres"):
        return PostgresBackend(url)
    raise ValueError(f"unsupported classroom database URL {redacted(url)!r}: use sqlite:/// or postgresql://")


class Pool:
    """At most ``size`` connections, each lent to one thread at a time."""

    def __init__(self, connect: Callable[[], Any], size: int) -> None:
        self._connect = connect
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextlib.contextmanager
    def connection(self, broken_errors: tuple[type[Exception], ...]) -> Iterator[Any]:
        if not self._slots.acquire(timeout=POOL_WAIT_SECONDS):
            raise TimeoutError("no classroom database connection became free")
        conn = None
        keep = False
        try:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the classroom store is closed")
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = self._connect()
            yield conn
            keep = True
        except broken_errors:
            raise  # not kept: the next caller opens a fresh connection
        except BaseException:
            keep = True  # an ordinary error (the transaction was rolled back): the connection is fine
            raise
        finally:
            with self._lock:
                if conn is not None and keep and not self._closed:
                    self._idle.append(conn)
                    conn = None
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(Exception):
                conn.close()
