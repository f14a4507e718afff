"""Page 4 — inside a Transformer block: the residual stream, LayerNorm, the feed-forward network, and how
much each sub-layer changes the stream, all on the student's own text.

The numbers come from ``tinylm.explain.block`` (explicit ops on the model's own weights, checked against
its forward pass); this page only draws them.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from tinylm.explain import block as explain
from ui import explained, figures, widgets
from ui.charts import block as charts
from ui.i18n import t
from ui.layout import model_page

PRESETS = {"zh": "小猫在草地上玩球，我爱吃饼干。", "en": "Tom saw a little cat. The cat was happy."}
MAX_TEXT_CHARS = 500
MAX_TOKENS = explain.MAX_BLOCK_TOKENS
NORMS = ["norm1", "norm2"]

page, active = model_page("block")
config = active.model.config


def show_heatmap(key: str, filename: str, matrix: np.ndarray, rows, cols, title: str, **options) -> None:
    """Rows of stages or tokens; cols: token labels on top, or None for hidden-unit numbers."""
    many_tokens = cols is not None and len(cols) > 16  # their labels turn sideways: more room above
    options.setdefault("height", 170 + 26 * len(matrix))
    figure = figures.matrix_heatmap(
        matrix, rows, cols, title, top_margin=110 if many_tokens else 80, **options
    )
    figures.show(figure, key=key, filename=filename)


def stage_name(name: str) -> str:
    """ "layer2.feed_forward" → "layer 2 · feed-forward", in the reader's language."""
    if name == "embedding":
        return t("block.stage_embedding")
    layer, part = name.removeprefix("layer").split(".", 1)
    return t("block.stage_attention" if part == "attention" else "block.stage_ffn", layer=layer)


def check(difference: float, passed: str) -> None:
    """The explicit computation against the model's own module: passed, or how far off it is."""
    if difference < 1e-4:
        st.success(passed)
    else:
        st.error(t("block.check_failed", diff=f"{difference:.1e}"))


st.markdown(t("block.intro"))
layers = list(range(config.n_layers))
pre_norm = config.norm_position == "pre"
norms = ["norm1"] if config.attention_only else NORMS  # attention-only: no FFN, no LN₂
if config.attention_only:
    st.latex(
        r"x \leftarrow x + \mathrm{Attn}(\mathrm{LN}_1(x))"
        if pre_norm
        else r"x \leftarrow \mathrm{LN}_1(x + \mathrm{Attn}(x))"
    )
    st.info(t("block.attention_only"))
elif pre_norm:
    st.latex(
        r"x \leftarrow x + \mathrm{Attn}(\mathrm{LN}_1(x)),\qquad "
        r"x \leftarrow x + \mathrm{FFN}(\mathrm{LN}_2(x))"
    )
else:
    st.latex(
        r"x \leftarrow \mathrm{LN}_1(x + \mathrm{Attn}(x)),\qquad "
        r"x \leftarrow \mathrm{LN}_2(x + \mathrm{FFN}(x))"
    )

# Labels computed here, not inside format_func: widgets may call it outside this script run (AppTest does).
norm_names = {name: t(f"block.{name}_{config.norm_position}") for name in norms}
with page.controls():
    widgets.text_with_examples(
        page,
        "text",
        t("block.text"),
        t("block.text_help", max_tokens=min(MAX_TOKENS, config.context_len)),
        active.tokenizer,
        PRESETS,
        {"zh": t("block.preset_zh"), "en": t("block.preset_en")},
        max_chars=MAX_TEXT_CHARS,
    )
    layer_column, norm_column, per_token_column = st.columns(3, vertical_alignment="bottom")
    layer_column.selectbox(
        t("common.layer"), layers, help=t("block.layer_help"), **page.bind_setting("layer", 0, options=layers)
    )
    norm_column.radio(
        t("block.norm_select"),
        norms,
        format_func=norm_names.__getitem__,
        horizontal=True,
        **page.bind_setting("norm", "norm1", options=norms),
    )
    per_token_column.toggle(t("block.per_token"), **page.bind_setting("per_token", False))

text, layer = page.get("text"), page.get("layer")
view = explained.on_text(page, active, "block", text, layer)  # the residual stream and block `layer`

tokens, stream = view.tokens, view.stream
n_tokens = len(tokens.ids)
axis_labels = figures.axis_labels(tokens.pieces)  # plotly
labels = figures.position_labels(tokens.pieces)  # widgets, tables, CSV
stages = [stage_name(name) for name in stream.names]
updates = stages[1:]

widgets.token_chips(tokens.pieces, {"\ufffd"} if tokens.unknown_chars else set())
if tokens.cropped:
    st.info(t("common.cropped", n=tokens.total_tokens, context=n_tokens) + " " + t("block.window_note"))
if tokens.unknown_chars:
    st.warning(t("block.unknown", count=len(tokens.unknown_chars)))
    st.code(" ".join(figures.visible(c) for c in tokens.unknown_chars[:40]), language=None)

# ---------------------------------------------------------------------------------------------- 1. stream
st.header(t("block.step_stream"))
st.markdown(t("block.stream_explain", entries=len(stages), layers=config.n_layers, d_model=config.d_model))
title = t("block.fig_stream")
show_heatmap(
    "block.fig.stream",
    "block_residual_norms",
    stream.norms,
    stages,
    axis_labels,
    title,
    numbers=n_tokens <= 16,
)

# ---------------------------------------------------------------------------------------------- 2. updates
st.header(t("block.step_updates"))
st.latex(r"\rho_s = \frac{\lVert x_s - x_{s-1} \rVert}{\lVert x_{s-1} \rVert}")
st.markdown(t("block.updates_explain" if pre_norm else "block.updates_explain_post"))
mean_updates = stream.mean_relative_updates
is_attention = ["attention" in name for name in stream.names[1:]]
figures.show(
    charts.update_sizes(updates, mean_updates, is_attention, t("block.updates_axis"), t("block.fig_updates")),
    key="block.fig.updates",
    filename="block_update_sizes",
)
if page.get("per_token"):
    title = t("block.fig_updates_tokens")
    file = "block_update_sizes_per_token"
    show_heatmap(
        "block.fig.updates_tokens",
        file,
        stream.relative_updates,
        updates,
        axis_labels,
        title,
        numbers=n_tokens <= 16,
    )
update_header = [
    t("block.col_sublayer"),
    t("block.col_stream_norm"),
    t("block.col_update_norm"),
    t("block.col_relative"),
]
st.dataframe(
    {
        update_header[0]: updates,
        update_header[1]: widgets.rounded(stream.norms[:-1].mean(axis=1)),
        update_header[2]: widgets.rounded(stream.update_norms.mean(axis=1)),
        update_header[3]: widgets.rounded(mean_updates),
    },
    hide_index=True,
    key="block.table.updates",
)
csv_rows = [  # the same per token
    [
        updates[s],
        labels[i],
        f"{stream.norms[s, i]:.6g}",
        f"{stream.update_norms[s, i]:.6g}",
        f"{stream.relative_updates[s, i]:.6g}",
    ]
    for s in range(len(updates))
    for i in range(n_tokens)
]
csv_header = [update_header[0], t("common.token"), *update_header[1:]]
figures.download_csv(csv_header, csv_rows, "block_update_sizes.csv", key="block.csv.updates")

# ---------------------------------------------------------------------------------------------- 3. LayerNorm
ln = view.norm2 if page.get("norm") == "norm2" and view.norm2 is not None else view.norm1
norm_name = ln.name
st.header(t("block.step_norm", layer=layer))
st.latex(
    r"\mu = \frac{1}{D}\sum_{i} x_i,\quad \sigma^2 = \frac{1}{D}\sum_i (x_i-\mu)^2,\quad"
    r"\mathrm{LN}(x) = \gamma \odot \frac{x-\mu}{\sqrt{\sigma^2+\varepsilon}} + \beta"
)
st.markdown(t("block.norm_explain", eps=f"{ln.eps:g}", d_model=config.d_model))
st.caption(t(f"block.{norm_name}_input_{config.norm_position}", layer=layer))
stats = {
    t("common.token"): labels,
    t("block.col_mean_before"): widgets.rounded(ln.mean),
    t("block.col_std_before"): widgets.rounded(ln.std),
    t("block.col_mean_normalized"): widgets.rounded(ln.normalized_mean),
    t("block.col_std_normalized"): widgets.rounded(ln.normalized_std),
    t("block.col_mean_after"): widgets.rounded(ln.output_mean),
    t("block.col_std_after"): widgets.rounded(ln.output_std),
}
file = f"block_layernorm_L{layer}_{norm_name}.csv"
widgets.column_table(stats, file, csv_key="block.csv.norm", key="block.table.norm")
spread = {
    t("block.col_std_before"): ln.std,
    t("block.col_std_normalized"): ln.normalized_std,
    t("block.col_std_after"): ln.output_std,
}
figures.show(
    charts.spreads(axis_labels, spread, t("block.fig_std")),
    key="block.fig.std",
    filename=f"block_layernorm_std_L{layer}_{norm_name}",
)

st.selectbox(
    t("block.token_select"),
    list(range(n_tokens)),
    format_func=lambda i: labels[i],
    **widgets.bounded_setting(page, "token", 0, high=n_tokens - 1, limit=MAX_TOKENS - 1),
)
token = page.get("token")
vectors = {
    t("block.line_before"): ln.x[token],
    t("block.line_normalized"): ln.normalized[token],
    t("block.line_after"): ln.output[token],
}
figures.show(
    charts.vector_lines(vectors, t("block.dim_axis"), t("block.fig_vector", token=axis_labels[token])),
    key="block.fig.vector",
    filename=f"block_layernorm_token{token}_L{layer}_{norm_name}",
)
st.markdown(t("block.gamma_explain"))
figures.show(
    charts.gamma_beta(ln.gamma, ln.beta, t("block.dim_axis"), t("block.fig_gamma")),
    key="block.fig.gamma",
    filename=f"block_layernorm_gamma_beta_L{layer}_{norm_name}",
)
check(ln.max_difference, t("block.norm_check", diff=f"{ln.max_difference:.1e}"))

# ---------------------------------------------------------------------------------------------- 4. FFN
ffn = view.feed_forward
st.header(t("block.step_ffn", layer=layer))
if ffn is None:
    st.info(t("block.no_ffn", layer=layer))
else:
    st.latex(r"\mathrm{FFN}(x) = W_2\,\mathrm{act}(W_1 x + b_1) + b_2")
    st.markdown(t(f"block.ffn_explain_{ffn.activation}", d_model=config.d_model, d_ff=config.d_ff))
    d_ff = ffn.hidden.shape[1]
    title = t("block.fig_hidden", rows=n_tokens, cols=d_ff, act=ffn.activation.upper())
    file = f"block_ffn_hidden_L{layer}"
    show_heatmap(
        "block.fig.hidden",
        file,
        ffn.hidden,
        axis_labels,
        None,
        title,
        signed=True,
        height=160 + 18 * n_tokens,
    )
    st.caption(t("block.hidden_note", cols=d_ff))
    title = t("block.fig_active", mean=f"{ffn.active_fraction.mean():.1%}")
    figures.show(
        charts.active_units(axis_labels, ffn.active_fraction, t("block.active_axis"), title),
        key="block.fig.active",
        filename=f"block_ffn_active_L{layer}",
    )
    active_header = [t("common.token"), t("block.col_active")]
    active_rows = [[labels[i], round(float(ffn.active_fraction[i]), 4)] for i in range(n_tokens)]
    figures.download_csv(active_header, active_rows, f"block_ffn_active_L{layer}.csv", key="block.csv.active")
    check(ffn.max_difference, t("block.ffn_check", diff=f"{ffn.max_difference:.1e}"))

# ---------------------------------------------------------------------------------------------- 5. pre/post
st.header(t("block.step_order"))
st.markdown(t("block.order_explain"))
boxes = {name: t(f"block.dia_{name}") for name in ("norm", "attention", "ffn", "out")}
pre_column, post_column = st.columns(2)
with pre_column:
    st.subheader(t("block.pre_title") + (" ✓" if pre_norm else ""))
    st.graphviz_chart(charts.diagram(pre_norm=True, highlighted=pre_norm, labels=boxes))
    st.markdown(t("block.pre_explain"))
with post_column:
    st.subheader(t("block.post_title") + ("" if pre_norm else " ✓"))
    st.graphviz_chart(charts.diagram(pre_norm=False, highlighted=not pre_norm, labels=boxes))
    st.markdown(t("block.post_explain"))
st.info(t("block.this_model_pre" if pre_norm else "block.this_model_post"))

page.sync_url()
