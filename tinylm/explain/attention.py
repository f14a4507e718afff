"""Self-attention step by step, computed from a real model's weights.

For layer ℓ the attention sub-layer reads X (T tokens × D numbers): with pre-norm (GPT-2) X = LN₁(x),
the block's input after its first LayerNorm; with post-norm (the paper) X = x itself. Then

    Q = X W_Q + b_Q,   K = X W_K + b_K,   V = X W_V + b_V        (T × D each; RoPE then rotates Q, K)
    head h takes columns h·d_k … (h+1)·d_k − 1 of Q, K, V        d_k = D / H
    S_h  = Q_h K_hᵀ                                               raw scores, T × T
    S'_h = S_h / sqrt(d_k)                                        scaled
    S'_h[i, j] = −∞ for j > i                                     causal mask: no peeking at the future
    A_h  = softmax(S'_h), row by row                              attention weights, each row sums to 1
    head_h = A_h V_h                                              T × d_k
    MultiHead(X) = Concat(head_1, …, head_H) W_O + b_O            T × D, the sub-layer's output

Every step is recomputed here with explicit matrix products on the model's own weight matrices, and
compared with the model's forward pass (``max_weight_difference``, ``max_output_difference``), so the
numbers a student sees are the model's numbers, never made-up ones.

``nn.Linear`` stores its weight as (out, in) and computes x Wᵀ + b; the matrices here are transposed to
the paper's convention X W, so W_Q is (D × d_k) for one head.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from tinylm.errors import TinyLMError
from tinylm.model import TinyLM
from tinylm.positional import apply_rope, rope_angles
from tinylm.tokenizers import Tokenizer

MAX_WALKTHROUGH_TOKENS = 12  # every T × T matrix is shown with its numbers: 12 × 12 still fits a slide
MAX_TEXT_CHARS = 2000  # any text is cut to this many characters before it is tokenised


@dataclass
class TokenizedText:
    """The tokens a page works on, and what was dropped or unknown on the way."""

    ids: list[int]  # the ids actually used (at most max_tokens)
    pieces: list[str]  # their display strings
    total_tokens: int  # how many tokens the (character-capped) text has in all
    unknown_chars: list[str]  # characters the tokenizer never saw (they became the unknown token)

    @property
    def cropped(self) -> bool:
        return self.total_tokens > len(self.ids)


def tokenize_for_display(
    tokenizer: Tokenizer, text: str, max_tokens: int, keep: str = "first"
) -> TokenizedText:
    """Encode ``text`` and keep its first (or last) ``max_tokens`` tokens.

    Keeping the *first* tokens changes nothing about them: the model is causal, so token t's numbers
    depend only on tokens 0..t, and they are exactly what the model computes on the whole text.
    Keeping the *last* ones is what generation does when a text outgrows the context window.
    Raises TinyLMError("empty_prompt") for an empty text.
    """
    if not text:
        raise TinyLMError("empty_prompt", "The text is empty: type at least one character.")
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    text = text[:MAX_TEXT_CHARS] if keep == "first" else text[-MAX_TEXT_CHARS:]
    ids = tokenizer.encode(text)
    kept = ids[:max_tokens] if keep == "first" else ids[-max_tokens:]
    return TokenizedText(
        ids=kept,
        pieces=tokenizer.token_strings(kept),
        total_tokens=len(ids),
        unknown_chars=tokenizer.unknown_chars(text),
    )


def model_input(model: TinyLM, ids: list[int], layer: int | None = None) -> torch.Tensor:
    """The token ids as the model's input, shape (1, T), once checked: 1 to context_len of them and, if
    given, ``layer`` one of the model's layers. Wrong values are programming errors (ValueError): the
    pages tokenise with ``tokenize_for_display``, which keeps at most a context of tokens."""
    config = model.config
    if layer is not None and not 0 <= layer < config.n_layers:
        raise ValueError(f"layer must be in 0..{config.n_layers - 1}")
    if not 1 <= len(ids) <= config.context_len:
        raise ValueError(f"need 1..{config.context_len} tokens, got {len(ids)}")
    return torch.tensor([ids], dtype=torch.long)


def row_entropy(weights: np.ndarray) -> np.ndarray:
    """Entropy of each row of a probability matrix, in nats: H = −Σ_j p_j ln p_j (0 · ln 0 = 0).

    0 means all weight on one key; ln(n) means spread evenly over n keys.
    """
    p = np.asarray(weights, dtype=np.float64)
    logs = np.log(np.where(p > 0, p, 1.0))
    return np.maximum(-(p * logs).sum(axis=-1), 0.0)  # no "−0.0" in the tables


@dataclass
class AttentionWalkthrough:
    """One layer's attention, every intermediate matrix, all heads (index [h] for head h)."""

    pieces: list[str]  # T token strings
    layer: int
    n_heads: int  # H
    head_dim: int  # d_k = D / H
    norm_position: str  # "pre": X = LN₁(x);  "post": X = x
    rope: bool  # True: Q and K below are already rotated by RoPE
    block_input: np.ndarray  # (T, D) the residual stream entering the block, x
    x: np.ndarray  # (T, D) what attention reads, X
    w_q: np.ndarray  # (H, D, d_k) per-head slices of W_Q, likewise W_K, W_V
    w_k: np.ndarray
    w_v: np.ndarray
    b_q: np.ndarray  # (H, d_k) per-head biases
    b_k: np.ndarray
    b_v: np.ndarray
    q: np.ndarray  # (H, T, d_k)
    k: np.ndarray
    v: np.ndarray
    scores: np.ndarray  # (H, T, T) Q Kᵀ, before scaling and masking
    scaled: np.ndarray  # (H, T, T) Q Kᵀ / sqrt(d_k)
    masked: np.ndarray  # (H, T, T) scaled, −inf above the diagonal
    weights: np.ndarray  # (H, T, T) softmax(masked)
    weights_unscaled: np.ndarray  # (H, T, T) softmax of the masked scores *without* 1/sqrt(d_k)
    entropy: np.ndarray  # (H, T) row entropies of weights
    entropy_unscaled: np.ndarray  # (H, T) row entropies of weights_unscaled
    head_outputs: np.ndarray  # (H, T, d_k) A_h V_h
    concat: np.ndarray  # (T, D) the heads side by side
    w_o: np.ndarray  # (D, D)
    b_o: np.ndarray  # (D,)
    output: np.ndarray  # (T, D) Concat · W_O + b_O, the attention sub-layer's output
    model_weights: np.ndarray  # (H, T, T) model(idx, return_attention=True).attentions[layer]
    max_weight_difference: float  # max |weights − model_weights|
    max_output_difference: float  # max |output − the model's own attention module on X|
    max_residual_difference: float  # the residual stream after attention, rebuilt from output vs the model's

    @property
    def scale(self) -> float:
        """1 / sqrt(d_k)."""
        return 1.0 / math.sqrt(self.head_dim)


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().to(torch.float64).cpu().numpy()


@torch.no_grad()
def attention_walkthrough(
    model: TinyLM, ids: list[int], layer: int, pieces: list[str] | None = None
) -> AttentionWalkthrough:
    """Recompute layer ``layer``'s self-attention on token ids ``ids`` with explicit operations.

    ``pieces`` are the tokens' display strings (kept with the result for labels).
    """
    config = model.config
    idx = model_input(model, ids, layer)
    reference = model(idx, return_attention=True, return_residuals=True)
    block = model.blocks[layer]
    attention = block.attention
    n_heads, head_dim, d_model = config.n_heads, config.head_dim, config.d_model
    length = len(ids)

    block_input = reference.residuals[2 * layer][1][0]  # (T, D): entries are embedding, then 2 per layer
    x = block.norm1(block_input) if block.pre_norm else block_input

    # nn.Linear: y = x Wᵀ + b, with W stacked as [W_Q; W_K; W_V] (3D × D). Transpose to the paper's X W.
    w_all = attention.qkv.weight.T  # (D, 3D)
    b_all = attention.qkv.bias  # (3D,)
    per_head = []
    for part in range(3):  # 0: Q, 1: K, 2: V
        w = w_all[:, part * d_model : (part + 1) * d_model]  # (D, D)
        b = b_all[part * d_model : (part + 1) * d_model]
        per_head.append(
            (w.reshape(d_model, n_heads, head_dim).permute(1, 0, 2), b.reshape(n_heads, head_dim))
        )
    (w_q, b_q), (w_k, b_k), (w_v, b_v) = per_head

    q = x @ w_q + b_q[:, None, :]  # (H, T, d_k): X W_Q^h + b_Q^h for every head at once
    k = x @ w_k + b_k[:, None, :]
    v = x @ w_v + b_v[:, None, :]
    rope = None
    if config.pos_encoding == "rope":
        rope = rope_angles(torch.arange(length), head_dim, config.rope_base)
        q, k = apply_rope(q, *rope), apply_rope(k, *rope)

    scores = q @ k.transpose(-2, -1)  # (H, T, T)
    scaled = scores / math.sqrt(head_dim)
    future = ~torch.ones(length, length, dtype=torch.bool).tril()  # True above the diagonal
    masked = scaled.masked_fill(future, float("-inf"))
    weights = torch.softmax(masked, dim=-1)
    weights_unscaled = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
    head_outputs = weights @ v  # (H, T, d_k)

    concat = head_outputs.permute(1, 0, 2).reshape(length, d_model)  # head h → columns h·d_k …
    w_o = attention.out_proj.weight.T  # (D, D)
    b_o = attention.out_proj.bias
    output = concat @ w_o + b_o

    module_output, _ = attention(x[None], rope)
    stream_after = block_input + output if block.pre_norm else block.norm1(block_input + output)
    model_weights = reference.attentions[layer][0]

    weights_np, weights_unscaled_np = _numpy(weights), _numpy(weights_unscaled)
    return AttentionWalkthrough(
        pieces=list(pieces) if pieces is not None else [str(i) for i in ids],
        layer=layer,
        n_heads=n_heads,
        head_dim=head_dim,
        norm_position=config.norm_position,
        rope=rope is not None,
        block_input=_numpy(block_input),
        x=_numpy(x),
        w_q=_numpy(w_q),
        w_k=_numpy(w_k),
        w_v=_numpy(w_v),
        b_q=_numpy(b_q),
        b_k=_numpy(b_k),
        b_v=_numpy(b_v),
        q=_numpy(q),
        k=_numpy(k),
        v=_numpy(v),
        scores=_numpy(scores),
        scaled=_numpy(scaled),
        masked=_numpy(masked),
        weights=weights_np,
        weights_unscaled=weights_unscaled_np,
        entropy=row_entropy(weights_np),
        entropy_unscaled=row_entropy(weights_unscaled_np),
        head_outputs=_numpy(head_outputs),
        concat=_numpy(concat),
        w_o=_numpy(w_o),
        b_o=_numpy(b_o),
        output=_numpy(output),
        model_weights=_numpy(model_weights),
        max_weight_difference=float((weights - model_weights).abs().max()),
        max_output_difference=float((output - module_output[0]).abs().max()),
        max_residual_difference=float((stream_after - reference.residuals[2 * layer + 1][1][0]).abs().max()),
    )


def explain_attention(
    model: TinyLM, tokenizer: Tokenizer, text: str, layer: int, max_tokens: int = MAX_WALKTHROUGH_TOKENS
) -> tuple[TokenizedText, AttentionWalkthrough]:
    """Tokenise ``text`` (first ``max_tokens`` tokens, at most the context) and walk through ``layer``."""
    tokens = tokenize_for_display(tokenizer, text, min(max_tokens, model.config.context_len))
    return tokens, attention_walkthrough(model, tokens.ids, layer, tokens.pieces)
