"""Start and stop ``streamlit run app.py`` on a free loopback port: one place for the browser tests'
session server, the README screenshots (scripts/readme_screenshots.py) and the app benchmark
(benchmarks/app_training.py). Plain subprocess and urllib: no pytest, no Playwright."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(
    port: int,
    env: Mapping[str, str],
    python: str = sys.executable,
    output: IO[bytes] | int = subprocess.DEVNULL,
    script: str = "app.py",
) -> subprocess.Popen:
    """The app (or another ``script``, relative to the repository, with the app's config) on
    127.0.0.1:``port`` (headless, no usage statistics); its output goes to ``output``."""
    command = [
        python, "-m", "streamlit", "run", script,
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=dict(env), stdout=output, stderr=subprocess.STDOUT)


def wait_healthy(process: subprocess.Popen, port: int, timeout: float) -> None:
    """Until Streamlit's health endpoint answers 200; RuntimeError if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"streamlit did not answer within {timeout:.0f} s")
        time.sleep(0.2)


def stop_app(process: subprocess.Popen) -> None:
    """Terminate, and kill if it has not ended within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
