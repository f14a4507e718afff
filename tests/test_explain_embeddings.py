"""tinylm.explain.embeddings: lookups, PCA, nearest neighbours and comparison tokenizers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tinylm import BPETokenizer, CharTokenizer, ModelConfig, TinyLM
from tinylm.explain import embeddings


def make_model(pos_encoding: str = "sinusoidal", vocab_size: int = 30, seed: int = 1) -> TinyLM:
    config = ModelConfig(
        vocab_size=vocab_size, context_len=16, d_model=16, n_layers=1, n_heads=2, pos_encoding=pos_encoding
    )
    model = TinyLM(config, seed=seed)
    if pos_encoding == "learned":  # the init is tiny; make the table visibly non-zero
        with torch.no_grad():
            model.position_embedding.weight.normal_(0, 1, generator=torch.Generator().manual_seed(3))
    return model.eval()


def test_embedding_matrix_is_the_models_table():
    model = make_model()
    matrix = embeddings.embedding_matrix(model)
    assert matrix.shape == (30, 16)
    np.testing.assert_array_equal(matrix, model.token_embedding.weight.detach().double().numpy())
    matrix[0, 0] = 123.0  # a copy: the model is untouched
    assert model.token_embedding.weight[0, 0].item() != 123.0


@pytest.mark.parametrize("pos_encoding", ["sinusoidal", "learned", "rope", "none"])
def test_input_vectors_add_up_to_the_models_own_embedding_step(pos_encoding):
    model = make_model(pos_encoding)
    ids = [3, 7, 7, 0, 29, 12]
    parts = embeddings.input_vectors(model, ids)
    with torch.no_grad():
        expected = model.embed(torch.tensor([ids]))[0].double().numpy()
    np.testing.assert_allclose(parts.total, expected, atol=1e-5)
    e = model.token_embedding.weight.detach().double().numpy()
    np.testing.assert_allclose(parts.token, e[ids] * np.sqrt(16), atol=1e-6)
    if pos_encoding in ("rope", "none"):
        assert not parts.position.any()
    else:
        assert np.abs(parts.position).max() > 0.1
    with pytest.raises(ValueError):
        embeddings.input_vectors(model, list(range(17)))


def test_pca_matches_numpy_eigendecomposition_up_to_sign():
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(40, 8)) * np.array([5, 3, 1, 1, 1, 1, 1, 1])
    projection = embeddings.pca_2d(matrix)
    centred = matrix - matrix.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(centred, rowvar=False))
    order = np.argsort(eigenvalues)[::-1][:2]
    expected = centred @ eigenvectors[:, order]
    for k in range(2):
        sign = np.sign(projection.coords[:, k] @ expected[:, k])
        np.testing.assert_allclose(projection.coords[:, k], sign * expected[:, k], atol=1e-9)
    np.testing.assert_allclose(projection.explained, eigenvalues[order] / eigenvalues.sum(), atol=1e-9)
    assert projection.explained[0] > projection.explained[1] > 0
    # the sign convention: each direction's largest entry is positive
    for component in projection.components:
        assert component[np.argmax(np.abs(component))] > 0
    with pytest.raises(ValueError):
        embeddings.pca_2d(matrix[:1])


def test_nearest_neighbours_are_sorted_cosines_of_the_real_rows():
    model = make_model(vocab_size=50)
    matrix = embeddings.embedding_matrix(model)
    found = embeddings.nearest_neighbours(matrix, 5, k=10)
    assert len(found.ids) == 10 and 5 not in found.ids
    e = model.token_embedding.weight.detach()
    expected = torch.nn.functional.cosine_similarity(e[5:6], e, dim=1).double().numpy()
    np.testing.assert_allclose(found.cosines, expected[found.ids], atol=1e-6)
    assert found.cosines == sorted(found.cosines, reverse=True)
    others = np.delete(expected, [5, *found.ids])
    assert others.max() <= min(found.cosines) + 1e-9  # nothing better was left out
    assert all(-1.0 <= c <= 1.0 for c in found.cosines)
    assert len(embeddings.nearest_neighbours(matrix, 0, k=1000).ids) == min(49, embeddings.MAX_NEIGHBOURS)
    with pytest.raises(IndexError):
        embeddings.nearest_neighbours(matrix, 50, k=3)


def test_cosine_of_a_zero_row_is_zero_not_nan():
    matrix = np.array([[1.0, 0.0], [0.0, 0.0], [-2.0, 0.0]])
    np.testing.assert_array_equal(embeddings.cosine_similarities(matrix, 0), [1.0, 0.0, -1.0])
    np.testing.assert_array_equal(embeddings.cosine_similarities(matrix, 1), [0.0, 0.0, 0.0])


def test_a_smaller_bpe_vocabulary_is_a_prefix_of_the_merges():
    text = "the cat sat on the mat. the dog sat on the log. 小猫和小狗在一起玩。小猫很可爱。" * 20
    big = BPETokenizer.train(text, vocab_size=330)
    for size in (256, 270, 300):
        cut = embeddings.bpe_with_vocab_size(big, size)
        trained = BPETokenizer.train(text, vocab_size=size)
        assert cut.merges == trained.merges
        assert cut.merge_counts == trained.merge_counts
        assert cut.encode("the cat 小猫") == trained.encode("the cat 小猫")
    assert embeddings.bpe_with_vocab_size(big, 4000).merges == big.merges


def test_char_tokenizer_like_keeps_chars_and_reads_whole_characters_out_of_bpe():
    char = CharTokenizer.from_text("abc")
    assert embeddings.char_tokenizer_like(char) is char
    bpe = BPETokenizer.train("我们我们我们 ab ab", vocab_size=270)
    like = embeddings.char_tokenizer_like(bpe)
    assert "我" in like.chars and "们" in like.chars and "a" in like.chars
    assert all(len(c) == 1 for c in like.chars)
    assert "\ufffd" not in like.chars
    assert like.unknown_chars("我x") == ["x"] or "x" in like.chars  # bytes 0..255 include ASCII "x"
