"""benchmarks/st_client.py drives the real app: a `streamlit run app.py` server, one protocol session.

The classroom load test (benchmarks/classroom_load.py) counts on this client doing what a browser
does; these tests show that it does on the real server: the page's elements arrive and are found by
widget key, a sidebar navigation runs the other page, a click on Start creates a run that belongs to
the session's student (its cookie), and the live view's fragment timers make the server run fragments.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.st_client import Session
from tests.e2e.appserver import free_port, start_app, stop_app, wait_healthy
from ui.i18n import t

QUERY = "lang=en&corpus=stories-en&preset=tiny&budget=time&time_budget=5"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    base = tmp_path_factory.mktemp("st-client")
    runs_dir = base / "runs"
    env = {**os.environ, "TINYLM_RUNS_DIR": str(runs_dir), "TINYLM_MAX_JOBS": "1"}
    env.pop("TINYLM_BACKEND", None)
    port = free_port()
    with (base / "server.log").open("wb") as log:
        process = start_app(port, env, python=sys.executable, output=log)
    try:
        wait_healthy(process, port, timeout=120)
        yield f"http://127.0.0.1:{port}", runs_dir
    finally:
        stop_app(process)  # by its pid (Popen), never by name


def run_documents(runs_dir: Path) -> list[dict]:
    found = []
    for path in runs_dir.glob("*/run.json"):
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):  # being written
            continue
    return found


def test_opens_the_train_page_and_navigates(server: tuple[str, Path]) -> None:
    base_url, _ = server
    with Session(base_url) as session:
        session.open("Train", QUERY)
        assert session.title() == t("nav.train", "en")
        start = session.widget("train.start")
        assert start is not None and start.kind == "button"
        assert start.proto.label == t("train.start", "en") and not start.proto.disabled
        assert {"Train", "Generate", "Tokens"} <= set(session.pages)
        assert session.query()["time_budget"] == "5.0"  # the page wrote its settings into the URL
        session.navigate("Generate")
        assert session.title() == t("nav.generate", "en")
        assert session.widget("train.start") is None  # the Train page's elements went with it
        assert session.problems == []


def test_start_creates_a_run_of_this_student(server: tuple[str, Path]) -> None:
    base_url, runs_dir = server
    with Session(base_url) as session:
        session.open("Train", QUERY)
        before = {document["id"] for document in run_documents(runs_dir)}
        session.click("train.start")
        run_id = session.wait_for(lambda s: s.query().get("run"), timeout=60, what="the run in the URL")
        assert run_id not in before
        deadline = time.monotonic() + 60
        while not (documents := [d for d in run_documents(runs_dir) if d["id"] == run_id]):
            assert time.monotonic() < deadline, "no run.json for the new run"
            time.sleep(0.2)
        assert documents[0]["owner"] == session.student  # the cookie made the session this student
        assert 1.0 in session.fragment_timers().values()  # the live view refreshes every second ...
        session.wait_for(lambda s: any(run.fragment_ids for run in s.runs), timeout=60, what="a fragment run")
        assert session.problems == []  # ... and the server ran it when the client's timer asked
