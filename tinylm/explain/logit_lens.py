"""The logit lens (nostalgebraist 2020): what would the model predict if it stopped after this sub-layer?

The residual stream is a running sum: x₀ = the embedding, and every sub-layer adds its update,

    x_s = x_{s−1} + update_s          s = layer 0 attention, layer 0 feed-forward, layer 1 attention, …

The model only turns the *last* x into a prediction, logits = LN_f(x_L) W_U. The lens applies that same
final LayerNorm and unembedding to every intermediate x_s:

    p_s = softmax(LN_f(x_s) W_U)          (T × V): a next-token distribution per position, per stage

At the last stage this is exactly the model's own prediction (``max_final_difference`` checks it); at
earlier stages it shows when the right answer appears, e.g. only after the induction head's layer in a
repeated sequence. The streams come from the model's forward pass, ``model(idx, return_residuals=True)``.
Post-norm models have no final LayerNorm (each block ends in one), so there LN_f is the identity.
An attention-only model has no feed-forward sub-layers, so only the attention stages are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tinylm.explain.attention import TokenizedText, tokenize_for_display
from tinylm.model import TinyLM
from tinylm.tokenizers import Tokenizer


@dataclass
class LogitLens:
    """The top-k next tokens at every stage s (S of them) and position t (T of them)."""

    names: list[str]  # S stage names: "embedding", "layer0.attention", "layer0.feed_forward", …
    top_ids: np.ndarray  # (S, T, k) token ids, most probable first
    top_probs: np.ndarray  # (S, T, k) their probabilities p_s
    target_probs: np.ndarray  # (S, T) p_s of the token that really comes next (NaN at the last position)
    target_ranks: np.ndarray  # (S, T) its rank, 0 = the top prediction (−1 at the last position)
    max_final_difference: float  # max |lens logits at the last stage − the model's logits|


def stages(model: TinyLM, residuals: list[tuple[str, torch.Tensor]]) -> list[tuple[str, torch.Tensor]]:
    """The residual streams the lens reads: all of them, without the feed-forward entries of an
    attention-only model (they repeat the stream after attention)."""
    if not model.config.attention_only:
        return residuals
    return [(name, x) for name, x in residuals if not name.endswith(".feed_forward")]


@torch.no_grad()
def logit_lens(model: TinyLM, ids: list[int], k: int = 5) -> LogitLens:
    """The logit lens on token ids (1 … context_len of them), from one eval-mode forward pass."""
    if not 1 <= len(ids) <= model.config.context_len:
        raise ValueError(f"need 1..{model.config.context_len} tokens, got {len(ids)}")
    k = max(1, min(k, model.config.vocab_size))
    was_training = model.training
    model.eval()
    try:
        idx = torch.tensor([ids], dtype=torch.long)
        output = model(idx, return_residuals=True)
        streams = stages(model, output.residuals)
        length = len(ids)
        targets = torch.tensor(ids[1:], dtype=torch.long)
        top_ids, top_probs = [], []
        target_probs = np.full((len(streams), length), np.nan)
        target_ranks = np.full((len(streams), length), -1, dtype=np.int64)
        logits = None
        for s, (_, x) in enumerate(streams):
            logits = model.lm_head(model.final_norm(x))[0].float()  # (T, V)
            probs = torch.softmax(logits, dim=-1)
            best = probs.topk(k, dim=-1)
            top_ids.append(best.indices.numpy())
            top_probs.append(best.values.double().numpy())
            if length > 1:
                p_target = probs[:-1].gather(1, targets[:, None])[:, 0]
                target_probs[s, :-1] = p_target.double().numpy()
                target_ranks[s, :-1] = (probs[:-1] > p_target[:, None]).sum(dim=1).numpy()
        difference = float((logits - output.logits[0].float()).abs().max())
    finally:
        model.train(was_training)
    return LogitLens(
        names=[name for name, _ in streams],
        top_ids=np.stack(top_ids),
        top_probs=np.stack(top_probs),
        target_probs=target_probs,
        target_ranks=target_ranks,
        max_final_difference=difference,
    )


def explain_logit_lens(
    model: TinyLM, tokenizer: Tokenizer, text: str, k: int = 5
) -> tuple[TokenizedText, LogitLens, list[list[list[str]]]]:
    """Tokenise ``text`` (its first context_len tokens) and run the lens; also the top tokens' display
    strings, indexed [stage][position][rank]. Raises TinyLMError("empty_prompt") for an empty text."""
    tokens = tokenize_for_display(tokenizer, text, model.config.context_len)
    lens = logit_lens(model, tokens.ids, k)
    pieces = [[tokenizer.token_strings(row.tolist()) for row in stage] for stage in lens.top_ids]
    return tokens, lens, pieces
