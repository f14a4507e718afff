"""Head ablation: switch one attention head off and see how much worse the model gets.

A layer's attention output is the concatenation of its heads times W_O,

    MultiHead(X) = Concat(head_1 … head_H) W_O + b_O = Σ_h head_h W_O^h + b_O

where W_O^h are the d_k rows of W_O that multiply head h (columns h·d_k … (h+1)·d_k − 1 of
``out_proj.weight``, which torch stores transposed). Ablating head h replaces head_h by

    zero ablation    0                               = the same model with W_O^h set to zero
    mean ablation    mean of head_h over the batch and positions of the input (the head still adds
                     its average, but no longer depends on which token it looked at)

and the loss is measured again: Δ = loss(ablated) − loss. A head whose Δ is large on the repeated probe
(see ``tinylm.explain.induction``) and small on ordinary text is doing the copying. The heads are switched
off by a forward pre-hook on W_O inside a ``with`` block; the weights are never modified.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from tinylm.explain.induction import (
    PROBE_BATCH,
    PROBE_LENGTH,
    RepeatedProbe,
    loss_windows,
    position_losses,
    probe_for_context,
    second_copy_loss,
)
from tinylm.model import TinyLM
from tinylm.tokenizers import Tokenizer

ABLATION_MODES = ("zero", "mean")


@contextlib.contextmanager
def ablated_heads(model: TinyLM, heads: Iterable[tuple[int, int]], mode: str = "zero") -> Iterator[TinyLM]:
    """Inside the block, the heads (layer, head) are ablated ("zero" or "mean"); afterwards the model is
    exactly as before."""
    if mode not in ABLATION_MODES:
        raise ValueError(f"mode must be one of {ABLATION_MODES}")
    d_k = model.config.head_dim
    handles = []

    def make_hook(cols: slice):
        def hook(module: torch.nn.Module, args: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
            concat = args[0].clone()  # (B, T, D): the heads side by side, before W_O
            if mode == "zero":
                concat[..., cols] = 0.0
            else:
                concat[..., cols] = concat[..., cols].mean(dim=(0, 1), keepdim=True)
            return (concat, *args[1:])

        return hook

    try:
        for layer, head in heads:
            if not (0 <= layer < model.config.n_layers and 0 <= head < model.config.n_heads):
                raise ValueError(f"no head {head} in layer {layer}")
            out_proj = model.blocks[layer].attention.out_proj
            cols = slice(head * d_k, (head + 1) * d_k)
            handles.append(out_proj.register_forward_pre_hook(make_hook(cols)))
        yield model
    finally:
        for handle in handles:
            handle.remove()


@dataclass
class HeadAblation:
    """Loss before and with each head ablated in turn, on the repeated probe and on text (nats/token)."""

    mode: str  # "zero" or "mean"
    probe_loss: float  # the intact model on the probe's second copy (where copying helps)
    text_loss: float  # the intact model on the text windows
    probe_losses: np.ndarray  # (L, H) the same with head (l, h) ablated
    text_losses: np.ndarray  # (L, H)

    @property
    def probe_change(self) -> np.ndarray:
        """(L, H) Δ on the probe: how much the model needs each head to copy ("which heads matter")."""
        return self.probe_losses - self.probe_loss

    @property
    def text_change(self) -> np.ndarray:
        """(L, H) Δ on the text."""
        return self.text_losses - self.text_loss


def _losses(model: TinyLM, probe: RepeatedProbe, windows: torch.Tensor) -> tuple[float, float]:
    probe_loss = second_copy_loss(position_losses(model, probe.ids), probe.n)
    return probe_loss, float(position_losses(model, windows).mean())


def head_ablation(
    model: TinyLM, probe: RepeatedProbe, windows: torch.Tensor, mode: str = "zero"
) -> HeadAblation:
    """Ablate every head in turn (L·H forward passes on the probe and on the windows of T+1 ids)."""
    probe_loss, text_loss = _losses(model, probe, windows)
    shape = (model.config.n_layers, model.config.n_heads)
    probe_losses, text_losses = np.zeros(shape), np.zeros(shape)
    for layer in range(shape[0]):
        for head in range(shape[1]):
            with ablated_heads(model, [(layer, head)], mode):
                probe_losses[layer, head], text_losses[layer, head] = _losses(model, probe, windows)
    return HeadAblation(mode, probe_loss, text_loss, probe_losses, text_losses)


def explain_head_ablation(
    model: TinyLM,
    tokenizer: Tokenizer,
    text: str,
    mode: str = "zero",
    n: int = PROBE_LENGTH,
    batch: int = PROBE_BATCH,
    seed: int = 0,
    max_tokens: int = 4096,
) -> HeadAblation:
    """``head_ablation`` on a fresh probe (n tokens repeated, at most half the context) and ``text``
    (its first ``max_tokens`` tokens, cut into windows of the model's context)."""
    context = model.config.context_len
    probe = probe_for_context(tokenizer, context, n, batch, seed)
    if probe is None:
        raise ValueError("the context is too short for a repeated probe (4 tokens at least)")
    windows = loss_windows(tokenizer.encode(text)[:max_tokens], context, max_tokens)
    return head_ablation(model, probe, windows, mode)
