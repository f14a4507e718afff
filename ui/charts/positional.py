"""Figures of page 2 (positional encoding): the sinusoid curves, tables of positions × dimensions, the
dot product against the offset, and one pair of dimensions (or one RoPE pair) turning on a circle.
Strings arrive translated. Every figure names itself in ``layout.meta.chart`` (the tests read it)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from tinylm.explain.positions import OffsetSimilarity
from ui import figures

BELOW = {"orientation": "h", "y": -0.2}  # a legend under the plot


def curves(
    table: np.ndarray, dims: Sequence[int], names: Sequence[str], axes: tuple[str, str], meta: dict
) -> go.Figure:
    """PE(p, dim) against p for each chosen dimension (each trace's meta holds its dimension)."""
    positions = list(range(len(table)))
    data = [
        {
            "type": "scatter",
            "x": positions,
            "y": table[:, dim],
            "mode": "lines+markers",
            "marker": {"size": 4},
            "name": name,
            "meta": {"dim": dim},
        }
        for dim, name in zip(dims, names, strict=True)
    ]
    layout = {
        "meta": {"chart": "pe_curves", **meta},
        "xaxis": {"title": {"text": axes[0]}},
        "yaxis": {"title": {"text": axes[1]}, "range": [-1.1, 1.1]},
    }
    return figures.plain_figure(data, layout, 380)


def table(
    matrix: np.ndarray,
    axes: tuple[str, str],
    title: str,
    height: int,
    chart: str,
    colors: str | None = None,
    zmin: float | None = None,
    zmax: float | None = None,
) -> go.Figure:
    """A positions × dimensions (or positions × positions) matrix: numeric axes, row 0 at the top;
    blue-white-red around 0, or the plotly colour scale ``colors``. axes: (x title, y title)."""
    x_title, y_title = axes
    fig = figures.matrix_heatmap(
        np.asarray(matrix, dtype=np.float32),
        None,
        None,
        title,
        signed=colors is None,
        colors=colors or "Blues",
        zmin=zmin,
        zmax=zmax,
        height=height,
        x_title=x_title,
        y_title=y_title,
        labels_on_top=False,
        top_margin=None,
        hovertemplate=f"{y_title} %{{y}}, {x_title} %{{x}}: %{{z:.4f}}<extra></extra>",
    )
    fig.update_layout(meta={"chart": chart})
    return fig


def offset(found: OffsetSimilarity, names: tuple[str, str], axis: str, title: str, start: int) -> go.Figure:
    """PE(p)·PE(p+k) against k, measured from the table and from the closed form Σ cos(k ω_i)."""
    measured, closed_form = names
    data = [
        {
            "type": "scatter",
            "x": found.offsets,
            "y": found.dots,
            "mode": "lines+markers",
            "marker": {"size": 4},
            "name": measured,
        },
        {
            "type": "scatter",
            "x": found.offsets,
            "y": found.closed_form,
            "mode": "lines",
            "line": {"dash": "dash", "width": 3},
            "name": closed_form,
        },
    ]
    layout = {
        "meta": {"chart": "pe_offset", "start": start},
        "xaxis": {"title": {"text": axis}},
        "yaxis": {"title": {"text": "PE(p)·PE(p+k)"}},
        "legend": BELOW,
    }
    return figures.plain_figure(data, layout, 460, title)


def circle(radius: float = 1.0) -> dict:
    """A grey circle around the origin, for points that turn."""
    angle = np.linspace(0, 2 * np.pi, 181)
    return {
        "type": "scatter",
        "x": radius * np.cos(angle),
        "y": radius * np.sin(angle),
        "mode": "lines",
        "line": {"color": "#d0d5dd"},
        "hoverinfo": "skip",
        "showlegend": False,
    }


def pair_circle(table: np.ndarray, pair: int, colorbar: str, title: str) -> go.Figure:
    """Dimensions 2i and 2i+1 of every position: (sin pω, cos pω) on the unit circle, coloured by p."""
    n = len(table)
    points = {
        "type": "scatter",
        "x": table[:, 2 * pair],  # d_model is even: every sine dimension has its cosine partner
        "y": table[:, 2 * pair + 1],
        "mode": "markers+text",
        "text": [str(p) if p < 12 else "" for p in range(n)],
        "textposition": "top right",
        "marker": {
            "size": 8,
            "color": list(range(n)),
            "colorscale": figures.colorscale("Plasma"),
            "showscale": True,
            "colorbar": {"title": {"text": colorbar}},
        },
        "hovertemplate": "p = %{marker.color}: (%{x:.3f}, %{y:.3f})<extra></extra>",
        "showlegend": False,
    }
    layout = {
        "meta": {"chart": "pe_circle", "pair": pair},
        "xaxis": {
            "title": {"text": f"PE(p, {2 * pair}) = sin(p·ω)"},
            "scaleanchor": "y",
            "range": [-1.25, 1.25],
        },
        "yaxis": {"title": {"text": f"PE(p, {2 * pair + 1}) = cos(p·ω)"}, "range": [-1.25, 1.25]},
    }
    return figures.plain_figure([circle(), points], layout, 460, title)


def rope_rotation(
    turning: Sequence[tuple[str, str, np.ndarray]], pair: int, label_first: int, title: str
) -> go.Figure:
    """Vectors turning with the position: for each (name, colour, points (n, 2)) its circle, its point at
    every position (the first ``label_first`` numbered) and an arrow to its position-0 point."""
    data = []
    for name, color, points in turning:
        data.append(circle(float(np.linalg.norm(points[0]))))
        data.append(
            {
                "type": "scatter",
                "x": points[:, 0],
                "y": points[:, 1],
                "mode": "markers+text",
                "text": [str(p) if p < label_first else "" for p in range(len(points))],
                "textposition": "top right",
                "marker": {"size": 7, "color": color},
                "name": name,
            }
        )
        data.append(  # the vector at position 0, as an arrow from the origin
            {
                "type": "scatter",
                "x": [0, points[0, 0]],
                "y": [0, points[0, 1]],
                "mode": "lines",
                "line": {"color": color},
                "showlegend": False,
                "hoverinfo": "skip",
            }
        )
    layout = {
        "meta": {"chart": "rope_rotation", "pair": pair},
        "xaxis": {"title": {"text": f"{2 * pair}"}, "scaleanchor": "y"},
        "yaxis": {"title": {"text": f"{2 * pair + 1}"}},
        "legend": BELOW,
    }
    return figures.plain_figure(data, layout, 440, title)
