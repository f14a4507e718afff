"""tinylm.explain.positions: the sinusoidal table, its dot products, and what models really use."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tinylm import ModelConfig, TinyLM
from tinylm.explain import positions


def test_sinusoidal_table_is_the_papers_formula():
    table = positions.sinusoidal_table(30, 12, base=100.0)
    assert table.shape == (30, 12)
    for p in (0, 1, 7, 29):
        for i in range(6):
            angle = p / 100.0 ** (2 * i / 12)
            assert table[p, 2 * i] == pytest.approx(math.sin(angle), abs=1e-6)
            assert table[p, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-6)
    with pytest.raises(ValueError):
        positions.sinusoidal_table(positions.MAX_POSITIONS + 1, 12)


def test_dot_similarity_is_symmetric_with_d_over_2_on_the_diagonal():
    table = positions.sinusoidal_table(40, 16)
    similarity = positions.dot_similarity(table)
    np.testing.assert_allclose(similarity, similarity.T, atol=1e-12)
    np.testing.assert_allclose(np.diag(similarity), 8.0, atol=1e-5)
    assert similarity[0, 1] < 8.0


@pytest.mark.parametrize("start", [0, 5, 31])
def test_offset_similarity_depends_only_on_the_distance(start):
    found = positions.offset_similarity(32, 10000.0, start, max_offset=20)
    np.testing.assert_allclose(found.dots, found.closed_form, atol=1e-5)
    reference = positions.offset_similarity(32, 10000.0, 0, max_offset=20)
    np.testing.assert_allclose(found.dots, reference.dots, atol=1e-5)
    assert found.dots[0] == pytest.approx(16.0, abs=1e-5)
    omega = positions.frequencies(32, 10000.0)
    assert found.closed_form[3] == pytest.approx(sum(math.cos(3 * w) for w in omega))


def test_cosine_similarity_matrix_has_ones_on_the_diagonal():
    rng = np.random.default_rng(1)
    table = rng.normal(size=(10, 6)) * np.arange(1, 11)[:, None]
    cosines = positions.cosine_similarity_matrix(table)
    np.testing.assert_allclose(np.diag(cosines), 1.0, atol=1e-12)
    assert np.abs(cosines).max() <= 1.0
    np.testing.assert_allclose(
        cosines[2, 5], table[2] @ table[5] / np.linalg.norm(table[2]) / np.linalg.norm(table[5])
    )


def small_model(pos_encoding: str, seed: int = 0) -> TinyLM:
    config = ModelConfig(
        vocab_size=12, context_len=16, d_model=16, n_layers=1, n_heads=2, pos_encoding=pos_encoding
    )
    model = TinyLM(config, seed=seed)
    with torch.no_grad():  # larger weights than the init, so the attention is far from uniform
        generator = torch.Generator().manual_seed(seed + 1)
        for parameter in model.parameters():
            parameter.normal_(0, 0.5, generator=generator)
    return model.eval()


@pytest.mark.parametrize("pos_encoding", ["sinusoidal", "learned"])
def test_model_position_table_is_what_the_model_adds(pos_encoding):
    model = small_model(pos_encoding)
    table = positions.model_position_table(model)
    ids = torch.tensor([[4, 4, 4, 4, 4]])
    with torch.no_grad():
        added = model.embed(ids)[0] - model.token_embedding.weight[4] * model.embedding_scale
    np.testing.assert_allclose(table[:5], added.double().numpy(), atol=1e-5)
    if pos_encoding == "sinusoidal":
        np.testing.assert_allclose(table, positions.sinusoidal_table(16, 16), atol=0)


@pytest.mark.parametrize("pos_encoding", ["rope", "none"])
def test_rope_and_none_add_no_table(pos_encoding):
    assert positions.model_position_table(small_model(pos_encoding)) is None


@pytest.mark.parametrize("head", [0, 1])
def test_rope_scores_are_the_models_own_attention_scores(head):
    """One token repeated: its query and key are the same at every position before RoPE, so the
    model's attention weights must be softmax over the masked rope_scores matrix."""
    model = small_model("rope", seed=2)
    n = 10
    q, k = positions.layer0_query_key(model, token_id=7, head=head)
    scores = positions.rope_scores(q, k, n, base=model.config.rope_base)
    with torch.no_grad():
        weights = model(torch.full((1, n), 7), return_attention=True).attentions[0][0, head].double().numpy()
    masked = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    expected = np.exp(masked - masked.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(weights, expected, atol=1e-5)
    assert weights[-1].max() > 1.5 / n  # far from uniform: the comparison means something


def test_rope_scores_depend_only_on_the_relative_position():
    rng = np.random.default_rng(3)
    q, k = rng.normal(size=8), rng.normal(size=8)
    scores = positions.rope_scores(q, k, 20)
    assert positions.diagonal_spread(scores) < 1e-5
    assert np.ptp(scores) > 0.1  # not constant: it does change with the distance
    toeplitz = np.array([[0.0, 1.0, 2.0], [-1.0, 0.0, 1.0], [-2.0, -1.0, 0.0]])
    assert positions.diagonal_spread(toeplitz) == 0.0
    assert positions.diagonal_spread(np.array([[0.0, 1.0], [2.0, 5.0]])) == 5.0


def test_rope_rotate_keeps_lengths_and_turns_pair_i_by_p_theta_i():
    vector = np.array([1.0, 0.0, 0.0, 2.0])
    rotated = positions.rope_rotate(vector, 6, base=100.0)
    np.testing.assert_allclose(np.linalg.norm(rotated, axis=1), np.linalg.norm(vector), atol=1e-6)
    theta_1 = 100.0 ** (-2 / 4)
    p = 5
    np.testing.assert_allclose(rotated[p, :2], [math.cos(p), math.sin(p)], atol=1e-6)
    np.testing.assert_allclose(
        rotated[p, 2:], [-2 * math.sin(p * theta_1), 2 * math.cos(p * theta_1)], atol=1e-6
    )
