"""Figures and tables: plotly builders, downloads (PNG from plotly's toolbar, slide PNGs via matplotlib,
tables as CSV) and safe HTML for coloured tokens.

Speed: plotly validates every property of a figure built from its classes and copies the whole
template into each one (~20-40 ms a figure; a page draws up to 20). ``plain_figure`` and
``matrix_heatmap`` build figures from plain dicts without that validation (~1-5 ms); ``style`` gives a
figure built the usual way the same look without the template copy. Because unvalidated figures reach
plotly.js as they are, colour scales are explicit lists (``colorscale``): plotly.js reads some names
differently from plotly.py ("Blues" runs dark to light there).

User text is data: anything that came from a user is passed through ``html.escape`` before it is put
in HTML (``token_html``) or in a chart label (``plot_label``: plotly renders a few tags in text), and
everywhere else is shown by widgets that do not interpret HTML.
"""

from __future__ import annotations

import csv
import functools
import html
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import plotly.colors
import plotly.graph_objects as go
import plotly.io as pio
import plotly.utils
import streamlit as st

from ui.i18n import t
from ui.layout import presenter

CJK_FONTS = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", "PingFang SC"]
# Streamlit's own page font first (a web font it serves, so charts match the page), then CJK fonts.
PLOTLY_FONT = (
    "'Source Sans', Inter, 'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', "
    "sans-serif"
)
TEXT_COLOR = "#31333F"  # Streamlit's text colour
HIGHLIGHT = "#f59e0b"  # the orange frame around the selected row or cell
HOVER = "%{y} · %{x}: %{z:.4f}<extra></extra>"  # a matrix cell: row · column: value


# ---------------------------------------------------------------------------------------- colours


@functools.cache
def colorscale(name: str) -> list[list[Any]]:
    """A named plotly colour scale ("Blues", "RdBu_r", "Purples"…) as an explicit [[0, colour], …] list:
    exactly what plotly.py's validation makes of the name, for figures that skip validation."""
    return [[float(stop), color] for stop, color in plotly.colors.get_colorscale(name)]


SEQUENTIAL = colorscale("Blues")  # sizes and weights: white (0) to dark blue
DIVERGING = colorscale("RdBu_r")  # signed values: blue negative, white 0, red positive


def scaled(pixels: int) -> int:
    """A size for text in a chart, or for the room such text needs: half as large again in presenter
    mode (where the base font grows from 13 to 20 px)."""
    return round(pixels * 1.5) if presenter() else pixels


def margins(top: int) -> dict[str, int]:
    """The margins of a figure with ``top`` px of room above the plot (a title, labels or a legend there)."""
    return {"l": 10, "r": 10, "t": scaled(top), "b": 10}


# ------------------------------------------------------------------------------------- the look


@functools.cache
def _white_template_json() -> str:
    return json.dumps(pio.templates["plotly_white"].to_plotly_json(), cls=plotly.utils.PlotlyJSONEncoder)


def _white_template() -> dict:
    """plotly_white as a fresh plain dict (a parse is ~0.4 ms; a validated copy ~20 ms)."""
    return json.loads(_white_template_json())


def _look(height: int | None, title: str | None) -> dict[str, Any]:
    """The layout every figure shares: fonts (larger in presenter mode), margins, height, title."""
    layout: dict[str, Any] = {
        "font": {"family": PLOTLY_FONT, "size": 20 if presenter() else 13, "color": TEXT_COLOR},
        "margin": margins(50 if title else 20),
    }
    if height:
        layout["height"] = int(height * (1.3 if presenter() else 1.0))
    if title:  # at the top left, bold, like the page's own headings
        layout["title"] = {
            "text": title,
            "x": 0,
            "xanchor": "left",
            "pad": {"l": 4},
            "font": {"size": scaled(15), "weight": 700},
        }
    return layout


def style(fig: go.Figure, height: int | None = None, title: str | None = None) -> go.Figure:
    """The common look for a figure built with plotly's classes; bigger fonts in presenter mode."""
    # The template is set the way plotly sets its default template: without validating (and copying)
    # every one of its properties again. It is plotly's own template, already valid.
    layout = fig.layout
    validate, layout._validate = layout._validate, False
    try:
        layout.template = _white_template()
    finally:
        layout._validate = validate
    fig.update_layout(_look(height, title))
    return fig


def level_line(level: float, label: str, side: str = "left") -> tuple[list[dict], list[dict]]:
    """A dotted grey horizontal line across the plot at ``level`` (in the y axis' units: log10 on a log
    axis) and its label above it at the ``side`` ("left" or "right"): the layout's shapes, annotations."""
    shape = {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "y0": level,
        "y1": level,
        "line": {"dash": "dot", "color": "gray", "width": 2},
    }
    note = {
        "xref": "paper",
        "x": 0 if side == "left" else 1,
        "xanchor": side,
        "yref": "y",
        "y": level,
        "yanchor": "bottom",
        "text": label,
        "showarrow": False,
        "font": {"color": "gray"},
    }
    return [shape], [note]


def plain_figure(data: list[dict], layout: dict, height: int, title: str | None = None) -> go.Figure:
    """A figure from plain dicts (traces and layout as plotly.js reads them), with the common look.

    ``_validate=False`` skips plotly's property-by-property validation: ~1-5 ms instead of ~40 ms.
    Name colour scales with ``colorscale()``, never by a string.
    """
    full_layout = {**_look(height, title), "template": _white_template(), **layout}
    return go.Figure({"data": data, "layout": full_layout}, _validate=False)


def show(fig: go.Figure, key: str, filename: str) -> None:
    """Draw a plotly figure full width; its toolbar's camera button downloads a 2x PNG.

    ``theme=None``: the figure is drawn as built. Streamlit's own theme would replace its fonts (so
    presenter mode's larger text would not show) and its colours.
    """
    st.plotly_chart(
        fig,
        key=key,
        width="stretch",
        theme=None,
        config={
            "displaylogo": False,
            "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
        },
    )


# ---------------------------------------------------------------------------------------- labels


def visible(piece: str) -> str:
    """A token piece made visible: spaces as ␣, newlines as ↵, tabs as ⇥."""
    return piece.replace(" ", "␣").replace("\n", "↵").replace("\r", "␍").replace("\t", "⇥")


def plot_label(text: str) -> str:
    """Text for a chart label or trace name. Plotly renders a few HTML tags in labels (<b>, <a href>),
    so it is escaped; plotly decodes &lt; &gt; &amp; but not &quot;, hence quote=False."""
    return html.escape(visible(text), quote=False)


def position_labels(pieces: Sequence[str]) -> list[str]:
    """ "3:饼": position and visible token, unique even when a token repeats (widgets, tables, CSV)."""
    return [f"{i}:{visible(piece)}" for i, piece in enumerate(pieces)]


def axis_labels(pieces: Sequence[str]) -> list[str]:
    """Position labels escaped for a chart axis. Plotly merges equal category labels, hence positions."""
    return [plot_label(label) for label in position_labels(pieces)]


# -------------------------------------------------------------------------------------- heatmaps


def matrix_heatmap(
    matrix: np.ndarray,
    rows: Sequence[str] | None,
    cols: Sequence[str] | None,
    title: str | None = None,
    *,
    signed: bool = False,
    colors: str = "Blues",
    zmin: float | None = None,
    zmax: float | None = None,
    numbers: bool | None = False,
    number_size: int = 10,
    text: np.ndarray | None = None,
    highlight_row: int | None = None,
    height: int | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
    labels_on_top: bool = True,
    top_margin: int | None = 80,
    hovertemplate: str = HOVER,
    customdata: np.ndarray | None = None,
) -> go.Figure:
    """A matrix as a heatmap, row 0 at the top (built from plain dicts: fast).

    rows, cols: the axis labels, already unique and escaped (``axis_labels``), or None for an axis of
    dimension numbers 0 … n−1. signed: values around 0, blue-white-red with white at 0 (else ``colors``,
    from zmin to zmax). numbers: each cell's value printed in it; None: when there are few enough
    cells to read them (≤ 32 columns, ≤ 512 cells). text: printed instead of the numbers.
    highlight_row: framed in orange. top_margin: room for the title above labels on top (None: the
    common margin).
    """
    matrix = np.asarray(matrix)
    if matrix.dtype != np.float32:  # float32 stays: half the bytes sent for a large matrix
        matrix = matrix.astype(float)
    n_rows, n_cols = matrix.shape
    trace: dict[str, Any] = {
        "type": "heatmap",
        "z": matrix,
        "colorscale": DIVERGING if signed else colorscale(colors),
        "hovertemplate": hovertemplate,
    }
    if rows is not None:
        trace["y"] = list(rows)
    if cols is not None:
        trace["x"] = list(cols)
    if signed and zmin is None and zmax is None:
        trace["zmid"] = 0
    if zmin is not None:
        trace["zmin"] = zmin
    if zmax is not None:
        trace["zmax"] = zmax
    if customdata is not None:
        trace["customdata"] = customdata
    if numbers is None:
        numbers = n_cols <= 32 and n_rows * n_cols <= 512
    if text is not None:
        trace.update(text=text, texttemplate="%{text}")
    elif numbers:
        trace["texttemplate"] = "%{z:.2f}"
    if text is not None or numbers:
        trace["textfont"] = {"size": scaled(number_size)}
    layout: dict[str, Any] = {
        "yaxis": {"autorange": "reversed", "type": "linear" if rows is None else "category"},
        "xaxis": {"type": "linear" if cols is None else "category"},
    }
    if labels_on_top:
        layout["xaxis"]["side"] = "top"
    if x_title:
        layout["xaxis"]["title"] = {"text": x_title}
    if y_title:
        layout["yaxis"]["title"] = {"text": y_title}
    if top_margin is not None:
        layout["margin"] = margins(top_margin)
    if highlight_row is not None:
        layout["shapes"] = [
            {
                "type": "rect",
                "x0": -0.5,
                "x1": n_cols - 0.5,
                "y0": highlight_row - 0.5,
                "y1": highlight_row + 0.5,
                "line": {"color": HIGHLIGHT, "width": 3},
            }
        ]
    default_height = 120 + 28 * n_rows if n_rows <= 16 else 460
    return plain_figure([trace], layout, height or default_height, title)


def heatmap(
    matrix: np.ndarray,
    x_labels: Sequence[str],
    y_labels: Sequence[str],
    title: str | None = None,
    colorscale: str = "Blues",
    zmin: float | None = None,
    zmax: float | None = None,
    annotate: bool = False,
    height: int = 420,
    x_title: str | None = None,
    y_title: str | None = None,
) -> go.Figure:
    """A matrix of tokens × tokens as a heatmap; labels are made unique by position ("3:的") and escaped."""
    return matrix_heatmap(
        matrix,
        axis_labels(y_labels),
        axis_labels(x_labels),
        title,
        colors=colorscale,
        zmin=zmin,
        zmax=zmax,
        numbers=annotate,
        number_size=11,
        height=height,
        x_title=x_title,
        y_title=y_title,
        top_margin=None,
        hovertemplate="%{y} → %{x}: %{z:.3f}<extra></extra>",
    )


def heatmap_grid(
    matrices: Sequence[np.ndarray],
    labels: Sequence[str],
    cell_titles: Sequence[str],
    hover_names: Sequence[str],
    n_cols: int,
    *,
    title: str,
    height: int,
    gaps: tuple[float, float] = (0.04, 0.12),
    key_labels: bool = False,
    query_labels: bool = False,
    framed: int | None = None,
) -> go.Figure:
    """Square attention maps side by side, n_cols to a row, on one shared 0-1 colour scale.

    labels: the shared axis labels (escaped); cell_titles: one title above each map; hover_names: what
    the hover box calls each map; framed: the index of a map framed in orange; key_labels: label every
    map's columns (keys); query_labels: label the first column's rows (queries).
    """
    n_rows = -(-len(matrices) // n_cols)
    gap_x, gap_y = gaps
    width = (1 - gap_x * (n_cols - 1)) / n_cols
    cell_height = (1 - gap_y * (n_rows - 1)) / n_rows
    data: list[dict] = []
    annotations: list[dict] = []
    layout: dict[str, Any] = {"coloraxis": {"colorscale": SEQUENTIAL, "cmin": 0, "cmax": 1}}
    for index, matrix in enumerate(matrices):
        row, col = divmod(index, n_cols)
        suffix = "" if index == 0 else str(index + 1)
        x0, y1 = col * (width + gap_x), 1 - row * (cell_height + gap_y)
        layout[f"xaxis{suffix}"] = {
            "domain": [x0, x0 + width],
            "type": "category",
            "anchor": f"y{suffix}",
            "showticklabels": key_labels,
        }
        layout[f"yaxis{suffix}"] = {
            "domain": [max(0.0, y1 - cell_height), y1],  # (plotly checks: ≥ 0 despite rounding)
            "type": "category",
            "autorange": "reversed",
            "anchor": f"x{suffix}",
            "showticklabels": query_labels and col == 0,
        }
        data.append(
            {
                "type": "heatmap",
                "z": matrix,
                "x": list(labels),
                "y": list(labels),
                "coloraxis": "coloraxis",
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "hovertemplate": f"{hover_names[index]}<br>%{{y}} → %{{x}}: %{{z:.3f}}<extra></extra>",
            }
        )
        annotations.append(
            {
                "text": cell_titles[index],
                "x": x0 + width / 2,
                "y": y1,
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
                "yanchor": "bottom",
                "font": {"size": scaled(12)},
            }
        )
        if index == framed:
            layout["shapes"] = [
                {
                    "type": "rect",
                    "xref": f"x{suffix} domain",
                    "yref": f"y{suffix} domain",
                    "x0": -0.02,
                    "x1": 1.02,
                    "y0": -0.02,
                    "y1": 1.02,
                    "line": {"color": HIGHLIGHT, "width": 3},
                }
            ]
    layout["annotations"] = annotations
    return plain_figure(data, layout, height, title)


# -------------------------------------------------------------------------------- tokens as HTML


def token_html(pieces: Sequence[str], colors: Sequence[str], titles: Sequence[str] | None = None) -> str:
    """Coloured token chips as HTML. Every piece and title is escaped: user text never becomes markup."""
    spans = []
    for index, (piece, color) in enumerate(zip(pieces, colors, strict=True)):
        title = html.escape(titles[index], quote=True) if titles else ""
        spans.append(
            f'<span title="{title}" style="background:{html.escape(color, quote=True)};'
            f"padding:2px 3px;margin:1px;border-radius:4px;display:inline-block;"
            f'font-family:monospace;white-space:pre">{html.escape(visible(piece))}</span>'
        )
    return '<div style="line-height:2.0">' + "".join(spans) + "</div>"


# ------------------------------------------------------------------------------------- downloads


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")  # BOM: Excel then opens Chinese text correctly


def download_csv(header: Sequence[str], rows: Sequence[Sequence[Any]], filename: str, key: str) -> None:
    """A CSV download of a table, written only when the button is clicked. Deferred on purpose: a button
    holding the bytes makes the browser check its file's URL when drawn, and a page that reruns often
    (the Train page while runs end) may already have replaced that file: a 404 in the console."""
    st.download_button(
        t("common.download_csv"),
        lambda: csv_bytes(header, rows),
        file_name=filename,
        mime="text/csv",
        key=key,
    )


def matrix_csv(
    matrix: np.ndarray,
    row_labels: Sequence[Any],
    col_labels: Sequence[Any],
    corner: Sequence[str] = ("",),
    number_format: str = ".6g",
) -> bytes:
    """A matrix as CSV: a header row (corner cells, then col_labels), then one row per matrix row led by
    its label (a tuple: several leading cells, e.g. token and id)."""
    rows = [
        [*(label if isinstance(label, tuple) else (label,)), *(format(value, number_format) for value in row)]
        for label, row in zip(row_labels, matrix, strict=True)
    ]
    return csv_bytes([*corner, *col_labels], rows)


def download_matrix_csv(
    matrix: np.ndarray,
    row_labels: Sequence[Any],
    col_labels: Sequence[Any] | None,
    filename: str,
    key: str,
    corner: Sequence[str] = ("",),
    number_format: str = ".6g",
) -> None:
    """A CSV download of a matrix (see matrix_csv), written only when the button is clicked.
    col_labels None: the columns are dimensions 0 … n−1."""
    cols = list(range(np.shape(matrix)[1])) if col_labels is None else col_labels
    st.download_button(
        t("common.download_csv"),
        lambda: matrix_csv(matrix, row_labels, cols, corner, number_format),
        file_name=filename,
        mime="text/csv",
        key=key,
    )


def matrix_png(
    matrix: np.ndarray, x_labels: Sequence[str], y_labels: Sequence[str], title: str, cmap: str = "Blues"
) -> bytes:
    """A static, annotated heatmap for slides (matplotlib, 200 dpi, CJK-capable font)."""
    import matplotlib

    matrix = np.asarray(matrix, dtype=float)
    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # no pyplot: thread-safe, nothing global

    # A list of families: glyphs missing from the CJK font (e.g. ␣) fall back to DejaVu Sans.
    matplotlib.rcParams["font.family"] = [*CJK_FONTS, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    rows, cols = matrix.shape
    figure = Figure(figsize=(max(4.0, 0.6 * cols + 2), max(3.0, 0.5 * rows + 1.5)), dpi=200)
    axes = figure.subplots()
    image = axes.imshow(matrix, cmap=cmap, aspect="auto")
    axes.set_xticks(range(cols), [_no_mathtext(visible(s)) for s in x_labels], rotation=0)
    axes.set_yticks(range(rows), [_no_mathtext(visible(s)) for s in y_labels])
    axes.xaxis.tick_top()
    if rows * cols <= 400:
        finite = matrix[np.isfinite(matrix)]
        middle = (finite.max() + finite.min()) / 2 if finite.size else 0
        for i in range(rows):
            for j in range(cols):
                value = matrix[i, j]
                color = "white" if np.isfinite(value) and value > middle else "black"
                axes.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color=color)
    axes.set_title(_no_mathtext(title), pad=24)
    figure.colorbar(image, ax=axes, fraction=0.04)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _no_mathtext(text: str) -> str:
    """matplotlib reads $...$ as maths: user text must be shown as typed."""
    return text.replace("$", r"\$")


def download_png(data: bytes | Callable[[], bytes], filename: str, key: str) -> None:
    """A PNG download; pass a function to draw the image only when the button is clicked."""
    st.download_button(t("common.download_png"), data, file_name=filename, mime="image/png", key=key)


def download_matrix_png(
    matrix: np.ndarray,
    x_labels: Sequence[str],
    y_labels: Sequence[str],
    title: str,
    filename: str,
    key: str,
    cmap: str = "Blues",
) -> None:
    """A slide image of a matrix (matrix_png), drawn only when the button is clicked (matplotlib takes
    a few hundred ms)."""
    download_png(lambda: matrix_png(matrix, x_labels, y_labels, title, cmap), filename, key)
