"""The job layer (ui/runs: records, store, manager, in-process backend): real training runs of a very
small model, a few seconds each."""

from __future__ import annotations

import io
import json
import os
import pickle
import time
import zipfile

import numpy as np
import pytest
import torch

from tests.helpers import SMALL_RUN
from tinylm.checkpoint import checkpoint_zip_bytes, read_checkpoint, read_checkpoint_zip, save_checkpoint
from tinylm.corpora import generate_corpus
from tinylm.data import BUILTIN_CORPUS_CHARS, prepare_data
from tinylm.errors import TinyLMError
from tinylm.job import PROBE_TOKENS
from tinylm.model import TinyLM
from tinylm.tokenizers import CharTokenizer
from tinylm.train import evaluate_loss
from ui.runs import JobManager, Limits, new_run_id, valid_run_id
from ui.runs.backend import ThreadBackend

SMALL = SMALL_RUN
LONG = SMALL.with_settings(budget="time", time_budget=120.0)


@pytest.fixture
def manager(tmp_path):
    made = []

    def make(**options) -> JobManager:
        hook = options.pop("train_hook", None)
        limits = Limits(max_jobs=1, max_queue=2, orphan_seconds=60.0)
        for key, value in options.items():
            setattr(limits, key, value)
        backend = ThreadBackend(limits.max_jobs, train_hook=hook)
        made.append(
            JobManager(tmp_path / "runs", limits, backend=backend, session_alive=lambda session: False)
        )
        return made[-1]

    yield make
    for each in made:
        each.shutdown()


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def stories_data(context_len: int):
    text = generate_corpus("stories-en", n_chars=BUILTIN_CORPUS_CHARS, seed=0)
    tokenizer = CharTokenizer.from_text(text)
    return tokenizer, prepare_data(text, tokenizer, context_len)


def test_a_short_run_trains_publishes_a_snapshot_and_saves_it(manager, tmp_path):
    jobs_ = manager()
    run_id = jobs_.submit(SMALL)
    assert valid_run_id(run_id)
    view = jobs_.wait(run_id, timeout=60)
    assert view.status == "done", view.message
    assert view.step == SMALL.max_steps
    assert view.message["code"] == "done"
    # The loss fell: the last validation loss is well below the first (an untrained model: ~ln V).
    first, last = view.history["val"][0][2], view.history["val"][-1][2]
    tokenizer, data = stories_data(SMALL.context_len)
    assert first == pytest.approx(np.log(tokenizer.vocab_size), abs=0.3)
    assert last < first - 0.5
    assert view.data["vocab"] == tokenizer.vocab_size
    assert view.data["train_tokens"] == len(data.train) and view.data["val_tokens"] == len(data.val)
    assert 2.0 < view.data["unigram_entropy"] < np.log(tokenizer.vocab_size)
    # Samples at steps 30 and 60 (the end), each continuing the prompt.
    assert [step for step, _ in view.samples] == [30, 60]
    assert all(text.startswith("Once upon a time") for _, text in view.samples)
    # The published model is a frozen copy in eval mode whose val loss is the one recorded last.
    checkpoint, version = jobs_.model_for(run_id)
    assert version == view.model_version and version >= 2
    assert not checkpoint.model.training
    assert not any(p.requires_grad for p in checkpoint.model.parameters())
    windows = data.val.unfold(0, SMALL.context_len + 1, SMALL.context_len)
    assert evaluate_loss(checkpoint.model, windows[:512]) == pytest.approx(last, rel=0.02)
    # The last attention snapshot is the model's own softmax(QKᵀ/√d_k) on the probe text.
    probe = data.val[: min(PROBE_TOKENS, SMALL.context_len)].tolist()
    assert view.probe_tokens == tokenizer.token_strings(probe)
    step, weights = view.snapshots[-1]
    assert step == SMALL.max_steps
    assert weights.shape == (1, 2, len(probe), len(probe))
    expected = checkpoint.model(torch.tensor([probe]), return_attention=True).attentions[0][0].numpy()
    np.testing.assert_allclose(weights[0].astype(np.float32), expected, atol=2e-3)
    np.testing.assert_allclose(weights.astype(np.float32).sum(-1), 1.0, atol=5e-3)
    assert np.all(np.triu(weights.astype(np.float32), k=1) == 0)  # causal: no looking ahead
    # On disk: the same weights, and a run.json a new server process can read back.
    saved = read_checkpoint(tmp_path / "runs" / run_id)
    for (name, a), (_, b) in zip(
        saved.model.state_dict().items(), checkpoint.model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    reopened = JobManager(tmp_path / "runs", Limits(), session_alive=lambda s: False)
    try:
        again = reopened.get(run_id)
        assert again.status == "done" and again.step == view.step
        assert again.history["val"] == [tuple(row) for row in view.history["val"]]
        assert len(again.snapshots) == len(view.snapshots)
        assert len(again.repeat_snapshots) == len(view.repeat_snapshots) == len(view.snapshots)
        assert again.repeat_tokens == view.repeat_tokens and len(view.repeat_tokens) == 16
        np.testing.assert_allclose(
            again.repeat_snapshots[-1][1].astype(np.float32),
            view.repeat_snapshots[-1][1].astype(np.float32),
            atol=1e-3,
        )
        # The head scores recorded at every evaluation are kept with the run, and in its checkpoint.
        assert [row[0] for row in view.history["induction"]] == [row[0] for row in view.history["val"]]
        assert again.history["induction"] == view.history["induction"]
        assert [list(row) for row in saved.history["icl"]] == [list(row) for row in view.history["icl"]]
        loaded, loaded_version = reopened.model_for(run_id)
        assert loaded_version == version
        assert torch.equal(loaded.model.token_embedding.weight, checkpoint.model.token_embedding.weight)
    finally:
        reopened.shutdown()
    # Memory released: no live job, no trainer or text held.
    assert jobs_.live_jobs() == []


def test_stop_really_stops_the_worker_thread_and_keeps_the_model(manager):
    jobs_ = manager()
    run_id = jobs_.submit(LONG, owner="me")
    wait_for(lambda: jobs_.get(run_id).step >= 20)
    thread = jobs_.thread_of(run_id)
    assert thread.is_alive()
    stopped_at = time.monotonic()
    assert jobs_.stop(run_id, "me")
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert time.monotonic() - stopped_at < 1.5
    view = jobs_.get(run_id)
    assert view.status == "stopped" and view.message["code"] == "user"
    step = view.step
    time.sleep(0.3)
    assert jobs_.get(run_id).step == step
    assert jobs_.model_for(run_id) is not None


def test_pause_holds_the_step_and_resume_continues(manager):
    jobs_ = manager()
    run_id = jobs_.submit(LONG, owner="me")
    wait_for(lambda: jobs_.get(run_id).step >= 10)
    assert jobs_.pause(run_id, "me")
    assert jobs_.get(run_id).status == "paused"
    time.sleep(0.3)  # let the step in progress finish
    held = jobs_.get(run_id).step
    time.sleep(0.5)
    assert jobs_.get(run_id).step == held
    assert jobs_.resume(run_id, "me")
    assert jobs_.get(run_id).status == "running"
    wait_for(lambda: jobs_.get(run_id).step > held + 5)
    jobs_.stop(run_id, "me")
    assert jobs_.wait(run_id, timeout=10).status == "stopped"


def test_the_concurrency_limit_queues_the_extra_job_and_refuses_a_full_queue(manager):
    jobs_ = manager(max_jobs=1, max_queue=2)
    first = jobs_.submit(LONG, owner="ann")
    second = jobs_.submit(LONG, owner="ben")
    third = jobs_.submit(LONG, owner="cat")
    assert jobs_.get(first).status in ("preparing", "running")
    assert jobs_.get(second).status == "queued" and jobs_.get(second).queue_position == 1
    assert jobs_.get(third).queue_position == 2
    with pytest.raises(TinyLMError) as refused:
        jobs_.submit(LONG, owner="dan")
    assert refused.value.code == "queue_full" and refused.value.params["limit"] == 2
    # The wait is estimated from the run ahead (its time left) and the runs queued before.
    assert 0 < jobs_.get(second).wait_seconds <= 120.0 < jobs_.get(third).wait_seconds <= 240.0
    # Cancelling a queued job moves the next one up; stopping the running job starts it.
    jobs_.stop(second, "ben")
    assert jobs_.get(second).status == "stopped" and jobs_.get(second).message["code"] == "cancelled"
    assert jobs_.model_for(second) is None
    assert jobs_.get(third).queue_position == 1
    jobs_.stop(first, "ann")
    wait_for(lambda: jobs_.get(third).status in ("preparing", "running"))
    assert jobs_.get(first).status == "stopped"
    jobs_.stop(third, "cat")


def test_a_job_nobody_watches_is_stopped_and_its_memory_released(manager):
    jobs_ = manager(orphan_seconds=1.0)
    run_id = jobs_.submit(LONG)
    # Watched (touched) for a while: it keeps training (however long it took to start on a busy machine).
    wait_for(lambda: jobs_.touch([run_id], "session-1") is not None and jobs_.get(run_id).status == "running")
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        jobs_.touch([run_id], "session-1")
        time.sleep(0.2)
    assert jobs_.get(run_id).status == "running"
    # Nobody looks any more, and the session is gone: stopped within the grace period and a sweep.
    view = jobs_.wait(run_id, timeout=6)
    assert view.status == "stopped" and view.message["code"] == "abandoned"
    assert view.has_model  # the model trained so far is kept
    assert jobs_.live_jobs() == []
    wait_for(lambda: not jobs_.thread_of(run_id).is_alive(), timeout=5)


def test_a_job_whose_session_is_still_connected_is_not_stopped(tmp_path):
    alive = JobManager(
        tmp_path / "runs", Limits(max_jobs=1, orphan_seconds=1.0), session_alive=lambda session: True
    )
    try:
        run_id = alive.submit(LONG)
        alive.touch([run_id], "session-1")
        time.sleep(3.0)
        assert alive.get(run_id).status == "running"
    finally:
        alive.shutdown()


def test_a_nan_loss_stops_with_an_explanation_and_keeps_the_last_good_weights(manager):
    good = {}

    def poison(trainer, event):
        if event.kind == "step" and not good:
            good["step"] = event.step
            good.update({name: p.detach().clone() for name, p in trainer.model.named_parameters()})
            with torch.no_grad():
                trainer.model.blocks[0].feed_forward.fc1.weight.fill_(float("inf"))

    jobs_ = manager(train_hook=poison)
    run_id = jobs_.submit(SMALL.with_settings(max_steps=200))
    view = jobs_.wait(run_id, timeout=30)
    assert view.status == "failed"
    assert view.message["code"] == "nan"
    poisoned_at = good.pop("step")
    params = view.message["params"]
    assert (params["step"], params["good_step"]) == (poisoned_at + 1, poisoned_at)
    assert 1e-3 < float(params["lr"]) <= SMALL.learning_rate  # the rate at that step (cosine schedule)
    checkpoint, _ = jobs_.model_for(run_id)
    for name, parameter in checkpoint.model.named_parameters():
        assert torch.equal(parameter, good[name]), name


def test_a_custom_text_that_is_too_short_ends_the_run_with_the_reason(manager):
    jobs_ = manager()
    run_id = jobs_.submit(SMALL.with_settings(corpus="custom", text_name="pasted"), text="abc abc abc")
    view = jobs_.wait(run_id, timeout=20)
    assert view.status == "error"
    assert view.message == {
        "kind": "error",
        "code": "text_too_short",
        "params": {"tokens": 11, "needed": view.message["params"]["needed"], "context_len": 16},
    }
    assert not view.has_model and jobs_.model_for(run_id) is None


def test_a_custom_text_trains_with_a_bpe_tokenizer(manager):
    jobs_ = manager()
    text = "The cat sat on the mat. The dog sat on the log. 小猫坐在垫子上。\n" * 200
    run_id = jobs_.submit(
        SMALL.with_settings(corpus="custom", tokenizer="bpe", bpe_vocab=300, max_steps=20), text=text
    )
    view = jobs_.wait(run_id, timeout=30)
    assert view.status == "done", view.message
    assert 256 < view.data["vocab"] <= 300
    assert view.data["tokens"] < len(text)  # BPE merges: fewer tokens than characters
    assert view.samples[-1][1].startswith(text.strip()[:12])


def test_bad_run_ids_never_reach_the_file_system(manager, tmp_path):
    jobs_ = manager()
    (tmp_path / "secret").mkdir()
    for bad in ("../secret", "..", "", "a" * 21, "a/b" * 8, "x" * 22 + "\n", None, 42):
        assert not valid_run_id(bad)
        assert jobs_.get(bad) is None
        assert jobs_.model_for(bad) is None
    assert jobs_.get(new_run_id()) is None  # well-formed but unknown


def make_zip(vocab: int = 12) -> bytes:
    tokenizer = CharTokenizer.from_text("abcdefghijk")
    model = SMALL.model_config(tokenizer.vocab_size)
    return checkpoint_zip_bytes(
        TinyLM(model, seed=3),
        tokenizer,
        history={"val": [[0, 0.0, 2.5], [10, 1.0, 2.0]]},
        meta={"name": "mine"},
    )


def test_an_uploaded_checkpoint_becomes_a_run_and_bad_files_are_refused(manager):
    jobs_ = manager()
    data = make_zip()
    run_id = jobs_.import_checkpoint(data, "mine.zip")
    view = jobs_.get(run_id)
    assert view.kind == "uploaded" and view.status == "uploaded" and view.has_model
    assert view.history["val"] == [(0, 0.0, 2.5), (10, 1.0, 2.0)]
    checkpoint, version = jobs_.model_for(run_id)
    assert version == view.model_version == 1
    assert checkpoint.meta["name"] == view.label == "⬆ mine"
    assert checkpoint.model.num_parameters() == view.parameters
    # Refused: a pickle, a torch .pt file (a zip holding a pickle), a truncated zip, random bytes.
    pt = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, pt)
    renamed = io.BytesIO()
    with zipfile.ZipFile(renamed, "w") as archive:
        archive.writestr("model.safetensors", b"not really")
        archive.writestr("tinylm.json", json.dumps({"format": "tinylm-checkpoint", "version": 1}))
    for bad in (
        pickle.dumps({"a": 1}),
        pt.getvalue(),
        data[: len(data) // 2],
        b"\x00" * 100,
        renamed.getvalue(),
    ):
        with pytest.raises(TinyLMError) as refused:
            jobs_.import_checkpoint(bad, "bad.zip")
        assert refused.value.code in ("bad_checkpoint", "bad_tokenizer")


def age(runs_dir, run_id: str, hours: float) -> None:
    """Make a run look last used ``hours`` ago (pruning orders runs by that time)."""
    then = time.time() - hours * 3600
    for path in (runs_dir / run_id).iterdir():
        os.utime(path, (then, then))


def test_pruning_deletes_the_least_recently_used_run_never_a_recent_or_watched_one(manager, tmp_path):
    jobs_ = manager(max_runs=3)
    jobs_.session_alive = lambda session: session == "watcher"
    runs_dir = tmp_path / "runs"
    old = [jobs_.import_checkpoint(make_zip()) for _ in range(3)]
    assert sorted(p.name for p in runs_dir.iterdir()) == sorted(old)  # 3 runs, none pruned yet
    for run_id, hours in zip(old, (3, 5, 2), strict=True):
        age(runs_dir, run_id, hours)
    jobs_.touch([old[1]], "watcher")  # the oldest is on a connected student's screen
    fresh = jobs_.import_checkpoint(make_zip())  # four runs: one must go
    kept = sorted(p.name for p in runs_dir.iterdir())
    assert kept == sorted([old[1], old[2], fresh])  # the least recently used unwatched one went
    assert jobs_.get(old[0]) is None and jobs_.model_for(old[0]) is None


def test_fifty_uploads_by_one_student_never_delete_another_student_s_models(manager, tmp_path):
    jobs_ = manager(max_runs=8, max_imports_per_owner=5)
    bens = jobs_.import_checkpoint(make_zip(), owner="ben")
    age(tmp_path / "runs", bens, 48)
    anns = [jobs_.import_checkpoint(make_zip(), owner="ann") for _ in range(50)]
    kept = {p.name for p in (tmp_path / "runs").iterdir()}
    assert bens in kept and jobs_.model_for(bens) is not None
    assert kept - {bens} == set(anns[-5:])  # Ann keeps her five newest uploads


def test_one_active_run_per_student_and_only_its_owner_controls_it(manager):
    jobs_ = manager(max_queue=5)
    run_id = jobs_.submit(LONG, owner="ann")
    with pytest.raises(TinyLMError) as refused:
        jobs_.submit(LONG, owner="ann")  # a second tab of the same browser
    assert refused.value.code == "one_run_each"
    wait_for(lambda: jobs_.get(run_id).status == "running")
    for who in ("ben", None):  # someone with the shared link, a projector, a page without a student
        assert not jobs_.can_control(run_id, who)
        assert not jobs_.pause(run_id, who) and not jobs_.stop(run_id, who)
    assert jobs_.get(run_id).status == "running" and not jobs_.get(run_id).stop_requested
    assert jobs_.get(run_id).owner == "ann" and jobs_.can_control(run_id, "ann")
    assert jobs_.stop(run_id, "ann")
    assert jobs_.wait(run_id, timeout=10).status == "stopped"
    jobs_.submit(SMALL, owner="ann")  # once it ended, she may start another


def test_pausing_and_resuming_in_a_loop_cannot_hold_a_slot_forever(manager):
    jobs_ = manager(max_pause_seconds=1.0)
    run_id = jobs_.submit(LONG, owner="ann")
    wait_for(lambda: jobs_.get(run_id).status == "running")
    deadline = time.monotonic() + 20
    while jobs_.get(run_id).active:
        assert time.monotonic() < deadline, "pauses were never capped"
        jobs_.pause(run_id, "ann")
        time.sleep(0.3)  # each pause is short: only their sum is over the cap
        jobs_.resume(run_id, "ann")
        time.sleep(0.05)
    view = jobs_.wait(run_id, timeout=10)
    assert view.status == "stopped" and view.message["code"] == "pause_cap"


def test_a_run_s_wall_clock_time_is_bounded_from_its_start(manager):
    jobs_ = manager()
    run_id = jobs_.submit(LONG, owner="ann")
    wait_for(lambda: jobs_.get(run_id).status == "running")
    jobs_._live[run_id].started_clock -= 10_000  # as if it had started hours ago
    view = jobs_.wait(run_id, timeout=10)
    assert view.status == "stopped" and view.message["code"] == "time_cap"


def test_a_run_offers_its_model_only_once_its_checkpoint_is_on_disk(manager, tmp_path):
    jobs_ = manager()
    seen = []

    def check(trainer, event):  # in the training thread, before the manager sees the event
        seen.append((event.kind, event.step, jobs_.get(run_id).model_saved, jobs_.model_for(run_id) is None))

    jobs_.backend.train_hook = check
    run_id = jobs_.submit(SMALL)
    view = jobs_.wait(run_id, timeout=60)
    assert view.status == "done" and view.model_saved
    first_eval = seen[0]
    assert first_eval[:2] == ("eval", 0) and first_eval[2:] == (False, True)  # nothing saved yet
    assert (tmp_path / "runs" / run_id / "model.safetensors").is_file()
    assert read_checkpoint_zip(jobs_.checkpoint_zip(run_id)).meta["steps"] == SMALL.max_steps


@pytest.mark.parametrize("saved", [True, False])
def test_after_a_restart_an_interrupted_run_offers_its_last_checkpoint_or_says_it_has_none(tmp_path, saved):
    run_id = new_run_id()
    directory = tmp_path / "runs" / run_id
    directory.mkdir(parents=True)
    document = {
        "id": run_id,
        "status": "running",
        "spec": {},
        "step": 70,
        "has_model": True,
        "model_version": 3,
    }
    if saved:
        tokenizer = CharTokenizer.from_text("abcdefghijk")
        model = TinyLM(SMALL.model_config(tokenizer.vocab_size), seed=1)
        save_checkpoint(directory, model, tokenizer, meta={"steps": 50})
        document.update(model_saved=True, data={"saved_step": 50})
    (directory / "run.json").write_text(json.dumps(document))
    reopened = JobManager(tmp_path / "runs", Limits(), session_alive=lambda s: False)
    try:
        view = reopened.get(run_id)
        assert view.status == "interrupted" and view.model_saved is saved
        if saved:
            assert view.data["saved_step"] == 50
            assert len(reopened.checkpoint_zip(run_id)) > 1000
        else:
            assert reopened.model_for(run_id) is None and reopened.checkpoint_zip(run_id) is None
    finally:
        reopened.shutdown()


def test_a_run_that_was_training_when_the_server_stopped_is_shown_as_interrupted(tmp_path):
    run_id = new_run_id()
    directory = tmp_path / "runs" / run_id
    directory.mkdir(parents=True)
    (directory / "run.json").write_text(
        json.dumps({"id": run_id, "status": "running", "spec": {"corpus": "copy", "n_layers": 2}, "step": 40})
    )
    reopened = JobManager(tmp_path / "runs", Limits(), session_alive=lambda s: False)
    try:
        view = reopened.get(run_id)
        assert view.status == "interrupted" and view.message["code"] == "interrupted"
        assert view.spec.corpus == "copy" and view.spec.n_layers == 2 and view.step == 40
        assert reopened.model_for(run_id) is None
    finally:
        reopened.shutdown()


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TINYLM_MAX_JOBS", "3")
    monkeypatch.setenv("TINYLM_MAX_QUEUE", "7")
    monkeypatch.setenv("TINYLM_MAX_RUNS", "9")
    monkeypatch.setenv("TINYLM_ORPHAN_SECONDS", "not a number")
    limits = Limits.from_env()
    assert (limits.max_jobs, limits.max_queue, limits.max_runs, limits.orphan_seconds) == (3, 7, 9, 90.0)


def test_a_time_budget_run_plans_its_evaluations_from_the_measured_speed(manager):
    jobs_ = manager()
    run_id = jobs_.submit(SMALL.with_settings(budget="time", time_budget=4.0, sample_every=0))
    view = jobs_.wait(run_id, timeout=30)
    assert view.status == "done" and 3.9 < view.elapsed < 6
    # At most a dozen evaluations and ten samples (plus the final ones), however far the step-time
    # estimate was off, and at least three and two.
    assert 3 <= len(view.history["val"]) <= 14, len(view.history["val"])
    assert 2 <= len(view.samples) <= 12, len(view.samples)
    assert view.data["eval_interval"] * len(view.history["val"]) >= 0.5 * view.step


def test_the_queue_wait_adds_up_the_runs_ahead_on_the_first_slot_to_free_up():
    from ui.runs.policy import queue_wait

    assert queue_wait([30.0], [60.0, 60.0], slots=1) == 150.0
    assert queue_wait([30.0, 10.0], [60.0], slots=2) == 30.0  # the 10 s slot takes the run ahead
    assert queue_wait([], [], slots=2) == 0.0
