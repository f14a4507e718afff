"""10 · What did it learn? In-context learning appearing in the student's own run: the induction and
previous-token scores of every head over training (the phase change), the loss bump, the ICL score, a
replay of the induction head's stripe on a repeated sequence, the logit lens on the student's prompt and
head ablation with one click (Olsson et al. 2022, "In-context Learning and Induction Heads").

The numbers come from ``tinylm.explain.induction`` / ``logit_lens`` / ``ablation`` (and the runs'
records, written at every evaluation); the demo runs, the record shown and the cached calls live in
ui/learned_view.py. This page only draws.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from tinylm.explain.ablation import ABLATION_MODES
from ui import figures, learned_view, runs, widgets
from ui.charts import learned as charts
from ui.i18n import t
from ui.layout import model_page, or_stop, presenter
from ui.runs.session import student_id
from ui.text import markdown_literal

MAX_TEXT_CHARS = 300
TOP_K = 5

page, active = model_page("learned")
manager = runs.manager()
config = active.model.config
n_layers, n_heads = config.n_layers, config.n_heads
heads = [(layer, head) for layer in range(n_layers) for head in range(n_heads)]
head_labels = [learned_view.head_name(layer, head) for layer, head in heads]
head_options = [f"{layer}.{head}" for layer, head in heads]
# Declared before the fragments below: they write the URL, which must keep the later sections' settings.
page.setting("text", learned_view.lens_example(active.tokenizer), max_length=MAX_TEXT_CHARS)
page.setting("pos", MAX_TEXT_CHARS, low=0, high=MAX_TEXT_CHARS)  # the last token (pulled inside the text)
page.setting("mode", "zero", options=ABLATION_MODES)
page.setting("ablate", head_options[-1], options=head_options)

st.markdown(t("learned.intro"))
st.latex(
    r"P = \frac{1}{2n-1}\sum_{i=1}^{2n-1} A_{i,\,i-1},\qquad "
    r"I = \frac{1}{n}\sum_{i=n}^{2n-1} A_{i,\,i-n+1},\qquad "
    r"\mathrm{ICL} = \bar\ell_{\text{late}} - \bar\ell_{\text{early}}"
)
st.caption(t("learned.formula_caption"))

# ---------------------------------------------------------------------------------------------- 1. demo
st.header(t("learned.step_demo"))
specs = learned_view.demo_specs()
two = specs["2l"]
st.markdown(
    t(
        "learned.demo_explain",
        heads=two.n_heads,
        d_model=two.d_model,
        context=two.context_len,
        steps=f"{two.max_steps:,}",
        batch=two.batch_size,
    )
)
live = learned_view.demo_live(manager)
st.session_state[learned_view.LIVE_KEY] = live
busy = manager.active_run_of(student_id()) is not None
st.button(
    t("learned.demo_start"),
    type="primary",
    key="learned.demo_start",
    icon=":material/play_arrow:",
    disabled=busy,
    on_click=learned_view.start_demo,
    args=(manager, page),
)
if busy and not live:
    st.caption(t("train.one_at_a_time"))
st.fragment(learned_view.demo_panel, run_every=learned_view.REFRESH_SECONDS if live else None)(manager)

# ---------------------------------------------------------------------------------------------- 2. training
st.header(t("learned.step_training"))
st.markdown(t("learned.training_explain"))
learned_view.adopt_record_from_url(manager)
choices = learned_view.record_choices(manager)
options = list(choices)
st.selectbox(
    t("learned.record"),
    options,
    format_func=choices.__getitem__,
    **page.bind_setting("record", learned_view.default_record(choices, active), options=options),
)
choice = page.get("record")
record = learned_view.get_record(choice, manager, active)
st.fragment(learned_view.training_panel, run_every=learned_view.CHART_SECONDS if record.active else None)(
    choice, page, manager, active
)

# ---------------------------------------------------------------------------------------------- 3. heads now
st.header(t("learned.step_heads"))
st.markdown(t("learned.heads_explain"))
scores = learned_view.scores_now(active.cache_key)
if scores is None:
    st.info(t("learned.context_too_short"))
else:
    rows = [t("learned.layer_row", layer=layer) for layer in range(n_layers)]
    cols = [t("learned.head_col", head=head) for head in range(n_heads)]
    grids = (
        ("induction", "learned.fig_now_induction", False),
        ("prev_token", "learned.fig_now_prev", False),
        ("copying", "learned.fig_now_copying", True),
    )
    columns = st.columns(3) if not presenter() else [st.container() for _ in grids]
    for column, (name, title, signed) in zip(columns, grids, strict=True):
        with column:
            figure = charts.head_grid(scores[name], rows, cols, t(title), signed=signed)
            figures.show(figure, key=f"learned.fig.now_{name}", filename=f"heads_{name}")
    st.caption(t("learned.heads_caption"))
    header = [t("common.layer"), t("learned.col_head"), t("learned.induction_axis"), t("learned.prev_axis")]
    header.append(t("learned.copying"))
    table = [
        [layer, head, *(round(float(scores[name][layer, head]), 4) for name, _, _ in grids)]
        for layer, head in heads
    ]
    widgets.table(header, table, "head_scores_now.csv", csv_key="learned.csv.now", key="learned.table.now")

# ---------------------------------------------------------------------------------------------- 4. logit lens
st.header(t("learned.step_lens"))
st.markdown(t("learned.lens_explain"))
st.latex(r"p_s = \mathrm{softmax}\big(\mathrm{LN}_f(x_s)\, W_U\big)")
with page.controls():
    st.text_input(
        t("learned.lens_text"),
        max_chars=MAX_TEXT_CHARS,
        help=t("learned.lens_text_help", context=config.context_len),
        **page.bind("text"),
    )
tokens, lens, pieces = or_stop(page, learned_view.lens, active.cache_key, page.get("text"), TOP_K)
n_tokens = len(tokens.ids)
labels = figures.position_labels(tokens.pieces)
widgets.token_chips(tokens.pieces, {"\ufffd"} if tokens.unknown_chars else set())
if tokens.unknown_chars:
    widgets.warn_unknown_chars(tokens.unknown_chars)
if tokens.cropped:
    st.info(t("common.cropped", n=tokens.total_tokens, context=n_tokens))
stages = [learned_view.stage_name(name) for name in lens.names]
position_labels = dict(enumerate(labels))
st.selectbox(
    t("learned.lens_position"),
    list(range(n_tokens)),
    format_func=position_labels.__getitem__,
    **widgets.bounded_setting(page, "pos", MAX_TEXT_CHARS, high=n_tokens - 1, limit=MAX_TEXT_CHARS),
)
position = page.get("pos")
next_piece = tokens.pieces[position + 1] if position + 1 < n_tokens else None
header = [t("learned.col_stage"), *(t("learned.col_rank", k=k + 1) for k in range(lens.top_ids.shape[2]))]
header += [t("learned.col_next_p"), t("learned.col_next_rank")]
lens_rows = []
for s, stage in enumerate(stages):
    top = [
        f"{figures.visible(pieces[s][position][k])} ({lens.top_probs[s, position, k]:.2f})"
        for k in range(len(pieces[s][position]))
    ]
    p_next = lens.target_probs[s, position]
    rank = int(lens.target_ranks[s, position])
    lens_rows.append(
        [stage, *top, "–" if np.isnan(p_next) else round(float(p_next), 4), rank + 1 if rank >= 0 else "–"]
    )
st.caption(
    t("learned.lens_next", token=markdown_literal(figures.visible(next_piece)))
    if next_piece is not None
    else t("learned.lens_last")
)
widgets.table(header, lens_rows, "logit_lens.csv", csv_key="learned.csv.lens", key="learned.table.lens")
if n_tokens > 1:
    figure = figures.matrix_heatmap(
        np.nan_to_num(lens.target_probs[:, :-1]),
        stages,
        figures.axis_labels(tokens.pieces[1:]),
        t("learned.fig_lens"),
        zmin=0,
        zmax=1,
        numbers=None,
        top_margin=110,
    )
    figures.show(figure, key="learned.fig.lens", filename="logit_lens")
check = lens.max_final_difference
if check < 1e-4:
    st.success(t("learned.lens_check", diff=f"{check:.1e}"))
else:
    st.error(t("block.check_failed", diff=f"{check:.1e}"))

# ---------------------------------------------------------------------------------------------- 5. ablation
st.header(t("learned.step_ablation"))
st.markdown(t("learned.ablation_explain"))
mode_names = {mode: t(f"learned.mode_{mode}") for mode in ABLATION_MODES}
head_titles = dict(zip(head_options, head_labels, strict=True))
mode_column, head_column = st.columns([1, 3])
mode_column.radio(
    t("learned.mode"),
    ABLATION_MODES,
    format_func=mode_names.__getitem__,
    **page.bind("mode"),
)
head_column.segmented_control(
    t("learned.ablate_head"),
    head_options,
    format_func=head_titles.__getitem__,
    **page.bind("ablate"),
)
text, from_corpus = learned_view.ablation_text(active, page.get("text"))
result = or_stop(page, learned_view.ablate, active.cache_key, text, page.get("mode"))
chosen = head_options.index(page.get("ablate"))
layer, head = heads[chosen]
columns = st.columns(2)
columns[0].metric(
    t("learned.copy_loss"),
    f"{result.probe_losses[layer, head]:.3f}",
    delta=f"{result.probe_change[layer, head]:+.3f}",
    delta_color="inverse",
    help=t("learned.copy_loss_help", before=f"{result.probe_loss:.3f}"),
)
columns[1].metric(
    t("learned.text_loss"),
    f"{result.text_losses[layer, head]:.3f}",
    delta=f"{result.text_change[layer, head]:+.3f}",
    delta_color="inverse",
    help=t("learned.text_loss_help", before=f"{result.text_loss:.3f}"),
)
st.caption(t("learned.ablation_text_corpus" if from_corpus else "learned.ablation_text_prompt"))
figure = charts.ablation_bars(
    head_labels,
    result.probe_change.ravel().tolist(),
    result.text_change.ravel().tolist(),
    chosen,
    (t("learned.bar_probe"), t("learned.bar_text")),
    t("learned.bar_axis"),
    t("learned.fig_ablation"),
)
figures.show(figure, key="learned.fig.ablation", filename="which_heads_matter")
header = [t("common.layer"), t("learned.col_head"), t("learned.bar_probe"), t("learned.bar_text")]
table = [
    [
        layer_,
        head_,
        round(float(result.probe_change[layer_, head_]), 4),
        round(float(result.text_change[layer_, head_]), 4),
    ]
    for layer_, head_ in heads
]
figures.download_csv(header, table, "head_ablation.csv", key="learned.csv.ablation")

st.divider()
links = st.container(horizontal=True)
links.page_link("pages/7_Train.py", label=t("learned.go_train"), icon=":material/model_training:")
links.page_link("pages/5_Attention_explorer.py", label=t("learned.go_explorer"), icon=":material/grid_view:")
page.sync_url()
