"""Induction-head scores, the ICL score and the training recorder: hand-computed values on constructed
attention patterns and weights, and agreement with the model's own forward pass."""

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.conftest import SMALL_TEXT
from tests.helpers import make_model
from tinylm import CharTokenizer, ModelConfig, TinyLM
from tinylm.data import prepare_data
from tinylm.explain.heads import attention_maps, summarize_heads
from tinylm.explain.induction import (
    copying_scores,
    head_scores,
    icl_ranges,
    icl_score,
    induction_score,
    loss_windows,
    position_losses,
    previous_token_score,
    probe_for_context,
    probe_tokens,
    repeated_probe,
    second_copy_loss,
    training_recorder,
)
from tinylm.train import TrainConfig, Trainer, evaluate_loss

N = 6  # probe half-length for the constructed patterns


def previous_token_pattern(length: int) -> np.ndarray:
    """Every row puts all its weight on the token before it (row 0 on itself)."""
    weights = np.zeros((length, length))
    weights[0, 0] = 1.0
    weights[np.arange(1, length), np.arange(length - 1)] = 1.0
    return weights


def induction_pattern(n: int) -> np.ndarray:
    """Rows of the second copy look at the token after their first occurrence; the first copy is uniform."""
    weights = np.tril(np.ones((2 * n, 2 * n)))
    weights /= weights.sum(axis=1, keepdims=True)
    for i in range(n, 2 * n):
        weights[i] = 0.0
        weights[i, i - n + 1] = 1.0
    return weights


def uniform_pattern(length: int) -> np.ndarray:
    weights = np.tril(np.ones((length, length)))
    return weights / weights.sum(axis=1, keepdims=True)


# -- scores on constructed patterns ---------------------------------------------------------------


def test_a_pure_previous_token_pattern_scores_one_and_zero_induction():
    weights = previous_token_pattern(2 * N)
    assert previous_token_score(weights) == pytest.approx(1.0)
    assert induction_score(weights, N) == pytest.approx(0.0)


def test_a_pure_induction_pattern_scores_one_and_its_previous_token_score_by_hand():
    weights = induction_pattern(N)
    assert induction_score(weights, N) == pytest.approx(1.0)
    # rows 1 … n−1 are uniform (1/(i+1) on i−1); rows n … 2n−1 look n−1 tokens back, never at i−1
    by_hand = sum(1 / (i + 1) for i in range(1, N)) / (2 * N - 1)
    assert previous_token_score(weights) == pytest.approx(by_hand)


def test_a_uniform_pattern_scores_its_average_weight():
    weights = uniform_pattern(2 * N)
    assert induction_score(weights, N) == pytest.approx(np.mean([1 / (i + 1) for i in range(N, 2 * N)]))
    assert previous_token_score(weights) == pytest.approx(np.mean([1 / (i + 1) for i in range(1, 2 * N)]))


def test_scores_work_on_stacked_patterns_and_check_the_probe_length():
    stacked = np.stack([previous_token_pattern(2 * N), induction_pattern(N)])  # (2, T, T): two "heads"
    np.testing.assert_allclose(induction_score(stacked, N), [0.0, 1.0], atol=1e-12)
    with pytest.raises(ValueError, match="repeated"):
        induction_score(stacked, N + 1)


# -- the probe -------------------------------------------------------------------------------------


def test_the_probe_repeats_distinct_tokens_reproducibly():
    probe = repeated_probe(range(10, 40), n=8, batch=3, seed=5)
    assert probe.ids.shape == (3, 16) and probe.n == 8
    assert torch.equal(probe.ids[:, :8], probe.ids[:, 8:])
    for row in probe.ids[:, :8]:
        assert len(set(row.tolist())) == 8 and set(row.tolist()) <= set(range(10, 40))
    assert torch.equal(repeated_probe(range(10, 40), n=8, batch=3, seed=5).ids, probe.ids)
    assert not torch.equal(repeated_probe(range(10, 40), n=8, batch=3, seed=6).ids, probe.ids)
    small = repeated_probe([3, 4], n=8, batch=2)  # fewer tokens than n: drawn with replacement
    assert set(small.ids.flatten().tolist()) <= {3, 4}


def test_probe_tokens_skip_the_unknown_token_and_whitespace():
    tokenizer = CharTokenizer.from_text("ab c\nd")
    assert tokenizer.token_strings(probe_tokens(tokenizer)) == ["a", "b", "c", "d"]


# -- against the model's forward pass --------------------------------------------------------------


@pytest.mark.parametrize("attention_only", [False, True])
def test_head_scores_are_the_scores_of_the_models_own_attention(attention_only):
    model = make_model(vocab_size=40, context_len=16, n_layers=3, seed=2, attention_only=attention_only)
    probe = repeated_probe(range(1, 40), n=8, batch=3, seed=1)
    scores = head_scores(model, probe)
    assert scores.induction.shape == scores.previous_token.shape == (3, 4)
    per_row = [attention_maps(model, row.tolist()) for row in probe.ids]  # (L, H, T, T) each
    expected_induction = np.mean([induction_score(maps, 8) for maps in per_row], axis=0)
    expected_previous = np.mean([summarize_heads(maps).previous_token_weight for maps in per_row], axis=0)
    np.testing.assert_allclose(scores.induction, expected_induction, atol=1e-7)
    np.testing.assert_allclose(scores.previous_token, expected_previous, atol=1e-7)
    with pytest.raises(ValueError, match="context"):
        head_scores(model, repeated_probe(range(1, 40), n=9))


def identity_head_model(sign: float) -> TinyLM:
    """One head of width D whose value and output maps are ±identity, tied embeddings, LN γ = 1."""
    config = ModelConfig(vocab_size=12, context_len=8, d_model=8, n_layers=1, n_heads=1, attention_only=True)
    model = TinyLM(config, seed=3)
    with torch.no_grad():
        attention = model.blocks[0].attention
        attention.qkv.weight[16:] = torch.eye(8)  # W_V = I (nn.Linear stores W_V transposed: same thing)
        attention.out_proj.weight.copy_(sign * torch.eye(8))
    return model


def test_a_head_whose_ov_circuit_is_e_et_copies_and_its_negative_anticopies():
    # M = W_E W_V W_O W_U = ± W_E W_Eᵀ: positive (negative) semi-definite, every eigenvalue ≥ 0 (≤ 0)
    assert copying_scores(identity_head_model(1.0))[0, 0] == pytest.approx(1.0)
    assert copying_scores(identity_head_model(-1.0))[0, 0] == pytest.approx(-1.0)


def test_copying_scores_are_the_eigenvalues_of_the_full_vocabulary_matrix():
    model = make_model(vocab_size=30, seed=7)
    scores = copying_scores(model)
    d, d_k = model.config.d_model, model.config.head_dim
    with torch.no_grad():
        w_e, w_u = model.token_embedding.weight.double(), model.lm_head.weight.double().T
        for layer, block in enumerate(model.blocks):
            gamma_1, gamma_f = block.norm1.weight.double(), model.final_norm.weight.double()
            for head in range(model.config.n_heads):
                cols = slice(head * d_k, (head + 1) * d_k)
                w_v = block.attention.qkv.weight.double().T[:, 2 * d :][:, cols]
                w_o = block.attention.out_proj.weight.double().T[cols]
                full = (w_e * gamma_1) @ w_v @ (w_o * gamma_f) @ w_u  # (V, V)
                eig = np.linalg.eigvals(full.numpy())
                assert scores[layer, head] == pytest.approx(eig.real.sum() / np.abs(eig).sum(), abs=1e-6)


# -- the in-context-learning score -----------------------------------------------------------------


def test_position_losses_are_the_cross_entropy_at_each_position():
    model = make_model(vocab_size=30, seed=1)
    windows = torch.randint(0, 30, (5, 17), generator=torch.Generator().manual_seed(0))
    losses = position_losses(model, windows, batch_size=2)
    with torch.no_grad():
        logits = model(windows[:, :-1]).logits
        by_hand = F.cross_entropy(logits.transpose(1, 2), windows[:, 1:], reduction="none").mean(dim=0)
    np.testing.assert_allclose(losses, by_hand.numpy(), atol=1e-6)
    assert losses.mean() == pytest.approx(evaluate_loss(model, windows), abs=1e-6)


def test_icl_score_is_late_minus_early_loss():
    assert icl_ranges(64) == (range(1, 9), range(56, 64))
    losses = np.linspace(3.0, 1.0, 64)  # the loss falls along the window
    expected = losses[56:64].mean() - losses[1:9].mean()
    assert icl_score(losses) == pytest.approx(expected) and expected < 0
    assert icl_score(np.full(64, 2.5)) == pytest.approx(0.0)
    assert icl_score(np.ones(1)) == 0.0  # too short for early and late positions


def test_loss_windows_cover_a_short_text_with_one_row():
    assert loss_windows(list(range(10)), context_len=16).tolist() == [list(range(10))]
    windows = loss_windows(torch.arange(200), context_len=16, max_tokens=64)
    assert windows.shape == (4, 17)
    with pytest.raises(ValueError):
        loss_windows([1], context_len=16)


def test_second_copy_loss_averages_the_positions_copying_can_predict():
    losses = np.arange(11.0)  # a probe with n = 6 has 2n − 1 = 11 predictions
    assert second_copy_loss(losses, 6) == pytest.approx(np.mean([6, 7, 8, 9, 10]))


# -- recording during training ---------------------------------------------------------------------


def test_training_records_head_scores_and_icl_at_every_evaluation():
    tokenizer = CharTokenizer.from_text(SMALL_TEXT)
    config = ModelConfig(vocab_size=tokenizer.vocab_size, context_len=16, d_model=16, n_layers=2, n_heads=2)
    data = prepare_data(SMALL_TEXT, tokenizer, config.context_len)
    model = TinyLM(config, seed=0)
    recorder = training_recorder(tokenizer, data.val, config.context_len)
    trainer = Trainer(
        model, tokenizer, data, TrainConfig(max_steps=6, eval_interval=3, batch_size=4), eval_extras=recorder
    )
    events = [event for event in trainer.events() if event.kind == "eval"]
    assert [event.step for event in events] == [0, 3, 6]
    for event in events:
        assert set(event.extras) == {"induction", "prev_token", "icl"}
        assert np.asarray(event.extras["induction"]).shape == (2, 2)
        assert math.isfinite(event.extras["icl"])
    history = trainer.history.to_dict()
    assert [row[0] for row in history["induction"]] == [0, 3, 6]
    assert history["prev_token"][-1][1] == events[-1].extras["prev_token"]
    assert [row[1] for row in history["icl"]] == [event.extras["icl"] for event in events]
    json.dumps(history)  # what the checkpoint stores
    # the numbers are the model's: recomputing them now gives the last recorded values
    assert recorder(model) == events[-1].extras


def test_a_trainer_without_extras_keeps_the_old_history_keys():
    tokenizer = CharTokenizer.from_text(SMALL_TEXT)
    config = ModelConfig(vocab_size=tokenizer.vocab_size, context_len=16, d_model=16, n_layers=1, n_heads=2)
    data = prepare_data(SMALL_TEXT, tokenizer, config.context_len)
    trainer = Trainer(TinyLM(config), tokenizer, data, TrainConfig(max_steps=2, batch_size=4))
    trainer.run()
    keys = {"train", "val", "learning_rate", "tokens_per_sec", "accuracy", "samples"}
    assert set(trainer.history.to_dict()) == keys


def test_the_probe_fits_the_context_and_a_tiny_context_records_only_the_icl_score():
    tokenizer = CharTokenizer.from_text(SMALL_TEXT)
    assert probe_for_context(tokenizer, 64).ids.shape == (4, 48)  # 2 × 24
    assert probe_for_context(tokenizer, 20).ids.shape == (4, 20)  # 2 × T/2
    assert probe_for_context(tokenizer, 3) is None
    config = ModelConfig(vocab_size=tokenizer.vocab_size, context_len=3, d_model=16, n_layers=1, n_heads=2)
    data = prepare_data(SMALL_TEXT, tokenizer, config.context_len)
    extras = training_recorder(tokenizer, data.val, 3)(TinyLM(config))
    assert set(extras) == {"icl"}


# -- reading a run's record -------------------------------------------------------------------------


def test_loss_bump_on_constructed_curves():
    from tinylm.explain.induction import loss_bump

    steps = np.arange(10, 1510, 20, dtype=float)
    plateau_then_drop = 2.3 + 1.0 / (1 + np.exp((steps - 450) / 30))  # a plateau at 3.3, a sudden fall at 450
    bump = loss_bump(steps, plateau_then_drop)
    assert bump is not None and abs(bump.step - 450) <= 40
    assert bump.start_step < 450 < bump.end_step and bump.drop > 3 * bump.drop_before
    power_law = 2.0 + 3.0 * (steps / 10) ** -0.5  # fastest at the start, then ever slower: no bump
    assert loss_bump(steps, power_law) is None
    assert loss_bump(steps, np.full(len(steps), 3.0)) is None
    assert loss_bump(steps[:4], plateau_then_drop[:4]) is None  # too short to tell
    with_nan = plateau_then_drop.copy()
    with_nan[5] = np.nan  # a diverged point is left out
    assert loss_bump(steps, with_nan) is not None


def test_loss_bump_on_the_measured_benchmark_runs():
    """The 2-layer preset's bump is where its induction score passes 0.4; the 1-layer preset has none."""
    from tests.conftest import ROOT
    from tinylm.explain.induction import loss_bump

    runs = json.loads((ROOT / "benchmarks" / "induction.json").read_text())["runs"]
    for run in runs:
        steps, losses = zip(*run["train_loss"], strict=True)
        bump = loss_bump(steps, losses)
        if run["preset"] == "induction-2l":
            assert bump is not None and abs(bump.step - run["crossed"]["step"]) <= 60, run["seed"]
        else:
            assert bump is None and run["crossed"] is None, run["seed"]
    for name in ("stories-en", "stories-zh"):  # the demo models' own training curves have none either
        path = ROOT / "models" / name / "tinylm.json"
        if path.is_file():
            train = json.loads(path.read_text())["history"]["train"]
            assert loss_bump([row[0] for row in train], [row[2] for row in train]) is None, name


def test_score_curves_and_first_crossing():
    from tinylm.explain.induction import first_crossing, score_curves

    rows = [
        [0, [[0.1, 0.0], [0.0, 0.2]]],
        [50, [[0.1, 0.1], [0.3, 0.5]]],
        [60, [[0.1]]],
        [100, [[0.2, 0.1], [0.9, 0.6]]],
    ]
    curves = score_curves(rows)
    assert curves.steps.tolist() == [0, 50, 100]  # the row of another shape is left out
    assert curves.scores.shape == (3, 2, 2) and curves.best.tolist() == [0.2, 0.5, 0.9]
    assert first_crossing(curves.steps, curves.best) == 50
    assert first_crossing(curves.steps, curves.best, 0.95) is None
    assert score_curves([]).steps.shape == (0,) and len(score_curves([]).best) == 0
