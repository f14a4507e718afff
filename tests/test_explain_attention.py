"""The attention walkthrough recomputes the model's own numbers, step by step."""

import math

import numpy as np
import pytest
import torch

from tests.conftest import ROOT
from tests.helpers import make_model
from tinylm import CharTokenizer, TinyLMError, read_checkpoint
from tinylm.explain.attention import (
    MAX_WALKTHROUGH_TOKENS,
    attention_walkthrough,
    explain_attention,
    model_input,
    row_entropy,
    tokenize_for_display,
)

POSITIONS = ["sinusoidal", "learned", "rope", "none"]


def random_ids(length=10, vocab=50, seed=0):
    return torch.randint(0, vocab, (length,), generator=torch.Generator().manual_seed(seed)).tolist()


@pytest.mark.parametrize("norm", ["pre", "post"])
@pytest.mark.parametrize("pos", POSITIONS)
def test_weights_and_output_equal_the_models_forward_pass(pos, norm):
    model = make_model(pos_encoding=pos, norm_position=norm, seed=3)
    ids = random_ids()
    idx = torch.tensor([ids])
    with torch.no_grad():
        out = model(idx, return_attention=True, return_residuals=True)
    for layer in range(model.config.n_layers):
        walk = attention_walkthrough(model, ids, layer)
        expected = out.attentions[layer][0].numpy()
        np.testing.assert_allclose(walk.weights, expected, atol=1e-6)
        before = out.residuals[2 * layer][1]
        after = out.residuals[2 * layer + 1][1]
        output = torch.tensor(walk.output, dtype=torch.float32)[None]
        block = model.blocks[layer]
        with torch.no_grad():
            if norm == "pre":  # the sub-layer's output is the difference of two stream entries
                np.testing.assert_allclose(walk.output, (after - before)[0].numpy(), atol=1e-5)
            else:
                np.testing.assert_allclose(
                    block.norm1(before + output)[0].numpy(), after[0].numpy(), atol=1e-5
                )
        assert walk.max_weight_difference < 1e-6
        assert walk.max_output_difference < 1e-5
        assert walk.max_residual_difference < 1e-5


def test_every_step_follows_from_the_previous_one():
    model = make_model(seed=1)
    ids = random_ids(length=8)
    walk = attention_walkthrough(model, ids, layer=1)
    d_k = model.config.head_dim
    assert walk.n_heads == 4 and walk.head_dim == d_k == 8
    with torch.no_grad():
        x_expected = model.blocks[1].norm1(torch.tensor(walk.block_input, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(walk.x, x_expected, atol=1e-6)  # pre-norm: X = LN₁(x)
    for h in range(walk.n_heads):
        np.testing.assert_allclose(walk.q[h], walk.x @ walk.w_q[h] + walk.b_q[h], atol=1e-5)
        np.testing.assert_allclose(walk.k[h], walk.x @ walk.w_k[h] + walk.b_k[h], atol=1e-5)
        np.testing.assert_allclose(walk.v[h], walk.x @ walk.w_v[h] + walk.b_v[h], atol=1e-5)
        np.testing.assert_allclose(walk.scores[h], walk.q[h] @ walk.k[h].T, atol=1e-5)
        np.testing.assert_allclose(walk.scaled[h], walk.scores[h] / math.sqrt(d_k), atol=1e-6)
        np.testing.assert_allclose(walk.head_outputs[h], walk.weights[h] @ walk.v[h], atol=1e-5)
        np.testing.assert_allclose(walk.concat[:, h * d_k : (h + 1) * d_k], walk.head_outputs[h], atol=1e-7)
    np.testing.assert_allclose(walk.output, walk.concat @ walk.w_o + walk.b_o, atol=1e-5)
    # W_Q for head h is the slice of the model's stacked qkv weight (nn.Linear stores Wᵀ)
    weight = model.blocks[1].attention.qkv.weight.detach().numpy()
    np.testing.assert_allclose(walk.w_q[2], weight[2 * d_k : 3 * d_k].T, atol=0)


def test_mask_softmax_rows_and_the_effect_of_scaling():
    model = make_model(seed=2)
    walk = attention_walkthrough(model, random_ids(length=9), layer=0)
    above = np.triu(np.ones((9, 9), dtype=bool), k=1)
    assert np.isneginf(walk.masked[:, above]).all()
    assert np.isfinite(walk.masked[:, ~above]).all()
    assert (walk.weights[:, above] == 0).all() and (walk.weights_unscaled[:, above] == 0).all()
    np.testing.assert_allclose(walk.weights.sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(walk.weights_unscaled.sum(-1), 1.0, atol=1e-6)
    # Without 1/sqrt(d_k) the scores are sqrt(d_k) times larger: softmax gets peakier, entropy drops.
    assert (walk.entropy_unscaled <= walk.entropy + 1e-9).all()
    assert (walk.entropy_unscaled[:, 1:] < walk.entropy[:, 1:]).all()
    assert np.all(walk.entropy[:, 0] == 0)  # the first token can only look at itself
    np.testing.assert_allclose(walk.entropy, row_entropy(walk.weights))


def test_row_entropy_known_values():
    rows = np.array([[1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25], [0.5, 0.5, 0.0, 0.0]])
    np.testing.assert_allclose(row_entropy(rows), [0.0, math.log(4), math.log(2)])


def test_tokenize_crops_empty_and_unknown():
    tokenizer = CharTokenizer.from_text("abcdefghij <>")
    with pytest.raises(TinyLMError) as info:
        tokenize_for_display(tokenizer, "", 12)
    assert info.value.code == "empty_prompt"
    first = tokenize_for_display(tokenizer, "abcdefghij" * 3, 12)
    assert first.pieces == list("abcdefghij" + "ab") and first.total_tokens == 30 and first.cropped
    last = tokenize_for_display(tokenizer, "abcdefghij" * 3, 12, keep="last")
    assert last.pieces == list("ij" + "abcdefghij") and last.cropped
    hostile = tokenize_for_display(tokenizer, "<img src=x onerror=alert(1)>", 40)
    assert hostile.unknown_chars == ["m", "s", "r", "=", "x", "o", "n", "l", "t", "(", "1", ")"]
    assert "\ufffd" in hostile.pieces and "<" in hostile.pieces and not hostile.cropped


def test_cropping_to_the_first_tokens_keeps_their_numbers_exactly():
    """The model is causal: the first 12 tokens' weights are the top-left corner of the full text's."""
    model = make_model(seed=4)
    ids = random_ids(length=16)
    full = attention_walkthrough(model, ids, layer=1)
    cropped = attention_walkthrough(model, ids[:12], layer=1)
    np.testing.assert_allclose(cropped.weights, full.weights[:, :12, :12], atol=1e-6)


@pytest.mark.parametrize(
    "name,text", [("stories-zh", "我爱吃饼干"), ("stories-en", "I love cake. Tom ran home.")]
)
def test_demo_models(name, text):
    path = ROOT / "models" / name
    if not (path / "tinylm.json").is_file():
        pytest.skip("demo model not trained yet")
    checkpoint = read_checkpoint(path)
    model, tokenizer = checkpoint.model.eval(), checkpoint.tokenizer
    layer = model.config.n_layers - 1
    tokens, walk = explain_attention(model, tokenizer, text, layer)
    expected_ids = tokenizer.encode(text)[:MAX_WALKTHROUGH_TOKENS]
    assert tokens.ids == expected_ids and walk.pieces == tokenizer.token_strings(expected_ids)
    with torch.no_grad():
        expected = model(torch.tensor([expected_ids]), return_attention=True).attentions[layer][0].numpy()
    np.testing.assert_allclose(walk.weights, expected, atol=1e-5)
    assert walk.weights.shape == (model.config.n_heads, len(expected_ids), len(expected_ids))


def test_model_input_checks_the_layer_and_the_length():
    """One check for the walkthrough, the block view and the heads: ids that fit, a layer that exists."""
    model = make_model(context_len=16, n_layers=2)
    assert model_input(model, [1, 2, 3], layer=1).tolist() == [[1, 2, 3]]
    assert model_input(model, random_ids(16)).shape == (1, 16)  # no layer: only the length is checked
    for ids, layer in (([1, 2], 2), ([1, 2], -1), ([], 0), (random_ids(17), 0)):
        with pytest.raises(ValueError):
            model_input(model, ids, layer)
    with pytest.raises(ValueError):
        attention_walkthrough(model, [1, 2], layer=2)
