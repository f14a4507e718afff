"""Page 10, What did it learn?: a real (very small) run on the repetition-rich corpus, trained once for the
module; its recorded head scores, loss bump and replay are the page's, and so are the logit lens and the
ablation numbers of its model. The demo button queues the 2-layer run, then the 1-layer one."""

from __future__ import annotations

import numpy as np
import pytest
import streamlit.runtime.state.session_state_proxy
import torch
from streamlit.testing.v1 import AppTest

import ui.layout
from tests.app.conftest import PAGE_FILES, chart
from tests.app.plotly_data import decode
from tests.conftest import ROOT
from tinylm.corpora import generate_corpus
from tinylm.explain import ablation, induction, logit_lens
from tinylm.plan import RunSpec
from ui import learned_view, runs
from ui.i18n import t
from ui.runs import JobManager
from ui.runs.backend import ThreadBackend
from ui.runs.policy import Limits
from ui.runs.session import SESSION_RUNS_KEY

# Two attention-only layers, 2 heads, context 16: 80 steps in a second or two.
SMALL = RunSpec(
    corpus="repeats",
    n_layers=2,
    n_heads=2,
    d_model=32,
    context_len=16,
    attention_only=True,
    tie_weights=False,
    pos_encoding="sinusoidal",
    batch_size=8,
    learning_rate=1e-2,
    warmup_steps=5,
    budget="steps",
    max_steps=80,
    sample_every=0,
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One finished run (its manager stays up for the module)."""
    limits = Limits(max_jobs=1, max_queue=4, orphan_seconds=600.0)
    manager = JobManager(
        tmp_path_factory.mktemp("learned") / "runs", limits, ThreadBackend(1), session_alive=lambda s: True
    )  # its own manager, not the app's global one: other modules find that as they left it
    run_id = manager.submit(SMALL, None, owner="someone-else")
    view = manager.wait(run_id, timeout=120)
    assert view is not None and view.status == "done", view and view.message
    yield manager, run_id
    manager.shutdown()


@pytest.fixture(autouse=True)
def plain_labels(monkeypatch, trained):
    monkeypatch.setattr(ui.layout, "_model_label", str)
    monkeypatch.setattr(streamlit.runtime.state.session_state_proxy, "_mock_session_state", None)
    monkeypatch.setattr(ui.layout, "PAGES", [p for p in ui.layout.PAGES if (ROOT / p[1]).is_file()])
    monkeypatch.setattr(runs, "manager", lambda: trained[0])


def open_learned(run_id: str | None, lang: str = "en", **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = lang
    if run_id:
        at.session_state[SESSION_RUNS_KEY] = [run_id]
        query = {"model": f"run:{run_id}", **query}
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    for key, value in {"lang": lang, **query}.items():
        at.query_params[key] = value
    at.switch_page(PAGE_FILES["learned"]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ys(figure: dict, trace: int) -> np.ndarray:
    return np.asarray(decode(figure["data"][trace]["y"]), dtype=float)


def test_the_run_s_head_scores_loss_bump_and_replay(trained):
    manager, run_id = trained
    view = manager.get(run_id)
    at = open_learned(run_id)
    assert at.selectbox(key="learned.record").value == run_id
    curves = induction.score_curves(view.history["induction"])
    figure = chart(at, "learned.fig.induction")
    assert len(figure["data"]) == 4  # 2 layers × 2 heads
    np.testing.assert_allclose(ys(figure, 3), curves.scores[:, 1, 1], atol=1e-9)  # layer 1, head 1
    previous = induction.score_curves(view.history["prev_token"])
    np.testing.assert_allclose(ys(chart(at, "learned.fig.prev"), 0), previous.scores[:, 0, 0], atol=1e-9)
    np.testing.assert_allclose(ys(chart(at, "learned.fig.icl"), 0), [r[1] for r in view.history["icl"]])
    loss = chart(at, "learned.fig.loss")
    np.testing.assert_allclose(ys(loss, 0), [r[2] for r in view.history["train"]])
    bump = induction.loss_bump([r[0] for r in view.history["train"]], [r[2] for r in view.history["train"]])
    assert bool(loss["layout"].get("shapes")) == (bump is not None)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("learned.best_now", "en")] == f"{curves.best[-1]:.2f}"
    # The replay: the slider starts at the newest snapshot; moved to the first, the first is drawn.
    snapshots = view.repeat_snapshots
    slider = at.slider(key="learned.snap")
    assert slider.value == len(snapshots) - 1 and len(snapshots) == len(view.history["val"])
    at.selectbox(key="learned.rhead").set_value("1.0").run()
    slider = at.slider(key="learned.snap").set_value(0).run()
    z = np.asarray(decode(chart(at, "learned.fig.stripe")["data"][0]["z"]), dtype=float)
    np.testing.assert_allclose(z, snapshots[0][1][1, 0].astype(np.float32), atol=1e-6)
    n = len(view.repeat_tokens) // 2
    metrics = {m.label: m.value for m in at.metric}
    expected = induction.induction_score(snapshots[0][1][1, 0].astype(np.float64), n)
    assert metrics[t("learned.induction_now", "en")] == f"{expected:.2f}"
    assert at.query_params["snap"] in ("0", ["0"])
    assert not at.exception


def test_logit_lens_and_ablation_are_the_model_s(trained):
    manager, run_id = trained
    checkpoint, _ = manager.model_for(run_id)
    model, tokenizer = checkpoint.model, checkpoint.tokenizer
    at = open_learned(run_id, lang="zh", text="abcdefabcdef", mode="zero", ablate="1.0")
    # The lens: the last stage's top token at the chosen position is the model's own prediction.
    ids = tokenizer.encode("abcdefabcdef")
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0]
    table = at.dataframe[1].value  # the heads-now table, then the lens
    assert len(table) == 1 + 2  # the embedding and the two attention layers (no feed-forward)
    position = at.selectbox(key="learned.pos").value
    assert position == len(ids) - 1
    top = tokenizer.token_strings([int(logits[position].argmax())])[0]
    assert table.iloc[-1, 1].startswith(top + " (")
    lens = logit_lens.logit_lens(model, ids)
    assert lens.max_final_difference < 1e-4
    # Ablation: layer 1 head 0 switched off, the numbers of tinylm.explain.ablation on the same text.
    text = generate_corpus("repeats", learned_view.ABLATION_CHARS, seed=1)
    result = ablation.explain_head_ablation(model, tokenizer, text, "zero", max_tokens=2048)
    metrics = {m.label: m for m in at.metric}
    copy = metrics[t("learned.copy_loss", "zh")]
    assert copy.value == f"{result.probe_losses[1, 0]:.3f}"
    bars = chart(at, "learned.fig.ablation")
    np.testing.assert_allclose(ys(bars, 0), result.probe_change.ravel(), atol=1e-9)
    np.testing.assert_allclose(ys(bars, 1), result.text_change.ravel(), atol=1e-9)
    at.segmented_control(key="learned.ablate").set_value("0.1").run()  # one click: another head
    metrics = {m.label: m for m in at.metric}
    assert metrics[t("learned.text_loss", "zh")].value == f"{result.text_losses[0, 1]:.3f}"
    at.radio(key="learned.mode").set_value("mean").run()
    mean = ablation.explain_head_ablation(model, tokenizer, text, "mean", max_tokens=2048)
    metrics = {m.label: m for m in at.metric}
    assert metrics[t("learned.copy_loss", "zh")].value == f"{mean.probe_losses[0, 1]:.3f}"
    assert at.query_params["ablate"] in ("0.1", ["0.1"]) and not at.exception


def test_a_demo_model_has_no_record_but_its_heads_are_scored(trained):
    at = open_learned(None, lang="en")
    assert at.selectbox(key="learned.record").value == learned_view.MODEL_RECORD
    assert any(t("learned.no_scores", "en") in info.value for info in at.info)
    for name in ("induction", "prev_token", "copying"):
        assert chart(at, f"learned.fig.now_{name}") is not None
    assert chart(at, "learned.fig.ablation") is not None and chart(at, "learned.fig.lens") is not None


def test_the_demo_button_queues_two_layers_then_one(trained, monkeypatch):
    manager, _ = trained
    tiny = {"2l": SMALL.with_settings(max_steps=10), "1l": SMALL.with_settings(max_steps=10, n_layers=1)}
    monkeypatch.setattr(learned_view, "demo_specs", lambda: tiny)
    at = open_learned(None, lang="en")
    at.button(key="learned.demo_start").click().run()
    demo = at.session_state[learned_view.DEMO_KEY]
    first = manager.get(demo["2l"])
    assert first.spec.n_layers == 2 and demo["1l"] is None
    assert at.selectbox(key="learned.record").value == demo["2l"]  # the page shows the new run
    assert manager.wait(demo["2l"], timeout=60).status == "done"
    at.run()  # the demo's fragment sees it ended: its model is the active one, the 1-layer run starts
    demo = at.session_state[learned_view.DEMO_KEY]
    assert demo["1l"] and manager.get(demo["1l"]).spec.n_layers == 1
    assert at.session_state["_model_key"] == f"run:{demo['2l']}"
    assert any(t("learned.demo_activated", "en") in s.value for s in at.success)
    assert manager.wait(demo["1l"], timeout=60).status == "done"
    at.run()
    compare = chart(at, "learned.fig.compare")
    assert compare is not None and len(compare["data"]) == 2
    assert not at.exception


def test_a_link_reopens_the_run_and_the_replay_in_another_session(trained):
    _, run_id = trained
    at = open_learned(None, lang="zh", record=run_id, snap="0", rhead="0.1")
    assert at.selectbox(key="learned.record").value == run_id
    assert at.slider(key="learned.snap").value == 0 and at.selectbox(key="learned.rhead").value == "0.1"
    assert chart(at, "learned.fig.stripe") is not None and not at.exception
