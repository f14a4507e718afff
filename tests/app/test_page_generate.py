"""Page 6 · Generate: the texts are the library's own generations, and the step mode's numbers add up."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.app.conftest import demo, open_page
from tests.app.plotly_data import decode
from tinylm import SamplingSettings, generate, generate_text

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def open_link(lang: str, **query: str):
    """The page opened from a link with these settings in the URL."""
    return open_page("generate", lang, **query)


def active_checkpoint(at):
    key = at.session_state["_model_key"]
    assert key.startswith("demo:")
    return demo(key.split(":", 1)[1])


def page_settings(at) -> SamplingSettings:
    """The sampling settings shown by the page's widgets (top-k 0 and top-p 1 mean off)."""
    top_k = at.number_input(key="generate.top_k").value
    top_p = at.slider(key="generate.top_p").value
    return SamplingSettings(
        temperature=at.slider(key="generate.temperature").value,
        top_k=top_k or None,
        top_p=top_p if top_p < 1.0 else None,
        seed=at.number_input(key="generate.seed").value,
        max_new_tokens=at.slider(key="generate.max_tokens").value,
    )


def outputs(at) -> tuple[str, str]:
    """(greedy, sampled) as plain text: the two st.code blocks, greedy in the left column."""
    codes = [code.value for code in at.code]
    assert len(codes) == 2, codes
    return codes[0], codes[1]


def stages_figure(at) -> dict:
    (chart,) = [c for c in at.get("plotly_chart") if c.proto.id.endswith("generate.fig.stages")]
    return json.loads(chart.proto.spec)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_both_texts_are_the_librarys_generations(lang):
    at = open_page("generate", lang=lang)
    checkpoint = active_checkpoint(at)
    prompt = at.text_area(key="generate.prompt").value
    settings = page_settings(at)
    greedy, sampled = outputs(at)
    greedy_settings = SamplingSettings(greedy=True, max_new_tokens=settings.max_new_tokens)
    assert greedy == prompt + generate_text(checkpoint.model, checkpoint.tokenizer, prompt, greedy_settings)
    assert sampled == prompt + generate_text(checkpoint.model, checkpoint.tokenizer, prompt, settings)
    assert len(checkpoint.tokenizer.encode(sampled)) == len(checkpoint.tokenizer.encode(prompt)) + 80
    assert not at.warning  # the example is in the model's alphabet
    # Every generated token is a chip whose tooltip carries its probability.
    chips = [m.value for m in at.markdown if "title=" in m.value and "<span" in m.value]
    assert sum(chip.count("<span") for chip in chips) >= 2 * settings.max_new_tokens


def test_the_same_seed_gives_the_same_text_and_another_seed_another():
    at = open_link("en", max_tokens="40", seed="7")
    checkpoint = active_checkpoint(at)
    prompt = at.text_area(key="generate.prompt").value
    first = outputs(at)[1]
    at.number_input(key="generate.seed").set_value(8).run()
    other = outputs(at)[1]
    at.number_input(key="generate.seed").set_value(7).run()
    assert outputs(at)[1] == first
    again = open_link("en", max_tokens="40", seed="7")  # a fresh session: still the same text
    assert outputs(again)[1] == first
    assert other != first
    settings = page_settings(at)
    settings.seed = 8
    assert other == prompt + generate_text(checkpoint.model, checkpoint.tokenizer, prompt, settings)


def test_step_mode_shows_the_reshaped_distribution_and_keeps_its_step():
    at = open_link("zh", mode="step", top_k="12", top_p="0.8", temperature="1.5", max_tokens="20")
    assert not at.exception
    checkpoint = active_checkpoint(at)
    prompt = at.text_area(key="generate.prompt").value
    settings = page_settings(at)
    assert (settings.top_k, settings.top_p, settings.temperature) == (12, 0.8, 1.5)
    at.button(key="generate.next").click().run()
    at.button(key="generate.next").click().run()
    assert not at.exception
    assert at.query_params["step"] in ("2", ["2"])
    table = at.dataframe[0].value
    model_p, temperature_p, top_k_p, top_p_p = (
        table.iloc[:, column].to_numpy(float) for column in (3, 4, 5, 6)
    )
    assert top_p_p.sum() == pytest.approx(1.0, abs=1e-5)
    assert model_p.sum() == pytest.approx(1.0, abs=1e-4) and temperature_p.sum() == pytest.approx(
        1.0, abs=1e-4
    )
    # Temperature: softmax(z / τ) is softmax(z)^(1/τ), renormalised.
    sharpened = model_p ** (1 / 1.5)
    np.testing.assert_allclose(temperature_p, sharpened / sharpened.sum(), rtol=1e-3, atol=1e-7)
    # Top-k: the 12 most likely tokens keep their (renormalised) probability, every other token has 0.
    top12 = np.argsort(-temperature_p, kind="stable")[:12]
    assert (top_k_p > 0).sum() == 12 and (top_k_p[top12] > 0).all()
    np.testing.assert_allclose(top_k_p[top12], temperature_p[top12] / temperature_p[top12].sum(), rtol=1e-4)
    assert top_k_p.sum() == pytest.approx(1.0, abs=1e-5)
    # Top-p: most likely first, keep a token while the mass ranked above it is below p; the rest get 0.
    order = np.argsort(-top_k_p, kind="stable")
    above = np.cumsum(top_k_p[order]) - top_k_p[order]
    nucleus = np.zeros(len(order), dtype=bool)
    nucleus[order[above < 0.8]] = True
    assert (top_p_p[~nucleus] == 0).all() and (top_p_p[nucleus] > 0).all()
    np.testing.assert_allclose(top_p_p[nucleus], top_k_p[nucleus] / top_k_p[nucleus].sum(), rtol=1e-4)
    # The chosen token (★) is the third token generate() writes with these settings.
    steps = list(
        generate(
            checkpoint.model,
            checkpoint.tokenizer.encode(prompt),
            settings,
            checkpoint.tokenizer,
            n_candidates=1,
        )
    )
    chosen = table[table.iloc[:, 7] == "★"]
    assert len(chosen) == 1 and int(chosen.iloc[0, 2]) == steps[2].token_id
    assert float(chosen.iloc[0, 6]) == pytest.approx(steps[2].probability, rel=1e-4)
    # The chart: the final stage's bars hold the whole nucleus and add up to 1.
    bars = stages_figure(at)["data"]
    assert len(bars) == 4
    final = np.asarray(decode(bars[3]["y"]), dtype=float)
    assert final.sum() == pytest.approx(1.0, abs=1e-5)  # the nucleus lies within top-k = 12 < 20 bars
    # The step survives reruns caused by other controls, and reset goes back to the start.
    at.slider(key="generate.temperature").set_value(0.7).run()
    assert at.query_params["step"] in ("2", ["2"])
    at.button(key="generate.reset").click().run()
    assert at.query_params["step"] in ("0", ["0"])


def test_hostile_empty_and_long_prompts():
    at = open_link("en", max_tokens="10")
    at.text_area(key="generate.prompt").input(HOSTILE).run()
    assert not at.exception
    assert all(code.startswith(HOSTILE) for code in outputs(at))  # shown literally, as plain text
    bodies = [m.value for m in at.markdown]
    assert not any("<script" in body or "<img" in body for body in bodies)
    assert any("&lt;" in body for body in bodies)  # the prompt chips, escaped
    assert at.warning  # unknown characters are named
    at.text_area(key="generate.prompt").input("").run()
    assert not at.exception and at.info and not at.code
    checkpoint = active_checkpoint(at)
    context = checkpoint.model.config.context_len
    long_prompt = "Lily had a red ball. " * (context // 10 + 2)
    at.text_area(key="generate.prompt").input(long_prompt).run()
    assert not at.exception
    assert any(str(context) in info.value and str(context // 2) in info.value for info in at.info)
    settings = page_settings(at)
    expected = generate_text(checkpoint.model, checkpoint.tokenizer, long_prompt, settings)
    assert outputs(at)[1] == long_prompt + expected


def test_deep_link_reopens_that_view():
    at = open_link("zh", prompt="小明", temperature="0.5", seed="3", max_tokens="30")
    assert at.text_area(key="generate.prompt").value == "小明"
    assert at.slider(key="generate.temperature").value == 0.5
    assert at.number_input(key="generate.seed").value == 3
    checkpoint = active_checkpoint(at)
    settings = page_settings(at)
    assert (settings.temperature, settings.seed, settings.max_new_tokens) == (0.5, 3, 30)
    assert outputs(at)[1] == "小明" + generate_text(checkpoint.model, checkpoint.tokenizer, "小明", settings)
    params = dict(at.query_params)
    assert params["prompt"] in ("小明", ["小明"]) and params["seed"] in ("3", ["3"])
