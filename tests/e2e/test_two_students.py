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
HOME_SECONDS = 15.0  # the home page of a third student, from the URL to an idle page, while two train


def test_second_student_queues_and_both_finish(new_app):
    assert MAX_JOBS == 1
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
    started = time.monotonic()
    third.open("home", lang="en")
    home_seconds = time.monotonic() - started
    assert home_seconds < HOME_SECONDS, f"the home page took {home_seconds:.1f} s"
    third.assert_clean()

    wait_until_trained(first)
    wait_until_trained(second)
    expect(queued).to_have_count(0)
    for student in (first, second):
        expect(student.alerts("Success").filter(has_text=t("train.now_active", "en"))).to_be_visible()
        assert student.query()["run"]
        student.assert_clean()
    assert first.query()["run"] != second.query()["run"]
