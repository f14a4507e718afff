"""Page 2 · Positional encoding: the sinusoidal formula, why its dot products encode distance, and what
the active model really uses (the same formula, a learned table, or RoPE's rotations)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from tinylm.explain import positions
from ui import figures, widgets
from ui.charts import positional as charts
from ui.i18n import current_language, t
from ui.layout import model_page
from ui.state import model_by_cache_key

D_MODEL_RANGE = (4, 512)
MAX_LEN_RANGE = (8, 256)
BASES = [10, 100, 1000, 10000, 100000]
DEFAULT_DIMS = "0,1,10,11,40,41"
MAX_DIMS = 12  # curves drawn at once: more is unreadable
SLIDE_SIZE = 16  # the slide PNG shows the first 16 positions × 16 dimensions, with numbers
MODEL_VIEW_POSITIONS = 64  # the model-side views show at most this many positions
PAPER_BASE = 10000.0  # sinusoidal models always use the paper's base

page, active = model_page("positional")
model_config = active.model.config
lang = current_language()  # fixed for format_func callbacks (AppTest calls them after the run)

# ------------------------------------------------------------------------------------ numbers (cached)


@st.cache_data(max_entries=32, show_spinner=False)
def formula_table(max_len: int, d_model: int, base: float) -> np.ndarray:
    return positions.sinusoidal_table(max_len, d_model, base)


@st.cache_data(max_entries=32, show_spinner=False)
def formula_similarity(max_len: int, d_model: int, base: float) -> np.ndarray:
    return positions.dot_similarity(formula_table(max_len, d_model, base))


@st.cache_data(max_entries=8, show_spinner=False)
def model_table(cache_key: str) -> np.ndarray | None:
    return positions.model_position_table(model_by_cache_key(cache_key).model)


@st.cache_data(max_entries=32, show_spinner=False)
def rope_view(cache_key: str, token_id: int, n_positions: int, pair: int) -> tuple[np.ndarray, ...]:
    """The first layer's first-head query and key for a token: pair ``pair`` of each as RoPE turns it at
    positions 0 … n−1 (each (n, 2)), and their RoPE score matrix (n, n)."""
    model = model_by_cache_key(cache_key).model
    query, key = positions.layer0_query_key(model, token_id, head=0)
    base, dims = model.config.rope_base, slice(2 * pair, 2 * pair + 2)
    turned = [positions.rope_rotate(vector, n_positions, base)[:, dims] for vector in (query, key)]
    return *turned, positions.rope_scores(query, key, n_positions, base)


def side_by_side(left, right, keys: tuple[str, str], filenames: tuple[str, str]) -> None:
    for column, figure, key, filename in zip(st.columns(2), (left, right), keys, filenames, strict=True):
        with column:
            figures.show(figure, key=f"positional.{key}", filename=filename)


def dim_name(dim: int) -> str:
    return t("positional.dim_label", lang, dim=dim, fn="sin" if dim % 2 == 0 else "cos", i=dim // 2)


# ------------------------------------------------------------------------------------------- page

st.latex(
    r"PE_{(p,\,2i)} = \sin\!\left(\frac{p}{\text{base}^{\,2i/d_{\mathrm{model}}}}\right),\qquad "
    r"PE_{(p,\,2i+1)} = \cos\!\left(\frac{p}{\text{base}^{\,2i/d_{\mathrm{model}}}}\right)"
)
st.markdown(t("positional.intro"))

with page.controls():
    left, right = st.columns(2)
    with left:
        d_model_key = page.setting("d_model", 128, low=D_MODEL_RANGE[0], high=D_MODEL_RANGE[1])
        if page.get("d_model") % 2:  # an odd value from a hand-edited link: the pairs need an even d
            page.set("d_model", page.get("d_model") + 1)
            st.session_state[d_model_key] = page.get("d_model")
        st.slider(
            t("positional.d_model"),
            min_value=D_MODEL_RANGE[0],
            max_value=D_MODEL_RANGE[1],
            step=2,
            help=t("positional.d_model_help"),
            **page.bind("d_model"),
        )
        widgets.ranged(page, st.slider, "max_len", t("positional.max_len"), *MAX_LEN_RANGE, 64)
        st.select_slider(
            t("positional.base"),
            options=BASES,
            format_func=lambda b: f"{b:,}",
            help=t("positional.base_help"),
            **page.bind_setting("base", 10000, options=BASES),
        )
    d_model: int = page.get("d_model")
    max_len: int = page.get("max_len")
    base = float(page.get("base"))
    with right:
        # entries that are no dimension of this d_model (a link made for a larger one) are dropped
        dims = widgets.int_choices(
            page, "dims", t("positional.dims"), range(d_model), DEFAULT_DIMS, MAX_DIMS, [0, 1], dim_name
        )
        # Their upper ends follow max_len and d_model (sliders need max > min, hence the max()).
        start_high, pair_high = max_len - 1, d_model // 2 - 1
        st.slider(
            t("positional.start"),
            min_value=0,
            max_value=max(start_high, 1),
            **widgets.bounded_setting(page, "start", 0, high=start_high, limit=MAX_LEN_RANGE[1] - 1),
        )
        st.slider(
            t("positional.pair"),
            min_value=0,
            max_value=max(pair_high, 1),
            help=t("positional.pair_help"),
            **widgets.bounded_setting(page, "pair", 2, high=pair_high, limit=D_MODEL_RANGE[1] // 2 - 1),
        )
        if model_config.pos_encoding == "rope":  # whose query and key the RoPE view below rotates
            vocab = active.tokenizer.token_strings(range(model_config.vocab_size))
            token_ids = list(range(model_config.vocab_size))
            st.selectbox(
                t("positional.rope_token"),
                options=token_ids,
                format_func=lambda i: f"{figures.visible(vocab[i])}   (id {i})",
                **page.bind_setting("rope_token", min(1, model_config.vocab_size - 1), options=token_ids),
            )

# --- the curves ------------------------------------------------------------------------------------

st.header(t("positional.curves_title"))
table = formula_table(max_len, d_model, base)
position_axis, dimension_axis = t("common.position"), t("positional.dimension")
figures.show(
    charts.curves(
        table,
        dims,
        [dim_name(dim) for dim in dims],
        (position_axis, t("common.value")),
        {"d_model": d_model, "base": base},
    ),
    key="positional.curves",
    filename="pe_curves",
)
omega = positions.frequencies(d_model, base)
periods = 2 * np.pi / omega  # positions per full turn of each pair
turns = {"fast": f"{periods[0]:.1f}", "slow": f"{periods[-1]:,.0f}", "base": f"{base:,.0f}"}
st.markdown(t("positional.curves_explanation", **turns))

# --- the whole table -------------------------------------------------------------------------------

st.header(t("positional.table_title"))
figures.show(
    charts.table(
        table,
        (dimension_axis, position_axis),
        t("positional.table_plot_title", n=max_len, d=d_model),
        min(700, 220 + 3 * max_len),
        "pe_table",
    ),
    key="positional.table",
    filename="pe_table",
)
download_left, download_right = st.columns(2)
with download_left:  # both files are only made when the button is clicked
    corner = table[:SLIDE_SIZE, :SLIDE_SIZE]
    figures.download_matrix_png(
        corner,
        [str(j) for j in range(corner.shape[1])],
        [str(p) for p in range(corner.shape[0])],
        t("positional.slide_title", rows=corner.shape[0], cols=corner.shape[1]),
        "pe_table.png",
        key="positional.download_png",
    )
with download_right:
    figures.download_matrix_csv(
        table,
        range(max_len),
        [f"d{j}" for j in range(d_model)],
        "positional_encoding.csv",
        key="positional.download_csv",
        corner=("position",),
        number_format=".6f",
    )
st.markdown(t("positional.table_explanation"))

# --- similarity between positions ----------------------------------------------------------------

st.header(t("positional.similarity_title"))
st.latex(
    r"\begin{aligned} PE(p)\cdot PE(p+k) &= \sum_{i=0}^{d/2-1} \big[\sin(p\,\omega_i)\,\sin((p+k)\,\omega_i)"
    r" \\ &\qquad\quad + \cos(p\,\omega_i)\,\cos((p+k)\,\omega_i)\big]"
    r" \\ &= \sum_{i=0}^{d/2-1} \cos(k\,\omega_i), \qquad \omega_i = \text{base}^{-2i/d} \end{aligned}"
)
similarity_column, offset_column = st.columns(2)
with similarity_column:
    similarity = formula_similarity(max_len, d_model, base)
    title = t("positional.similarity_plot_title")
    range_ = {"zmin": float(similarity.min()), "zmax": float(similarity.max())}
    figures.show(
        charts.table(similarity, ("q", "p"), title, 460, "pe_similarity", colors="Viridis", **range_),
        key="positional.similarity",
        filename="pe_similarity",
    )
with offset_column:
    start = page.get("start")
    names = (t("positional.offset_measured", p=start), t("positional.offset_formula"))
    figures.show(
        charts.offset(
            positions.offset_similarity(d_model, base, start, max_len - 1),
            names,
            t("positional.offset_k"),
            t("positional.offset_plot_title"),
            start,
        ),
        key="positional.offset",
        filename="pe_offset",
    )
st.markdown(t("positional.similarity_explanation", half=d_model // 2))

pair = page.get("pair")
circle_column, circle_text = st.columns([3, 2], vertical_alignment="center")
with circle_column:
    title = t("positional.circle_title", i=pair, a=2 * pair, b=2 * pair + 1)
    figures.show(
        charts.pair_circle(table, pair, position_axis, title),
        key="positional.circle",
        filename="pe_pair_rotation",
    )
with circle_text:
    st.markdown(
        t("positional.circle_explanation", i=pair, omega=f"{omega[pair]:.4g}", turn=f"{periods[pair]:,.1f}")
    )

st.latex(
    r"\begin{pmatrix} PE_{(p+k,\,2i)} \\ PE_{(p+k,\,2i+1)} \end{pmatrix} = "
    r"\begin{pmatrix} \cos k\omega_i & \sin k\omega_i \\ -\sin k\omega_i & \cos k\omega_i \end{pmatrix}"
    r"\begin{pmatrix} PE_{(p,\,2i)} \\ PE_{(p,\,2i+1)} \end{pmatrix}"
)

# --- what the active model uses --------------------------------------------------------------------

kind = model_config.pos_encoding
st.header(t("positional.model_title", pos=t(f"pos.{kind}")))
table_axes = (dimension_axis, position_axis)
model_files = (f"positions_{kind}_left", f"positions_{kind}_right")
if kind == "sinusoidal":  # side by side: the formula and the model's own table
    own = model_table(active.cache_key)
    reference = positions.sinusoidal_table(model_config.context_len, model_config.d_model, PAPER_BASE)
    difference = float(np.abs(own - reference).max())
    st.success(
        t(
            "positional.model_sinusoidal",
            d=model_config.d_model,
            context=model_config.context_len,
            diff=f"{difference:.1e}",
        )
    )
    side_by_side(
        charts.table(reference, table_axes, t("positional.model_formula_title"), 420, "model_formula"),
        charts.table(own, table_axes, t("positional.model_table_title"), 420, "model_table"),
        ("model_left", "model_right"),
        model_files,
    )
elif kind == "learned":  # the learned table, and how alike its rows are
    own = model_table(active.cache_key)
    st.markdown(t("positional.model_learned", context=model_config.context_len, d=model_config.d_model))
    cosines = positions.cosine_similarity_matrix(own)
    similarity_title = t("positional.learned_similarity_title")
    side_by_side(
        charts.table(own, table_axes, t("positional.learned_table_title"), 420, "learned_table"),
        charts.table(cosines, ("q", "p"), similarity_title, 420, "learned_similarity", zmin=-1, zmax=1),
        ("model_left", "model_right"),
        model_files,
    )
    st.markdown(t("positional.learned_explanation"))
elif kind == "rope":  # one token's query and key turning with the position, and their scores
    n_shown = min(model_config.context_len, MODEL_VIEW_POSITIONS)
    rope_pair = min(pair, model_config.head_dim // 2 - 1)
    st.markdown(t("positional.model_rope", dk=model_config.head_dim, base=f"{model_config.rope_base:,.0f}"))
    st.latex(
        r"\mathrm{score}(p, j) = \frac{(R_p\, q)\cdot(R_j\, k)}{\sqrt{d_k}}"
        r" = \frac{q \cdot R_{j-p}\, k}{\sqrt{d_k}},"
        r"\qquad R_p:\ \text{pair } i \text{ turned by } p\,\theta_i,\ \ \theta_i = \text{base}^{-2i/d_k}"
    )
    query, key, scores = rope_view(active.cache_key, page.get("rope_token"), n_shown, rope_pair)
    turning = [
        (t("positional.rope_vector", name="q"), "#2563eb", query),
        (t("positional.rope_vector", name="k"), "#dc2626", key),
    ]
    theta = positions.frequencies(model_config.head_dim, model_config.rope_base)[rope_pair]
    side_by_side(
        charts.rope_rotation(
            turning, rope_pair, 8, t("positional.rope_rotation_title", i=rope_pair, theta=f"{theta:.4g}")
        ),
        charts.table(scores, ("j", "p"), t("positional.rope_scores_title"), 440, "rope_scores"),
        ("rope_rotation", "rope_scores"),
        ("rope_rotation", "rope_scores"),
    )
    st.markdown(t("positional.rope_explanation", spread=f"{positions.diagonal_spread(scores):.1e}"))
else:
    st.info(t("positional.model_none"))

page.sync_url()
