"""The command line speaks induction: the repeats corpus, --attention-only, the head scores and the ICL
score recorded at every evaluation, and `eval` reporting them."""

import json
import math

import numpy as np
import pytest

from tests.test_cli import run_cli
from tinylm import count_parameters, read_checkpoint
from tinylm.data import load_text, prepare_data
from tinylm.explain.induction import (
    head_scores,
    icl_score,
    position_losses,
    probe_tokens,
    repeated_probe,
)

SETTINGS = ["--steps", "20", "--layers", "2", "--heads", "2", "--d-model", "16", "--context", "48"]
SETTINGS += ["--batch", "4", "--eval-interval", "10", "--corpus-chars", "20000", "--precision", "fp32"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("induction") / "model"
    status, out, err = run_cli(
        "train", "--corpus", "repeats", "--out", out_dir, "--attention-only", *SETTINGS
    )
    assert status == 0, err
    return out_dir, out, err


def test_train_on_repeats_with_attention_only(trained):
    out_dir, out, err = trained
    checkpoint = read_checkpoint(out_dir)
    config = checkpoint.model.config
    assert config.attention_only and config.n_layers == 2
    assert not hasattr(checkpoint.model.blocks[0], "feed_forward")
    assert json.loads(out)["parameters"] == count_parameters(config) == checkpoint.model.num_parameters()
    assert checkpoint.meta["corpus"] == "repeats"
    assert set(checkpoint.tokenizer.chars) == set("abcdefghijklmnopqrstuvwxyz\n")
    assert "induction" in err and "icl" in err  # each evaluation line shows them


def test_the_checkpoint_history_keeps_the_scores_of_every_evaluation(trained):
    history = read_checkpoint(trained[0]).history
    steps = [row[0] for row in history["val"]]
    assert steps == [0, 10, 20]
    for key in ("induction", "prev_token"):
        assert [row[0] for row in history[key]] == steps
        assert all(np.asarray(row[1]).shape == (2, 2) for row in history[key])
        assert all(0 <= value <= 1 for row in history[key] for value in np.ravel(row[1]))
    assert [row[0] for row in history["icl"]] == steps
    assert all(math.isfinite(row[1]) for row in history["icl"])


def test_eval_reports_the_icl_score_and_every_heads_scores(trained):
    out_dir = trained[0]
    status, out, err = run_cli("eval", out_dir, "--corpus", "repeats", "--corpus-chars", 20000, "--seed", 3)
    assert status == 0, err
    result = json.loads(out)
    checkpoint = read_checkpoint(out_dir)
    model, tokenizer = checkpoint.model, checkpoint.tokenizer
    # the same numbers from the library: probe of 2 × 24 tokens (8 of them, seeded), held-out windows
    scores = head_scores(model, repeated_probe(probe_tokens(tokenizer), n=24, batch=8, seed=3))
    np.testing.assert_allclose(result["induction_scores"], scores.induction, atol=1e-4)
    np.testing.assert_allclose(result["prev_token_scores"], scores.previous_token, atol=1e-4)
    data = prepare_data(load_text("repeats", seed=3, n_chars=20000), tokenizer, 48)
    windows = data.val.unfold(0, 49, 48)
    assert result["icl_score"] == pytest.approx(icl_score(position_losses(model, windows)), abs=1e-4)


def test_eval_of_a_model_with_feed_forward_layers_reports_the_scores_too(tmp_path):
    out_dir = tmp_path / "ffn"
    small = ["--steps", "2", "--layers", "1", "--d-model", "16", "--context", "48", "--corpus-chars", "20000"]
    status, _, err = run_cli("train", "--corpus", "repeats", "--out", out_dir, *small)
    assert status == 0, err
    assert not read_checkpoint(out_dir).model.config.attention_only
    status, out, _ = run_cli("eval", out_dir, "--corpus", "repeats", "--corpus-chars", "20000")
    result = json.loads(out)
    assert status == 0 and set(result) >= {"icl_score", "induction_scores", "prev_token_scores"}
