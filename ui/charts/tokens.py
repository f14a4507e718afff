"""Figures of page 1 (tokens & embeddings): the token chips, rows of the embedding matrix, and the map of
every token's embedding. Strings arrive translated; token labels arrive escaped (``figures.plot_label``),
except where a function says it escapes them itself."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import figures

UNKNOWN_COLOR = "#ff9e9e"
HEX_PIECE = re.compile(r"<([0-9a-f]{2}(?: [0-9a-f]{2})+)>")
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


def embedding_rows(
    rows: np.ndarray,
    row_ids: Sequence[int],
    pieces: Sequence[str],
    by_position: bool,
    hover: str,
    axes: tuple[str, str],
    title: str,
) -> go.Figure:
    """Rows of the embedding matrix E as a signed heatmap, one row per token: labelled "position:token"
    for the tokens of a text (by_position) or "id:token" for the vocabulary; each cell's hover names its
    id (customdata). hover: the hover template; axes: (dimension axis, token axis)."""
    labels = [
        f"{position if by_position else token_id}:{figures.plot_label(piece)}"
        for position, (token_id, piece) in enumerate(zip(row_ids, pieces, strict=True))
    ]
    figure = figures.matrix_heatmap(
        rows.astype(np.float32),
        labels,
        None,
        title,
        signed=True,
        customdata=np.array(row_ids)[:, None].repeat(rows.shape[1], axis=1),
        hovertemplate=hover + "<extra></extra>",
        x_title=axes[0],
        y_title=axes[1],
        labels_on_top=False,
        top_margin=None,
        height=min(900, 160 + 18 * len(row_ids)),
    )
    figure.update_layout(meta={"chart": "embedding_rows"})
    return figure


def display_pieces(pieces: Sequence[str]) -> list[str]:
    """Token pieces for the chips and labels: byte pieces such as "<e6 88>" keep their gap as a narrow
    no-break space, which ``figures.visible`` leaves alone (a real space in a token is shown as ␣)."""
    return [HEX_PIECE.sub(lambda m: "<" + m.group(1).replace(" ", "\u202f") + ">", piece) for piece in pieces]


def token_color(token_id: int) -> str:
    """A pastel colour per id (golden-ratio hues): the same token always gets the same colour."""
    hue = (token_id * 0.618033988749895) % 1.0
    return f"hsl({hue * 360:.0f}, 75%, 84%)"


def token_chips(
    pieces: Sequence[str], ids: Sequence[int], unknown_id: int | None, titles: Sequence[str]
) -> str:
    """The tokens as chips (HTML, escaped), each in its id's colour; the unknown token red."""
    colors = [UNKNOWN_COLOR if i == unknown_id else token_color(i) for i in ids]
    return figures.token_html(pieces, colors, titles)
