"""Page 10 in a browser: a tiny 2-layer attention-only run on the repetition-rich corpus, trained from the
Train page, then on "What did it learn?" the replay slider moved back to the first snapshot and one head
ablated with one click."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.driver import App, key_class, wait_until_trained
from ui.i18n import t

pytestmark = pytest.mark.e2e

# 2 layers × 2 heads, context 16, 80 steps: a few seconds of training.
TINY = {
    "corpus": "repeats",
    "n_layers": "2",
    "n_heads": "2",
    "d_model": "32",
    "context_len": "16",
    "pos_encoding": "sinusoidal",
    "attention_only": "true",
    "tie_weights": "false",
    "batch_size": "8",
    "learning_rate": "0.01",
    "warmup_steps": "5",
    "budget": "steps",
    "max_steps": "80",
}
TITLE = """(selector) => {
    const plot = document.querySelector(selector + ' .js-plotly-plot');
    return plot && plot.layout.title ? plot.layout.title.text : null;
}"""


def chart_title(app: App, key: str) -> str | None:
    return app.page.evaluate(TITLE, f".{key_class(key)}")


def test_replay_slider_and_one_ablation(new_app, artifacts):
    app = new_app()
    app.open("train", lang="en", **TINY)
    app.click("train.start")
    wait_until_trained(app)
    app.sidebar_link(t("nav.learned", "en"))
    heading = app.page.locator('[data-testid="stMain"] h1').first
    expect(heading).to_have_text(t("nav.learned", "en"))
    app.wait_idle()
    app.key("learned.fig.stripe").locator(".js-plotly-plot").wait_for()
    last = chart_title(app, "learned.fig.stripe")
    assert last and "step 80" in last, last  # the newest snapshot: the end of the run
    slider = app.key("learned.snap").get_by_role("slider")
    slider.focus()
    slider.press("Home")  # back to the first snapshot
    app.wait_query("snap", "0")
    expect(app.key("learned.fig.stripe").locator(".gtitle")).to_contain_text("step 0")
    # One click switches a head off: the ablation's numbers follow, and the link keeps the head.
    before = app.key("learned.fig.ablation").locator(".js-plotly-plot")
    before.wait_for()
    app.key("learned.ablate").get_by_role("radio", name="L0 H0", exact=True).click()
    app.wait_query("ablate", "0.0")
    metric = app.page.locator('[data-testid="stMetric"]').filter(has_text=t("learned.copy_loss", "en"))
    expect(metric).to_be_visible()
    app.page.screenshot(path=str(artifacts / "learned-en.png"), full_page=True)
    app.assert_clean()
