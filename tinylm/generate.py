"""Writing text with a trained model, one token at a time.

At each step the model gives logits z for the next token. They become a probability distribution
and one token is drawn from it, appended, and fed back in:

    temperature τ   p_i = softmax(z / τ)_i        τ < 1 sharpens, τ > 1 flattens, τ → 0 is greedy
    top-k           keep only the k most likely tokens, renormalise
    top-p (nucleus) keep the smallest set of most likely tokens whose probabilities add up to ≥ p
    greedy          always take the most likely token (deterministic)

Sampling uses its own seeded random generator: the same seed gives the same text, with or without
the KV cache.

The context window: a model with context T only ever sees T tokens. When the text grows past that,
the window jumps forward by half a context and the model then sees between T/2 and T previous
tokens. Why not slide one token at a time? In a model with more than one layer, every earlier
token's hidden state depends on which tokens were in the window when it was computed, so a sliding
window would have to recompute the whole window at every step, and the KV cache would be useless.
After a jump the window is computed once from scratch and cached again; the no-cache path uses
exactly the same windows, so both give the same text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from tinylm.errors import TinyLMError
from tinylm.model import KVCache, TinyLM
from tinylm.tokenizers import Tokenizer

MAX_NEW_TOKENS = 2000  # a bound on any single generation request


@dataclass
class SamplingSettings:
    """How to choose each next token. temperature 0 (or greedy=True) means greedy."""

    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    greedy: bool = False
    seed: int = 0
    max_new_tokens: int = 200

    def validate(self) -> None:
        if not 0.0 <= self.temperature <= 10.0:
            raise TinyLMError(
                "bad_sampling",
                "temperature must be between 0 and 10",
                name="temperature",
                value=self.temperature,
            )
        if self.top_k is not None and self.top_k < 1:
            raise TinyLMError("bad_sampling", "top-k must be at least 1", name="top_k", value=self.top_k)
        if self.top_p is not None and not 0.0 < self.top_p <= 1.0:
            raise TinyLMError("bad_sampling", "top-p must be in (0, 1]", name="top_p", value=self.top_p)
        if not 0 <= self.max_new_tokens <= MAX_NEW_TOKENS:
            raise TinyLMError(
                "bad_sampling",
                f"max new tokens must be between 0 and {MAX_NEW_TOKENS}",
                name="max_new_tokens",
                value=self.max_new_tokens,
            )

    @property
    def is_greedy(self) -> bool:
        return self.greedy or self.temperature == 0.0

    def stages(self, logits: torch.Tensor) -> dict[str, torch.Tensor]:
        """``distribution_stages`` of the logits with these settings (greedy: temperature 0); the last
        stage, "top_p", is what a token is drawn from."""
        temperature = 0.0 if self.is_greedy else self.temperature
        return distribution_stages(logits, temperature, self.top_k, self.top_p)


def distribution_stages(
    logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
) -> dict[str, torch.Tensor]:
    """The next-token distribution after each reshaping step (each a probability vector over V).

    "model": softmax(z), "temperature": softmax(z/τ), "top_k": only the k largest kept,
    "top_p": only the nucleus kept. Each stage is renormalised; the last one is what is sampled.
    Temperature 0 is greedy: all the probability on the most likely token.
    """
    logits = logits.detach().float()
    stages = {"model": torch.softmax(logits, dim=-1)}
    if temperature == 0.0:
        probs = torch.zeros_like(logits)
        probs[logits.argmax()] = 1.0
    elif temperature == 1.0:
        probs = stages["model"]
    else:
        probs = torch.softmax(logits / temperature, dim=-1)
    stages["temperature"] = probs
    if top_k is not None and top_k < probs.numel():
        kth_largest = torch.topk(probs, top_k).values[-1]
        probs = torch.where(probs >= kth_largest, probs, torch.zeros_like(probs))
        probs = probs / probs.sum()
    stages["top_k"] = probs
    if top_p is not None and top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        before = torch.cumsum(sorted_probs, dim=0) - sorted_probs  # mass of the tokens ranked above
        keep_sorted = before < top_p  # keep a token while the mass above it is still short of p
        keep = torch.zeros_like(keep_sorted).scatter(0, order, keep_sorted)
        probs = torch.where(keep, probs, torch.zeros_like(probs))
        probs = probs / probs.sum()
    stages["top_p"] = probs
    return stages


def sample(probs: torch.Tensor, generator: torch.Generator) -> int:
    """Draw one token id with probability probs[i] (inverse-CDF sampling).

    u ~ Uniform(0, 1); the answer is the first i whose cumulative probability exceeds u·Σp. A token
    with probability 0 adds nothing to the cumulative sum, so it can never be that first i.
    """
    cumulative = torch.cumsum(probs, dim=0)
    u = torch.rand((), generator=generator) * cumulative[-1]
    return min(int(torch.searchsorted(cumulative, u, right=True)), probs.numel() - 1)


@dataclass
class GenerationStep:
    """One generated token and the distribution it was drawn from."""

    index: int  # 0 for the first new token
    token_id: int
    token_text: str  # the token as a display piece
    probability: float  # its probability under the distribution that was sampled from
    model_probability: float  # its probability under the model's plain softmax (τ = 1)
    candidates: list[tuple[int, str, float]]  # the most likely next tokens: (id, piece, probability)
    logits: torch.Tensor | None = None  # (V,) raw scores, when asked for (the step mode shows them)


def window_start(context_len: int, prompt_length: int, n_generated: int = 0) -> int:
    """Where the model's window starts (it sees ids[start:]) after ``n_generated`` tokens were appended to a
    prompt of ``prompt_length`` tokens. The one rule of the module docstring, used by generate() itself.

    For the prompt, the window holds its last T = context_len tokens: s₀ = max(0, P − T). It stays put
    while the text fits (L − s ≤ T, L = P + n the text's length) and when it no longer does, jumps to
    hold the newest h = max(1, ⌊T/2⌋) tokens: s = L − h. The first jump comes at L₁ = s₀ + T + 1, and
    each next one T + 1 − h tokens later (the window then holds h tokens again), so

        s = s₀                          for L < L₁
        s = L₁ − h + k·(T + 1 − h),     k = ⌊(L − L₁) / (T + 1 − h)⌋, for L ≥ L₁.
    """
    first = max(0, prompt_length - context_len)
    length = prompt_length + n_generated
    first_jump = first + context_len + 1
    if length < first_jump:
        return first
    half = max(1, context_len // 2)
    period = context_len + 1 - half
    return first_jump - half + (length - first_jump) // period * period


def repeated_share(ids: Sequence[int], n: int = 4) -> float:
    """How much a text repeats itself: of its L − n + 1 runs of n tokens (ids[i:i+n]), the share that
    already occurred at an earlier i. 0 when nothing repeats, close to 1 when the text goes round in a
    loop; 0 for a text shorter than n."""
    runs = [tuple(ids[i : i + n]) for i in range(len(ids) - n + 1)]
    seen: set[tuple[int, ...]] = set()
    repeats = 0
    for run in runs:
        repeats += run in seen
        seen.add(run)
    return repeats / len(runs) if runs else 0.0


@torch.inference_mode()
def generate(
    model: TinyLM,
    prompt_ids: list[int],
    settings: SamplingSettings,
    tokenizer: Tokenizer | None = None,
    use_cache: bool = True,
    n_candidates: int = 10,
    return_logits: bool = False,
) -> Iterator[GenerationStep]:
    """Yield GenerationSteps one token at a time (stream them to a UI as they come)."""
    settings.validate()
    if not prompt_ids:
        raise TinyLMError("empty_prompt", "the prompt is empty: type at least one character")
    vocab, context_len = model.config.vocab_size, model.config.context_len
    if min(prompt_ids) < 0 or max(prompt_ids) >= vocab:
        raise ValueError("prompt ids out of range for this model")
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(int(settings.seed))
    ids = list(prompt_ids)
    start = window_start(context_len, len(ids))
    cache = KVCache(model.config.n_layers, context_len) if use_cache else None

    def full_forward() -> torch.Tensor:
        context = torch.tensor([ids[start:]], dtype=torch.long)
        return model(context, cache=cache).logits[0, -1]

    try:
        logits = full_forward()
        for index in range(settings.max_new_tokens):
            stages = settings.stages(logits)
            probs = stages["top_p"]
            token = int(torch.argmax(probs)) if settings.is_greedy else sample(probs, generator)
            top = torch.topk(probs, min(n_candidates, vocab))
            top_ids = top.indices.tolist()
            shown = [*top_ids, token]
            pieces = tokenizer.token_strings(shown) if tokenizer else [str(i) for i in shown]
            yield GenerationStep(
                index=index,
                token_id=token,
                token_text=pieces[-1],
                probability=float(probs[token]),
                model_probability=float(stages["model"][token]),
                candidates=list(zip(top_ids, pieces[:-1], top.values.tolist(), strict=True)),
                logits=logits.clone() if return_logits else None,
            )
            ids.append(token)
            if index == settings.max_new_tokens - 1:
                break
            previous, start = start, window_start(context_len, len(prompt_ids), index + 1)
            if start != previous or cache is None:  # the window jumped (or there is no cache): recompute
                cache = KVCache(model.config.n_layers, context_len) if use_cache else None
                logits = full_forward()
            else:  # one new token: its query looks at the cached keys and values of the window
                position = len(ids) - 1 - start
                logits = model(torch.tensor([[token]]), cache=cache, start_pos=position).logits[0, -1]
    finally:
        model.train(was_training)


def generate_text(
    model: TinyLM, tokenizer: Tokenizer, prompt: str, settings: SamplingSettings, use_cache: bool = True
) -> str:
    """The prompt's continuation as text (characters unknown to a char tokenizer count as unknown tokens)."""
    prompt_ids = tokenizer.encode(prompt)
    new_ids = [
        step.token_id for step in generate(model, prompt_ids, settings, None, use_cache, n_candidates=1)
    ]
    return tokenizer.decode(new_ids)
