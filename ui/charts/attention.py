"""Figures of page 3 (self-attention step by step): the masked scores with their −∞ cells, every head's
weights side by side, and how spread out each query's attention is. Strings arrive translated; token
labels arrive escaped (``figures.axis_labels``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ui import figures

HEADS_PER_ROW = 4


def masked_scores(masked: np.ndarray, rows: Sequence[str], title: str, highlight_row: int) -> go.Figure:
    """S'' = S' + M: the scaled scores where a query may look (j ≤ i) and "−∞" where the causal mask
    forbids it; those cells get no colour, only their text."""
    finite = np.isfinite(masked)
    text = np.where(np.isneginf(masked), "−∞", np.char.mod("%.2f", np.where(finite, masked, 0)))
    colours = np.where(finite, masked, np.nan)
    return figures.matrix_heatmap(
        colours, rows, rows, title, signed=True, numbers=None, text=text, highlight_row=highlight_row
    )


def all_heads(
    weights: Sequence[np.ndarray],
    rows: Sequence[str],
    cell_titles: Sequence[str],
    hover_names: Sequence[str],
    title: str,
) -> go.Figure:
    """Every head's attention weights (one T × T map each, up to four to a row), on one 0-1 scale; the
    keys are labelled while they still fit (8 tokens)."""
    per_row = min(len(weights), HEADS_PER_ROW)
    return figures.heatmap_grid(
        list(weights),
        rows,
        cell_titles,
        hover_names,
        per_row,
        title=title,
        height=300 * math.ceil(len(weights) / per_row) + 60,
        key_labels=len(rows) <= 8,
        query_labels=True,
    )


def entropy_bars(
    queries: Sequence[str], entropies: Mapping[str, np.ndarray], axes: tuple[str, str], title: str
) -> go.Figure:
    """One bar per query token: the entropy of its row of weights, H = −Σ_j A_ij ln A_ij (0: all the
    attention on one token), one series per {name: entropies} (with and without ÷√d_k).
    axes: (query axis, entropy axis)."""
    data = [{"type": "bar", "x": queries, "y": values, "name": name} for name, values in entropies.items()]
    layout = {
        "xaxis": {"type": "category", "title": {"text": axes[0]}},
        "yaxis": {"title": {"text": axes[1]}},
    }
    return figures.plain_figure(data, layout, 320, title)
