"""A training job (tinylm/job.py): a spec and its text → a stream of plain events and published
checkpoints, whichever backend runs it."""

from __future__ import annotations

import threading

import numpy as np
import torch

from tests.helpers import SMALL_RUN
from tinylm.checkpoint import parse_checkpoint
from tinylm.job import TrainingJob

SMALL = SMALL_RUN.with_settings(max_steps=40, sample_every=20)


def test_events_tell_the_whole_run_in_order_and_every_eval_publishes_a_model():
    job = TrainingJob(SMALL, meta={"name": "mine", "run_id": "r1"})
    events = list(job.events())
    kinds = [event["type"] for event in events]
    assert kinds[0] == "prepared" and kinds[-1] == "end" and kinds.count("end") == 1
    prepared, end = events[0], events[-1]
    assert prepared["parameters"] > 0 and prepared["max_steps"] == 40
    assert prepared["data"]["vocab"] > 20 and len(prepared["probe_tokens"]) == 16
    assert end["status"] == "done" and end["message"] == {
        "kind": "msg",
        "code": "done",
        "params": {"steps": 40},
    }
    evals = [event for event in events if event["type"] == "eval"]
    assert [event["model_version"] for event in evals] == list(range(1, len(evals) + 1))
    assert end["model_version"] == len(evals) + 1  # the final model is published too
    assert evals[0]["step"] == 0 and evals[-1]["step"] == 40
    assert all(event["attention"].shape == (1, 2, 16, 16) for event in evals)
    assert [event["step"] for event in events if event["type"] == "sample"] == [20, 40]
    # Every evaluation also scores the heads (1 layer x 2 heads) and the in-context learning.
    extras = evals[-1]["extras"]
    assert set(extras) == {"induction", "prev_token", "icl"}
    assert np.shape(extras["induction"]) == np.shape(extras["prev_token"]) == (1, 2)
    assert all(0.0 <= score <= 1.0 for score in extras["prev_token"][0]) and np.isfinite(extras["icl"])
    # The published checkpoint is a frozen copy carrying the run's metadata, and its files load back.
    checkpoint = job.checkpoint()
    assert not checkpoint.model.training and not any(p.requires_grad for p in checkpoint.model.parameters())
    assert (
        checkpoint.meta["name"] == "mine"
        and checkpoint.meta["steps"] == 40
        and checkpoint.meta["state"] == "done"
    )
    files = job.checkpoint_files()
    again = parse_checkpoint(files["model.safetensors"], files["tinylm.json"])
    for (name, a), (_, b) in zip(
        again.model.state_dict().items(), checkpoint.model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    # The attention recorded at the end is the published model's own softmax(QKᵀ/√d_k).
    probe = torch.tensor([checkpoint.tokenizer.encode("".join(prepared["probe_tokens"]))])
    expected = checkpoint.model(probe, return_attention=True).attentions[0][0].numpy()
    np.testing.assert_allclose(evals[-1]["attention"][0].astype(np.float32), expected, atol=2e-3)
    # ... and on the repeated probe [x₁ … xₙ, x₁ … xₙ] (n = 8, half the context), for the induction replay.
    repeat = prepared["repeat_tokens"]
    assert len(repeat) == 16 and repeat[:8] == repeat[8:] and len(set(repeat[:8])) == 8
    assert all(event["repeat_attention"].shape == (1, 2, 16, 16) for event in evals)
    ids = torch.tensor([checkpoint.tokenizer.encode("".join(repeat))])
    expected = checkpoint.model(ids, return_attention=True).attentions[0][0].numpy()
    np.testing.assert_allclose(evals[-1]["repeat_attention"][0].astype(np.float32), expected, atol=2e-3)


def test_a_stop_before_training_starts_cancels_it_without_a_model():
    job = TrainingJob(SMALL)
    job.stop("user")
    events = list(job.events())
    assert [event["type"] for event in events] == ["end"]
    assert events[0]["status"] == "stopped" and events[0]["message"]["code"] == "cancelled"
    assert events[0]["model_version"] == 0 and job.checkpoint() is None


def test_a_pause_asked_for_while_preparing_holds_the_first_step_until_resumed():
    job = TrainingJob(SMALL.with_settings(budget="time", time_budget=30.0))
    job.pause()
    seen: list[dict] = []
    worker = threading.Thread(target=lambda: seen.extend(job.events()))
    worker.start()
    worker.join(timeout=3.0)
    assert worker.is_alive()  # paused: it does not train
    assert [event["type"] for event in seen] == ["prepared", "eval"] and seen[1]["step"] == 0
    job.stop("abandoned")
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert seen[-1]["status"] == "stopped" and seen[-1]["message"]["code"] == "abandoned"


def test_a_text_too_short_ends_the_job_with_the_reason():
    events = list(TrainingJob(SMALL.with_settings(corpus="custom"), text="abc abc").events())
    assert [event["type"] for event in events] == ["end"]
    assert events[0]["status"] == "error" and events[0]["message"]["code"] == "text_too_short"
