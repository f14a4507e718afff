"""Page 9, Scaling: the shipped sweep drawn at once with its fits, a real (tiny) live sweep whose sizes
are revealed after the student predicted them, the calculator, the URL, both languages."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
import streamlit.runtime.state.session_state_proxy
from streamlit.testing.v1 import AppTest

import ui.layout
from tests.app.plotly_data import decode
from tests.conftest import ROOT
from tinylm.scaling import PowerLawFit, six_nd
from tinylm.sweep_file import analyse, read_sweep_file
from ui import runs
from ui.charts.scaling import loss_vs_parameters_slide
from ui.i18n import t

PAGE = "pages/9_Scaling.py"
SHIPPED = read_sweep_file(ROOT / "models" / "scaling" / "sweep.json")


@pytest.fixture(autouse=True)
def fresh_jobs(tmp_path, monkeypatch):
    """A job manager of its own (runs in a temporary directory, one training slot)."""
    monkeypatch.setattr(ui.layout, "_model_label", str)
    monkeypatch.setattr(streamlit.runtime.state.session_state_proxy, "_mock_session_state", None)
    monkeypatch.setattr(ui.layout, "PAGES", [p for p in ui.layout.PAGES if (ROOT / p[1]).is_file()])
    manager = runs.reset_manager_for_tests(
        tmp_path / "runs", max_jobs=1, max_queue=2, orphan_seconds=60.0, session_alive=lambda session: False
    )
    yield manager
    manager.shutdown()


def open_scaling(lang: str = "en", **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["lang"] = lang
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart(at: AppTest, key: str) -> dict:
    for element in at.get("plotly_chart"):
        if element.proto.id.endswith(key):
            return json.loads(element.proto.spec)
    raise AssertionError(f"no chart {key}")


def trace(figure: dict, name: str) -> dict:
    found = [item for item in figure["data"] if item.get("name") == name]
    assert found, [item.get("name") for item in figure["data"]]
    return found[0]


def texts(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "success", "warning", "error", "code")
    return "\n".join(str(e.value) for kind in kinds for e in at.get(kind))


def metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert values, [m.label for m in at.metric]
    return values[-1]


def test_the_shipped_sweep_is_drawn_at_once_with_the_fits_of_its_points():
    at = open_scaling()
    assert at.title[0].value == t("nav.scaling", "en")
    tokens_sweep = next(s for s in SHIPPED["sweeps"] if s["mode"] == "tokens")
    figure = chart(at, "scaling.chart_n")
    points = trace(figure, t("scaling.shipped_points", "en"))
    np.testing.assert_allclose(decode(points["x"]), [p["parameters"] for p in tokens_sweep["points"]])
    np.testing.assert_allclose(decode(points["y"]), [p["val_loss"] for p in tokens_sweep["points"]])
    # The fitted curve is the file's own fit, recomputed from its points: E + A/N^α at the curve's x.
    fit = analyse(SHIPPED["sweeps"])["loss_vs_parameters"]["floor"]
    line = trace(figure, t("scaling.fit_line", "en"))
    x = np.asarray(decode(line["x"]), dtype=float)
    np.testing.assert_allclose(decode(line["y"]), fit["E"] + fit["A"] * x ** -fit["alpha"], rtol=1e-9)
    assert any(item.get("fill") == "toself" for item in figure["data"])  # the band
    for key in ("scaling.chart_tokens", "scaling.chart_compute", "scaling.chart_optimal"):
        assert chart(at, key)["data"], key
    shown = texts(at)
    assert SHIPPED["command"] in shown
    assert f"{fit['alpha']:.3f} ± {fit['alpha_se']:.3f}" in "\n".join(
        str(cell) for frame in at.dataframe for cell in frame.value.to_numpy().ravel()
    )
    # The slide images (drawn only when asked for) are a PNG and an SVG.
    names = {"shipped": "s", "fit": "f", "live": "l"}
    args = (tokens_sweep["points"], PowerLawFit.from_dict(fit), [], names, ("N", "L"), "title")
    assert loss_vs_parameters_slide(*args, image_format="png").startswith(b"\x89PNG")
    assert b"<svg" in loss_vs_parameters_slide(*args, image_format="svg")[:400]
    assert at.get("download_button")
    # Published numbers and their sources are on the page.
    for needle in ("arXiv:2001.08361", "arXiv:2203.15556", "arXiv:2005.14165", "0.076", "406.4"):
        assert needle in shown, needle


def test_the_calculator_checks_gpt3_and_follows_its_inputs():
    at = open_scaling()
    assert metric(at, t("scaling.calc_flops", "en")) == f"{six_nd(175e9, 300e9):.3g}"  # 3.15e+23
    at.number_input(key="scaling.calc_n").set_value(70e9).run()
    at.number_input(key="scaling.calc_d").set_value(1.4e12).run()
    assert metric(at, t("scaling.calc_flops", "en")) == f"{6 * 70e9 * 1.4e12:.3g}"
    # One GPU at 312 TFLOP/s and 40 %: 5.88e23 / 1.248e14 s = 54,500 days = 149 years.
    assert metric(at, t("scaling.calc_gpu", "en")) == t(
        "scaling.years", "en", n=f"{5.88e23 / 1.248e14 / 31557600:,.3g}"
    )
    at.number_input(key="scaling.mfu").set_value(80.0).run()
    assert metric(at, t("scaling.calc_gpu", "en")) == t(
        "scaling.years", "en", n=f"{5.88e23 / 2.496e14 / 31557600:,.3g}"
    )
    at.button(key="scaling.example.gpt3").click().run()
    assert metric(at, t("scaling.calc_flops", "en")) == "3.15e+23"
    assert at.query_params["calc_n"] in (["175000000000.0"], "175000000000.0")


def test_a_link_reopens_the_same_view_and_bad_values_fall_back():
    at = open_scaling(mode="compute", flops="1000000000000.0", sizes="4", calc_n="1000000.0", mfu="250")
    assert at.radio(key="scaling.mode").value == "compute"
    assert at.select_slider(key="scaling.flops").value == 1e12
    assert at.slider(key="scaling.sizes").value == 4
    assert at.number_input(key="scaling.calc_n").value == 1e6
    assert at.number_input(key="scaling.mfu").value == 40.0  # 250 % is no utilisation: the default
    rows = at.dataframe[0].value
    assert len(rows) == 4  # the plan: one row per size
    assert rows.iloc[:, 3].map(float).between(0.9e12, 1.1e12).all()  # every size gets about 1e12 FLOPs


def test_a_sweep_too_long_for_the_app_is_refused_before_it_starts():
    at = open_scaling(mode="compute", flops="3000000000000.0", sizes="5")
    assert any("minutes" in e.value for e in at.error)
    assert at.button(key="scaling.start").disabled


def test_a_live_sweep_reveals_each_size_after_the_prediction(fresh_jobs):
    at = open_scaling(sizes="2", tokens="100000")
    at.number_input(key="scaling.pred0").set_value(2.5).run()
    assert at.query_params["pred0"] in (["2.5"], "2.5")
    assert t("scaling.hidden", "en") in texts(at)
    at.button(key="scaling.start").click().run()
    assert not at.exception
    run_id = at.session_state["_scaling_current"]
    view = fresh_jobs.wait(run_id, timeout=240)
    assert view.status == "done", view.status
    at.run()
    assert len(view.points) == 2 and view.spec.kind == "sweep"
    figure = chart(at, "scaling.chart_n")
    live = trace(figure, t("scaling.live_points", "en"))
    np.testing.assert_allclose(decode(live["x"]), [p["parameters"] for p in view.points])
    np.testing.assert_allclose(decode(live["y"]), [p["val_loss"] for p in view.points])
    predicted = trace(figure, t("scaling.predicted_points", "en"))
    np.testing.assert_allclose(decode(predicted["y"]), [2.5])
    # The reveal: what it reached, how far the prediction was; the prediction is locked now.
    actual = view.points[0]["val_loss"]
    assert f"{actual:.3f}" in [m.value for m in at.metric]
    assert t("scaling.you_said", "en", guess="2.50", off=f"{abs(2.5 - actual) / actual:.0%}") in texts(at)
    assert at.number_input(key="scaling.pred0").disabled
    # The learning curves of the live sweep join the other two figures.
    curves = trace(chart(at, "scaling.chart_tokens"), t("scaling.live_points", "en"))
    assert len(decode(curves["x"])) >= 1
    # Its best model can be used on every page; the link names the sweep.
    at.button(key="scaling.use_model").click().run()
    assert at.session_state["_model_key"] == f"run:{run_id}"
    assert at.query_params["sweep"] in ([run_id], run_id)
    best = min(view.points, key=lambda p: p["val_loss"])
    checkpoint, _ = fresh_jobs.model_for(run_id)
    assert checkpoint.model.config.d_model == best["d_model"]
    # The Train page lists the sweep among the session's runs (a run like any other).
    at.switch_page("pages/7_Train.py").run()
    assert not at.exception and view.label in [str(v) for v in at.dataframe[-1].value.iloc[:, 0]]
    # A new session opened with the link finds the sweep and its reveals again.
    again = open_scaling(sweep=run_id, sizes="2", tokens="100000", pred0="2.5")
    assert again.session_state["_scaling_current"] == run_id
    assert f"{actual:.3f}" in [m.value for m in again.metric]


def test_pause_and_stop_a_live_sweep(fresh_jobs):
    at = open_scaling(sizes="3", tokens="500000")
    at.button(key="scaling.start").click().run()
    run_id = at.session_state["_scaling_current"]
    deadline = time.monotonic() + 120
    while fresh_jobs.get(run_id).step < 5:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    at.run()
    at.button(key="scaling.pause").click().run()
    assert fresh_jobs.get(run_id).status == "paused"
    at.button(key="scaling.resume").click().run()
    assert fresh_jobs.get(run_id).status == "running"
    at.button(key="scaling.stop").click().run()
    view = fresh_jobs.wait(run_id, timeout=60)
    assert view.status == "stopped" and len(view.points) < 3
    at.run()
    assert not at.button(key="scaling.start").disabled  # one run each: the slot is free again


def test_the_page_in_chinese_and_in_presenter_mode():
    at = open_scaling("zh", presenter="1")
    assert at.title[0].value == "9 · 规模"
    assert t("scaling.optimal_title", "zh") in [h.value for h in at.subheader]
    assert len(at.get("plotly_chart")) == 4


def test_a_broken_sweep_file_is_explained_not_shown_as_a_traceback(tmp_path, monkeypatch):
    broken = tmp_path / "sweep.json"
    broken.write_text(json.dumps({**SHIPPED, "sweeps": [{"mode": "tokens", "tokens": math.inf}]}))
    monkeypatch.setenv("TINYLM_SWEEP_FILE", str(broken))
    at = open_scaling()
    assert any("cannot be read" in e.value for e in at.error)
    assert not at.get("plotly_chart")
