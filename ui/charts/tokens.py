"""Figures of page 1 (tokens & embeddings): the map of every token's embedding. Strings arrive
translated; token labels arrive escaped (``figures.plot_label``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import figures

MAX_LABELLED_POINTS = 300  # above this many tokens the map labels only the highlighted ones
# (colour, marker symbol) of each highlighted group, drawn over the grey cloud.
HIGHLIGHTS = (("#3b82f6", "circle"), ("#f59e0b", "diamond"), ("#dc2626", "star"))


def embedding_map(
    coords: np.ndarray,
    labels: Sequence[str],
    groups: Sequence[Sequence[int]],
    names: Sequence[str],
    axes: tuple[str, str],
    title: str,
) -> go.Figure:
    """Every token at its 2-D PCA coordinates (trace 0, in id order, grey), then three highlighted
    groups of ids: the text's tokens (blue), the chosen token's neighbours (orange diamonds) and the
    chosen token itself (a red star). names: the legend entries, all tokens first."""
    label_everything = len(coords) <= MAX_LABELLED_POINTS
    highlighted = {i for ids in groups for i in ids}  # these get their own coloured label
    cloud = {
        "type": "scatter",
        "x": coords[:, 0],
        "y": coords[:, 1],
        "mode": "markers+text" if label_everything else "markers",
        "textposition": "top center",
        "hovertext": [f"{label} (id {i})" for i, label in enumerate(labels)],
        "hoverinfo": "text",
        "customdata": list(range(len(coords))),
        "marker": {"size": 6, "color": "#b8c0cc"},
        "textfont": {"color": "#7a8594"},
        "name": names[0],
    }
    if label_everything:
        cloud["text"] = ["" if i in highlighted else label for i, label in enumerate(labels)]
    data = [cloud]
    for ids, name, (color, symbol) in zip(groups, names[1:], HIGHLIGHTS, strict=True):
        ids = list(ids)
        data.append(
            {
                "type": "scatter",
                "x": coords[ids, 0],
                "y": coords[ids, 1],
                "mode": "markers+text",
                "text": [labels[i] for i in ids],
                "textposition": "top center",
                "hovertext": [f"{labels[i]} (id {i})" for i in ids],
                "hoverinfo": "text",
                "customdata": ids,
                "marker": {"size": 13 if symbol == "star" else 10, "color": color, "symbol": symbol},
                "textfont": {"color": color, "size": 15},
                "name": name,
            }
        )
    layout = {
        "meta": {"chart": "pca"},
        "xaxis": {"title": {"text": axes[0]}},
        "yaxis": {"title": {"text": axes[1]}},
        "legend": {"orientation": "h", "y": -0.15},
    }
    return figures.plain_figure(data, layout, 560, title)
