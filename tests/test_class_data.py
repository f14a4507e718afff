"""Classroom mode's plain functions: the fair time budget (waits in minutes), the dashboard's flags,
the teacher's preset checked against the app's bounds, a class's rows (pruned runs skipped), and the
secrets' patterns."""

from __future__ import annotations

import math

import pytest

from tinylm.plan import APP_BOUNDS, RunSpec, recommended_spec
from ui.class_data import (
    ProgressWatch,
    RowCache,
    RunRow,
    best_runs,
    clean_preset,
    diverged,
    gallery,
    preset_spec,
    run_flag,
)
from ui.classroom import ClassRun
from ui.runs.policy import (
    MIN_FAIR_SECONDS,
    RUN_OVERHEAD_SECONDS,
    TARGET_WAIT_SECONDS,
    fair_budget,
    queue_wait,
)

# -- the fair budget --------------------------------------------------------------------------------


def last_start(seconds_left, waiting, slots, budget):
    return queue_wait(seconds_left, [budget + RUN_OVERHEAD_SECONDS] * waiting, slots)


@pytest.mark.parametrize(
    ("slots", "expected"),
    [(1, 10.0), (2, 13.0), (3, 21.0), (4, 28.0)],
)
def test_a_class_of_thirty_gets_a_budget_that_starts_the_last_student_within_minutes(slots, expected):
    budget = fair_budget([], waiting=29, slots=slots, wanted=60.0)
    assert budget == expected
    if budget > MIN_FAIR_SECONDS:  # the longest whole second that meets the target
        assert last_start([], 29, slots, budget) <= TARGET_WAIT_SECONDS
        assert last_start([], 29, slots, budget + 1) > TARGET_WAIT_SECONDS
    else:  # one slot: even the floor cannot; the wait is then said honestly (29 runs of 12 s)
        assert last_start([], 29, slots, budget) == 29 * (MIN_FAIR_SECONDS + RUN_OVERHEAD_SECONDS)


def test_the_budget_is_what_was_asked_when_the_queue_is_short_and_never_below_the_floor():
    assert fair_budget([20.0], waiting=2, slots=1, wanted=60.0) == 60.0
    assert fair_budget([], waiting=0, slots=1, wanted=600.0) == 600.0
    assert fair_budget([500.0], waiting=20, slots=1, wanted=60.0) == MIN_FAIR_SECONDS
    assert fair_budget([], waiting=100, slots=1, wanted=8.0) == 8.0  # already shorter than the floor


def test_the_runs_training_now_count_against_the_target():
    idle = fair_budget([], waiting=5, slots=1, wanted=120.0)
    busy = fair_budget([100.0], waiting=5, slots=1, wanted=120.0)
    assert idle == math.floor(TARGET_WAIT_SECONDS / 5 - RUN_OVERHEAD_SECONDS) == 40.0
    assert busy == math.floor((TARGET_WAIT_SECONDS - 100.0) / 5 - RUN_OVERHEAD_SECONDS) == 20.0
    assert last_start([100.0], 5, 1, busy) <= TARGET_WAIT_SECONDS < last_start([100.0], 5, 1, busy + 1)


# -- flags ------------------------------------------------------------------------------------------


def row(**changes) -> RunRow:
    base = dict(
        run_id="r" * 22,
        member="Lily",
        status="running",
        active=True,
        step=100,
        progress=0.3,
        elapsed=10.0,
        queue_position=None,
        wait_seconds=None,
        val_loss=3.0,
        best_val=3.0,
        entropy=3.2,
        non_finite=False,
        message_code="",
        sample="Once",
        sample_step=100,
        spec=RunSpec(),
        parameters=1000,
        model_saved=True,
        train_curve=(),
        val_curve=(),
        revision=1,
    )
    return RunRow(**{**base, **changes})


def test_a_run_is_diverged_when_its_loss_is_nan_or_still_above_the_unigram_entropy_late():
    assert not diverged(row())
    assert diverged(row(non_finite=True))
    assert diverged(row(status="failed", active=False, message_code="nan", progress=1.0))
    assert not diverged(row(val_loss=3.5, progress=0.4))  # above the entropy, but early
    assert diverged(row(val_loss=3.5, progress=0.6))
    assert diverged(row(val_loss=3.5, progress=1.0, status="done", active=False))
    assert not diverged(row(val_loss=3.5, progress=0.9, entropy=None))  # nothing to compare with


def test_flags_waiting_stuck_and_diverged():
    assert run_flag(row(status="queued", step=0, val_loss=None), 0.0) == "waiting"
    assert run_flag(row(), stalled_seconds=5.0) is None
    assert run_flag(row(), stalled_seconds=31.0) == "stuck"
    assert run_flag(row(status="paused"), stalled_seconds=300.0) is None  # its student paused it
    assert run_flag(row(status="done", active=False, progress=1.0), stalled_seconds=300.0) is None
    assert run_flag(row(non_finite=True), stalled_seconds=300.0) == "diverged"


def test_the_progress_watch_measures_the_time_since_a_run_last_moved():
    now = [100.0]
    watch = ProgressWatch(clock=lambda: now[0])
    assert watch.stalled_for("a", 10, "running") == 0.0
    now[0] = 140.0
    assert watch.stalled_for("a", 10, "running") == 40.0
    assert watch.stalled_for("a", 11, "running") == 0.0  # a new step
    now[0] = 150.0
    assert watch.stalled_for("a", 11, "paused") == 0.0  # a new status
    assert watch.stalled_for("b", 0, "queued") == 0.0


def test_the_gallery_lists_finished_runs_best_first_and_best_runs_one_per_student():
    rows = [
        row(run_id="a" * 22, member="A", status="done", active=False, val_loss=2.0),
        row(run_id="b" * 22, member="B", status="done", active=False, val_loss=1.5),
        row(run_id="c" * 22, member="A", status="stopped", active=False, val_loss=1.0),
        row(run_id="d" * 22, member="C"),  # still training
        row(run_id="e" * 22, member="D", status="error", active=False, step=0, val_loss=None),
    ]
    assert [r.run_id[0] for r in gallery(rows)] == ["c", "b", "a"]
    assert [r.member for r in best_runs(rows, 5)] == ["A", "B"]


# -- the preset ---------------------------------------------------------------------------------------


def test_a_preset_keeps_only_settings_within_the_app_s_bounds():
    pushed = {
        "n_layers": 2,
        "pos_encoding": "rope",
        "time_budget": 30,  # an int where a float is expected: accepted as 30.0
        "budget": "time",
        "learning_rate": 3e-3,
        "preset": "tiny",
        "corpus": "stories-en",
        "d_model": 10**6,  # beyond the bounds
        "dropout": 0.9,  # beyond the app's bounds (the library allows it)
        "activation": "swish",  # not an option
        "tie_weights": 1,  # not a switch
        "kind": "finetune",  # not a preset's to set
        "text_name": "x",
        "unknown": 1,
        "seed": float("nan"),
    }
    assert clean_preset(pushed) == {
        "n_layers": 2,
        "pos_encoding": "rope",
        "time_budget": 30.0,
        "budget": "time",
        "learning_rate": 3e-3,
        "preset": "tiny",
        "corpus": "stories-en",
    }
    assert clean_preset({"corpus": "custom", "preset": "huge"}) == {}
    assert clean_preset(["n_layers", 2]) == {}
    assert APP_BOUNDS["dropout"].high < 0.9


def test_a_student_s_starting_point_is_the_corpus_recommendation_with_the_teacher_s_settings():
    settings = {"n_layers": 2, "pos_encoding": "rope", "time_budget": 30.0, "preset": "tiny"}
    settings["corpus"] = "sort"
    spec = preset_spec("stories-zh", settings)
    tiny = recommended_spec("stories-zh", "tiny")
    assert spec.corpus == "stories-zh"  # the student's text: the page applies a pushed corpus itself
    assert (spec.n_layers, spec.pos_encoding, spec.time_budget, spec.preset) == (2, "rope", 30.0, "tiny")
    assert (spec.d_model, spec.batch_size) == (tiny.d_model, tiny.batch_size)


# -- a class's rows ------------------------------------------------------------------------------------


class FakeStore:
    def __init__(self, root) -> None:
        self.root = root

    def directory(self, run_id):
        return self.root / run_id


class FakeManager:
    """live_jobs / get / store, counting the reads of finished runs."""

    def __init__(self, root, views) -> None:
        self.store, self.views, self.reads = FakeStore(root), views, []

    def live_jobs(self):
        return [run_id for run_id, view in self.views.items() if view.active]

    def get(self, run_id):
        self.reads.append(run_id)
        return self.views.get(run_id)


def view(run_id, status, **changes):
    from ui.runs import RunView

    base = dict(
        run_id=run_id,
        kind="trained",
        status=status,
        message=None,
        label="x",
        created="",
        spec=RunSpec(),
        data={"unigram_entropy": 3.0},
        parameters=10,
        step=5,
        elapsed=1.0,
        progress=1.0,
        eta_seconds=None,
        queue_position=None,
        wait_seconds=None,
        stop_requested=False,
        history={"train": [(1, 0.1, 4.0), (5, 1.0, float("nan"))], "val": [(5, 1.0, 2.5)]},
        samples=[(5, "hello")],
        probe_tokens=[],
        snapshots=[],
        points=[],
        has_model=True,
        model_saved=True,
        model_version=1,
        owner="o",
        revision=3,
    )
    return RunView(**{**base, **changes})


def test_finished_rows_are_read_once_and_a_pruned_run_is_skipped(tmp_path):
    done, live, gone = "d" * 22, "l" * 22, "g" * 22
    (tmp_path / done).mkdir()
    manager = FakeManager(tmp_path, {done: view(done, "done"), live: view(live, "running")})
    runs = [ClassRun(1, "Ann", done, 0.0), ClassRun(2, "Bo", live, 1.0), ClassRun(3, "Cy", gone, 2.0)]
    cache = RowCache()
    rows = cache.rows(manager, runs)
    assert [(r.member, r.status) for r in rows] == [("Ann", "done"), ("Bo", "running")]
    assert rows[0].non_finite and rows[0].val_loss == 2.5 and rows[0].sample == "hello"
    manager.reads.clear()
    renamed = [ClassRun(1, "Annie", done, 0.0), *runs[1:]]
    again = cache.rows(manager, renamed)
    assert manager.reads == [live, gone]  # the finished run came from the cache
    assert again[0].member == "Annie"
    (tmp_path / done).rmdir()  # pruned
    assert [r.member for r in cache.rows(manager, renamed)] == ["Bo"]


# -- the secrets' patterns --------------------------------------------------------------------------


def test_a_teacher_key_is_found_in_a_pasted_link_and_nothing_else_passes():
    from ui.class_session import MEMBER_COOKIE_PATTERN, key_from_text
    from ui.classroom.text import new_class_code, new_member_token, new_teacher_key

    key = new_teacher_key()
    assert key_from_text(key) == key
    assert key_from_text(f"  https://lab.example/Teacher?lang=en&teacher={key}  ") == key
    assert key_from_text(f"/Teacher?teacher={key}") == key
    for bad in ("", key[:-1], key + "x", f"{key[:-1]}'", "<script>", None, 42, "a" * 5000):
        assert key_from_text(bad) is None
    assert MEMBER_COOKIE_PATTERN.fullmatch(f"{new_class_code()}.{new_member_token()}")
    assert not MEMBER_COOKIE_PATTERN.fullmatch(f"{new_class_code()}.{new_member_token()}';alert(1)//")


def test_a_csv_of_display_names_cannot_become_a_spreadsheet_formula():
    from ui.class_view import csv_safe

    rows = [['=HYPERLINK("http://x")', 1.5, "+1", "-2", "@SUM(A1)", "Lily", "\tTab"]]
    assert csv_safe(rows) == [['\'=HYPERLINK("http://x")', 1.5, "'+1", "'-2", "'@SUM(A1)", "Lily", "'\tTab"]]
