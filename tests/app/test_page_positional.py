"""Page 2, positional encoding: the numbers drawn are the paper's formula, and the model section shows
what the active model really uses (checked for sinusoidal, learned and RoPE models)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from tests.app.conftest import FakeJobs, chart, open_page
from tests.app.plotly_data import decode
from tests.conftest import ROOT
from tinylm import CharTokenizer, Checkpoint, ModelConfig, TinyLM

pytestmark = [
    pytest.mark.skipif(
        not (ROOT / "models" / "stories-zh" / "tinylm.json").is_file(), reason="demo models not trained yet"
    ),
    pytest.mark.usefixtures("language_independent_model_labels"),
]
_run_ids = itertools.count()


def z(at, key: str) -> np.ndarray:
    return np.asarray(decode(chart(at, key)["data"][0]["z"]), dtype=float)


def assert_curves_follow_the_formula(at, d_model: int, max_len: int, base: float, dims: list[int]) -> None:
    figure = chart(at, "positional.curves")
    assert [trace["meta"]["dim"] for trace in figure["data"]] == dims
    for trace in figure["data"]:
        dim = trace["meta"]["dim"]
        i = dim // 2
        xs, ys = decode(trace["x"]), decode(trace["y"])
        assert list(xs) == list(range(max_len))
        for p, value in zip(xs, ys, strict=True):
            angle = p / base ** (2 * i / d_model)
            expected = math.sin(angle) if dim % 2 == 0 else math.cos(angle)
            assert value == pytest.approx(expected, abs=1e-6), (dim, p)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_opens_and_draws_the_formula(lang):
    at = open_page("positional", lang=lang)
    assert_curves_follow_the_formula(at, 128, 64, 10000.0, [0, 1, 10, 11, 40, 41])
    table = z(at, "positional.table")
    assert table.shape == (64, 128)
    assert table[5, 2 * 3] == pytest.approx(math.sin(5 / 10000 ** (6 / 128)), abs=1e-6)
    # the demo model is sinusoidal: its own table is shown next to the formula and equals it
    np.testing.assert_array_equal(z(at, "positional.model_left"), z(at, "positional.model_right"))
    assert any("0.0e+00" in success.value for success in at.success)


def test_controls_change_the_numbers():
    at = open_page("positional", lang="en")
    at.slider(key="positional.d_model").set_value(32).run()
    at.slider(key="positional.max_len").set_value(20).run()
    at.select_slider(key="positional.base").set_value(100).run()
    at.multiselect(key="positional.dims_pick").set_value([0, 3, 17, 31]).run()
    assert not at.exception
    assert_curves_follow_the_formula(at, 32, 20, 100.0, [0, 3, 17, 31])
    assert at.query_params["dims"] in ("0,3,17,31", ["0,3,17,31"])

    similarity = z(at, "positional.similarity")
    assert similarity.shape == (20, 20)
    np.testing.assert_allclose(similarity, similarity.T, atol=1e-5)
    np.testing.assert_allclose(np.diag(similarity), 16.0, atol=1e-4)  # d_model / 2
    assert similarity[0, 5] < 16.0 - 0.1

    at.slider(key="positional.start").set_value(7).run()
    offsets = chart(at, "positional.offset")["data"]
    measured, closed_form = decode(offsets[0]["y"]), decode(offsets[1]["y"])
    omegas = [100.0 ** (-2 * i / 32) for i in range(16)]
    for k in (0, 1, 5, 19):
        assert closed_form[k] == pytest.approx(sum(math.cos(k * w) for w in omegas), abs=1e-9)
        assert measured[k] == pytest.approx(closed_form[k], abs=1e-4)  # the same for start 7

    at.slider(key="positional.pair").set_value(3).run()
    circle = chart(at, "positional.circle")["data"][1]
    xs, ys = decode(circle["x"]), decode(circle["y"])
    np.testing.assert_allclose(np.hypot(xs, ys), 1.0, atol=1e-6)  # sin² + cos² = 1
    assert xs[4] == pytest.approx(math.sin(4 * omegas[3]), abs=1e-6)

    at.slider(key="positional.max_len").set_value(8).run()  # start 7 still fits; a larger one is clamped
    assert at.slider(key="positional.start").value <= 7 and not at.exception


def test_a_link_reopens_the_same_view_and_bad_values_fall_back():
    at = open_page("positional", "en", d_model="64", base="100", max_len="30", dims="2,9")
    assert at.slider(key="positional.d_model").value == 64
    assert at.select_slider(key="positional.base").value == 100
    assert_curves_follow_the_formula(at, 64, 30, 100.0, [2, 9])
    bad = open_page("positional", "en", d_model="banana", base="7", max_len="100000", dims="<script>")
    assert bad.slider(key="positional.d_model").value == 128
    assert bad.select_slider(key="positional.base").value == 10000
    assert bad.slider(key="positional.max_len").value == 64
    assert_curves_follow_the_formula(bad, 128, 64, 10000.0, [0, 1])
    odd = open_page("positional", "en", d_model="63")
    assert odd.slider(key="positional.d_model").value == 64  # pairs need an even width


def run_model(monkeypatch, pos_encoding: str) -> tuple[str, TinyLM]:
    """A small model of the given kind, served as a Train-page run (weights made large on purpose)."""
    import ui.runs

    tokenizer = CharTokenizer.from_text("abcdefgh 小明")
    config = ModelConfig(
        vocab_size=tokenizer.vocab_size,
        context_len=24,
        d_model=16,
        n_layers=1,
        n_heads=2,
        pos_encoding=pos_encoding,
    )
    model = TinyLM(config, seed=5)
    with torch.no_grad():
        generator = torch.Generator().manual_seed(6)
        for parameter in model.parameters():
            parameter.normal_(0, 0.5, generator=generator)
    model.eval()
    run_id = f"positional-{pos_encoding}-{next(_run_ids)}"
    checkpoint = Checkpoint(model, tokenizer, meta={"name": f"{pos_encoding} test"})
    monkeypatch.setattr(ui.runs, "manager", lambda: FakeJobs(run_id, checkpoint))
    return run_id, model


def test_a_learned_model_shows_its_table_and_its_similarities(monkeypatch):
    run_id, model = run_model(monkeypatch, "learned")
    at = open_page("positional", lang="zh", model=f"run:{run_id}")
    table = model.position_embedding.weight.detach().double().numpy()
    np.testing.assert_allclose(z(at, "positional.model_left"), table, atol=1e-6)
    cosines = z(at, "positional.model_right")
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    np.testing.assert_allclose(cosines, unit @ unit.T, atol=1e-5)
    np.testing.assert_allclose(np.diag(cosines), 1.0, atol=1e-5)
    assert not at.exception


def test_a_rope_model_shows_scores_that_depend_only_on_the_distance(monkeypatch):
    run_id, model = run_model(monkeypatch, "rope")
    at = open_page("positional", lang="en", model=f"run:{run_id}")
    token = at.selectbox(key="positional.rope_token").value
    scores = z(at, "positional.rope_scores")
    assert scores.shape == (24, 24)
    for offset in range(-23, 24):
        diagonal = np.diagonal(scores, offset=offset)
        assert np.ptp(diagonal) < 1e-4
    assert np.ptp(scores) > 0.01
    # the same numbers as the model's own first-layer, first-head attention scores
    with torch.no_grad():
        weights = (
            model(torch.full((1, 24), token), return_attention=True).attentions[0][0, 0].double().numpy()
        )
    masked = np.where(np.tril(np.ones((24, 24), dtype=bool)), scores, -np.inf)
    softmax = np.exp(masked - masked.max(axis=1, keepdims=True))
    np.testing.assert_allclose(weights, softmax / softmax.sum(axis=1, keepdims=True), atol=1e-4)

    at.selectbox(key="positional.rope_token").set_value(3).run()
    assert not at.exception
    assert not np.allclose(z(at, "positional.rope_scores"), scores)  # another token, other scores
