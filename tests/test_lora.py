"""LoRA: W' = W + (α/r)·B·A on chosen projections; the adapter on disk and its base fingerprint."""

from __future__ import annotations

import copy
import json

import pytest
import torch

from tests.conftest import SMALL_TEXT
from tests.helpers import make_model
from tinylm import CharTokenizer, TinyLMError
from tinylm.adapter import (
    ADAPTER_META,
    ADAPTER_WEIGHTS,
    attach_adapter,
    model_fingerprint,
    read_adapter,
    read_model,
    save_adapter,
)
from tinylm.checkpoint import save_checkpoint
from tinylm.data import prepare_data
from tinylm.lora import (
    LoraSettings,
    adapter_tensors,
    apply_lora,
    delta_singular_values,
    lora_delta,
    lora_layers,
    merge_lora,
    merged_model,
    parse_targets,
    projection_weight,
    unmerge_lora,
)
from tinylm.train import TrainConfig, Trainer

ALL = ("q", "k", "v", "o", "ffn")


def idx(vocab: int = 50, length: int = 12, seed: int = 0) -> torch.Tensor:
    return torch.randint(vocab, (3, length), generator=torch.Generator().manual_seed(seed))


def randomize_b(model, seed: int = 1) -> None:
    """Give every B a non-zero value (B starts at zero, which makes the update vanish)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, layer in lora_layers(model):
            for parameter in layer.B.values():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)


@pytest.mark.parametrize(
    "overrides", [{}, {"pos_encoding": "rope", "tie_weights": False}, {"norm_position": "post"}]
)
@pytest.mark.parametrize("targets", [ALL, ("q",), ("k", "v"), ("o",), ("ffn",)])
def test_lora_with_b_zero_leaves_every_output_unchanged(overrides, targets):
    base = make_model(**overrides)
    adapted = copy.deepcopy(base)
    apply_lora(adapted, LoraSettings(rank=4, alpha=8.0, targets=targets))
    adapted.eval()
    x = idx()
    assert torch.equal(adapted(x).logits, base(x).logits)
    assert any(True for _ in lora_layers(adapted))


def test_lora_forward_is_the_base_with_w_plus_scaled_b_a():
    model = make_model()
    apply_lora(model, LoraSettings(rank=3, alpha=6.0, targets=ALL))
    randomize_b(model)
    layer = model.blocks[0].attention.qkv
    x = torch.randn(2, 5, 32)
    d = model.config.d_model
    expected_w = layer.base.weight.detach().clone()
    for name, start in (("q", 0), ("k", d), ("v", 2 * d)):
        expected_w[start : start + d] += (6.0 / 3) * layer.B[name] @ layer.A[name]
    expected = x @ expected_w.T + layer.base.bias
    assert torch.allclose(layer(x), expected, atol=1e-6)
    delta = layer.delta_weight("k")
    assert delta.shape == (d, d) and torch.linalg.matrix_rank(delta) <= 3


@pytest.mark.parametrize("targets", [ALL, ("q", "v"), ("k",), ("o", "ffn")])
def test_merged_and_unmerged_outputs_agree_and_unmerge_restores_the_base(targets):
    model = make_model()
    base_state = {k: v.clone() for k, v in model.state_dict().items()}
    apply_lora(model, LoraSettings(rank=4, alpha=16.0, targets=targets))
    randomize_b(model)
    model.eval()
    x = idx()
    unmerged = model(x).logits
    merge_lora(model)
    assert all(layer.merged for _, layer in lora_layers(model))
    assert torch.allclose(model(x).logits, unmerged, atol=1e-5)
    plain = merged_model(model)  # a TinyLM without LoRA layers, W + ΔW
    assert not any(True for _ in lora_layers(plain))
    assert torch.allclose(plain(x).logits, unmerged, atol=1e-5)
    unmerge_lora(model)
    assert torch.allclose(model(x).logits, unmerged, atol=1e-6)
    for path, layer in lora_layers(model):
        assert torch.allclose(layer.base.weight, base_state[path + ".weight"], atol=1e-6)


def test_merged_model_leaves_the_adapted_model_as_it_was():
    model = make_model()
    apply_lora(model, LoraSettings(rank=2, alpha=2.0, targets=ALL))
    randomize_b(model)
    merged_model(model)
    assert not any(layer.merged for _, layer in lora_layers(model))


def test_lora_trains_only_the_adapter_and_leaves_the_base_weights_bit_identical():
    tokenizer = CharTokenizer.from_text(SMALL_TEXT)
    model = make_model(vocab_size=tokenizer.vocab_size)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    trainable = apply_lora(model, LoraSettings(rank=4, alpha=8.0, targets=ALL))
    adapter_ids = {id(p) for _, layer in lora_layers(model) for p in (*layer.A.values(), *layer.B.values())}
    assert {id(p) for p in trainable} == adapter_ids
    x = idx(tokenizer.vocab_size)
    model.train()
    model(x, x).loss.backward()
    for name, parameter in model.named_parameters():
        assert (parameter.grad is not None) == (id(parameter) in adapter_ids), name
    model.zero_grad(set_to_none=True)
    data = prepare_data(SMALL_TEXT, tokenizer, model.config.context_len)
    config = TrainConfig(max_steps=15, batch_size=4, learning_rate=1e-2, eval_interval=100, warmup_steps=2)
    Trainer(model, tokenizer, data, config).run()
    after = merged_model(model)  # sanity: the adapter did move
    assert not torch.allclose(after.blocks[0].attention.qkv.weight, before["blocks.0.attention.qkv.weight"])
    for path, layer in lora_layers(model):
        assert torch.equal(layer.base.weight, before[path + ".weight"]), path
        assert torch.equal(layer.base.bias, before[path + ".bias"]), path
    for name in ("token_embedding.weight", "blocks.1.norm1.weight", "final_norm.bias"):
        assert torch.equal(model.get_parameter(name), before[name])


@pytest.mark.parametrize(
    ("settings", "code"),
    [
        (LoraSettings(rank=0), "bad_lora_rank"),
        (LoraSettings(rank=65), "bad_lora_rank"),
        (LoraSettings(rank=2.5), "bad_lora_rank"),
        (LoraSettings(alpha=0.0), "bad_lora_alpha"),
        (LoraSettings(alpha=5000.0), "bad_lora_alpha"),
        (LoraSettings(targets=()), "bad_lora_targets"),
        (LoraSettings(targets=("q", "x")), "bad_lora_targets"),
        (LoraSettings(targets=("q", "q")), "bad_lora_targets"),
    ],
)
def test_bad_lora_settings_are_refused_with_their_code(settings, code):
    with pytest.raises(TinyLMError) as caught:
        apply_lora(make_model(), settings)
    assert caught.value.code == code


def test_parse_targets_keeps_the_canonical_order_and_passes_unknown_names_on():
    assert parse_targets(" v, q ") == ("q", "v")
    assert parse_targets("ffn,o,k") == ("k", "o", "ffn")
    assert parse_targets("q,attn") == ("q", "attn")  # refused later by LoraSettings.validate


def test_adapter_parameter_count_is_r_times_d_in_plus_d_out_per_adapted_part():
    model = make_model()  # D = 32, d_ff = 128, 2 layers
    trainable = apply_lora(model, LoraSettings(rank=4, targets=ALL))
    d, f, r = 32, 128, 4
    per_block = 3 * r * (d + d) + r * (d + d) + r * (d + f) + r * (f + d)
    assert sum(p.numel() for p in trainable) == 2 * per_block


# -- the adapter on disk ---------------------------------------------------------------------------


def test_adapter_round_trip_gives_the_same_outputs(tmp_path):
    base = make_model()
    fingerprint = model_fingerprint(base)
    adapted = copy.deepcopy(base)
    settings = LoraSettings(rank=4, alpha=8.0, targets=("q", "v", "ffn"))
    apply_lora(adapted, settings)
    randomize_b(adapted)
    adapted.eval()
    directory = save_adapter(
        tmp_path / "ad", adapted, settings, {"fingerprint": fingerprint, "name": "b"}, "qa-en"
    )
    assert sorted(p.name for p in directory.iterdir()) == [ADAPTER_META, ADAPTER_WEIGHTS]
    document = json.loads((directory / ADAPTER_META).read_text(encoding="utf-8"))
    assert document["rank"] == 4 and document["targets"] == ["q", "v", "ffn"] and document["task"] == "qa-en"
    assert document["base"]["fingerprint"] == fingerprint
    n_adapter = sum(t.numel() for t in adapter_tensors(adapted).values())
    assert (directory / ADAPTER_WEIGHTS).stat().st_size < 4 * n_adapter + 4096  # the adapter alone
    adapter = read_adapter(directory)
    assert adapter.settings == settings and adapter.task == "qa-en"
    fresh = attach_adapter(copy.deepcopy(base), adapter)
    x = idx()
    assert torch.equal(fresh(x).logits, adapted(x).logits)


def test_an_adapter_is_refused_on_a_different_base(tmp_path):
    base = make_model(seed=0)
    adapted = copy.deepcopy(base)
    settings = LoraSettings(rank=2)
    apply_lora(adapted, settings)
    directory = save_adapter(tmp_path / "ad", adapted, settings, {"fingerprint": model_fingerprint(base)})
    other = make_model(seed=1)  # same shape, other weights
    with pytest.raises(TinyLMError) as caught:
        attach_adapter(other, read_adapter(directory))
    assert caught.value.code == "adapter_mismatch"
    assert "different base model" in caught.value.message
    assert not any(True for _ in lora_layers(other))  # refused before anything changed


def test_the_fingerprint_changes_with_any_weight_and_ignores_nothing_else():
    model = make_model()
    fingerprint = model_fingerprint(model)
    assert fingerprint == model_fingerprint(copy.deepcopy(model))
    assert len(fingerprint) == 64
    with torch.no_grad():
        model.blocks[1].feed_forward.fc2.bias[3] += 1e-6
    assert model_fingerprint(model) != fingerprint
    apply_lora(model, LoraSettings(rank=2))
    with pytest.raises(ValueError):
        model_fingerprint(model)  # the base's fingerprint is taken before LoRA layers are added


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        (lambda d: d.update(format="other"), "does not describe"),
        (lambda d: d.update(version=9), "version"),
        (lambda d: d.pop("base"), "fingerprint"),
        (lambda d: d.update(targets="q"), "targets"),
    ],
)
def test_a_damaged_adapter_json_is_refused(tmp_path, change, detail):
    base = make_model()
    adapted = copy.deepcopy(base)
    apply_lora(adapted, LoraSettings(rank=2))
    directory = save_adapter(tmp_path / "ad", adapted, LoraSettings(rank=2), {"fingerprint": "0" * 64})
    document = json.loads((directory / ADAPTER_META).read_text(encoding="utf-8"))
    change(document)
    (directory / ADAPTER_META).write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(TinyLMError) as caught:
        read_adapter(directory)
    assert caught.value.code == "bad_adapter" and detail in caught.value.message


def test_an_adapter_with_a_bad_rank_in_its_json_is_refused(tmp_path):
    adapted = make_model()
    apply_lora(adapted, LoraSettings(rank=2))
    directory = save_adapter(tmp_path / "ad", adapted, LoraSettings(rank=2), {"fingerprint": "0" * 64})
    document = json.loads((directory / ADAPTER_META).read_text(encoding="utf-8"))
    document["rank"] = 1000
    (directory / ADAPTER_META).write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(TinyLMError) as caught:
        read_adapter(directory)
    assert caught.value.code == "bad_lora_rank"


def test_read_model_puts_an_adapter_on_its_recorded_base(tmp_path):
    tokenizer = CharTokenizer.from_text(SMALL_TEXT)
    base = make_model(vocab_size=tokenizer.vocab_size)
    base_dir = save_checkpoint(tmp_path / "base", base, tokenizer, meta={"name": "base"})
    adapted = copy.deepcopy(base)
    settings = LoraSettings(rank=2, targets=("q", "o"))
    apply_lora(adapted, settings)
    randomize_b(adapted)
    adapted.eval()
    info = {"fingerprint": model_fingerprint(base), "path": str(base_dir)}
    directory = save_adapter(tmp_path / "ad", adapted, settings, info)
    loaded = read_model(directory)
    x = idx(tokenizer.vocab_size)
    assert torch.allclose(loaded.model(x).logits, adapted(x).logits, atol=1e-5)
    assert loaded.meta["adapter"]["rank"] == 2
    assert read_model(base_dir).meta["name"] == "base"  # a plain checkpoint reads as before
    info["path"] = str(tmp_path / "gone")
    save_adapter(directory, adapted, settings, info)
    with pytest.raises(TinyLMError) as caught:
        read_model(directory)
    assert caught.value.code == "adapter_base_missing"
    assert torch.allclose(read_model(directory, base=base_dir).model(x).logits, adapted(x).logits, atol=1e-5)


# -- why LoRA works: the singular values of an update ----------------------------------------------


def test_delta_singular_values_of_a_rank_r_update_have_r_non_zero_values():
    generator = torch.Generator().manual_seed(0)
    w = torch.randn(20, 12, generator=generator)
    update = torch.randn(20, 3, generator=generator) @ torch.randn(3, 12, generator=generator)
    values = delta_singular_values(w, w + update)
    assert values.shape == (12,)
    assert (values[:3] > 1.0).all() and (values[3:] < 1e-5 * values[0]).all()  # float32 rounding only
    assert list(values) == sorted(values, reverse=True)
    assert values.sum() == pytest.approx(float(torch.linalg.svdvals(update.double()).sum()), rel=1e-5)


def test_lora_delta_is_the_scaled_product_of_rank_at_most_r():
    model = make_model()
    apply_lora(model, LoraSettings(rank=2, alpha=3.0, targets=("v", "ffn")))
    randomize_b(model)
    layer = model.blocks[1].attention.qkv
    assert torch.allclose(lora_delta(model, 1, "v"), 1.5 * layer.B["v"] @ layer.A["v"])
    values = delta_singular_values(torch.zeros(128, 32), lora_delta(model, 0, "fc1"))
    assert (values[:2] > 0).all() and (values[2:] < 1e-6).all()
    with pytest.raises(ValueError):
        lora_delta(model, 0, "q")  # not a target


def test_projection_weight_slices_the_fused_attention_matrix():
    model = make_model()
    d = model.config.d_model
    qkv = model.blocks[1].attention.qkv.weight
    assert torch.equal(projection_weight(model, 1, "k"), qkv[d : 2 * d])
    assert projection_weight(model, 0, "fc1").shape == (model.config.d_ff, d)
    assert torch.equal(projection_weight(model, 0, "o"), model.blocks[0].attention.out_proj.weight)
