"""Token embeddings: the table a model looks its tokens up in, and how those vectors relate.

A token id is only a row number. The model's first layer is a lookup in a V × D matrix E
(V tokens in the vocabulary, D = d_model numbers per token):

    x_t = E[id_t] · sqrt(D)  (+ PE[t] for sinusoidal / learned positions)

E starts random and is trained like every other weight, so tokens used in similar places drift
towards similar rows. Two ways to look at that:

* cosine similarity  cos(a, b) = a·b / (|a| |b|), in [-1, 1]: 1 = same direction, 0 = unrelated;
* PCA: project the V rows onto the two directions along which they vary most, for a 2-D map.

The comparison tokenizers of the Tokens page live here too: ``bpe_with_vocab_size`` cuts a trained
BPE down to a smaller vocabulary without retraining (BPE's merges are learned one after the other,
so the first N of them are exactly what training with a smaller vocabulary would have learned).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import torch

from tinylm.model import TinyLM
from tinylm.tokenizers import MIN_VOCAB_SIZE, UNKNOWN_CHAR, BPETokenizer, CharTokenizer, Tokenizer

MAX_NEIGHBOURS = 50  # a bound for the nearest-neighbour table


def embedding_matrix(model: TinyLM) -> np.ndarray:
    """E, the model's token embedding matrix, as a (V, D) float64 array (a copy)."""
    return model.token_embedding.weight.detach().to(torch.float64).cpu().numpy().copy()


@dataclass
class InputVectors:
    """The model's input x₀ for a list of token ids, split into its parts (each (T, D)).

    token     E[id_t] · sqrt(D)          the looked-up rows, scaled as in the paper (section 3.4)
    position  PE[t] (zeros for RoPE or no positions: those models add nothing here)
    total     token + position            what the first block receives
    """

    token: np.ndarray
    position: np.ndarray
    total: np.ndarray


@torch.no_grad()
def input_vectors(model: TinyLM, ids: list[int]) -> InputVectors:
    """x₀ = E[id_t] · sqrt(D) + PE[t] for ids that fit in the context (as ``TinyLM.embed`` computes it)."""
    if len(ids) > model.config.context_len:
        raise ValueError(f"{len(ids)} ids do not fit in the context of {model.config.context_len}")
    table = torch.from_numpy(embedding_matrix(model))
    token = table[torch.as_tensor(ids, dtype=torch.long)] * model.embedding_scale
    position = torch.zeros_like(token)
    if model.config.pos_encoding == "sinusoidal":
        position = model.sinusoidal_table[: len(ids)].to(torch.float64)
    elif model.config.pos_encoding == "learned":
        position = model.position_embedding.weight[: len(ids)].to(torch.float64)
    return InputVectors(token.numpy(), position.numpy(), (token + position).numpy())


@dataclass
class Projection:
    """A 2-D PCA map of the rows of a matrix.

    coords     (N, 2) each row's coordinates along the two principal directions
    components (2, D) the two directions (unit vectors), largest variance first
    explained  (2,)   the share of the total variance each direction captures
    """

    coords: np.ndarray
    components: np.ndarray
    explained: np.ndarray


def pca_2d(matrix: np.ndarray) -> Projection:
    """Principal component analysis onto two dimensions.

        X̄ = X − mean(X)                     centre every column
        X̄ = U Σ Vᵀ                          singular value decomposition
        coords = X̄ V[:, :2],  explained_k = σ_k² / Σ_j σ_j²

    The sign of a principal direction is arbitrary; we fix it so that the direction's largest entry
    (in absolute value) is positive, which makes the map the same on every run and machine.
    """
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError("PCA needs a matrix with at least two rows")
    centred = x - x.mean(axis=0, keepdims=True)
    _, singular_values, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2].copy()
    if components.shape[0] < 2:  # a single column: pad the second direction with zeros
        components = np.vstack([components, np.zeros_like(components)])
    for k in range(components.shape[0]):
        if components[k, np.argmax(np.abs(components[k]))] < 0:
            components[k] = -components[k]
    variance = singular_values**2
    total = variance.sum()
    explained = np.zeros(2)
    if total > 0:
        explained[: min(2, len(variance))] = variance[:2] / total
    return Projection(coords=centred @ components.T, components=components, explained=explained)


def cosine_similarities(matrix: np.ndarray, token_id: int) -> np.ndarray:
    """cos(E[token_id], E[j]) for every row j: (E[j] · e) / (|E[j]| |e|). A zero row gives 0."""
    x = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1)
    query = x[token_id]
    denominator = norms * norms[token_id]
    with np.errstate(divide="ignore", invalid="ignore"):
        cosines = np.where(denominator > 0, x @ query / np.where(denominator > 0, denominator, 1.0), 0.0)
    return np.clip(cosines, -1.0, 1.0)  # rounding can push a cosine a hair past ±1


@dataclass
class Neighbours:
    """The rows most similar to one token's row, most similar first (the token itself excluded)."""

    ids: list[int]
    cosines: list[float]


def nearest_neighbours(matrix: np.ndarray, token_id: int, k: int) -> Neighbours:
    """The k tokens whose embeddings point most nearly the same way as token_id's (cosine similarity).

    Ties are broken by the smaller id, so the table is the same on every run.
    """
    n_rows = np.asarray(matrix).shape[0]
    if not 0 <= token_id < n_rows:
        raise IndexError(f"token id {token_id} is outside the vocabulary (size {n_rows})")
    k = max(0, min(int(k), MAX_NEIGHBOURS, n_rows - 1))
    cosines = cosine_similarities(matrix, token_id)
    order = [j for j in np.lexsort((np.arange(n_rows), -cosines)) if j != token_id][:k]
    return Neighbours(ids=[int(j) for j in order], cosines=[float(cosines[j]) for j in order])


def bpe_with_vocab_size(tokenizer: BPETokenizer, vocab_size: int) -> BPETokenizer:
    """The BPE tokenizer that training with ``vocab_size`` would have produced: the first merges.

    Training adds one merge at a time, always the most frequent pair given the merges so far, so a
    smaller vocabulary's merges are a prefix of a larger one's. Asking for more tokens than the
    tokenizer has gives the tokenizer as it is.
    """
    n_merges = max(0, min(int(vocab_size), tokenizer.vocab_size) - MIN_VOCAB_SIZE)
    return BPETokenizer(tokenizer.merges[:n_merges], tokenizer.merge_counts[:n_merges])


def single_characters(tokenizer: Tokenizer) -> list[str]:
    """The characters that are whole tokens of ``tokenizer`` (to build a comparable CharTokenizer).

    For a CharTokenizer that is its vocabulary; for a BPE tokenizer the tokens whose bytes are one
    complete, printable UTF-8 character (byte pieces such as "<e6>" are left out).
    """
    if isinstance(tokenizer, CharTokenizer):
        return list(tokenizer.chars)
    found = []
    for token_id in range(tokenizer.vocab_size):
        try:
            text = tokenizer.token_bytes(token_id).decode("utf-8")
        except UnicodeDecodeError:
            continue
        if len(text) == 1 and text != UNKNOWN_CHAR and unicodedata.category(text) not in ("Cs", "Co", "Cn"):
            found.append(text)
    return sorted(set(found))


def char_tokenizer_like(tokenizer: Tokenizer) -> CharTokenizer:
    """A character tokenizer for the same text: the tokenizer itself if it already is one."""
    if isinstance(tokenizer, CharTokenizer):
        return tokenizer
    return CharTokenizer(single_characters(tokenizer))
