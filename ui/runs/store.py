"""Runs on disk: ``<runs dir>/<run id>/`` holds ``run.json`` (the record) and, once the run has a
model, its checkpoint (``model.safetensors`` + ``tinylm.json``, see ``tinylm.checkpoint``).

Every write is atomic: the bytes go to a temporary file of a unique name in the same directory, are
flushed to the disk, and the file is renamed over the old one. A reader (this server, or another app
replica sharing the folder on a network volume) sees the old file or the new one, never half of one;
two writers never share a temporary file.

A run id is ``secrets.token_urlsafe(16)`` (128 random bits): it is the only key to a run, so students
see each other's runs only if they share the link. Ids are checked against a strict pattern before
they ever touch the file system.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

from tinylm.checkpoint import Checkpoint, checkpoint_files, read_checkpoint

LOG = logging.getLogger("tinylm.runs")
ROOT = Path(__file__).resolve().parents[2]
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22}$")  # secrets.token_urlsafe(16) and nothing else
RECORD_FILE = "run.json"
SUMMARY_FILE = "summary.json"  # who owns the run, its kind, status and start: read without run.json
SUMMARY_FIELDS = ("id", "owner", "kind", "status", "created_clock")
USED_FILE = "used"  # touched whenever a session uses the run: its modification time orders pruning
MAX_RECORD_BYTES = 20_000_000


def new_run_id() -> str:
    return secrets.token_urlsafe(16)


def valid_run_id(run_id: Any) -> bool:
    return isinstance(run_id, str) and RUN_ID_PATTERN.fullmatch(run_id) is not None


def default_runs_dir() -> Path:
    return Path(os.environ.get("TINYLM_RUNS_DIR") or ROOT / "runs")


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (see the module docstring)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink(missing_ok=True)


class RunStore:
    """The runs folder: records and checkpoints by run id."""

    def __init__(self, runs_dir: Path | str | None = None) -> None:
        self.root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        self.root.mkdir(parents=True, exist_ok=True)

    def directory(self, run_id: str) -> Path:
        if not valid_run_id(run_id):
            raise ValueError("not a run id")
        return self.root / run_id

    def write_record(self, run_id: str, document: dict[str, Any]) -> None:
        try:
            directory = self.directory(run_id)
            directory.mkdir(parents=True, exist_ok=True)
            data = json.dumps(document, ensure_ascii=False, allow_nan=False).encode("utf-8")
            write_atomically(directory / RECORD_FILE, data)
            summary = {name: document.get(name) for name in SUMMARY_FIELDS}
            write_atomically(directory / SUMMARY_FILE, json.dumps(summary).encode("utf-8"))
        except OSError:
            LOG.exception("run %s: could not write run.json", run_id)

    def read_record(self, run_id: str) -> dict[str, Any] | None:
        """The run's record as written, or None (no such run, or unreadable)."""
        if not valid_run_id(run_id):
            return None
        path = self.root / run_id / RECORD_FILE
        try:
            if path.stat().st_size > MAX_RECORD_BYTES:
                raise ValueError("run.json too large")
            document = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError):
            LOG.warning("run %s: run.json unreadable", run_id)
            return None
        if not isinstance(document, dict) or document.get("id") != run_id:
            return None
        return document

    def read_summary(self, run_id: str) -> dict[str, Any] | None:
        """The run's summary (SUMMARY_FIELDS, checked), or None."""
        if not valid_run_id(run_id):
            return None
        try:
            summary = json.loads((self.root / run_id / SUMMARY_FILE).read_bytes()[:4096])
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(summary, dict) or summary.get("id") != run_id:
            return None
        owner, clock = summary.get("owner"), summary.get("created_clock")
        return {
            "id": run_id,
            "owner": owner if isinstance(owner, str) else None,
            "kind": str(summary.get("kind"))[:16],
            "status": str(summary.get("status"))[:16],
            "created_clock": float(clock)
            if isinstance(clock, (int, float)) and not isinstance(clock, bool)
            else 0.0,
        }

    def save_checkpoint(self, run_id: str, checkpoint: Checkpoint) -> bool:
        """Write the run's checkpoint (both files, each atomically); False when the disk refused."""
        try:
            directory = self.directory(run_id)
            directory.mkdir(parents=True, exist_ok=True)
            files = checkpoint_files(
                checkpoint.model, checkpoint.tokenizer, checkpoint.history, checkpoint.meta
            )
            for name, data in files.items():
                write_atomically(directory / name, data)
            return True
        except (OSError, ValueError):
            LOG.exception("run %s: could not save the checkpoint", run_id)
            return False

    def read_checkpoint(self, run_id: str) -> Checkpoint | None:
        if not self.has_checkpoint(run_id):
            return None
        try:
            return read_checkpoint(self.root / run_id)
        except Exception:  # a damaged file: the run has no usable model, the server goes on
            LOG.warning("run %s: checkpoint unreadable", run_id, exc_info=True)
            return None

    def has_checkpoint(self, run_id: str) -> bool:
        return valid_run_id(run_id) and (self.root / run_id / "tinylm.json").is_file()

    def mark_used(self, run_id: str) -> None:
        """A session used the run (opened it, or uses its model): it is pruned last."""
        if valid_run_id(run_id) and (self.root / run_id).is_dir():
            with contextlib.suppress(OSError):
                (self.root / run_id / USED_FILE).touch()

    def last_used(self, run_id: str) -> float:
        """When the run was last used or written (seconds since the epoch; 0 when unknown)."""
        directory = self.root / run_id
        times = []
        for name in (USED_FILE, RECORD_FILE):
            with contextlib.suppress(OSError):
                times.append((directory / name).stat().st_mtime)
        return max(times, default=0.0)

    def run_ids(self) -> list[str]:
        try:
            return [
                entry.name for entry in self.root.iterdir() if entry.is_dir() and valid_run_id(entry.name)
            ]
        except OSError:
            return []

    def delete(self, run_id: str) -> None:
        if valid_run_id(run_id):
            shutil.rmtree(self.root / run_id, ignore_errors=True)
