"""Page 4, inside a block: residual stream, update sizes, LayerNorm and FFN numbers are the demo model's."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import torch

from tests.app.conftest import chart, demo, open_page
from tests.app.plotly_data import decode
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(
    not (ROOT / "models" / "stories-zh" / "tinylm.json").is_file(), reason="demo models not trained yet"
)
ZH_TEXT = "小猫在草地上玩球，我爱吃饼干。"


def residuals(text: str, name: str = "stories-zh") -> list[np.ndarray]:
    checkpoint = demo(name)
    ids = checkpoint.tokenizer.encode(text)[-checkpoint.model.config.context_len :]
    with torch.no_grad():
        out = checkpoint.model(torch.tensor([ids]), return_residuals=True)
    return [tensor[0].double().numpy() for _, tensor in out.residuals]


def relative_updates(stream: list[np.ndarray]) -> np.ndarray:
    """(S−1, T): ‖x_s − x_{s−1}‖ / ‖x_{s−1}‖ from consecutive residual-stream entries."""
    return np.stack(
        [np.linalg.norm(b - a, axis=-1) / np.linalg.norm(a, axis=-1) for a, b in pairwise(stream)]
    )


def y_values(at, key: str, trace: int = 0) -> np.ndarray:
    figure = chart(at, key)
    assert figure is not None, f"no chart {key}"
    return np.asarray(decode(figure["data"][trace]["y"]), dtype=float)


def test_update_sizes_are_differences_of_consecutive_stream_entries():
    at = open_page("block", lang="zh")
    assert at.text_input(key="block.text").value == ZH_TEXT
    stream = residuals(ZH_TEXT)
    n_layers = demo().model.config.n_layers
    assert len(stream) == 1 + 2 * n_layers
    expected = relative_updates(stream)
    np.testing.assert_allclose(y_values(at, "block.fig.updates"), expected.mean(axis=1), rtol=1e-5)
    norms = np.asarray(decode(chart(at, "block.fig.stream")["data"][0]["z"]), dtype=float)
    np.testing.assert_allclose(norms, np.linalg.norm(np.stack(stream), axis=-1), rtol=1e-5)
    table = at.dataframe[0].value  # sub-layer, ‖stream before‖, ‖update‖, ratio (means over tokens)
    assert len(table) == 2 * n_layers
    update_norms = [np.linalg.norm(b - a, axis=-1).mean() for a, b in pairwise(stream)]
    np.testing.assert_allclose(table.iloc[:, 2], update_norms, atol=1e-3)
    assert chart(at, "block.fig.updates_tokens") is None
    at.toggle(key="block.per_token").set_value(True).run()
    per_token = np.asarray(decode(chart(at, "block.fig.updates_tokens")["data"][0]["z"]), dtype=float)
    np.testing.assert_allclose(per_token, expected, rtol=1e-5)


def test_layer_norm_statistics_and_switching_layer_and_norm():
    at = open_page("block", lang="zh")
    stream = residuals(ZH_TEXT)
    table = at.dataframe[1].value  # token, mean/std before, normalised, after γ β
    np.testing.assert_allclose(table.iloc[:, 1], stream[0].mean(-1), atol=1e-3)  # LN₁ of layer 0 reads x₀
    np.testing.assert_allclose(table.iloc[:, 2], stream[0].std(-1), atol=1e-3)
    np.testing.assert_allclose(table.iloc[:, 3], 0, atol=1e-3)  # after LayerNorm, before γ and β: mean 0 …
    np.testing.assert_allclose(table.iloc[:, 4], 1, atol=1e-3)  # … and standard deviation 1
    layer = demo().model.config.n_layers - 1
    at.selectbox(key="block.layer").set_value(layer).run()
    at.radio(key="block.norm").set_value("norm2").run()
    table = at.dataframe[1].value
    block = demo().model.blocks[layer]
    x = torch.tensor(stream[2 * layer + 1], dtype=torch.float32)  # pre-norm: LN₂ reads the stream after attn
    with torch.no_grad():
        after = block.norm2(x).double().numpy()
    np.testing.assert_allclose(table.iloc[:, 1], stream[2 * layer + 1].mean(-1), atol=1e-3)
    np.testing.assert_allclose(table.iloc[:, 4], 1, atol=1e-3)
    np.testing.assert_allclose(table.iloc[:, 5], after.mean(-1), atol=1e-3)
    np.testing.assert_allclose(table.iloc[:, 6], after.std(-1), atol=1e-3)
    assert any("layer_norm_reference" in s.value for s in at.success)
    # the feed-forward section follows the layer: active units of this block's FFN on LN₂(x)
    with torch.no_grad():
        hidden = block.feed_forward.fc1(block.norm2(x)).numpy()
    np.testing.assert_allclose(y_values(at, "block.fig.active"), (hidden > 0).mean(-1), atol=1e-6)
    assert at.query_params["layer"] in (str(layer), [str(layer)]) and at.query_params["norm"] in (
        "norm2",
        ["norm2"],
    )


def test_token_detail_and_deep_link():
    at = open_page("block", lang="zh", text=ZH_TEXT, layer="1", norm="norm2", token="3", per_token="1")
    assert at.selectbox(key="block.layer").value == 1 and at.radio(key="block.norm").value == "norm2"
    assert at.selectbox(key="block.token").value == 3 and at.toggle(key="block.per_token").value is True
    stream = residuals(ZH_TEXT)
    np.testing.assert_allclose(y_values(at, "block.fig.vector", trace=0), stream[3][3], atol=1e-5)
    normalized = y_values(at, "block.fig.vector", trace=1)
    assert abs(normalized.mean()) < 1e-5 and abs(normalized.std() - 1) < 1e-3
    at.text_input(key="block.text").set_value("小猫").run()  # shorter text: the token moves inside it
    assert at.selectbox(key="block.token").value == 1


@pytest.mark.usefixtures("english_formatting")
def test_english_long_hostile_and_empty_text():
    at = open_page("block", lang="en")
    assert not at.warning
    long_text = "Tom saw a little cat. " * 5  # 110 characters, more than the context
    at.text_input(key="block.text").set_value(long_text).run()
    context = demo("stories-en").model.config.context_len
    assert any(str(context) in info.value for info in at.info)
    stream = residuals(long_text, "stories-en")
    assert stream[0].shape[0] == context
    np.testing.assert_allclose(
        y_values(at, "block.fig.updates"), relative_updates(stream).mean(axis=1), rtol=1e-5
    )
    at.text_input(key="block.text").set_value("<script>alert(1)</script>").run()
    assert not at.exception
    html_blocks = [m.value for m in at.markdown if m.allow_html]
    assert html_blocks and all("<script" not in b for b in html_blocks)
    assert at.warning and "<" in at.code[0].value  # the unknown characters, shown literally as code
    at.text_input(key="block.text").set_value("").run()
    assert not at.exception and at.error


def test_strings_chosen_at_run_time_exist_in_both_languages():
    """Keys built from the model's settings (norm position, activation) are not seen by test_strings."""
    from ui.i18n import STRINGS

    keys = [f"block.{norm}_{position}" for norm in ("norm1", "norm2") for position in ("pre", "post")]
    keys += [f"block.{norm}_input_{position}" for norm in ("norm1", "norm2") for position in ("pre", "post")]
    keys += ["block.ffn_explain_gelu", "block.ffn_explain_relu", "block.stage_ffn"]
    keys += ["block.updates_explain_post", "block.this_model_post"]
    keys += ["block.dia_norm", "block.dia_attention", "block.dia_ffn", "block.dia_out"]
    for key in keys:
        assert key in STRINGS["en"] and key in STRINGS["zh"], key


def test_an_attention_only_model_shows_its_feed_forward_part_as_absent(monkeypatch):
    import ui.runs
    from tests.app.conftest import FakeJobs
    from tinylm import CharTokenizer, Checkpoint, ModelConfig, TinyLM

    tokenizer = CharTokenizer.from_text("abcdefgh ")
    config = ModelConfig(
        vocab_size=tokenizer.vocab_size,
        context_len=16,
        d_model=16,
        n_layers=2,
        n_heads=2,
        attention_only=True,
    )
    checkpoint = Checkpoint(TinyLM(config, seed=3).eval(), tokenizer, meta={"name": "attention-only"})
    monkeypatch.setattr(ui.runs, "manager", lambda: FakeJobs("attn-only", checkpoint))
    at = open_page("block", lang="zh", model="run:attn-only", text="abcabc", layer="1", norm="norm2")
    assert not at.exception
    norm = at.radio(key="block.norm")
    assert norm.value == "norm1" and len(norm.options) == 1  # no LN₂ to choose
    assert any("前馈网络" in info.value for info in at.info)
    assert len(y_values(at, "block.fig.updates")) == 2  # one update per layer
    assert chart(at, "block.fig.active") is None
