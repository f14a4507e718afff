import time

import pytest
import torch

from tests.helpers import make_model
from tinylm import CharTokenizer, TrainConfig, Trainer
from tinylm.data import prepare_data
from tinylm.fast import (
    SHORT_CONTEXT,
    additive_causal_mask,
    autocast,
    batched_causal_attention,
    bf16_speedup,
    faster_precision,
    fastest_call,
    make_optimizer,
    resolve_precision,
)
from tinylm.model import attention_explicit


def test_precision_resolution():
    assert resolve_precision("fp32") == "fp32"
    assert resolve_precision("bf16") == "bf16"
    assert resolve_precision("auto") in ("fp32", "bf16")
    # "auto" picks bf16 exactly when this CPU runs bf16 matmuls clearly faster than fp32
    assert (resolve_precision("auto") == "bf16") == (bf16_speedup() >= 1.3)
    with pytest.raises(ValueError):
        resolve_precision("fp8")


def test_fastest_call_counts_calls_or_fills_its_budget_and_keeps_the_shortest():
    durations = iter([0.05, 0.01, 0.03])
    calls = []

    def work() -> None:
        calls.append(1)
        time.sleep(next(durations))

    best = fastest_call(work, calls=3)
    assert len(calls) == 3
    assert 0.01 <= best < 0.03  # the shortest of the three sleeps, not the first or the mean
    budget_calls = []
    fastest_call(lambda: budget_calls.append(1), budget=0.02)
    assert len(budget_calls) > 3  # many quick calls fit in 20 ms


def test_bf16_autocast_leaves_the_loss_essentially_unchanged():
    model = make_model(vocab_size=40, d_model=32, n_layers=2, n_heads=4, context_len=16)
    x = torch.randint(0, 40, (4, 16), generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 40, (4, 16), generator=torch.Generator().manual_seed(1))
    with autocast("fp32"):
        fp32 = model(x, y).loss.item()
    with autocast("bf16"):
        bf16 = model(x, y).loss.item()
    assert abs(fp32 - bf16) < 0.02


def test_bf16_gradients_point_the_same_way_as_fp32():
    """One training step's gradient under bf16 autocast agrees with fp32 (cosine similarity ≈ 1)."""
    model = make_model(vocab_size=20, d_model=32, n_layers=1, n_heads=2, context_len=8, seed=3)
    model.train()
    x = torch.randint(0, 20, (8, 8), generator=torch.Generator().manual_seed(0))
    y = (x + 1) % 20
    gradients = {}
    for precision in ("fp32", "bf16"):
        model.zero_grad()
        with autocast(precision):
            loss = model(x, y).loss
        loss.backward()
        gradients[precision] = torch.cat([p.grad.flatten() for p in model.parameters()])
    cosine = torch.nn.functional.cosine_similarity(gradients["fp32"], gradients["bf16"], dim=0)
    assert cosine > 0.99


def test_fused_adamw_matches_the_reference_implementation():
    reference, fused = make_model(seed=1), make_model(seed=1)
    for model in (reference, fused):
        model.train()
    opt_ref = torch.optim.AdamW(reference.parameters(), lr=1e-2, weight_decay=0.1, betas=(0.9, 0.99))
    opt_fused = make_optimizer(fused.parameters(), lr=1e-2, weight_decay=0.1, betas=(0.9, 0.99))
    x = torch.randint(0, 50, (2, 16), generator=torch.Generator().manual_seed(0))
    for model, optimizer in ((reference, opt_ref), (fused, opt_fused)):
        for _ in range(5):
            loss = model(x, x).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    for a, b in zip(reference.parameters(), fused.parameters(), strict=True):
        assert torch.allclose(a, b, atol=3e-4)  # steps of ~1e-2; ordering of float sums differs


def test_faster_precision_times_the_model_without_changing_it():
    model = make_model(dropout=0.1)
    model.train()
    x = torch.randint(0, 50, (4, 16))
    y = torch.randint(0, 50, (4, 16))
    weights = [p.detach().clone() for p in model.parameters()]
    random_state = torch.get_rng_state()
    assert faster_precision(model, x, y, repeats=1) in ("fp32", "bf16")
    assert all(torch.equal(p, w) for p, w in zip(model.parameters(), weights, strict=True))
    assert all(p.grad is None for p in model.parameters())
    assert torch.equal(torch.get_rng_state(), random_state)  # dropout's draws were given back


@pytest.mark.parametrize("asked", ["fp32", "bf16", "auto"])
def test_a_precision_asked_for_is_kept_and_auto_ends_as_one_of_the_two(small_text, asked):
    tokenizer = CharTokenizer.from_text(small_text)
    data = prepare_data(small_text, tokenizer, context_len=16)
    config = TrainConfig(max_steps=2, batch_size=4, precision=asked)
    trainer = Trainer(make_model(tokenizer.vocab_size), tokenizer, data, config)
    trainer.run()
    assert trainer.step == 2
    if asked != "auto":
        assert trainer.precision == asked
    elif resolve_precision("auto") == "fp32":  # no fast bf16 matmuls: fp32 without timing anything
        assert trainer.precision == "fp32"
    else:  # whichever ran the model faster
        assert trainer.precision in ("fp32", "bf16")


def test_the_additive_causal_mask_hides_exactly_the_later_keys():
    mask = additive_causal_mask(5, torch.float32, torch.device("cpu"))
    assert torch.equal(mask == 0, torch.ones(5, 5, dtype=torch.bool).tril())
    assert torch.all(mask[~(mask == 0)] == float("-inf"))


@pytest.mark.parametrize("n_tokens", [1, 7, SHORT_CONTEXT])
def test_batched_causal_attention_is_the_explicit_formula_in_values_and_gradients(n_tokens):
    generator = torch.Generator().manual_seed(n_tokens)
    inputs = [torch.randn(2, 3, n_tokens, 8, generator=generator, requires_grad=True) for _ in range(3)]
    upstream = torch.randn(2, 3, n_tokens, 8, generator=generator)
    batched = batched_causal_attention(*inputs)
    batched_grads = torch.autograd.grad(batched, inputs, upstream)
    explicit, _ = attention_explicit(*inputs)
    explicit_grads = torch.autograd.grad(explicit, inputs, upstream)
    torch.testing.assert_close(batched, explicit, atol=1e-5, rtol=1e-5)
    for ours, reference in zip(batched_grads, explicit_grads, strict=True):
        torch.testing.assert_close(ours, reference, atol=1e-5, rtol=1e-5)
    with autocast("bf16"):  # the trainer's bf16 path runs it too: same numbers to bf16's precision
        in_bf16 = batched_causal_attention(*inputs)
    torch.testing.assert_close(in_bf16.float(), explicit, atol=0.05, rtol=0.05)
