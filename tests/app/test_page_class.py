"""The Class page (pages/11_Class.py): joining with the code of a link and a display name, being the same
member after a refresh, the class gallery of finished runs (names, settings, losses, samples; any model
usable on every page; pruned runs skipped; names shown as typed), and the Train page's wait in minutes
with its shorter budget for a class. Real (very small) training runs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.app.class_helpers import (
    CLASS_PAGE,
    TINY,
    TRAIN_PAGE,
    Browser,
    classroom_fixture,  # noqa: F401  (the fixture "classroom")
    formatting_language,
    join,
    rendered,
    texts,
)
from tests.app.conftest import shown_as_code
from tests.app.plotly_data import decode
from ui.runs.policy import fair_budget
from ui.text import markdown_literal

HOSTILE = "<img src=x onerror=alert(1)>:red[E]$x$"  # 39 characters: a display name's limit is 40


def sidebar_texts(at) -> list[str]:
    return [element.value for element in at.sidebar.get("text")]


def chart(at, key: str) -> dict | None:
    import json

    for element in at.get("plotly_chart"):
        if element.proto.id.endswith(key):
            return json.loads(element.proto.spec)
    return None


def train(browser: Browser, manager, **settings):
    at = browser.open(TRAIN_PAGE, **{**TINY, **settings})
    browser.run(at.button(key="train.start").click())
    run_id = at.session_state["_train_current"]
    assert manager.wait(run_id, timeout=60).finished
    return run_id


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_student_joins_from_a_link_and_is_the_same_member_after_a_refresh(classroom, monkeypatch, lang):
    _, store = classroom
    formatting_language(monkeypatch, lang)
    code, _ = store.create_class("Year 9")
    browser = Browser(monkeypatch)
    at = browser.open(CLASS_PAGE, lang=lang, **{"class": code.lower()})  # typed codes are forgiving
    assert at.text_input(key="class.code").value == code
    at.text_input(key="class.name").input("  Lily  ")
    browser.run(at.button(key="class.join").click())
    (member,) = store.members(store.find_class(code))
    assert member.display_name == "Lily"
    assert sidebar_texts(at) == [
        ("Class: Year 9 · you are Lily" if lang == "en" else "班级：Year 9 · 你是 Lily")
    ]
    token = browser.cookies["tinylm_class"].split(".")[1]
    assert store.member(store.find_class(code), token).id == member.id
    # The token is a secret of this browser: in a cookie, never in the address bar or the page.
    assert token not in rendered(at, cookie_scripts=False) and at.query_params["class"] in (code, [code])
    # Another page, then a refresh (a new session of this browser): still Lily, in the same class.
    at.switch_page(TRAIN_PAGE)
    browser.run(at)
    assert sidebar_texts(at) == sidebar_texts(browser.open(CLASS_PAGE, lang=lang))
    again = browser.open(TRAIN_PAGE, lang=lang)
    assert len(sidebar_texts(again)) == 1 and "Lily" in sidebar_texts(again)[0]
    assert token not in rendered(again)
    # Renaming keeps the member; a second "Lily" in the class gets a number.
    page = browser.open(CLASS_PAGE, lang=lang)
    page.text_input(key="class.rename").input("Lily B")
    browser.run(page.button(key="class.rename_button").click())
    join(Browser(monkeypatch), code, "lily b")
    names = [m.display_name for m in store.members(store.find_class(code))]
    assert names == ["Lily B", "lily b (2)"]
    # Leaving forgets the class in this browser only.
    browser.run(page.button(key="class.leave").click())
    assert "tinylm_class" not in browser.cookies
    assert not sidebar_texts(browser.open(TRAIN_PAGE, lang=lang))


def test_a_wrong_code_or_an_empty_name_is_explained_and_an_ended_class_is_left(classroom, monkeypatch):
    _, store = classroom
    code, key = store.create_class("Art")
    browser = Browser(monkeypatch)
    at = browser.open(CLASS_PAGE)
    at.text_input(key="class.code").input("ZZZZZZ")
    at.text_input(key="class.name").input("Ann")
    browser.run(at.button(key="class.join").click())
    assert "There is no class with the code ZZZZZZ" in texts(at)
    at.text_input(key="class.code").input(code)
    at.text_input(key="class.name").input("   ")
    browser.run(at.button(key="class.join").click())
    assert "Please type a name" in texts(at)
    assert "tinylm_class" not in browser.cookies
    join(browser, code, "Ann")
    store.delete_class(store.teacher_class(key))
    later = browser.open(CLASS_PAGE)
    assert "Your class has ended" in texts(later)
    assert later.text_input(key="class.code") is not None  # the join form again
    assert "tinylm_class" not in browser.cookies


def test_the_gallery_shows_the_class_s_finished_runs_and_any_model_can_be_used(classroom, monkeypatch):
    manager, store = classroom
    code, _ = store.create_class("Science")
    ann, eve = Browser(monkeypatch), Browser(monkeypatch)
    join(ann, code, "Ann")
    join(eve, code, HOSTILE)
    ann_run = train(ann, manager, pos_encoding="sinusoidal")
    eve_run = train(eve, manager, pos_encoding="rope", learning_rate="0.003")
    outsider = Browser(monkeypatch)
    outsider_run = train(outsider, manager)  # trained outside the class: never in its gallery

    at = ann.open(CLASS_PAGE)
    views = {run_id: manager.get(run_id) for run_id in (ann_run, eve_run)}
    final = {run_id: view.history["val"][-1][2] for run_id, view in views.items()}
    table = at.dataframe[0].value
    order = sorted(final, key=final.get)  # the best first
    names = {ann_run: "Ann", eve_run: HOSTILE}
    assert list(table["student"]) == [names[run_id] for run_id in order]
    assert list(table["final validation loss"]) == [f"{final[run_id]:.3f}" for run_id in order]
    assert list(table["Positional encoding"]) == [
        {ann_run: "sinusoidal", eve_run: "RoPE"}[run_id] for run_id in order
    ]
    assert outsider_run not in rendered(at) and ann_run not in " ".join(texts(at).split())
    # The curves: one validation curve per run, named by the student.
    curves = chart(at, "class.curves.chart")
    by_name = {trace["name"]: trace for trace in curves["data"]}
    assert set(by_name) == {"Ann", "&lt;img src=x onerror=alert(1)&gt;:red[E]$x$"}
    np.testing.assert_allclose(decode(by_name["Ann"]["y"]), [r[2] for r in views[ann_run].history["val"]])
    # Cards: the latest sample of each run, as plain code.
    samples = [code_block.value for code_block in at.code]
    assert {shown_as_code(views[run_id].samples[-1][1]) for run_id in (ann_run, eve_run)} <= set(samples)
    # The hostile name is shown as typed: escaped wherever Markdown would read it.
    markdown = [m.value for m in at.markdown]
    assert not any(re.search(r"(?<!\\)[<:$]", value.split("**")[1]) for value in markdown if "img" in value)
    assert any(markdown_literal(HOSTILE) in value for value in markdown)
    # Ann uses Eve's model; it is the model of every page.
    eve_index = order.index(eve_run)
    ann.run(at.button(key=f"class.use.{eve_index}").click())
    assert at.session_state["_model_key"] == f"run:{eve_run}"
    assert at.button(key=f"class.use.{eve_index}").disabled  # "in use"
    at.switch_page("pages/6_Generate.py")
    ann.run(at)
    assert at.session_state["_model_key"] == f"run:{eve_run}"
    # A run deleted from disk (pruning) leaves the gallery; the page goes on.
    manager._delete(ann_run)
    again = ann.open(CLASS_PAGE)
    assert list(again.dataframe[0].value["student"]) == [HOSTILE]


def test_the_train_page_says_the_wait_and_offers_a_class_a_shorter_budget(classroom, monkeypatch):
    manager, store = classroom
    code, _ = store.create_class("Big class")
    others = [store.join(code, f"student {number}") for number in range(4)]
    browser = Browser(monkeypatch)
    join(browser, code, "Me")  # five in the class who have not trained yet, one training slot
    at = browser.open(TRAIN_PAGE, **{**TINY, "budget": "time", "time_budget": "60.0"})
    offer = fair_budget([], waiting=4, slots=1, wanted=60.0)
    assert offer == 50.0
    assert "A training slot is free" in texts(at)
    assert "5 runs take turns, 1 at a time" in texts(at)
    browser.run(at.button(key="train.fair_budget").click())
    settings = at.session_state["_settings"]["train"]
    assert (settings["budget"], settings["time_budget"]) == ("time", offer)
    assert "train.fair_budget" not in [b.key for b in at.button]  # nothing more to offer
    # Once the classmates have had their turn (and nobody waits), a long run is no one's wait.
    klass = store.find_class(code)
    for number, member in enumerate(others):
        store.add_run(klass, member, f"gone-run-{number}")  # runs long since pruned: skipped everywhere
    later = browser.open(TRAIN_PAGE, **{**TINY, "budget": "time", "time_budget": "60.0"})
    assert "train.fair_budget" not in [b.key for b in later.button]
    # A student outside a class, alone on the server: no offer.
    alone = Browser(monkeypatch).open(TRAIN_PAGE, **{**TINY, "budget": "time", "time_budget": "60.0"})
    assert "train.fair_budget" not in [b.key for b in alone.button]
    # Another student's run trains: the wait is said in time.
    busy = manager.submit(manager_spec(), owner="someone")  # 60 s, so the next run waits about a minute
    assert manager.wait(busy, timeout=20, states=("running",)).status == "running"
    waiting = Browser(monkeypatch).open(TRAIN_PAGE, **TINY)
    assert "Started now, your run would wait about" in texts(waiting)
    manager.stop(busy, force=True)


def manager_spec():
    from tinylm.plan import RunSpec

    return RunSpec(n_layers=1, n_heads=2, d_model=32, context_len=16, time_budget=60.0)
