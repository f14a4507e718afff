"""Page 5 — attention explorer: every layer and every head of the real model on the student's text at once.

A grid of all heads, one head up close, a BertViz-style line view, what one token attends to in each head,
and how focused each head is (its entropy). The numbers come from ``tinylm.explain.heads``: the model's own
forward pass with ``return_attention=True``; this page only draws them.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from tinylm.explain import heads as explain
from ui import figures, widgets
from ui.charts import explorer as charts
from ui.i18n import t
from ui.layout import model_page, or_stop, stop_here
from ui.state import model_by_cache_key

PRESETS = {
    "zh": "小明有一只小猫。小猫很可爱，小明每天和小猫一起玩。",
    "en": "Lily had a red ball. She gave the ball to Tom.",
}
MAX_TEXT_CHARS = 1000  # far more than any demo model's context: the page then explains the window
LAST_TOKEN = 10**6  # "query" value meaning "the last token": clamped to the text's length below

page, active = model_page("explorer")
config = active.model.config


@st.cache_data(max_entries=32, show_spinner=False)
def heads_view(cache_key: str, text: str) -> explain.HeadsView:
    """One forward pass with the attention weights of every layer and head (raises TinyLMError)."""
    found = model_by_cache_key(cache_key)
    return explain.explore_heads(found.model, found.tokenizer, text)


def use_last_token() -> None:
    """Select the text's last token (the one that predicts what comes next)."""
    page.set("query", LAST_TOKEN)


st.markdown(t("explorer.intro"))
st.latex(
    r"A^{(\ell,h)} = \mathrm{softmax}\!\left(\frac{Q^{(\ell,h)}K^{(\ell,h)\top}}{\sqrt{d_k}} + M\right),"
    r"\qquad"
    r"\sum_{j \le i} A^{(\ell,h)}_{ij} = 1"
)

layers = list(range(config.n_layers))
heads = list(range(config.n_heads))
# Labels computed here, not inside format_func: widgets may call it outside this script run (AppTest does).
layer_names = [t("explorer.layer_name", layer=layer) for layer in layers]
head_names = [t("explorer.head_name", head=head) for head in heads]
with page.controls():
    widgets.text_with_examples(
        page,
        "text",
        t("explorer.text"),
        t("explorer.text_help", context=config.context_len),
        active.tokenizer,
        PRESETS,
        {"zh": t("explorer.preset_zh"), "en": t("explorer.preset_en")},
        max_chars=MAX_TEXT_CHARS,
        multiline=True,
        then=use_last_token,  # a new text: look at its last token again
    )
    layer_column, head_column, lines_column = st.columns(3, vertical_alignment="bottom")
    layer_column.selectbox(
        t("common.layer"),
        layers,
        format_func=layer_names.__getitem__,
        **page.bind_setting("layer", 0, options=layers),
    )
    head_column.selectbox(
        t("common.head"),
        heads,
        format_func=head_names.__getitem__,
        **page.bind_setting("head", 0, options=heads),
    )
    lines_column.toggle(
        t("explorer.all_heads_toggle"),
        help=t("explorer.all_heads_help"),
        **page.bind_setting("all_heads", False),
    )

text, layer, head = page.get("text"), page.get("layer"), page.get("head")
if not text:
    st.info(t("common.empty_prompt"))
    stop_here(page)
view = or_stop(page, heads_view, active.cache_key, text)

n_tokens = len(view.pieces)
labels = figures.axis_labels(view.pieces)  # for plotly
names = figures.position_labels(view.pieces)  # for widgets, tables and slide images

# The tokens the model reads; with one token per character, what was typed (unknown characters in red).
shown = list(text[-n_tokens:]) if getattr(active.tokenizer, "kind", "") == "char" else view.pieces
unknown = set(view.tokens.unknown_chars)
chip_titles = [
    t("explorer.chip_unknown" if piece in unknown else "explorer.chip_title", position=i, id=token_id)
    for i, (piece, token_id) in enumerate(zip(shown, view.tokens.ids, strict=True))
]
widgets.token_chips(shown, unknown, chip_titles)
if view.tokens.cropped:
    st.info(t("explorer.cropped", n=view.tokens.total_tokens, context=config.context_len))
widgets.warn_unknown_chars(view.tokens.unknown_chars)

# ---------------------------------------------------------------------------------------------- the grid
st.header(t("explorer.grid_title"))
st.markdown(t("explorer.grid_explain", layers=config.n_layers, heads=config.n_heads, n=n_tokens))
figures.show(
    figures.heatmap_grid(
        list(view.weights.reshape(-1, n_tokens, n_tokens)),
        labels,
        [t("explorer.grid_cell", layer=layer_index, head=h) for layer_index in layers for h in heads],
        [f"L{layer_index} · H{h}" for layer_index in layers for h in heads],
        config.n_heads,
        title=t("explorer.fig_grid"),
        height=50 + 170 * config.n_layers,
        gaps=(min(0.03, 0.3 / config.n_heads), min(0.06, 0.4 / config.n_layers)),
        framed=layer * config.n_heads + head,
    ),
    key="explorer.fig.grid",
    filename="attention_all_heads",
)

# ---------------------------------------------------------------------------------------------- one head
head_title = t("explorer.fig_head", layer=layer, head=head)
st.header(t("explorer.head_title", layer=layer, head=head))
st.selectbox(
    t("explorer.query_select"),
    list(range(n_tokens)),
    format_func=names.__getitem__,
    help=t("explorer.query_help"),
    **widgets.bounded_setting(page, "query", LAST_TOKEN, high=n_tokens - 1, limit=LAST_TOKEN),
)
query = page.get("query")
matrix = view.weights[layer, head]

big_column, line_column = st.columns([3, 2])
with big_column:
    figures.show(
        charts.head_map(matrix, labels, query, head_title, t("explorer.axis_key"), t("explorer.axis_query")),
        key="explorer.fig.head",
        filename=f"attention_L{layer}_H{head}",
    )
    st.caption(t("explorer.head_caption", worst=f"{np.abs(matrix.sum(axis=1) - 1).max():.1e}"))
    download_column, png_column = st.columns(2)
    with download_column:
        figures.download_matrix_csv(
            matrix, names, names, f"attention_L{layer}_H{head}.csv", key="explorer.csv.head"
        )
    with png_column:
        file = f"attention_L{layer}_H{head}.png"
        figures.download_matrix_png(matrix, names, names, head_title, file, key="explorer.png.head")
with line_column:
    line_heads = heads if page.get("all_heads") else [head]
    figures.show(
        charts.lines(
            labels,
            query,
            [(h, view.weights[layer, h, query]) for h in line_heads],
            head_names,
            t("explorer.fig_lines", query=labels[query], layer=layer),
        ),
        key="explorer.fig.lines",
        filename=f"attention_lines_L{layer}_q{query}",
    )
    st.caption(t("explorer.lines_caption"))

# ---------------------------------------------------------------------------------------------- one token
query_markdown = widgets.markdown_literal(names[query])  # user text inside Markdown: shown literally
st.header(t("explorer.token_title", query=query_markdown))
st.markdown(t("explorer.token_explain", query=query_markdown, layer=layer))
layer_weights, layer_entropy = view.weights[layer], view.entropy[layer]
bar_names = [t("explorer.bar_head", head=h, entropy=f"{layer_entropy[h, query]:.2f}") for h in heads]
figures.show(
    charts.query_bars(
        labels[: query + 1],
        layer_weights[:, query, : query + 1],
        bar_names,
        t("explorer.axis_key"),
        t("explorer.axis_weight"),
        t("explorer.fig_bars", query=labels[query], layer=layer),
    ),
    key="explorer.fig.bars",
    filename=f"attention_token{query}_L{layer}",
)
token_header = [t("explorer.col_key"), *head_names]
token_rows = [
    [names[j], *(round(float(layer_weights[h, query, j]), 6) for h in heads)] for j in range(query + 1)
]
token_rows.append([t("explorer.row_entropy"), *(round(float(layer_entropy[h, query]), 6) for h in heads)])
file = f"attention_token{query}_L{layer}.csv"
widgets.table(token_header, token_rows, file, csv_key="explorer.csv.token", key="explorer.table.token")

# ---------------------------------------------------------------------------------------------- entropy
st.header(t("explorer.entropy_title"))
st.latex(r"H_i = -\sum_{j \le i} A_{ij} \ln A_{ij},\qquad 0 \;\le\; H_i \;\le\; \ln(i+1)")
st.markdown(t("explorer.entropy_explain"))
summary = view.summary
entropy_column, normalized_column = st.columns(2)
with entropy_column:
    zmax = float(explain.max_entropy(n_tokens)[-1]) or 1.0
    figures.show(
        charts.per_head(summary.mean_entropy, head_names, layer_names, t("explorer.fig_entropy"), zmax),
        key="explorer.fig.entropy",
        filename="attention_entropy_per_head",
    )
with normalized_column:
    figures.show(
        charts.per_head(
            summary.normalized_entropy, head_names, layer_names, t("explorer.fig_normalized"), 1.0
        ),
        key="explorer.fig.normalized",
        filename="attention_normalized_entropy_per_head",
    )
st.caption(t("explorer.entropy_caption", n_minus_one=max(1, n_tokens - 1)))
layer_labels, head_labels = [f"L{i}" for i in layers], [f"H{h}" for h in heads]
title = t("explorer.fig_entropy")
file = "attention_entropy_per_head.png"
figures.download_matrix_png(
    summary.mean_entropy, head_labels, layer_labels, title, file, "explorer.png.entropy", "Purples"
)
figures.show(
    charts.row_entropy(
        labels,
        view.entropy[layer, head],
        explain.max_entropy(n_tokens),
        (t("explorer.entropy_row"), t("explorer.entropy_max")),
        (t("explorer.axis_query"), t("explorer.axis_entropy")),
        t("explorer.fig_row_entropy", layer=layer, head=head),
    ),
    key="explorer.fig.row_entropy",
    filename=f"attention_row_entropy_L{layer}_H{head}",
)

st.subheader(t("explorer.patterns_title"))
st.markdown(t("explorer.patterns_explain"))
pattern_header = [
    t("common.layer"),
    t("common.head"),
    t("explorer.col_entropy"),
    t("explorer.col_normalized"),
    t("explorer.col_previous"),
    t("explorer.col_self"),
    t("explorer.col_first"),
]
per_head_values = (
    summary.mean_entropy,
    summary.normalized_entropy,
    summary.previous_token_weight,
    summary.self_weight,
    summary.first_token_weight,
)
pattern_rows = [
    [layer_index, h, *(round(float(values[layer_index, h]), 4) for values in per_head_values)]
    for layer_index in layers
    for h in heads
]
file = "attention_head_patterns.csv"
widgets.table(
    pattern_header, pattern_rows, file, csv_key="explorer.csv.patterns", key="explorer.table.patterns"
)
if n_tokens > 1:
    best_layer, best_head = divmod(int(summary.previous_token_weight.argmax()), config.n_heads)
    focused_layer, focused_head = divmod(int(summary.normalized_entropy.argmin()), config.n_heads)
    st.info(
        t(
            "explorer.patterns_highlight",
            prev_layer=best_layer,
            prev_head=best_head,
            prev_weight=f"{summary.previous_token_weight[best_layer, best_head]:.2f}",
            focus_layer=focused_layer,
            focus_head=focused_head,
            focus_value=f"{summary.normalized_entropy[focused_layer, focused_head]:.2f}",
        )
    )

st.page_link("pages/10_What_it_learned.py", label=t("explorer.go_learned"), icon=":material/psychology:")
page.sync_url()
