"""Page 1 · Tokens & embeddings: text → tokens (characters vs BPE) → ids → rows of the embedding matrix E."""

from __future__ import annotations

import re

import numpy as np
import streamlit as st

from tinylm.corpora import BUILTIN_CORPORA, generate_corpus
from tinylm.errors import TinyLMError
from tinylm.explain import embeddings
from tinylm.tokenizers import MIN_VOCAB_SIZE, BPETokenizer, CharTokenizer, Tokenizer
from ui import figures, widgets
from ui.charts import tokens as charts
from ui.i18n import current_language, t
from ui.layout import model_page, show_error
from ui.state import model_by_cache_key

MAX_TEXT_CHARS = 500  # the text box's limit: tokenising and drawing stay instant
EXAMPLES = {"zh": "我爱吃饼干", "en": "Lily had a red ball."}
BPE_CORPUS_CHARS = 300_000  # the comparison BPE is trained on this much of the model's corpus
BPE_MAX_VOCAB = 2048  # trained once at this size; smaller vocabularies are prefixes of its merges
BPE_DEFAULT_VOCAB = 512
MAX_HEATMAP_ROWS = 512  # embedding rows drawn at once (a 4096-token vocabulary would swamp the browser)
SLIDE_ROWS, SLIDE_DIMS = 16, 16  # the slide PNG shows this corner of the heatmap, with numbers
CJK = re.compile(r"[\u3400-\u9fff]")

page, active = model_page("tokens")
lang = current_language()  # fixed for format_func callbacks (AppTest calls them after the run)
model_config = active.model.config


# ------------------------------------------------------------------------------------------ cached


@st.cache_resource(max_entries=8, show_spinner=False)
def trained_bpe(corpus: str) -> BPETokenizer:
    """A BPE tokenizer trained once per built-in corpus (a fraction of a second, then shared)."""
    return BPETokenizer.train(generate_corpus(corpus, BPE_CORPUS_CHARS), BPE_MAX_VOCAB)


@st.cache_resource(max_entries=8, show_spinner=False)
def char_tokenizer_for(cache_key: str) -> CharTokenizer:
    """The model's own character tokenizer, or one made of the characters its BPE knows whole."""
    return embeddings.char_tokenizer_like(model_by_cache_key(cache_key).tokenizer)


@st.cache_data(max_entries=8, show_spinner=False)
def embedding_table(cache_key: str) -> np.ndarray:
    return embeddings.embedding_matrix(model_by_cache_key(cache_key).model)


@st.cache_data(max_entries=8, show_spinner=False)
def embedding_map(cache_key: str) -> embeddings.Projection:
    return embeddings.pca_2d(embedding_table(cache_key))


@st.cache_data(max_entries=64, show_spinner=False)
def neighbours_of(cache_key: str, token_id: int, k: int) -> embeddings.Neighbours:
    return embeddings.nearest_neighbours(embedding_table(cache_key), token_id, k)


# ----------------------------------------------------------------------------------------- helpers


def pieces_of(tokenizer: Tokenizer, ids: list[int]) -> list[str]:
    return charts.display_pieces(tokenizer.token_strings(ids))


def token_chips(tokenizer: Tokenizer, ids: list[int], unknown_id: int | None) -> str:
    pieces = pieces_of(tokenizer, ids)
    titles = [
        t("tokens.chip_title", id=i, token=figures.visible(p)) for i, p in zip(ids, pieces, strict=True)
    ]
    return charts.token_chips(pieces, ids, unknown_id, titles)


# The text box opens on the example the model can read (the English demo model knows no Chinese: the
# Chinese example would be five red unknown tokens), in the reader's language when it can.
DEFAULT_TEXT = widgets.example_for(active.tokenizer, EXAMPLES)


def default_token_id() -> int:
    """The first known token of the examples (the token the neighbour table starts with)."""
    for example in (DEFAULT_TEXT, *EXAMPLES.values()):
        for token_id in active.tokenizer.encode(example):
            if token_id != 0 or isinstance(active.tokenizer, BPETokenizer):
                return token_id
    return min(1, model_config.vocab_size - 1)


# ------------------------------------------------------------------------------------------- page

st.latex(
    r"x_t \;=\; E[\,\mathrm{id}_t\,]\cdot\sqrt{d_{\mathrm{model}}}"
    r"\qquad E \in \mathbb{R}^{V \times d_{\mathrm{model}}}"
)
st.markdown(t("tokens.intro"))

model_is_bpe = isinstance(active.tokenizer, BPETokenizer)
vocab_size = model_config.vocab_size
token_options = list(range(vocab_size))
vocab_pieces = pieces_of(active.tokenizer, token_options)

with page.controls():
    left, right = st.columns([3, 2])
    with left:
        st.text_area(
            t("tokens.text"),
            max_chars=MAX_TEXT_CHARS,
            height=90,
            help=t("tokens.text_help", n=MAX_TEXT_CHARS),
            **page.bind_setting("text", DEFAULT_TEXT, max_length=MAX_TEXT_CHARS),
        )
        example_labels = {example: t("tokens.example", text=EXAMPLES[example]) for example in EXAMPLES}
        widgets.example_buttons(page, "text", EXAMPLES, example_labels, "tokens.example_", width="stretch")
    with right:
        label, tip = t("tokens.vocab_size"), t("tokens.vocab_size_help")
        vocab_range = (MIN_VOCAB_SIZE, BPE_MAX_VOCAB, BPE_DEFAULT_VOCAB)
        widgets.ranged(
            page, st.slider, "vocab", label, *vocab_range, step=32, disabled=model_is_bpe, help=tip
        )
        st.radio(
            t("tokens.rows"),
            options=["text", "vocab"],
            format_func=lambda option: t(f"tokens.rows_{option}", lang),
            horizontal=True,
            **page.bind_setting("rows", "text", options=["text", "vocab"]),
        )
        st.selectbox(
            t("tokens.chosen_token"),
            options=token_options,
            format_func=lambda i: f"{figures.visible(vocab_pieces[i])}   (id {i})",
            **page.bind_setting("token", default_token_id(), options=token_options),
        )
        widgets.ranged(page, st.slider, "k", t("tokens.k"), 3, 30, 8)

text: str = page.get("text")[:MAX_TEXT_CHARS]

# --- 1. text → tokens, two tokenizers side by side ---------------------------------------------

st.header(t("tokens.split_title"))
char_tokenizer = char_tokenizer_for(active.cache_key)
corpus = str(active.meta.get("corpus") or "")
if model_is_bpe:
    bpe_tokenizer: BPETokenizer = active.tokenizer
    bpe_source = t("tokens.bpe_is_model", n=bpe_tokenizer.vocab_size)
else:
    bpe_corpus = corpus
    if bpe_corpus not in BUILTIN_CORPORA:  # a model trained on an uploaded text: pick the closest built-in
        bpe_corpus = "stories-zh" if any(CJK.search(c) for c in char_tokenizer.chars) else "stories-en"
        st.caption(t("tokens.bpe_fallback", corpus=bpe_corpus))
    try:
        bpe_tokenizer = embeddings.bpe_with_vocab_size(trained_bpe(bpe_corpus), page.get("vocab"))
    except TinyLMError as exc:
        show_error(exc)
        bpe_tokenizer = BPETokenizer([])  # bytes only: the page keeps working
    bpe_source = t("tokens.bpe_trained", corpus=bpe_corpus, n=bpe_tokenizer.vocab_size)
    if bpe_tokenizer.vocab_size < page.get("vocab"):
        st.caption(t("tokens.bpe_ran_out", n=bpe_tokenizer.vocab_size, asked=page.get("vocab")))

tokenizations: dict[str, list[int]] = {}
if not text.strip():
    st.info(t("common.empty_prompt"))
else:
    try:
        tokenizations = {"char": char_tokenizer.encode(text), "bpe": bpe_tokenizer.encode(text)}
    except TinyLMError as exc:  # e.g. a lone surrogate pasted in
        show_error(exc)
    if model_is_bpe:
        char_source = t("tokens.char_from_bpe", n=char_tokenizer.vocab_size)
    else:
        char_source = t("tokens.char_is_model", n=char_tokenizer.vocab_size)
    sides = (("char", char_tokenizer, 0, char_source), ("bpe", bpe_tokenizer, None, bpe_source))
    for column, (kind, tokenizer, unknown_id, source) in zip(st.columns(2), sides, strict=True):
        if kind not in tokenizations:
            continue
        ids = tokenizations[kind]
        with column:
            st.subheader(t(f"tokens.{kind}_title"))
            st.caption(source)
            st.markdown(t("tokens.count", n=len(ids), chars=len(text)))
            st.html(token_chips(tokenizer, ids, unknown_id))
            st.code(str(ids), language=None, wrap_lines=True)
    if tokenizations:
        widgets.warn_unknown_chars(char_tokenizer.unknown_chars(text))
        model_ids = tokenizations["bpe" if model_is_bpe else "char"]
        if len(model_ids) > model_config.context_len:
            st.info(t("tokens.context_note", n=len(model_ids), context=model_config.context_len))
        token_rows = [
            [kind, position, piece, i]
            for kind, tokenizer in (("char", char_tokenizer), ("bpe", bpe_tokenizer))
            for position, (piece, i) in enumerate(
                zip(tokenizer.token_strings(tokenizations[kind]), tokenizations[kind], strict=True)
            )
        ]
        header = [t("tokens.col_tokenizer"), t("common.position"), t("common.token"), "id"]
        figures.download_csv(header, token_rows, "tokens.csv", key="tokens.download_tokens")
st.markdown(t("tokens.split_explanation"))

# --- 2. the BPE merges, in the order they were learned ------------------------------------------

with st.expander(t("tokens.merges_title", n=len(bpe_tokenizer.merges)), expanded=False):
    st.markdown(t("tokens.merges_explanation"))
    header = [
        "#",
        t("tokens.col_left"),
        t("tokens.col_right"),
        t("tokens.col_merged"),
        "id",
        t("tokens.col_count"),
    ]
    merges = [
        [row["rank"] + 1, row["left"], row["right"], row["merged"], row["new_id"], row["count"]]
        for row in bpe_tokenizer.merge_table()
    ]
    widgets.table(header, merges, "bpe_merges.csv", csv_key="tokens.download_merges", height=300)

# --- 3. the embedding matrix -------------------------------------------------------------------

st.header(t("tokens.matrix_title"))
st.markdown(t("tokens.matrix_explanation", v=vocab_size, d=model_config.d_model))
matrix = embedding_table(active.cache_key)
model_text_ids = tokenizations.get("bpe" if model_is_bpe else "char", [])
by_position = page.get("rows") == "text" and bool(model_text_ids)
if by_position:
    row_ids = model_text_ids[:MAX_HEATMAP_ROWS]
    if len(model_text_ids) > MAX_HEATMAP_ROWS:
        st.caption(t("tokens.rows_cut", n=MAX_HEATMAP_ROWS))
else:
    if page.get("rows") == "text":
        st.caption(t("tokens.rows_empty"))
    row_ids = list(range(min(vocab_size, MAX_HEATMAP_ROWS)))
    if vocab_size > MAX_HEATMAP_ROWS:
        st.caption(t("tokens.vocab_cut", n=MAX_HEATMAP_ROWS, v=vocab_size))
rows = matrix[row_ids]
row_pieces = pieces_of(active.tokenizer, row_ids)
axes = (t("tokens.dimension"), t("common.token"))
rows_figure = charts.embedding_rows(
    rows, row_ids, row_pieces, by_position, t("tokens.heatmap_hover"), axes, t("tokens.heatmap_title")
)
figures.show(rows_figure, key="tokens.heatmap", filename="embedding_rows")
slide_rows, slide_dims = min(SLIDE_ROWS, len(row_ids)), min(SLIDE_DIMS, model_config.d_model)
download_left, download_right = st.columns(2)
with download_left:  # both files are only made when the button is clicked
    figures.download_matrix_png(
        rows[:slide_rows, :slide_dims],
        [str(j) for j in range(slide_dims)],
        row_pieces[:slide_rows],
        t("tokens.slide_title", rows=slide_rows, dims=slide_dims),
        "embedding_rows.png",
        key="tokens.download_png",
    )
with download_right:
    figures.download_matrix_csv(
        rows,
        list(zip(active.tokenizer.token_strings(row_ids), row_ids, strict=True)),  # (token, id) per row
        [f"d{j}" for j in range(rows.shape[1])],
        "embedding_rows.csv",
        key="tokens.download_rows",
        corner=(t("common.token"), "id"),
    )

# --- 4. a map of every token's embedding, and the nearest neighbours of one ---------------------

st.header(t("tokens.map_title"))
chosen: int = page.get("token")
found = neighbours_of(active.cache_key, chosen, page.get("k"))
projection = embedding_map(active.cache_key)
figures.show(
    charts.embedding_map(
        projection.coords,
        [figures.plot_label(piece) for piece in vocab_pieces],
        (sorted(set(model_text_ids)), found.ids, [chosen]),
        [t("tokens.map_all"), t("tokens.map_text"), t("tokens.map_neighbours"), t("tokens.map_chosen")],
        (
            t("tokens.pc", k=1, share=f"{projection.explained[0]:.0%}"),
            t("tokens.pc", k=2, share=f"{projection.explained[1]:.0%}"),
        ),
        t("tokens.map_plot_title"),
    ),
    key="tokens.pca",
    filename="pca",
)
st.markdown(t("tokens.map_explanation", share=f"{projection.explained.sum():.0%}"))

chosen_piece = widgets.markdown_literal(figures.visible(vocab_pieces[chosen]))
st.subheader(t("tokens.neighbours_title", token=chosen_piece, id=chosen))
st.latex(r"\cos(a, b) \;=\; \frac{a \cdot b}{\lVert a \rVert\,\lVert b \rVert} \;\in\; [-1,\, 1]")
neighbour_header = ["#", t("common.token"), "id", t("tokens.col_cosine")]
neighbour_rows = [
    [rank + 1, vocab_pieces[i], i, round(c, 4)]
    for rank, (i, c) in enumerate(zip(found.ids, found.cosines, strict=True))
]
widgets.table(neighbour_header, neighbour_rows, "neighbours.csv", csv_key="tokens.download_neighbours")
st.markdown(t("tokens.neighbours_explanation"))

page.sync_url()
