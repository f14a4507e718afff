"""Page 3, self-attention step by step: the numbers shown are the demo model's own."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.app.conftest import chart, demo, open_page
from tests.app.plotly_data import decode
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(
    not (ROOT / "models" / "stories-zh" / "tinylm.json").is_file(), reason="demo models not trained yet"
)


def expected_weights(text: str, layer: int, head: int, name: str = "stories-zh") -> np.ndarray:
    checkpoint = demo(name)
    ids = checkpoint.tokenizer.encode(text)[:12]
    with torch.no_grad():
        out = checkpoint.model(torch.tensor([ids]), return_attention=True)
    return out.attentions[layer][0, head].double().numpy()


def matrix(at, key: str) -> np.ndarray:
    figure = chart(at, key)
    assert figure is not None, f"no chart {key}"
    return np.asarray(decode(figure["data"][0]["z"]), dtype=float)


def entropy(rows: np.ndarray) -> np.ndarray:
    return -(rows * np.log(np.where(rows > 0, rows, 1.0))).sum(-1)


def test_default_view_shows_the_models_numbers_step_by_step():
    at = open_page("attention", lang="zh")
    assert at.text_input(key="attention.text").value == "我爱吃饼干"
    weights = matrix(at, "attention.fig.weights")
    assert weights.shape == (5, 5)
    np.testing.assert_allclose(weights, expected_weights("我爱吃饼干", 0, 0), atol=1e-6)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    assert (weights[np.triu_indices(5, k=1)] == 0).all()  # the causal mask: no weight on later tokens
    # the scaled scores are QKᵀ / sqrt(d_k) of the Q and K shown on the page
    q, k = matrix(at, "attention.fig.q"), matrix(at, "attention.fig.k")
    d_k = demo().model.config.head_dim
    assert q.shape == (5, d_k)
    np.testing.assert_allclose(matrix(at, "attention.fig.scores"), q @ k.T, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(
        matrix(at, "attention.fig.scaled"), q @ k.T / math.sqrt(d_k), rtol=1e-4, atol=1e-4
    )
    masked = matrix(at, "attention.fig.masked")
    assert np.isnan(masked[np.triu_indices(5, k=1)]).all()  # drawn as −∞ (text), no colour
    masked_text = np.asarray(chart(at, "attention.fig.masked")["data"][0]["text"])
    assert masked_text[0, 1] == "−∞" and masked_text[1, 0] != "−∞"
    # the last table checks the walkthrough against the model's forward pass
    checks = at.dataframe[-1].value
    assert list(checks.iloc[:, 2]) == ["✓", "✓", "✓"]
    assert not at.error


def test_layer_head_and_scaling_toggle(english_formatting):
    at = open_page("attention", lang="en", text="I love cake.")  # English interface and model
    assert not at.warning and at.text_input(key="attention.text").value == "I love cake."
    np.testing.assert_allclose(
        matrix(at, "attention.fig.weights"), expected_weights("I love cake.", 0, 0, "stories-en"), atol=1e-6
    )
    at.text_input(key="attention.text").set_value("我爱吃饼干").run()
    assert any("never saw" in w.value for w in at.warning)  # the English model does not know these
    at = open_page("attention", lang="en", text="我爱吃饼干", model="demo:stories-zh")
    assert not at.warning
    n_layers, n_heads = demo().model.config.n_layers, demo().model.config.n_heads
    layer, head = n_layers - 1, n_heads - 1
    at.selectbox(key="attention.layer").set_value(layer).run()
    at.selectbox(key="attention.head").set_value(head).run()
    weights = matrix(at, "attention.fig.weights")
    np.testing.assert_allclose(weights, expected_weights("我爱吃饼干", layer, head), atol=1e-6)
    heads = chart(at, "attention.fig.heads")
    assert len(heads["data"]) == n_heads
    np.testing.assert_allclose(decode(heads["data"][head]["z"]), weights, atol=1e-9)
    assert chart(at, "attention.fig.unscaled") is None
    at.toggle(key="attention.unscaled").set_value(True).run()
    unscaled = matrix(at, "attention.fig.unscaled")
    scaled_entropy, unscaled_entropy = entropy(weights), entropy(unscaled)
    assert (unscaled_entropy[1:] < scaled_entropy[1:]).all()  # no ÷sqrt(d_k): peakier rows
    table = at.dataframe[0].value  # query, entropy with, entropy without, …
    np.testing.assert_allclose(table.iloc[:, 1], scaled_entropy, atol=1e-3)
    np.testing.assert_allclose(table.iloc[:, 2], unscaled_entropy, atol=1e-3)
    assert at.query_params["unscaled"] in ("1", ["1"]) and at.query_params["head"] in (str(head), [str(head)])


def test_long_text_is_cropped_and_query_row_follows():
    at = open_page("attention", lang="zh")
    long_text = "我爱吃饼干，我爱吃饼干，我爱吃饼干"
    at.text_input(key="attention.text").set_value(long_text).run()
    assert any("17" in info.value and "12" in info.value for info in at.info)
    weights = matrix(at, "attention.fig.weights")
    assert weights.shape == (12, 12)
    np.testing.assert_allclose(weights, expected_weights(long_text, 0, 0), atol=1e-6)
    at.selectbox(key="attention.query").set_value(11).run()
    at.text_input(key="attention.text").set_value("我爱吃").run()  # shorter: the query row moves inside
    assert at.selectbox(key="attention.query").value == 2
    row_table = at.dataframe[0].value
    assert len(row_table) == 3
    np.testing.assert_allclose(row_table.iloc[:, 3], expected_weights("我爱吃", 0, 0)[2], atol=1e-4)


@pytest.mark.parametrize("hostile", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"])
def test_hostile_and_empty_text(hostile, english_formatting):
    at = open_page("attention", lang="en")
    at.text_input(key="attention.text").set_value(hostile).run()
    assert not at.exception
    html_blocks = [m.value for m in at.markdown if m.allow_html]
    assert html_blocks and all("<script" not in b and "<img" not in b for b in html_blocks)
    assert "#fecaca" in html_blocks[0] and "\ufffd" in html_blocks[0]  # '<' is unknown: marked, not markup
    warning = " ".join(w.value for w in at.warning)
    assert "\\<" in warning  # unknown characters listed, backslash-escaped for Markdown
    at.text_input(key="attention.text").set_value("").run()
    assert not at.exception
    assert at.error and "empty" in at.error[0].value


def test_deep_link_reopens_the_view():
    at = open_page("attention", lang="zh", text="我爱吃饼干", head="1", layer="1", query="3")
    assert at.text_input(key="attention.text").value == "我爱吃饼干"
    assert at.selectbox(key="attention.head").value == 1 and at.selectbox(key="attention.layer").value == 1
    assert at.selectbox(key="attention.query").value == 3
    np.testing.assert_allclose(
        matrix(at, "attention.fig.weights"), expected_weights("我爱吃饼干", 1, 1), atol=1e-6
    )
    figure = chart(at, "attention.fig.weights")
    assert figure["layout"]["shapes"][0]["y0"] == 2.5  # the query row is highlighted
    # a link with values that do not fit falls back to the defaults instead of failing
    at = open_page("attention", lang="zh", head="99", layer="x", query="-4")
    assert at.selectbox(key="attention.head").value == 0 and at.selectbox(key="attention.layer").value == 0


def test_guess_first_then_reveal_survives_reruns():
    at = open_page("attention", lang="zh", head="2")
    at.toggle(key="attention.quiz").set_value(True).run()
    assert chart(at, "attention.fig.weights") is None  # the answer is hidden
    assert chart(at, "attention.fig.q") is not None
    row = expected_weights("我爱吃饼干", 0, 2)[4]
    answer = int(np.argmax(row))
    wrong = (answer + 1) % 5
    at.pills(key="attention.guess_widget").set_value(wrong).run()
    at.toggle(key="attention.unscaled").set_value(True).run()  # another control: the guess stays
    assert at.pills(key="attention.guess_widget").value == wrong
    at.button(key="attention.reveal").click().run()
    assert chart(at, "attention.fig.weights") is not None
    message = at.warning[-1].value
    assert (
        "我爱吃饼干"[answer] in message and f"{row[answer]:.3f}" in message and f"{row[wrong]:.3f}" in message
    )
    at.toggle(key="attention.unscaled").set_value(False).run()  # revealed stays revealed
    assert chart(at, "attention.fig.weights") is not None
    at.button(key="attention.again").click().run()
    assert chart(at, "attention.fig.weights") is None
    at.pills(key="attention.guess_widget").set_value(answer).run()
    at.button(key="attention.reveal").click().run()
    assert at.success and f"{row[answer]:.3f}" in at.success[0].value
