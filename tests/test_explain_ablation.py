"""Ablating a head is the model with that head's output weights zeroed (or its output replaced by its
mean), and the model is unchanged afterwards."""

import copy

import numpy as np
import pytest
import torch

from tests.conftest import SMALL_TEXT
from tests.helpers import make_model
from tinylm import CharTokenizer
from tinylm.explain.ablation import ablated_heads, explain_head_ablation, head_ablation
from tinylm.explain.induction import loss_windows, position_losses, repeated_probe, second_copy_loss


def idx(seed: int = 0, batch: int = 3, length: int = 14, vocab: int = 50) -> torch.Tensor:
    return torch.randint(0, vocab, (batch, length), generator=torch.Generator().manual_seed(seed))


def logits(model, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(x).logits


@pytest.mark.parametrize("layer, head", [(0, 0), (1, 3)])
def test_zero_ablation_is_the_model_with_the_heads_output_columns_zeroed(layer, head):
    model = make_model(seed=2)
    d_k = model.config.head_dim
    zeroed = copy.deepcopy(model)
    with torch.no_grad():
        zeroed.blocks[layer].attention.out_proj.weight[:, head * d_k : (head + 1) * d_k] = 0.0
    before = {name: value.clone() for name, value in model.state_dict().items()}
    x = idx()
    with ablated_heads(model, [(layer, head)], "zero"):
        ablated = logits(model, x)
    torch.testing.assert_close(ablated, logits(zeroed, x), atol=1e-6, rtol=0)
    assert not torch.allclose(ablated, logits(model, x), atol=1e-4)  # the head did matter
    for name, value in model.state_dict().items():  # nothing was changed for good
        assert torch.equal(value, before[name]), name
    assert not model.blocks[layer].attention.out_proj._forward_pre_hooks


def test_mean_ablation_adds_the_heads_mean_output_instead_of_its_output():
    model = make_model(seed=4)
    layer, head, d_k = 1, 2, model.config.head_dim
    cols = slice(head * d_k, (head + 1) * d_k)
    x = idx(seed=1)
    captured = {}
    out_proj = model.blocks[layer].attention.out_proj
    handle = out_proj.register_forward_pre_hook(lambda module, args: captured.update(concat=args[0].clone()))
    logits(model, x)
    handle.remove()
    mean = captured["concat"][..., cols].mean(dim=(0, 1))  # (d_k,) over the batch and positions
    # the same as zeroing the head's columns of W_O and adding mean · W_Oʰ to the bias
    expected = copy.deepcopy(model)
    with torch.no_grad():
        projection = expected.blocks[layer].attention.out_proj
        projection.bias += projection.weight[:, cols] @ mean
        projection.weight[:, cols] = 0.0
    with ablated_heads(model, [(layer, head)], "mean"):
        ablated = logits(model, x)
    torch.testing.assert_close(ablated, logits(expected, x), atol=1e-5, rtol=0)


def test_a_head_whose_output_is_constant_is_unchanged_by_mean_ablation():
    model = make_model(seed=6)
    d_model, d_k = model.config.d_model, model.config.head_dim
    with torch.no_grad():  # head 0 of layer 0: W_V = 0, so its output is b_V whatever it attends to
        model.blocks[0].attention.qkv.weight[2 * d_model : 2 * d_model + d_k] = 0.0
        model.blocks[0].attention.qkv.bias[2 * d_model : 2 * d_model + d_k] = 0.5
    x = idx(seed=2)
    intact = logits(model, x)
    with ablated_heads(model, [(0, 0)], "mean"):
        torch.testing.assert_close(logits(model, x), intact, atol=1e-6, rtol=0)
    with ablated_heads(model, [(0, 0)], "zero"):
        assert not torch.allclose(logits(model, x), intact, atol=1e-4)


def test_several_heads_at_once_and_bad_arguments():
    model = make_model(seed=1)
    d_k = model.config.head_dim
    both = copy.deepcopy(model)
    with torch.no_grad():
        both.blocks[0].attention.out_proj.weight[:, :d_k] = 0.0
        both.blocks[0].attention.out_proj.weight[:, d_k : 2 * d_k] = 0.0
    x = idx()
    with ablated_heads(model, [(0, 0), (0, 1)]):
        torch.testing.assert_close(logits(model, x), logits(both, x), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="mode"), ablated_heads(model, [(0, 0)], "half"):
        pass
    with pytest.raises(ValueError, match="no head"), ablated_heads(model, [(0, 0), (2, 0)]):
        pass
    assert not model.blocks[0].attention.out_proj._forward_pre_hooks  # the first hook was removed too


def test_head_ablation_measures_every_head_on_the_probe_and_the_text():
    model = make_model(vocab_size=40, context_len=16, seed=3)
    probe = repeated_probe(range(1, 40), n=8, batch=2, seed=0)
    windows = idx(seed=5, batch=4, length=17, vocab=40)
    result = head_ablation(model, probe, windows, mode="zero")
    assert result.probe_losses.shape == result.text_losses.shape == (2, 4)
    assert result.probe_loss == pytest.approx(second_copy_loss(position_losses(model, probe.ids), 8))
    assert result.text_loss == pytest.approx(float(position_losses(model, windows).mean()))
    with ablated_heads(model, [(1, 2)]):
        by_hand = second_copy_loss(position_losses(model, probe.ids), 8)
    assert result.probe_losses[1, 2] == pytest.approx(by_hand)
    np.testing.assert_allclose(result.probe_change, result.probe_losses - result.probe_loss)
    assert np.abs(result.text_change).max() > 0


def test_explain_head_ablation_on_text():
    tokenizer = CharTokenizer.from_text(SMALL_TEXT)
    model = make_model(vocab_size=tokenizer.vocab_size, context_len=16, seed=0)
    result = explain_head_ablation(model, tokenizer, SMALL_TEXT[:300], mode="mean", n=24)
    assert result.mode == "mean" and result.probe_losses.shape == (2, 4)
    windows = loss_windows(tokenizer.encode(SMALL_TEXT[:300]), 16)
    assert result.text_loss == pytest.approx(float(position_losses(model, windows).mean()))
