"""The "What did it learn?" page's figures: plain-dict plotly figures from numbers and translated strings
(no t(), no st.*)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np
from plotly import graph_objects as go

from ui import figures

LAYER_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
BUMP_COLOR = "#ff7f0e"


def head_curves(
    steps: Sequence[float],
    scores: np.ndarray,
    head_names: Sequence[Sequence[str]],
    x_title: str,
    y_title: str,
    title: str,
    threshold: tuple[float, str] | None = None,
) -> go.Figure:
    """One line per head (scores (E, L, H) at E steps): a colour per layer, a dash per head."""
    data = []
    for layer in range(scores.shape[1]):
        for head in range(scores.shape[2]):
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "marker": {"size": 4},
                    "name": head_names[layer][head],
                    "x": list(steps),
                    "y": scores[:, layer, head].tolist(),
                    "line": {
                        "color": LAYER_COLORS[layer % len(LAYER_COLORS)],
                        "dash": DASHES[head % len(DASHES)],
                    },
                }
            )
    layout: dict[str, Any] = {
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}, "range": [0, 1.02]},
        "legend": {"orientation": "h", "y": -0.3},
    }
    if threshold is not None:
        layout["shapes"], layout["annotations"] = figures.level_line(*threshold)
    return figures.plain_figure(data, layout, 340, title)


def loss_with_bump(
    series: Sequence[tuple[str, Sequence[float], Sequence[float], str]],
    bump: tuple[float, float, float] | None,
    bump_label: str,
    x_title: str,
    y_title: str,
    title: str,
) -> go.Figure:
    """Loss lines (name, steps, losses, dash) and the bump (start, middle, end step) shaded and marked."""
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": html.escape(name, quote=False),
            "x": list(xs),
            "y": list(ys),
        }
        | {"line": {"dash": dash}}
        for name, xs, ys, dash in series
    ]
    layout: dict[str, Any] = {
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}},
        "legend": {"orientation": "h", "y": -0.3},
    }
    if bump is not None:
        start, middle, end = bump
        layout["shapes"] = [
            {
                "type": "rect",
                "xref": "x",
                "x0": start,
                "x1": end,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "fillcolor": BUMP_COLOR,
                "opacity": 0.15,
                "line": {"width": 0},
            },
            {
                "type": "line",
                "xref": "x",
                "x0": middle,
                "x1": middle,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"color": BUMP_COLOR, "width": 2, "dash": "dash"},
            },
        ]
        layout["annotations"] = [
            {
                "xref": "x",
                "x": middle,
                "yref": "paper",
                "y": 1,
                "yanchor": "bottom",
                "text": bump_label,
                "showarrow": False,
                "font": {"color": BUMP_COLOR},
            }
        ]
    return figures.plain_figure(data, layout, 340, title)


def lines(
    series: Sequence[tuple[str, Sequence[float], Sequence[float], str]],
    x_title: str,
    y_title: str,
    title: str,
    threshold: tuple[float, str] | None = None,
    y_range: Sequence[float] | None = None,
) -> go.Figure:
    """Plain lines (name, xs, ys, dash), an optional dotted threshold."""
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "marker": {"size": 4},
            "name": html.escape(name, quote=False),
            "x": list(xs),
            "y": list(ys),
            "line": {"dash": dash},
        }
        for name, xs, ys, dash in series
    ]
    layout: dict[str, Any] = {
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}, **({"range": list(y_range)} if y_range else {})},
        "legend": {"orientation": "h", "y": -0.3},
    }
    if threshold is not None:
        layout["shapes"], layout["annotations"] = figures.level_line(*threshold)
    return figures.plain_figure(data, layout, 300, title)


def stripe(matrix: np.ndarray, labels: Sequence[str], n: int, title: str) -> go.Figure:
    """The attention of one head on the repeated probe [x₁ … xₙ, x₁ … xₙ] (2n × 2n), with the induction
    stripe (row n + j → column j + 1) drawn as a dotted line and the two copies separated."""
    figure = figures.matrix_heatmap(matrix, labels, labels, title, zmin=0, zmax=1, height=520, top_margin=110)
    line = {"color": BUMP_COLOR, "width": 2, "dash": "dot"}
    grey = {"color": "gray", "width": 1}
    figure.layout.shapes = [
        {"type": "line", "x0": 0.5, "x1": n - 0.5, "y0": n - 0.5, "y1": 2 * n - 1.5, "line": line},
        {"type": "line", "x0": -0.5, "x1": 2 * n - 0.5, "y0": n - 0.5, "y1": n - 0.5, "line": grey},
        {"type": "line", "x0": n - 0.5, "x1": n - 0.5, "y0": -0.5, "y1": 2 * n - 0.5, "line": grey},
    ]
    return figure


def head_grid(matrix: np.ndarray, rows: Sequence[str], cols: Sequence[str], title: str, signed: bool = False):
    """An (L, H) matrix of per-head numbers, a cell per head with its value printed."""
    low, high = (-1, 1) if signed else (0, 1)
    return figures.matrix_heatmap(
        matrix, rows, cols, title, signed=signed, zmin=low, zmax=high, numbers=True, top_margin=90
    )


def ablation_bars(
    head_names: Sequence[str],
    probe_change: Sequence[float],
    text_change: Sequence[float],
    selected: int | None,
    names: tuple[str, str],
    y_title: str,
    title: str,
) -> go.Figure:
    """Loss change when each head is ablated, on the repeated probe and on text; the selected head framed."""
    outline = [3 if i == selected else 0 for i in range(len(head_names))]
    data = [
        {
            "type": "bar",
            "name": names[0],
            "x": list(head_names),
            "y": list(probe_change),
            "marker": {"color": "#d62728", "line": {"width": outline, "color": "black"}},
        },
        {
            "type": "bar",
            "name": names[1],
            "x": list(head_names),
            "y": list(text_change),
            "marker": {"color": "#1f77b4", "line": {"width": outline, "color": "black"}},
        },
    ]
    layout = {
        "barmode": "group",
        "xaxis": {"type": "category"},
        "yaxis": {"title": {"text": y_title}},
        "legend": {"orientation": "h", "y": -0.25},
    }
    return figures.plain_figure(data, layout, 320, title)
