"""Figures of page 4 (inside a block): update sizes, LayerNorm spreads and vectors, γ and β, active FFN
units, and one block as a flow chart. Strings arrive translated; labels arrive escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from ui import figures

ATTENTION_COLOR, FFN_COLOR = plotly.colors.qualitative.Plotly[:2]  # blue and red, as plotly's first two


def update_sizes(
    stages: Sequence[str], sizes: np.ndarray, is_attention: Sequence[bool], axis: str, title: str
) -> go.Figure:
    """One bar per sub-layer: how much it changed the stream (attention blue, feed-forward red)."""
    bars = {
        "type": "bar",
        "x": list(stages),
        "y": sizes,
        "marker": {"color": [ATTENTION_COLOR if a else FFN_COLOR for a in is_attention]},
        "text": [f"{v:.2f}" for v in sizes],
        "textposition": "outside",
        "hovertemplate": "%{x}: %{y:.4f}<extra></extra>",
    }
    layout = {"xaxis": {"type": "category"}, "yaxis": {"title": {"text": axis}}}
    return figures.plain_figure([bars], layout, 360, title)


def grouped_bars(
    x: Sequence, series: Mapping[str, np.ndarray], title: str, height: int, **layout
) -> go.Figure:
    """Bars side by side, one series ({name: values}) per colour."""
    data = [{"type": "bar", "x": list(x), "y": values, "name": name} for name, values in series.items()]
    return figures.plain_figure(data, {"barmode": "group", **layout}, height, title)


def spreads(tokens: Sequence[str], series: Mapping[str, np.ndarray], title: str) -> go.Figure:
    """Each token's standard deviation before and after the LayerNorm's steps."""
    layout = {"xaxis": {"type": "category"}, "legend": {"orientation": "h", "y": -0.2}}
    return grouped_bars(tokens, series, title, 360, **layout)


def gamma_beta(gamma: np.ndarray, beta: np.ndarray, axis: str, title: str) -> go.Figure:
    """The LayerNorm's learned scale γ and shift β, dimension by dimension."""
    layout = {"xaxis": {"title": {"text": axis}}, "legend": {"orientation": "h", "y": -0.25}}
    return grouped_bars(range(len(gamma)), {"γ": gamma, "β": beta}, title, 320, **layout)


def vector_lines(series: Mapping[str, np.ndarray], axis: str, title: str) -> go.Figure:
    """One token's vector, one line per stage ({name: values}), against the dimension."""
    data = [
        {"type": "scatter", "mode": "lines", "x": list(range(len(values))), "y": values, "name": name}
        for name, values in series.items()
    ]
    layout = {"xaxis": {"title": {"text": axis}}, "legend": {"orientation": "h", "y": -0.25}}
    return figures.plain_figure(data, layout, 360, title)


def active_units(tokens: Sequence[str], fractions: np.ndarray, axis: str, title: str) -> go.Figure:
    """For each token, the share of the FFN's hidden units that are active (act(h) > 0)."""
    bars = {
        "type": "bar",
        "x": list(tokens),
        "y": fractions,
        "marker": {"color": FFN_COLOR},
        "hovertemplate": "%{x}: %{y:.3f}<extra></extra>",
    }
    layout = {"xaxis": {"type": "category"}, "yaxis": {"range": [0, 1], "title": {"text": axis}}}
    return figures.plain_figure([bars], layout, 320, title)


def diagram(pre_norm: bool, highlighted: bool, labels: Mapping[str, str]) -> str:
    """One block as a Graphviz flow chart; labels: {"norm", "attention", "ffn", "out"} (quotes escaped
    here). Pre-norm: x + Attn(LN₁(x)), then x + FFN(LN₂(x)). Post-norm: LN₁(x + Attn(x)), then
    LN₂(x + FFN(x))."""
    norm, attention, ffn, out = (
        labels[name].replace("\\", "\\\\").replace('"', '\\"') for name in ("norm", "attention", "ffn", "out")
    )
    color = "#2563eb" if highlighted else "#9ca3af"
    lines = [
        "digraph {",
        "rankdir=TB; bgcolor=transparent;",
        f'node [shape=box, style="rounded,filled", fillcolor=white, color="{color}", fontname="sans-serif"];',
        f'edge [color="{color}"];',
        f'x0 [label="x", shape=plaintext]; out [label="{out}", shape=plaintext];',
        'a1 [label="+", shape=circle]; a2 [label="+", shape=circle];',
        f'att [label="{attention}"]; ffn [label="{ffn}"]; n1 [label="{norm}₁"]; n2 [label="{norm}₂"];',
    ]
    if pre_norm:  # the stream itself is never normalised
        lines += ["x0 -> n1 -> att -> a1; x0 -> a1;", "a1 -> n2 -> ffn -> a2; a1 -> a2; a2 -> out;"]
    else:  # the stream is normalised after every addition
        lines += ["x0 -> att -> a1; x0 -> a1; a1 -> n1;", "n1 -> ffn -> a2; n1 -> a2; a2 -> n2 -> out;"]
    lines.append("}")
    return "\n".join(lines)
