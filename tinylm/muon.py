"""Muon: momentum, then an orthogonalised update for every weight matrix (Keller Jordan, 2024).

For a weight matrix W (m × n) with gradient G, one step is

    M ← μ M + (1 − μ) G                     momentum: a running average of the gradients (μ = 0.95)
    U = (1 − μ) G + μ M                     Nesterov: look one momentum step ahead (or U = M)
    O = NS(U) ≈ P Qᵀ      where U = P Σ Qᵀ  keep the singular vectors, set every singular value to ~1
    W ← W − η · sqrt(max(1, m / n)) · O

Why: the gradient of a weight matrix is usually dominated by a few directions (its singular values
span orders of magnitude), so SGD and Adam spend most of a step on those few and barely move the rest.
O = P Qᵀ moves *every* direction the gradient found by the same amount: each step changes the layer's
output by at most η per unit of input (O has spectral norm 1). The factor sqrt(max(1, m/n)) keeps the
step's size per weight comparable for tall matrices (m > n: W_QKV is 3D × D, W₁ is 4D × D).

Newton–Schulz computes P Qᵀ with matmuls only (no SVD). Start from X₀ = U / ‖U‖_F, so every singular
value is in (0, 1]; each iteration applies the odd polynomial p(σ) = a σ + b σ³ + c σ⁵ to all singular
values at once, because (X Xᵀ)^k X = P Σ^(2k+1) Qᵀ:

    A = X Xᵀ
    X ← a X + (b A + c A²) X

* The classic cubic (a, b, c) = (1.5, −0.5, 0) converges to exactly P Qᵀ, but slowly for the small
  singular values (it only multiplies them by 1.5 per step).
* Muon's quintic (3.4445, −4.7750, 2.0315), chosen by Keller Jordan, has slope 3.4445 at 0: five steps
  bring every singular value down to about 1/300 of the largest into roughly [0.68, 1.2] (tested)
  instead of exactly 1. That inexactness costs nothing measurable in training, and five steps of
  three small matmuls are cheap.

Muon is only for the 2-D matrices inside the blocks. The embedding (a lookup table, one row per token:
its gradient touches only the rows of the batch's tokens), the output layer and the 1-D gains and
biases are trained with AdamW (as in modded-nanogpt).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

QUINTIC = (3.4445, -4.7750, 2.0315)  # Keller Jordan's Muon coefficients: fast, approximately orthogonal
CUBIC = (1.5, -0.5, 0.0)  # the classic Newton–Schulz iteration: slow, converges to exactly P Qᵀ
NS_STEPS = 5


def newton_schulz(
    g: torch.Tensor, steps: int = NS_STEPS, coefficients: tuple[float, float, float] = QUINTIC
) -> torch.Tensor:
    """≈ P Qᵀ for g = P Σ Qᵀ (the nearest semi-orthogonal matrix), by the iteration above.

    g: (m, n), or a stack (..., m, n) orthogonalised matrix by matrix. A wide matrix (m < n) is
    iterated as is; a tall one is transposed first, so that A = X Xᵀ is the smaller of the two Gram
    matrices.
    """
    a, b, c = coefficients
    tall = g.shape[-2] > g.shape[-1]
    x = g.mT if tall else g
    x = x / (torch.linalg.matrix_norm(x, keepdim=True) + 1e-7)  # ‖X₀‖_F = 1, so every σ ≤ 1
    # addmm(M, P, Q, beta=β, alpha=α) = β M + α P Q in one kernel (a fifth less time than writing out
    # the products and sums at these sizes); baddbmm is the same for a stack of matrices.
    multiply_add = torch.addmm if x.dim() == 2 else torch.baddbmm
    for _ in range(steps):
        gram = x @ x.mT  # A = X Xᵀ
        poly = multiply_add(gram, gram, gram, beta=b, alpha=c)  # b A + c A²
        x = multiply_add(x, poly, x, beta=a)  # X ← a X + (b A + c A²) X
    return x.mT if tall else x


class Muon(torch.optim.Optimizer):
    """Muon for 2-D weight matrices (see the module docstring for the formulas).

    lr: η (0.02 is Keller Jordan's default for this scaling); momentum: μ; nesterov: use the
    look-ahead U = (1 − μ) G + μ M; weight_decay: λ, decoupled as in AdamW, W ← (1 − η λ) W.
    """

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter] | list[dict],
        lr: float = 0.02,
        momentum: float = 0.95,
        nesterov: bool = True,
        weight_decay: float = 0.0,
        ns_steps: int = NS_STEPS,
    ) -> None:
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "nesterov": nesterov,
            "weight_decay": weight_decay,
            "ns_steps": ns_steps,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.dim() != 2:
                    raise ValueError(
                        f"Muon is for 2-D weight matrices; got a parameter of shape {tuple(p.shape)}"
                    )

    @torch.no_grad()
    def step(self, closure=None):  # torch.optim.Optimizer's signature
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, mu = group["lr"], group["momentum"]
            # Matrices of one shape (every block's W_QKV, say) go through Newton–Schulz together, as
            # one stack: the same arithmetic in one kernel call per shape instead of one per matrix
            # (a speed trick only, tested to give the same weights as one matrix at a time; measured
            # on the live preset's 16 matrices, one thread: 5.1 instead of 5.6 ms of CPU per step).
            by_shape: dict[torch.Size, list[torch.nn.Parameter]] = {}
            for p in group["params"]:
                if p.grad is not None:
                    by_shape.setdefault(p.shape, []).append(p)
            for shape, params in by_shape.items():
                updates = []
                for p in params:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = torch.zeros_like(p)
                    buffer = state["momentum_buffer"]
                    buffer.lerp_(p.grad, 1 - mu)  # M ← μ M + (1 − μ) G
                    updates.append(p.grad.lerp(buffer, mu) if group["nesterov"] else buffer)
                orthogonal = newton_schulz(torch.stack(updates), group["ns_steps"])
                scale = -lr * max(1.0, shape[0] / shape[1]) ** 0.5
                for p, update in zip(params, orthogonal, strict=True):
                    if group["weight_decay"]:
                        p.mul_(1 - lr * group["weight_decay"])
                    p.add_(update, alpha=scale)
        return loss
