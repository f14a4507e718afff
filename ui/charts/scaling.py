"""The Scaling page's figures (plain-dict plotly, log–log axes): numbers and translated strings in, a
figure out (no t(), no st.*). Points are dicts as tinylm.sweep reports them (parameters, tokens, flops,
val_loss, size); fits are tinylm.scaling fit objects."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from plotly import graph_objects as go

from tinylm.scaling import PowerLawFit
from ui import figures

SIZE_COLORS = ["#1d4ed8", "#0891b2", "#16a34a", "#ca8a04", "#dc2626"]  # the ladder's rungs, small to large
SHIPPED, LIVE, OTHER, FIT = "#1d4ed8", "#ea580c", "#6b7280", "#111827"
BUDGET_COLORS = ["#7c3aed", "#0891b2", "#16a34a", "#ca8a04", "#dc2626"]


def size_color(size: int) -> str:
    return SIZE_COLORS[size % len(SIZE_COLORS)]


LOSS_TICKS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 8.0)


def _log_axes(x_title: str, y_title: str, losses: Sequence[float] = ()) -> dict[str, Any]:
    """Log–log axes: a label at every power of ten of x, and round losses on y (a narrow log range
    would otherwise have almost none); the legend above the plot."""
    finite = [v for v in losses if v > 0 and math.isfinite(v)]
    y_axis: dict[str, Any] = {"type": "log", "title": {"text": y_title}}
    if finite:
        low, high = min(finite) / 1.08, max(finite) * 1.08
        ticks: list[float] = []
        gap = max(0.04, math.log10(high / low) / 10)  # labels at least this far apart (log10 units)
        for value in LOSS_TICKS:
            if low <= value <= high and (not ticks or math.log10(value / ticks[-1]) >= gap):
                ticks.append(value)
        y_axis.update(tickvals=ticks, ticktext=[f"{v:g}" for v in ticks])
    return {
        "xaxis": {"type": "log", "title": {"text": x_title}, "dtick": 1, "exponentformat": "power"},
        "yaxis": y_axis,
        "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
        "hovermode": "closest",
        "margin": figures.margins(110),  # the title above the legend above the plot
    }


def _points_trace(points: Sequence[dict], key: str, name: str, color: str, symbol: str = "circle") -> dict:
    return {
        "type": "scatter",
        "mode": "markers",
        "name": name,
        "x": [p[key] for p in points],
        "y": [p["val_loss"] for p in points],
        "marker": {
            "color": color,
            "size": figures.scaled(11),
            "symbol": symbol,
            "line": {"width": 1, "color": "white"},
        },
        "hovertemplate": "%{x:.3s} · %{y:.4f}<extra>" + name + "</extra>",
    }


def _fit_traces(
    fit: PowerLawFit | None, x_range: tuple[float, float], name: str, band_name: str
) -> list[dict]:
    """The fitted curve over x_range (log-spaced) and its band as a filled area."""
    if fit is None:
        return []
    xs = np.geomspace(*x_range, 60)
    low, high = fit.band(xs)
    traces = []
    if np.all(np.isfinite(low)) and np.all(low > 0):
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": band_name,
                "x": [*xs.tolist(), *xs[::-1].tolist()],
                "y": [*high.tolist(), *low[::-1].tolist()],
                "fill": "toself",
                "fillcolor": "rgba(17,24,39,0.12)",
                "line": {"width": 0},
                "hoverinfo": "skip",
            }
        )
    traces.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": name,
            "x": xs.tolist(),
            "y": fit.predict(xs).tolist(),
            "line": {"color": FIT, "width": 2, "dash": "dash"},
            "hovertemplate": "%{x:.3s} · %{y:.4f}<extra></extra>",
        }
    )
    return traces


def _span(values: Sequence[float], spread: float = 1.6) -> tuple[float, float]:
    finite = [v for v in values if v > 0 and math.isfinite(v)]
    if not finite:
        return 1.0, 10.0
    return min(finite) / spread, max(finite) * spread


def loss_vs_parameters(
    shipped: Sequence[dict],
    fit: PowerLawFit | None,
    live: Sequence[dict],
    predicted: Sequence[dict],
    others: Sequence[dict],
    names: dict[str, str],
    axes: tuple[str, str],
    title: str,
) -> go.Figure:
    """L against N: the shipped sweep's sizes, the fit E + A/N^α with its band, the live sweep's sizes,
    the student's predictions (hollow) and other runs. ``names``: shipped, fit, band, live, predicted,
    others."""
    x_range = _span([p["parameters"] for p in [*shipped, *live, *predicted]])
    data = _fit_traces(fit, x_range, names["fit"], names["band"])
    data.append(_points_trace(shipped, "parameters", names["shipped"], SHIPPED))
    if others:
        data.append(_points_trace(others, "parameters", names["others"], OTHER, "square"))
    if predicted:
        trace = _points_trace(predicted, "parameters", names["predicted"], LIVE, "diamond-open")
        trace["marker"]["line"] = {"width": 2, "color": LIVE}
        data.append(trace)
    if live:
        data.append(_points_trace(live, "parameters", names["live"], LIVE, "diamond"))
    losses = [p["val_loss"] for p in [*shipped, *live, *predicted, *others]]
    return figures.plain_figure(data, _log_axes(*axes, losses), 440, title)


def learning_curves(
    curves: Sequence[tuple[int, float, float, float]],
    column: int,
    size_names: Sequence[str],
    fit: PowerLawFit | None,
    frontier: Sequence[Sequence[float]],
    live: Sequence[tuple[int, float, float, float]],
    names: dict[str, str],
    axes: tuple[str, str],
    title: str,
    others: Sequence[dict] = (),
) -> go.Figure:
    """Loss along training, one line per size, against tokens seen (column 1) or compute (column 2) of
    rows (size, tokens, flops, loss); the frontier (the least loss reached with that much) and its fit;
    the live sweep's curves in orange. ``names``: fit, band, frontier, live, others."""
    xs_all = [row[column] for row in [*curves, *live]]
    data = _fit_traces(fit, _span(xs_all, 1.2), names["fit"], names["band"])
    for size in sorted({row[0] for row in curves}):
        rows = [row for row in curves if row[0] == size]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": size_names[size] if size < len(size_names) else str(size),
                "x": [row[column] for row in rows],
                "y": [row[3] for row in rows],
                "line": {"color": size_color(size), "width": 2},
                "marker": {"size": figures.scaled(5)},
                "hovertemplate": "%{x:.3s} · %{y:.4f}<extra></extra>",
            }
        )
    if frontier:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": names["frontier"],
                "x": [row[0] for row in frontier],
                "y": [row[1] for row in frontier],
                "marker": {"color": FIT, "size": figures.scaled(6), "symbol": "x"},
                "hovertemplate": "%{x:.3s} · %{y:.4f}<extra></extra>",
            }
        )
    for index, size in enumerate(sorted({row[0] for row in live})):
        rows = [row for row in live if row[0] == size]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": names["live"],
                "legendgroup": "live",
                "showlegend": index == 0,
                "x": [row[column] for row in rows],
                "y": [row[3] for row in rows],
                "line": {"color": LIVE, "width": 3},
                "marker": {"size": figures.scaled(6), "symbol": "diamond"},
                "hovertemplate": "%{x:.3s} · %{y:.4f}<extra></extra>",
            }
        )
    if others:
        data.append(
            _points_trace(others, "tokens" if column == 1 else "flops", names["others"], OTHER, "square")
        )
    losses = [row[3] for row in [*curves, *live]] + [p["val_loss"] for p in others]
    layout = _log_axes(*axes, losses)
    # Half the page wide and many lines: the legend goes below the plot, under the axis title.
    layout["legend"] = {"orientation": "h", "y": -0.22, "yanchor": "top", "x": 0}
    layout["margin"] = {**figures.margins(50), "b": figures.scaled(150)}
    return figures.plain_figure(data, layout, 520, title)


def iso_flop(
    budgets: Sequence[tuple[float, Sequence[dict]]],
    rule_of_thumb: Sequence[float],
    budget_names: Sequence[str],
    names: dict[str, str],
    axes: tuple[str, str],
    title: str,
) -> go.Figure:
    """For each compute budget, loss against N of the ladder's sizes trained for exactly that compute
    (a star on the winner), and a dotted line at the size Chinchilla's 20 tokens per parameter picks.
    ``names``: winner, rule (the rule-of-thumb line's hover text)."""
    data: list[dict] = []
    lines: list[tuple[float, str, str]] = []
    for index, ((_, points), rule, name) in enumerate(zip(budgets, rule_of_thumb, budget_names, strict=True)):
        color = BUDGET_COLORS[index % len(BUDGET_COLORS)]
        ordered = sorted(points, key=lambda p: p["parameters"])
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": [p["parameters"] for p in ordered],
                "y": [p["val_loss"] for p in ordered],
                "line": {"color": color, "width": 2},
                "marker": {"size": figures.scaled(8)},
                "hovertemplate": "N %{x:.3s} · %{y:.4f}<extra>" + name + "</extra>",
            }
        )
        best = min(ordered, key=lambda p: p["val_loss"])
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": names["winner"],
                "legendgroup": "winner",
                "showlegend": index == 0,
                "x": [best["parameters"]],
                "y": [best["val_loss"]],
                "marker": {
                    "color": color,
                    "size": figures.scaled(18),
                    "symbol": "star",
                    "line": {"width": 1, "color": FIT},
                },
                "hovertemplate": "N %{x:.3s} · %{y:.4f}<extra>" + names["winner"] + "</extra>",
            }
        )
        lines.append((rule, color, name))
    losses = [p["val_loss"] for _, points in budgets for p in points]
    low, high = (min(losses), max(losses)) if losses else (1.0, 2.0)
    for index, (rule, color, name) in enumerate(lines):  # a vertical line as a two-point trace
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": names["rule"],
                "legendgroup": "rule",
                "showlegend": index == 0,
                "x": [rule, rule],
                "y": [low, high],
                "line": {"color": color, "dash": "dot", "width": 2},
                "hovertemplate": "N %{x:.3s}<extra>" + name + "</extra>",
            }
        )
    return figures.plain_figure(data, _log_axes(*axes, losses), 460, title)


def slide_image(
    series: Sequence[tuple[str, Sequence[float], Sequence[float], str, str]],
    band: tuple[Sequence[float], Sequence[float], Sequence[float]] | None,
    axes: tuple[str, str],
    title: str,
    image_format: str = "png",
) -> bytes:
    """A static log–log figure for slides (matplotlib, 200 dpi, CJK-capable font), as PNG or SVG.
    ``series``: (name, xs, ys, "points" | "line" | "dashed", colour); ``band``: (xs, low, high)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # no pyplot: thread-safe, nothing global

    matplotlib.rcParams["font.family"] = [*figures.CJK_FONTS, "DejaVu Sans"]
    figure = Figure(figsize=(8, 5), dpi=200)
    ax = figure.subplots()
    if band is not None:
        xs, low, high = band
        ax.fill_between(xs, low, high, color="#111827", alpha=0.12, linewidth=0)
    for name, xs, ys, style, color in series:
        if style == "points":
            ax.plot(xs, ys, "o", color=color, label=name, markersize=7)
        else:
            ax.plot(xs, ys, "--" if style == "dashed" else "-", color=color, label=name, linewidth=2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(axes[0].replace("$", r"\$"))
    ax.set_ylabel(axes[1].replace("$", r"\$"))
    ax.set_title(title.replace("$", r"\$"))
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(loc="best", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=image_format)
    return buffer.getvalue()


def loss_vs_parameters_slide(
    shipped: Sequence[dict],
    fit: PowerLawFit | None,
    live: Sequence[dict],
    names: dict[str, str],
    axes: tuple[str, str],
    title: str,
    image_format: str = "png",
) -> bytes:
    """The L(N) figure as a slide image: the shipped points, the fit and its band, the live points."""
    series = [
        (
            names["shipped"],
            [p["parameters"] for p in shipped],
            [p["val_loss"] for p in shipped],
            "points",
            SHIPPED,
        )
    ]
    band = None
    if fit is not None:
        xs = np.geomspace(*_span([p["parameters"] for p in [*shipped, *live]]), 60)
        series.append((names["fit"], xs.tolist(), fit.predict(xs).tolist(), "dashed", FIT))
        low, high = fit.band(xs)
        band = (xs, low, high) if np.all(np.isfinite(low)) and np.all(low > 0) else None
    if live:
        series.append(
            (names["live"], [p["parameters"] for p in live], [p["val_loss"] for p in live], "points", LIVE)
        )
    return slide_image(series, band, axes, title, image_format)
