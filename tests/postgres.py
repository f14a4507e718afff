"""A real, throw-away PostgreSQL server for the tests: a fresh cluster in a temporary directory.

``PostgresCluster.start()`` finds the server's programs (Debian's ``/usr/lib/postgresql/<version>/bin``,
the newest version, else ``initdb`` on the PATH, or ``$TINYLM_PG_BIN``), creates a cluster with
``initdb`` (trust authentication, a superuser ``tinylm``), starts ``postgres`` as a subprocess on a free
loopback port with its socket in the same directory, and waits until it accepts connections. Each test
gets a database of its own from :meth:`PostgresCluster.create_database`. ``stop()`` ends that server by
its process id (SIGINT: PostgreSQL's fast shutdown, then SIGKILL if it hangs) and deletes the directory.

PostgreSQL refuses to run as root, so as root the server runs as an unprivileged user
(``$TINYLM_PG_USER``, else Debian's ``postgres`` account, else ``nobody``) that owns the directory.
Durability is turned off (``fsync=off``...): the cluster lives for one test session.

The ``postgres_cluster`` fixture (session-scoped) is the one way tests get it: without PostgreSQL or
psycopg the tests that need it skip with the reason, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SUPERUSER = "tinylm"
STARTUP_SECONDS = 60
STOP_SECONDS = 30
SERVER_SETTINGS = {
    # One test session's data: durability only costs time here.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # Small: the machine is shared, and the tests open a few connections at a time.
    "max_connections": "60",
    "shared_buffers": "16MB",
    "listen_addresses": "127.0.0.1",
}


def find_bin_dir() -> Path | None:
    """The directory holding initdb and postgres: $TINYLM_PG_BIN, Debian's newest version, or the PATH."""
    configured = os.environ.get("TINYLM_PG_BIN")
    if configured:
        return Path(configured) if (Path(configured) / "initdb").exists() else None

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name))

    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=version)
    if debian:
        return debian[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_user() -> pwd.struct_passwd | None:
    """The account the server runs as: None (this one) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in (os.environ.get("TINYLM_PG_USER"), "postgres", "nobody"):
        if name:
            with contextlib.suppress(KeyError):
                return pwd.getpwnam(name)
    raise RuntimeError("running as root and no unprivileged account to run PostgreSQL as")


class PostgresCluster:
    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.user = _server_user()
        # Not pytest's tmp_path: that lies under a root-only directory the server's user cannot enter.
        self.base = Path(tempfile.mkdtemp(prefix="tinylm-pg-"))
        self.data, self.sockets, self.log = self.base / "data", self.base / "sock", self.base / "server.log"
        self.port = 0
        self.process: subprocess.Popen | None = None
        self._databases = 0

    def _as_server_user(self) -> dict:
        """Popen arguments that run a program as the server's user, from its own directory."""
        options: dict = {"cwd": self.base, "env": {**os.environ, "LC_ALL": "C", "LANG": "C"}}
        if self.user is not None:
            options.update(user=self.user.pw_uid, group=self.user.pw_gid, extra_groups=[])
        return options

    def start(self) -> None:
        self.sockets.mkdir()
        if self.user is not None:
            for path in (self.base, self.sockets):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        initdb = [
            str(self.bin_dir / "initdb"),
            "-D", str(self.data),
            "-U", SUPERUSER,
            "--auth=trust",  # loopback and a private socket directory, for one test session
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ]  # fmt: skip
        done = subprocess.run(initdb, capture_output=True, text=True, timeout=120, **self._as_server_user())
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        self.port = free_port()
        command = [str(self.bin_dir / "postgres"), "-D", str(self.data), "-k", str(self.sockets)]
        command += ["-p", str(self.port), "-h", "127.0.0.1"]
        for name, value in SERVER_SETTINGS.items():
            command += ["-c", f"{name}={value}"]
        with self.log.open("wb") as log:
            # A session of its own: a Ctrl-C in the terminal reaches pytest, which then stops the
            # server cleanly, instead of killing the server under a running test.
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **self._as_server_user(),
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"postgres did not accept connections:\n{self.log_tail()}") from None
                time.sleep(0.1)

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new, empty database; returns its URL."""
        import psycopg

        self._databases += 1
        name = f"classroom_{os.getpid()}_{self._databases}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def dump(self, url: str) -> str:
        """``pg_dump`` of a database, as a backup would hold it."""
        done = subprocess.run(
            [str(self.bin_dir / "pg_dump"), "--no-owner", url],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # fast shutdown: ends sessions, writes a checkpoint
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_SECONDS)
        shutil.rmtree(self.base, ignore_errors=True)


def unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -r requirements-dev.txt)")
    bin_dir = find_bin_dir()
    if bin_dir is None:
        unavailable("PostgreSQL's initdb is missing (install it with `sudo sh scripts/install_postgres.sh`)")
    cluster = PostgresCluster(bin_dir)
    try:
        cluster.start()
    except Exception as exc:
        cluster.stop()
        unavailable(f"could not start a PostgreSQL server: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()
