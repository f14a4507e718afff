"""Speed tricks, all in one place, so the model code can stay a plain transcription of the maths.

* bf16 autocast: on CPUs with native bfloat16 matrix units (AVX512-BF16, AMX) matmuls run 4-8x faster
  in bf16; on CPUs without them (AVX2) bf16 is *emulated* and 10-100x slower. So "auto" measures a
  small matmul in both precisions once per process and uses bf16 only where it is really faster.
  Weights, optimizer state and the loss stay fp32 (autocast only changes what the matmuls compute in).
  A fast bf16 matmul is not enough, though: on an AMD EPYC with AVX512-BF16 a 256×256 matmul ran 2.1x
  faster in bf16, yet a training step of the live preset (d_model 64) ran 1.7x *slower* (115 vs 68 ms;
  the casts and the other kernels cost more than the small matmuls save). So where bf16 matmuls are
  fast, a trainer with "auto" also times its own model's forward and backward pass both ways
  (``faster_precision``) before it starts.
  Where the two are about as fast (the d_model 128 demo model there: 0.97-1.06x) timings under load
  can still tip the choice either way, and the two precisions round differently: a run is exactly
  reproducible only with a precision asked for ("fp32"), not with "auto".
* attention over short contexts (training, T ≤ 128): two batched matmuls around a softmax
  (``batched_causal_attention``) instead of torch's fused CPU kernel. The fused kernel tiles for long
  sequences; at T = 64 and d_k = 16 (the live preset) its forward and backward took 2.9 ms per layer on
  two threads against 2.4 ms batched (5.1 vs 4.4 ms on one thread), and up to 2x that gap for T = 32
  or d_k = 32; from T = 256 up the fused kernel is as fast or faster (AMD EPYC, 2026-12-02).
* fused AdamW: one kernel updates all parameters instead of a Python loop over them.
* threads: one torch thread per training job in the app (two jobs with two threads each on a 2-core
  machine fight and run many times slower); the CLI uses every core.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterable

import torch

PRECISIONS = ("auto", "fp32", "bf16")


def fastest_call(work: Callable[[], object], calls: int = 0, budget: float = 0.0) -> float:
    """The shortest wall time, in seconds, of one ``work()`` over ``calls`` calls, or over as many calls
    as fit in ``budget`` seconds (the best of many: the least disturbed by the rest of the machine)."""
    best = float("inf")
    deadline = time.perf_counter() + budget
    done = 0
    while done < calls or time.perf_counter() < deadline:
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
        done += 1
    return best


@functools.cache
def bf16_speedup() -> float:
    """How many times faster a 256×256 matmul runs in bf16 than fp32 on this CPU (measured once)."""
    if not torch.backends.mkldnn.is_available():
        return 0.0
    a32, b32 = torch.randn(256, 256), torch.randn(256, 256)
    a16, b16 = a32.bfloat16(), b32.bfloat16()
    fastest_call(lambda: a16 @ b16, budget=0.01)  # warm up the kernels
    return fastest_call(lambda: a32 @ b32, budget=0.05) / fastest_call(lambda: a16 @ b16, budget=0.05)


def resolve_precision(precision: str = "auto") -> str:
    """'auto' → 'bf16' where bf16 matmuls are at least 1.3x faster than fp32 here, else 'fp32'."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}")
    if precision == "auto":
        return "bf16" if bf16_speedup() >= 1.3 else "fp32"
    return precision


# bf16 must beat fp32 on the model's own pass by this much to be chosen (timings vary by ~10 %)
BF16_MODEL_SPEEDUP = 1.2


def faster_precision(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, repeats: int = 3) -> str:
    """'bf16' if this model's forward and backward pass on (x, y) is at least BF16_MODEL_SPEEDUP times
    faster under bf16 autocast than in fp32 (best of ``repeats`` each, taken in turns), else 'fp32'.

    Leaves no trace: no optimizer step, gradients cleared, the random state (dropout) restored.
    """

    def forward_and_backward(precision: str) -> None:
        with autocast(precision):
            loss = model(x, y).loss
        loss.backward()
        model.zero_grad(set_to_none=True)

    fp32 = bf16 = float("inf")
    with torch.random.fork_rng():
        forward_and_backward("fp32")  # warm-up: the first pass allocates
        for _ in range(repeats):  # taking turns: a change in the machine's load hits both alike
            fp32 = min(fp32, fastest_call(lambda: forward_and_backward("fp32"), calls=1))
            bf16 = min(bf16, fastest_call(lambda: forward_and_backward("bf16"), calls=1))
    return "bf16" if fp32 >= BF16_MODEL_SPEEDUP * bf16 else "fp32"


# Up to this many tokens, self-attention without a cached past runs as batched matmuls (see above)
SHORT_CONTEXT = 128


@functools.lru_cache(maxsize=16)
def additive_causal_mask(n_tokens: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """M (T × T): 0 on and below the diagonal, −∞ above it (key after query), so softmax gives it 0.

    >>> additive_causal_mask(3, torch.float32, torch.device("cpu"))
    tensor([[0., -inf, -inf],
            [0., 0., -inf],
            [0., 0., 0.]])
    """
    return torch.full((n_tokens, n_tokens), float("-inf"), dtype=dtype, device=device).triu(1)


def batched_causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(Q Kᵀ / sqrt(d_k) + M) V for q, k, v of shape (B, H, T, d_k), every query with its own
    and the earlier tokens: the heads of all sequences as one batch of B·H matrix products, the scaling
    and the mask M folded into the first one (``baddbmm``: M + α · Q Kᵀ, α = 1/sqrt(d_k))."""
    batch, heads, n_tokens, head_dim = q.shape
    queries, keys, values = (t.reshape(batch * heads, n_tokens, head_dim) for t in (q, k, v))
    mask = additive_causal_mask(n_tokens, queries.dtype, queries.device)
    scores = torch.baddbmm(mask, queries, keys.transpose(1, 2), alpha=head_dim**-0.5)
    return torch.bmm(torch.softmax(scores, dim=-1), values).view(batch, heads, n_tokens, head_dim)


def autocast(precision: str) -> contextlib.AbstractContextManager:
    """The context a forward pass runs in: bf16 autocast on CPU, or nothing for fp32."""
    if precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def make_optimizer(
    parameters: Iterable[torch.nn.Parameter] | list[dict],
    lr: float,
    betas: tuple[float, float] = (0.9, 0.99),
    weight_decay: float = 0.1,
) -> torch.optim.AdamW:
    """AdamW with the fused CPU kernel when this torch build has it (torch >= 2.4), else the default."""
    try:
        return torch.optim.AdamW(parameters, lr=lr, betas=betas, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError):  # pragma: no cover - older torch or unsupported device
        return torch.optim.AdamW(parameters, lr=lr, betas=betas, weight_decay=weight_decay)


def use_threads(n: int) -> None:
    """Use n intra-op threads in the *calling* thread.

    torch's thread count is a per-thread setting under OpenMP (a new Python thread starts with the
    default, one per core), so every worker thread that runs torch calls this first.
    """
    torch.set_num_threads(max(1, int(n)))
