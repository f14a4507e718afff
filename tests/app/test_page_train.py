"""Page 7, Train: real (very small) training runs started from the page, waited for, and checked."""

from __future__ import annotations

import io
import json
import pickle
import time

import numpy as np
import pytest
import streamlit.runtime.state.session_state_proxy
import torch
from streamlit.testing.v1 import AppTest

import ui.i18n
import ui.layout
from tests.app.conftest import PAGE_FILES, shown_as_code
from tests.app.plotly_data import decode
from tests.conftest import ROOT
from tinylm.checkpoint import checkpoint_zip_bytes, read_checkpoint_zip
from tinylm.config import count_parameters
from tinylm.corpora import BUILTIN_CORPORA
from tinylm.data import MAX_TEXT_BYTES
from tinylm.model import TinyLM
from tinylm.plan import RunSpec
from tinylm.presets import PRESETS
from tinylm.tokenizers import CharTokenizer
from tinylm.train import OPTIMIZERS, SCHEDULES
from ui import runs
from ui.i18n import STRINGS
from ui.runs.session import QUEUED_REFRESH_SECONDS, SESSION_RUNS_KEY
from ui.text import markdown_literal
from ui.train_view import CHART_SECONDS, REFRESH_SECONDS

# A model that trains 150 steps in about a second: 1 layer, 2 heads, d_model 32, context 16.
TINY = {
    "corpus": "stories-en",
    "n_layers": "1",
    "n_heads": "2",
    "d_model": "32",
    "context_len": "16",
    "pos_encoding": "sinusoidal",
    "activation": "gelu",
    "tie_weights": "true",
    "batch_size": "8",
    "learning_rate": "0.01",
    "warmup_steps": "10",
    "budget": "steps",
    "max_steps": "150",
}
HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


@pytest.fixture(autouse=True)
def fresh_jobs(tmp_path, monkeypatch):
    """A job manager of its own (runs in a temporary directory, one training slot, a queue of two)."""
    # AppTest calls widgets' format_func outside the script run, where t() falls back to the default
    # language, and the sidebar's model labels then miss their options: plain keys avoid it.
    monkeypatch.setattr(ui.layout, "_model_label", str)
    # ... and t() there reads a process-wide mock session state: start each test without a language in it.
    monkeypatch.setattr(streamlit.runtime.state.session_state_proxy, "_mock_session_state", None)
    # Pages are written in parallel: leave out sidebar links to pages that do not exist yet.
    monkeypatch.setattr(ui.layout, "PAGES", [p for p in ui.layout.PAGES if (ROOT / p[1]).is_file()])
    manager = runs.reset_manager_for_tests(
        tmp_path / "runs", max_jobs=1, max_queue=2, orphan_seconds=60.0, session_alive=lambda session: False
    )
    yield manager
    manager.shutdown()


def open_link(lang: str = "en", **query: str) -> AppTest:
    """Open the Train page straight from a link (as a browser does, with its query string)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = lang
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(PAGE_FILES["train"]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def formatting_language(monkeypatch, lang: str) -> None:
    """The language t() uses in the test thread, where AppTest calls the widgets' format_func."""
    monkeypatch.setattr(ui.i18n, "DEFAULT_LANGUAGE", lang)
    monkeypatch.setattr(streamlit.runtime.state.session_state_proxy, "_mock_session_state", None)


@pytest.fixture
def english(monkeypatch):
    formatting_language(monkeypatch, "en")


def metric(at, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r}: {[m.label for m in at.metric]}"
    return values[-1]


def chart(at, key: str) -> dict:
    for element in at.get("plotly_chart"):
        if element.proto.id.endswith(key):
            return json.loads(element.proto.spec)
    raise AssertionError(f"no chart {key}")


def texts(at) -> str:
    parts = [
        e.value
        for kind in ("markdown", "caption", "info", "success", "warning", "error")
        for e in at.get(kind)
    ]
    return "\n".join(str(p) for p in parts)


def start_and_wait(at: AppTest, manager: runs.JobManager, timeout: float = 60) -> tuple[str, runs.RunView]:
    at.button(key="train.start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run_id = at.session_state["_train_current"]
    view = manager.wait(run_id, timeout=timeout)
    assert view.finished, view.status
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return run_id, view


def test_a_short_run_learns_and_its_model_becomes_every_pages_model(english, fresh_jobs):
    at = open_link(**TINY)
    spec = RunSpec(n_layers=1, n_heads=2, d_model=32, context_len=16)
    assert metric(at, "Parameters") == f"{count_parameters(spec.model_config(55)):,}"
    assert metric(at, "Vocabulary (characters)") == "55"
    assert metric(at, "Steps") == "150"
    run_id, view = start_and_wait(at, fresh_jobs)
    assert view.status == "done" and view.step == 150
    # The URL names the run; the session lists it; its model is now the active one.
    assert at.query_params["run"] in ([run_id], run_id)
    assert at.session_state[SESSION_RUNS_KEY] == [run_id]
    assert at.session_state["_model_key"] == f"run:{run_id}"
    assert "now used on every page" in texts(at)
    at.run()  # the message stays while this run's model is the one in use: a rerun does not lose it
    assert "now used on every page" in texts(at)
    assert "_train_redraw" not in at.session_state  # the whole-page redraw the run's end asked for happened
    # The numbers shown are the run's: step, last validation loss, which fell below the unigram entropy
    # of ln(55) = 4.0 at the start.
    assert metric(at, "step") == "150"
    first_val, last_val = view.history["val"][0][2], view.history["val"][-1][2]
    assert metric(at, "validation loss") == f"{last_val:.3f}"
    assert first_val == pytest.approx(np.log(55), abs=0.3) and last_val < first_val - 0.8
    loss = chart(at, "train.loss_chart")
    np.testing.assert_allclose(decode(loss["data"][0]["y"]), [row[2] for row in view.history["train"]])
    np.testing.assert_allclose(decode(loss["data"][1]["y"]), [row[2] for row in view.history["val"]])
    assert loss["layout"]["shapes"][0]["y0"] == pytest.approx(view.data["unigram_entropy"])
    # Samples: one code block per sample, all continuing the prompt.
    shown = [code.value for code in at.code]
    assert [shown_as_code(text) for _, text in reversed(view.samples)] == shown[-len(view.samples) :]
    assert all(text.startswith("Once upon a time") for text in shown[-len(view.samples) :])
    # Attention: the newest snapshot, row-stochastic and causal.
    weights = np.asarray(decode(chart(at, "train.attention_chart")["data"][0]["z"]), dtype=float)
    np.testing.assert_allclose(weights, view.snapshots[-1][1][0, 0].astype(float), atol=1e-6)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=5e-3)
    assert np.all(np.triu(weights, k=1) == 0)
    # The model other pages get is this run's published snapshot; the home page names it.
    from ui.state import resolve

    active = resolve(f"run:{run_id}")
    assert active.cache_key == f"run:{run_id}@{view.model_version}"
    assert torch.equal(
        active.model.token_embedding.weight, fresh_jobs.model_for(run_id)[0].model.token_embedding.weight
    )
    at.switch_page("app.py").run()
    assert markdown_literal(view.label) in texts(at)  # the home page's line about the model (Markdown)
    # A refresh (a new session with the same URL) finds the run again; a made-up id is explained.
    again = open_link(run=run_id)
    assert again.session_state["_train_current"] == run_id
    assert metric(again, "step") == "150"
    missing = open_link(run=runs.new_run_id())
    assert "does not exist" in texts(missing)
    # Once the student picks another model, the run no longer claims to be the one in use.
    at.switch_page("pages/7_Train.py").run()
    assert "now used on every page" in texts(at)
    at.session_state["_model_key"] = "demo:stories-en"
    at.run()
    assert "now used on every page" not in texts(at)


def test_pause_resume_and_stop_from_the_page(english, fresh_jobs):
    at = open_link(**{**TINY, "budget": "time", "time_budget": "60.0"})
    at.button(key="train.start").click().run()
    run_id = at.session_state["_train_current"]
    deadline = time.monotonic() + 30
    while fresh_jobs.get(run_id).step < 20:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    at.run()
    at.button(key="train.pause").click().run()
    assert fresh_jobs.get(run_id).status == "paused"
    time.sleep(0.3)
    held = fresh_jobs.get(run_id).step
    time.sleep(0.4)
    assert fresh_jobs.get(run_id).step == held
    at.button(key="train.resume").click().run()
    assert fresh_jobs.get(run_id).status == "running"
    thread = fresh_jobs.thread_of(run_id)
    clicked = time.monotonic()
    at.button(key="train.stop").click().run()
    thread.join(timeout=5)
    assert not thread.is_alive() and time.monotonic() - clicked < 2.0
    at.run()
    assert not at.exception
    view = fresh_jobs.get(run_id)
    assert view.status == "stopped" and view.has_model
    assert f"Stopped at step {view.step}" in texts(at)
    assert at.session_state["_model_key"] == f"run:{run_id}"  # a stopped run's model is kept and used
    assert at.button(key="train.start").disabled is False
    # Reset clears the view; the run stays in the session's list.
    at.button(key="train.reset").click().run()
    assert at.session_state["_train_current"] is None
    assert run_id in at.session_state[SESSION_RUNS_KEY]


def timers(at: AppTest) -> tuple:
    """The shown run and the live view's fragment timers (status, charts) the last page run drew."""
    run_id, drawn, _ = at.session_state["_live_timers"]["train"]
    return run_id, drawn


def test_the_second_student_waits_in_the_queue(english, fresh_jobs):
    first = open_link(**{**TINY, "budget": "time", "time_budget": "60.0"})
    first.button(key="train.start").click().run()
    second = open_link(**TINY)
    second.button(key="train.start").click().run()
    second_id = second.session_state["_train_current"]
    assert fresh_jobs.get(second_id).status == "queued"
    assert "Waiting in the queue: position 1" in texts(second)
    assert "1 of 1 training slots busy, 1 waiting" in texts(second)
    assert second.button(key="train.start").disabled  # one run at a time per student
    # The live view's timers: a run further back than next refreshes its status every 5 s and draws no
    # charts until it starts (a class's waiting runs would otherwise be most of the server's work).
    third = open_link(**TINY)
    third.button(key="train.start").click().run()
    third_id = third.session_state["_train_current"]
    assert "Waiting in the queue: position 2" in texts(third)
    assert timers(third) == (third_id, (QUEUED_REFRESH_SECONDS, None))
    assert timers(second) == (second_id, (REFRESH_SECONDS, None))
    first_id = first.session_state["_train_current"]
    assert timers(first.run()) == (first_id, (REFRESH_SECONDS, CHART_SECONDS))
    fresh_jobs.stop(first_id, force=True)
    assert fresh_jobs.wait(first_id, timeout=30).finished
    assert "Waiting in the queue: position 1" in texts(third.run())
    assert timers(third) == (third_id, (REFRESH_SECONDS, None))
    assert fresh_jobs.wait(second_id, timeout=30).status == "done"
    assert timers(first.run()) == (first_id, (None, None))  # ended: no timers
    assert fresh_jobs.wait(third_id, timeout=30).status == "done"


def test_two_runs_are_compared_in_one_chart_and_table(english, fresh_jobs):
    at = open_link(**TINY)
    first, _ = start_and_wait(at, fresh_jobs)
    at.toggle(key="train.expert").set_value(True).run()
    at.selectbox(key="train.pos_encoding").set_value("learned").run()
    second, _ = start_and_wait(at, fresh_jobs)
    assert at.session_state[SESSION_RUNS_KEY] == [first, second]
    compare = chart(at, "train.compare_chart")
    assert len(compare["data"]) == 2
    for trace, run_id in zip(compare["data"], (first, second), strict=True):
        np.testing.assert_allclose(
            decode(trace["y"]), [row[2] for row in fresh_jobs.get(run_id).history["val"]]
        )
    table = at.dataframe[0].value
    assert list(table["Positional encoding"]) == ["sinusoidal", "learned"]
    assert list(table["step"]) == [150, 150]
    # The URL keeps both runs: a refresh can compare them again.
    refreshed = open_link(run=second, runs=first)
    assert refreshed.session_state[SESSION_RUNS_KEY] == [first, second]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bad_text_is_refused_with_a_reason_and_hostile_text_stays_text(lang, monkeypatch, fresh_jobs):
    formatting_language(monkeypatch, lang)
    at = open_link(lang=lang)
    at.selectbox(key="train.corpus").set_value("paste").run()
    assert at.button(key="train.start").disabled  # nothing pasted yet
    at.text_area(key="train.text_area").input("abc abc").run()
    assert not at.exception
    assert ("too short" if lang == "en" else "文本太短") in texts(at)
    assert at.button(key="train.start").disabled
    hostile = (" ".join(HOSTILE) + "\n") * 100
    at.text_area(key="train.text_area").input(hostile).run()
    assert not at.exception
    assert not at.button(key="train.start").disabled
    assert any(code.value.startswith(HOSTILE[0]) for code in at.code)  # shown literally, as code
    raw_html = [e.value for e in at.get("html")] + [m.value for m in at.markdown]
    assert not any("<script>" in value or "onerror=" in value for value in raw_html)

    at.selectbox(key="train.corpus").set_value("upload").run()
    uploads = {
        b"\x00\x01\x02binary" * 100: ("binary file", "二进制文件"),
        "中文".encode("gbk") * 100: ("not UTF-8", "不是 UTF-8"),
        b"   \n\n  ": ("empty", "空的"),
        b"x" * (MAX_TEXT_BYTES + 1): ("limit is 5.0 MB", "上限是 5.0 MB"),
    }
    for data, (en, zh) in uploads.items():
        at.file_uploader(key="train.text_upload").set_value(("data.txt", data, "text/plain")).run()
        assert not at.exception
        assert (en if lang == "en" else zh) in texts(at), texts(at)
        assert at.button(key="train.start").disabled


def test_absurd_settings_are_refused_with_the_reason(english):
    cases = {
        "divisible by the number of heads": {"d_model": "100", "n_heads": "8"},
        "parameters; the limit is": {"n_layers": "12", "d_model": "512", "n_heads": "8"},
        "MB of memory": {"context_len": "512", "batch_size": "512", "d_model": "256"},
        "would take about": {"budget": "steps", "max_steps": "20000", "n_layers": "8", "d_model": "256"},
    }
    for reason, settings in cases.items():
        at = open_link(**{**TINY, **settings})
        assert reason in texts(at), texts(at)
        assert at.button(key="train.start").disabled
    # Out-of-range values in a link fall back to the defaults instead of failing.
    at = open_link(n_layers="999", learning_rate="7", budget="forever", time_budget="nan")
    assert not at.exception and not at.button(key="train.start").disabled


def test_the_optimizer_and_the_schedule_are_expert_settings_kept_in_the_url(english, monkeypatch):
    # The default preset starts with the winners of the time-to-loss ablation (tinylm/presets.py).
    live = PRESETS["live"]
    at = open_link()
    at.toggle(key="train.expert").set_value(True).run()
    assert at.selectbox(key="train.optimizer").value == live.train["optimizer"] == "muon"
    assert at.select_slider(key="train.learning_rate").value == live.train["learning_rate"]
    assert at.number_input(key="train.d_model").value == live.model["d_model"]
    assert at.query_params["optimizer"] in ("muon", ["muon"])
    assert "Muon orthogonalises each weight matrix's momentum" in texts(at) and "rate 0.02" in texts(at)
    assert "falls along a cosine, down to 10 % of its peak" in texts(at)
    # Chosen in the form: the URL and the sentence follow, and the spec the form describes has them.
    at.selectbox(key="train.optimizer").set_value("adamw").run()
    at.selectbox(key="train.schedule").set_value("trapezoid").run()
    assert not at.exception
    assert at.query_params["optimizer"] in ("adamw", ["adamw"])
    assert at.query_params["schedule"] in ("trapezoid", ["trapezoid"])
    assert "AdamW divides each weight's gradient by its running size" in texts(at)
    assert "to zero over the last 30 % of the run" in texts(at)
    # A link reopens them (in Chinese too); a value that is not an option falls back to the preset's.
    formatting_language(monkeypatch, "zh")
    zh = open_link("zh", **TINY, optimizer="adamw", schedule="trapezoid")
    zh.toggle(key="train.expert").set_value(True).run()
    assert zh.selectbox(key="train.optimizer").value == "adamw"
    assert zh.selectbox(key="train.schedule").value == "trapezoid"
    assert "AdamW 把每个权重的梯度除以它的滑动平均幅度" in texts(zh) and "最后 30% 的训练" in texts(zh)
    bad = open_link(optimizer="sgd", schedule="forever")
    assert bad.query_params["optimizer"] in ("muon", ["muon"])
    assert bad.query_params["schedule"] in ("cosine", ["cosine"])


def test_sample_prompt_with_unseen_characters_is_marked(english):
    at = open_link(**TINY, sample_prompt="Zebra 你好")
    assert "never saw" in texts(at) and "你 好" in texts(at)


def test_checkpoint_upload_refuses_bad_files_and_loads_good_ones(english, fresh_jobs):
    at = open_link()
    torch_file = io.BytesIO()
    torch.save({"weights": torch.zeros(3)}, torch_file)
    for data in (pickle.dumps({"evil": 1}), torch_file.getvalue(), b"PK\x03\x04 truncated"):
        at.file_uploader(key="train.checkpoint_upload").set_value(
            ("model.zip", data, "application/zip")
        ).run()
        assert not at.exception
        assert "not a valid TinyLM checkpoint" in texts(at)
    tokenizer = CharTokenizer.from_text("hello world")
    model = TinyLM(
        RunSpec(n_layers=1, n_heads=2, d_model=32, context_len=16).model_config(tokenizer.vocab_size)
    )
    data = checkpoint_zip_bytes(model, tokenizer, history={"val": [[0, 0.0, 2.4]]}, meta={"name": "mine"})
    at.file_uploader(key="train.checkpoint_upload").set_value(("mine.zip", data, "application/zip")).run()
    assert not at.exception
    run_id = at.session_state["_train_current"]
    assert at.session_state["_model_key"] == f"run:{run_id}"
    assert fresh_jobs.get(run_id).kind == "uploaded"
    assert "Checkpoint loaded" in texts(at)
    # What the page's download button produces loads back into the same weights.
    again = read_checkpoint_zip(fresh_jobs.checkpoint_zip(run_id))
    assert torch.equal(again.model.token_embedding.weight, model.token_embedding.weight)


def test_every_dynamic_key_exists_in_both_languages():
    keys = [f"train.status.{s}" for s in (*runs.ACTIVE_STATES, *runs.FINISHED_STATES)]
    keys += [
        f"train.msg.{c}"
        for c in (
            "done",
            "user",
            "stopped",
            "cancelled",
            "abandoned",
            "pause_cap",
            "time_cap",
            "nan",
            "interrupted",
            "shutdown",
        )
    ]
    keys += [
        f"error.{c}"
        for c in ("queue_full", "too_long", "too_many_steps", "too_much_memory", "too_slow", "one_run_each")
    ]
    keys += [f"train.preset.{p}" for p in PRESETS] + [
        f"train.advice.{c}" for c in (*BUILTIN_CORPORA, "custom")
    ]
    keys += [f"train.source.{s}" for s in ("paste", "upload")] + [
        f"train.budget.{b}" for b in ("time", "steps")
    ]
    keys += [f"train.{kind}.{name}" for kind in ("optimizer", "optimizer_about") for name in OPTIMIZERS]
    keys += [f"train.{kind}.{name}" for kind in ("schedule", "schedule_about") for name in SCHEDULES]
    keys += [f"train.tokenizer.{k}" for k in ("char", "bpe")] + [
        f"train.compare_x.{x}" for x in ("step", "time")
    ]
    for lang in ("en", "zh"):
        missing = [key for key in keys if key not in STRINGS[lang]]
        assert not missing, (lang, missing)


def test_training_goes_on_across_a_language_switch_and_a_visit_to_another_page(monkeypatch, fresh_jobs):
    formatting_language(monkeypatch, "en")
    at = open_link(**{**TINY, "budget": "time", "time_budget": "60.0"})
    at.button(key="train.start").click().run()
    run_id = at.session_state["_train_current"]
    at.sidebar.radio(key="_w_lang").set_value("zh").run()
    formatting_language(monkeypatch, "zh")  # AppTest formats the now Chinese widgets in the test thread
    assert not at.exception and "本次训练" in texts(at)
    step = fresh_jobs.get(run_id).step
    at.switch_page(PAGE_FILES["generate"]).run()
    time.sleep(0.5)
    at.switch_page(PAGE_FILES["train"]).run()
    assert not at.exception
    # It trains on meanwhile (on a busy machine the first steps may take a while: bounded wait).
    deadline = time.monotonic() + 60
    while fresh_jobs.get(run_id).step <= step and time.monotonic() < deadline:
        time.sleep(0.1)
    view = fresh_jobs.get(run_id)
    assert view.status == "running" and view.step > step
    assert at.session_state["_train_current"] == run_id and at.query_params["run"] in ([run_id], run_id)
    fresh_jobs.stop(run_id, force=True)
    fresh_jobs.wait(run_id, timeout=10)


def test_every_page_s_sidebar_shows_the_student_s_training_run_and_keeps_it_watched(english, fresh_jobs):
    run_id = fresh_jobs.submit(RunSpec(n_layers=1, n_heads=2, d_model=32, context_len=16, time_budget=60.0))
    assert fresh_jobs.wait(run_id, timeout=20, states=("running",)).status == "running"
    at = open_link(run=run_id)  # the student's run, opened on the Train page ...
    for page in ("generate", "tokens"):  # ... then another page
        before = time.monotonic()
        at.switch_page(PAGE_FILES[page]).run()
        assert not at.exception, [e.value for e in at.exception]
        links = [link.label for link in at.sidebar.get("page_link")]
        assert any(label.startswith("Training in progress: step") for label in links), links
        assert fresh_jobs._live[run_id].last_seen >= before
    fresh_jobs.stop(run_id, force=True)
    assert fresh_jobs.wait(run_id, timeout=10).status == "stopped"
    at.run()
    assert not any(link.label.startswith("Training in progress") for link in at.sidebar.get("page_link"))


def test_uploads_are_capped_in_the_browser_and_a_refused_file_is_read_once(english, monkeypatch):
    import tinylm.data

    at = open_link()
    at.selectbox(key="train.corpus").set_value("upload").run()
    text_widget = at.file_uploader(key="train.text_upload")
    assert text_widget.proto.max_upload_size_mb == 5  # the browser refuses more than the 5 MB text limit
    assert at.file_uploader(key="train.checkpoint_upload").proto.max_upload_size_mb <= 80
    calls = []
    real = tinylm.data.decode_text_bytes
    monkeypatch.setattr(tinylm.data, "decode_text_bytes", lambda data: calls.append(1) or real(data))
    text_widget.set_value(("data.txt", b"\x00\x01binary" * 100, "text/plain")).run()
    assert "binary file" in texts(at)
    for _ in range(3):  # other widgets, fragments and timers rerun the page
        at.run()
        assert "binary file" in texts(at)
    assert len(calls) == 1
