"""Speed tricks, all in one place, so the model code can stay a plain transcription of the maths.

* bf16 autocast: on CPUs with native bfloat16 matrix units (AVX512-BF16, AMX) matmuls run 4-8x faster
  in bf16; on CPUs without them (AVX2) bf16 is *emulated* and 10-100x slower. So "auto" measures a
  small matmul in both precisions once per process and uses bf16 only where it is really faster.
  Weights, optimizer state and the loss stay fp32 (autocast only changes what the matmuls compute in).
* fused AdamW: one kernel updates all parameters instead of a Python loop over them.
* threads: one torch thread per training job in the app (two jobs with two threads each on a 2-core
  machine fight and run many times slower); the CLI uses every core.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterable

import torch

PRECISIONS = ("auto", "fp32", "bf16")


@functools.cache
def bf16_speedup() -> float:
    """How many times faster a 256×256 matmul runs in bf16 than fp32 on this CPU (measured once)."""
    if not torch.backends.mkldnn.is_available():
        return 0.0
    a32, b32 = torch.randn(256, 256), torch.randn(256, 256)
    a16, b16 = a32.bfloat16(), b32.bfloat16()

    def best_of(a: torch.Tensor, b: torch.Tensor, budget: float = 0.05) -> float:
        best = float("inf")
        deadline = time.perf_counter() + budget
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - start)
        return best

    best_of(a16, b16, 0.01)  # warm up the kernels
    return best_of(a32, b32) / best_of(a16, b16)


def resolve_precision(precision: str = "auto") -> str:
    """'auto' → 'bf16' where bf16 matmuls are at least 1.3x faster than fp32 here, else 'fp32'."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}")
    if precision == "auto":
        return "bf16" if bf16_speedup() >= 1.3 else "fp32"
    return precision


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
