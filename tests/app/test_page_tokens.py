"""Page 1, tokens & embeddings: the ids, merges, PCA map and neighbours shown are the model's own."""

from __future__ import annotations

import html
import itertools
import json
import re
from functools import cache

import numpy as np
import pytest
import torch

from tests.app.conftest import FakeJobs, chart, demo, open_page
from tests.app.plotly_data import decode
from tests.conftest import ROOT
from tinylm import BPETokenizer, Checkpoint, ModelConfig, TinyLM
from tinylm.corpora import generate_corpus

pytestmark = [
    pytest.mark.skipif(
        not (ROOT / "models" / "stories-en" / "tinylm.json").is_file(), reason="demo models not trained yet"
    ),
    pytest.mark.usefixtures("language_independent_model_labels"),
]
HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]
_run_ids = itertools.count()


@cache
def comparison_bpe(corpus: str, vocab_size: int) -> BPETokenizer:
    """Trained from scratch with the asked size: the page's cut-down tokenizer must match it."""
    return BPETokenizer.train(generate_corpus(corpus, 300_000), vocab_size)


def chips(at) -> list[str]:
    return [element.value for element in at.get("html") if "<span" in element.value]


def shown_ids(at) -> list[list[int]]:
    """The id lists under the two tokenizations (char first, then BPE)."""
    return [json.loads(code.value) for code in at.code]


def table(at, index: int):
    return at.dataframe[index].value


def test_english_page_shows_both_tokenizations_and_follows_the_controls():
    at = open_page("tokens", lang="en")
    assert at.session_state["_model_key"] == "demo:stories-en"
    tokenizer = demo("stories-en").tokenizer
    # The page opens on the example the English model can read, not on five red unknown tokens.
    assert at.text_area(key="tokens.text").value == "Lily had a red ball."
    assert shown_ids(at)[0] == tokenizer.encode("Lily had a red ball.") and 0 not in shown_ids(at)[0]
    assert not at.warning
    # The Chinese example is one click away: the English model never saw Chinese, so every character is
    # unknown (id 0) and marked.
    at.button(key="tokens.example_zh").click().run()
    assert at.text_area(key="tokens.text").value == "我爱吃饼干"
    assert shown_ids(at)[0] == tokenizer.encode("我爱吃饼干") == [0] * 5
    assert any("我 爱 吃 饼 干" in warning.value for warning in at.warning)

    text = "Lily had a red ball. She was happy."
    at.text_area(key="tokens.text").input(text).run()
    char_ids, bpe_ids = shown_ids(at)
    assert char_ids == tokenizer.encode(text)
    assert bpe_ids == comparison_bpe("stories-en", 512).encode(text)
    assert len(bpe_ids) < len(char_ids)  # BPE needs fewer tokens for text like its corpus
    assert not at.warning

    at.slider(key="tokens.vocab").set_value(288).run()
    bpe_ids = shown_ids(at)[1]
    assert bpe_ids == comparison_bpe("stories-en", 288).encode(text)
    assert max(bpe_ids) < 288
    merges = table(at, 0)
    assert len(merges) == 288 - 256
    assert list(merges.iloc[:, 4]) == list(range(256, 288))  # new ids in the order learned
    assert list(merges.iloc[:, 5]) == comparison_bpe("stories-en", 288).merge_counts
    assert not at.exception


def test_pca_map_and_neighbours_are_computed_from_the_embedding_matrix():
    at = open_page("tokens", lang="zh")
    model = demo("stories-zh").model
    embedding = model.token_embedding.weight.detach().double().numpy()

    figure = chart(at, "tokens.pca")
    coords = np.column_stack([decode(figure["data"][0]["x"]), decode(figure["data"][0]["y"])]).astype(float)
    centred = embedding - embedding.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(centred, rowvar=False))
    expected = centred @ eigenvectors[:, np.argsort(eigenvalues)[::-1][:2]]
    for k in range(2):
        sign = np.sign(coords[:, k] @ expected[:, k])
        np.testing.assert_allclose(coords[:, k], sign * expected[:, k], atol=1e-6)

    chosen = demo("stories-zh").tokenizer.encode("他")[0]
    at.selectbox(key="tokens.token").set_value(chosen).run()
    at.slider(key="tokens.k").set_value(12).run()
    neighbours = table(at, 1)
    assert len(neighbours) == 12
    ids, cosines = list(neighbours.iloc[:, 2]), np.asarray(neighbours.iloc[:, 3], dtype=float)
    assert chosen not in ids
    assert np.all(np.diff(cosines) <= 0) and np.all(np.abs(cosines) <= 1)
    vectors = torch.from_numpy(embedding)
    real = torch.nn.functional.cosine_similarity(vectors[chosen : chosen + 1], vectors, dim=1).numpy()
    np.testing.assert_allclose(cosines, real[ids], atol=1e-4)
    assert real[ids].min() >= np.delete(real, [chosen, *ids]).max() - 1e-9  # truly the nearest
    highlighted = chart(at, "tokens.pca")["data"][3]
    assert list(decode(highlighted["customdata"])) == [chosen]  # the star is the chosen token

    # the heatmap rows are E's rows for the tokens of the text
    heatmap = chart(at, "tokens.heatmap")["data"][0]
    ids_in_text = demo("stories-zh").tokenizer.encode("我爱吃饼干")
    np.testing.assert_allclose(decode(heatmap["z"]), embedding[ids_in_text], atol=1e-6)
    assert not at.exception


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_hostile_text_is_shown_escaped_and_bad_input_explained(lang):
    at = open_page("tokens", lang=lang)
    for text in HOSTILE:
        at.text_area(key="tokens.text").input(text).run()
        assert not at.exception
        char_html, bpe_html = chips(at)
        for markup in (char_html, bpe_html):
            assert "<script" not in markup and "<img" not in markup
        # byte-level BPE knows every character: the chips' text is the whole input, escaped
        shown = re.sub(r"<[^>]*>", "", bpe_html).replace("\u2423", " ")
        assert shown == html.escape(text)
        assert ("&lt;script&gt;" if "script" in text else "&lt;img src=x onerror=alert(1)&gt;") in shown
        labels = json.dumps(chart(at, "tokens.heatmap")["data"][0]["y"], ensure_ascii=False)
        assert "<script" not in labels and "<img" not in labels

    at.text_area(key="tokens.text").input("   ").run()
    assert not at.exception and not at.code
    assert any(info.value for info in at.info)  # "type some text first"

    context = demo("stories-zh" if lang == "zh" else "stories-en").model.config.context_len
    at.text_area(key="tokens.text").input("小明" * context).run()
    assert not at.exception
    assert any(str(context) in info.value for info in at.info)  # the context-window note


def test_a_link_reopens_the_same_view():
    at = open_page("tokens", lang="en", text="Tom", vocab="320", rows="vocab", k="5")
    assert at.text_area(key="tokens.text").value == "Tom"
    assert at.slider(key="tokens.vocab").value == 320
    assert len(table(at, 1)) == 5
    embedding = demo("stories-en").model.token_embedding.weight.detach().numpy()
    rows = decode(chart(at, "tokens.heatmap")["data"][0]["z"])  # rows="vocab": E from id 0 on
    np.testing.assert_allclose(rows, embedding[: len(rows)], atol=1e-6)
    assert len(rows) == min(len(embedding), 512)
    assert shown_ids(at)[1] == comparison_bpe("stories-en", 320).encode("Tom")
    assert at.query_params["text"] in ("Tom", ["Tom"])
    bad = open_page("tokens", lang="en", vocab="99999", k="x")
    assert bad.slider(key="tokens.vocab").value == 512 and bad.slider(key="tokens.k").value == 8


def test_a_bpe_model_shows_its_own_merges(monkeypatch):
    import ui.runs

    text = "Lily and Tom play. 小明和小红一起玩。" * 30
    tokenizer = BPETokenizer.train(text, 300)
    config = ModelConfig(vocab_size=tokenizer.vocab_size, context_len=32, d_model=16, n_layers=1, n_heads=2)
    checkpoint = Checkpoint(
        TinyLM(config, seed=3).eval(), tokenizer, meta={"name": "bpe test", "corpus": "x.txt"}
    )
    run_id = f"tokens-bpe-{next(_run_ids)}"
    monkeypatch.setattr(ui.runs, "manager", lambda: FakeJobs(run_id, checkpoint))

    at = open_page("tokens", lang="en", model=f"run:{run_id}", text="Lily and 小明")
    assert at.session_state["_model_key"] == f"run:{run_id}"
    assert at.slider(key="tokens.vocab").disabled
    char_ids, bpe_ids = shown_ids(at)
    assert bpe_ids == tokenizer.encode("Lily and 小明")
    assert len(char_ids) == len("Lily and 小明")
    assert len(table(at, 0)) == len(tokenizer.merges)
    figure = chart(at, "tokens.pca")
    assert len(decode(figure["data"][0]["x"])) == tokenizer.vocab_size
    assert not at.exception
