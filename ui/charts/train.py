"""The Train page's figures: plain-dict plotly figures from translated strings (no t(), no st.*)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

from plotly import graph_objects as go

from ui import figures

MAX_PLOT_POINTS = 500  # a long run's curves are thinned to this many points (the browser stays fast)


def thin(rows: Sequence[tuple], limit: int = MAX_PLOT_POINTS) -> list[tuple]:
    """At most ``limit`` evenly spaced rows, always keeping the last one."""
    if len(rows) <= limit:
        return list(rows)
    stride = math.ceil(len(rows) / limit)
    return [*rows[::stride][:-1], rows[-1]]


def line_figure(
    series: list[tuple[str, list[float], list[float], str]],
    x_title: str,
    y_title: str,
    height: int = 320,
    log_y: bool = False,
    reference: tuple[float, str] | None = None,
    y_axis: dict[str, Any] | None = None,
) -> go.Figure:
    """Lines (name, xs, ys, dash style) and an optional dotted horizontal reference line with a label,
    from plain dicts (figures.plain_figure: no per-property validation, so a refresh stays cheap)."""
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": html.escape(name, quote=False),
            "x": xs,
            "y": ys,
            "line": {"dash": dash},
        }
        for name, xs, ys, dash in series
    ]
    layout: dict[str, Any] = {
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}, "type": "log" if log_y else "linear", **(y_axis or {})},
        "legend": {"orientation": "h", "y": -0.25},
    }
    if reference is not None:
        # On a log axis plotly places shapes and annotations in log10 units.
        level = math.log10(reference[0]) if log_y and reference[0] > 0 else reference[0]
        layout["shapes"], layout["annotations"] = figures.level_line(level, reference[1], side="right")
    return figures.plain_figure(data, layout, height=height)
