"""TinyLM: a decoder-only (GPT-style) Transformer language model, top to bottom.

Read it in this order, each class is one idea of "Attention Is All You Need" (Vaswani et al. 2017):

    LayerNorm            LN(x) = γ ⊙ (x − μ) / sqrt(σ² + ε) + β
    CausalSelfAttention  Attention(Q, K, V) = softmax(Q Kᵀ / sqrt(d_k) + M) V, with H heads
    FeedForward          FFN(x) = W₂ · act(W₁ x + b₁) + b₂
    Block                x + Attention(LN(x)), then x + FFN(LN(x))   (pre-norm; post-norm optional)
    TinyLM               token embedding + positions → L blocks → LN → logits over the vocabulary

GPT is a *causal* language model: it is trained to predict token t+1 from tokens 0..t, and the mask M
(−∞ above the diagonal) makes sure position t can never look at a later token. Training minimises the
cross-entropy of the true next token; generation samples one token at a time and feeds it back in.

Only basic torch operations are used, so every line maps to a formula. The one speed concession:
when nobody asks to *see* the attention weights, attention runs through torch's fused
``scaled_dot_product_attention`` (or, for short contexts, two batched matmuls: tinylm/fast.py), which
compute the same numbers (tests check it) without handing back the (T × T) weight matrix.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from tinylm.config import ModelConfig
from tinylm.fast import SHORT_CONTEXT, batched_causal_attention
from tinylm.positional import apply_rope, rope_angles, sinusoidal_positional_encoding


@dataclass
class ModelOutput:
    """What a forward pass returns.

    logits      (B, T, V): unnormalised scores for the next token at every position
    loss        mean cross-entropy in nats per token, or None without targets
    attentions  one (B, H, T, T_keys) tensor per layer (rows sum to 1), when asked for
    residuals   the residual stream after the embedding and after every sub-layer, as
                (name, (B, T, D) tensor) pairs, when asked for
    """

    logits: torch.Tensor
    loss: torch.Tensor | None = None
    attentions: list[torch.Tensor] | None = None
    residuals: list[tuple[str, torch.Tensor]] | None = None


class KVCache:
    """Keys and values of the tokens already processed, one pair per layer.

    Generating token t+1 only needs the *new* token's query; its keys and values for tokens 0..t were
    computed in earlier steps and do not change (the model is causal), so we keep them here and each
    step costs one token's worth of work instead of the whole sequence's.

    The buffers hold up to ``max_len`` tokens and are filled in place (appending by concatenation
    would copy the whole cache at every step).
    """

    def __init__(self, n_layers: int, max_len: int) -> None:
        self.max_len = max_len
        self.keys: list[torch.Tensor | None] = [None] * n_layers
        self.values: list[torch.Tensor | None] = [None] * n_layers
        self.lengths = [0] * n_layers

    def update(
        self, layer: int, keys: torch.Tensor, values: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Append this step's keys/values (B, H, T_new, d_k); return all of them for this layer."""
        start, new = self.lengths[layer], keys.shape[2]
        if start + new > self.max_len:
            raise ValueError(f"the KV cache holds {self.max_len} tokens; {start + new} were asked for")
        if self.keys[layer] is None:
            batch, heads, _, head_dim = keys.shape
            self.keys[layer] = keys.new_empty(batch, heads, self.max_len, head_dim)
            self.values[layer] = values.new_empty(batch, heads, self.max_len, head_dim)
        self.keys[layer][:, :, start : start + new] = keys
        self.values[layer][:, :, start : start + new] = values
        self.lengths[layer] = start + new
        return self.keys[layer][:, :, : start + new], self.values[layer][:, :, : start + new]


class LayerNorm(nn.Module):
    """Layer normalisation over the last dimension (the d_model numbers of one token).

        μ = mean(x),  σ² = mean((x − μ)²)
        LN(x) = γ ⊙ (x − μ) / sqrt(σ² + ε) + β

    γ (weight) and β (bias) are learned, start at 1 and 0. There is no softmax anywhere in it.
    torch's fused kernel computes exactly this (see ``layer_norm_reference`` and its test).
    """

    def __init__(self, d_model: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d_model))
        self.bias = nn.Parameter(torch.zeros(d_model))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, self.eps)


def layer_norm_reference(
    x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    """The LayerNorm formula written out op by op (used by the app and to test ``LayerNorm``)."""
    mean = x.mean(dim=-1, keepdim=True)
    variance = ((x - mean) ** 2).mean(dim=-1, keepdim=True)  # biased variance, as in the definition
    return gamma * (x - mean) / torch.sqrt(variance + eps) + beta


class RMSNorm(nn.Module):
    """Root-mean-square normalisation over the last dimension (QK-norm uses it on each head's q, k).

        RMSNorm(x) = g ⊙ x / sqrt(mean(x²) + ε)

    Like LayerNorm without subtracting the mean and without β: every row of x / rms(x) has norm
    sqrt(d), i.e. it is a unit vector times sqrt(d). The gain g is learned and starts at 1.
    """

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.rms_norm(x, self.weight.shape, self.weight, self.eps)


def rms_norm_reference(x: torch.Tensor, gain: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """The RMSNorm formula written out (to test ``RMSNorm``)."""
    return gain * x / torch.sqrt((x**2).mean(dim=-1, keepdim=True) + eps)


def causal_mask(n_queries: int, n_keys: int, device: torch.device | None = None) -> torch.Tensor:
    """Boolean (n_queries, n_keys) mask, True where attention is allowed.

    The queries are the *last* n_queries of the n_keys tokens, so query i sits at position
    (n_keys − n_queries + i) and may look at keys 0 .. that position, never later ones.
    """
    past = n_keys - n_queries
    return torch.ones(n_queries, n_keys, dtype=torch.bool, device=device).tril(diagonal=past)


def attention_explicit(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, dropout_p: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention with a causal mask, written out step by step.

        scores  = Q Kᵀ / sqrt(d_k)            how well each query matches each key
        scores  = −∞ where key is in the future (causal mask)
        weights = softmax(scores) row by row  each row: a probability distribution over keys
        output  = weights · V                 a weighted average of the values

    q: (B, H, T_q, d_k), k and v: (B, H, T_k, d_k). Returns (output, weights (B, H, T_q, T_k)).
    Dividing by sqrt(d_k) keeps the scores' spread near 1 whatever the head size, so the softmax
    does not saturate into a one-hot vector (the app's "without scaling" toggle shows this).
    """
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)
    allowed = causal_mask(q.shape[-2], k.shape[-2], device=q.device)
    scores = scores.masked_fill(~allowed, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    dropped = dropout(weights, dropout_p, training=True)  # callers pass 0 outside training
    return dropped @ v, weights


def fused_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, dropout_p: float = 0.0
) -> torch.Tensor:
    """The output of ``attention_explicit`` from torch's fused kernel, without keeping the weights.

    The causal mask is passed in the cheapest form the shapes allow (T_q queries, T_k keys):

        T_q = T_k   no cached past: the usual lower-triangular mask (``is_causal``); for short
                    contexts without dropout, two batched matmuls instead (faster there, tinylm/fast.py)
        T_q = 1     one new token after a cached past: it may look at every key, no mask
        otherwise   a chunk after a cached past: ``causal_mask(T_q, T_k)``
    """
    n_queries, n_keys = q.shape[2], k.shape[2]
    if n_queries == n_keys and n_keys <= SHORT_CONTEXT and dropout_p == 0.0:
        return batched_causal_attention(q, k, v)
    if n_queries == n_keys:
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)
    if n_queries == 1:
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
    mask = causal_mask(n_queries, n_keys, device=q.device)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)


def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Dropout during training only, and only when p > 0 (skipping it costs nothing at generation)."""
    return F.dropout(x, p) if training and p > 0 else x


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention.

    Q = X W_Q,  K = X W_K,  V = X W_V           (one matmul computes all three)
    head_h = Attention(Q_h, K_h, V_h)           Q, K, V split into H heads of d_k = D/H numbers
    MultiHead(X) = Concat(head_1 .. head_H) W_O

    With ``qk_norm`` every query and key row is RMS-normalised (times a learned gain) before RoPE
    and the dot product, so each score is at most sqrt(d_k) · |g_q| · |g_k| in size.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.n_heads = config.n_heads
        self.head_dim = config.head_dim
        self.dropout_p = config.dropout
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)  # [W_Q | W_K | W_V]
        self.out_proj = nn.Linear(config.d_model, config.d_model)  # W_O
        if config.qk_norm:
            self.q_norm, self.k_norm = RMSNorm(config.head_dim), RMSNorm(config.head_dim)
        else:
            self.q_norm = self.k_norm = None

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) → (B, H, T, d_k): head h gets numbers h·d_k .. (h+1)·d_k − 1 of every token."""
        batch, length, _ = x.shape
        return x.view(batch, length, self.n_heads, self.head_dim).transpose(1, 2)

    def forward(
        self,
        x: torch.Tensor,
        rope: tuple[torch.Tensor, torch.Tensor] | None = None,
        cache: KVCache | None = None,
        layer: int = 0,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """MultiHead(x) (with dropout on it while training) and, if asked for, the attention weights."""
        batch, length, d_model = x.shape
        q, k, v = self.qkv(x).split(d_model, dim=2)
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)
        if self.q_norm is not None:  # QK-norm: q ← g_q ⊙ q / rms(q), k ← g_k ⊙ k / rms(k)
            q, k = self.q_norm(q), self.k_norm(k)
        if rope is not None:  # RoPE: rotate queries and keys by their positions
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        if cache is not None:
            k, v = cache.update(layer, k, v)
        dropout_p = self.dropout_p if self.training else 0.0
        if need_weights:
            out, weights = attention_explicit(q, k, v, dropout_p)
        else:  # fast path: same formula, fused kernel, no (T × T) matrix kept
            out, weights = fused_attention(q, k, v, dropout_p), None
        out = out.transpose(1, 2).reshape(batch, length, d_model)  # concatenate the heads
        return dropout(self.out_proj(out), dropout_p, self.training), weights


def relu_squared(x: torch.Tensor) -> torch.Tensor:
    """ReLU²(x) = max(0, x)² (So et al. 2021, "Primer")."""
    return F.relu(x).square()


ACTIVATION_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu": F.gelu,
    "relu": F.relu,
    "relu2": relu_squared,
}


class FeedForward(nn.Module):
    """Position-wise feed-forward network: FFN(x) = W₂ · act(W₁ x + b₁) + b₂, applied to each token alone.

    act is GELU, ReLU or ReLU² (``ModelConfig.activation``).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.fc1 = nn.Linear(config.d_model, config.d_ff)
        self.fc2 = nn.Linear(config.d_ff, config.d_model)
        self.activation = ACTIVATION_FUNCTIONS[config.activation]
        self.dropout_p = config.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(self.fc2(self.activation(self.fc1(x))), self.dropout_p, self.training)


@dataclass
class ForwardPass:
    """What every block of one forward pass shares, besides the stream x itself.

    rope        RoPE's (cos, sin) for these positions, or None
    cache       the KV cache to read the past from and append to, or None
    attentions  a list collecting each layer's attention weights, or None (fast path)
    residuals   a list collecting (name, stream) after every sub-layer, or None
    """

    rope: tuple[torch.Tensor, torch.Tensor] | None = None
    cache: KVCache | None = None
    attentions: list[torch.Tensor] | None = None
    residuals: list[tuple[str, torch.Tensor]] | None = None

    def record(self, name: str, x: torch.Tensor) -> None:
        if self.residuals is not None:
            self.residuals.append((name, x))


class Block(nn.Module):
    """One Transformer block: attention then feed-forward, each wrapped in a residual connection.

    pre-norm (GPT-2, default):  x = x + Attn(LN₁(x));  x = x + FFN(LN₂(x))
    post-norm (the paper):      x = LN₁(x + Attn(x));  x = LN₂(x + FFN(x))

    The residual "+ x" lets each sub-layer add a small update to a running stream of vectors
    instead of replacing it, which is what makes deep stacks trainable.

    attention-only (``config.attention_only``): no FFN and no LN₂, x = x + Attn(LN₁(x)) alone.
    The stream after the (absent) feed-forward is still recorded, equal to the one after attention.
    """

    def __init__(self, config: ModelConfig, layer: int = 0) -> None:
        super().__init__()
        self.layer = layer  # this block's index: its slot in the KV cache and its residual names
        self.pre_norm = config.norm_position == "pre"
        self.norm1 = LayerNorm(config.d_model)
        self.attention = CausalSelfAttention(config)
        self.attention_only = config.attention_only
        if not self.attention_only:
            self.norm2 = LayerNorm(config.d_model)
            self.feed_forward = FeedForward(config)

    def forward(self, x: torch.Tensor, run: ForwardPass) -> torch.Tensor:
        x = self.residual(x, self.norm1, lambda h: self.attend(h, run), run, "attention")  # x + Attn(LN₁(x))
        if self.attention_only:
            run.record(f"layer{self.layer}.feed_forward", x)  # no FFN: the stream goes on unchanged
            return x
        return self.residual(x, self.norm2, self.feed_forward, run, "feed_forward")  # x + FFN(LN₂(x))

    def residual(
        self, x: torch.Tensor, norm: LayerNorm, sublayer: Callable, run: ForwardPass, name: str
    ) -> torch.Tensor:
        """pre-norm: x + f(LN(x)); post-norm: LN(x + f(x)). The new stream is recorded as
        "layer{l}.{name}" when the pass collects residuals."""
        x = x + sublayer(norm(x)) if self.pre_norm else norm(x + sublayer(x))
        run.record(f"layer{self.layer}.{name}", x)
        return x

    def attend(self, x: torch.Tensor, run: ForwardPass) -> torch.Tensor:
        """Attn(x), keeping the attention weights when the pass collects them."""
        update, weights = self.attention(x, run.rope, run.cache, self.layer, run.attentions is not None)
        if run.attentions is not None:
            run.attentions.append(weights)
        return update


class TinyLM(nn.Module):
    """The whole model: tokens in, next-token logits out.

        x₀ = E[token] · sqrt(D) + PE[position]       (PE only for sinusoidal / learned positions)
        x_l = Block_l(x_{l−1})                        for l = 1 .. L
        logits = LN(x_L) Eᵀ                           (E shared with the input when weights are tied)
        logits ← c · tanh(logits / c)                 only with a logit soft-cap c > 0
        loss = mean over positions of −log softmax(logits)[true next token]

    Multiplying the embedding by sqrt(D) follows the paper (section 3.4): it keeps the token signal
    as large as the positional one, whose entries are sines and cosines of size ~1.
    """

    def __init__(self, config: ModelConfig, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.d_model)
        self.embedding_scale = math.sqrt(config.d_model)
        if config.pos_encoding == "learned":
            self.position_embedding = nn.Embedding(config.context_len, config.d_model)
        if config.pos_encoding == "sinusoidal":  # fixed, not trained, not saved: computed from the formula
            table = sinusoidal_positional_encoding(config.context_len, config.d_model)
            self.register_buffer("sinusoidal_table", table, persistent=False)
        self.blocks = nn.ModuleList(Block(config, layer) for layer in range(config.n_layers))
        # Pre-norm leaves the stream un-normalised after the last block, so one more LayerNorm.
        self.final_norm = LayerNorm(config.d_model) if config.norm_position == "pre" else nn.Identity()
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        if config.tie_weights:
            self.lm_head.weight = self.token_embedding.weight
        self.reset_parameters(seed)

    def reset_parameters(self, seed: int = 0) -> None:
        """GPT-2 initialisation: N(0, 0.02) weights, zero biases; the two projections that write into
        the residual stream (W_O and W₂) get std 0.02 / sqrt(2·L), so the stream's variance does not
        grow with depth (each of the 2·L residual additions adds a little), or 0 with ``zero_init_out``.

        A private random generator seeded with ``seed`` makes the initial weights depend on the seed
        alone, not on whatever else (another thread, another model) used torch's global generator.
        """
        generator = torch.Generator().manual_seed(int(seed))
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, mean=0.0, std=0.02, generator=generator)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, mean=0.0, std=0.02, generator=generator)
        residual_std = 0.02 / math.sqrt(2 * self.config.n_layers)
        for block in self.blocks:
            projections = [block.attention.out_proj]
            if not block.attention_only:
                projections.append(block.feed_forward.fc2)
            for projection in projections:
                nn.init.normal_(projection.weight, mean=0.0, std=residual_std, generator=generator)
                if self.config.zero_init_out:  # drawn all the same, so the other weights do not change
                    nn.init.zeros_(projection.weight)

    def num_parameters(self) -> int:
        """Trainable parameters (a tied matrix counts once)."""
        return sum(p.numel() for p in self.parameters())

    def embed(self, idx: torch.Tensor, start_pos: int = 0) -> torch.Tensor:
        """x₀: scaled token embeddings plus absolute positional encodings for positions start_pos + t."""
        length = idx.shape[1]
        x = self.token_embedding(idx) * self.embedding_scale
        if self.config.pos_encoding in ("sinusoidal", "learned"):
            if start_pos + length > self.config.context_len:
                raise ValueError(
                    f"positions up to {start_pos + length} exceed the context of {self.config.context_len}; "
                    "crop the input to the last context_len tokens first"
                )
            if self.config.pos_encoding == "sinusoidal":
                x = x + self.sinusoidal_table[start_pos : start_pos + length]
            else:
                positions = torch.arange(start_pos, start_pos + length, device=idx.device)
                x = x + self.position_embedding(positions)
        return dropout(x, self.config.dropout, self.training)

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        return_attention: bool = False,
        return_residuals: bool = False,
        cache: KVCache | None = None,
        start_pos: int = 0,
    ) -> ModelOutput:
        """idx (B, T) token ids → ModelOutput.

        targets (B, T): the true next tokens; when given, ``loss`` is their mean cross-entropy.
        cache: a KVCache to read earlier tokens from and append these to (generation).
        start_pos: position of idx[:, 0] (for a cache, the number of tokens already in it).
        """
        if idx.dim() != 2:
            raise ValueError(f"idx must have shape (batch, time), got {tuple(idx.shape)}")
        length = idx.shape[1]
        if cache is None and length > self.config.context_len:
            raise ValueError(f"sequence length {length} exceeds the context of {self.config.context_len}")
        x = self.embed(idx, start_pos)
        rope = None
        if self.config.pos_encoding == "rope":
            positions = torch.arange(start_pos, start_pos + length, device=idx.device)
            rope = rope_angles(positions, self.config.head_dim, self.config.rope_base)
        run = ForwardPass(
            rope=rope,
            cache=cache,
            attentions=[] if return_attention else None,
            residuals=[("embedding", x)] if return_residuals else None,
        )
        for block in self.blocks:
            x = block(x, run)
        logits = self.lm_head(self.final_norm(x))
        if self.config.logit_softcap > 0:
            cap = self.config.logit_softcap
            logits = cap * torch.tanh(logits / cap)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return ModelOutput(logits=logits, loss=loss, attentions=run.attentions, residuals=run.residuals)
