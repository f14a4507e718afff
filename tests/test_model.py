import math

import pytest
import torch

from tests.helpers import make_model
from tinylm import ModelConfig, TinyLM, TinyLMError, count_parameters
from tinylm.fast import SHORT_CONTEXT
from tinylm.model import (
    KVCache,
    LayerNorm,
    RMSNorm,
    attention_explicit,
    causal_mask,
    fused_attention,
    layer_norm_reference,
    rms_norm_reference,
)

POSITIONS = ["sinusoidal", "learned", "rope", "none"]


def random_ids(batch=2, length=12, vocab=50, seed=0):
    return torch.randint(0, vocab, (batch, length), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("pos", POSITIONS)
def test_shapes_and_attention_rows_sum_to_one(pos):
    model = make_model(pos_encoding=pos)
    out = model(random_ids(), return_attention=True)
    assert out.logits.shape == (2, 12, 50)
    assert out.loss is None
    assert len(out.attentions) == 2
    for weights in out.attentions:
        assert weights.shape == (2, 4, 12, 12)
        assert torch.allclose(weights.sum(-1), torch.ones(2, 4, 12), atol=1e-6)
        assert (weights >= 0).all()


def test_attention_is_causal_zero_above_diagonal():
    weights = make_model()(random_ids(), return_attention=True).attentions[0]
    upper = torch.triu(torch.ones(12, 12, dtype=torch.bool), diagonal=1)
    assert (weights[..., upper] == 0).all()


@pytest.mark.parametrize("pos", POSITIONS)
@pytest.mark.parametrize("norm", ["pre", "post"])
def test_changing_future_tokens_never_changes_earlier_logits(pos, norm):
    model = make_model(pos_encoding=pos, norm_position=norm)
    ids = random_ids(batch=1, length=16)
    changed = ids.clone()
    changed[0, 9:] = (changed[0, 9:] + 7) % 50
    a, b = model(ids).logits, model(changed).logits
    assert torch.allclose(a[0, :9], b[0, :9], atol=1e-6)
    assert not torch.allclose(a[0, 9:], b[0, 9:], atol=1e-3)


@pytest.mark.parametrize("pos", POSITIONS)
def test_explicit_attention_path_equals_fast_path(pos):
    model = make_model(pos_encoding=pos)
    ids = random_ids()
    fast = model(ids)
    explicit = model(ids, return_attention=True)
    assert torch.allclose(fast.logits, explicit.logits, atol=1e-5)


def test_explicit_equals_sdpa_for_one_layer_with_a_cached_past():
    torch.manual_seed(0)
    q = torch.randn(2, 3, 4, 8)
    k, v = torch.randn(2, 3, 10, 8), torch.randn(2, 3, 10, 8)
    out, weights = attention_explicit(q, k, v)
    mask = causal_mask(4, 10)
    reference = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert torch.allclose(out, reference, atol=1e-5)
    assert (weights[..., ~mask] == 0).all()


def test_attention_weights_are_softmax_of_scaled_dot_products():
    model = make_model()
    ids = random_ids(batch=1, length=6)
    out = model(ids, return_attention=True)
    block = model.blocks[0]
    x = block.norm1(model.embed(ids))
    q, k, _ = block.attention.qkv(x).split(32, dim=2)
    q, k = block.attention.split_heads(q), block.attention.split_heads(k)
    scores = q @ k.transpose(-2, -1) / math.sqrt(8)
    scores = scores.masked_fill(~torch.ones(6, 6, dtype=torch.bool).tril(), float("-inf"))
    assert torch.allclose(out.attentions[0], torch.softmax(scores, -1), atol=1e-6)


def test_multi_head_equals_a_loop_over_heads():
    model = make_model()
    attention = model.blocks[0].attention
    x = torch.randn(2, 7, 32)
    combined, _ = attention(x)
    w_qkv, b_qkv = attention.qkv.weight, attention.qkv.bias
    w_q, w_k, w_v = w_qkv.split(32)
    b_q, b_k, b_v = b_qkv.split(32)
    heads = []
    for h in range(4):
        rows = slice(8 * h, 8 * (h + 1))
        q = x @ w_q[rows].T + b_q[rows]
        k = x @ w_k[rows].T + b_k[rows]
        v = x @ w_v[rows].T + b_v[rows]
        scores = q @ k.transpose(-2, -1) / math.sqrt(8)
        scores = scores.masked_fill(~torch.ones(7, 7, dtype=torch.bool).tril(), float("-inf"))
        heads.append(torch.softmax(scores, -1) @ v)
    looped = attention.out_proj(torch.cat(heads, dim=-1))
    assert torch.allclose(combined, looped, atol=1e-5)


def test_layer_norm_matches_the_formula():
    x = torch.randn(3, 5, 16) * 4 + 2
    norm = LayerNorm(16)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.uniform_(-1, 1)
    assert torch.allclose(norm(x), layer_norm_reference(x, norm.weight, norm.bias), atol=1e-5)
    plain = layer_norm_reference(x, torch.ones(16), torch.zeros(16))
    assert torch.allclose(plain.mean(-1), torch.zeros(3, 5), atol=1e-5)
    assert torch.allclose(plain.var(-1, unbiased=False), torch.ones(3, 5), atol=1e-3)


def test_loss_is_mean_cross_entropy_in_nats():
    model = make_model()
    ids = random_ids()
    targets = random_ids(seed=1)
    out = model(ids, targets)
    log_probs = torch.log_softmax(out.logits, -1)
    manual = -log_probs.gather(-1, targets.unsqueeze(-1)).mean()
    assert math.isclose(out.loss.item(), manual.item(), rel_tol=1e-5)
    assert abs(out.loss.item() - math.log(50)) < 0.3  # untrained: close to uniform


@pytest.mark.parametrize("pos", POSITIONS)
@pytest.mark.parametrize("tie", [True, False])
@pytest.mark.parametrize("qk_norm", [False, True])
def test_parameter_count_formula_matches_the_model(pos, tie, qk_norm):
    config = ModelConfig(
        vocab_size=37,
        context_len=16,
        d_model=32,
        n_layers=3,
        n_heads=4,
        pos_encoding=pos,
        tie_weights=tie,
        qk_norm=qk_norm,
    )
    assert count_parameters(config) == TinyLM(config).num_parameters()
    post = ModelConfig(vocab_size=37, context_len=16, d_model=32, n_layers=3, n_heads=4, norm_position="post")
    assert count_parameters(post) == TinyLM(post).num_parameters()


def test_gpt2_init_scales_residual_projections():
    model = make_model(n_layers=4, d_model=128, n_heads=4)
    assert abs(model.blocks[0].feed_forward.fc1.weight.std().item() - 0.02) < 0.002
    expected = 0.02 / math.sqrt(8)
    assert abs(model.blocks[0].attention.out_proj.weight.std().item() - expected) < 0.001
    assert model.lm_head.weight is model.token_embedding.weight


def test_same_seed_same_weights_different_seed_different():
    a, b, c = make_model(seed=3), make_model(seed=3), make_model(seed=4)
    assert torch.equal(a.blocks[0].attention.qkv.weight, b.blocks[0].attention.qkv.weight)
    assert not torch.equal(a.blocks[0].attention.qkv.weight, c.blocks[0].attention.qkv.weight)


def test_residual_stream_is_returned_after_every_sublayer():
    model = make_model()
    out = model(random_ids(), return_residuals=True)
    names = [name for name, _ in out.residuals]
    assert names == [
        "embedding",
        "layer0.attention",
        "layer0.feed_forward",
        "layer1.attention",
        "layer1.feed_forward",
    ]
    final = model.lm_head(model.final_norm(out.residuals[-1][1]))
    assert torch.allclose(final, out.logits, atol=1e-5)


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_pre_and_post_norm_record_the_same_residual_names_and_the_block_formula(norm):
    model = make_model(norm_position=norm)
    out = model(random_ids(), return_residuals=True)
    names = [name for name, _ in out.residuals]
    assert names == ["embedding"] + [
        f"layer{l}.{part}" for l in range(2) for part in ("attention", "feed_forward")
    ]
    block, x = model.blocks[1], out.residuals[2][1]
    update, _ = block.attention(block.norm1(x) if norm == "pre" else x)
    after = x + update if norm == "pre" else block.norm1(x + update)
    assert torch.allclose(out.residuals[3][1], after, atol=1e-6)
    ffn = block.feed_forward
    expected = after + ffn(block.norm2(after)) if norm == "pre" else block.norm2(after + ffn(after))
    assert torch.allclose(out.residuals[4][1], expected, atol=1e-6)


# (6, 6): the batched matmuls of short contexts; one token longer: torch's fused kernel (tinylm/fast.py)
@pytest.mark.parametrize(
    ("n_queries", "n_keys"), [(6, 6), (SHORT_CONTEXT + 1, SHORT_CONTEXT + 1), (1, 9), (4, 9)]
)
def test_fused_attention_equals_the_explicit_formula_for_every_cache_shape(n_queries, n_keys):
    generator = torch.Generator().manual_seed(n_queries * 10 + n_keys)
    q = torch.randn(2, 3, n_queries, 8, generator=generator)
    k, v = (
        torch.randn(2, 3, n_keys, 8, generator=generator),
        torch.randn(2, 3, n_keys, 8, generator=generator),
    )
    explicit, _ = attention_explicit(q, k, v)
    assert torch.allclose(fused_attention(q, k, v), explicit, atol=1e-5)


@pytest.mark.parametrize("pos", POSITIONS)
@pytest.mark.parametrize("norm", ["pre", "post"])
def test_a_kv_cache_filled_in_chunks_gives_the_full_pass_logits(pos, norm):
    model = make_model(pos_encoding=pos, norm_position=norm)
    ids = random_ids(batch=2, length=14)
    full = model(ids).logits
    cache = KVCache(n_layers=2, max_len=16)
    chunks = [(0, 5), (5, 6), (6, 7), (7, 11), (11, 14)]  # a prompt, single tokens, a chunk after a past
    pieces = [model(ids[:, a:b], cache=cache, start_pos=a).logits for a, b in chunks]
    assert torch.allclose(torch.cat(pieces, dim=1), full, atol=1e-5)
    assert cache.lengths == [14, 14]


def test_too_long_input_is_refused_with_a_clear_message():
    model = make_model()
    with pytest.raises(ValueError, match="context"):
        model(random_ids(length=17))


@pytest.mark.parametrize(
    ("settings", "code"),
    [
        ({"d_model": 30, "n_heads": 4}, "bad_config_heads"),
        ({"n_layers": 0}, "bad_config_range"),
        ({"d_model": 100000}, "bad_config_range"),
        ({"pos_encoding": "spiral"}, "bad_config_choice"),
        ({"dropout": 1.5}, "bad_config_dropout"),
        ({"d_model": 12, "n_heads": 4, "pos_encoding": "rope"}, "bad_config_even"),
        ({"d_model": 512, "n_layers": 12, "d_ff": 2048}, "too_many_parameters"),
    ],
)
def test_bad_configs_are_refused_with_a_code(settings, code):
    with pytest.raises(TinyLMError) as info:
        ModelConfig(vocab_size=50, **settings)
    assert info.value.code == code


def test_config_from_dict_rejects_unknown_keys_and_wrong_types():
    with pytest.raises(TinyLMError, match="unknown config keys"):
        ModelConfig.from_dict({"vocab_size": 5, "evil": 1})
    with pytest.raises(TinyLMError):
        ModelConfig.from_dict({"vocab_size": "five"})
    assert ModelConfig.from_dict(ModelConfig(vocab_size=9).to_dict()) == ModelConfig(vocab_size=9)


# -- options for learning faster (issue 17) ------------------------------------------------------


def test_qk_norm_gives_query_and_key_rows_of_unit_rms_before_the_dot_product():
    model = make_model(qk_norm=True)
    attention = model.blocks[0].attention
    with torch.no_grad():
        attention.q_norm.weight.uniform_(0.5, 2.0)
        attention.k_norm.weight.uniform_(0.5, 2.0)
    ids = random_ids(batch=1, length=6)
    out = model(ids, return_attention=True)
    x = model.blocks[0].norm1(model.embed(ids))
    q, k, _ = attention.qkv(x).split(32, dim=2)
    q, k = attention.split_heads(q), attention.split_heads(k)
    q_n, k_n = attention.q_norm(q), attention.k_norm(k)
    for rows, gain in ((q_n, attention.q_norm.weight), (k_n, attention.k_norm.weight)):
        unit = rows / gain / math.sqrt(8)  # without the gain, every row is a unit vector times sqrt(d_k)
        assert torch.allclose(unit.norm(dim=-1), torch.ones(1, 4, 6), atol=1e-3)
    future = ~torch.ones(6, 6, dtype=torch.bool).tril()
    scores = (q_n @ k_n.transpose(-2, -1) / math.sqrt(8)).masked_fill(future, -math.inf)
    assert torch.allclose(out.attentions[0], torch.softmax(scores, -1), atol=1e-5)
    assert not torch.allclose(out.logits, make_model()(ids).logits, atol=1e-3)  # it changes the model
    assert torch.allclose(model(ids).logits, out.logits, atol=1e-5)  # the fused path agrees


def test_rms_norm_matches_the_formula():
    x = torch.randn(3, 4, 8) * 3
    norm = RMSNorm(8)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
    assert torch.allclose(norm(x), rms_norm_reference(x, norm.weight), atol=1e-5)
    plain = rms_norm_reference(x, torch.ones(8))
    assert torch.allclose(plain.norm(dim=-1), torch.full((3, 4), math.sqrt(8)), atol=1e-4)


def test_relu_squared_feed_forward_is_the_formula():
    model = make_model(activation="relu2")
    ffn = model.blocks[0].feed_forward
    x = torch.randn(2, 5, 32)
    expected = torch.clamp(x @ ffn.fc1.weight.T + ffn.fc1.bias, min=0) ** 2 @ ffn.fc2.weight.T + ffn.fc2.bias
    assert torch.allclose(ffn(x), expected, atol=1e-5)
    assert not torch.allclose(ffn(x), make_model(activation="relu").blocks[0].feed_forward(x), atol=1e-3)


def test_logit_softcap_bounds_the_logits_by_tanh():
    plain, capped = make_model(seed=2), make_model(seed=2, logit_softcap=0.05)
    ids = random_ids()
    raw = plain(ids).logits
    assert raw.abs().max() > 0.05  # the cap really bites at this size
    out = capped(ids, ids)
    assert torch.allclose(out.logits, 0.05 * torch.tanh(raw / 0.05), atol=1e-6)
    assert out.logits.abs().max() <= 0.05
    log_probs = torch.log_softmax(out.logits, -1)
    assert math.isclose(out.loss.item(), -log_probs.gather(-1, ids.unsqueeze(-1)).mean().item(), rel_tol=1e-5)


def test_zero_init_out_starts_every_block_as_the_identity_and_changes_nothing_else():
    zero, normal = make_model(zero_init_out=True, seed=5), make_model(seed=5)
    for block in zero.blocks:
        assert (block.attention.out_proj.weight == 0).all() and (block.feed_forward.fc2.weight == 0).all()
    out = zero(random_ids(), return_residuals=True)
    for _, stream in out.residuals[1:]:
        assert torch.equal(stream, out.residuals[0][1])  # no block changes the stream yet
    for (name, a), (_, b) in zip(zero.named_parameters(), normal.named_parameters(), strict=True):
        if not name.endswith(("out_proj.weight", "fc2.weight")):
            assert torch.equal(a, b), name


@pytest.mark.parametrize("options", [{"qk_norm": True}, {"activation": "relu2", "logit_softcap": 30.0}])
def test_a_kv_cache_gives_the_full_pass_logits_with_the_new_options(options):
    model = make_model(pos_encoding="rope", **options)
    ids = random_ids(batch=1, length=10)
    cache = KVCache(n_layers=2, max_len=16)
    pieces = [model(ids[:, :4], cache=cache).logits]
    pieces += [model(ids[:, t : t + 1], cache=cache, start_pos=t).logits for t in range(4, 10)]
    assert torch.allclose(torch.cat(pieces, dim=1), model(ids).logits, atol=1e-5)
