import json
import math

import pytest

from tests.conftest import SMALL_TEXT
from tinylm import time_to_loss as ttl
from tinylm.baselines import nanogpt_learning_rate
from tinylm.cli import main
from tinylm.presets import PRESETS
from tinylm.train import TrainConfig


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("ttl") / "text.txt"
    path.write_text(SMALL_TEXT * 3, encoding="utf-8")
    return str(path)


def test_a_setup_is_the_baseline_with_its_atoms_applied_in_order():
    setup = ttl.parse_setup("muon+relu2+batch_size=24+qk_norm=true+muon_lr=0.01")
    assert setup.model == {**ttl.BASELINE["model"], "activation": "relu2", "qk_norm": True}
    assert setup.train == {**ttl.BASELINE["train"], "optimizer": "muon", "batch_size": 24, "muon_lr": 0.01}
    assert ttl.parse_setup("baseline").model == ttl.BASELINE["model"]
    live = ttl.parse_setup("live")
    assert live.model == {**ttl.BASELINE["model"], **PRESETS["live"].model}
    assert "time_budget" not in live.train and "max_steps" not in live.train  # the measurement decides
    assert ttl.parse_setup("nanogpt").is_nanogpt


def test_the_default_preset_is_the_best_setup_the_ablation_measured():
    # README, "Time to loss": benchmarks/ablation_60.json and ablation_240.json measured this setup.
    live, measured = (
        ttl.parse_setup("live"),
        ttl.parse_setup("muon+d_model=64+batch_size=24+learning_rate=0.008"),
    )
    assert live.model == measured.model
    assert TrainConfig(**live.train) == TrainConfig(**measured.train)


@pytest.mark.parametrize("spec", ["muon+sparkles", "colour=red", "baseline+d_model"])
def test_an_unknown_atom_is_refused_before_anything_trains(spec):
    with pytest.raises(ValueError):
        ttl.parse_setup(spec)


def test_nanogpts_schedule_is_the_published_one():
    assert nanogpt_learning_rate(0) == pytest.approx(1e-3 / 101)
    assert nanogpt_learning_rate(99) == pytest.approx(1e-3 * 100 / 101)
    assert nanogpt_learning_rate(100) == pytest.approx(1e-3)
    assert nanogpt_learning_rate(1050) == pytest.approx(1e-4 + 0.5 * 9e-4)
    assert nanogpt_learning_rate(2000) == pytest.approx(1e-4)
    assert nanogpt_learning_rate(5000) == 1e-4


def test_steps_for_a_budget_from_wall_time_or_from_an_anchor_and_cpu_time():
    throughput = {
        "threads": 1,
        "baseline": {"step_ms": 100.0, "eval_ms": 500.0, "cpu_ms_per_step": 60.0},
        "muon": {"step_ms": 140.0, "eval_ms": 500.0, "cpu_ms_per_step": 80.0},
    }
    # wall: 60 s / (0.1 s + 0.5 s / 100 steps) = 571 steps
    assert ttl.steps_for("baseline", 60, throughput) == math.floor(60 / 0.105)
    assert ttl.steps_for("muon", 60, throughput) == math.floor(60 / 0.145)
    anchor = {60.0: 700, 240.0: 2877}
    assert ttl.steps_for("baseline", 60, throughput, anchor) == 700
    assert ttl.steps_for("muon", 240, throughput, anchor) == round(2877 * 60 / 80)


def test_a_setup_that_changes_only_rates_shares_its_twins_throughput_and_nothing_else_does():
    throughput = {
        "threads": 1,
        "baseline": {"step_ms": 100.0, "eval_ms": 500.0, "cpu_ms_per_step": 60.0},
        "muon+batch_size=24": {"step_ms": 140.0, "eval_ms": 500.0, "cpu_ms_per_step": 80.0},
    }
    assert ttl.arithmetic_twin("muon+batch_size=24+muon_lr=0.03+min_lr_ratio=0", throughput) == (
        "muon+batch_size=24"
    )
    assert ttl.arithmetic_twin("learning_rate=0.01+trapezoid", throughput) == "baseline"
    anchor = {60.0: 700}
    assert ttl.steps_for("batch_size=24+muon+learning_rate=0.02", 60, throughput, anchor) == round(
        700 * 60 / 80
    )
    # a different batch, width or optimizer is different work: no twin, and the bench says so
    for spec in ("batch_size=32", "muon", "d_model=64", "muon+batch_size=24+qk_norm", "nanogpt"):
        assert ttl.arithmetic_twin(spec, throughput) is None
    with pytest.raises(ValueError, match="same arithmetic"):
        ttl.steps_for("batch_size=32", 60, throughput, anchor)


def test_step_equivalent_runs_train_for_the_steps_and_report_the_held_out_loss(text_file):
    throughput = {
        "threads": 1,
        "baseline+d_model=32": {"step_ms": 1000.0, "eval_ms": 100.0, "cpu_ms_per_step": 1.0},
        "nanogpt": {"step_ms": 1500.0, "eval_ms": 100.0, "cpu_ms_per_step": 1.0},
    }
    seen = []
    report = ttl.step_equivalent(
        text_file, list(throughput)[1:], [6.0], [0, 1], throughput, jobs=1, on_result=seen.append
    )
    # After every run, the report so far; seed by seed, so the first two runs are each setup's seed 0.
    assert len(seen) == 4
    assert {spec: [run["seed"] for run in row["runs"]] for spec, row in seen[1]["budgets"]["6"].items()} == {
        "baseline+d_model=32": [0],
        "nanogpt": [0],
    }
    assert (
        seen[1]["budgets"]["6"]["nanogpt"]["median"] == seen[1]["budgets"]["6"]["nanogpt"]["runs"][0]["loss"]
    )
    entry = report["budgets"]["6"]
    assert entry["baseline+d_model=32"]["runs"][0]["steps"] == 5  # 6 s / (1 s + 0.1 s / 100)
    assert entry["nanogpt"]["runs"][0]["steps"] == 3
    for row in entry.values():
        losses = [run["loss"] for run in row["runs"]]
        assert len(losses) == 2 and row["low"] <= row["median"] <= row["high"]
        assert all(2.0 < loss < 6.0 for loss in losses)  # near log(vocabulary) after a few steps


def test_the_bench_command_measures_throughput_then_runs_the_step_equivalent_mode(text_file, tmp_path):
    measured = tmp_path / "throughput.json"
    common = ["bench", "--threads-list", "", "--time-to-loss", text_file, "--ttl-threads", "1"]
    setups = ["--setups", "baseline+d_model=32+n_layers=1,nanogpt"]
    status = main([*common, *setups, "--measure-throughput", "--throughput-seconds", "0.1",
                   "--throughput-rounds", "1", "--budgets", "1", "--json", str(measured)])  # fmt: skip
    assert status == 0
    throughput = json.loads(measured.read_text())["time_to_loss"]
    assert throughput["baseline+d_model=32+n_layers=1"]["cpu_ms_per_step"] > 0
    out = tmp_path / "ablation.json"
    status = main([*common, *setups, "--steps-for-seconds", str(measured), "--anchor-steps", "1=4",
                   "--anchor-setup", "baseline+d_model=32+n_layers=1",
                   "--budgets", "1", "--ttl-repeats", "1", "--jobs", "1", "--json", str(out)])  # fmt: skip
    assert status == 0
    document = json.loads(out.read_text())
    assert "partial" not in document  # written after every run, the last time complete
    report = document["time_to_loss"]
    assert report["mode"] == "step-equivalent" and "CPU-time ratio" in report["steps_from"]
    row = report["budgets"]["1"]["baseline+d_model=32+n_layers=1"]
    assert row["runs"][0]["steps"] == 4


def test_the_wall_clock_mode_trains_both_contenders_and_prints_both_curves(text_file, capsys):
    report = ttl.wall_clock(text_file, ["nanogpt", "baseline+d_model=32+n_layers=1"], [1.0], 1, 1)
    entry = report["budgets"]["1"]
    for spec in ("nanogpt", "baseline+d_model=32+n_layers=1"):
        run = entry[spec]["runs"][0]
        assert run["steps"] > 0 and run["curve"][0][0] == 0  # the curve starts at step 0
        # Finite and below the first step's loss; how far below depends on how many steps fit in the
        # second (the machine's speed), and a small repeated text can be nearly memorised.
        assert 0.0 < run["loss"] < run["curve"][0][2]
    from tinylm.bench import print_time_to_loss

    print_time_to_loss(report)
    printed = capsys.readouterr().out
    assert "curves, 1 s budget" in printed and "nanogpt seed 0:" in printed
