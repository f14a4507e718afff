"""Two students start training at the same moment on a server that trains one model at a time
(TINYLM_MAX_JOBS=1, see conftest.py): the second waits in the queue and is told its position, both
runs finish, and a third student's page stays responsive meanwhile."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import MAX_JOBS
from tests.e2e.driver import wait_until_trained
from ui.i18n import t

pytestmark = pytest.mark.e2e

STEPS = 200  # long enough that the first run still trains while the second is queued
# A third student's home page, from the URL to an idle page, while one run trains and one waits: at most
# this many times as long as the same page took just before, plus a few seconds. Relative, because the
# test machine may be busy with other work; before runner.postScriptGC was turned off it took 10-50 times
# as long (minutes), which this catches.
HOME_SLOWDOWN, HOME_EXTRA_SECONDS = 3.0, 5.0


def home_seconds(app) -> float:
    started = time.monotonic()
    app.open("home", lang="en")
    return time.monotonic() - started


def test_second_student_queues_and_both_finish(new_app):
    assert MAX_JOBS == 1
    baseline = home_seconds(new_app())  # before anything trains
    first, second, third = new_app(), new_app(), new_app()
    query = {"lang": "en", "corpus": "stories-en", "preset": "tiny", "budget": "steps", "max_steps": STEPS}
    for student in (first, second):
        student.page.goto(student.url("train", **query), wait_until="commit")
    for student in (first, second):
        student.wait_loaded()

    first.click("train.start")
    first.key("train.stop").locator("button").wait_for()  # its run is active
    second.click("train.start")
    queued = second.alerts("Info").filter(has_text=t("train.queued", "en", position=1))
    expect(queued).to_be_visible()
    assert first.alerts("Info").filter(has_text=t("train.queued", "en", position=1)).count() == 0

    # A third student opens the app while one run trains and one waits.
    loaded = home_seconds(third)
    limit = HOME_SLOWDOWN * baseline + HOME_EXTRA_SECONDS
    assert loaded < limit, f"the home page took {loaded:.1f} s while others trained ({baseline:.1f} s before)"
    print(f"home page: {baseline:.1f} s before training, {loaded:.1f} s while training")
    third.assert_clean()

    wait_until_trained(first)
    wait_until_trained(second)
    expect(queued).to_have_count(0)
    for student in (first, second):
        expect(student.alerts("Success").filter(has_text=t("train.now_active", "en"))).to_be_visible()
        assert student.query()["run"]
        student.assert_clean()
    assert first.query()["run"] != second.query()["run"]
