"""The attention-only option (no feed-forward sub-layers, as in Olsson et al. 2022): parameter count,
validation, old configs, the residual stream and checkpoints."""

import pytest
import torch

from tests.helpers import make_model
from tinylm import ModelConfig, TinyLM, TinyLMError, count_parameters
from tinylm.checkpoint import META_FILE, WEIGHTS_FILE, checkpoint_files, parse_checkpoint
from tinylm.tokenizers import CharTokenizer


@pytest.mark.parametrize(
    "settings", [{}, {"norm_position": "post"}, {"tie_weights": False, "pos_encoding": "learned"}]
)
def test_count_parameters_matches_the_model(settings):
    for attention_only in (False, True):
        config = ModelConfig(vocab_size=30, d_model=32, n_layers=3, attention_only=attention_only, **settings)
        assert count_parameters(config) == TinyLM(config).num_parameters()
    full = ModelConfig(vocab_size=30, d_model=32, n_layers=3, **settings)
    lean = ModelConfig(vocab_size=30, d_model=32, n_layers=3, attention_only=True, **settings)
    d, f = 32, 4 * 32
    assert count_parameters(full) - count_parameters(lean) == 3 * (2 * d * f + f + d + 2 * d)


def test_a_config_without_the_key_loads_as_before_and_a_bad_value_is_refused():
    old = ModelConfig(vocab_size=20).to_dict()
    del old["attention_only"]
    assert ModelConfig.from_dict(old).attention_only is False
    with pytest.raises(TinyLMError) as info:
        ModelConfig(vocab_size=20, attention_only="yes")
    assert info.value.code == "bad_config_choice" and info.value.params["name"] == "attention_only"


@pytest.mark.parametrize("norm_position", ["pre", "post"])
def test_blocks_have_no_feed_forward_and_the_residual_names_stay(norm_position):
    model = make_model(attention_only=True, norm_position=norm_position, seed=1)
    assert all(not hasattr(block, "feed_forward") and not hasattr(block, "norm2") for block in model.blocks)
    with torch.no_grad():
        out = model(torch.tensor([[1, 2, 3, 4, 5]]), return_residuals=True)
    names = [name for name, _ in out.residuals]
    assert names == [
        "embedding",
        "layer0.attention",
        "layer0.feed_forward",
        "layer1.attention",
        "layer1.feed_forward",
    ]
    for layer in range(2):  # no feed-forward update: the stream after it is the stream after attention
        assert torch.equal(out.residuals[2 + 2 * layer][1], out.residuals[1 + 2 * layer][1])
    # the stream is x + Attn(LN₁(x)) (pre-norm) or LN₁(x + Attn(x)) (post-norm), nothing else
    x = out.residuals[0][1]
    for block in model.blocks:
        with torch.no_grad():
            if norm_position == "pre":
                x = x + block.attention(block.norm1(x))[0]
            else:
                x = block.norm1(x + block.attention(x)[0])
    torch.testing.assert_close(x, out.residuals[-1][1])


def test_an_attention_only_checkpoint_round_trips():
    tokenizer = CharTokenizer.from_text("abcab")
    model = TinyLM(ModelConfig(vocab_size=tokenizer.vocab_size, d_model=16, n_layers=2, attention_only=True))
    files = checkpoint_files(model, tokenizer)
    loaded = parse_checkpoint(files[WEIGHTS_FILE], files[META_FILE]).model
    assert loaded.config.attention_only
    idx = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        torch.testing.assert_close(loaded(idx).logits, model(idx).logits)
