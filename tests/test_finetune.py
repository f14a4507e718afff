"""Fine-tuning runs: the four modes, the example data (windows at example starts, loss on the answers),
batched greedy answers, forgetting, the result record, saving, and the command line."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
import torch

from tests.conftest import ROOT
from tests.helpers import make_model
from tinylm import CharTokenizer, TinyLMError, read_checkpoint
from tinylm.adapter import ADAPTER_META, ADAPTER_WEIGHTS, model_fingerprint, read_adapter
from tinylm.cli import main
from tinylm.finetune import (
    MODES,
    RECOMMENDED_FINETUNE,
    finetune_result,
    finetune_train_config,
    prepare_finetune,
    recommended_setup,
    save_finetuned,
)
from tinylm.finetune_data import IGNORE, example_data, greedy_continuations
from tinylm.finetune_tasks import FINETUNE_TASKS, finetune_examples
from tinylm.lora import LoraSettings, lora_layers
from tinylm.tasks import TaskExample
from tinylm.train import evaluate_loss, greedy_completer

TINY_RUN = {"max_steps": 6, "batch_size": 4, "eval_interval": 3, "task_examples": 10, "warmup_steps": 2}


@pytest.fixture(scope="module")
def stories_en():
    return read_checkpoint(ROOT / "models" / "stories-en")


def run(setup):
    trainer = setup.trainer()
    events = list(trainer.events())
    return trainer, events


# -- example data ------------------------------------------------------------------------------------


def test_example_windows_start_at_an_example_and_count_only_its_answer():
    examples = [TaskExample("ab=", "ba"), TaskExample("abc=", "cba"), TaskExample("b=", "b")] * 4
    tokenizer = CharTokenizer.from_text("abc=\n")
    data = example_data(examples, tokenizer, context_len=8, val_fraction=0.25)
    assert len(data.train_starts) == 9 and len(data.val_starts) == 3
    assert data.window == len("abc=cba\n")
    x, y = data.train_batch(16, 8, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (16, data.window)  # as long as the longest example, not the context
    for row_x, row_y in zip(x.tolist(), y.tolist(), strict=True):
        text = tokenizer.decode(row_x)
        prompt = text.split("=", 1)[0] + "="
        example = next(e for e in examples if e.prompt == prompt)
        assert text.startswith(example.line[:-1] if len(example.line) <= data.window else prompt)
        counted = [tokenizer.decode([t]) for t in row_y[: len(example.line) - 1] if t != IGNORE]
        assert "".join(counted) == example.answer + "\n"  # the answer and its newline, nothing of the prompt
    windows, targets = data.validation_windows(8, 10_000)
    assert windows.shape == (3, data.window + 1) and targets.shape == (3, data.window)
    assert int((targets != IGNORE).sum()) == sum(len(e.answer) + 1 for e in examples[-3:])


def test_validation_loss_counts_only_the_answer_tokens():
    tokenizer = CharTokenizer.from_text("abc=\n")
    model = make_model(vocab_size=tokenizer.vocab_size, context_len=8)
    data = example_data([TaskExample("ab=", "ba"), TaskExample("abc=", "cba")] * 3, tokenizer, 8, 0.34)
    windows, targets = data.validation_windows(8, 10_000)
    with torch.no_grad():
        logits = model(windows[:, :-1]).logits
    counted = targets != IGNORE
    expected = torch.nn.functional.cross_entropy(logits[counted], targets[counted])
    assert evaluate_loss(model, windows, targets=targets) == pytest.approx(float(expected), rel=1e-5)


def test_batched_greedy_answers_equal_one_prompt_at_a_time(stories_en):
    model, tokenizer = stories_en.model, stories_en.tokenizer
    examples = finetune_examples("qa-en", 12)
    prompts = [e.prompt for e in examples] + ["Lily", "x" * 60]  # the last one's window has to move on
    max_new = [len(e.answer) + 1 for e in examples] + [5, 8]
    one_by_one = greedy_completer(model, tokenizer)
    expected = [one_by_one(prompt, n) for prompt, n in zip(prompts, max_new, strict=True)]
    assert greedy_continuations(model, tokenizer, prompts, max_new) == expected


# -- the four modes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_trains_what_it_should_and_never_changes_the_base(stories_en, mode):
    fingerprint = model_fingerprint(stories_en.model)
    config = finetune_train_config("mood-en", mode, **TINY_RUN)
    setup = prepare_finetune(
        stories_en, "mood-en", mode, LoraSettings(rank=2, targets=("q", "v")), config, forgetting_tokens=1024
    )
    total_base = stories_en.model.num_parameters()
    expected_trainable = {
        "full": total_base,
        "scratch": total_base,
        "probe": stories_en.model.lm_head.weight.numel(),
        "lora": 4 * 2 * 2 * (128 + 128),  # 4 layers × (q, v) × r·(d_in + d_out)
    }[mode]
    assert setup.trainable == expected_trainable
    assert setup.total == total_base + (expected_trainable if mode == "lora" else 0)
    before = {name: p.detach().clone() for name, p in setup.model.named_parameters()}
    trainer, events = run(setup)
    assert trainer.state == "done" and trainer.step == 6
    evals = [e for e in events if e.kind == "eval"]
    assert [e.step for e in evals] == [0, 3, 6] and all(0 <= e.accuracy <= 1 for e in evals)
    changed = {name for name, p in setup.model.named_parameters() if not torch.equal(p, before[name])}
    trainable = {name for name, p in setup.model.named_parameters() if p.requires_grad}
    assert changed and changed <= trainable
    assert model_fingerprint(stories_en.model) == fingerprint  # the base model is a copy, never trained
    result = finetune_result(setup, trainer, n_examples=20)
    assert result.trainable_share == pytest.approx(setup.trainable / setup.total)
    assert result.metric_name == "accuracy" and 0 <= result.metric <= 1
    assert result.steps == 6 and result.seconds_per_step > 0
    assert result.forgetting_before is not None and result.forgetting_after is not None
    if mode == "scratch":
        assert result.forgetting_before > 3.0  # random weights know nothing of the stories
    else:
        assert result.forgetting_before == pytest.approx(stories_en.meta["val_loss"], abs=0.05)


def test_lora_mode_keeps_every_base_weight_bit_identical(stories_en):
    config = finetune_train_config("qa-en", "lora", **TINY_RUN)
    setup = prepare_finetune(stories_en, "qa-en", "lora", LoraSettings(rank=4), config, forgetting_tokens=512)
    run(setup)
    for path, layer in lora_layers(setup.model):
        assert torch.equal(layer.base.weight, stories_en.model.get_submodule(path).weight), path
    assert torch.equal(setup.model.lm_head.weight, stories_en.model.lm_head.weight)


def test_recommended_settings_exist_for_every_task():
    for task in FINETUNE_TASKS:
        mode, lora, config = recommended_setup(task)
        assert mode == RECOMMENDED_FINETUNE[task]["mode"] and (lora is None) == (mode != "lora")
        assert config.max_steps <= 1000 and config.time_budget is None  # steps: the same on any machine


def test_bad_modes_and_bases_are_refused(stories_en):
    with pytest.raises(TinyLMError) as caught:
        prepare_finetune(stories_en, "qa-en", "half")
    assert caught.value.code == "bad_finetune_mode"
    with pytest.raises(TinyLMError) as caught:
        prepare_finetune(stories_en, "qa-zh", "full")
    assert caught.value.code == "task_unknown_chars"
    with pytest.raises(TinyLMError) as caught:
        prepare_finetune(stories_en, "qa-en", "lora", LoraSettings(rank=100))
    assert caught.value.code == "bad_lora_rank"


def test_save_writes_an_adapter_for_lora_and_a_checkpoint_otherwise(stories_en, tmp_path):
    for mode in ("lora", "probe"):
        config = finetune_train_config("tense-en", mode, **TINY_RUN)
        setup = prepare_finetune(
            stories_en, "tense-en", mode, LoraSettings(rank=2), config, forgetting_tokens=512
        )
        trainer, _ = run(setup)
        result = finetune_result(setup, trainer, n_examples=10)
        out = save_finetuned(setup, trainer, result, tmp_path / mode)
        if mode == "lora":
            assert sorted(p.name for p in out.iterdir()) == [ADAPTER_META, ADAPTER_WEIGHTS]
            adapter = read_adapter(out)
            assert adapter.base["fingerprint"] == model_fingerprint(stories_en.model)
            assert adapter.meta["result"]["metric"] == result.metric
            assert (out / ADAPTER_WEIGHTS).stat().st_size < 200_000  # the base is 3.2 MB
        else:
            saved = read_checkpoint(out)
            assert saved.meta["finetune"]["mode"] == "probe" and saved.meta["corpus"] == "tense-en"
            assert saved.meta["pretraining_corpus"] == "stories-en"


# -- command line ------------------------------------------------------------------------------------


def run_cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(arg) for arg in argv])
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def cli_adapter(tmp_path_factory):
    """One short LoRA fine-tuning from the command line: (adapter directory, status, stdout, stderr)."""
    out = tmp_path_factory.mktemp("finetune") / "qa-lora"
    status, stdout, stderr = run_cli(
        "finetune", ROOT / "models" / "stories-en", "--task", "qa-en", "--mode", "lora", "--rank", "2",
        "--targets", "v,q", "--steps", "4", "--batch", "4", "--eval-interval", "2", "--out", out,
    )  # fmt: skip
    return out, status, stdout, stderr


def test_cli_finetune_lora_then_eval_the_adapter(cli_adapter):
    out, status, stdout, stderr = cli_adapter
    assert status == 0, stderr
    summary = json.loads(stdout)
    assert summary["mode"] == "lora" and summary["steps"] == 4 and 0 <= summary["exact_match"] <= 1
    assert summary["trainable"] == 4 * 2 * 2 * 256 and summary["adapter_bytes"] < 40_000
    assert "100%" in stderr and "targets q,v" in stderr and "before: 0.2" in stderr
    assert read_adapter(out).settings.targets == ("q", "v")
    status, stdout, stderr = run_cli("eval", out, "--corpus", "qa-en", "--task-examples", "20")
    assert status == 0, stderr
    report = json.loads(stdout)
    assert report["corpus"] == "qa-en" and report["examples"] == 20 and 0 <= report["exact_match"] <= 1
    assert report["val_loss"] > 0
    status, stdout, _ = run_cli("eval", out, "--corpus", "stories-en", "--max-tokens", "2000")
    assert status == 0 and json.loads(stdout)["val_loss"] > 0  # forgetting, from the command line


def test_cli_eval_reports_the_task_metric_of_a_checkpoint():
    status, stdout, stderr = run_cli(
        "eval", ROOT / "models" / "stories-zh", "--corpus", "mood-zh", "--task-examples", "10"
    )
    assert status == 0, stderr
    assert set(json.loads(stdout)) >= {"corpus", "val_loss", "accuracy", "examples"}


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--task", "qa-en", "--mode", "full", "--rank", "4"], "only applies to --mode lora"),
        (["--task", "qa-en", "--mode", "lora", "--rank", "0"], "rank"),
        (["--task", "qa-en", "--mode", "lora", "--alpha", "-1"], "alpha"),
        (["--task", "qa-en", "--mode", "lora", "--targets", "q,w"], "targets"),
        (["--task", "qa-zh", "--mode", "full"], "never saw"),
        (["--task", "qa-en", "--mode", "full", "--steps", "0"], "max_steps"),
    ],
)
def test_cli_finetune_mistakes_are_one_line(tmp_path, argv, fragment):
    status, stdout, stderr = run_cli(
        "finetune", ROOT / "models" / "stories-en", *argv, "--out", tmp_path / "x"
    )
    assert status == 2 and stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], stderr


def test_cli_finetune_refuses_a_missing_base_and_an_adapter_on_the_wrong_base(tmp_path, cli_adapter):
    status, _, stderr = run_cli("finetune", tmp_path / "nothing", "--task", "qa-en", "--mode", "full",
                                "--out", tmp_path / "x")  # fmt: skip
    assert status == 2 and stderr.startswith("error: no checkpoint")
    out = cli_adapter[0]
    status, _, stderr = run_cli(
        "eval", out, "--corpus", "stories-zh", "--base", ROOT / "models" / "stories-zh"
    )
    assert status == 2 and "different base model" in stderr and len(stderr.strip().splitlines()) == 1
