"""Induction heads (Olsson et al. 2022, "In-context Learning and Induction Heads"): which heads look at
the previous token, which look at what followed the current token last time, and how much the context
helps the model.

The probe is a repeated random sequence, n random tokens and then the same n again:

    s = [x₁ … xₙ, x₁ … xₙ]          positions 0 … 2n−1; position n + j holds x_{j+1} again

(the xᵢ all different when the vocabulary allows, so every token of the second copy has exactly one
earlier occurrence). For layer ℓ and head h, A = A^{ℓ,h} are the attention weights of the model's own
forward pass, ``model(idx, return_attention=True)``, averaged over a few such sequences:

    previous-token score   P = mean_{i = 1 … 2n−1} A[i, i−1]        1: always looks one token back
    induction score        I = mean_{i = n … 2n−1} A[i, i−n+1]      1: from a token of the second copy,
                                                                    always looks at the token that
                                                                    followed its first occurrence

An induction head is the second half of a two-head circuit: a previous-token head in an earlier layer
writes "the token before me was a" into each position's residual stream; the induction head at a later
"a" then finds (query "I am a" · key "the token before me was a") the position right after the earlier
"a" and copies its token. One layer cannot do it: its keys only know their own token and position.

    copying score   C = Σ Re λ / Σ |λ|, over the eigenvalues λ of the head's OV circuit
                    M = W_E diag(γ₁) W_V^h W_O^h diag(γ_f) W_U        (V × V)

M[a, b] is how much attending to token a raises the logit of token b, through this head alone. C near
1: the head raises the logit of the token it attends to (it copies); near −1: it lowers it. The
LayerNorms are left out apart from their γ scales (γ₁ the head's own LN₁, γ_f the final LN, pre-norm
only), as in Elhage et al. 2021. M has rank ≤ d_k, and its nonzero eigenvalues are those of the small
d_k × d_k matrix W_O^h diag(γ_f) W_U W_E diag(γ₁) W_V^h, which is what is computed.

In-context learning score, on held-out text cut into windows of T tokens:

    ℓ_t = mean over windows of −ln p(x_{t+1} | x₀ … x_t)       the loss at position t
    ICL = mean_{t ∈ late} ℓ_t − mean_{t ∈ early} ℓ_t

with early = positions 1 … T/8 and late = the last T/8 positions (Olsson et al. compare tokens 50 and
500 of 512). Negative: the model predicts better with more context. A model without induction heads
scores about 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from tinylm.data import evaluation_windows
from tinylm.model import TinyLM
from tinylm.tokenizers import CharTokenizer, Tokenizer

PROBE_LENGTH = 24  # n: the probe is 2n tokens
PROBE_BATCH = 4  # random sequences averaged


@dataclass
class RepeatedProbe:
    """``batch`` repeated random sequences [x₁ … xₙ, x₁ … xₙ], as a (batch, 2n) tensor of token ids."""

    ids: torch.Tensor
    n: int


@dataclass
class HeadScores:
    """Per (layer, head) scores, each an (L, H) array; see the module docstring for the formulas."""

    previous_token: np.ndarray  # P, in [0, 1]
    induction: np.ndarray  # I, in [0, 1]


def probe_tokens(tokenizer: Tokenizer) -> list[int]:
    """The token ids a probe draws from: tokens that can appear in text, without whitespace-only ones.

    Character tokenizer: every known character except the unknown token (id 0), spaces and line breaks.
    Byte-level BPE: printable ASCII bytes and every merged token (other bytes mostly never occur).
    """
    if isinstance(tokenizer, CharTokenizer):
        candidates = list(range(1, tokenizer.vocab_size))
    else:
        candidates = [*range(33, 127), *range(256, tokenizer.vocab_size)]
    pieces = tokenizer.token_strings(candidates)
    kept = [i for i, piece in zip(candidates, pieces, strict=True) if piece.strip()]
    return kept or candidates


def repeated_probe(
    token_ids: Sequence[int], n: int = PROBE_LENGTH, batch: int = PROBE_BATCH, seed: int = 0
) -> RepeatedProbe:
    """``batch`` sequences of n tokens drawn from ``token_ids`` (without repeats if there are at least n),
    each followed by itself. The same seed gives the same probe."""
    pool = torch.tensor(list(token_ids), dtype=torch.long)
    if len(pool) == 0 or n < 2 or batch < 1:
        raise ValueError("need at least one token id, n >= 2 and batch >= 1")
    generator = torch.Generator().manual_seed(seed)
    if len(pool) >= n:
        rows = [pool[torch.randperm(len(pool), generator=generator)[:n]] for _ in range(batch)]
        first = torch.stack(rows)
    else:
        first = pool[torch.randint(len(pool), (batch, n), generator=generator)]
    return RepeatedProbe(ids=torch.cat([first, first], dim=1), n=n)


@torch.no_grad()
def attention_weights(model: TinyLM, idx: torch.Tensor) -> np.ndarray:
    """(B, L, H, T, T) attention weights of every layer and head, from one eval-mode forward pass."""
    was_training = model.training
    model.eval()
    try:
        attentions = model(idx, return_attention=True).attentions
    finally:
        model.train(was_training)
    return torch.stack(attentions, dim=1).to(torch.float64).numpy()


def previous_token_score(weights: np.ndarray) -> np.ndarray:
    """P = mean_{i = 1 … T−1} A[i, i−1] for attention weights (..., T, T); returns the leading axes (...)."""
    weights = np.asarray(weights, dtype=np.float64)
    rows = np.arange(1, weights.shape[-1])
    return weights[..., rows, rows - 1].mean(axis=-1)


def induction_score(weights: np.ndarray, n: int) -> np.ndarray:
    """I = mean_{i = n … 2n−1} A[i, i−n+1] for attention weights (..., 2n, 2n) on a repeated sequence;
    returns the leading axes (...)."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape[-1] != 2 * n:
        raise ValueError(f"a repeated sequence of 2·{n} tokens was expected, got {weights.shape[-1]}")
    rows = np.arange(n, 2 * n)
    return weights[..., rows, rows - n + 1].mean(axis=-1)


def head_scores(model: TinyLM, probe: RepeatedProbe) -> HeadScores:
    """Previous-token and induction scores of every head, from the model's attention on the probe."""
    if probe.ids.shape[1] > model.config.context_len:
        length, context = probe.ids.shape[1], model.config.context_len
        raise ValueError(f"the probe has {length} tokens; the context is {context}")
    weights = attention_weights(model, probe.ids)  # (B, L, H, 2n, 2n)
    return HeadScores(
        previous_token=previous_token_score(weights).mean(axis=0),
        induction=induction_score(weights, probe.n).mean(axis=0),
    )


@torch.no_grad()
def copying_scores(model: TinyLM) -> np.ndarray:
    """(L, H) copying score C = Σ Re λ / Σ |λ| of every head's OV circuit (see the module docstring)."""
    config = model.config
    d_model, d_k = config.d_model, config.head_dim
    w_e = model.token_embedding.weight.double()  # (V, D)
    w_u = model.lm_head.weight.double().T  # (D, V): logits = x W_U
    pre_norm = config.norm_position == "pre"
    gamma_f = model.final_norm.weight.double() if pre_norm else torch.ones(d_model, dtype=torch.float64)
    scores = np.zeros((config.n_layers, config.n_heads))
    for layer, block in enumerate(model.blocks):
        attention = block.attention
        gamma_1 = block.norm1.weight.double() if pre_norm else torch.ones(d_model, dtype=torch.float64)
        w_v_all = attention.qkv.weight.double().T[:, 2 * d_model :]  # (D, D): X W_V
        w_o_all = attention.out_proj.weight.double().T  # (D, D): Concat W_O
        for head in range(config.n_heads):
            cols = slice(head * d_k, (head + 1) * d_k)
            w_v, w_o = w_v_all[:, cols], w_o_all[cols, :]  # (D, d_k), (d_k, D)
            small = (w_o * gamma_f) @ w_u @ (w_e * gamma_1) @ w_v  # (d_k, d_k)
            eigenvalues = torch.linalg.eigvals(small)
            total = float(eigenvalues.abs().sum())
            scores[layer, head] = float(eigenvalues.real.sum()) / total if total > 0 else 0.0
    return scores


def loss_windows(ids: Sequence[int] | torch.Tensor, context_len: int, max_tokens: int = 8192) -> torch.Tensor:
    """Rows of T+1 token ids to measure a loss on: non-overlapping windows of the text (at most
    ``max_tokens // T`` of them, spread over the text), or the whole text as one row if it is shorter."""
    ids = torch.as_tensor(ids, dtype=torch.long)
    if len(ids) < 2:
        raise ValueError("need at least 2 tokens to measure a next-token loss")
    if len(ids) < context_len + 2:
        return ids[: context_len + 1][None]
    return evaluation_windows(ids, context_len, max_tokens)


@torch.no_grad()
def position_losses(model: TinyLM, windows: torch.Tensor, batch_size: int = 64) -> np.ndarray:
    """(T,) ℓ_t: the mean next-token cross-entropy at each position t of the windows (rows of T+1 ids)."""
    was_training = model.training
    model.eval()
    total = torch.zeros(windows.shape[1] - 1, dtype=torch.float64)
    try:
        for start in range(0, len(windows), batch_size):
            chunk = windows[start : start + batch_size]
            logits = model(chunk[:, :-1]).logits.float()
            losses = F.cross_entropy(logits.transpose(1, 2), chunk[:, 1:], reduction="none")  # (B, T)
            total += losses.sum(dim=0).double()
    finally:
        model.train(was_training)
    return (total / len(windows)).numpy()


def icl_ranges(length: int) -> tuple[range, range]:
    """The early and late positions of a window of ``length`` tokens: 1 … T/8 and the last T/8."""
    width = max(1, length // 8)
    early = range(1, min(1 + width, length))
    late = range(max(length - width, early.stop), length)
    return early, late


def icl_score(losses: np.ndarray) -> float:
    """ICL = mean loss at late positions − mean loss at early ones (``icl_ranges``); negative is better.
    0.0 for windows too short to have both."""
    losses = np.asarray(losses, dtype=np.float64)
    early, late = icl_ranges(len(losses))
    if not early or not late:
        return 0.0
    return float(losses[list(late)].mean() - losses[list(early)].mean())


def probe_losses(model: TinyLM, probe: RepeatedProbe) -> np.ndarray:
    """(2n−1,) ℓ_t on the probe; positions n … 2n−2 predict the second copy's tokens 2 … n."""
    return position_losses(model, probe.ids)


def second_copy_loss(losses: np.ndarray, n: int) -> float:
    """Mean loss where copying helps: positions n … 2n−2 (they predict x₂ … xₙ of the second copy)."""
    return float(np.asarray(losses)[n : 2 * n - 1].mean())


def probe_for_context(
    tokenizer: Tokenizer, context_len: int, n: int = PROBE_LENGTH, batch: int = PROBE_BATCH, seed: int = 0
) -> RepeatedProbe | None:
    """A probe of min(n, T/2) tokens repeated, drawn from ``probe_tokens``; None if T < 4."""
    if context_len < 4:
        return None
    return repeated_probe(probe_tokens(tokenizer), n=min(n, context_len // 2), batch=batch, seed=seed)


def training_recorder(
    tokenizer: Tokenizer,
    val_ids: torch.Tensor,
    context_len: int,
    n: int = PROBE_LENGTH,
    batch: int = PROBE_BATCH,
    max_tokens: int = 8192,
    seed: int = 0,
) -> Callable[[TinyLM], dict]:
    """A ``Trainer(eval_extras=...)`` hook: at every evaluation, every head's induction and previous-token
    scores on a fixed probe (n tokens twice, at most half the context) and the ICL score on fixed held-out
    windows, as JSON-ready numbers: {"induction": [[I per head] per layer], "prev_token": [[P …] …],
    "icl": ICL}. A context under 4 tokens has no room for a probe: then only "icl"."""
    probe = probe_for_context(tokenizer, context_len, n, batch, seed)
    windows = loss_windows(val_ids, context_len, max_tokens)

    def record(model: TinyLM) -> dict:
        extras: dict = {}
        if probe is not None:
            scores = head_scores(model, probe)
            extras["induction"] = np.round(scores.induction, 4).tolist()
            extras["prev_token"] = np.round(scores.previous_token, 4).tolist()
        extras["icl"] = round(icl_score(position_losses(model, windows)), 4)
        return extras

    return record


# ---------------------------------------------------------------------------------------------
# Reading a run's record: the score curves, the threshold crossing and the loss bump
# ---------------------------------------------------------------------------------------------

INDUCTION_THRESHOLD = 0.4  # a head whose induction score passes this is called an induction head
BUMP_RATIO = 3.0  # the loss falls at least this many times faster in the bump than just before it
BUMP_MIN_DROP = 0.05  # nats: and by at least this much


@dataclass
class ScoreCurves:
    """Head scores recorded at evaluations: ``scores[e, l, h]`` at ``steps[e]`` (E evaluations)."""

    steps: np.ndarray  # (E,)
    scores: np.ndarray  # (E, L, H)

    @property
    def best(self) -> np.ndarray:
        """(E,) the best head's score at each evaluation."""
        return self.scores.max(axis=(1, 2)) if len(self.steps) else np.zeros(0)


def score_curves(rows: Sequence) -> ScoreCurves:
    """[step, [[score per head] per layer]] rows (a run's history "induction" / "prev_token") as arrays.
    Rows whose matrix is not the shape of the last row's are left out."""
    good = [(row[0], np.asarray(row[1], dtype=np.float64)) for row in rows if len(row) == 2]
    good = [(step, matrix) for step, matrix in good if matrix.ndim == 2 and matrix.size]
    if not good:
        return ScoreCurves(np.zeros(0), np.zeros((0, 0, 0)))
    shape = good[-1][1].shape
    good = [(step, matrix) for step, matrix in good if matrix.shape == shape]
    return ScoreCurves(np.array([s for s, _ in good], dtype=np.float64), np.stack([m for _, m in good]))


def first_crossing(steps: Sequence[float], values: Sequence[float], threshold: float = INDUCTION_THRESHOLD):
    """The first step whose value passes ``threshold`` (≥), or None."""
    for step, value in zip(steps, values, strict=True):
        if value >= threshold:
            return step
    return None


@dataclass
class LossBump:
    """The phase change seen in the loss curve: where it falls fastest, after a slower stretch."""

    step: float  # the middle of the steepest stretch (the step to mark)
    start_step: float  # the stretch: from here …
    end_step: float  # … to here
    drop: float  # smoothed loss fall over the stretch (nats)
    drop_before: float  # … and over the stretch of the same length just before it


def loss_bump(
    steps: Sequence[float],
    losses: Sequence[float],
    ratio: float = BUMP_RATIO,
    min_drop: float = BUMP_MIN_DROP,
) -> LossBump | None:
    """The loss bump of a phase change (Olsson et al. 2022), or None if the curve has none.

    With the N recorded losses ℓ_i smoothed by a moving mean over 5 points, s_i, and a stretch of
    w = max(2, N/10) points:

        d_i = s_i − s_{i+w}                       the fall over the stretch starting at point i
        i*  = argmax_{i ≥ w} d_i                  the steepest stretch that has one before it
        a bump when  d_{i*} ≥ ratio · d_{i*−w}  and  d_{i*} ≥ min_drop

    i.e. the loss suddenly falls (at least 3 times faster than just before, by 0.05 nats or more)
    after a plateau. The first stretch (the fall from the random start) never counts. Measured on
    ``benchmarks/induction.json``: the 2-layer preset's bump sits within 30 steps of its induction
    score passing 0.4, and neither the 1-layer preset nor the demo models' curves have one.
    """
    x = np.asarray(steps, dtype=np.float64)
    y = np.asarray(losses, dtype=np.float64)
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    n = len(y)
    width = max(2, n // 10)
    if n < 2 * width + 1:
        return None
    k = 5 if n >= 15 else 1
    smooth = np.convolve(np.pad(y, (k // 2, k // 2), mode="edge"), np.ones(k) / k, mode="valid")
    falls = smooth[:-width] - smooth[width:]  # d_i, i = 0 … n − w − 1
    i = width + int(np.argmax(falls[width:]))
    drop, before = float(falls[i]), float(falls[i - width])
    if drop < min_drop or drop < ratio * max(before, 0.0):
        return None
    return LossBump(
        step=float(x[i + width // 2]),
        start_step=float(x[i]),
        end_step=float(x[i + width]),
        drop=drop,
        drop_before=before,
    )
