"""tinylm/sweep.py and tinylm/sweep_file.py: the ladder and its plan, the sweep job's events (through the
real job manager too), pause / stop, the class hook, the command and its file (the shipped one included)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from tests.conftest import ROOT
from tinylm.cli import main
from tinylm.config import count_parameters
from tinylm.errors import TinyLMError
from tinylm.job import jsonable, make_job
from tinylm.plan import APP_BOUNDS, LIBRARY_LIMITS, SETTING_BOUNDS, RunSpec
from tinylm.scaling import train_flops_per_token
from tinylm.sweep import (
    LADDER,
    SweepJob,
    plan_sweep,
    points_from_runs,
    rung_config,
    sweep_curves,
    sweep_progress,
    sweep_spec,
)
from tinylm.sweep_file import analyse, read_sweep_file, validate
from ui.runs import JobManager, Limits
from ui.runs.backend import ThreadBackend

SHIPPED = ROOT / "models" / "scaling" / "sweep.json"
TWO = sweep_spec("stories-en", "tokens", sizes=2, tokens=20_480)  # 10 steps of 32 × 64 tokens per size


def test_the_ladder_runs_from_about_ten_thousand_to_two_million_parameters():
    sizes = [count_parameters(rung_config(RunSpec(), rung, 55)) for rung in LADDER]
    assert len(LADDER) == 5 == SETTING_BOUNDS["sweep_sizes"].high
    assert 9_000 < sizes[0] < 15_000 and 1.8e6 < sizes[-1] < 2.3e6
    ratios = np.diff(np.log(sizes))
    assert np.all(ratios > np.log(3)) and np.all(ratios < np.log(4.5))  # evenly spaced on a log axis


def test_a_tokens_sweep_gives_every_size_the_same_tokens_and_a_compute_sweep_the_same_flops():
    plan = plan_sweep(sweep_spec(mode="tokens", sizes=4, tokens=200_000), 55)
    assert {size.tokens for size in plan.sizes} == {98 * 2048}  # round(200000 / 2048) steps
    assert [size.parameters for size in plan.sizes] == sorted(size.parameters for size in plan.sizes)
    compute = plan_sweep(sweep_spec(mode="compute", sizes=5, flops=1e11), 55)
    for size in compute.sizes:
        per_step = size.flops_per_token * 2048
        assert abs(size.flops - 1e11) <= per_step / 2 + 1  # the budget, to the nearest step
    steps = [size.steps for size in compute.sizes]
    assert steps == sorted(steps, reverse=True)  # a small model reads many tokens, a large one few
    # Wider models take a smaller learning rate, η₀·√(64 / d_model); every size trains by steps.
    assert [s.spec.learning_rate for s in compute.sizes] == pytest.approx(
        [3e-3 * (64 / rung.d_model) ** 0.5 for rung in LADDER]
    )
    assert all(s.spec.kind == "train" and s.spec.budget == "steps" for s in compute.sizes)


def test_a_sweep_out_of_bounds_or_too_long_for_the_app_is_refused_with_a_reason():
    with pytest.raises(TinyLMError) as refused:
        plan_sweep(sweep_spec(mode="compute", sizes=5, flops=3e12), 55)
    assert refused.value.code == "too_slow" and refused.value.params["limit_minutes"] == 10
    plan_sweep(sweep_spec(mode="compute", sizes=5, flops=3e12), 55, limits=LIBRARY_LIMITS)  # the CLI may
    for changes, code in (
        ({"sweep_tokens": APP_BOUNDS["sweep_tokens"].high + 1}, "bad_config_range"),
        ({"sweep_sizes": 6}, "bad_config_range"),
        ({"sweep_mode": "vibes"}, "bad_config_choice"),
        ({"kind": "train"}, "bad_config_choice"),
    ):
        with pytest.raises(TinyLMError) as refused:
            plan_sweep(TWO.with_settings(**changes), 55)
        assert refused.value.code == code, changes


def test_the_sweep_job_trains_each_size_in_turn_and_reports_a_point_for_each():
    job = make_job(TWO, meta={"name": "mine", "run_id": "r1"})
    assert isinstance(job, SweepJob)
    events = list(job.events())
    kinds = [event["type"] for event in events]
    assert kinds[0] == "prepared" and kinds[-1] == "end" and kinds.count("prepared") == 1
    prepared, end = events[0], events[-1]
    assert prepared["max_steps"] == 20 and prepared["data"]["sweep_sizes"] == 2
    assert end["status"] == "done" and end["step"] == 20 and end["message"]["code"] == "done"
    points = [event["point"] for event in events if event["type"] == "point"]
    assert [p["size"] for p in points] == [0, 1]
    assert [p["first_step"] for p in points] == [0, 10] and all(p["steps"] == 10 for p in points)
    assert all(p["tokens"] == 20_480 for p in points)
    vocab = prepared["data"]["vocab"]
    for point, rung in zip(points, LADDER, strict=False):
        config = rung_config(TWO, rung, vocab)
        assert point["parameters"] == count_parameters(config)
        assert point["flops"] == train_flops_per_token(config) * 20_480
        assert 2.0 < point["val_loss"] < 4.5
    # Steps and time run on across the sizes; evaluations carry no attention (the shapes differ).
    steps = [event["step"] for event in events if event["type"] == "step"]
    assert steps == sorted(steps) and steps[-1] == 20
    elapsed = [event["elapsed"] for event in events if event["type"] == "step"]
    assert elapsed == sorted(elapsed)
    evals = [event for event in events if event["type"] == "eval"]
    assert all(event["attention"] is None for event in evals)
    assert [event["size"] for event in evals] == sorted(event["size"] for event in evals)
    # The published model is the best finished size; its version counts the new bests.
    best = min(points, key=lambda p: p["val_loss"])
    assert job.checkpoint().model.config.d_model == best["d_model"]
    assert job.checkpoint().meta["sweep_size"] == best["size"] and job.checkpoint().meta["name"] == "mine"
    assert 1 <= end["model_version"] == job.model_version <= 2
    assert evals[0]["model_version"] == 0  # before the first size finished there is none
    # The history rows belong to their sizes: the curves of the points, at the tokens each size had seen.
    val_rows = [(e["step"], e["elapsed"], e["val_loss"]) for e in evals]
    curves = sweep_curves(TWO, vocab, val_rows, points)
    assert [row[0] for row in curves] == [e["size"] for e in evals if e["tokens"] > 0]
    assert [row[1] for row in curves] == [e["tokens"] for e in evals if e["tokens"] > 0]
    assert sweep_curves(TWO, vocab, val_rows, points[:1])[-1][0] == 1  # the size in training


def test_a_paused_sweep_stays_paused_into_its_next_size_and_a_stop_ends_it():
    job = SweepJob(TWO)
    seen: list[dict[str, Any]] = []
    job.pause()

    def watch() -> None:  # resume once the first size's trainer is really paused
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            size_job = job._size_job
            trainer = getattr(size_job, "_trainer", None)
            if trainer is not None and trainer.paused:
                seen.append({"paused": True})
                job.resume()
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    events = list(job.events())
    watcher.join()
    assert seen and events[-1]["status"] == "done"

    stopping = SweepJob(TWO)

    def stop_in_second_size(trainer, event) -> None:
        if trainer.model.config.d_model == LADDER[1].d_model and event.kind == "eval":  # its first
            stopping.stop("user")

    stopping.on_train_event = stop_in_second_size
    events = list(stopping.events())
    end = events[-1]
    assert end["status"] == "stopped" and end["message"]["code"] == "user"
    assert [e["point"]["size"] for e in events if e["type"] == "point"] == [0]
    assert stopping.checkpoint().model.config.d_model == LADDER[0].d_model  # the one finished size
    stopped_early = SweepJob(TWO)
    stopped_early.stop("user")
    assert list(stopped_early.events())[-1]["message"]["code"] == "cancelled"


def test_the_job_manager_runs_a_sweep_like_any_run(tmp_path):
    manager = JobManager(tmp_path / "runs", Limits(max_jobs=1), ThreadBackend(1), lambda session: False)
    try:
        run_id = manager.submit(TWO, owner="student")
        view = manager.wait(run_id, timeout=120)
        assert view.status == "done" and len(view.points) == 2
        assert [p["size"] for p in view.points] == [0, 1]
        assert view.step == 20 and view.history["train"][-1][0] == 20
        assert view.model_saved
        checkpoint, _ = manager.model_for(run_id)
        best = min(view.points, key=lambda p: p["val_loss"])
        assert checkpoint.model.config.d_model == best["d_model"]
    finally:
        manager.shutdown()
    # After a restart it is read back from its run.json with its points.
    again = JobManager(tmp_path / "runs", Limits(max_jobs=1), ThreadBackend(1), lambda session: False)
    try:
        assert again.get(run_id).points == view.points and again.get(run_id).spec == TWO
    finally:
        again.shutdown()


def test_a_sweep_trains_in_a_worker_process_too(tmp_path):
    from ui.runs.process_backend import ProcessBackend

    backend = ProcessBackend(max_jobs=1)
    manager = JobManager(tmp_path / "runs", Limits(max_jobs=1), backend, lambda session: False)
    try:
        run_id = manager.submit(TWO, owner="student")
        view = manager.wait(run_id, timeout=180)
        assert view.status == "done" and [p["size"] for p in view.points] == [0, 1]
        checkpoint, _ = manager.model_for(run_id)  # the best size's files crossed the socket
        assert checkpoint.model.config.d_model == min(view.points, key=lambda p: p["val_loss"])["d_model"]
    finally:
        manager.shutdown()


def test_sweep_progress_goes_by_the_sizes_estimated_time():
    plan = plan_sweep(sweep_spec(sizes=3, tokens=200_000), 55)
    assert sweep_progress(plan, 0, 0) == 0.0 and sweep_progress(plan, 3, 0) == 1.0
    first = plan.sizes[0].seconds / plan.seconds
    assert sweep_progress(plan, 1, 0) == pytest.approx(first)
    assert first < sweep_progress(plan, 1, plan.sizes[1].steps // 2) < sweep_progress(plan, 2, 0)


@dataclass
class FakeRun:  # the fields of ui.runs.RunView the hook reads
    status: str
    spec: RunSpec
    label: str = "run"
    points: list[dict] = field(default_factory=list)
    history: dict[str, list] = field(default_factory=lambda: {"val": []})
    data: dict[str, Any] = field(default_factory=dict)
    step: int = 0
    parameters: int = 0


def test_finished_runs_become_points_for_the_class_hook():
    train = RunSpec(n_layers=1, n_heads=2, d_model=32, context_len=16, batch_size=8)
    runs_ = [
        FakeRun(
            "done", train, history={"val": [(0, 0.0, 4.0), (100, 1.0, 2.5)]}, data={"vocab": 55}, step=100
        ),
        FakeRun("done", TWO, points=[{"size": 0, "parameters": 11260, "tokens": 20480, "val_loss": 3.0}]),
        FakeRun("running", train, history={"val": [(0, 0.0, 4.0)]}, data={"vocab": 55}, step=5),
        FakeRun(
            "done",
            train.with_settings(corpus="copy"),
            history={"val": [(9, 1.0, 1.0)]},
            data={"vocab": 9},
            step=9,
        ),
    ]
    points = points_from_runs(runs_, corpus="stories-en")
    assert len(points) == 2
    config = train.model_config(55)
    assert points[0]["tokens"] == 100 * 8 * 16 and points[0]["val_loss"] == 2.5
    assert points[0]["flops"] == train_flops_per_token(config) * 100 * 8 * 16
    assert points[0]["parameters"] == count_parameters(config)
    assert points[1]["size"] == 0 and points[1]["val_loss"] == 3.0


def test_the_command_writes_a_valid_file_whose_fits_are_its_points(tmp_path, capsys):
    out = tmp_path / "sweep.json"
    code = main(
        ["--threads", "1", "sweep", "--tokens", "20480", "--flops", "2e9", "--sizes", "3", "--out", str(out)]
    )
    assert code == 0
    document = read_sweep_file(out)
    assert document["command"].startswith("python -m tinylm --threads 1 sweep --corpus stories-en")
    assert [s["mode"] for s in document["sweeps"]] == ["tokens", "compute"]
    assert all(len(s["points"]) == 3 for s in document["sweeps"])
    assert document["fits"] == json.loads(json.dumps(jsonable(analyse(document["sweeps"]))))
    assert document["machine"]["threads"] == 1 and document["cpu_seconds"] > 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["out"] == str(out)
    # --refit fits the file's points again and changes nothing else.
    stale = {**document, "fits": {}}
    out.write_text(json.dumps(stale))
    assert main(["sweep", "--refit", "--out", str(out)]) == 0
    refitted = read_sweep_file(out)
    assert refitted["fits"] == document["fits"] and refitted["sweeps"] == document["sweeps"]


def test_the_shipped_sweep_validates_and_reproduces_its_fits():
    document = read_sweep_file(SHIPPED)
    assert (
        document["command"].startswith("python -m tinylm")
        and "--out models/scaling/sweep.json" in document["command"]
    )
    modes = [s["mode"] for s in document["sweeps"]]
    assert modes.count("tokens") == 1 and modes.count("compute") >= 2
    assert all(len(s["points"]) == len(LADDER) for s in document["sweeps"])
    again = analyse(document["sweeps"])
    stored = document["fits"]
    for key in ("loss_vs_parameters", "loss_vs_tokens", "loss_vs_compute"):
        for form in ("floor", "pure"):
            for name in ("E", "A", "alpha"):
                assert again[key][form][name] == pytest.approx(stored[key][form][name], rel=1e-6), (key, form)
    assert again["loss_surface"]["alpha"] == pytest.approx(stored["loss_surface"]["alpha"])
    assert [row["winner"] for row in again["iso_flop"]] == [row["winner"] for row in stored["iso_flop"]]
    # Loss falls with size at a fixed number of tokens.
    tokens_points = next(s for s in document["sweeps"] if s["mode"] == "tokens")["points"]
    losses = [p["val_loss"] for p in sorted(tokens_points, key=lambda p: p["parameters"])]
    assert losses[-1] < losses[0]


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(format="other"),
        lambda d: d["sweeps"][0]["points"][0].update(val_loss=float("nan")),
        lambda d: d["sweeps"][0]["points"][0].update(size=9),
        lambda d: d["sweeps"][0].update(mode="both"),
        lambda d: d["sweeps"][0]["curves"].append([0, -1, 2.0]),
        lambda d: d.update(sweeps=[]),
    ],
)
def test_a_damaged_file_is_refused(change):
    document = json.loads(SHIPPED.read_text())
    change(document)
    with pytest.raises(TinyLMError) as refused:
        validate(document)
    assert refused.value.code == "bad_sweep_file"
