import contextlib
import io
import json
import math
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import ROOT, SMALL_TEXT
from tinylm import count_parameters, read_checkpoint
from tinylm.checkpoint import META_FILE, WEIGHTS_FILE
from tinylm.cli import main
from tinylm.config import ModelConfig

TINY = ["--steps", "5", "--layers", "1", "--heads", "2", "--d-model", "16", "--context", "16", "--batch", "4"]
PROMPT = "Lily had a red"  # 14 characters: with 10 new tokens the 16-token window has to move on


def run_cli(*argv) -> tuple[int, str, str]:
    """main(argv) in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(arg) for arg in argv])
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("cli")
    (directory / "corpus.txt").write_text(SMALL_TEXT, encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def trained(workdir):
    """One tiny training run shared by the tests of this module: (checkpoint dir, status, out, err, log)."""
    out_dir, log = workdir / "model", workdir / "train.jsonl"
    status, out, err = run_cli(
        "train", "--corpus", workdir / "corpus.txt", "--out", out_dir, *TINY, "--log-jsonl", log
    )
    return out_dir, status, out, err, log


def assert_one_error_line(status: int, err: str) -> str:
    assert status == 2
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and len(lines[0]) > len("error: ") + 5
    return lines[0]


# -- train, info, eval, generate ------------------------------------------------------------------


def test_train_saves_a_checkpoint_and_prints_a_json_summary(trained):
    out_dir, status, out, _, _ = trained
    assert status == 0
    assert sorted(p.name for p in out_dir.iterdir()) == [WEIGHTS_FILE, META_FILE]
    summary = json.loads(out)
    assert summary["state"] == "done" and summary["steps"] == 5
    assert summary["out"] == str(out_dir)
    assert math.isfinite(summary["val_loss"]) and 0 < summary["val_loss"] < 10
    checkpoint = read_checkpoint(out_dir)
    assert summary["parameters"] == checkpoint.model.num_parameters()
    config = checkpoint.model.config
    assert (config.n_layers, config.n_heads, config.d_model, config.context_len) == (1, 2, 16, 16)
    assert checkpoint.tokenizer.decode(checkpoint.tokenizer.encode(SMALL_TEXT[:80])) == SMALL_TEXT[:80]


def test_train_reports_its_progress_on_stderr(trained):
    _, _, _, err, _ = trained
    assert "corpus.txt" in err and "parameters" in err
    assert "100%" in err and "step 5" in err  # the progress bar follows sys.stderr
    assert "val_loss" in err


def test_log_jsonl_has_one_json_object_per_event(trained):
    _, _, _, _, log = trained
    lines = log.read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    assert len(events) >= 3 and all(isinstance(event, dict) for event in events)
    assert events[0]["kind"] == "eval" and events[0]["step"] == 0
    assert events[-1]["kind"] == "done" and events[-1]["step"] == 5
    assert any(event["kind"] == "step" and math.isfinite(event["train_loss"]) for event in events)
    assert all(value is not None for event in events for value in event.values())  # None left out


def test_info_prints_config_and_parameter_count_as_json(trained):
    out_dir = trained[0]
    status, out, err = run_cli("info", out_dir)
    assert status == 0 and err == ""
    info = json.loads(out)
    config = ModelConfig.from_dict(info["config"])
    assert (config.n_layers, config.n_heads, config.d_model, config.context_len) == (1, 2, 16, 16)
    assert config.vocab_size == len(set(SMALL_TEXT)) + 1  # every character + the unknown token
    assert info["parameters"] == count_parameters(config)
    assert info["tokenizer"] == {"kind": "char", "vocab_size": config.vocab_size}
    assert info["meta"]["steps"] == 5 and info["meta"]["corpus"] == "corpus.txt"
    assert info["meta"]["train_config"]["max_steps"] == 5 and info["meta"]["train_config"]["batch_size"] == 4


def test_eval_prints_a_finite_validation_loss(trained, workdir):
    out_dir = trained[0]
    status, out, _ = run_cli("eval", out_dir, "--corpus", workdir / "corpus.txt")
    assert status == 0
    result = json.loads(out)
    assert math.isfinite(result["val_loss"]) and 0 < result["val_loss"] < 10
    assert result["unit"] == "nats/token" and result["unknown_chars"] == 0
    assert result["val_tokens"] > 0 and result["val_tokens"] % 16 == 0
    # Trained and evaluated on the same text and held-out part: the loss recorded at the end of training.
    assert result["val_loss"] == pytest.approx(json.loads(trained[2])["val_loss"], abs=0.05)


def test_eval_counts_characters_the_model_never_saw(trained, workdir):
    other = workdir / "other.txt"
    text = "Zebras quickly jumped over 大象。\n" * 20
    other.write_text(text, encoding="utf-8")
    status, out, _ = run_cli("eval", trained[0], "--corpus", other)
    assert status == 0
    result = json.loads(out)
    assert result["unknown_chars"] == len(set(text) - set(SMALL_TEXT)) >= 5
    assert math.isfinite(result["val_loss"])


def generated(out_dir, *extra) -> str:
    status, out, _ = run_cli("generate", out_dir, "--prompt", PROMPT, "--max-new-tokens", 10, *extra)
    assert status == 0
    return out


def test_generate_continues_the_prompt_by_the_asked_number_of_tokens(trained):
    out = generated(trained[0], "--seed", 1)
    assert out.startswith(PROMPT) and out.endswith("\n")
    assert len(out) == len(PROMPT) + 10 + 1  # one character per token, then a newline


def test_generate_is_deterministic_for_a_seed_with_and_without_the_cache(trained):
    out_dir = trained[0]
    first = generated(out_dir, "--seed", 1)
    assert generated(out_dir, "--seed", 1) == first
    assert generated(out_dir, "--seed", 1, "--no-cache") == first
    assert len({generated(out_dir, "--seed", seed) for seed in (1, 2, 3, 4)}) > 1  # the seed matters


def test_greedy_generation_ignores_the_seed(trained):
    out_dir = trained[0]
    assert generated(out_dir, "--greedy", "--seed", 1) == generated(
        out_dir, "--greedy", "--seed", 9, "--no-cache"
    )


def test_an_unseen_prompt_character_gives_a_note_not_an_error(trained):
    status, out, err = run_cli("generate", trained[0], "--prompt", "Zoë", "--max-new-tokens", 3)
    assert status == 0
    assert out.startswith("Zoë")
    assert err.startswith("note:") and "Z" in err and "ë" in err


# -- user mistakes: one line on stderr, status 2 --------------------------------------------------


class Evil:
    """Unpickling this would create a file; a checkpoint loader must never unpickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture(scope="module")
def bad_files(workdir) -> dict[str, Path]:
    files = {
        "binary": workdir / "binary.txt",
        "latin1": workdir / "latin1.txt",
        "empty": workdir / "empty.txt",
        "blank": workdir / "blank.txt",
        "short": workdir / "short.txt",
        "pickle": workdir / "model.pkl",
        "torch": workdir / "model.pt",
    }
    files["binary"].write_bytes(bytes(range(256)) * 8)
    files["latin1"].write_bytes("Café au lait, s'il vous plaît. ".encode("latin-1") * 20)
    files["empty"].write_bytes(b"")
    files["blank"].write_text(" \n\t\n", encoding="utf-8")
    files["short"].write_text("hello world", encoding="utf-8")
    files["pickle"].write_bytes(pickle.dumps(Evil(workdir / "UNPICKLED")))
    torch.save({"weight": torch.zeros(3)}, files["torch"])
    return files


@pytest.mark.parametrize(
    ("corpus", "message"),
    [
        ("missing", "neither a built-in corpus"),
        ("binary", "binary file"),
        ("latin1", "not UTF-8"),
        ("empty", "empty"),
        ("blank", "empty"),
        ("short", "needs at least"),
    ],
)
def test_a_bad_corpus_for_train_is_one_error_line_and_nothing_is_written(workdir, bad_files, corpus, message):
    path = bad_files.get(corpus, workdir / "missing.txt")
    out_dir = workdir / f"never-{corpus}"
    status, out, err = run_cli("train", "--corpus", path, "--out", out_dir, *TINY)
    assert message in assert_one_error_line(status, err)
    assert out == ""
    assert not out_dir.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--d-model", "100000"], "d_model must be an integer from"),
        (["--d-model", "0"], "d_model must be an integer from"),
        (["--d-model", "18", "--heads", "4"], "divisible by n_heads"),
        (["--layers", "500"], "n_layers"),
        (["--context", "100000"], "context_len"),
        (["--steps", "0"], "max_steps"),
        (["--steps", "-5"], "max_steps"),
        (["--batch", "0"], "batch_size"),
        (["--lr", "50"], "learning_rate"),
    ],
)
def test_an_impossible_setting_for_train_is_one_error_line(workdir, change, message):
    out_dir = workdir / "never-settings"
    status, out, err = run_cli("train", "--corpus", workdir / "corpus.txt", "--out", out_dir, *TINY, *change)
    assert message in assert_one_error_line(status, err)
    assert out == "" and not out_dir.exists()


@pytest.mark.parametrize("command", ["info", "eval", "generate"])
@pytest.mark.parametrize(
    ("checkpoint", "message"),
    [
        ("missing-dir", "no checkpoint at"),
        ("pickle", "not a valid TinyLM checkpoint"),
        ("torch", "not a valid TinyLM checkpoint"),
        ("corpus-dir", "model.safetensors is missing"),
    ],
)
def test_a_bad_checkpoint_is_one_error_line_and_never_unpickled(
    workdir, bad_files, command, checkpoint, message
):
    path = {
        "missing-dir": workdir / "no-such-model",
        "pickle": bad_files["pickle"],
        "torch": bad_files["torch"],
        "corpus-dir": workdir,
    }[checkpoint]
    extra = {"info": [], "eval": ["--corpus", workdir / "corpus.txt"], "generate": ["--prompt", "Lily"]}[
        command
    ]
    status, out, err = run_cli(command, path, *extra)
    assert message in assert_one_error_line(status, err)
    assert out == ""
    assert not (workdir / "UNPICKLED").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--prompt", ""], "prompt is empty"),
        (["--prompt", "Lily", "--top-k", "0"], "top-k"),
        (["--prompt", "Lily", "--top-p", "1.5"], "top-p"),
        (["--prompt", "Lily", "--temperature", "-1"], "temperature"),
        (["--prompt", "Lily", "--max-new-tokens", "100000"], "max new tokens"),
    ],
)
def test_bad_generation_settings_are_one_error_line(trained, extra, message):
    status, out, err = run_cli("generate", trained[0], *extra)
    assert message in assert_one_error_line(status, err)
    assert out == ""  # checked before the prompt is echoed


def test_an_output_path_that_is_a_file_is_refused_before_training(workdir):
    a_file = workdir / "not-a-directory"
    a_file.write_text("x", encoding="utf-8")
    status, out, err = run_cli("train", "--corpus", workdir / "corpus.txt", "--out", a_file, *TINY)
    assert "is a file" in assert_one_error_line(status, err)
    assert "eval" not in err and out == ""  # no training step ran


def test_a_huge_builtin_corpus_is_refused_before_it_is_generated(workdir):
    status, _, err = run_cli(
        "train", "--corpus", "copy", "--corpus-chars", 100_000_000, "--out", workdir / "huge", *TINY
    )
    assert "limit is 5.0 MB" in assert_one_error_line(status, err)


def test_eval_with_a_bad_corpus_is_one_error_line(trained, bad_files):
    for name in ("binary", "short"):
        status, out, err = run_cli("eval", trained[0], "--corpus", bad_files[name])
        assert_one_error_line(status, err)
        assert out == ""


def test_an_argument_mistake_exits_with_status_2_and_usage_not_a_traceback(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--out", "somewhere"])  # --corpus is required
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "--corpus" in err and "Traceback" not in err


def test_python_dash_m_tinylm_exits_with_status_2_on_a_user_mistake(workdir):
    result = subprocess.run(
        [sys.executable, "-m", "tinylm", "info", str(workdir / "no-such-model")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout == ""
    assert "no checkpoint at" in assert_one_error_line(result.returncode, result.stderr)
