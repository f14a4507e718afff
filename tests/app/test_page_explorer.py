"""Page 5 · Attention explorer: the charts hold the model's own attention weights, and their entropies."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests.app.conftest import demo, open_page
from tests.app.plotly_data import decode

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def charts(at) -> dict[str, dict]:
    """The page's plotly figures by widget key ("explorer.fig.grid" …)."""
    return {
        chart.proto.id.rsplit("-", 1)[-1]: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")
    }


def active_checkpoint(at):
    """The checkpoint of the model the page used (a shipped demo)."""
    key = at.session_state["_model_key"]
    assert key.startswith("demo:")
    return demo(key.split(":", 1)[1])


def expected_attention(at, text: str) -> np.ndarray:
    """(L, H, T, T) straight from the model's forward pass on the last context_len tokens."""
    checkpoint = active_checkpoint(at)
    ids = checkpoint.tokenizer.encode(text)[-checkpoint.model.config.context_len :]
    with torch.no_grad():
        out = checkpoint.model.eval()(torch.tensor([ids]), return_attention=True)
    return np.stack([layer[0].double().numpy() for layer in out.attentions])


def grid_weights(figure: dict) -> np.ndarray:
    return np.stack([np.asarray(decode(trace["z"]), dtype=float) for trace in figure["data"]])


def entropy_rows(weights: np.ndarray) -> np.ndarray:
    """−Σ w ln w of every row, written out here independently of the page."""
    logs = np.log(np.where(weights > 0, weights, 1.0))
    return -(weights * logs).sum(axis=-1)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_grid_holds_every_heads_real_weights_and_the_entropy_matches(lang):
    at = open_page("explorer", lang=lang)
    figures = charts(at)
    text = at.text_area(key="explorer.text").value
    expected = expected_attention(at, text)
    n_layers, n_heads, n_tokens, _ = expected.shape
    grid = grid_weights(figures["explorer.fig.grid"])
    assert grid.shape == (n_layers * n_heads, n_tokens, n_tokens)
    np.testing.assert_allclose(grid.sum(axis=-1), 1.0, atol=1e-5)  # every row of every head
    assert (grid[:, np.triu_indices(n_tokens, k=1)[0], np.triu_indices(n_tokens, k=1)[1]] == 0).all()
    np.testing.assert_allclose(grid, expected.reshape(grid.shape), atol=1e-5)
    # Entropy per head: the mean over query rows 1..T−1 of −Σ w ln w of the rows read back above.
    entropy = np.asarray(decode(figures["explorer.fig.entropy"]["data"][0]["z"]), dtype=float)
    rows = entropy_rows(grid)[:, 1:]
    np.testing.assert_allclose(entropy, rows.mean(axis=1).reshape(n_layers, n_heads), atol=1e-9)
    normalized = np.asarray(decode(figures["explorer.fig.normalized"]["data"][0]["z"]), dtype=float)
    ceiling = np.log(np.arange(2, n_tokens + 1))
    np.testing.assert_allclose(
        normalized, (rows / ceiling).mean(axis=1).reshape(n_layers, n_heads), atol=1e-9
    )
    assert ((normalized > 0) & (normalized < 1)).all()
    assert not at.warning  # the example is in the model's own alphabet


def test_changing_layer_head_and_query_updates_every_view():
    at = open_page("explorer", lang="zh")
    n_layers = len(at.selectbox(key="explorer.layer").options)
    n_heads = len(at.selectbox(key="explorer.head").options)
    layer, head = n_layers - 1, n_heads - 1
    at.selectbox(key="explorer.layer").set_value(layer).run()
    at.selectbox(key="explorer.head").set_value(head).run()
    at.selectbox(key="explorer.query").set_value(3).run()
    assert not at.exception
    figures = charts(at)
    grid = grid_weights(figures["explorer.fig.grid"])
    big = np.asarray(decode(figures["explorer.fig.head"]["data"][0]["z"]), dtype=float)
    np.testing.assert_array_equal(big, grid[layer * n_heads + head])
    row = big[3]
    # Line view: one line per visible key, its opacity the attention weight itself.
    lines = [shape for shape in figures["explorer.fig.lines"]["layout"]["shapes"] if shape["type"] == "line"]
    assert len(lines) == 4
    np.testing.assert_allclose([line["opacity"] for line in lines], row[:4], atol=1e-12)
    assert all(line["y0"] == 3 for line in lines)
    # Bars: one trace per head of the layer, each the query's row of that head (adds up to 1).
    bars = figures["explorer.fig.bars"]["data"]
    assert len(bars) == n_heads
    for h, trace in enumerate(bars):
        values = np.asarray(decode(trace["y"]), dtype=float)
        np.testing.assert_allclose(values, grid[layer * n_heads + h, 3, :4], atol=1e-12)
        assert values.sum() == pytest.approx(1.0, abs=1e-5)
    # The per-row entropy chart of the selected head.
    row_entropy = np.asarray(decode(figures["explorer.fig.row_entropy"]["data"][0]["y"]), dtype=float)
    np.testing.assert_allclose(row_entropy, entropy_rows(big), atol=1e-9)
    # All heads in the line view: one set of lines per head.
    at.toggle(key="explorer.all_heads").set_value(True).run()
    shapes = charts(at)["explorer.fig.lines"]["layout"]["shapes"]
    assert len([s for s in shapes if s["type"] == "line"]) == 4 * n_heads
    assert at.query_params["layer"] == [str(layer)] or at.query_params["layer"] == str(layer)


def test_a_text_longer_than_the_context_shows_its_last_window():
    at = open_page("explorer", lang="en")
    context = active_checkpoint(at).model.config.context_len
    text = "Lily had a red ball. " * (context // 10 + 2)
    at.text_area(key="explorer.text").input(text).run()
    assert not at.exception
    grid = grid_weights(charts(at)["explorer.fig.grid"])
    assert grid.shape[1:] == (context, context)
    np.testing.assert_allclose(grid, expected_attention(at, text).reshape(grid.shape), atol=1e-5)
    assert any(str(context) in info.value for info in at.info)
    assert at.selectbox(key="explorer.query").value == context - 1  # a new text: its last token


def test_hostile_and_empty_text_never_break_the_page():
    at = open_page("explorer", lang="en")
    at.text_area(key="explorer.text").input(HOSTILE).run()
    assert not at.exception
    html_bodies = [element.value for element in at.markdown]
    assert not any("<script" in body or "<img" in body for body in html_bodies)
    assert any("&lt;" in body for body in html_bodies)  # the chips show the characters, escaped
    assert at.warning  # characters the model never saw are named
    for figure in charts(at).values():
        assert "<script" not in json.dumps(figure) and "<img" not in json.dumps(figure)
    at.text_area(key="explorer.text").input("").run()
    assert not at.exception
    assert at.info and not at.get("plotly_chart")


def test_deep_link_reopens_the_view():
    shape = open_page("explorer", lang="zh")
    layer = len(shape.selectbox(key="explorer.layer").options) - 1
    head = len(shape.selectbox(key="explorer.head").options) - 1
    at = open_page("explorer", lang="zh", text="小明有一只小猫", layer=str(layer), head=str(head), query="3")
    assert at.text_area(key="explorer.text").value == "小明有一只小猫"
    assert at.selectbox(key="explorer.layer").value == layer
    assert at.selectbox(key="explorer.head").value == head
    assert at.selectbox(key="explorer.query").value == 3
    big = np.asarray(decode(charts(at)["explorer.fig.head"]["data"][0]["z"]), dtype=float)
    np.testing.assert_allclose(big, expected_attention(at, "小明有一只小猫")[layer, head], atol=1e-5)
    lines = [s for s in charts(at)["explorer.fig.lines"]["layout"]["shapes"] if s["type"] == "line"]
    np.testing.assert_allclose([line["opacity"] for line in lines], big[3, :4], atol=1e-12)
