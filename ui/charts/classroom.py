"""Classroom mode's figures: a class's loss curves overlaid, one line per run, labelled by the student's
display name (escaped: names are data). Plain-dict plotly figures from translated strings."""

from __future__ import annotations

from collections.abc import Sequence

from plotly import graph_objects as go

from ui.charts.train import line_figure


def class_curves(
    series: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    x_title: str,
    y_title: str,
    height: int = 420,
    log_y: bool = False,
) -> go.Figure:
    """One line per (name, xs, ys); the legend names each run."""
    return line_figure(
        [(name, list(xs), list(ys), "solid") for name, xs, ys in series],
        x_title,
        y_title,
        height=height,
        log_y=log_y,
    )
