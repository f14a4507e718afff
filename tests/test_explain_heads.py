"""The attention explorer shows the model's own weights, and its entropies follow H = −Σ w ln w."""

import math

import numpy as np
import pytest
import torch

from tests.conftest import ROOT
from tests.helpers import make_model
from tinylm import CharTokenizer, TinyLMError, read_checkpoint
from tinylm.explain.attention import attention_walkthrough
from tinylm.explain.heads import (
    attention_entropy,
    attention_maps,
    explore_heads,
    max_entropy,
    summarize_heads,
)


def random_ids(length: int, vocab: int = 50, seed: int = 0) -> list[int]:
    return torch.randint(0, vocab, (length,), generator=torch.Generator().manual_seed(seed)).tolist()


@pytest.mark.parametrize("pos", ["sinusoidal", "learned", "rope", "none"])
def test_maps_are_the_forward_pass_weights_and_the_explicit_recomputation(pos):
    model = make_model(pos_encoding=pos, n_layers=3, seed=4)
    ids = random_ids(11)
    maps = attention_maps(model, ids)
    config = model.config
    assert maps.shape == (config.n_layers, config.n_heads, 11, 11)
    with torch.no_grad():
        out = model(torch.tensor([ids]), return_attention=True)
    for layer in range(config.n_layers):
        np.testing.assert_allclose(maps[layer], out.attentions[layer][0].numpy(), atol=1e-7)
        # and the step-by-step recomputation (Q Kᵀ / sqrt(d_k), mask, softmax) gives the same numbers
        np.testing.assert_allclose(maps[layer], attention_walkthrough(model, ids, layer).weights, atol=1e-6)
    np.testing.assert_allclose(maps.sum(axis=-1), 1.0, atol=1e-6)
    above = np.triu(np.ones((11, 11), dtype=bool), k=1)
    assert (maps[..., above] == 0).all()  # causal: no query ever looks at a later key


def test_maps_leave_a_training_model_in_training_mode_and_use_no_dropout():
    model = make_model(dropout=0.5, seed=1)
    model.train()
    ids = random_ids(8)
    first, second = attention_maps(model, ids), attention_maps(model, ids)
    np.testing.assert_array_equal(first, second)  # dropout would make the two differ
    assert model.training


def test_maps_reject_texts_longer_than_the_context():
    model = make_model(context_len=16)
    with pytest.raises(ValueError):
        attention_maps(model, random_ids(17))
    with pytest.raises(ValueError):
        attention_maps(model, [])


def test_entropy_is_minus_sum_w_log_w():
    one_hot = np.array([0.0, 1.0, 0.0, 0.0])
    uniform = np.full(5, 0.2)
    mixed = np.array([0.5, 0.25, 0.25, 0.0])
    entropy = attention_entropy(np.stack([one_hot[:4], uniform[:4] / uniform[:4].sum(), mixed]))
    assert entropy[0] == 0.0 and not math.copysign(1.0, entropy[0]) < 0  # no −0.0
    assert entropy[1] == pytest.approx(math.log(4))
    assert entropy[2] == pytest.approx(-(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25)))
    assert attention_entropy(uniform) == pytest.approx(math.log(5))
    np.testing.assert_allclose(max_entropy(4), [0.0, math.log(2), math.log(3), math.log(4)])


def test_entropy_of_the_real_maps_is_between_zero_and_the_maximum():
    model = make_model(seed=2)
    maps = attention_maps(model, random_ids(12, seed=5))
    entropy = attention_entropy(maps)
    expected = -(maps * np.log(np.where(maps > 0, maps, 1.0))).sum(axis=-1)
    np.testing.assert_allclose(entropy, expected, atol=1e-12)
    assert (entropy[..., 0] == 0).all()  # row 0 sees only itself
    assert (entropy >= 0).all() and (entropy <= max_entropy(12) + 1e-9).all()


def test_summary_averages_rows_one_to_t_minus_one():
    model = make_model(seed=3)
    maps = attention_maps(model, random_ids(9, seed=6))
    summary = summarize_heads(maps)
    layer, head = 1, 2
    rows = maps[layer, head]
    entropies = [-(rows[i, : i + 1] * np.log(rows[i, : i + 1])).sum() for i in range(1, 9)]
    assert summary.mean_entropy.shape == (2, 4)
    assert summary.mean_entropy[layer, head] == pytest.approx(np.mean(entropies))
    normalized = [h / math.log(i + 1) for i, h in zip(range(1, 9), entropies, strict=True)]
    assert summary.normalized_entropy[layer, head] == pytest.approx(np.mean(normalized))
    assert summary.previous_token_weight[layer, head] == pytest.approx(
        np.mean([rows[i, i - 1] for i in range(1, 9)])
    )
    assert summary.self_weight[layer, head] == pytest.approx(np.mean([rows[i, i] for i in range(1, 9)]))
    assert summary.first_token_weight[layer, head] == pytest.approx(np.mean(rows[1:, 0]))
    assert ((summary.normalized_entropy >= 0) & (summary.normalized_entropy <= 1 + 1e-9)).all()


def test_summary_of_hand_made_patterns():
    n = 6
    previous = np.zeros((n, n))
    previous[0, 0] = 1.0
    previous[np.arange(1, n), np.arange(n - 1)] = 1.0  # every token looks at the one before it
    uniform = np.tril(np.ones((n, n))) / np.arange(1, n + 1)[:, None]  # spread evenly over all visible keys
    summary = summarize_heads(np.stack([previous, uniform])[None])  # one layer, two heads
    assert summary.previous_token_weight[0, 0] == pytest.approx(1.0)
    assert summary.mean_entropy[0, 0] == pytest.approx(0.0)
    assert summary.normalized_entropy[0, 1] == pytest.approx(1.0)
    assert summary.mean_entropy[0, 1] == pytest.approx(np.mean(np.log(np.arange(2, n + 1))))
    single = summarize_heads(np.ones((2, 3, 1, 1)))
    assert single.mean_entropy.shape == (2, 3) and not single.mean_entropy.any()


def test_explore_heads_keeps_the_last_context_len_tokens(small_text):
    tokenizer = CharTokenizer.from_text(small_text)
    model = make_model(vocab_size=tokenizer.vocab_size, context_len=16)
    text = "Lily had a red ball. 小明有一只小猫。"
    view = explore_heads(model, tokenizer, text)
    assert view.tokens.total_tokens == len(text) > 16
    assert view.tokens.cropped
    assert view.tokens.ids == tokenizer.encode(text)[-16:]
    assert view.pieces == list(text[-16:])
    np.testing.assert_allclose(view.weights, attention_maps(model, tokenizer.encode(text)[-16:]))
    np.testing.assert_allclose(view.entropy, attention_entropy(view.weights))
    np.testing.assert_allclose(view.summary.mean_entropy, summarize_heads(view.weights).mean_entropy)


def test_explore_heads_reports_unknown_characters_and_rejects_empty_text(small_text):
    tokenizer = CharTokenizer.from_text(small_text)
    model = make_model(vocab_size=tokenizer.vocab_size)
    view = explore_heads(model, tokenizer, "Lily <script>")
    assert "<" in view.tokens.unknown_chars and "L" not in view.tokens.unknown_chars
    assert view.tokens.ids[view.pieces.index("\ufffd")] == 0
    with pytest.raises(TinyLMError) as error:
        explore_heads(model, tokenizer, "")
    assert error.value.code == "empty_prompt"


@pytest.mark.parametrize("name", ["stories-zh", "stories-en"])
def test_shipped_demo_models(name):
    path = ROOT / "models" / name
    if not (path / "tinylm.json").is_file():
        pytest.skip(f"{name} is not trained yet")
    checkpoint = read_checkpoint(path)
    text = "小明有一只小猫。" if name.endswith("zh") else "Lily had a red ball."
    view = explore_heads(checkpoint.model, checkpoint.tokenizer, text)
    config = checkpoint.model.config
    n = len(checkpoint.tokenizer.encode(text))
    assert view.weights.shape == (config.n_layers, config.n_heads, n, n)
    np.testing.assert_allclose(view.weights.sum(axis=-1), 1.0, atol=1e-5)
    assert not view.tokens.unknown_chars
