"""tinylm/finetune_job.py: a fine-tuning run as a job of the job layer (kind "finetune") — its events,
what it publishes (a plain, merged model), the adapter recovered from it, its refusals, and the same
run through the real job manager (thread backend) and back from disk after a restart.

Cheap: a one-layer base with the Chinese demo model's tokenizer (so the Chinese tasks fit) and ten steps."""

from __future__ import annotations

import io
import zipfile

import pytest
import torch

from tests.conftest import ROOT
from tinylm.adapter import ADAPTER_META, ADAPTER_WEIGHTS, attach_adapter, read_adapter
from tinylm.checkpoint import Checkpoint, checkpoint_files, read_checkpoint
from tinylm.config import ModelConfig
from tinylm.finetune_job import FinetuneJob, adapter_zip_bytes, finetune_schedule, lora_settings
from tinylm.job import JobInputs, make_job
from tinylm.lora import lora_layers
from tinylm.model import TinyLM
from tinylm.plan import KINDS, SETTING_BOUNDS, RunSpec
from ui.runs import JobManager, Limits
from ui.runs.backend import ThreadBackend


@pytest.fixture(scope="module")
def base() -> Checkpoint:
    tokenizer = read_checkpoint(ROOT / "models" / "stories-zh").tokenizer
    config = ModelConfig(vocab_size=tokenizer.vocab_size, context_len=64, d_model=32, n_layers=1, n_heads=2)
    model = TinyLM(config, seed=0).eval()
    return Checkpoint(model, tokenizer, {}, {"name": "tiny-zh", "corpus": "stories-zh"})


@pytest.fixture(scope="module")
def files(base) -> dict[str, bytes]:
    return checkpoint_files(base.model, base.tokenizer, base.history, base.meta)


def spec_for(base: Checkpoint, **changes) -> RunSpec:
    settings = {
        "kind": "finetune",
        "corpus": "stories-zh",
        "finetune_task": "mood-zh",
        "finetune_mode": "lora",
        "lora_rank": 2,
        "lora_targets": "q,v",
        "budget": "steps",
        "max_steps": 10,
        "batch_size": 4,
        "learning_rate": 1e-2,
        "base_model": "demo:test",
        **changes,
    }
    return RunSpec.from_configs(base.model.config, {}, **settings)


@pytest.fixture(scope="module")
def lora_run(base, files):
    job = make_job(spec_for(base), JobInputs(None, files), {"run_id": "test", "name": "lora"})
    assert isinstance(job, FinetuneJob)
    return job, list(job.events())


def test_the_kind_and_its_settings_are_part_of_the_run_description():
    assert "finetune" in KINDS
    assert SETTING_BOUNDS["finetune_mode"].options == ("full", "lora", "probe", "scratch")
    assert "qa-zh" in SETTING_BOUNDS["finetune_task"].options
    assert (SETTING_BOUNDS["lora_rank"].low, SETTING_BOUNDS["lora_rank"].high) == (1, 64)
    spec = RunSpec(kind="finetune", lora_rank=4, lora_targets="v,q")
    assert RunSpec.from_dict(spec.to_dict()) == spec
    assert lora_settings(spec).targets == ("q", "v")
    assert lora_settings(spec.with_settings(finetune_mode="full")) is None


def test_a_short_run_logs_often_and_evaluates_a_few_times():
    assert finetune_schedule(10) == (1, 5)
    log, every = finetune_schedule(400)
    assert log == 6 and 400 / every <= 8


def test_a_lora_job_tells_a_training_runs_events_plus_its_result(lora_run, base):
    _, events = lora_run
    kinds = [event["type"] for event in events]
    assert kinds[0] == "prepared" and kinds[-2:] == ["point", "end"] and "step" in kinds and "eval" in kinds
    prepared = events[0]
    data = prepared["data"]
    assert data["task"] == "mood-zh" and data["mode"] == "lora" and data["metric_name"] == "accuracy"
    # LoRA on q and v of one layer, rank 2: 2 × (r·d_in + d_out·r) = 2 × (2·32 + 32·2)
    assert data["trainable"] == 256 and data["total"] == base.model.num_parameters() + 256
    assert data["trainable_share"] == pytest.approx(256 / data["total"])
    assert data["forgetting_before"] > 0 and prepared["parameters"] == data["total"]
    evals = [event for event in events if event["type"] == "eval"]
    assert [e["step"] for e in evals] == [0, 5, 10]
    assert all(0.0 <= e["accuracy"] <= 1.0 for e in evals)
    assert evals[-1]["attention"].shape[:2] == (1, 2)
    point, end = events[-2]["point"], events[-1]
    assert end["status"] == "done" and end["step"] == 10
    assert point["metric"] == evals[-1]["accuracy"] and point["steps"] == 10
    assert point["forgetting_before"] == data["forgetting_before"] and point["forgetting_after"] > 0
    assert point["seconds_per_step"] > 0 and point["trainable"] == 256 and point["lora_targets"] == "q,v"


def test_it_publishes_the_merged_model_and_leaves_the_base_unchanged(lora_run, base, files):
    job, _ = lora_run
    published = job.checkpoint()
    assert not list(lora_layers(published.model)) and not published.model.training
    assert published.meta["corpus"] == "mood-zh" and published.meta["pretraining_corpus"] == "stories-zh"
    record = published.meta["finetune"]
    assert record["mode"] == "lora" and record["lora"] == {"rank": 2, "alpha": 16.0, "targets": "q,v"}
    # Only the adapted rows moved: the base's K rows and W_O are the same as before.
    d = base.model.config.d_model
    before, after = base.model.blocks[0].attention, published.model.blocks[0].attention
    assert torch.equal(before.qkv.weight[d : 2 * d], after.qkv.weight[d : 2 * d])
    assert torch.equal(before.out_proj.weight, after.out_proj.weight)
    assert not torch.equal(before.qkv.weight[:d], after.qkv.weight[:d])
    # The files it hands to a backend on another machine are a valid checkpoint of it.
    assert set(job.checkpoint_files()) == set(files)


def test_the_adapter_recovered_from_the_merged_model_gives_the_same_model(lora_run, base):
    job, _ = lora_run
    published = job.checkpoint()
    data = adapter_zip_bytes(base, published, lora_settings(job.spec), "mood-zh")
    assert len(data) < 20_000
    folder = zipfile.ZipFile(io.BytesIO(data))
    assert sorted(folder.namelist()) == sorted([ADAPTER_WEIGHTS, ADAPTER_META])
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as directory:
        folder.extractall(directory)
        adapter = read_adapter(Path(directory))
    assert adapter.settings == lora_settings(job.spec) and adapter.task == "mood-zh"
    import copy

    adapted = attach_adapter(copy.deepcopy(base.model), adapter)
    ids = torch.tensor([base.tokenizer.encode("小明做了一个蛋糕。")])
    with torch.no_grad():
        assert torch.allclose(adapted(ids).logits, published.model(ids).logits, atol=1e-4)


@pytest.mark.parametrize("mode", ["full", "probe"])
def test_the_other_modes_train_what_they_should(base, files, mode):
    job = make_job(spec_for(base, finetune_mode=mode, max_steps=10), JobInputs(None, files), {})
    events = list(job.events())
    data, point = events[0]["data"], events[-2]["point"]
    total = base.model.num_parameters()
    assert data["total"] == total and data["lora_rank"] == 0
    if mode == "full":
        assert data["trainable"] == total and point["trainable_share"] == 1.0
    else:  # the output head, tied to the token embedding
        assert data["trainable"] == base.model.lm_head.weight.numel()
    assert events[-1]["status"] == "done" and job.checkpoint().meta["finetune"]["mode"] == mode


@pytest.mark.parametrize(
    ("inputs", "changes", "code"),
    [
        (None, {}, "finetune_no_base"),
        ("files", {"finetune_mode": "nonsense"}, "bad_finetune_mode"),
        ("files", {"lora_rank": 0}, "bad_lora_rank"),
        ("files", {"lora_targets": "q,x"}, "bad_lora_targets"),
        ("files", {"max_steps": 50_000}, "too_many_steps"),
        ("files", {"finetune_task": "qa-en"}, "task_unknown_chars"),  # an English task, a Chinese base
    ],
)
def test_mistakes_end_the_job_with_a_translated_error(base, files, inputs, changes, code):
    job = make_job(spec_for(base, **changes), JobInputs(None, files if inputs else None), {})
    events = list(job.events())
    assert [e["type"] for e in events] == ["end"]
    assert events[0]["status"] == "error" and events[0]["message"]["code"] == code


def test_the_job_manager_runs_a_finetune_like_any_run_and_keeps_it(tmp_path, base, files):
    manager = JobManager(tmp_path / "runs", Limits(max_jobs=1), ThreadBackend(1), lambda session: False)
    spec = spec_for(base, finetune_mode="lora")
    try:
        run_id = manager.submit(spec, None, owner="student", base=files)
        view = manager.wait(run_id, timeout=120)
        assert view.status == "done" and view.step == 10 and view.model_saved
        assert view.data["trainable"] == 256 and len(view.points) == 1
        assert view.points[0]["forgetting_after"] > 0 and view.history["accuracy"][-1][0] == 10
        checkpoint, _ = manager.model_for(run_id)
        assert not list(lora_layers(checkpoint.model)) and checkpoint.meta["finetune"]["task"] == "mood-zh"
    finally:
        manager.shutdown()
    again = JobManager(tmp_path / "runs", Limits(max_jobs=1), ThreadBackend(1), lambda session: False)
    try:
        reread = again.get(run_id)
        assert reread.spec == spec and reread.points == view.points and reread.data == view.data
        checkpoint, _ = again.model_for(run_id)
        assert checkpoint.meta["finetune"]["lora"]["targets"] == "q,v"
    finally:
        again.shutdown()


def test_a_finetune_trains_in_a_worker_process_too(tmp_path, base, files):
    from ui.runs.process_backend import ProcessBackend

    manager = JobManager(tmp_path / "runs", Limits(max_jobs=1), ProcessBackend(1), lambda session: False)
    try:
        run_id = manager.submit(spec_for(base), None, owner="student", base=files)  # the files cross over
        view = manager.wait(run_id, timeout=180)
        assert view.status == "done" and view.points[0]["trainable"] == 256
        checkpoint, _ = manager.model_for(run_id)
        assert checkpoint.meta["finetune"]["mode"] == "lora" and not list(lora_layers(checkpoint.model))
    finally:
        manager.shutdown()
