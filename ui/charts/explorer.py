"""Figures of page 5 (attention explorer): one head up close, the BertViz-style line view, one token's
weights in every head, and the entropy of each query row. Strings arrive translated; token labels
arrive escaped (``figures.axis_labels``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import figures

# One colour per head (line view and bar chart), the same everywhere on the page.
HEAD_COLORS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777"]
TEXT_COLOR, FADED_COLOR, QUERY_COLOR = "#334155", "#cbd5e1", "#b45309"
LEGEND_ABOVE = {"orientation": "h", "y": 1.0, "yanchor": "bottom"}
ROOM_FOR_LEGEND = 90  # px above the plot: the title above a legend


def head_color(head: int) -> str:
    return HEAD_COLORS[head % len(HEAD_COLORS)]


def head_map(
    matrix: np.ndarray, labels: Sequence[str], query: int, title: str, key_axis: str, query_axis: str
) -> go.Figure:
    """One head's T × T weights, large, with the query's row framed (numbers in the cells up to 16 tokens)."""
    n_tokens = len(labels)
    fig = figures.matrix_heatmap(
        matrix,
        labels,
        labels,
        title,
        zmin=0,
        zmax=1,
        numbers=n_tokens <= 16,
        highlight_row=query,
        height=max(380, min(900, 140 + 18 * n_tokens)),
        x_title=key_axis,
        y_title=query_axis,
        top_margin=130,  # room for the key labels (and their title) on top
        hovertemplate="%{y} → %{x}: %{z:.4f}<extra></extra>",
    )
    fig.update_layout(title={"y": 0.99, "yanchor": "top"})
    return fig


def lines(
    labels: Sequence[str],
    query: int,
    rows: Sequence[tuple[int, np.ndarray]],
    head_names: Sequence[str],
    title: str,
) -> go.Figure:
    """BertViz-style line view: tokens in two columns, a line from the query (left) to every key (right).

    rows: (head, the query's row of weights) per head shown. Each line's opacity is the attention weight
    itself, so the lines of one head add up to 1.
    """
    n_tokens = len(labels)
    positions = list(range(n_tokens))
    hover = [
        "<br>".join(f"H{head}: {row[j]:.3f}" for head, row in rows) if j <= query else "—" for j in positions
    ]
    data = [
        {
            "type": "scatter",
            "x": [0.0] * n_tokens,
            "y": positions,
            "mode": "text",
            "text": list(labels),
            "textposition": "middle left",
            "textfont": {"color": [QUERY_COLOR if i == query else TEXT_COLOR for i in positions]},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "x": [1.0] * n_tokens,
            "y": positions,
            "mode": "text",
            "text": list(labels),
            "textposition": "middle right",
            "textfont": {"color": [TEXT_COLOR if j <= query else FADED_COLOR for j in positions]},
            "customdata": hover,
            "hovertemplate": "%{text}<br>%{customdata}<extra></extra>",
            "showlegend": False,
        },
    ]
    shapes = []
    for head, row in rows:
        shapes += [
            {
                "type": "line",
                "x0": 0.03,
                "y0": query,
                "x1": 0.97,
                "y1": key,
                "name": f"head{head}-key{key}",
                "line": {"color": head_color(head), "width": 3},
                "opacity": float(row[key]),
                "layer": "below",
            }
            for key in range(query + 1)
        ]
        if len(rows) > 1:  # a legend entry per head (shapes have none): an invisible line in its colour
            data.append(
                {
                    "type": "scatter",
                    "x": [None],
                    "y": [None],
                    "mode": "lines",
                    "line": {"color": head_color(head), "width": 3},
                    "name": head_names[head],
                }
            )
    shapes.append(  # the query's label, framed
        {
            "type": "rect",
            "x0": -0.62,
            "x1": -0.01,
            "y0": query - 0.45,
            "y1": query + 0.45,
            "line": {"color": figures.HIGHLIGHT, "width": 2},
            "fillcolor": "rgba(245, 158, 11, 0.12)",
            "layer": "below",
        }
    )
    layout = {
        "shapes": shapes,
        "xaxis": {"range": [-0.65, 1.65], "visible": False, "fixedrange": True},
        "yaxis": {"range": [n_tokens - 0.5, -0.5], "visible": False, "fixedrange": True},
        "legend": {"orientation": "h", "y": -0.02},
    }
    return figures.plain_figure(data, layout, max(300, min(1400, 90 + 22 * n_tokens)), title)


def query_bars(
    keys: Sequence[str],
    weights: np.ndarray,
    names: Sequence[str],
    key_axis: str,
    weight_axis: str,
    title: str,
) -> go.Figure:
    """What the query attends to in every head of one layer: grouped bars, one colour per head.
    weights: (H, number of keys), the query's row in each head; names: one legend entry per head."""
    data = [
        {
            "type": "bar",
            "x": list(keys),
            "y": row,
            "marker": {"color": head_color(head)},
            "name": names[head],
            "hovertemplate": f"H{head} · %{{x}}: %{{y:.3f}}<extra></extra>",
        }
        for head, row in enumerate(weights)
    ]
    layout = {
        "xaxis": {"type": "category", "title": {"text": key_axis}},
        "yaxis": {"title": {"text": weight_axis}, "range": [0, 1]},
        "barmode": "group",
        "legend": LEGEND_ABOVE,
        "margin": figures.margins(ROOM_FOR_LEGEND),
    }
    return figures.plain_figure(data, layout, 400, title)


def per_head(
    values: np.ndarray, head_names: Sequence[str], layer_names: Sequence[str], title: str, zmax: float
) -> go.Figure:
    """An L × H table of per-head numbers (from 0 to zmax) as an annotated heatmap."""
    return figures.matrix_heatmap(
        values,
        layer_names,
        head_names,
        title,
        colors="Purples",
        zmin=0,
        zmax=zmax,
        numbers=True,
        number_size=13,
        height=120 + 55 * len(layer_names),
        top_margin=None,
    )


def row_entropy(
    labels: Sequence[str],
    entropy: np.ndarray,
    ceiling: np.ndarray,
    names: tuple[str, str],
    axes: tuple[str, str],
    title: str,
) -> go.Figure:
    """H_i of every query row of one head (bars) against its maximum ln(i + 1) (a dashed line).
    names: (bars, line); axes: (query axis, entropy axis)."""
    data = [
        {
            "type": "bar",
            "x": list(labels),
            "y": entropy,
            "name": names[0],
            "marker": {"color": "#7c3aed"},
            "hovertemplate": "%{x}: H = %{y:.3f}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": list(labels),
            "y": ceiling,
            "mode": "lines+markers",
            "name": names[1],
            "line": {"color": "#94a3b8", "dash": "dash"},
            "hovertemplate": "%{x}: ln(i+1) = %{y:.3f}<extra></extra>",
        },
    ]
    layout = {
        "xaxis": {"type": "category", "title": {"text": axes[0]}},
        "yaxis": {"title": {"text": axes[1]}},
        "legend": LEGEND_ABOVE,
        "margin": figures.margins(ROOM_FOR_LEGEND),
    }
    return figures.plain_figure(data, layout, 360, title)
