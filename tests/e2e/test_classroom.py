"""A lesson in four browsers: a teacher creates a class and pushes today's settings; three students join
with the class code and train; the teacher sees all three runs live and stops one; a student's refresh
loses nothing; no student's browser reaches the dashboard or any teacher control, and the teacher key
never appears in a student's page or address bar. The server trains one run at a time (conftest.py),
so two of the three runs wait in the queue while the teacher looks."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.driver import App
from ui.i18n import t

pytestmark = pytest.mark.e2e

EN = "en"
STUDENTS = ("Ann", "Bo", "Cy")
STEPS = 4000  # the tiny preset: about a minute or two on 2 busy cores; every run is stopped before
TEACHER_CONTROLS = '[class*="st-key-teacher-stop"], [class*="st-key-teacher-pause"], .st-key-teacher-push'


def path_url(app: App, path: str, **query: str) -> str:
    from urllib.parse import urlencode

    return f"{app.base_url}/{path}?{urlencode({'lang': EN, **query})}"


def control_line(app: App, name: str):
    """The dashboard's line of a run in progress: "<name> · <status> · step <n>"."""
    return app.page.locator('[data-testid="stMain"] [data-testid="stText"]', has_text=f"{name} · ")


def no_key_in(app: App, key: str) -> None:
    assert key not in app.page.url
    assert key not in app.page.content()


def test_one_teacher_three_students(new_app):
    teacher = new_app()
    teacher.goto_url(path_url(teacher, "Teacher"))
    teacher.fill("teacher.new_name", "Lesson 7")
    teacher.wait_idle()
    teacher.click("teacher.create")
    link = teacher.page.locator('[data-testid="stCode"]', has_text="teacher=")
    expect(link).to_be_visible()
    key = link.inner_text().strip().split("teacher=")[1]
    code = teacher.page.locator('[data-testid="stMetricValue"]').first.inner_text().strip()
    assert len(code) == 6 and len(key) == 32
    assert key not in teacher.page.url
    teacher.click("teacher.saved_it")
    expect(link).to_have_count(0)

    # The teacher link, opened again: the key leaves the address bar, the dashboard opens.
    teacher.goto_url(path_url(teacher, "Teacher", teacher=key))
    expect(teacher.page.locator('[data-testid="stMetricValue"]').first).to_have_text(code)
    teacher.wait_query("lang", EN)
    assert "teacher=" not in teacher.page.url
    teacher.page.go_back()  # nor does the browser's history keep it
    teacher.wait_idle()
    assert "teacher=" not in teacher.page.url
    expect(teacher.page.locator('[data-testid="stMetricValue"]').first).to_have_text(code)

    # Today's settings: the tiny preset, counted in steps (enough that the first run still trains while
    # the others join; the teacher stops them), pushed with a label.
    teacher.page.get_by_text(t("teacher.preset_title", EN)).click()
    teacher.radio("class_preset.preset", t("train.preset.tiny", EN))
    teacher.wait_idle()
    teacher.radio("class_preset.budget", t("train.budget.steps", EN))
    teacher.key("class_preset.max_steps").locator("input").wait_for()
    teacher.number("class_preset.max_steps", STEPS)
    teacher.wait_idle()
    teacher.fill("class_preset.label", "today: tiny")
    teacher.wait_idle()
    teacher.click("teacher.push")
    expect(teacher.alerts("Success").filter(has_text=t("teacher.preset_pushed", EN))).to_be_visible()

    # Three students join with the class's link and start training from the teacher's settings.
    students = {}
    for name in STUDENTS:
        student = new_app()
        student.goto_url(path_url(student, "Class", **{"class": code}))
        student.fill("class.name", name)
        student.wait_idle()
        student.click("class.join")
        sidebar = student.page.locator('[data-testid="stSidebar"] [data-testid="stText"]')
        expect(sidebar).to_have_text(t("class.sidebar_member", EN, name="Lesson 7", you=name))
        no_key_in(student, key)
        student.navigate("train", EN)
        expect(student.alerts().filter(has_text="settings from your teacher: today")).to_be_visible()
        assert (student.query()["preset"], student.query()["max_steps"]) == ("tiny", str(STEPS))
        student.click("train.start")
        student.key("train.stop").locator("button").wait_for()  # training or queued
        no_key_in(student, key)
        students[name] = student

    # The teacher sees all three live: one training, two waiting.
    for name in STUDENTS:
        expect(control_line(teacher, name)).to_be_visible()
    expect(control_line(teacher, STUDENTS[0])).to_contain_text(t("train.status.running", EN))
    first_run = students[STUDENTS[0]].query()["run"]

    # ... and stops the one training: its student's page says so.
    teacher.click("teacher.stop.0")
    ann = students[STUDENTS[0]]
    expect(ann.alerts("Success").filter(has_text="Stopped at step")).to_be_visible()
    expect(control_line(teacher, STUDENTS[0])).to_have_count(0)
    assert ann.query()["run"] == first_run

    # A refresh loses nothing: the class, the run, its controls (the same student).
    bo = students[STUDENTS[1]]
    bo_run = bo.query()["run"]
    bo.page.reload()
    bo.wait_loaded()
    expect(bo.page.locator('[data-testid="stSidebar"] [data-testid="stText"]')).to_have_text(
        t("class.sidebar_member", EN, name="Lesson 7", you=STUDENTS[1])
    )
    assert bo.query()["run"] == bo_run
    bo.key("train.stop").locator("button").wait_for()
    no_key_in(bo, key)

    # No student's browser reaches the dashboard or a teacher control, with or without a made-up key.
    cy = students[STUDENTS[2]]
    wrong = key[:-1] + ("A" if key[-1] != "A" else "B")
    for query in ({}, {"teacher": wrong}, {"class": code}):
        cy.goto_url(path_url(cy, "Teacher", **query))
        expect(cy.key("teacher.key")).to_be_visible()  # only the form to paste a key
        assert cy.page.locator(TEACHER_CONTROLS).count() == 0
        assert cy.page.get_by_text(code, exact=True).count() == 0
        assert cy.page.locator('[data-testid="stSidebar"] a[href$="/Teacher"]').count() == 0
        no_key_in(cy, key)
    expect(cy.alerts("Error")).to_have_count(0)  # the last one: no key tried
    for student in students.values():
        no_key_in(student, key)
        assert "tinylm_teacher" not in {c["name"] for c in student.page.context.cookies()}

    # The end of the lesson: the teacher stops what is left (the server is shared with other tests).
    for _ in range(10):
        stop = teacher.key("teacher.stop.0").locator("button")
        if stop.count() == 0:
            break
        stop.click()
        teacher.wait_idle()
        teacher.page.wait_for_timeout(500)
    expect(teacher.page.locator('[class*="st-key-teacher-stop"]')).to_have_count(0)
    for app in (teacher, *students.values()):
        app.assert_clean()
