"""Figures of page 6 (generate): the next-token distribution after each reshaping step. Strings arrive
translated; token labels arrive escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ui import figures

STAGE_COLORS = ["#94a3b8", "#3b82f6", "#f59e0b", "#16a34a"]  # model, temperature, top-k, top-p


def stage_bars(
    labels: Sequence[str],
    stages: Mapping[str, np.ndarray],
    chosen: int,
    marker: str,
    axes: tuple[str, str],
    title: str,
) -> go.Figure:
    """Grouped bars: each candidate token's probability at each stage ({stage name: probabilities, in
    the order of labels}); the chosen token (index ``chosen``) marked with an arrow on the last stage.
    axes: (candidates axis, probability axis)."""
    data = [
        {
            "type": "bar",
            "x": list(labels),
            "y": probabilities,
            "name": name,
            "marker": {"color": color},
            "hovertemplate": "%{x}: %{y:.4f}<extra></extra>",
        }
        for (name, probabilities), color in zip(stages.items(), STAGE_COLORS, strict=True)
    ]
    arrow = {
        "x": labels[chosen],
        "y": float(list(stages.values())[-1][chosen]),
        "text": marker,
        "showarrow": True,
        "arrowhead": 2,
        "yshift": 6,
        "font": {"color": "#b45309"},
    }
    layout = {
        "annotations": [arrow],
        "xaxis": {"type": "category", "title": {"text": axes[0]}},
        "yaxis": {"title": {"text": axes[1]}, "rangemode": "tozero"},
        "barmode": "group",
        "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom"},
        "margin": figures.margins(90),  # the title above the legend above the bars
    }
    return figures.plain_figure(data, layout, 430, title)
