"""The Teacher page (pages/12_Teacher.py): a class created and its dashboard opened only with the teacher
key, which never reaches an address bar; every run of the class live, flagged, and stoppable from the
dashboard; a preset pushed to the class becomes the students' starting point; and a student's browser
reaches no teacher control. Real (very small) training runs."""

from __future__ import annotations

import time

import pytest

from tests.app.class_helpers import (
    CLASS_PAGE,
    TEACHER_PAGE,
    TINY,
    TRAIN_PAGE,
    Browser,
    classroom_fixture,  # noqa: F401  (the fixture "classroom")
    formatting_language,
    join,
    keys_of,
    rendered,
    texts,
)
from ui.widgets import markdown_literal

TEACHER_CONTROLS = ("teacher.stop.", "teacher.pause.", "teacher.resume.", "teacher.push", "teacher.end_class")


def create_class(browser: Browser, name: str = "Year 9 · Tuesday"):
    at = browser.open(TEACHER_PAGE)
    at.text_input(key="teacher.new_name").input(name)
    browser.run(at.button(key="teacher.create").click())
    return at


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def controls(at) -> set[str]:
    return {key for key in keys_of(at) if key.startswith(TEACHER_CONTROLS)}


def test_a_teacher_creates_a_class_and_gets_its_code_and_the_teacher_link_once(classroom, monkeypatch):
    _, store = classroom
    teacher = Browser(monkeypatch)
    at = create_class(teacher)
    key = at.session_state["_class_teacher_key"]
    klass = store.teacher_class(key)
    assert klass is not None and klass.name == "Year 9 · Tuesday"
    assert [m.value for m in at.metric if m.label == "Class code"] == [klass.code]
    codes = [c.value for c in at.code]
    assert f"/Class?class={klass.code}" in codes  # the students' link
    assert f"/Teacher?teacher={key}" in codes  # shown to the teacher once ...
    assert teacher.cookies["tinylm_teacher"] == key  # ... and kept by this browser
    assert key not in repr(dict(at.query_params))
    teacher.run(at.button(key="teacher.saved_it").click())
    assert key not in texts(at) and key not in repr(dict(at.query_params))
    # A refresh (a new session of the same browser): the dashboard again, without the key anywhere.
    again = teacher.open(TEACHER_PAGE)
    assert [m.value for m in again.metric if m.label == "Class code"] == [klass.code]
    assert key not in rendered(again)  # the cookie is already there: not even a script holds the key
    # The projector view: the class code to join, but no control and no link.
    again.toggle(key="teacher.projector").set_value(True)
    teacher.run(again)
    assert controls(again) == set() and "teacher.show_link" not in keys_of(again)
    assert key not in rendered(again)
    assert [m.value for m in again.metric if m.label == "Class code"] == [klass.code]


def test_a_teacher_link_moves_the_key_out_of_the_address_bar_and_a_wrong_key_opens_nothing(
    classroom, monkeypatch
):
    _, store = classroom
    code, key = store.create_class("Maths")
    teacher = Browser(monkeypatch)
    at = teacher.open(TEACHER_PAGE, teacher=key)
    assert "teacher" not in at.query_params
    assert key not in rendered(at, cookie_scripts=False)  # not shown: the link was not just created here
    assert [m.value for m in at.metric if m.label == "Class code"] == [code]
    teacher.run(at)
    assert [m.value for m in at.metric if m.label == "Class code"] == [code]

    stranger = Browser(monkeypatch)
    wrong = stranger.open(TEACHER_PAGE, teacher=key[:-1] + ("A" if key[-1] != "A" else "B"))
    assert "teacher" not in wrong.query_params
    assert "opens no class" in texts(wrong)
    assert not [m for m in wrong.metric if m.label == "Class code"] and not controls(wrong)
    wrong.text_input(key="teacher.key").input("not a key")
    stranger.run(wrong.button(key="teacher.open").click())
    assert "opens no class" in texts(wrong) and not controls(wrong)
    # Pasting the whole teacher link works; the field is emptied.
    wrong.text_input(key="teacher.key").input(f"http://localhost:8501/Teacher?teacher={key}")
    stranger.run(wrong.button(key="teacher.open").click())
    assert [m.value for m in wrong.metric if m.label == "Class code"] == [code]
    assert wrong.text_input(key="teacher.key").value == "" if "teacher.key" in keys_of(wrong) else True


def test_the_dashboard_shows_the_class_live_flags_the_waiting_and_stops_runs(classroom, monkeypatch):
    manager, store = classroom
    code, key = store.create_class("Physics")
    teacher = Browser(monkeypatch)
    dashboard = teacher.open(TEACHER_PAGE, teacher=key)
    assert "No student has started a run yet." in texts(dashboard)

    students = {}
    for name in ("Ann", "Bo"):
        browser = Browser(monkeypatch)
        join(browser, code, name)
        train = browser.open(TRAIN_PAGE, **{**TINY, "budget": "time", "time_budget": "60.0"})
        browser.run(train.button(key="train.start").click())
        students[name] = (browser, train, train.session_state["_train_current"])
    outsider = manager.submit(RunSpec_tiny(), owner="someone-else")  # not in the class
    ann_run, bo_run = students["Ann"][2], students["Bo"][2]
    wait_for(lambda: manager.get(ann_run).status == "running" and manager.get(ann_run).step > 0)

    teacher.run(dashboard)
    table = dashboard.dataframe[0].value  # every run of the class (newest first), nothing else
    assert list(table["student"]) == ["Bo", "Ann"]
    assert list(table["status"]) == ["waiting in the queue", "training"]
    assert table["flag"][0].startswith("waiting ≈")
    lines = [t.value for t in dashboard.text if " · step " in t.value]
    assert lines[0].startswith("Ann · training") and lines[1].startswith("Bo · waiting")
    assert not any(outsider in part for part in rendered(dashboard).split())
    # Stop Ann's run from the dashboard: it stops with its model, and her page says so.
    teacher.run(dashboard.button(key="teacher.stop.0").click())
    assert manager.wait(ann_run, timeout=10).status == "stopped"
    browser, train, _ = students["Ann"]
    browser.run(train)
    assert "Stopped at step" in texts(train)
    # Bo's run takes the slot (it was queued before the outsider's); the teacher pauses it, then stops it.
    wait_for(lambda: manager.get(bo_run).status == "running")
    manager.stop(outsider, force=True)
    teacher.run(dashboard)
    teacher.run(dashboard.button(key="teacher.pause.0").click())
    assert manager.get(bo_run).status == "paused"
    teacher.run(dashboard.button(key="teacher.stop.0").click())
    assert manager.wait(bo_run, timeout=10).status == "stopped"
    teacher.run(dashboard)
    assert not {key for key in controls(dashboard) if key.startswith(TEACHER_CONTROLS[:3])}  # none left
    assert {*dashboard.dataframe[0].value["status"]} == {"stopped"}


def RunSpec_tiny():
    from tinylm.plan import RunSpec

    return RunSpec(n_layers=1, n_heads=2, d_model=32, context_len=16, time_budget=60.0)


def test_a_pushed_preset_is_every_student_s_starting_point_and_a_refresh_keeps_their_changes(
    classroom, monkeypatch
):
    _, store = classroom
    code, key = store.create_class("Lesson 3")
    early = Browser(monkeypatch)  # joined and opened the Train page before the teacher pushed
    join(early, code, "Early")
    early_train = early.open(TRAIN_PAGE)
    assert early_train.session_state["_settings"]["train"]["n_layers"] == 4  # the "live" preset

    teacher = Browser(monkeypatch)
    at = teacher.open(TEACHER_PAGE, teacher=key)
    at.radio(key="class_preset.preset").set_value("tiny")
    teacher.run(at)
    at.number_input(key="class_preset.n_layers").set_value(3)
    at.selectbox(key="class_preset.pos_encoding").set_value("rope")
    at.slider(key="class_preset.time_budget").set_value(30.0)
    at.text_input(key="class_preset.label").input("today: 3 layers, RoPE, 30 s")
    teacher.run(at)
    teacher.run(at.button(key="teacher.push").click())
    assert "Pushed" in texts(at)
    preset = store.get_preset(store.teacher_class(key))
    assert preset.label == "today: 3 layers, RoPE, 30 s"
    assert {k: preset.settings[k] for k in ("n_layers", "pos_encoding", "time_budget", "preset")} == {
        "n_layers": 3,
        "pos_encoding": "rope",
        "time_budget": 30.0,
        "preset": "tiny",
    }
    assert "corpus" not in preset.settings  # each student picks the text

    late = Browser(monkeypatch)
    join(late, code, "Late")
    late_train = late.open(TRAIN_PAGE)
    for train in (late_train, early.run(early_train)):
        settings = train.session_state["_settings"]["train"]
        assert (settings["n_layers"], settings["pos_encoding"], settings["time_budget"]) == (3, "rope", 30.0)
        assert settings["preset"] == "tiny" and settings["d_model"] == 64  # the rest: tiny's own
        assert markdown_literal("today: 3 layers, RoPE, 30 s") in texts(train)  # shown as typed
    # A student's own change survives a refresh (the applied push is in the URL) ...
    late.run(late_train.toggle(key="train.expert").set_value(True))
    late.run(late_train.number_input(key="train.n_layers").set_value(1))
    refreshed = late.open(TRAIN_PAGE, **dict(late_train.query_params))
    assert refreshed.session_state["_settings"]["train"]["n_layers"] == 1
    # ... and a student outside the class starts from the usual settings.
    outside = Browser(monkeypatch).open(TRAIN_PAGE)
    assert outside.session_state["_settings"]["train"]["n_layers"] == 4
    assert "from your teacher" not in texts(outside)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_student_s_browser_reaches_no_teacher_control_and_never_sees_the_key(classroom, monkeypatch, lang):
    manager, store = classroom
    formatting_language(monkeypatch, lang)
    code, key = store.create_class("History")
    teacher = Browser(monkeypatch)
    teacher.open(TEACHER_PAGE, lang=lang, teacher=key)
    student = Browser(monkeypatch)
    seen = [join(student, code, "Lily")]
    train = student.open(TRAIN_PAGE, lang=lang, **TINY)
    student.run(train.button(key="train.start").click())
    manager.wait(train.session_state["_train_current"], timeout=30)
    seen.append(student.run(train))
    for page in (CLASS_PAGE, TEACHER_PAGE, "app.py"):
        seen.append(student.open(page, lang=lang))
    seen.append(student.open(TEACHER_PAGE, lang=lang, **{"class": code}))
    for at in seen:
        assert key not in rendered(at)
        assert not controls(at)
        links = [link.proto.page for link in at.sidebar.get("page_link")]
        assert not any(link.endswith("12_Teacher.py") for link in links), links
    assert not [m for m in seen[-1].metric if m.label in ("Class code", "班级代码")]
    assert "tinylm_teacher" not in student.cookies


def test_the_dashboard_flags_a_diverged_run_and_a_stuck_one(classroom, monkeypatch, tmp_path):
    import threading

    import torch

    import ui.class_view
    from tests.app.class_helpers import runs
    from ui.class_data import ProgressWatch

    _, store = classroom
    release, stalled, poisoned = threading.Event(), threading.Event(), set()

    def hook(trainer, event):
        """Bo's run (seed 2) stalls from step 20 on, until released; Ann's (seed 1) turns infinite."""
        seed = trainer.config.seed
        if event.kind != "step":
            return
        if seed == 1 and not poisoned:
            poisoned.add(event.step)
            with torch.no_grad():
                trainer.model.blocks[0].feed_forward.fc1.weight.fill_(float("inf"))
        elif seed == 2 and event.step >= 20:
            stalled.set()
            release.wait(30)

    manager = runs.reset_manager_for_tests(
        tmp_path / "hooked-runs",
        max_jobs=2,
        max_queue=4,
        session_alive=lambda session: False,
        train_hook=hook,
    )
    now = [1000.0]
    monkeypatch.setattr(ui.class_view, "WATCH", ProgressWatch(clock=lambda: now[0]))
    code, key = store.create_class("Chemistry")
    started = {}
    for name, seed in (("Ann", "1"), ("Bo", "2")):
        browser = Browser(monkeypatch)
        join(browser, code, name)
        train = browser.open(TRAIN_PAGE, **{**TINY, "seed": seed, "budget": "time", "time_budget": "60.0"})
        browser.run(train.button(key="train.start").click())
        started[name] = train.session_state["_train_current"]
    try:
        assert manager.wait(started["Ann"], timeout=30).status == "failed"
        assert stalled.wait(30)
        step = manager.get(started["Bo"]).step  # its last step shown: nothing more arrives while it stalls
        teacher = Browser(monkeypatch)
        dashboard = teacher.open(TEACHER_PAGE, teacher=key)
        assert "Ann: the run diverged" in texts(dashboard)
        assert "Bo: no progress" not in texts(dashboard)
        now[0] += 31.0  # half a minute without a step
        teacher.run(dashboard)
        assert f"Bo: no progress for a while (step {step})" in texts(dashboard)
        flags = dict(
            zip(dashboard.dataframe[0].value["student"], dashboard.dataframe[0].value["flag"], strict=True)
        )
        assert flags == {"Ann": "diverged", "Bo": "stuck"}
    finally:
        release.set()
        manager.shutdown()
