"""Residual stream, LayerNorm and feed-forward views equal the model's own forward pass."""

import numpy as np
import pytest
import torch

from tests.conftest import ROOT
from tests.helpers import make_model
from tinylm import CharTokenizer, read_checkpoint
from tinylm.explain.attention import tokenize_for_display
from tinylm.explain.block import block_explanation, explain_block


def random_ids(length=10, vocab=50, seed=0):
    return torch.randint(0, vocab, (length,), generator=torch.Generator().manual_seed(seed)).tolist()


def roughen_layer_norms(model, seed=0):
    """Trained models have γ ≠ 1, β ≠ 0; give a fresh one some too so their effect is visible."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if module.__class__.__name__ == "LayerNorm":
                module.weight.copy_(1 + 0.5 * torch.randn(module.weight.shape, generator=generator))
                module.bias.copy_(0.3 * torch.randn(module.bias.shape, generator=generator))
    return model


def explanation(model, ids, layer):
    tokens = tokenize_for_display(CharTokenizer.from_text("x"), "x", 1)  # labels are not under test here
    return block_explanation(model, ids, layer, tokens)


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_update_sizes_are_differences_of_consecutive_stream_entries(norm):
    model = make_model(norm_position=norm, seed=5)
    ids = random_ids()
    with torch.no_grad():
        residuals = model(torch.tensor([ids]), return_residuals=True).residuals
    stream = explanation(model, ids, 0).stream
    assert stream.names == [
        "embedding",
        "layer0.attention",
        "layer0.feed_forward",
        "layer1.attention",
        "layer1.feed_forward",
    ]
    for s in range(1, len(residuals)):
        before, after = residuals[s - 1][1][0].double(), residuals[s][1][0].double()
        expected = (after - before).norm(dim=-1).numpy()
        np.testing.assert_allclose(stream.update_norms[s - 1], expected, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(
            stream.relative_updates[s - 1], expected / before.norm(dim=-1).numpy(), rtol=1e-6
        )
    np.testing.assert_allclose(stream.mean_relative_updates, stream.relative_updates.mean(axis=1))


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_layer_norm_statistics_and_equality_with_the_model(norm):
    model = roughen_layer_norms(make_model(norm_position=norm, seed=6))
    ids = random_ids(length=7)
    view = explanation(model, ids, 1)
    for ln, module in ((view.norm1, model.blocks[1].norm1), (view.norm2, model.blocks[1].norm2)):
        np.testing.assert_allclose(ln.mean, ln.x.mean(-1), atol=1e-6)
        np.testing.assert_allclose(ln.std, ln.x.std(-1), rtol=1e-5)  # numpy's std is the biased one
        np.testing.assert_allclose(ln.normalized_mean, 0, atol=1e-5)
        np.testing.assert_allclose(ln.normalized_std, 1, atol=1e-3)
        np.testing.assert_allclose(ln.gamma, module.weight.detach().numpy(), atol=0)
        np.testing.assert_allclose(ln.output, ln.gamma * ln.normalized + ln.beta, atol=1e-5)
        assert ln.max_difference < 1e-5
        assert np.abs(ln.output_mean).max() > 0.01  # γ and β move it away from mean 0 / std 1
    with torch.no_grad():
        residuals = model(torch.tensor([ids]), return_residuals=True).residuals
    if norm == "post":  # post-norm: each LayerNorm's output *is* the next stream entry
        np.testing.assert_allclose(view.norm1.output, residuals[3][1][0].numpy(), atol=1e-5)
        np.testing.assert_allclose(view.norm2.output, residuals[4][1][0].numpy(), atol=1e-5)
    else:  # pre-norm: LayerNorms read the stream as it is
        np.testing.assert_allclose(view.norm1.x, residuals[2][1][0].numpy(), atol=0)
        np.testing.assert_allclose(view.norm2.x, residuals[3][1][0].numpy(), atol=0)


@pytest.mark.parametrize("activation", ["gelu", "relu"])
def test_feed_forward_output_and_active_units(activation):
    model = make_model(activation=activation, seed=7)
    ids = random_ids(length=6)
    view = explanation(model, ids, 0)
    ffn = view.feed_forward
    with torch.no_grad():
        residuals = model(torch.tensor([ids]), return_residuals=True).residuals
    update = (residuals[2][1] - residuals[1][1])[0].numpy()
    np.testing.assert_allclose(ffn.output, update, atol=1e-5)  # pre-norm: the FFN's update to the stream
    np.testing.assert_allclose(ffn.active_fraction, (ffn.pre_activation > 0).mean(-1))
    assert ffn.hidden.shape == (6, model.config.d_ff) and ffn.max_difference < 1e-5
    if activation == "relu":
        assert (ffn.hidden >= 0).all()
    else:
        assert (ffn.hidden < 0).any()  # GELU leaves small negative values
    assert 0 < ffn.active_fraction.mean() < 1


def test_long_text_keeps_the_last_context_window():
    model = make_model(vocab_size=11, seed=8)  # context 16
    tokenizer = CharTokenizer.from_text("abcdefghij")
    view = explain_block(model, tokenizer, "abcdefghij" * 3, layer=1)
    assert view.tokens.total_tokens == 30 and len(view.tokens.ids) == 16 and view.tokens.cropped
    assert view.tokens.pieces == list("efghij" + "abcdefghij")
    assert view.stream.vectors.shape == (5, 16, 32)


def test_demo_model():
    path = ROOT / "models" / "stories-zh"
    if not (path / "tinylm.json").is_file():
        pytest.skip("demo model not trained yet")
    checkpoint = read_checkpoint(path)
    model = checkpoint.model.eval()
    view = explain_block(model, checkpoint.tokenizer, "我爱吃饼干", layer=0)
    n_layers = model.config.n_layers
    assert view.stream.relative_updates.shape == (2 * n_layers, 5)
    assert view.norm1.max_difference < 1e-5 and view.feed_forward.max_difference < 1e-5
    np.testing.assert_allclose(view.norm2.normalized_std, 1, atol=1e-3)


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_attention_only_model_has_no_feed_forward_view(norm):
    model = roughen_layer_norms(make_model(norm_position=norm, attention_only=True, seed=9))
    ids = random_ids(length=8)
    view = explanation(model, ids, 1)
    assert view.feed_forward is None and view.norm2 is None
    assert view.stream.names == ["embedding", "layer0.attention", "layer1.attention"]
    with torch.no_grad():
        residuals = model(torch.tensor([ids]), return_residuals=True).residuals
    after_attention = [residuals[0], *(r for r in residuals if r[0].endswith(".attention"))]
    expected = np.stack([x[0].double().numpy() for _, x in after_attention])
    np.testing.assert_allclose(view.stream.vectors, expected, atol=1e-6)
    assert view.norm1.max_difference < 1e-5
    if norm == "post":  # LN₁ of block 1 makes the stream after its attention
        np.testing.assert_allclose(view.norm1.output, residuals[3][1][0].numpy(), atol=1e-5)
