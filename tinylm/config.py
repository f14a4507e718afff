"""Model configuration: every size and switch of a TinyLM in one dataclass (as in nanoGPT).

The defaults describe a 4-layer model in the paper's style; the presets the app and the command line
start from (``tinylm.presets``, the default "live") set their own values.
Bounds are checked here, once, so a bad setting gives one clear error instead of a crash
deep inside torch (or a server that runs out of memory).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from tinylm.errors import TinyLMError

POSITIONAL_ENCODINGS = ("sinusoidal", "learned", "rope", "none")
ACTIVATIONS = ("gelu", "relu", "relu2")
NORM_POSITIONS = ("pre", "post")

# Hard limits for anything a student can type. They keep one job inside a few hundred MB and a
# forward pass under a second, so a classroom server cannot be taken down by one slider.
LIMITS = {
    "vocab_size": (2, 8192),
    "context_len": (2, 512),
    "d_model": (4, 512),
    "n_layers": (1, 12),
    "n_heads": (1, 16),
    "d_ff": (4, 2048),
}
# The settings that take one of a few named values (checked in ModelConfig.validate).
CHOICES: dict[str, tuple[str, ...]] = {
    "pos_encoding": POSITIONAL_ENCODINGS,
    "activation": ACTIVATIONS,
    "norm_position": NORM_POSITIONS,
}
MAX_DROPOUT = 1.0  # dropout must be below this (p = 1 would drop everything)
MAX_PARAMETERS = 10_000_000
MAX_LOGIT_SOFTCAP = 1000.0


@dataclass
class ModelConfig:
    """Shape of a decoder-only (GPT-style) Transformer.

    vocab_size   V, number of token ids
    context_len  T_max, the longest sequence the model reads at once (its "context window")
    d_model      D, width of the residual stream; every token is a vector of D numbers
    n_layers     L, number of Transformer blocks
    n_heads      H, attention heads per block; each head works in d_k = D / H dimensions
    d_ff         width of the feed-forward hidden layer (default 4·D, as in the paper)
    dropout      dropout probability during training (0 = off; tiny models rarely need it)
    pos_encoding "sinusoidal" (Vaswani et al. 2017), "learned" (GPT-2), "rope" (rotary) or "none"
    activation   "gelu" (GPT), "relu" (the original paper) or "relu2": ReLU(x)² (So et al. 2021,
                 "Primer"; used by modded-nanogpt): as cheap as ReLU, and its hidden units are sparser
    norm_position "pre": x + f(LN(x)) (GPT-2, trains easily); "post": LN(x + f(x)) (the paper)
    tie_weights  share the token embedding matrix with the output layer (saves V·D parameters)
    rope_base    the 10000 in θ_i = base^(-2i/d) for RoPE (sinusoidal PE uses 10000 as in the paper)
    attention_only  no feed-forward network (nor its LayerNorm) in the blocks: attention layers only,
                 as in the induction-head paper (Olsson et al. 2022); d_ff and activation are unused

    Options for learning faster (issue 17; all off by default, so older checkpoints load unchanged):
    qk_norm        normalise every head's query and key rows before the dot product,
                   q ← g_q ⊙ q / rms(q), k ← g_k ⊙ k / rms(k) (learned gains g of d_k numbers, start 1):
                   the attention logits can then only grow through g, not through runaway weights,
                   which allows larger learning rates (Dehghani et al. 2023; Wortsman et al. 2023)
    zero_init_out  start W_O and W₂ (the projections that write into the residual stream) at zero:
                   every block starts as the identity and the first steps shape the embeddings and
                   the head (modded-nanogpt)
    logit_softcap  c > 0: logits ← c · tanh(logits / c), so no logit exceeds ±c and an over-confident
                   output cannot blow up the loss (Gemma 2, modded-nanogpt); 0 = off
    """

    vocab_size: int
    context_len: int = 64
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    d_ff: int | None = None
    dropout: float = 0.0
    pos_encoding: str = "sinusoidal"
    activation: str = "gelu"
    norm_position: str = "pre"
    tie_weights: bool = True
    rope_base: float = 10000.0
    attention_only: bool = False
    qk_norm: bool = False
    zero_init_out: bool = False
    logit_softcap: float = 0.0

    def __post_init__(self) -> None:
        if self.d_ff is None:
            self.d_ff = 4 * self.d_model
        self.validate()

    @property
    def head_dim(self) -> int:
        """d_k = d_model / n_heads: the width of one attention head."""
        return self.d_model // self.n_heads

    def validate(self) -> None:
        """Raise TinyLMError("bad_config", ...) naming the first setting that cannot work."""
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise TinyLMError(
                    "bad_config_range",
                    f"{name} must be an integer from {low} to {high} (got {value!r})",
                    name=name,
                    low=low,
                    high=high,
                    value=value,
                )
        if self.d_model % self.n_heads != 0:
            raise TinyLMError(
                "bad_config_heads",
                f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})",
                d_model=self.d_model,
                n_heads=self.n_heads,
            )
        for name, choices in CHOICES.items():
            if getattr(self, name) not in choices:
                raise TinyLMError(
                    "bad_config_choice",
                    f"{name} must be one of {choices}",
                    name=name,
                    value=getattr(self, name),
                    choices=", ".join(choices),
                )
        if self.pos_encoding == "sinusoidal" and self.d_model % 2:
            raise TinyLMError(
                "bad_config_even",
                "sinusoidal encoding needs an even d_model",
                name="d_model",
                value=self.d_model,
            )
        if self.pos_encoding == "rope" and self.head_dim % 2:
            raise TinyLMError(
                "bad_config_even",
                "RoPE rotates pairs of numbers, so d_model / n_heads must be even",
                name="d_model / n_heads",
                value=self.head_dim,
            )
        if not isinstance(self.dropout, (int, float)) or not 0.0 <= float(self.dropout) < MAX_DROPOUT:
            raise TinyLMError(
                "bad_config_dropout", f"dropout must be in [0, 1) (got {self.dropout!r})", value=self.dropout
            )
        if not isinstance(self.rope_base, (int, float)) or not 1.0 < float(self.rope_base) <= 1e7:
            raise TinyLMError(
                "bad_config_range",
                "rope_base must be in (1, 1e7]",
                name="rope_base",
                low=1,
                high=10_000_000,
                value=self.rope_base,
            )
        for name in ("attention_only", "qk_norm", "zero_init_out"):
            if not isinstance(getattr(self, name), bool):
                raise TinyLMError(
                    "bad_config_choice",
                    f"{name} must be true or false (got {getattr(self, name)!r})",
                    name=name,
                    value=getattr(self, name),
                    choices="true, false",
                )
        softcap = self.logit_softcap
        is_number = isinstance(softcap, (int, float)) and not isinstance(softcap, bool)
        if not is_number or not 0 <= softcap <= MAX_LOGIT_SOFTCAP:
            raise TinyLMError(
                "bad_config_range",
                f"logit_softcap must be in [0, {MAX_LOGIT_SOFTCAP:g}] (0: off)",
                name="logit_softcap",
                low=0,
                high=MAX_LOGIT_SOFTCAP,
                value=softcap,
            )
        n_params = count_parameters(self)
        if n_params > MAX_PARAMETERS:
            raise TinyLMError(
                "too_many_parameters",
                f"this model would have {n_params:,} parameters; the limit is {MAX_PARAMETERS:,}",
                value=n_params,
                limit=MAX_PARAMETERS,
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Build from JSON (e.g. a checkpoint); unknown keys or wrong types give a clear error."""
        if not isinstance(data, dict):
            raise TinyLMError("bad_checkpoint", "model config is not a JSON object", detail="config")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise TinyLMError("bad_checkpoint", f"unknown config keys: {unknown}", detail=", ".join(unknown))
        if "vocab_size" not in data:
            raise TinyLMError("bad_checkpoint", "config has no vocab_size", detail="vocab_size")
        try:
            return cls(**data)
        except TypeError as exc:  # e.g. a string where a number belongs
            raise TinyLMError("bad_checkpoint", f"bad model config: {exc}", detail=str(exc)) from None


def count_parameters(config: ModelConfig) -> int:
    """Number of trainable parameters, computed from the shapes alone (no model is built).

    per block: attention 4·D² + 4·D (W_Q, W_K, W_V, W_O and biases)
               feed-forward 2·D·F + F + D, two LayerNorms 4·D
               (attention-only: no feed-forward and one LayerNorm, 2·D)
    plus token embedding V·D, learned positions T·D, final LayerNorm 2·D (pre-norm only),
    output layer V·D without bias (it is the embedding matrix itself when tied), and with QK-norm
    its two gains of d_k numbers per block.
    """
    d, f, v = config.d_model, config.d_ff or 4 * config.d_model, config.vocab_size
    per_block = 4 * d * d + 4 * d + 2 * d  # attention and its LayerNorm
    if not config.attention_only:
        per_block += 2 * d * f + f + d + 2 * d  # feed-forward and its LayerNorm
    total = config.n_layers * per_block + v * d
    if not config.tie_weights:
        total += v * d
    if config.pos_encoding == "learned":
        total += config.context_len * d
    if config.norm_position == "pre":
        total += 2 * d
    if config.qk_norm:
        total += config.n_layers * 2 * (d // config.n_heads)
    return total


def estimate_training_memory_bytes(config: ModelConfig, batch_size: int) -> int:
    """A rough upper bound on the memory one training job needs (fp32).

    Weights, gradients and AdamW's two moment buffers: 4 copies of the parameters. Activations kept
    for the backward pass: per layer about 16·B·T·D numbers (inputs of the linear layers, the
    4·D-wide feed-forward hidden layer, norms) plus the B·H·T·T attention weights, and the B·T·V
    logits (with their softmax) at the end. Measured peaks in tests stay below this figure.
    """
    t, d, h, v = config.context_len, config.d_model, config.n_heads, config.vocab_size
    f = config.d_ff or 4 * d
    params = count_parameters(config)
    per_layer = batch_size * t * (10 * d + 3 * f) + 2 * batch_size * h * t * t
    activations = config.n_layers * per_layer + 3 * batch_size * t * v + 2 * batch_size * t * d
    return 4 * (4 * params + activations)
