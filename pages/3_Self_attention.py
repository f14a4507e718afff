"""Page 3 — self-attention step by step on the student's own short text, every number from the real model.

X → W_Q, W_K, W_V → Q, K, V → QKᵀ → ÷ sqrt(d_k) → causal mask → softmax → weights · V, then all heads,
concatenation and W_O. The numbers come from ``tinylm.explain.attention`` (explicit ops on the model's
own weights, checked against its forward pass); this page only draws them.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import streamlit as st

from tinylm.explain import attention as explain
from ui import explained, figures, widgets
from ui.charts import attention as charts
from ui.i18n import t
from ui.layout import model_page, stop_here

PRESETS = {"zh": "我爱吃饼干", "en": "I love cake."}
MAX_TEXT_CHARS = 200
MAX_TOKENS = explain.MAX_WALKTHROUGH_TOKENS
QUIZ_KEY = "_attention_quiz"  # durable quiz state: survives reruns and page changes
GUESS_WIDGET = "attention.guess_widget"
PROBABILITIES = {"signed": False, "zmin": 0, "zmax": 1}  # attention weights: white 0 to dark blue 1

page, active = model_page("attention")
config = active.model.config


def show_matrix(name: str, filename: str, matrix: np.ndarray, rows, cols, title: str, **options) -> None:
    """One matrix of the walkthrough: signed values blue-white-red, numbers in the cells when they fit.
    rows / cols: token labels, or None for dimension numbers."""
    figure = figures.matrix_heatmap(matrix, rows, cols, title, **{"signed": True, "numbers": None, **options})
    figures.show(figure, key=f"attention.fig.{name}", filename=filename)


def download_matrix(matrix: np.ndarray, row_labels: list[str], name: str) -> None:
    figures.download_matrix_csv(matrix, row_labels, None, f"{name}.csv", key=f"attention.csv.{name}")


def download_slide(matrix: np.ndarray, title: str, name: str) -> None:
    figures.download_matrix_png(matrix, labels, labels, title, f"{name}.png", key=f"attention.png.{name}")


st.markdown(t("attention.intro"))
st.latex(r"\mathrm{Attention}(Q,K,V)=\mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}+M\right)V")
st.caption(t("attention.made_up_note"))

layers = list(range(config.n_layers))
heads = list(range(config.n_heads))
with page.controls():
    widgets.text_with_examples(
        page,
        "text",
        t("attention.text"),
        t("attention.text_help", max_tokens=MAX_TOKENS),
        active.tokenizer,
        PRESETS,
        {"zh": t("attention.preset_zh"), "en": t("attention.preset_en")},
        max_chars=MAX_TEXT_CHARS,
    )
    layer_column, head_column, scale_column, quiz_column = st.columns(4, vertical_alignment="bottom")
    layer_column.selectbox(
        t("common.layer"),
        layers,
        help=t("attention.layer_help"),
        **page.bind_setting("layer", 0, options=layers),
    )
    head_column.selectbox(
        t("common.head"), heads, help=t("attention.head_help"), **page.bind_setting("head", 0, options=heads)
    )
    scale_column.toggle(t("attention.unscaled_toggle"), **page.bind_setting("unscaled", False))
    quiz_column.toggle(
        t("attention.quiz_toggle"), help=t("attention.quiz_help"), **page.bind_setting("quiz", False)
    )

text, layer, head = page.get("text"), page.get("layer"), page.get("head")
tokens, walk = explained.on_text(page, active, "attention", text, layer)  # the whole layer, all heads

pieces = walk.pieces
n_tokens, d_model, d_k = len(pieces), config.d_model, walk.head_dim
rows = figures.axis_labels(pieces)  # for plotly axes
labels = figures.position_labels(pieces)  # for widgets, tables, CSV
md_labels = [widgets.markdown_literal(label) for label in labels]  # inside Markdown text

# ---------------------------------------------------------------------------------------------- tokens
chip_titles = [t("attention.chip_title", position=i, id=token_id) for i, token_id in enumerate(tokens.ids)]
widgets.token_chips(pieces, {"\ufffd"} if tokens.unknown_chars else set(), chip_titles)
if tokens.cropped:
    st.info(t("attention.cropped", n=tokens.total_tokens, shown=n_tokens, context=config.context_len))
widgets.warn_unknown_chars(tokens.unknown_chars)

# ---------------------------------------------------------------------------------------------- 1. X
st.header(t("attention.step_x"))
if walk.norm_position == "pre":
    st.markdown(t("attention.x_pre", layer=layer))
else:
    st.markdown(t("attention.x_post", layer=layer))
st.caption(t("attention.x_source_first") if layer == 0 else t("attention.x_source_later", layer=layer))
title = t("attention.fig_x", rows=n_tokens, cols=d_model)
show_matrix("x", "attention_X", walk.x, rows, None, title, numbers=False)
st.caption(t("attention.large_matrix_note", cols=d_model))
download_matrix(walk.x, labels, "X")

# ---------------------------------------------------------------------------------------------- 2. W
st.header(t("attention.step_w", head=head))
st.latex(r"Q = XW_Q + b_Q,\qquad K = XW_K + b_K,\qquad V = XW_V + b_V")
st.markdown(
    t("attention.w_explain", d_model=d_model, d_k=d_k, head=head, lo=head * d_k, hi=(head + 1) * d_k - 1)
)
projections = (("W_Q", walk.w_q), ("W_K", walk.w_k), ("W_V", walk.w_v))
for column, (name, matrix) in zip(st.columns(3), projections, strict=True):
    with column:
        title = t("attention.fig_w", name=name, head=head, rows=d_model, cols=d_k)
        file = f"attention_{name}_head{head}"
        show_matrix(name.lower(), file, matrix[head], None, None, title, numbers=False, height=460)
st.caption(t("attention.w_numbers_note", rows=d_model, cols=d_k))

# ---------------------------------------------------------------------------------------------- 3. QKV
st.header(t("attention.step_qkv", head=head))
st.markdown(t("attention.qkv_explain", d_k=d_k))
if walk.rope:
    st.info(t("attention.rope_note"))
for tab, (name, matrix) in zip(
    st.tabs(["Q", "K", "V"]), (("Q", walk.q), ("K", walk.k), ("V", walk.v)), strict=True
):
    with tab:
        title = t("attention.fig_qkv", name=name, head=head, rows=n_tokens, cols=d_k)
        show_matrix(name.lower(), f"attention_{name}_head{head}", matrix[head], rows, None, title)
        download_matrix(matrix[head], labels, f"{name}_head{head}")

# ---------------------------------------------------------------------------------------------- query + quiz
st.header(t("attention.step_query"))
st.selectbox(
    t("attention.query_select"),
    list(range(n_tokens)),
    format_func=lambda i: labels[i],
    help=t("attention.query_help"),
    **widgets.bounded_setting(page, "query", MAX_TOKENS - 1, high=n_tokens - 1, limit=MAX_TOKENS - 1),
)
query = page.get("query")
query_weights = walk.weights[head, query]
answer = int(np.argmax(query_weights))

quiz = st.session_state.setdefault(QUIZ_KEY, {"round": None, "guess": None, "revealed": False})
this_round = (active.cache_key, text, layer, head, query)
if quiz["round"] != this_round:  # a new question: forget the old guess
    quiz.update(round=this_round, guess=None, revealed=False)
if page.get("quiz"):
    with st.container(border=True):
        st.markdown(t("attention.quiz_question", query=md_labels[query], head=head, layer=layer))
        st.session_state[GUESS_WIDGET] = quiz["guess"]
        st.pills(
            t("attention.quiz_guess"),
            list(range(query + 1)),
            format_func=lambda i: md_labels[i],
            key=GUESS_WIDGET,
            on_change=lambda: quiz.update(guess=st.session_state[GUESS_WIDGET]),
            disabled=quiz["revealed"],
        )
        guess = quiz["guess"]
        if not quiz["revealed"]:
            reveal = partial(quiz.update, revealed=True)
            st.button(
                t("attention.quiz_reveal"), on_click=reveal, disabled=guess is None, key="attention.reveal"
            )
            st.info(t("attention.quiz_hidden"))
            stop_here(page)  # the answer is in every chart below
        right = {"token": md_labels[answer], "weight": f"{query_weights[answer]:.3f}"}
        if guess == answer:
            st.success(t("attention.quiz_right", **right))
        else:
            guess_text = md_labels[guess] if guess is not None else "-"
            guess_weight = f"{query_weights[guess]:.3f}" if guess is not None else "-"
            st.warning(t("attention.quiz_wrong", **right, guess=guess_text, guess_weight=guess_weight))
        new_round = partial(quiz.update, guess=None, revealed=False)
        st.button(t("attention.quiz_again"), on_click=new_round, key="attention.again")

# ---------------------------------------------------------------------------------------------- 4. QKᵀ
st.header(t("attention.step_scores"))
st.latex(r"S = QK^\top,\qquad S_{ij} = q_i \cdot k_j = \sum_{m=1}^{d_k} q_{im}\,k_{jm}")
st.markdown(t("attention.scores_explain"))
st.latex(rf"q_{{{query}}} \cdot k_{{{answer}}} = {walk.scores[head, query, answer]:.4f}")
title = t("attention.fig_scores", head=head)
show_matrix("scores", f"attention_QKt_head{head}", walk.scores[head], rows, rows, title, highlight_row=query)

# ---------------------------------------------------------------------------------------------- 5. scale
st.header(t("attention.step_scale"))
st.latex(
    rf"S' = \frac{{QK^\top}}{{\sqrt{{d_k}}}} = \frac{{QK^\top}}{{\sqrt{{{d_k}}}}}"
    rf" = \frac{{QK^\top}}{{{math.sqrt(d_k):.3f}}}"
)
st.markdown(t("attention.scale_explain", d_k=d_k, sqrt=f"{math.sqrt(d_k):.3f}"))
title = t("attention.fig_scaled", head=head)
show_matrix(
    "scaled", f"attention_scaled_head{head}", walk.scaled[head], rows, rows, title, highlight_row=query
)
download_slide(walk.scaled[head], title, f"scaled_head{head}")

# ---------------------------------------------------------------------------------------------- 6. mask
st.header(t("attention.step_mask"))
st.latex(r"M_{ij} = \begin{cases} 0 & j \le i \\ -\infty & j > i \end{cases}\qquad S'' = S' + M")
st.markdown(t("attention.mask_explain"))
figure = charts.masked_scores(walk.masked[head], rows, t("attention.fig_masked", head=head), query)
figures.show(figure, key="attention.fig.masked", filename=f"attention_masked_head{head}")

# ---------------------------------------------------------------------------------------------- 7. softmax
st.header(t("attention.step_softmax"))
st.latex(r"A_{ij} = \mathrm{softmax}(S''_i)_j = \frac{e^{S''_{ij}}}{\sum_{l \le i} e^{S''_{il}}}")
st.markdown(t("attention.softmax_explain"))
weights, unscaled = walk.weights[head], walk.weights_unscaled[head]
title = t("attention.fig_weights", head=head, layer=layer)
name = f"weights_L{layer}_H{head}"
show_matrix("weights", f"attention_{name}", weights, rows, rows, title, highlight_row=query, **PROBABILITIES)
st.caption(t("attention.rows_sum", worst=f"{np.abs(weights.sum(axis=1) - 1).max():.1e}"))
download_slide(weights, title, name)
if page.get("quiz"):
    st.caption(t("attention.quiz_answer_row", query=md_labels[query], token=md_labels[answer]))
if page.get("unscaled"):
    st.subheader(t("attention.unscaled_title"))
    st.markdown(t("attention.unscaled_explain", d_k=d_k, sqrt=f"{math.sqrt(d_k):.2f}"))
    title = t("attention.fig_unscaled", head=head)
    name = f"weights_unscaled_L{layer}_H{head}"
    show_matrix(
        "unscaled", f"attention_{name}", unscaled, rows, rows, title, highlight_row=query, **PROBABILITIES
    )
    download_slide(unscaled, title, name)

# Entropy of each row: how spread out the attention is (0 = all on one token).
entropies = {t("attention.entropy_scaled"): walk.entropy[head]}
if page.get("unscaled"):
    entropies[t("attention.entropy_unscaled")] = walk.entropy_unscaled[head]
axes = (t("attention.query_axis"), t("attention.entropy_axis"))
figure = charts.entropy_bars(rows, entropies, axes, t("attention.fig_entropy"))
figures.show(figure, key="attention.fig.entropy", filename=f"attention_entropy_L{layer}_H{head}")
if page.get("unscaled"):
    entropy_columns = {
        t("attention.col_query"): labels,
        t("attention.entropy_scaled"): widgets.rounded(walk.entropy[head]),
        t("attention.entropy_unscaled"): widgets.rounded(walk.entropy_unscaled[head]),
        t("attention.col_max_weight"): widgets.rounded(weights.max(axis=1)),
        t("attention.col_max_weight_unscaled"): widgets.rounded(unscaled.max(axis=1)),
    }
    file = f"attention_entropy_L{layer}_H{head}.csv"
    widgets.column_table(
        entropy_columns, file, csv_key="attention.csv.entropy", key="attention.table.entropy"
    )

# The query row in detail: one table a student can read left to right.
st.subheader(t("attention.row_title", query=md_labels[query]))
keys = slice(0, query + 1)
row_columns = {
    t("attention.col_key"): labels[keys],
    "q·k": widgets.rounded(walk.scores[head, query, keys]),
    "q·k / √d_k": widgets.rounded(walk.scaled[head, query, keys]),
    t("attention.col_weight"): widgets.rounded(weights[query, keys]),
    t("attention.col_weight_unscaled"): widgets.rounded(unscaled[query, keys]),
}
file = f"attention_row{query}_L{layer}_H{head}.csv"
widgets.column_table(row_columns, file, csv_key="attention.csv.row", key="attention.table.row")

# ---------------------------------------------------------------------------------------------- 8. A·V
st.header(t("attention.step_output"))
st.latex(r"\mathrm{head}_h = A\,V \qquad (T \times d_k)")
st.markdown(t("attention.output_explain", query=md_labels[query]))
title = t("attention.fig_head_output", head=head, rows=n_tokens, cols=d_k)
name = f"head_output_L{layer}_H{head}"
show_matrix(
    "head_output", f"attention_{name}", walk.head_outputs[head], rows, None, title, highlight_row=query
)
download_matrix(walk.head_outputs[head], labels, name)

# ---------------------------------------------------------------------------------------------- 9. heads
st.header(t("attention.step_multihead"))
st.latex(r"\mathrm{MultiHead}(X) = \mathrm{Concat}(\mathrm{head}_0,\dots,\mathrm{head}_{H-1})\,W_O + b_O")
st.markdown(t("attention.multihead_explain", heads=walk.n_heads, d_model=d_model, d_k=d_k))
head_titles = [t("attention.head_title", head=h) for h in heads]
head_names = [f"{t('common.head')} {h}" for h in heads]
title = t("attention.fig_all_heads", layer=layer)
figure = charts.all_heads(walk.weights, rows, head_titles, head_names, title)
figures.show(figure, key="attention.fig.heads", filename=f"attention_all_heads_L{layer}")
title = t("attention.fig_concat", heads=walk.n_heads, rows=n_tokens, cols=d_model)
show_matrix("concat", f"attention_concat_L{layer}", walk.concat, rows, None, title, numbers=False)
o_left, o_right = st.columns(2)
with o_left:
    title = t("attention.fig_wo", size=d_model)
    show_matrix("wo", f"attention_W_O_L{layer}", walk.w_o, None, None, title, numbers=False, height=460)
with o_right:
    title = t("attention.fig_sublayer_output", rows=n_tokens, cols=d_model)
    show_matrix(
        "output", f"attention_output_L{layer}", walk.output, rows, None, title, numbers=False, height=460
    )
download_matrix(walk.output, labels, f"attention_output_L{layer}")

# The check: our step-by-step numbers are the model's.
st.subheader(t("attention.check_title"))
check_header = [t("attention.check_quantity"), t("attention.check_difference"), t("attention.check_ok")]
checks = [
    (t("attention.check_weights", layer=layer), walk.max_weight_difference, 1e-4),
    (t("attention.check_output"), walk.max_output_difference, 1e-4),
    (t("attention.check_stream"), walk.max_residual_difference, 1e-4),
]
check_rows = [[name, f"{value:.2e}", "✓" if value < tolerance else "✗"] for name, value, tolerance in checks]
file = f"attention_check_L{layer}.csv"
widgets.table(check_header, check_rows, file, csv_key="attention.csv.check", key="attention.table.check")
if all(value < tolerance for _, value, tolerance in checks):
    st.success(t("attention.check_passed"))
else:
    st.error(t("attention.check_failed"))

page.sync_url()
