"""The "What did it learn?" page's moving parts (pages/10_What_it_learned.py draws the rest): the
induction demo (two runs of the job layer), the record a page shows (a run of this session, live, or the
active model's own checkpoint history), its figures over training with the replay of the induction
stripe, and the cached calls into tinylm.explain for the active model (head scores, logit lens,
ablation).

The demo and the record are fragments that re-draw on a timer while a run trains, like the Train page's
live view (ui/train_view.py); they get what they need as arguments. Importing this module only defines
things.

The induction demo and the one-run rule. A student has one run queued or training at a time
(``JobManager.submit`` refuses a second: ``one_run_each``), so "Train the induction demo" queues the
2-layer run (the one with the phase change) at once, and this page starts the 1-layer run the moment the
2-layer one ends (the next tick of the demo fragment, or the next visit of the page). Their curves are
drawn on one chart as they come in, so the two are compared side by side on the same steps.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st

from tinylm.corpora import BUILTIN_CORPORA, generate_corpus
from tinylm.errors import TinyLMError
from tinylm.explain import ablation, induction, logit_lens
from tinylm.plan import RunSpec, recommended_spec
from ui import class_session, figures, widgets
from ui.charts import learned as charts
from ui.i18n import current_language, t
from ui.layout import Page, presenter, show_error
from ui.runs import JobManager, RunView, valid_run_id
from ui.runs.records import MAX_SNAPSHOTS
from ui.runs.session import current_session_id, remember_run, session_runs, student_id
from ui.state import MODEL_KEY, ActiveModel, model_by_cache_key, set_active_model
from ui.train_view import duration, message_text, status_label

REFRESH_SECONDS = 1.0
CHART_SECONDS = 3.0
DEMO_KEY = "_learned_demo"  # {"2l": run id, "1l": run id or None}
DEMO_ERROR_KEY = "_learned_demo_error"
FOLLOW_KEY = "_learned_follow"  # the replay slider's last end: a slider left at the end follows new snapshots
LIVE_KEY = "_learned_live"  # whether the page was drawn with the demo being watched
MODEL_RECORD = "model"  # the record choice "the active model's own history"
THRESHOLD = induction.INDUCTION_THRESHOLD
ABLATION_CHARS = 6000  # held-out text of the model's built-in corpus for the ablation's text loss
LENS_EXAMPLES = {
    "en": "Tom saw a red ball. Tom saw a red ball.",
    "zh": "小猫在草地上玩球。小猫在草地上玩球。",
    "repeats": "qmzkrtbxwqmzkrtbxw",
}


def head_name(layer: int, head: int) -> str:
    return t("learned.head", layer=layer, head=head)


def head_names(n_layers: int, n_heads: int) -> list[list[str]]:
    return [[head_name(layer, head) for head in range(n_heads)] for layer in range(n_layers)]


def lens_example(tokenizer: Any) -> str:
    """The first example the model can read: the reader's language first, then the other, then letters."""
    order = ["zh", "en"] if current_language() == "zh" else ["en", "zh"]
    for name in [*order, "repeats"]:
        if not tokenizer.unknown_chars(LENS_EXAMPLES[name]):
            return LENS_EXAMPLES[name]
    return LENS_EXAMPLES[order[0]]


def stage_name(name: str) -> str:
    """ "layer1.attention" → "layer 1 · attention", in the reader's language (page 4's names)."""
    if name == "embedding":
        return t("block.stage_embedding")
    layer, part = name.removeprefix("layer").split(".", 1)
    return t("block.stage_attention" if part == "attention" else "block.stage_ffn", layer=layer)


# ---------------------------------------------------------------------------------------------
# The induction demo
# ---------------------------------------------------------------------------------------------


def demo_specs() -> dict[str, RunSpec]:
    """The recommended run on the repetition-rich corpus (2 layers) and the same with 1 layer."""
    two = recommended_spec("repeats")
    return {"2l": two, "1l": dataclasses.replace(two, n_layers=1)}


def _submit(name: str, manager: JobManager) -> None:
    try:
        run_id = manager.submit(demo_specs()[name], None, owner=student_id())
    except TinyLMError as exc:
        st.session_state[DEMO_ERROR_KEY] = exc
        return
    remember_run(run_id)
    st.session_state.setdefault(DEMO_KEY, {})[name] = run_id
    not_recorded = class_session.record_run(run_id)  # a class member's run joins the class's dashboard
    if not_recorded is not None:
        st.session_state[DEMO_ERROR_KEY] = not_recorded


def start_demo(manager: JobManager, page: Page) -> None:
    """The button's callback: a new demo; the 2-layer run now (and shown), the 1-layer run when it ends."""
    st.session_state[DEMO_KEY] = {"2l": None, "1l": None}
    _submit("2l", manager)
    run_id = st.session_state[DEMO_KEY]["2l"]
    if run_id:
        page.set("record", run_id)


def demo_live(manager: JobManager) -> bool:
    """Whether the demo needs watching: a run of it queued or training, or the 1-layer run still to start."""
    ids = st.session_state.get(DEMO_KEY) or {}
    views = demo_runs(manager)
    if any(view is not None and view.active for view in views.values()):
        return True
    return _second_due(views["2l"], ids)


def _second_due(first: RunView | None, ids: dict) -> bool:
    """The 2-layer run ended (finished or stopped, not failed) and the 1-layer run is not started yet."""
    return first is not None and first.status in ("done", "stopped") and not ids.get("1l")


def demo_runs(manager: JobManager) -> dict[str, RunView | None]:
    ids = st.session_state.get(DEMO_KEY) or {}
    return {name: manager.get(ids[name]) if ids.get(name) else None for name in ("2l", "1l")}


def _demo_line(size: str, view: RunView | None) -> None:
    heading = t(f"learned.demo_{size}")
    if view is None:
        st.markdown(f"**{heading}** · {t('learned.demo_waiting')}")
        return
    scores = induction.score_curves(view.history.get("induction", []))
    best = f"{scores.best[-1]:.2f}" if len(scores.steps) else "–"
    line = t("learned.demo_line", status=status_label(view.status), step=f"{view.step:,}", best=best)
    if view.active and view.eta_seconds is not None:
        line += " · " + t("learned.demo_eta", eta=duration(view.eta_seconds))
    st.markdown(f"**{heading}** · {line}")
    if view.active:
        st.progress(view.progress)
    elif view.message and view.message.get("kind") == "error":
        st.error(message_text(view.message))


def demo_panel(manager: JobManager) -> None:
    """The demo's two runs (every REFRESH_SECONDS while one trains); starts the 1-layer run when the
    2-layer one has ended."""
    ids = st.session_state.get(DEMO_KEY) or {}
    views = demo_runs(manager)
    manager.touch([*session_runs()], current_session_id())
    first, second = views["2l"], views["1l"]
    if first is not None and first.model_saved and first.finished and not ids.get("activated"):
        # The 2-layer model (the one with induction heads) becomes the one every page uses, as a run that
        # ends on the Train page does: sections 3-5 of this page then show it.
        ids["activated"] = first.run_id
        set_active_model(f"run:{first.run_id}")
        if _second_due(first, ids) and manager.active_run_of(student_id()) is None:
            _submit("1l", manager)
        st.rerun()
    if _second_due(first, ids) and manager.active_run_of(student_id()) is None:
        _submit("1l", manager)
        views = demo_runs(manager)
    for size in ("2l", "1l"):
        _demo_line(size, views[size])
    if DEMO_ERROR_KEY in st.session_state:
        show_error(st.session_state.pop(DEMO_ERROR_KEY))
    if first is not None and not first.finished and second is None:
        st.caption(t("learned.demo_one_at_a_time"))
    if ids.get("activated") and st.session_state.get(MODEL_KEY) == f"run:{ids['activated']}":
        st.success(t("learned.demo_activated"))
    if demo_live(manager) != st.session_state.get(LIVE_KEY, False):
        st.rerun()  # a run started or ended: the whole page, so every part follows (or stops following)


# ---------------------------------------------------------------------------------------------
# The record shown: a run of this session, or the active model's own checkpoint history
# ---------------------------------------------------------------------------------------------


@dataclass
class Record:
    history: dict[str, list]
    repeat_tokens: list[str] = field(default_factory=list)
    snapshots: list[tuple[int, np.ndarray]] = field(default_factory=list)
    active: bool = False
    revision: int = 0


def adopt_record_from_url(manager: JobManager) -> None:
    """A link ``?record=<run id>`` (this page's own URL): the run joins this session's runs, once."""
    raw = st.query_params.get("record")
    if (
        raw
        and raw != MODEL_RECORD
        and raw not in session_runs()
        and valid_run_id(raw)
        and manager.exists(raw)
    ):
        remember_run(raw)


def record_choices(manager: JobManager) -> dict[str, str]:
    """{choice: label}: this session's trained runs (newest first), then the active model's history."""
    choices = {}
    for run_id in reversed(session_runs()):
        view = manager.get(run_id)
        if view is not None and view.kind == "trained" and view.spec.kind == "train":
            choices[run_id] = view.label
    choices[MODEL_RECORD] = t("learned.record_model")
    return choices


def default_record(choices: dict[str, str], active: ActiveModel) -> str:
    demo = (st.session_state.get(DEMO_KEY) or {}).get("2l")
    if demo in choices:
        return demo
    own = active.key.split(":", 1)[1] if active.key.startswith("run:") else None
    return own if own in choices else next(iter(choices))


def get_record(choice: str, manager: JobManager, active: ActiveModel) -> Record:
    if choice != MODEL_RECORD:
        view = manager.get(choice)
        if view is not None:
            return Record(view.history, view.repeat_tokens, view.repeat_snapshots, view.active, view.revision)
    return Record(active.history or {})


def _curve(rows: list, index: int) -> tuple[list[float], list[float]]:
    good = [row for row in rows if row[index] is not None]
    return [row[0] for row in good], [row[index] for row in good]


def training_figures(record: Record, n_layers: int, n_heads: int) -> dict[str, Any]:
    """The record's curves as figures (and the numbers the page prints under them)."""
    history = record.history
    out: dict[str, Any] = {}
    step_axis = t("learned.step")
    induction_curves = induction.score_curves(history.get("induction", []))
    previous = induction.score_curves(history.get("prev_token", []))
    if len(induction_curves.steps):
        _, layers, heads = induction_curves.scores.shape
        names = head_names(layers, heads)
        threshold = (THRESHOLD, t("learned.threshold", value=THRESHOLD))
        out["induction"] = charts.head_curves(
            induction_curves.steps,
            induction_curves.scores,
            names,
            step_axis,
            t("learned.induction_axis"),
            t("learned.fig_induction"),
            threshold,
        )
        out["crossing"] = induction.first_crossing(induction_curves.steps, induction_curves.best)
        out["best"] = float(induction_curves.best[-1])
        out["curves"] = induction_curves
    if len(previous.steps):
        _, layers, heads = previous.scores.shape
        out["prev_token"] = charts.head_curves(
            previous.steps,
            previous.scores,
            head_names(layers, heads),
            step_axis,
            t("learned.prev_axis"),
            t("learned.fig_prev"),
        )
    train = [row for row in history.get("train", []) if row[2] is not None]
    if train:
        bump = induction.loss_bump([row[0] for row in train], [row[2] for row in train])
        out["bump"] = bump
        series = [(t("learned.train_loss"), *_curve(train, 2), "solid")]
        series.append((t("learned.val_loss"), *_curve(history.get("val", []), 2), "dash"))
        mark = (bump.start_step, bump.step, bump.end_step) if bump else None
        label = t("learned.bump_label", step=f"{bump.step:,.0f}") if bump else ""
        out["loss"] = charts.loss_with_bump(
            series, mark, label, step_axis, t("learned.loss_axis"), t("learned.fig_loss")
        )
    icl = history.get("icl", [])
    if icl:
        xs, ys = _curve(icl, 1)
        out["icl"] = charts.lines(
            [(t("learned.icl"), xs, ys, "solid")], step_axis, t("learned.icl_axis"), t("learned.fig_icl")
        )
        out["icl_values"] = (ys[0], ys[-1]) if ys else None
    return out


@st.cache_resource(max_entries=32, show_spinner=False)
def _cached_figures(
    _record: Record, choice: str, stamp: int, lang: str, presenter_mode: bool, shape: tuple[int, int]
) -> dict[str, Any]:
    return training_figures(_record, *shape)


def _stamp(record: Record) -> int:
    return record.revision if not record.active else -int(time.monotonic() // CHART_SECONDS)


def comparison_figure(manager: JobManager) -> Any | None:
    """Best induction score against steps, the demo's 2-layer and 1-layer runs on one chart."""
    series = []
    for name, view in demo_runs(manager).items():
        if view is None:
            continue
        curves = induction.score_curves(view.history.get("induction", []))
        if len(curves.steps):
            series.append((t(f"learned.demo_{name}"), curves.steps.tolist(), curves.best.tolist(), "solid"))
    if not series:
        return None
    threshold = (THRESHOLD, t("learned.threshold", value=THRESHOLD))
    return charts.lines(
        series, t("learned.step"), t("learned.best_axis"), t("learned.fig_compare"), threshold, (0, 1.02)
    )


def score_rows(curves: induction.ScoreCurves, previous: induction.ScoreCurves) -> list[list[Any]]:
    """CSV rows: step, layer, head, induction, previous-token score."""
    prev = {float(step): previous.scores[e] for e, step in enumerate(previous.steps)}
    rows = []
    for e, step in enumerate(curves.steps):
        for layer in range(curves.scores.shape[1]):
            for head in range(curves.scores.shape[2]):
                p = prev.get(float(step))
                score = round(float(curves.scores[e, layer, head]), 4)
                rows.append(
                    [int(step), layer, head, score, round(float(p[layer, head]), 4) if p is not None else ""]
                )
    return rows


def replay(record: Record, page: Page) -> None:
    """The replay slider over the record's snapshots on the repeated probe: one head's attention, the
    induction stripe appearing."""
    snapshots, tokens = record.snapshots, record.repeat_tokens
    if not snapshots or not tokens or snapshots[-1][1].shape[-1] != len(tokens):
        st.info(t("learned.no_replay"))
        return
    n = len(tokens) // 2
    last = len(snapshots) - 1
    if page.store.get("snap") is not None and page.store.get("snap") == st.session_state.get(FOLLOW_KEY):
        page.set("snap", last)  # the slider was at the end: it stays at the end as snapshots arrive
    st.session_state[FOLLOW_KEY] = last
    weights = snapshots[-1][1]
    layers, heads = weights.shape[0], weights.shape[1]
    final = induction.induction_score(weights.astype(np.float64), n)  # (L, H) on this probe
    best = np.unravel_index(int(np.argmax(final)), final.shape)
    options = [f"{layer}.{head}" for layer in range(layers) for head in range(heads)]
    labels = {option: head_name(*map(int, option.split("."))) for option in options}
    left, right = st.columns([3, 1])
    left.slider(
        t("learned.replay"),
        0,
        max(last, 1),
        disabled=last == 0,
        format="%d",
        help=t("learned.replay_help"),
        **_bounded(page, "snap", last, last),
    )
    right.selectbox(
        t("learned.replay_head"),
        options,
        format_func=labels.__getitem__,
        **page.bind_setting("rhead", f"{best[0]}.{best[1]}", options=options),
    )
    index = min(int(page.get("snap")), last)
    step, chosen = snapshots[index]
    layer, head = map(int, page.get("rhead").split("."))
    matrix = chosen[layer, head].astype(np.float32)
    score = float(induction.induction_score(matrix.astype(np.float64), n))
    previous = float(induction.previous_token_score(matrix.astype(np.float64)))
    columns = st.columns(3)
    columns[0].metric(t("learned.replay_step"), f"{step:,}")
    columns[1].metric(t("learned.induction_now"), f"{score:.2f}")
    columns[2].metric(t("learned.prev_now"), f"{previous:.2f}")
    axis = figures.axis_labels(tokens)
    title = t("learned.fig_stripe", head=head_name(layer, head), step=f"{step:,}")
    figures.show(charts.stripe(matrix, axis, n, title), key="learned.fig.stripe", filename="induction_stripe")
    st.caption(t("learned.stripe_caption", n=n))


def _bounded(page: Page, name: str, default: int, high: int) -> dict[str, Any]:
    return widgets.bounded_setting(page, name, default, high=high, limit=MAX_SNAPSHOTS - 1)


def training_panel(choice: str, page: Page, manager: JobManager, active: ActiveModel) -> None:
    """The record's curves, the demo comparison and the replay (every CHART_SECONDS while it trains)."""
    record = get_record(choice, manager, active)
    config = active.model.config
    name = choice if choice != MODEL_RECORD else active.cache_key
    built = _cached_figures(
        record, name, _stamp(record), current_language(), presenter(), (config.n_layers, config.n_heads)
    )
    if "induction" not in built:
        st.info(t("learned.no_scores"))
    else:
        crossing = built["crossing"]
        columns = st.columns(3)
        columns[0].metric(t("learned.best_now"), f"{built['best']:.2f}")
        columns[1].metric(
            t("learned.crossed_at"), f"{crossing:,.0f}" if crossing is not None else t("learned.not_yet")
        )
        bump = built.get("bump")
        columns[2].metric(t("learned.bump_at"), f"{bump.step:,.0f}" if bump else t("learned.no_bump"))
        left, right = st.columns(2) if not presenter() else (st.container(), st.container())
        with left:
            figures.show(built["induction"], key="learned.fig.induction", filename="induction_scores")
        with right:
            if "prev_token" in built:
                figures.show(built["prev_token"], key="learned.fig.prev", filename="previous_token_scores")
        previous = induction.score_curves(record.history.get("prev_token", []))
        header = [t("learned.step"), t("common.layer"), t("learned.col_head"), t("learned.induction_axis")]
        header.append(t("learned.prev_axis"))
        rows = score_rows(built["curves"], previous)
        figures.download_csv(header, rows, "head_scores.csv", key="learned.csv.scores")
    if "loss" in built:
        figures.show(built["loss"], key="learned.fig.loss", filename="loss_bump")
        st.caption(t("learned.bump_caption") if built.get("bump") else t("learned.no_bump_caption"))
    if "icl" in built:
        figures.show(built["icl"], key="learned.fig.icl", filename="icl_score")
        before, after = built["icl_values"]
        st.caption(t("learned.icl_caption", before=f"{before:+.3f}", after=f"{after:+.3f}"))
    compare = comparison_figure(manager)
    if compare is not None:
        figures.show(compare, key="learned.fig.compare", filename="induction_1l_vs_2l")
    st.subheader(t("learned.replay_title"))
    replay(record, page)
    page.sync_url()


# ---------------------------------------------------------------------------------------------
# The active model now (cached by its cache key)
# ---------------------------------------------------------------------------------------------


@st.cache_data(max_entries=32, show_spinner=False)
def scores_now(cache_key: str) -> dict[str, np.ndarray] | None:
    """Every head's induction, previous-token and copying score, on a fresh probe (None: context < 4)."""
    found = model_by_cache_key(cache_key)
    context = found.model.config.context_len
    probe = induction.probe_for_context(found.tokenizer, context)
    if probe is None:
        return None
    scores = induction.head_scores(found.model, probe)
    return {
        "induction": scores.induction,
        "prev_token": scores.previous_token,
        "copying": induction.copying_scores(found.model),
    }


@st.cache_data(max_entries=64, show_spinner=False)
def lens(cache_key: str, text: str, k: int) -> tuple[Any, Any, list]:
    found = model_by_cache_key(cache_key)
    return logit_lens.explain_logit_lens(found.model, found.tokenizer, text, k)


def ablation_text(active: ActiveModel, fallback: str) -> tuple[str, bool]:
    """Held-out text of the model's built-in corpus (seed 1: not the training text), or ``fallback``
    (the student's prompt). Second: whether it is the corpus."""
    corpus = str(active.meta.get("corpus") or "")
    if corpus in BUILTIN_CORPORA:
        return generate_corpus(corpus, ABLATION_CHARS, seed=1), True
    return fallback, False


@st.cache_data(max_entries=32, show_spinner=False)
def ablate(cache_key: str, text: str, mode: str) -> ablation.HeadAblation:
    found = model_by_cache_key(cache_key)
    return ablation.explain_head_ablation(found.model, found.tokenizer, text, mode, max_tokens=2048)
