"""A throw-away local Ray cluster for the tests: ``ray start --head --block`` as a subprocess.

``LocalRayCluster.start()`` runs the head (and its raylet, object store and workers) with its own
``--temp-dir`` on a free port, CPUs given by the caller, no dashboard, and waits until a driver can
connect. ``stop()`` ends exactly that cluster: SIGTERM to the ``--block`` process (which stops the
processes it started), then SIGKILL to whatever of its process group is left; it never runs
``ray stop`` (that stops every Ray cluster of the machine, other people's too). Processes are found
by their process group (the head runs in a session of its own) and by the temp dir in their command
line, so a test can check that nothing was left behind (:meth:`leftovers`).

The ``ray_cluster`` fixtures of tests/test_backends.py and tests/e2e/test_replicas.py use it: without
the ray package the tests skip with the reason, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 120  # a loaded 2-core machine needs ~10 s; allow for much worse
STOP_SECONDS = 30


def require_ray() -> None:
    """Skip (or, under CI, fail) when the ray package is not installed."""
    try:
        import ray  # noqa: F401
    except ImportError:
        reason = "the ray package is not installed (pip install -r requirements-optional.txt)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Ray tests cannot run under CI: {reason}", pytrace=False)
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalRayCluster:
    def __init__(self, num_cpus: int = 2) -> None:
        self.num_cpus = num_cpus
        self.port = free_port()
        # Ray's socket paths must stay short (AF_UNIX: 107 bytes): a short directory under /tmp.
        self.temp_dir = Path(tempfile.mkdtemp(prefix="tlray-", dir="/tmp"))
        self.log = self.temp_dir / "head.log"
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> LocalRayCluster:
        ray_cli = Path(sys.executable).with_name("ray")
        command = [
            str(ray_cli) if ray_cli.exists() else "ray", "start", "--head", "--block",
            f"--port={self.port}", f"--num-cpus={self.num_cpus}", f"--temp-dir={self.temp_dir}",
            "--include-dashboard=false", "--disable-usage-stats",
            # Fixed default ports would collide with another cluster on the machine: free ones.
            f"--dashboard-agent-listen-port={free_port()}",
        ]  # fmt: skip
        # The workers import the run actor from this checkout, as a deployment's workers do (README).
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        # The head inherits this test process's Ray token (tests/conftest.py).
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": path}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._ready():
            if self.process.poll() is not None:
                failure = f"ray start exited with {self.process.returncode}:\n{self.log_tail()}"
                self.stop()
                raise RuntimeError(failure)
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Ray head did not start within {STARTUP_SECONDS} s")
            time.sleep(0.5)
        return self

    def _ready(self) -> bool:
        """The GCS answers on its port and the head says it is up (its log line)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                pass
        except OSError:
            return False
        return "Ray runtime started" in self.log.read_text(errors="replace")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def leftovers(self) -> list[int]:
        """Process ids still running that belong to this cluster (its process group or its temp dir)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                group = os.getpgid(int(entry.name))
                state = (entry / "stat").read_text().split(")")[-1].split()[0]
            except (OSError, ProcessLookupError):
                continue
            if state == "Z":
                continue
            ours = self.process is not None and group == self.process.pid
            if ours or str(self.temp_dir) in command:
                found.append(int(entry.name))
        return found

    def stop(self) -> None:
        """End this cluster's processes (never ``ray stop``) and delete its temp dir."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        deadline = time.monotonic() + STOP_SECONDS
        while self.leftovers() and time.monotonic() < deadline:
            time.sleep(0.5)
        for pid in self.leftovers():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.temp_dir, ignore_errors=True)
