"""The Fine-tuning page's figures: plain-dict plotly figures from translated strings (no t(), no st.*)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from plotly import graph_objects as go

from ui import figures

Series = tuple[str, Sequence[float], Sequence[float], str]  # (name, xs, ys, dash)


def curves(
    series: Sequence[Series], x_title: str, y_title: str, title: str, percent: bool = False, height: int = 320
) -> go.Figure:
    """Lines against the step, one per series (a run's metric, or several runs overlaid)."""
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers" if len(xs) < 30 else "lines",
            "name": html.escape(name, quote=False),
            "x": list(xs),
            "y": list(ys),
            "line": {"dash": dash},
        }
        for name, xs, ys, dash in series
    ]
    y_axis: dict[str, Any] = {"title": {"text": y_title}}
    if percent:
        y_axis.update(tickformat=".0%", range=[0, 1.02])
    layout = {
        "xaxis": {"title": {"text": x_title}},
        "yaxis": y_axis,
        "legend": {"orientation": "h", "y": -0.25},
        "margin": figures.margins(48),
    }
    return figures.plain_figure(data, layout, height, title)


def singular_values(
    lines: Sequence[tuple[str, Sequence[float]]], rank: int, labels: dict[str, str], title: str
) -> go.Figure:
    """σ₁ ≥ σ₂ ≥ … of each ΔW (log y), with a dotted line at the LoRA rank r."""
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": html.escape(name, quote=False),
            "x": list(range(1, len(values) + 1)),
            "y": [max(float(v), 1e-12) for v in values],
        }
        for name, values in lines
    ]
    layout = {
        "xaxis": {"title": {"text": labels["x"]}},
        "yaxis": {"title": {"text": labels["y"]}, "type": "log"},
        "legend": {"orientation": "h", "y": -0.25},
        "margin": figures.margins(48),
        "shapes": [
            {
                "type": "line",
                "xref": "x",
                "x0": rank + 0.5,
                "x1": rank + 0.5,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"dash": "dot", "color": "gray", "width": 2},
            }
        ],
        "annotations": [
            {
                "xref": "x",
                "x": rank + 0.5,
                "xanchor": "left",
                "yref": "paper",
                "y": 1,
                "text": html.escape(labels["rank"], quote=False),
                "showarrow": False,
                "font": {"color": "gray", "size": figures.scaled(13)},
            }
        ],
    }
    return figures.plain_figure(data, layout, 340, title)
