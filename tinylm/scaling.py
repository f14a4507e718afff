"""Scaling laws at toy scale: FLOPs per token, power-law fits, the published constants, a cost calculator.

What a training run costs is counted in floating-point operations (FLOPs). Per token, a forward pass does
one multiply and one add (2 FLOPs) for every weight of every matrix multiply, plus attention's two
products of the token's query with the T keys and the T values:

    forward  ≈ 2·N_matmul + 2·2·L·T·D          N_matmul = L·(4·D² + 2·D·F) + V·D (the output layer)
    training ≈ 3 × forward = 6·N_matmul + 12·L·T·D        (the backward pass costs about twice the forward)
    generate ≈ 2·N_matmul + 2·2·L·t·D                     (t: tokens in the KV cache)

so C ≈ 6·N·D for a model of N parameters trained on D tokens, as Kaplan et al. (2020) and Hoffmann et al.
(2022) count it; at a context of 64 and widths of 20-170 attention's share is 10-30 % here, while for
GPT-3 (T = 2048, D = 12288) it is about 3 %. Attention is counted over the whole T×T square, as those
papers do, although a causal mask makes half of it zeros; layer norms, biases, GELU and softmax are left
out (each a few FLOPs per number, not per weight).

Fits (numpy only, see ``fit_power_law`` and ``fit_loss_surface``):

    L(x) = E + A / x^α                   x = parameters N, tokens D or compute C; E ≥ 0, A ≥ 0
    L(N, D) = E + A / N^α + B / D^β      Chinchilla's loss surface (their "Approach 3")

For a fixed α (and β) the model is linear in E, A (and B): least squares on the relative error
(L − fit) / L solves it exactly, so only the exponents are searched, on a grid refined around the best
value. The uncertainty comes from the linearised fit: the covariance s²·(JᵀJ)⁻¹ of the parameters (J: the
derivatives of the relative error at the fit, s² the residual variance), a band of ± t·σ(x) around the
curve (t: Student's t for the points' degrees of freedom), which is wide when a few points leave the
exponent loose — as it should be.

The published constants (``PUBLISHED``) carry their sources (``SOURCES``); the page shows both.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tinylm.config import ModelConfig

# ---------------------------------------------------------------------------------------------
# FLOPs
# ---------------------------------------------------------------------------------------------


def matmul_parameters(config: ModelConfig) -> int:
    """Weights used in a matrix multiply per token: L·(4·D² + 2·D·F) + V·D.

    Per block W_Q, W_K, W_V, W_O (4·D²) and the feed-forward's two matrices (2·D·F); then the output
    layer (V·D; with tied weights it is the embedding matrix, used as a matmul once). The embedding
    lookup itself, biases and LayerNorm gains are not matmuls."""
    d, f = config.d_model, config.d_ff or 4 * config.d_model
    return config.n_layers * (4 * d * d + 2 * d * f) + config.vocab_size * d


def attention_flops_per_token(config: ModelConfig, context: int | None = None) -> float:
    """Forward FLOPs of attention's two products per token: 2·2·L·T·D (q·kᵀ for T keys, then the
    weighted sum of T values, in every layer). ``context``: T (default: the model's context)."""
    t = config.context_len if context is None else context
    return 4.0 * config.n_layers * t * config.d_model


def forward_flops_per_token(config: ModelConfig, context: int | None = None) -> float:
    """2·N_matmul + 2·2·L·T·D: one forward pass, per token."""
    return 2.0 * matmul_parameters(config) + attention_flops_per_token(config, context)


def train_flops_per_token(config: ModelConfig) -> float:
    """3 × forward = 6·N_matmul + 12·L·T·D: forward, then backward (≈ 2 × forward: gradients with
    respect to both the activations and the weights)."""
    return 3.0 * forward_flops_per_token(config)


def generate_flops_per_token(config: ModelConfig, context: int | None = None) -> float:
    """One new token with the KV cache: 2·N_matmul + 2·2·L·t·D, t the tokens already in the cache."""
    return forward_flops_per_token(config, context)


def training_flops(config: ModelConfig, tokens: float) -> float:
    """C = train_flops_per_token · D."""
    return train_flops_per_token(config) * float(tokens)


def flops_breakdown(config: ModelConfig) -> dict[str, float]:
    """Forward FLOPs per token by part (their sum is ``forward_flops_per_token``)."""
    d, f, layers = config.d_model, config.d_ff or 4 * config.d_model, config.n_layers
    return {
        "qkv_projection": 2.0 * layers * 3 * d * d,
        "attention_scores": 2.0 * layers * config.context_len * d,  # q·kᵀ
        "attention_values": 2.0 * layers * config.context_len * d,  # weights · V
        "output_projection": 2.0 * layers * d * d,
        "feed_forward": 2.0 * layers * 2 * d * f,
        "unembedding": 2.0 * config.vocab_size * d,
    }


def six_nd(parameters: float, tokens: float) -> float:
    """The rule of thumb C ≈ 6·N·D."""
    return 6.0 * float(parameters) * float(tokens)


# ---------------------------------------------------------------------------------------------
# Fits
# ---------------------------------------------------------------------------------------------

# One-sided 95 % quantiles of Student's t by degrees of freedom (a two-sided 90 % band), from the
# standard tables; beyond 30 the normal 1.645.
T_95 = {1: 6.314, 2: 2.920, 3: 2.353, 4: 2.132, 5: 2.015, 6: 1.943, 7: 1.895, 8: 1.860, 9: 1.833}
T_95.update({10: 1.812, 12: 1.782, 15: 1.753, 20: 1.725, 25: 1.708, 30: 1.697})
ALPHA_RANGE = (0.005, 3.0)  # exponents searched


def t_quantile(dof: int) -> float:
    """Student's t (one-sided 95 %) for ``dof`` degrees of freedom, the table's next smaller entry."""
    if dof < 1:
        return math.inf
    known = [k for k in T_95 if k <= dof]
    return T_95[max(known)] if dof <= 30 else 1.645


def _nonnegative_lstsq(columns: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """argmin ‖X·c − y‖² with every c ≥ 0, for a few columns: the best of the unconstrained least-squares
    solutions on each subset of columns (the others 0) that keeps its coefficients ≥ 0."""
    n = columns.shape[1]
    best, best_sse = np.zeros(n), float(np.sum(y**2))
    for size in range(1, n + 1):
        for subset in itertools.combinations(range(n), size):
            coef, *_ = np.linalg.lstsq(columns[:, subset], y, rcond=None)
            if np.any(coef < 0):
                continue
            sse = float(np.sum((columns[:, subset] @ coef - y) ** 2))
            if sse < best_sse:
                best, best_sse = np.zeros(n), sse
                best[list(subset)] = coef
    return best, best_sse


def _search(profile, low: float, high: float, points: int = 121, rounds: int = 4) -> float:
    """The exponent minimising ``profile`` (the best squared error for that exponent): a log-spaced
    grid, then finer grids around the best point."""
    grid = np.geomspace(low, high, points)
    for _ in range(rounds):
        errors = [profile(a) for a in grid]
        i = int(np.argmin(errors))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        grid = np.linspace(lo, hi, 41)
    return float(grid[int(np.argmin([profile(a) for a in grid]))])


@dataclass(frozen=True)
class PowerLawFit:
    """L(x) = E + A / x^α fitted to points. ``covariance``: of (E, A, α) (of (A, α) without a floor) in the
    fit's scale u = x / x0, zero for a parameter held at its bound (E = 0); ``dof``: points minus free
    parameters; ``*_se``: standard errors (NaN without a degree of freedom); ``floor`` False: E was held
    at 0 (Kaplan's pure power law)."""

    E: float
    A: float
    alpha: float
    E_se: float
    A_se: float
    alpha_se: float
    rel_rmse: float  # √(mean of ((L − fit) / L)²)
    n: int
    dof: int
    floor: bool
    x0: float  # the fit's scale (the points' geometric mean)
    covariance: tuple[tuple[float, ...], ...]

    def predict(self, x: Any) -> np.ndarray:
        return self.E + self.A * np.asarray(x, dtype=float) ** (-self.alpha)

    def band(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        """The 90 % band at x: predict(x) ± t·σ(x), σ² = gᵀ·Σ·g with g the derivatives of L at x
        (NaN where there is no uncertainty to speak of: no degree of freedom)."""
        x = np.asarray(x, dtype=float)
        middle = self.predict(x)
        cov = np.asarray(self.covariance, dtype=float)
        if self.dof < 1 or not np.all(np.isfinite(cov)):
            return np.full_like(middle, np.nan), np.full_like(middle, np.nan)
        u = x / self.x0
        a_u = self.A * self.x0 ** (-self.alpha)
        grads = [np.ones_like(u), u ** (-self.alpha), -a_u * u ** (-self.alpha) * np.log(u)]
        g = np.stack(grads if self.floor else grads[1:], axis=-1)
        sigma = np.sqrt(np.maximum(np.einsum("...i,ij,...j->...", g, cov, g), 0.0))
        spread = t_quantile(self.dof) * sigma
        return middle - spread, middle + spread

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (NaN as None)."""
        out = asdict(self)
        out["covariance"] = [list(row) for row in self.covariance]
        return _finite_or_none(out)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PowerLawFit:
        def number(value: Any) -> float:
            return math.nan if value is None else float(value)

        values = {
            name: number(data[name])
            for name in ("E", "A", "alpha", "E_se", "A_se", "alpha_se", "rel_rmse", "x0")
        }
        return cls(
            **values,
            n=int(data["n"]),
            dof=int(data["dof"]),
            floor=bool(data["floor"]),
            covariance=tuple(tuple(number(v) for v in row) for row in data["covariance"]),
        )


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(item) for item in value]
    return value


def fit_power_law(x: Any, y: Any, floor: bool = True) -> PowerLawFit:
    """Fit L = E + A / x^α (``floor`` False: L = A / x^α) by least squares on the relative error
    (L − fit) / L, which for losses spanning a few times is close to least squares on log L, as the
    papers fit (an absolute error would let the largest losses, the smallest models, decide alone).

    For each α the best E ≥ 0 and A ≥ 0 follow from (weighted) linear least squares; α is searched on
    a refined grid in ALPHA_RANGE. Needs at least three points (two without the floor); the
    uncertainty needs more points than free parameters."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0)
    x, y = x[keep], y[keep]
    needed = 3 if floor else 2
    if len(x) < needed or len(np.unique(x)) < needed:
        raise ValueError(f"a power law needs at least {needed} points at different x (got {len(x)})")
    x0 = float(np.exp(np.mean(np.log(x))))
    u, w = x / x0, 1.0 / np.abs(y)  # every row divided by its loss: relative errors

    def columns(alpha: float) -> np.ndarray:
        power = u ** (-alpha)
        made = np.stack([np.ones_like(u), power], axis=1) if floor else power[:, None]
        return made * w[:, None]

    alpha = _search(lambda a: _nonnegative_lstsq(columns(a), y * w)[1], *ALPHA_RANGE)
    coef, sse = _nonnegative_lstsq(columns(alpha), y * w)
    e, a_u = (float(coef[0]), float(coef[1])) if floor else (0.0, float(coef[0]))
    # The linearised fit: derivatives of L with respect to each parameter at the fit. A parameter at its
    # bound (E = 0, or A = 0 and with it α) is not free and gets no variance.
    power = u ** (-alpha)
    derivatives = {"E": np.ones_like(u), "A": power, "alpha": -a_u * power * np.log(u)}
    names = ["E", "A", "alpha"] if floor else ["A", "alpha"]
    free = [name for name in names if not (name == "E" and e == 0.0) and not (name != "E" and a_u == 0.0)]
    n, dof = len(x), len(x) - len(free)
    cov = np.full((len(names), len(names)), np.nan)
    if dof > 0 and free:
        jacobian = np.stack([derivatives[name] * w for name in free], axis=1)
        try:
            inner = np.linalg.inv(jacobian.T @ jacobian) * sse / dof
        except np.linalg.LinAlgError:
            inner = None
        if inner is not None:
            cov = np.zeros_like(cov)
            index = [names.index(name) for name in free]
            cov[np.ix_(index, index)] = inner
    se = dict(zip(names, np.sqrt(np.abs(np.diag(cov))), strict=True))
    # Back from u = x / x0: A / x^α = A_u / u^α, so A = A_u · x0^α (its error by the delta method).
    scale = x0**alpha
    a_se = math.hypot(se["A"] * scale, a_u * scale * math.log(x0) * se["alpha"])
    return PowerLawFit(
        E=e,
        A=a_u * scale,
        alpha=alpha,
        E_se=float(se.get("E", 0.0)),
        A_se=float(a_se),
        alpha_se=float(se["alpha"]),
        rel_rmse=math.sqrt(sse / n),
        n=n,
        dof=dof,
        floor=floor,
        x0=x0,
        covariance=tuple(tuple(float(v) for v in row) for row in cov),
    )


@dataclass(frozen=True)
class LossSurfaceFit:
    """L(N, D) = E + A / N^α + B / D^β (Hoffmann et al. 2022, Approach 3), fitted by least squares on the
    relative error (they minimised a Huber loss on log L)."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    rel_rmse: float
    n: int

    def predict(self, parameters: Any, tokens: Any) -> np.ndarray:
        n, d = np.asarray(parameters, dtype=float), np.asarray(tokens, dtype=float)
        return self.E + self.A * n ** (-self.alpha) + self.B * d ** (-self.beta)

    def optimal(self, compute: float) -> tuple[float, float]:
        """The (N, D) of least loss for C = 6·N·D: setting dL/dN = 0 along D = C / (6N) gives

        N_opt = G · (C/6)^(β/(α+β)),  D_opt = (C/6) / N_opt,  G = (α·A / (β·B))^(1/(α+β)).
        """
        g = (self.alpha * self.A / (self.beta * self.B)) ** (1.0 / (self.alpha + self.beta))
        n_opt = g * (compute / 6.0) ** (self.beta / (self.alpha + self.beta))
        return n_opt, compute / 6.0 / n_opt

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fit_loss_surface(parameters: Any, tokens: Any, loss: Any) -> LossSurfaceFit:
    """Fit L(N, D) = E + A/N^α + B/D^β: α and β on a refined 2-D grid, E, A, B ≥ 0 by least squares on
    the relative error (see fit_power_law). Needs at least six points (five parameters and one more)."""
    n, d, y = (np.asarray(v, dtype=float) for v in (parameters, tokens, loss))
    keep = np.isfinite(n) & np.isfinite(d) & np.isfinite(y) & (n > 0) & (d > 0)
    n, d, y = n[keep], d[keep], y[keep]
    if len(y) < 6:
        raise ValueError(f"the loss surface needs at least 6 points (got {len(y)})")
    n0, d0 = float(np.exp(np.mean(np.log(n)))), float(np.exp(np.mean(np.log(d))))
    un, ud, w = n / n0, d / d0, 1.0 / np.abs(y)

    def solve(alpha: float, beta: float) -> tuple[np.ndarray, float]:
        columns = np.stack([np.ones_like(y), un ** (-alpha), ud ** (-beta)], axis=1)
        return _nonnegative_lstsq(columns * w[:, None], y * w)

    a_grid = b_grid = np.geomspace(0.02, 2.0, 41)
    for _ in range(4):
        errors = np.array([[solve(a, b)[1] for b in b_grid] for a in a_grid])
        i, j = np.unravel_index(int(np.argmin(errors)), errors.shape)
        a_grid = np.linspace(a_grid[max(i - 1, 0)], a_grid[min(i + 1, len(a_grid) - 1)], 21)
        b_grid = np.linspace(b_grid[max(j - 1, 0)], b_grid[min(j + 1, len(b_grid) - 1)], 21)
    errors = np.array([[solve(a, b)[1] for b in b_grid] for a in a_grid])
    i, j = np.unravel_index(int(np.argmin(errors)), errors.shape)
    alpha, beta = float(a_grid[i]), float(b_grid[j])
    coef, sse = solve(alpha, beta)
    return LossSurfaceFit(
        E=float(coef[0]),
        A=float(coef[1] * n0**alpha),
        B=float(coef[2] * d0**beta),
        alpha=alpha,
        beta=beta,
        rel_rmse=math.sqrt(sse / len(y)),
        n=len(y),
    )


def frontier(compute: Any, loss: Any) -> tuple[np.ndarray, np.ndarray]:
    """The compute-efficient frontier (Kaplan et al. 2020, Fig. 1): of points (C, L) from the learning
    curves of every size, those with a lower loss than every point of less compute, by increasing C."""
    c, y = np.asarray(compute, dtype=float), np.asarray(loss, dtype=float)
    order = np.argsort(c)
    kept_c, kept_y, best = [], [], math.inf
    for i in order:
        if np.isfinite(y[i]) and c[i] > 0 and y[i] < best:
            best = float(y[i])
            kept_c.append(float(c[i]))
            kept_y.append(best)
    return np.array(kept_c), np.array(kept_y)


def iso_flop_minimum(parameters: Any, tokens: Any, loss: Any) -> dict[str, float] | None:
    """Where the loss is least on one compute budget's sizes (Hoffmann et al. 2022, Approach 2): the
    parabola in log N through the best size and its two neighbours, L ≈ a·(log N)² + b·log N + c, is
    least at log N = −b / 2a; the tokens there by interpolating log D against log N. None when the best
    size is the smallest or the largest (the least loss may lie beyond the ladder) or there are fewer
    than three sizes. (Through all the sizes a parabola would be bent by the ones far from the best.)"""
    n, d, y = (np.asarray(v, dtype=float) for v in (parameters, tokens, loss))
    order = np.argsort(n)
    n, d, y = n[order], d[order], y[order]
    best = int(np.argmin(y))
    if len(n) < 3 or best in (0, len(n) - 1):
        return None
    log_n, near = np.log(n), slice(best - 1, best + 2)
    a, b, c = np.polyfit(log_n[near], y[near], 2)
    if a <= 0:
        return None
    log_opt = -b / (2 * a)
    log_d = float(np.interp(log_opt, log_n, np.log(d)))
    return {
        "parameters": math.exp(log_opt),
        "tokens": math.exp(log_d),
        "val_loss": float(np.polyval([a, b, c], log_opt)),
    }


# ---------------------------------------------------------------------------------------------
# Published numbers, with their sources
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    key: str
    citation: str  # authors, year, title, venue
    url: str


SOURCES: dict[str, Source] = {
    "kaplan2020": Source(
        "kaplan2020",
        "Kaplan, McCandlish, Henighan, Brown, Chess, Child, Gray, Radford, Wu, Amodei (2020). "
        "Scaling Laws for Neural Language Models. arXiv:2001.08361",
        "https://arxiv.org/abs/2001.08361",
    ),
    "hoffmann2022": Source(
        "hoffmann2022",
        "Hoffmann, Borgeaud, Mensch, Buchatskaya, Cai, Rutherford, de Las Casas, Hendricks, Welbl, Clark, "
        "et al. (2022). Training Compute-Optimal Large Language Models (Chinchilla). arXiv:2203.15556",
        "https://arxiv.org/abs/2203.15556",
    ),
    "brown2020": Source(
        "brown2020",
        "Brown, Mann, Ryder, Subbiah, Kaplan, Dhariwal, et al. (2020). Language Models are Few-Shot "
        "Learners (GPT-3), Table D.1. arXiv:2005.14165",
        "https://arxiv.org/abs/2005.14165",
    ),
    "besiroglu2024": Source(
        "besiroglu2024",
        "Besiroglu, Erdil, Barnett, You (2024). Chinchilla Scaling: A replication attempt. arXiv:2404.10102",
        "https://arxiv.org/abs/2404.10102",
    ),
    "a100": Source(
        "a100",
        "NVIDIA A100 Tensor Core GPU datasheet: 312 TFLOP/s BF16 dense (624 with sparsity)",
        "https://www.nvidia.com/en-us/data-center/a100/",
    ),
    "chowdhery2022": Source(
        "chowdhery2022",
        "Chowdhery et al. (2022). PaLM: Scaling Language Modeling with Pathways, Table 3 (model FLOPs "
        "utilisation: GPT-3 21.3 %, Gopher 32.5 %, PaLM 46.2 %). arXiv:2204.02311",
        "https://arxiv.org/abs/2204.02311",
    ),
}

PUBLISHED: dict[str, dict[str, Any]] = {
    # L(N) = (N_c / N)^α_N for models trained to convergence; N without embeddings; L in nats per BPE
    # token of WebText2. L(C_min) = (C_c / C_min)^α_C on the compute-efficient frontier.
    "kaplan": {
        "alpha_N": 0.076,
        "N_c": 8.8e13,
        "alpha_D": 0.095,
        "D_c": 5.4e13,
        "alpha_C": 0.050,
        "C_c_pf_days": 3.1e8,
        "N_opt_exponent": 0.73,  # N_opt ∝ C^0.73 (Kaplan's compute-optimal allocation)
        "source": "kaplan2020",
    },
    # Approach 3's fit (their eq. 10); Approaches 1 and 2 give N_opt ∝ C^0.50 and C^0.49, which is where
    # "about 20 tokens per parameter" (Chinchilla itself: 70 B parameters, 1.4 T tokens) comes from.
    "chinchilla": {
        "E": 1.69,
        "A": 406.4,
        "B": 410.7,
        "alpha": 0.34,
        "beta": 0.28,
        "tokens_per_parameter": 20.0,
        "N_opt_exponent": 0.50,
        "parameters": 70e9,
        "tokens": 1.4e12,
        "flops": 5.76e23,
        "source": "hoffmann2022",
    },
    "gpt3": {"parameters": 175e9, "tokens": 300e9, "flops": 3.14e23, "source": "brown2020"},
}
PF_DAY = 1e15 * 24 * 3600  # FLOPs in a petaflop/s-day (Kaplan et al. count compute in PF-days)

# The GPU of the calculator (editable on the page): peak and an assumed share of it a training run gets.
GPU_PEAK_FLOPS = 312e12  # A100, BF16 dense (source "a100")
GPU_UTILISATION = 0.40  # model FLOPs utilisation; large runs report 20-50 % (source "chowdhery2022")


def chinchilla_surface() -> LossSurfaceFit:
    """Hoffmann et al.'s published loss surface, as a fit object (to draw it and take its optimum)."""
    p = PUBLISHED["chinchilla"]
    return LossSurfaceFit(E=p["E"], A=p["A"], B=p["B"], alpha=p["alpha"], beta=p["beta"], rel_rmse=0.0, n=0)


def chinchilla_parameters(compute: float, tokens_per_parameter: float = 20.0) -> float:
    """The rule of thumb: D = 20·N and C = 6·N·D = 120·N², so N = √(C / 120)."""
    return math.sqrt(compute / (6.0 * tokens_per_parameter))


def published_checks() -> list[dict[str, Any]]:
    """Our 6·N·D against the compute the papers report for GPT-3 and Chinchilla."""
    rows = []
    for name in ("gpt3", "chinchilla"):
        p = PUBLISHED[name]
        ours = six_nd(p["parameters"], p["tokens"])
        rows.append(
            {
                "model": name,
                "parameters": p["parameters"],
                "tokens": p["tokens"],
                "published_flops": p["flops"],
                "six_nd": ours,
                "ratio": ours / p["flops"],
                "source": p["source"],
            }
        )
    return rows


@dataclass(frozen=True)
class Cost:
    """What training N parameters on D tokens takes: C = 6·N·D, and the seconds at a sustained rate."""

    flops: float
    seconds_here: float
    seconds_gpu: float
    gpu_flops: float  # sustained: peak × utilisation


def training_cost(
    parameters: float,
    tokens: float,
    here_flops: float,
    gpu_peak: float = GPU_PEAK_FLOPS,
    utilisation: float = GPU_UTILISATION,
) -> Cost:
    """C = 6·N·D FLOPs; seconds = C / sustained FLOP/s (this machine: ``here_flops``, what it measured;
    the GPU: its peak × the utilisation a real run reaches)."""
    flops = six_nd(parameters, tokens)
    sustained = gpu_peak * utilisation
    return Cost(
        flops=flops,
        seconds_here=flops / here_flops if here_flops > 0 else math.inf,
        seconds_gpu=flops / sustained if sustained > 0 else math.inf,
        gpu_flops=sustained,
    )
