"""Positional information: how a Transformer knows the order of its tokens.

Attention by itself treats its input as a *set*: shuffle the tokens and every output is shuffled the
same way. So the position p of each token has to be put in somehow. Three ways are implemented:

* sinusoidal (Vaswani et al. 2017, section 3.5), added to the token embeddings::

      PE(p, 2i)   = sin(p / 10000^(2i/d))
      PE(p, 2i+1) = cos(p / 10000^(2i/d))

  Each pair of dimensions (2i, 2i+1) is a point on a circle turning at its own speed: fast for small
  i, very slow for large i. For any fixed offset k, PE(p+k) is a rotation of PE(p), so the dot
  product PE(p)·PE(p+k) depends only on k: the model can read *relative* distance from it.

* learned (GPT-2): a table of context_len trainable vectors, one per position, added likewise.

* RoPE (rotary, Su et al. 2021): nothing is added to the embeddings; instead the queries and keys
  of every head are rotated, pair of numbers by pair of numbers, by the angle p·θ_i with
  θ_i = base^(-2i/d_k). Then q_p·k_j depends only on (p - j), the relative position.
"""

from __future__ import annotations

import torch


def sinusoidal_positional_encoding(max_len: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """The paper's table, shape (max_len, d_model).

    PE[p, 2i] = sin(p / base^(2i/d_model)),  PE[p, 2i+1] = cos(p / base^(2i/d_model)).
    An odd d_model gets one extra sine column (the last dimension has no cosine partner).
    """
    if max_len < 1 or d_model < 1:
        raise ValueError("max_len and d_model must be positive")
    positions = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)  # p, shape (max_len, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # 2i = 0, 2, 4, ...
    angles = positions / base ** (two_i / d_model)  # p / base^(2i/d), shape (max_len, ceil(d/2))
    encoding = torch.zeros(max_len, d_model, dtype=torch.float64)
    encoding[:, 0::2] = torch.sin(angles)
    encoding[:, 1::2] = torch.cos(angles[:, : d_model // 2])
    return encoding.to(torch.float32)


def rope_frequencies(head_dim: int, base: float = 10000.0) -> torch.Tensor:
    """θ_i = base^(-2i/d_k) for i = 0 .. d_k/2 - 1: the turning speed of each rotated pair."""
    two_i = torch.arange(0, head_dim, 2, dtype=torch.float64)
    return (base ** (-two_i / head_dim)).to(torch.float32)


def rope_angles(
    positions: torch.Tensor, head_dim: int, base: float = 10000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos(p·θ_i) and sin(p·θ_i) for each position p, each shape (len(positions), d_k/2)."""
    angles = positions.to(torch.float32).unsqueeze(1) * rope_frequencies(head_dim, base)
    return torch.cos(angles), torch.sin(angles)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate each pair (x_2i, x_2i+1) of the last dimension by its angle p·θ_i.

        x'_2i   = x_2i · cos(pθ_i) - x_2i+1 · sin(pθ_i)
        x'_2i+1 = x_2i · sin(pθ_i) + x_2i+1 · cos(pθ_i)

    x: (..., T, d_k); cos, sin: (T, d_k/2).
    """
    even, odd = x[..., 0::2], x[..., 1::2]
    rotated_even = even * cos - odd * sin
    rotated_odd = even * sin + odd * cos
    return torch.stack((rotated_even, rotated_odd), dim=-1).flatten(-2)
