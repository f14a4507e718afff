"""Two app replicas sharing one Ray cluster, one runs folder and one classroom database (issue #15).

Two ``streamlit run app.py`` servers on two ports, both with TINYLM_RAY_ADDRESS pointing at a local
2-CPU Ray cluster this module starts (and stops by its process id: tests/raycluster.py), the same
TINYLM_RUNS_DIR and the same TINYLM_CLASSROOM_DB (a SQLite file: two processes of one machine; several
machines use PostgreSQL, whose store tests/test_classroom_store.py runs). A student joins a class and
starts a run on replica A; their reconnect lands on replica B (the same link, the other port: as when a
load balancer sends them elsewhere), where they find their class and their run, training, then finished
with its model. Then two students, one on each replica, train at once through the cluster, neither
waiting in a queue.

Cookies belong to a host, not to a port, so one browser context is one student on both replicas (as
behind one load balancer's address).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.appserver import free_port, start_app, stop_app, wait_healthy
from tests.e2e.conftest import STARTUP_SECONDS, _python
from tests.e2e.driver import EXPECT_TIMEOUT, VIEWPORT, App, wait_until_trained
from tests.raycluster import LocalRayCluster, require_ray
from ui.i18n import t

pytestmark = pytest.mark.e2e

SECONDS = 30  # each run trains this long: long enough to reconnect elsewhere while it trains
QUERY = {
    "lang": "en",
    "corpus": "stories-en",
    "preset": "tiny",
    "budget": "time",
    "time_budget": str(SECONDS),
}


@dataclass
class Replicas:
    urls: list[str]  # the two servers' base URLs
    classroom_db: str


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[LocalRayCluster]:
    require_ray()
    cluster = LocalRayCluster(num_cpus=2).start()
    try:
        yield cluster
    finally:
        cluster.stop()
        assert cluster.leftovers() == [], "processes of the test's Ray cluster were left running"


@pytest.fixture(scope="module")
def replicas(chromium, ray_cluster, tmp_path_factory) -> Iterator[Replicas]:
    """Two app servers on one cluster, one runs folder, one database."""
    base = tmp_path_factory.mktemp("replicas")
    env = {
        **os.environ,
        "TINYLM_RAY_ADDRESS": ray_cluster.address,
        "TINYLM_RUNS_DIR": str(base / "runs"),
        "TINYLM_CLASSROOM_DB": f"sqlite:///{base / 'classroom.sqlite3'}",
        "TINYLM_MAX_QUEUE": "4",
        "TINYLM_ORPHAN_SECONDS": "120",
    }
    servers: list[tuple[subprocess.Popen, int, Path]] = []
    try:
        for name in ("a", "b"):
            port, log = free_port(), base / f"replica-{name}.log"
            with log.open("wb") as output:
                servers.append((start_app(port, env, python=_python(), output=output), port, log))
        for process, port, log in servers:
            try:
                wait_healthy(process, port, STARTUP_SECONDS)
            except RuntimeError as exc:
                pytest.fail(f"{exc}:\n{log.read_text(errors='replace')[-3000:]}")
        yield Replicas([f"http://127.0.0.1:{port}" for _, port, _ in servers], env["TINYLM_CLASSROOM_DB"])
    finally:
        for process, _, _ in servers:
            stop_app(process)


@pytest.fixture
def open_tab(browser, replicas) -> Iterator[Callable[..., App]]:
    """``open_tab(replica, context=None)``: a tab on replica 0 or 1, in a new browser context (a new
    student) unless one is given; every tab is checked for browser-side errors at the end."""
    contexts, apps = [], []
    expect.set_options(timeout=EXPECT_TIMEOUT)

    def make(replica: int, context=None) -> App:
        if context is None:
            context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
            contexts.append(context)
        app = App(context.new_page(), replicas.urls[replica])
        apps.append(app)
        return app

    yield make
    unreported = [p for app in apps for p in (app.errors + app.dialogs + app.failed_requests)[app.checked :]]
    for context in contexts:
        context.close()
    assert not unreported, "browser-side problems:\n" + "\n".join(unreported)


def start_training(app: App, opened: bool = False) -> str:
    """Open the Train page with QUERY (unless ``opened``), start a run, wait until it trains; its id."""
    if not opened:
        app.open("train", **QUERY)
    app.click("train.start")
    app.key("train.stop").locator("button").wait_for()  # its run is active (the owner's controls)
    app.wait_idle()
    return app.query()["run"]


def test_a_student_reconnecting_to_another_replica_finds_the_class_and_the_run_training_then_finished(
    open_tab, replicas
):
    from ui.classroom import ClassroomStore

    store = ClassroomStore(replicas.classroom_db)
    code, _ = store.create_class("Lesson 15")  # as a teacher would, in the shared database
    on_a = open_tab(0)
    on_a.goto_url(f"{on_a.base_url}/Class?lang=en&class={code}")
    on_a.fill("class.name", "Ann")
    on_a.wait_idle()
    on_a.click("class.join")
    member = t("class.sidebar_member", "en", name="Lesson 15", you="Ann")
    expect(on_a.page.locator('[data-testid="stSidebar"] [data-testid="stText"]')).to_have_text(member)
    run_id = start_training(on_a)
    expect(on_a.alerts("Info").filter(has_text=t("train.queued", "en", position=1))).to_have_count(0)
    on_a.assert_clean()

    # The reconnect lands on replica B: the same student (cookie), the same link, another server.
    on_b = open_tab(1, context=on_a.page.context)
    on_a.page.close()
    on_b.open("train", run=run_id, **QUERY)
    assert on_b.query()["run"] == run_id
    expect(on_b.page.locator('[data-testid="stSidebar"] [data-testid="stText"]')).to_have_text(member)
    expect(on_b.key("train.stop").locator("button")).to_be_visible()  # training, and hers to control
    expect(on_b.key("train.start").locator("button")).to_be_disabled()  # one run at a time, here too
    wait_until_trained(on_b)
    expect(on_b.alerts("Success").filter(has_text=t("train.now_active", "en"))).to_be_visible()
    on_b.assert_clean()
    klass = store.find_class(code)
    assert [run.run_id for run in store.runs_of_class(klass)] == [run_id]  # on the class's dashboard
    store.close()

    # Back on replica A later: the finished run, with its model.
    again = open_tab(0, context=on_b.page.context)
    again.open("train", run=run_id, **QUERY)
    expect(again.key("train.download").locator("button")).to_be_visible()
    again.assert_clean()


def test_two_students_on_two_replicas_train_at_once_through_the_cluster(open_tab):
    first, second = open_tab(0), open_tab(1)
    longer = {**QUERY, "time_budget": str(SECONDS + 15)}  # the first still trains when the second starts
    for student in (first, second):
        student.page.goto(student.url("train", **longer), wait_until="commit")
    for student in (first, second):
        student.wait_loaded()
    runs = [start_training(first, opened=True), start_training(second, opened=True)]
    assert runs[0] != runs[1]
    # Both train at once (2 CPUs): nobody waits, and replica B counts replica A's run as busy.
    for student in (first, second):
        expect(student.alerts("Info").filter(has_text=t("train.queued", "en", position=1))).to_have_count(0)
    load = t("train.server_load", "en", running=2, slots=2, queued=0)
    expect(second.page.get_by_text(load)).to_be_visible()
    for student in (first, second):
        wait_until_trained(student)
        student.assert_clean()
