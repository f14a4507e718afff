"""Reference models that ``python -m tinylm bench`` measures side by side with TinyLM.

* ``TorchEncoderLM``: a decoder-only LM built from torch's own ``nn.TransformerEncoderLayer``
  (pre-norm, GELU, a causal mask), the same sizes as the TinyLM it is compared with.
* ``NanoGPTRecipe``: the model and training step of nanoGPT's shakespeare_char CPU recipe, written for
  TinyLM Lab from the published description of Karpathy's nanoGPT (no nanoGPT code is copied). What
  matters for speed is reproduced: GPT-2 blocks with biased LayerNorm, one fused c_attn projection,
  ``scaled_dot_product_attention(is_causal=True)``, a 4x GELU MLP, learned positions, a tied lm_head,
  fp32 on CPU (no autocast), torch's default (foreach) AdamW, gradient clipping at 1.0, batches gathered
  from a numpy array by random offsets, and generation without a KV cache (crop to the context and
  run the whole window for every new token).

  For time-to-loss (``tinylm.time_to_loss``) the recipe is trained as published: no biases
  (nanoGPT's ``bias=False`` default), lr 1e-3 warmed up over 100 iterations and cosine-decayed to
  1e-4 at iteration 2000 (``nanogpt_learning_rate``), AdamW betas (0.9, 0.99), weight decay 0.1.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class TorchEncoderLM(nn.Module):
    """Token + learned position embeddings → nn.TransformerEncoder (causal mask) → tied output layer."""

    def __init__(self, vocab_size: int, context_len: int, d_model: int, n_layers: int, n_heads: int) -> None:
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        self.position_embedding = nn.Embedding(context_len, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, 4 * d_model, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.final_norm = nn.LayerNorm(d_model)
        self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
        self.lm_head.weight = self.token_embedding.weight
        self.register_buffer(
            "mask", nn.Transformer.generate_square_subsequent_mask(context_len), persistent=False
        )

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        length = idx.shape[1]
        x = self.token_embedding(idx) + self.position_embedding(torch.arange(length))
        x = self.encoder(x, mask=self.mask[:length, :length], is_causal=True)
        logits = self.lm_head(self.final_norm(x))
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.reshape(-1))


class _NanoAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, bias: bool = True) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.c_attn = nn.Linear(d_model, 3 * d_model, bias=bias)
        self.c_proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_heads, c // self.n_heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))


class _NanoBlock(nn.Module):
    def __init__(self, d_model: int, n_heads: int, bias: bool = True) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(d_model, bias=bias)
        self.attn = _NanoAttention(d_model, n_heads, bias)
        self.ln_2 = nn.LayerNorm(d_model, bias=bias)
        self.c_fc = nn.Linear(d_model, 4 * d_model, bias=bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * d_model, d_model, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(self.gelu(self.c_fc(self.ln_2(x))))


class NanoGPTRecipe(nn.Module):
    def __init__(
        self, vocab_size: int, context_len: int, d_model: int, n_layers: int, n_heads: int, bias: bool = True
    ) -> None:
        super().__init__()
        self.context_len = context_len
        self.wte = nn.Embedding(vocab_size, d_model)
        self.wpe = nn.Embedding(context_len, d_model)
        self.h = nn.ModuleList(_NanoBlock(d_model, n_heads, bias) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d_model, bias=bias)
        self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
        self.wte.weight = self.lm_head.weight
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * n_layers) if name.endswith("c_proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def logits(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        logits = self.logits(idx)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0) -> torch.Tensor:
        """nanoGPT's sampling loop: crop to the context, run the whole window, sample the last position."""
        for _ in range(max_new_tokens):
            window = idx[:, -self.context_len :]
            logits = self.logits(window)[:, -1, :] / temperature
            next_id = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)
            idx = torch.cat((idx, next_id), dim=1)
        return idx


def nanogpt_learning_rate(
    step: int, peak: float = 1e-3, minimum: float = 1e-4, warmup: int = 100, decay_steps: int = 2000
) -> float:
    """nanoGPT's schedule: linear warm-up to ``peak`` over ``warmup`` iterations, then a cosine down to
    ``minimum`` at ``decay_steps``, then ``minimum`` (the shakespeare_char CPU recipe's numbers)."""
    if step < warmup:
        return peak * (step + 1) / (warmup + 1)
    if step > decay_steps:
        return minimum
    progress = (step - warmup) / (decay_steps - warmup)
    return minimum + 0.5 * (1.0 + math.cos(math.pi * progress)) * (peak - minimum)


def make_train_step(
    model: nn.Module,
    data: torch.Tensor,
    batch_size: int,
    context_len: int,
    lr: float = 1e-3,
    schedule: Callable[[int], float] | None = None,
) -> Callable[[], float]:
    """nanoGPT's training iteration for any model whose forward(idx, targets) returns the loss.

    ``schedule(step)`` gives the learning rate of each step (nanoGPT's ``get_lr``); without it, ``lr``.
    """
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lr,
        betas=(0.9, 0.99),
    )
    array = data.numpy().astype(np.uint16)  # nanoGPT reads a uint16 memmap
    model.train()
    done = 0

    def step() -> float:
        nonlocal done
        if schedule is not None:
            for group in optimizer.param_groups:
                group["lr"] = schedule(done)
        done += 1
        ix = torch.randint(len(array) - context_len, (batch_size,))
        x = torch.stack([torch.from_numpy(array[i : i + context_len].astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy(array[i + 1 : i + 1 + context_len].astype(np.int64)) for i in ix])
        loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.item()

    return step
