"""Page 8, Fine-tuning: the tasks a base fits (the others explained), a real LoRA run and a real full run of
the Chinese demo model through the job manager (ten steps each), their live numbers, before / after,
the comparison, why LoRA works, the model in use afterwards, the URL, both languages, presenter mode."""

from __future__ import annotations

import pytest
import streamlit.runtime.state.session_state_proxy
from streamlit.testing.v1 import AppTest

import ui.layout
from tests.app.conftest import chart
from tests.app.plotly_data import decode
from tests.conftest import ROOT
from tinylm.finetune import RECOMMENDED_FINETUNE
from tinylm.finetune_tasks import finetune_examples
from ui import runs
from ui.i18n import t
from ui.text import markdown_literal

PAGE = "pages/8_Finetune.py"


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    """One job manager for the module (runs in a temporary directory, one training slot)."""
    manager = runs.reset_manager_for_tests(
        tmp_path_factory.mktemp("runs"), max_jobs=1, max_queue=2, orphan_seconds=60.0,
        session_alive=lambda session: False,
    )  # fmt: skip
    yield manager
    manager.shutdown()


@pytest.fixture(autouse=True)
def isolated(monkeypatch, jobs):
    monkeypatch.setattr(ui.layout, "_model_label", str)
    monkeypatch.setattr(streamlit.runtime.state.session_state_proxy, "_mock_session_state", None)
    monkeypatch.setattr(ui.layout, "PAGES", [p for p in ui.layout.PAGES if (ROOT / p[1]).is_file()])
    monkeypatch.setattr(runs, "manager", lambda: jobs)


def open_finetune(lang: str = "en", **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in {"lang": lang, **query}.items():
        at.query_params[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "success", "warning", "error", "code")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert values, [m.label for m in at.metric]
    return values[-1]


def test_the_steps_slider_offers_every_tasks_recommended_steps():
    at = open_finetune("en", base="demo:stories-en")
    offered = at.select_slider(key="finetune.steps").options
    for task, advice in RECOMMENDED_FINETUNE.items():
        assert str(advice["max_steps"]) in offered, task


def test_an_english_base_offers_the_english_tasks_and_explains_why_not_the_chinese_ones():
    at = open_finetune("en", base="demo:stories-en")
    assert at.title[0].value == "8 · Fine-tuning"
    task = at.selectbox(key="finetune.task")
    assert task.options == [t(f"finetune.task.{name}", "en") for name in ("qa-en", "mood-en", "tense-en")]
    shown = texts(at)
    assert t("finetune.unfit_title", "en", n=3) in [e.label for e in at.expander]
    assert shown.count("This model never saw") == 3  # error.task_unknown_chars, for each Chinese task
    assert metric(at, "Recommended steps") == "500"  # qa-en
    at.radio(key="finetune.mode").set_value("probe").run()
    assert not at.exception and t("finetune.mode_help.probe", "en") in texts(at)
    assert at.query_params["mode"] in (["probe"], "probe")


def test_a_link_with_bad_values_falls_back_and_the_page_reads_in_chinese_in_presenter_mode():
    at = open_finetune("zh", presenter="1", task="qa-en", mode="nonsense", rank="5", ft="not-a-run")
    assert at.title[0].value == "8 · 微调"
    assert at.selectbox(key="finetune.task").value == "qa-zh"  # the Chinese demo: qa-en does not fit
    assert at.radio(key="finetune.mode").value == "lora" and at.select_slider(key="finetune.rank").value == 8
    assert "_finetune_current" not in at.session_state or at.session_state["_finetune_current"] is None


@pytest.fixture(scope="module")
def lora_then_full(jobs):
    """A LoRA run (r = 4 on Q and V) and then a full run of qa-zh on the Chinese demo, ten steps each,
    started from the page; returns the page and both run ids."""
    at = open_finetune("zh", base="demo:stories-zh", task="qa-zh", steps="10", rank="4", targets="q,v")
    at.button(key="finetune.start").click().run()
    assert not at.exception
    lora_id = at.session_state["_finetune_current"]
    assert jobs.wait(lora_id, timeout=120).status == "done"
    at.run()
    assert not at.exception
    lora_page = {
        "metrics": {m.label: m.value for m in at.metric},
        "code": [c.value for c in at.code],
        "texts": texts(at),
        "model": at.session_state["_model_key"],
        "charts": [chart(at, "finetune.chart_metric"), chart(at, "finetune.chart_loss")],
        "downloads": [b.proto.label for b in at.get("download_button")],
    }
    at.radio(key="finetune.mode").set_value("full").run()
    at.button(key="finetune.start").click().run()
    full_id = at.session_state["_finetune_current"]
    assert jobs.wait(full_id, timeout=120).status == "done"
    at.run()
    assert not at.exception
    return at, lora_id, full_id, lora_page


def test_a_lora_run_shows_its_numbers_and_becomes_the_model_every_page_uses(jobs, lora_then_full):
    _, lora_id, _, seen = lora_then_full
    view = jobs.get(lora_id)
    assert view.spec.kind == "finetune" and view.spec.lora_targets == "q,v" and view.step == 10
    point = view.points[-1]
    metrics = seen["metrics"]
    # LoRA r = 4 on Q and V of four layers: 4 × 2 × (4·128 + 128·4) = 8 192 of 902 400 + 8 192.
    assert point["trainable"] == 8_192 and metrics[t("finetune.trainable", "zh")] == "8,192"
    assert point["trainable_share"] == pytest.approx(8_192 / 910_592)
    assert metrics[t("finetune.metric.exact_match", "zh")] == f"{point['metric']:.0%}"
    before, after = point["forgetting_before"], point["forgetting_after"]
    assert metrics[t("finetune.forgetting", "zh")] == f"{after:.3f}" and 0 < before < after
    assert metrics[t("finetune.s_per_step", "zh")] == f"{point['seconds_per_step']:.3f}"
    assert seen["model"] == f"run:{lora_id}"  # it ended while watched: the model every page uses
    metric_curve = seen["charts"][0]["data"][0]
    assert list(decode(metric_curve["x"])) == [row[0] for row in view.history["accuracy"]]
    assert len(seen["charts"][1]["data"]) == 2  # training and validation loss
    assert t("finetune.download_model", "zh") in seen["downloads"]
    assert t("finetune.download_adapter", "zh") in seen["downloads"]


def test_before_and_after_answer_the_same_held_out_prompt(lora_then_full):
    _, _, _, seen = lora_then_full
    example = finetune_examples("qa-zh", 20)[0]
    assert example.prompt in seen["texts"]
    base_answer, tuned_answer = seen["code"][-2:]
    assert base_answer != tuned_answer  # ten steps of LoRA changed the answer


def test_the_comparison_and_why_lora_works(jobs, lora_then_full):
    at, lora_id, full_id, _ = lora_then_full
    table = at.dataframe[-1].value
    assert list(table.iloc[:, 0]) == [jobs.get(lora_id).label, jobs.get(full_id).label]
    full_point = jobs.get(full_id).points[-1]
    assert full_point["trainable_share"] == 1.0 and table.iloc[1, 9] == "100.0 %"
    compare = chart(at, "finetune.chart_compare")
    assert len(compare["data"]) == 2
    sv = chart(at, "finetune.chart_sv")
    full_sv, lora_sv = (decode(trace["y"]) for trace in sv["data"])
    assert len(full_sv) == 128 and len(lora_sv) == 128
    assert (lora_sv[4:] < 1e-4 * lora_sv[0]).all()  # rank 4: the rest is float rounding
    assert "**" in texts(at) and t("finetune.why_title", "zh") in [h.value for h in at.subheader]
    at.slider(key="finetune.sv_layer").set_value(2).run()
    at.selectbox(key="finetune.sv_part").set_value("fc1").run()
    assert not at.exception and len(decode(chart(at, "finetune.chart_sv")["data"][0]["y"])) == 128
    assert at.query_params["sv_part"] in (["fc1"], "fc1")


def test_a_link_reopens_the_run_in_a_new_session(jobs, lora_then_full):
    _, lora_id, _, _ = lora_then_full
    at = open_finetune("en", ft=lora_id)
    assert at.session_state["_finetune_current"] == lora_id
    assert t("finetune.before_after_title", "en") in [h.value for h in at.subheader]


def test_the_fine_tuned_model_is_used_on_the_other_pages(jobs, lora_then_full):
    at, _, full_id, _ = lora_then_full
    assert at.session_state["_model_key"] == f"run:{full_id}"  # the newest run that ended while watched
    for page in ("pages/6_Generate.py", "pages/7_Train.py"):  # the Train page lists it among the runs
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert at.session_state["_model_key"] == f"run:{full_id}"
        if page.endswith("Generate.py"):  # the line about the model in use: its corpus is its task
            assert any(markdown_literal("qa-zh") in str(c.value) for c in at.caption)
