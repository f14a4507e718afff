"""LoRA (Hu et al. 2021, "Low-Rank Adaptation"): fine-tune a matrix through a small low-rank update.

    W' = W + (α/r)·B·A        W (d_out × d_in) frozen;  A (r × d_in) and B (d_out × r) trained
    y  = W'x + b = W x + b + (α/r)·B (A x)

A starts random (N(0, 1/d_in)) and B at zero, so B·A = 0 and the adapted model starts *identical* to
the base. Only A and B train: r·(d_in + d_out) numbers instead of d_out·d_in. The bet is that the
change fine-tuning needs is close to a low-rank matrix (``delta_singular_values`` shows how far that
holds for full fine-tuning). α/r keeps the update's size from growing with the rank.

For inference the update can be *merged* into W (W ← W + (α/r)·B·A: no extra cost per token) and
*un-merged* again (W ← W − (α/r)·B·A, exact up to float rounding).

Targets: "q", "k", "v" (the rows of the fused W_Q|W_K|W_V matrix each adapts, its own A and B), "o" (W_O)
and "ffn" (both feed-forward matrices W₁ and W₂), in every block.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tinylm.errors import TinyLMError
from tinylm.model import TinyLM

TARGETS = ("q", "k", "v", "o", "ffn")
MAX_RANK = 64
ALPHA_RANGE = (0.01, 1024.0)


@dataclass(frozen=True)
class LoraSettings:
    """rank r, scale α (the update is multiplied by α/r) and the projections to adapt."""

    rank: int = 8
    alpha: float = 16.0
    targets: tuple[str, ...] = ("q", "k", "v", "o", "ffn")

    def validate(self) -> None:
        rank, alpha = self.rank, self.alpha
        if not isinstance(rank, int) or isinstance(rank, bool) or not 1 <= rank <= MAX_RANK:
            raise TinyLMError(
                "bad_lora_rank", f"the LoRA rank must be from 1 to {MAX_RANK} (got {rank!r})", value=rank
            )
        low, high = ALPHA_RANGE
        if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not low <= alpha <= high:
            raise TinyLMError(
                "bad_lora_alpha",
                f"the LoRA alpha must be from {low} to {high:g} (got {alpha!r})",
                value=alpha,
                low=low,
                high=high,
            )
        targets = self.targets
        if not targets or any(t not in TARGETS for t in targets) or len(set(targets)) != len(targets):
            raise TinyLMError(
                "bad_lora_targets",
                f"LoRA targets must be distinct names from: {', '.join(TARGETS)} (got {','.join(targets)!r})",
                value=",".join(targets),
                choices=", ".join(TARGETS),
            )

    @property
    def scale(self) -> float:
        return self.alpha / self.rank

    def to_dict(self) -> dict:
        return {"rank": self.rank, "alpha": self.alpha, "targets": list(self.targets)}


def parse_targets(text: str) -> tuple[str, ...]:
    """ "q,k,v" → ("q", "k", "v"), in the canonical order of TARGETS (validated by LoraSettings)."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in TARGETS]
    return (*[t for t in TARGETS if t in names], *unknown)


class LoRALinear(nn.Module):
    """A frozen nn.Linear whose output rows, in named groups, each get a low-rank update.

    parts: the groups of output rows in order, as (name, size), e.g. [("q", D), ("k", D), ("v", D)] for the
    fused attention matrix; adapted: the names that get their own A (r × d_in) and B (size × r).
    """

    def __init__(
        self,
        base: nn.Linear,
        parts: Sequence[tuple[str, int]],
        adapted: Sequence[str],
        settings: LoraSettings,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        if sum(size for _, size in parts) != base.out_features:
            raise ValueError("the parts must cover the layer's output rows exactly")
        self.base = base.requires_grad_(False)
        self.names, self.sizes = [n for n, _ in parts], [s for _, s in parts]
        self.scale, self.merged = settings.scale, False
        rank, d_in = settings.rank, base.in_features
        self.A = nn.ParameterDict(
            {n: nn.Parameter(torch.randn(rank, d_in, generator=generator) / d_in**0.5) for n in adapted}
        )
        self.B = nn.ParameterDict(
            {n: nn.Parameter(torch.zeros(size, rank)) for n, size in parts if n in adapted}
        )

    def rows(self, name: str) -> slice:
        """The rows of W that part ``name`` occupies."""
        start = sum(self.sizes[: self.names.index(name)])
        return slice(start, start + self.sizes[self.names.index(name)])

    def delta_weight(self, name: str) -> torch.Tensor:
        """ΔW = (α/r)·B·A for one part: (size × d_in), of rank at most r."""
        return self.scale * self.B[name] @ self.A[name]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.base(x)  # W x + b
        if self.merged:  # W already holds W + ΔW
            return y
        parts = list(y.split(self.sizes, dim=-1))
        for i, name in enumerate(self.names):
            if name in self.A:  # + (α/r)·B (A x): two thin matmuls, never the full ΔW
                parts[i] = parts[i] + self.scale * ((x @ self.A[name].T) @ self.B[name].T)
        return torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0]

    @torch.no_grad()
    def merge(self) -> None:
        """W ← W + ΔW for every adapted part (inference then costs what the base model costs)."""
        if not self.merged:
            for name in self.A:
                self.base.weight[self.rows(name)] += self.delta_weight(name)
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """W ← W − ΔW: the base weights again (up to float rounding), ready to train A and B further."""
        if self.merged:
            for name in self.A:
                self.base.weight[self.rows(name)] -= self.delta_weight(name)
            self.merged = False


def _plan(model: TinyLM, targets: Sequence[str]) -> Iterator[tuple[str, nn.Module, str, list, list]]:
    """(path, parent module, attribute, parts, adapted part names) of every Linear the targets touch."""
    d, f = model.config.d_model, model.config.d_ff
    for i, block in enumerate(model.blocks):
        attention, ffn = block.attention, block.feed_forward
        qkv = [t for t in ("q", "k", "v") if t in targets]
        if qkv:
            yield f"blocks.{i}.attention.qkv", attention, "qkv", [("q", d), ("k", d), ("v", d)], qkv
        if "o" in targets:
            yield f"blocks.{i}.attention.out_proj", attention, "out_proj", [("o", d)], ["o"]
        if "ffn" in targets:
            yield f"blocks.{i}.feed_forward.fc1", ffn, "fc1", [("fc1", f)], ["fc1"]
            yield f"blocks.{i}.feed_forward.fc2", ffn, "fc2", [("fc2", d)], ["fc2"]


def apply_lora(model: TinyLM, settings: LoraSettings, seed: int = 0) -> list[nn.Parameter]:
    """Freeze every weight of ``model`` and wrap the target projections (in place); returns A and B."""
    settings.validate()
    if any(True for _ in lora_layers(model)):
        raise ValueError("this model already has LoRA layers")
    model.requires_grad_(False)
    generator = torch.Generator().manual_seed(int(seed))
    for _, parent, attribute, parts, adapted in _plan(model, settings.targets):
        layer = getattr(parent, attribute)
        setattr(parent, attribute, LoRALinear(layer, parts, adapted, settings, generator))
    return [p for p in model.parameters() if p.requires_grad]


def lora_layers(model: nn.Module) -> Iterator[tuple[str, LoRALinear]]:
    """(path, layer) of every LoRALinear, e.g. ("blocks.0.attention.qkv", ...)."""
    for name, module in model.named_modules():
        if isinstance(module, LoRALinear):
            yield name, module


def merge_lora(model: TinyLM) -> None:
    for _, layer in lora_layers(model):
        layer.merge()


def unmerge_lora(model: TinyLM) -> None:
    for _, layer in lora_layers(model):
        layer.unmerge()


def adapter_tensors(model: TinyLM) -> dict[str, torch.Tensor]:
    """The adapter alone: {"blocks.0.attention.qkv.A.q": A, "...B.q": B, ...} (the base weights excluded)."""
    return {
        f"{path}.{kind}.{name}": tensor.detach().contiguous().clone()
        for path, layer in lora_layers(model)
        for kind, table in (("A", layer.A), ("B", layer.B))
        for name, tensor in table.items()
    }


def merged_model(model: TinyLM) -> TinyLM:
    """A plain TinyLM (no LoRA layers) whose weights are W + ΔW: what every other page can read."""
    plain = copy.deepcopy(model)
    for path, layer in list(lora_layers(plain)):
        layer.merge()
        parent, attribute = plain.get_submodule(path.rsplit(".", 1)[0]), path.rsplit(".", 1)[1]
        setattr(parent, attribute, layer.base)
    plain.requires_grad_(True)
    return plain.eval()


def projection_weight(model: TinyLM, layer: int, part: str) -> torch.Tensor:
    """One projection of a plain TinyLM: "q", "k", "v" (rows of the fused matrix), "o", "fc1" or "fc2"."""
    attention, ffn = model.blocks[layer].attention, model.blocks[layer].feed_forward
    d = model.config.d_model
    if part in ("q", "k", "v"):
        start = ("q", "k", "v").index(part) * d
        return attention.qkv.weight[start : start + d].detach()
    weights = {"o": attention.out_proj, "fc1": ffn.fc1, "fc2": ffn.fc2}
    return weights[part].weight.detach()


def lora_delta(model: TinyLM, layer: int, part: str) -> torch.Tensor:
    """ΔW = (α/r)·B·A of one adapted projection ("q", "k", "v", "o", "fc1", "fc2") of a LoRA model."""
    path = {"q": "attention.qkv", "k": "attention.qkv", "v": "attention.qkv", "o": "attention.out_proj",
            "fc1": "feed_forward.fc1", "fc2": "feed_forward.fc2"}[part]  # fmt: skip
    module = model.blocks[layer].get_submodule(path)
    if not isinstance(module, LoRALinear) or part not in module.A:
        raise ValueError(f"{part} of layer {layer} has no LoRA adapter")
    return module.delta_weight(part).detach()


def delta_singular_values(w_before: torch.Tensor, w_after: torch.Tensor) -> np.ndarray:
    """Singular values σ₁ ≥ σ₂ ≥ … of ΔW = W_after − W_before (e.g. what full fine-tuning changed).

    If a few σ hold most of Σσ², the change is nearly low-rank and LoRA with that rank can express it;
    a LoRA update (α/r)·B·A has at most r non-zero singular values.
    """
    delta = (w_after.detach().double() - w_before.detach().double()).cpu()
    return torch.linalg.svdvals(delta).numpy()
