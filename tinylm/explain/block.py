"""Inside a Transformer block: the residual stream, LayerNorm and the feed-forward network.

The residual stream is the running list of T vectors (one per token, D numbers each) that every
sub-layer reads from and adds to:

    x₀ = embedding (+ positions)
    pre-norm  (GPT-2): x ← x + Attn(LN₁(x)),  then  x ← x + FFN(LN₂(x))
    post-norm (paper): x ← LN₁(x + Attn(x)),  then  x ← LN₂(x + FFN(x))

``model(idx, return_residuals=True)`` records x after the embedding and after every sub-layer; the
update a sub-layer made is the difference of two consecutive entries, and its relative size
‖x_after − x_before‖ / ‖x_before‖ (per token) says how much that sub-layer changed the stream.

LayerNorm (per token, over its D numbers):   μ = mean(x),  σ² = mean((x − μ)²)
                                             LN(x) = γ ⊙ (x − μ) / sqrt(σ² + ε) + β
Before γ and β every token has mean 0 and standard deviation sqrt(σ²/(σ² + ε)) ≈ 1.

Feed-forward network (per token):            FFN(x) = W₂ · act(W₁ x + b₁) + b₂,  act = GELU or ReLU
A hidden unit counts as *active* when act(h) > 0, which for both GELU(h) = h·Φ(h) and ReLU(h) =
max(0, h) means h > 0 (GELU leaves small negative values for h < 0, ReLU exact zeros).

An attention-only model (``config.attention_only``) has neither the FFN nor LN₂: its blocks are
x ← x + Attn(LN₁(x)) alone, so the stream here has 1 + L entries, and ``norm2`` / ``feed_forward`` are None.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from tinylm.explain.attention import TokenizedText, model_input, tokenize_for_display
from tinylm.model import TinyLM, layer_norm_reference
from tinylm.positional import rope_angles
from tinylm.tokenizers import Tokenizer

MAX_BLOCK_TOKENS = 64  # the page shows per-token charts; the model's context may be smaller still


@dataclass
class ResidualStream:
    """The stream after the embedding and after each sub-layer: S = 1 + 2·L entries (1 + L without FFNs)."""

    names: list[str]  # "embedding", "layer0.attention", "layer0.feed_forward", …
    vectors: np.ndarray  # (S, T, D)
    norms: np.ndarray  # (S, T) ‖x‖ of each token's vector
    update_norms: np.ndarray  # (S−1, T) ‖x_s − x_{s−1}‖: the size of sub-layer s's update
    relative_updates: np.ndarray  # (S−1, T) update_norms / ‖x_{s−1}‖

    @property
    def mean_relative_updates(self) -> np.ndarray:
        """(S−1,) the relative update of each sub-layer, averaged over the tokens."""
        return self.relative_updates.mean(axis=1)


@dataclass
class LayerNormView:
    """One LayerNorm applied to T tokens, with the statistics before and after."""

    name: str  # "norm1" (before attention in pre-norm) or "norm2" (before the feed-forward network)
    eps: float
    x: np.ndarray  # (T, D) the input
    mean: np.ndarray  # (T,) μ per token
    std: np.ndarray  # (T,) σ per token (biased, as in the formula)
    normalized: np.ndarray  # (T, D) (x − μ) / sqrt(σ² + ε), before γ and β
    normalized_mean: np.ndarray  # (T,) ≈ 0
    normalized_std: np.ndarray  # (T,) ≈ 1
    output: np.ndarray  # (T, D) γ ⊙ normalized + β  (``layer_norm_reference``)
    output_mean: np.ndarray  # (T,)
    output_std: np.ndarray  # (T,)
    gamma: np.ndarray  # (D,)
    beta: np.ndarray  # (D,)
    max_difference: float  # max |layer_norm_reference − the model's LayerNorm module|


@dataclass
class FeedForwardView:
    """The feed-forward network of one block on T tokens."""

    activation: str  # "gelu" or "relu"
    x: np.ndarray  # (T, D) its input (LN₂(x) in pre-norm)
    pre_activation: np.ndarray  # (T, F) W₁ x + b₁
    hidden: np.ndarray  # (T, F) act(W₁ x + b₁)
    output: np.ndarray  # (T, D) W₂ hidden + b₂
    active_fraction: np.ndarray  # (T,) fraction of the F hidden units with act(h) > 0
    max_difference: float  # max |output − the model's FeedForward module|


@dataclass
class BlockExplanation:
    tokens: TokenizedText
    norm_position: str  # "pre" or "post"
    layer: int
    stream: ResidualStream
    norm1: LayerNormView
    norm2: LayerNormView | None  # None: an attention-only model has no LN₂ …
    feed_forward: FeedForwardView | None  # … and no feed-forward network


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().to(torch.float64).cpu().numpy()


def residual_stream(residuals: list[tuple[str, torch.Tensor]]) -> ResidualStream:
    """Norms and update sizes from ``model(idx, return_residuals=True).residuals`` (batch item 0).

    update_s = x_s − x_{s−1}, relative size ‖update_s‖ / ‖x_{s−1}‖ per token.
    """
    vectors = np.stack([_numpy(tensor[0]) for _, tensor in residuals])  # (S, T, D)
    norms = np.linalg.norm(vectors, axis=-1)
    update_norms = np.linalg.norm(np.diff(vectors, axis=0), axis=-1)
    return ResidualStream(
        names=[name for name, _ in residuals],
        vectors=vectors,
        norms=norms,
        update_norms=update_norms,
        relative_updates=update_norms / np.maximum(norms[:-1], 1e-12),
    )


def _population_std(x: torch.Tensor) -> torch.Tensor:
    return ((x - x.mean(-1, keepdim=True)) ** 2).mean(-1).sqrt()


def layer_norm_view(name: str, norm: torch.nn.Module, x: torch.Tensor) -> LayerNormView:
    """LayerNorm of x (T, D) step by step; ``norm`` is the model's module (its γ, β, ε)."""
    mean = x.mean(-1, keepdim=True)
    variance = ((x - mean) ** 2).mean(-1, keepdim=True)
    normalized = (x - mean) / torch.sqrt(variance + norm.eps)
    output = layer_norm_reference(x, norm.weight, norm.bias, norm.eps)
    return LayerNormView(
        name=name,
        eps=float(norm.eps),
        x=_numpy(x),
        mean=_numpy(mean[:, 0]),
        std=_numpy(variance[:, 0].sqrt()),
        normalized=_numpy(normalized),
        normalized_mean=_numpy(normalized.mean(-1)),
        normalized_std=_numpy(_population_std(normalized)),
        output=_numpy(output),
        output_mean=_numpy(output.mean(-1)),
        output_std=_numpy(_population_std(output)),
        gamma=_numpy(norm.weight),
        beta=_numpy(norm.bias),
        max_difference=float((output - norm(x)).abs().max()),
    )


def feed_forward_view(block: torch.nn.Module, activation: str, x: torch.Tensor) -> FeedForwardView:
    """FFN(x) = W₂ · act(W₁ x + b₁) + b₂ on x (T, D), written out."""
    ffn = block.feed_forward
    pre_activation = x @ ffn.fc1.weight.T + ffn.fc1.bias
    hidden = F.gelu(pre_activation) if activation == "gelu" else F.relu(pre_activation)
    output = hidden @ ffn.fc2.weight.T + ffn.fc2.bias
    return FeedForwardView(
        activation=activation,
        x=_numpy(x),
        pre_activation=_numpy(pre_activation),
        hidden=_numpy(hidden),
        output=_numpy(output),
        active_fraction=_numpy((hidden > 0).to(torch.float64).mean(-1)),
        max_difference=float((output - ffn(x)).abs().max()),
    )


@torch.no_grad()
def block_explanation(model: TinyLM, ids: list[int], layer: int, tokens: TokenizedText) -> BlockExplanation:
    """The residual stream of the whole model and the insides of block ``layer`` on ``ids``."""
    config = model.config
    residuals = model(model_input(model, ids, layer), return_residuals=True).residuals
    block = model.blocks[layer]
    block_input = residuals[2 * layer][1][0]  # (T, D)
    after_attention = residuals[2 * layer + 1][1][0]
    rope = None
    if config.pos_encoding == "rope":
        rope = rope_angles(torch.arange(len(ids)), config.head_dim, config.rope_base)
    if block.pre_norm:  # each LayerNorm reads the stream; the FFN reads LN₂ of it
        norm1_input = block_input
    else:  # each LayerNorm reads stream + update; the FFN reads the stream itself
        norm1_input = block_input + block.attention(block_input[None], rope)[0][0]
    norm2 = feed_forward = None
    if not block.attention_only:
        if block.pre_norm:
            norm2_input, ffn_input = after_attention, block.norm2(after_attention)
        else:
            norm2_input, ffn_input = after_attention + block.feed_forward(after_attention), after_attention
        norm2 = layer_norm_view("norm2", block.norm2, norm2_input)
        feed_forward = feed_forward_view(block, config.activation, ffn_input)
    shown = residuals
    if config.attention_only:  # the model records the stream after each absent FFN too: unchanged, left out
        shown = [(name, x) for name, x in residuals if not name.endswith(".feed_forward")]
    return BlockExplanation(
        tokens=tokens,
        norm_position=config.norm_position,
        layer=layer,
        stream=residual_stream(shown),
        norm1=layer_norm_view("norm1", block.norm1, norm1_input),
        norm2=norm2,
        feed_forward=feed_forward,
    )


def explain_block(
    model: TinyLM, tokenizer: Tokenizer, text: str, layer: int, max_tokens: int = MAX_BLOCK_TOKENS
) -> BlockExplanation:
    """Tokenise ``text`` (its last tokens that fit the context window) and look inside block ``layer``."""
    tokens = tokenize_for_display(tokenizer, text, min(max_tokens, model.config.context_len), keep="last")
    return block_explanation(model, tokens.ids, layer, tokens)
