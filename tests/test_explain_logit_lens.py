"""The logit lens reads the model's own residual streams, and at the last one it is the model's output."""

import numpy as np
import pytest
import torch

from tests.conftest import SMALL_TEXT
from tests.helpers import make_model
from tinylm import CharTokenizer, TinyLMError
from tinylm.explain.logit_lens import explain_logit_lens, logit_lens


def random_ids(length: int, vocab: int = 50, seed: int = 0) -> list[int]:
    return torch.randint(0, vocab, (length,), generator=torch.Generator().manual_seed(seed)).tolist()


@pytest.mark.parametrize(
    "settings",
    [{}, {"norm_position": "post"}, {"attention_only": True}, {"tie_weights": False, "pos_encoding": "rope"}],
)
def test_the_last_stage_is_the_models_prediction(settings):
    model = make_model(seed=3, **settings)
    ids = random_ids(12)
    lens = logit_lens(model, ids, k=4)
    with torch.no_grad():
        probs = torch.softmax(model(torch.tensor([ids])).logits[0], dim=-1)
    best = probs.topk(4, dim=-1)
    assert lens.max_final_difference < 1e-5
    np.testing.assert_array_equal(lens.top_ids[-1], best.indices.numpy())
    np.testing.assert_allclose(lens.top_probs[-1], best.values.numpy(), atol=1e-6)
    targets = torch.tensor(ids[1:])
    expected = probs[:-1].gather(1, targets[:, None])[:, 0]
    np.testing.assert_allclose(lens.target_probs[-1, :-1], expected, atol=1e-6)
    assert np.isnan(lens.target_probs[:, -1]).all() and (lens.target_ranks[:, -1] == -1).all()


def test_every_stage_is_the_final_norm_and_unembedding_of_that_residual_stream():
    model = make_model(seed=5, n_layers=3)
    ids = random_ids(10, seed=2)
    lens = logit_lens(model, ids, k=3)
    with torch.no_grad():
        residuals = model(torch.tensor([ids]), return_residuals=True).residuals
    assert lens.names == [name for name, _ in residuals] and len(lens.names) == 1 + 2 * 3
    for stage, (_, x) in enumerate(residuals):
        with torch.no_grad():
            probs = torch.softmax(model.lm_head(model.final_norm(x))[0], dim=-1)
        np.testing.assert_allclose(lens.top_probs[stage], probs.topk(3, dim=-1).values.numpy(), atol=1e-6)
        # the rank counts the tokens more probable than the true next one
        for t in range(len(ids) - 1):
            assert lens.target_ranks[stage, t] == int((probs[t] > probs[t, ids[t + 1]]).sum())


def test_an_attention_only_model_shows_only_its_attention_stages():
    model = make_model(seed=1, n_layers=2, attention_only=True)
    lens = logit_lens(model, random_ids(6), k=2)
    assert lens.names == ["embedding", "layer0.attention", "layer1.attention"]
    assert lens.top_ids.shape == (3, 6, 2)


def test_explain_logit_lens_tokenizes_text_and_names_the_top_tokens():
    tokenizer = CharTokenizer.from_text(SMALL_TEXT)
    model = make_model(vocab_size=tokenizer.vocab_size, seed=0)
    tokens, lens, pieces = explain_logit_lens(model, tokenizer, "Lily had a red ball", k=3)
    assert tokens.pieces == list("Lily had a red b")  # the first context_len (16) tokens
    assert len(pieces) == len(lens.names) and len(pieces[0]) == 16 and len(pieces[0][0]) == 3
    assert pieces[-1][0] == tokenizer.token_strings(lens.top_ids[-1, 0].tolist())
    with pytest.raises(TinyLMError):
        explain_logit_lens(model, tokenizer, "")
    with pytest.raises(ValueError):
        logit_lens(model, [])
