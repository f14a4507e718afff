"""Every attention head at once: the weights of all layers and heads for one text, and how focused each is.

For a text of T tokens, layer ℓ and head h have a T × T matrix of attention weights

    A^{ℓ,h} = softmax(Q Kᵀ / sqrt(d_k) + M)          row i: how query token i shares its attention
                                                    among the keys 0..i (M hides the future);
                                                    every row sums to 1

taken straight from the model's own forward pass, ``model(idx, return_attention=True).attentions``:
nothing here is hand-made.

How focused is a row? Its entropy, in nats (natural log; 0 · ln 0 counts as 0):

    H_i = −Σ_{j ≤ i} A_ij ln A_ij

    H_i = 0          all the weight on a single key (e.g. a head that always looks at the previous token)
    H_i = ln(i + 1)  the maximum: the weight spread evenly over all i + 1 keys it may see ("averaging" head)

Row 0 may only look at itself, so its entropy is always 0 and it says nothing about the head: the
per-head averages below skip it. Rows further down see more keys and can reach a higher entropy, so
the *normalised* entropy H_i / ln(i + 1) ∈ [0, 1] compares rows (and texts) of different lengths.

A few simple patterns name what a head does (averaged over the same rows 1..T−1):

    previous-token weight   mean_i A_{i,i−1}    close to 1: the head copies information from the token before
    self weight             mean_i A_{i,i}      the token mostly looks at itself
    first-token weight      mean_i A_{i,0}      the head "parks" its attention on the first token
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tinylm.explain.attention import TokenizedText, model_input, tokenize_for_display
from tinylm.model import TinyLM
from tinylm.tokenizers import Tokenizer


def attention_entropy(weights: np.ndarray) -> np.ndarray:
    """Entropy of each row (last axis) of attention weights, in nats: H = −Σ_j w_j ln w_j.

    Works on any shape (..., T_keys); masked-out keys have weight exactly 0 and add nothing (0 · ln 0 = 0).
    """
    p = np.asarray(weights, dtype=np.float64)
    logs = np.log(np.where(p > 0, p, 1.0))  # ln 1 = 0 where the weight is 0
    return np.maximum(-(p * logs).sum(axis=-1), 0.0)  # rounding can give −0.0 or −1e−17 for a one-hot row


def max_entropy(n_tokens: int) -> np.ndarray:
    """(T,) the largest entropy row i can have: ln(i + 1), when it spreads evenly over its i + 1 keys."""
    return np.log(np.arange(1, n_tokens + 1, dtype=np.float64))


@dataclass
class HeadSummary:
    """Per (layer, head) numbers, each (L, H), averaged over query rows 1..T−1 (all zeros if T = 1)."""

    mean_entropy: np.ndarray  # mean_i H_i, in nats
    normalized_entropy: np.ndarray  # mean_i H_i / ln(i + 1), in [0, 1]
    previous_token_weight: np.ndarray  # mean_i A_{i,i−1}
    self_weight: np.ndarray  # mean_i A_{i,i}
    first_token_weight: np.ndarray  # mean_i A_{i,0}


def summarize_heads(weights: np.ndarray) -> HeadSummary:
    """Summaries of attention weights shaped (L, H, T, T); see the module docstring for the formulas."""
    weights = np.asarray(weights, dtype=np.float64)
    n_layers, n_heads, n_tokens, _ = weights.shape
    if n_tokens < 2:  # only row 0, which has no choice to make
        zeros = np.zeros((n_layers, n_heads))
        return HeadSummary(zeros, zeros.copy(), zeros.copy(), zeros.copy(), zeros.copy())
    rows = np.arange(1, n_tokens)
    entropy = attention_entropy(weights)[..., 1:]  # (L, H, T−1)
    return HeadSummary(
        mean_entropy=entropy.mean(axis=-1),
        normalized_entropy=(entropy / max_entropy(n_tokens)[1:]).mean(axis=-1),
        previous_token_weight=weights[..., rows, rows - 1].mean(axis=-1),
        self_weight=weights[..., rows, rows].mean(axis=-1),
        first_token_weight=weights[..., rows, 0].mean(axis=-1),
    )


@torch.no_grad()
def attention_maps(model: TinyLM, ids: list[int]) -> np.ndarray:
    """(L, H, T, T) attention weights of every layer and head, from one forward pass of the model."""
    idx = model_input(model, ids)
    was_training = model.training
    model.eval()  # no dropout: the weights a student sees are the ones the model uses to write
    try:
        output = model(idx, return_attention=True)
    finally:
        model.train(was_training)
    return np.stack([layer[0].to(torch.float64).cpu().numpy() for layer in output.attentions])


@dataclass
class HeadsView:
    """Everything the attention explorer shows for one text."""

    tokens: TokenizedText  # the tokens used: the *last* context_len of the text
    weights: np.ndarray  # (L, H, T, T) attention weights
    entropy: np.ndarray  # (L, H, T) entropy of every row
    summary: HeadSummary

    @property
    def pieces(self) -> list[str]:
        return self.tokens.pieces


def explore_heads(model: TinyLM, tokenizer: Tokenizer, text: str) -> HeadsView:
    """Tokenise ``text`` and return the attention of every head on its last ``context_len`` tokens.

    The model reads at most context_len tokens at a time; for a longer text these are the most recent
    ones, exactly the window it would use to predict the next token. Raises TinyLMError("empty_prompt").
    """
    tokens = tokenize_for_display(tokenizer, text, model.config.context_len, keep="last")
    weights = attention_maps(model, tokens.ids)
    return HeadsView(
        tokens=tokens, weights=weights, entropy=attention_entropy(weights), summary=summarize_heads(weights)
    )
