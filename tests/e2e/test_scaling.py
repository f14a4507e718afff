"""The Scaling page in a browser: the shipped sweep's plots draw at once, and a live sweep of the two
smallest sizes, predicted first, adds its points to them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.e2e.driver import App, key_class
from tinylm.sweep_file import read_sweep_file
from ui.i18n import t

pytestmark = pytest.mark.e2e

SWEEP_SECONDS = 300  # two tiny sizes on 100 k tokens each, on a machine that may be busy
# The traces plotly.js drew in a chart, by name, with how many points each has.
TRACES = """(selector) => {
    const plot = document.querySelector(selector + ' .js-plotly-plot');
    return plot ? plot.data.map(trace => [trace.name, trace.x ? trace.x.length : 0]) : null;
}"""


def traces(app: App, key: str) -> dict[str, int]:
    found = app.page.evaluate(TRACES, f".{key_class(key)}")
    assert found is not None, f"no chart {key}"
    return {name: count for name, count in found}


def test_the_plots_draw_and_a_live_sweep_adds_its_points(new_app, artifacts):
    app = new_app()
    app.open("scaling", lang="en", sizes="2", tokens="100000")
    app.draw_all_figures()
    drawn = app.drawn_figures()
    assert len(drawn) >= 4 and all(figure["traces"] > 0 for figure in drawn), drawn
    shipped = read_sweep_file(ROOT / "models" / "scaling" / "sweep.json")
    sizes = len(next(s for s in shipped["sweeps"] if s["mode"] == "tokens")["points"])
    before = traces(app, "scaling.chart_n")
    assert before[t("scaling.shipped_points", "en")] == sizes
    assert t("scaling.live_points", "en") not in before

    app.number("scaling.pred1", 2.4)
    app.wait_query("pred1", "2.4")
    app.click("scaling.start")
    app.key("scaling.use_model").locator("button").wait_for(timeout=SWEEP_SECONDS * 1000)
    expect(app.page.get_by_text(t("train.msg.done", "en", steps=98))).to_be_visible()
    app.wait_idle()
    app.draw_all_figures()
    after = traces(app, "scaling.chart_n")
    assert after[t("scaling.live_points", "en")] == 2  # both sizes, revealed
    assert after[t("scaling.predicted_points", "en")] == 1
    assert after[t("scaling.shipped_points", "en")] == sizes
    assert traces(app, "scaling.chart_tokens")[t("scaling.live_points", "en")] >= 1
    reveal = app.page.locator('[data-testid="stMetric"]').filter(has_text=t("scaling.reached", "en"))
    expect(reveal).to_have_count(2)
    assert "sweep" in app.query()
    app.show_everything()
    app.page.screenshot(path=str(artifacts / "scaling-live-sweep.png"))
    app.reset_viewport()
    app.assert_clean()
