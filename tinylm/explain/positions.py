"""Positional encodings, made visible: the sinusoidal table, what its dot products mean, and what a
trained model actually uses (its learned table, or RoPE's rotations).

Sinusoidal (Vaswani et al. 2017, section 3.5), with ω_i = 1 / base^(2i/d)::

    PE(p, 2i) = sin(p·ω_i),   PE(p, 2i+1) = cos(p·ω_i)

Each pair of dimensions (2i, 2i+1) is a point on the unit circle at angle p·ω_i. Moving k positions
on turns every pair by k·ω_i: PE(p+k) = R(k) PE(p) with R(k) block-diagonal 2 × 2 rotations. Hence

    PE(p) · PE(p+k) = Σ_i [sin(pω_i) sin((p+k)ω_i) + cos(pω_i) cos((p+k)ω_i)] = Σ_i cos(k·ω_i)

which does not depend on p at all: only on the distance k. At k = 0 every pair contributes
sin² + cos² = 1, so PE(p)·PE(p) = d/2.

RoPE (Su et al. 2021) rotates the query and key of every head instead, pair (2i, 2i+1) by p·θ_i with
θ_i = base^(−2i/d_k). A rotation preserves dot products and R(p)ᵀR(j) = R(j − p), so

    score(p, j) = (R(p) q) · (R(j) k) / sqrt(d_k) = q · R(j − p) k / sqrt(d_k)

depends on the positions only through p − j.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from tinylm.model import TinyLM
from tinylm.positional import apply_rope, rope_angles, sinusoidal_positional_encoding

MAX_POSITIONS = 1024  # a bound for every table computed here


def _check_length(n: int) -> None:
    if not 1 <= n <= MAX_POSITIONS:
        raise ValueError(f"the number of positions must be between 1 and {MAX_POSITIONS} (got {n})")


def sinusoidal_table(max_len: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    """PE as a (max_len, d_model) float64 array, computed by ``tinylm.positional`` (what models add)."""
    _check_length(max_len)
    return sinusoidal_positional_encoding(max_len, d_model, base).to(torch.float64).numpy()


def frequencies(d_model: int, base: float = 10000.0) -> np.ndarray:
    """ω_i = 1 / base^(2i/d) for i = 0 .. ceil(d/2) − 1: how fast pair i turns per position."""
    two_i = np.arange(0, d_model, 2, dtype=np.float64)
    return 1.0 / base ** (two_i / d_model)


def dot_similarity(table: np.ndarray) -> np.ndarray:
    """S[p, q] = PE(p) · PE(q) for every pair of rows (symmetric)."""
    x = np.asarray(table, dtype=np.float64)
    return x @ x.T


def cosine_similarity_matrix(table: np.ndarray) -> np.ndarray:
    """C[p, q] = PE(p)·PE(q) / (|PE(p)| |PE(q)|): like ``dot_similarity`` but blind to vector lengths.

    Used for learned tables, whose rows have different lengths. A zero row gives 0.
    """
    x = np.asarray(table, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1)
    safe = np.where(norms > 0, norms, 1.0)
    unit = x / safe[:, None]
    return np.clip(unit @ unit.T, -1.0, 1.0)


@dataclass
class OffsetSimilarity:
    """PE(start) · PE(start + k) for k = 0 .. max_offset, next to the closed form Σ_i cos(k·ω_i)."""

    offsets: np.ndarray
    dots: np.ndarray
    closed_form: np.ndarray


def offset_similarity(d_model: int, base: float, start: int, max_offset: int) -> OffsetSimilarity:
    """How similar position start + k looks to position start, as a function of the distance k.

    For even d the dot product equals Σ_i cos(k·ω_i) whatever ``start`` is (see the module docstring);
    an odd d has one extra sine dimension, which breaks that slightly.
    """
    if start < 0 or max_offset < 0:
        raise ValueError("start and max_offset must be >= 0")
    table = sinusoidal_table(start + max_offset + 1, d_model, base)
    offsets = np.arange(max_offset + 1)
    dots = table[start + offsets] @ table[start]
    closed_form = np.cos(np.outer(offsets, frequencies(d_model, base))).sum(axis=1)
    return OffsetSimilarity(offsets=offsets, dots=dots, closed_form=closed_form)


def model_position_table(model: TinyLM) -> np.ndarray | None:
    """What the model adds to the token embeddings at each position, (context_len, D) — or None.

    sinusoidal: the fixed formula table (a buffer, not trained); learned: the trained table;
    RoPE and "none" add nothing to the embeddings (RoPE acts inside attention instead).
    """
    kind = model.config.pos_encoding
    if kind == "sinusoidal":
        return model.sinusoidal_table.detach().to(torch.float64).cpu().numpy().copy()
    if kind == "learned":
        return model.position_embedding.weight.detach().to(torch.float64).cpu().numpy().copy()
    return None


@torch.no_grad()
def layer0_query_key(model: TinyLM, token_id: int, head: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The first layer's query and key of one head for a token, before any rotation, each (d_k,).

    x = E[token] · sqrt(D) (a RoPE model adds no position here), then LN₁ (pre-norm models), then
    q = x W_Q and k = x W_K, cut to the head's d_k numbers.
    """
    config = model.config
    if not 0 <= head < config.n_heads:
        raise ValueError(f"head must be between 0 and {config.n_heads - 1}")
    block = model.blocks[0]
    x = model.token_embedding.weight[int(token_id)] * model.embedding_scale
    if block.pre_norm:
        x = block.norm1(x)
    q, k, _ = block.attention.qkv(x).split(config.d_model)
    part = slice(head * config.head_dim, (head + 1) * config.head_dim)
    return q[part].to(torch.float64).numpy().copy(), k[part].to(torch.float64).numpy().copy()


def rope_rotate(vector: np.ndarray, n_positions: int, base: float = 10000.0) -> np.ndarray:
    """The vector as RoPE turns it at positions 0 .. n_positions − 1, shape (n_positions, d_k).

    Pair (2i, 2i+1) is rotated by the angle p·θ_i, θ_i = base^(−2i/d_k) (``tinylm.positional``).
    """
    _check_length(n_positions)
    v = torch.as_tensor(np.asarray(vector), dtype=torch.float32)
    cos, sin = rope_angles(torch.arange(n_positions), v.shape[-1], base)
    return apply_rope(v.expand(n_positions, -1), cos, sin).to(torch.float64).numpy()


def rope_scores(query: np.ndarray, key: np.ndarray, n_positions: int, base: float = 10000.0) -> np.ndarray:
    """score[p, j] = (R(p) q) · (R(j) k) / sqrt(d_k): the attention score before the mask and softmax
    if the same query sat at position p and the same key at position j."""
    rotated_q = rope_rotate(query, n_positions, base)
    rotated_k = rope_rotate(key, n_positions, base)
    return rotated_q @ rotated_k.T / math.sqrt(len(query))


def diagonal_spread(matrix: np.ndarray) -> float:
    """The largest (max − min) along any diagonal p − j = const: 0 means "depends only on p − j"."""
    m = np.asarray(matrix, dtype=np.float64)
    n = m.shape[0]
    spread = 0.0
    for offset in range(-(n - 1), n):
        diagonal = np.diagonal(m, offset=offset)
        spread = max(spread, float(diagonal.max() - diagonal.min()))
    return spread
