"""The Scaling page's live sweep: starting it, its status (a fragment every REFRESH_SECONDS while it
trains), the student's predictions and their reveal, and the three log–log figures with the shipped
sweep underneath and the live sweep's sizes on top (a fragment every CHART_SECONDS while it trains).

A sweep is a run of the job layer (kind "sweep", tinylm.sweep.SweepJob): ``manager.submit`` queues it,
the session remembers it (so the sidebar's heartbeat keeps it alive on other pages too), and the
fragments only read ``manager.get(run_id)``. Other runs join the figures as grey points through
``tinylm.sweep.points_from_runs`` (a list of RunViews → points): today the session's own Train-page runs;
a class's finished runs (classroom mode) go into the same list. Importing this module only defines things.
"""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from tinylm.config import count_parameters
from tinylm.errors import TinyLMError
from tinylm.plan import LIBRARY_LIMITS, RunSpec
from tinylm.scaling import (
    PUBLISHED,
    PowerLawFit,
    attention_flops_per_token,
    generate_flops_per_token,
    matmul_parameters,
    published_checks,
    train_flops_per_token,
)
from tinylm.sweep import (
    LADDER,
    SweepPlan,
    plan_sweep,
    points_from_runs,
    rung_config,
    sweep_curves,
    sweep_progress,
)
from ui import figures
from ui.charts import scaling as charts
from ui.i18n import t
from ui.layout import Page, presenter, show_error
from ui.runs import JobManager, RunView, valid_run_id
from ui.runs.session import (
    current_session_id,
    live_timers,
    remember_run,
    session_runs,
    student_id,
    timers_changed,
)
from ui.state import MODEL_KEY, set_active_model
from ui.train_view import duration, message_text, status_label

REFRESH_SECONDS = 1.0
CHART_SECONDS = 3.0
CURRENT_KEY = "_scaling_current"  # the sweep this page shows
PRED_RUN_KEY = "_scaling_pred_run"  # the sweep the predictions were made for (None: not started yet)
START_ERROR_KEY = "_scaling_start_error"
WATCHED_KEY = "_scaling_watched"  # sweeps this session saw training (a whole-page rerun when one ends)


def size_name(index: int, parameters: int) -> str:
    return t("scaling.size_name", k=index + 1, n=compact(parameters))


def compact(value: float) -> str:
    """12 k, 2.1 M, 3.1e+23: numbers a student reads at a glance."""
    if value >= 1e13:
        return f"{value:.2e}"
    for limit, suffix in ((1e12, " T"), (1e9, " B"), (1e6, " M"), (1e3, " k")):
        if value >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def start_sweep(spec: RunSpec, page: Page, manager: JobManager) -> None:
    """The Start button's callback: queue the sweep, remember it, and give the predictions to it."""
    try:
        run_id = manager.submit(spec, None, owner=student_id())
    except TinyLMError as exc:
        st.session_state[START_ERROR_KEY] = exc
        return
    remember_run(run_id)
    st.session_state[CURRENT_KEY] = run_id
    if st.session_state.get(PRED_RUN_KEY) is not None:  # they were made for the sweep before this one
        for index in range(len(LADDER)):
            page.set(f"pred{index}", 0.0)
    st.session_state[PRED_RUN_KEY] = run_id


def start_errors() -> None:
    if START_ERROR_KEY in st.session_state:
        show_error(st.session_state.pop(START_ERROR_KEY))


def shown_sweep(manager: JobManager) -> RunView | None:
    run_id = st.session_state.get(CURRENT_KEY)
    view = manager.get(run_id) if run_id else None
    if run_id and view is None:
        st.session_state[CURRENT_KEY] = None
    return view


def view_plan(view: RunView, fallback_vocab: int) -> SweepPlan | None:
    """The plan of a sweep being shown (its vocabulary once it is prepared)."""
    try:
        return plan_sweep(view.spec, int(view.data.get("vocab", fallback_vocab)), limits=LIBRARY_LIMITS)
    except TinyLMError:
        return None


# ---------------------------------------------------------------------------------------------
# Status (every REFRESH_SECONDS while it trains)
# ---------------------------------------------------------------------------------------------


def _buttons(view: RunView, manager: JobManager) -> None:
    run_id, student = view.run_id, student_id()
    row = st.container(horizontal=True)
    if manager.can_control(run_id, student):
        if view.status in ("preparing", "running"):
            row.button(t("train.pause"), key="scaling.pause", on_click=manager.pause, args=(run_id, student))
        elif view.status == "paused":
            row.button(
                t("train.resume"), key="scaling.resume", on_click=manager.resume, args=(run_id, student)
            )
        if view.active:
            row.button(
                t("train.stop"),
                key="scaling.stop",
                on_click=manager.stop,
                args=(run_id, student),
                disabled=view.stop_requested,
            )
    elif view.active:
        st.caption(t("train.not_yours"))
    if view.model_saved:
        in_use = st.session_state.get(MODEL_KEY) == f"run:{run_id}"
        row.button(
            t("scaling.use_best") if not in_use else t("train.model_in_use"),
            key="scaling.use_model",
            disabled=in_use,
            on_click=set_active_model,
            args=(f"run:{run_id}",),
        )


def live_status(run_id: str, manager: JobManager, vocab: int) -> None:
    view = manager.get(run_id)
    if view is None:
        st.warning(t("train.run_not_found"))
        return
    manager.touch([run_id, *session_runs()], current_session_id())
    if timers_changed("scaling", view):  # it moved up the queue or started: the page sets new timers
        st.rerun()
    st.markdown(f"**{t('scaling.your_sweep')}:** {status_label(view.status)}")
    if view.status == "queued":
        st.info(t("train.queued", position=view.queue_position or 1))
    elif view.status == "preparing":
        st.info(t("scaling.preparing"))
    note = message_text(view.message)
    if note:
        (st.error if view.status in ("failed", "error") else st.success)(note)
    plan = view_plan(view, vocab)
    if plan is not None and view.status not in ("queued", "preparing"):
        finished = len(view.points)
        first = sum(point.get("steps", 0) for point in view.points)
        fraction = 1.0 if view.status == "done" else sweep_progress(plan, finished, view.step - first)
        current = min(finished, len(plan.sizes) - 1)
        if view.active:
            name = size_name(current, plan.sizes[current].parameters)
            text = t(
                "scaling.progress",
                done=finished,
                total=len(plan.sizes),
                size=name,
                elapsed=duration(view.elapsed),
            )
        else:
            text = t(
                "scaling.progress_ended", done=finished, total=len(plan.sizes), elapsed=duration(view.elapsed)
            )
        st.progress(fraction, text=text)
    _buttons(view, manager)
    watched = st.session_state.setdefault(WATCHED_KEY, [])
    if view.active and run_id not in watched:
        watched.append(run_id)
    elif view.finished and run_id in watched:  # it ended while this session watched it: the page outside
        watched.remove(run_id)  # this fragment (the start button, the tables) changes too
        st.rerun()


# ---------------------------------------------------------------------------------------------
# Predictions, reveals and the three figures (every CHART_SECONDS while it trains)
# ---------------------------------------------------------------------------------------------


def predictions(page: Page, plan: SweepPlan | None, view: RunView | None) -> tuple[list[dict], list[dict]]:
    """One row per size of the sweep: its N, the student's prediction (until the size finishes), and,
    once it has, the loss it reached. Returns (predicted points, revealed points)."""
    if plan is None:
        return [], []
    st.markdown(f"**{t('scaling.predict_title')}**")
    st.caption(t("scaling.predict_caption"))
    done = {p["size"]: p for p in (view.points if view is not None else []) if "val_loss" in p}
    predicted, revealed = [], []
    columns = st.columns(len(plan.sizes))
    for size, column in zip(plan.sizes, columns, strict=True):
        name = f"pred{size.index}"
        guess = float(page.get(name))
        with column:
            st.session_state[f"scaling.{name}"] = guess
            st.number_input(
                size_name(size.index, size.parameters),
                min_value=0.0,
                max_value=20.0,
                step=0.05,
                format="%.2f",
                disabled=size.index in done,
                help=t("scaling.predict_help"),
                **page.bind(name),
            )
            if size.index in done:
                actual = done[size.index]["val_loss"]
                revealed.append(done[size.index])
                if guess > 0:
                    st.metric(
                        t("scaling.reached"),
                        f"{actual:.3f}",
                        delta=f"{guess - actual:+.3f}",
                        delta_color="off",
                    )
                    st.caption(
                        t("scaling.you_said", guess=f"{guess:.2f}", off=f"{abs(guess - actual) / actual:.0%}")
                    )
                else:
                    st.metric(t("scaling.reached"), f"{actual:.3f}")
            else:
                st.caption(t("scaling.hidden"))
        if guess > 0:
            predicted.append({"parameters": size.parameters, "val_loss": guess, "size": size.index})
    return predicted, revealed


def figures_panel(
    page: Page,
    run_id: str | None,
    manager: JobManager,
    shipped: dict[str, Any],
    planned: SweepPlan | None,
    vocab: int,
) -> None:
    """Predictions, then L(N), L(D), L(C): the shipped sweep with its fits, and the live sweep on top."""
    view = manager.get(run_id) if run_id else None
    plan = view_plan(view, vocab) if view is not None else planned
    predicted, revealed = predictions(page, plan, view)
    live_rows = (
        sweep_curves(view.spec, int(view.data.get("vocab", vocab)), view.history["val"], view.points)
        if view is not None
        else []
    )
    own = [v for v in (manager.get(r) for r in session_runs()) if v is not None and v.run_id != run_id]
    others = [p for p in points_from_runs(own, corpus="stories-en") if "size" not in p]
    fits, size_names = shipped["fits"], shipped["size_names"]
    names = {
        "shipped": t("scaling.shipped_points"),
        "fit": t("scaling.fit_line"),
        "band": t("scaling.band"),
        "live": t("scaling.live_points"),
        "predicted": t("scaling.predicted_points"),
        "others": t("scaling.other_runs"),
        "frontier": t("scaling.frontier"),
    }
    loss = t("scaling.loss_axis")
    fit_n = _fit(fits.get("loss_vs_parameters"))
    figure = charts.loss_vs_parameters(
        shipped["tokens_points"],
        fit_n,
        revealed,
        predicted,
        others,
        names,
        (t("scaling.axis_n"), loss),
        t("scaling.chart_n", tokens=compact(shipped["tokens"])),
    )
    figures.show(figure, key="scaling.chart_n", filename="scaling-loss-vs-parameters")
    slide = (
        shipped["tokens_points"],
        fit_n,
        revealed,
        names,
        (t("scaling.axis_n"), loss),
        t("scaling.chart_n_slide"),
    )
    row = st.container(horizontal=True)
    for image_format, label in (("png", t("common.download_png")), ("svg", t("scaling.download_svg"))):
        row.download_button(
            label,
            lambda image_format=image_format: charts.loss_vs_parameters_slide(
                *slide, image_format=image_format
            ),
            file_name=f"scaling-loss-vs-parameters.{image_format}",
            mime="image/png" if image_format == "png" else "image/svg+xml",
            key=f"scaling.slide_{image_format}",
            on_click="ignore",
        )
    left, right = st.columns(2) if not presenter() else (st.container(), st.container())
    for column, (index, key, axis, name) in zip(
        (left, right),
        (
            (1, "loss_vs_tokens", "scaling.axis_d", "tokens"),
            (2, "loss_vs_compute", "scaling.axis_c", "compute"),
        ),
        strict=True,
    ):
        fit = fits.get(key) or {}
        with column:
            figure = charts.learning_curves(
                shipped["curves"],
                index,
                size_names,
                _fit(fit, "pure"),
                fit.get("frontier", []),
                live_rows,
                {**names, "fit": t("scaling.pure_fit_line")},
                (t(axis), loss),
                t(f"scaling.chart_{name}"),
                others,
            )
            figures.show(figure, key=f"scaling.chart_{name}", filename=f"scaling-loss-vs-{name}")
    page.sync_url(extra=url_extra())


def _fit(entry: dict[str, Any] | None, kind: str = "floor") -> PowerLawFit | None:
    if not entry or not entry.get(kind):
        return None
    return PowerLawFit.from_dict(entry[kind])


def live_sections(
    page: Page, manager: JobManager, shipped: dict[str, Any], planned: SweepPlan | None, vocab: int
) -> None:
    """The shown sweep's status (if there is one), then the predictions and figures: each a fragment that
    re-draws itself on a timer only while the sweep trains."""
    view = shown_sweep(manager)
    status_every, charts_every = live_timers("scaling", view, REFRESH_SECONDS, CHART_SECONDS)
    if view is not None:
        st.fragment(live_status, run_every=status_every)(view.run_id, manager, vocab)
    st.fragment(figures_panel, run_every=charts_every)(
        page, view.run_id if view is not None else None, manager, shipped, planned, vocab
    )


def points_table(shipped_points: list[dict], live_points: list[dict]) -> tuple[list[str], list[list[Any]]]:
    header = [
        t("scaling.col.sweep"),
        t("scaling.col.size"),
        t("scaling.col.parameters"),
        t("scaling.col.tokens"),
        t("scaling.col.flops"),
        t("scaling.col.tokens_per_parameter"),
        t("scaling.col.loss"),
        t("scaling.col.seconds"),
    ]
    rows = []
    for source, points in (("shipped", shipped_points), ("live", live_points)):
        for p in points:
            if not isinstance(p.get("val_loss"), float) or not math.isfinite(p["val_loss"]):
                continue
            rows.append(
                [
                    p.get("sweep", t(f"scaling.source.{source}")),
                    p["size"] + 1,
                    p["parameters"],
                    p["tokens"],
                    f"{p['flops']:.3g}",
                    round(p["tokens"] / p["parameters"], 1),
                    round(p["val_loss"], 4),
                    round(p.get("seconds", 0.0), 1),
                ]
            )
    return header, rows


def long_duration(seconds: float) -> str:
    """Seconds as the largest unit that reads well: s, min, h, days or years."""
    if not math.isfinite(seconds):
        return "∞"
    for limit, key in ((365.25 * 86400, "scaling.years"), (86400, "scaling.days"), (3600, "scaling.hours")):
        if seconds >= limit:
            return t(key, n=f"{seconds / limit:,.3g}")
    return duration(seconds)


def adopt_from_url(manager: JobManager) -> None:
    """A link or a refresh: ``?sweep=<run id>`` shows that sweep (once per value)."""
    raw = st.query_params.get("sweep")
    if raw and st.session_state.get("_scaling_url_seen") != raw:
        st.session_state["_scaling_url_seen"] = raw
        if valid_run_id(raw) and manager.exists(raw):
            remember_run(raw)
            st.session_state[CURRENT_KEY] = raw


def url_extra() -> dict[str, Any]:
    current = st.session_state.get(CURRENT_KEY)
    st.session_state["_scaling_url_seen"] = current
    return {"sweep": current}


# ---------------------------------------------------------------------------------------------
# The page's tables (translated headers, rounded numbers)
# ---------------------------------------------------------------------------------------------


def _fitted(fits: dict[str, Any], key: str, kind: str) -> str:
    entry = (fits.get(key) or {}).get(kind) or {}
    value, error = entry.get("alpha"), entry.get("alpha_se")
    if value is None:
        return "–"
    return f"{value:.3f} ± {error:.3f}" if error is not None else f"{value:.3f}"


def exponent_table(fits: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Our fitted exponents beside the published ones, with the source of each."""
    kaplan, chinchilla = PUBLISHED["kaplan"], PUBLISHED["chinchilla"]
    surface = fits.get("loss_surface") or {}

    def plain(name: str, digits: int = 3) -> str:
        value = surface.get(name)
        return f"{value:.{digits}f}" if isinstance(value, float) else "–"

    fitted = [  # (what, fit, form, the published value, its source)
        ("alpha_n_floor", "loss_vs_parameters", "floor", chinchilla["alpha"], "hoffmann2022"),
        ("alpha_n_pure", "loss_vs_parameters", "pure", kaplan["alpha_N"], "kaplan2020"),
        ("alpha_d_pure", "loss_vs_tokens", "pure", kaplan["alpha_D"], "kaplan2020"),
        ("alpha_c_pure", "loss_vs_compute", "pure", kaplan["alpha_C"], "kaplan2020"),
    ]

    def error(entry: dict[str, Any] | None) -> str:
        value = (entry or {}).get("rel_rmse")
        return f"{value:.1%}" if isinstance(value, float) else "–"

    rows = [
        [
            t(f"scaling.exp.{what}"),
            _fitted(fits, key, form),
            error((fits.get(key) or {}).get(form)),
            str(published),
            source,
        ]
        for what, key, form, published, source in fitted
    ]
    rows += [
        [
            t("scaling.exp.surface_alpha"),
            plain("alpha"),
            error(surface),
            str(chinchilla["alpha"]),
            "hoffmann2022",
        ],
        [
            t("scaling.exp.surface_beta"),
            plain("beta"),
            error(surface),
            str(chinchilla["beta"]),
            "hoffmann2022",
        ],
        [
            t("scaling.exp.n_opt"),
            plain("N_opt_exponent", 2),
            error(surface),
            f"{chinchilla['N_opt_exponent']} / {kaplan['N_opt_exponent']}",
            "hoffmann2022 / kaplan2020",
        ],
    ]
    header = [
        t("scaling.col.quantity"),
        t("scaling.col.ours"),
        t("scaling.col.fit_error"),
        t("scaling.col.published"),
        t("scaling.col.source"),
    ]
    return header, rows


def optimal_table(iso: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Per compute budget: the size that won, the parabola's least-loss size, Chinchilla's 20-to-1 size."""
    rows = []
    for row in iso:
        winner, parabola = row["winner"], row.get("parabola")
        rows.append(
            [
                f"{row['flops']:.0e}",
                size_name(winner["size"], winner["parameters"]),
                round(row["winner_tokens_per_parameter"], 1),
                compact(parabola["parameters"]) if parabola else "–",
                round(row["parabola_tokens_per_parameter"], 1) if parabola else "–",
                compact(row["chinchilla_parameters"]),
            ]
        )
    header = [
        t("scaling.col.budget"),
        t("scaling.col.winner"),
        t("scaling.col.winner_ratio"),
        t("scaling.col.parabola"),
        t("scaling.col.parabola_ratio"),
        t("scaling.col.chinchilla_n"),
    ]
    return header, rows


def optimal_ratios(iso: list[dict[str, Any]]) -> str:
    """Tokens per parameter where each budget's loss is least: "≈ 40" at the parabola's minimum, or
    "≥ 281" when the smallest size won (the best may be smaller still), "≤ 3" when the largest did."""
    parts = []
    for row in iso:
        if row.get("parabola_tokens_per_parameter"):
            parts.append(f"≈ {row['parabola_tokens_per_parameter']:.0f}")
        elif row["winner"]["size"] == 0:
            parts.append(f"≥ {row['winner_tokens_per_parameter']:.0f}")
        elif row["winner"]["size"] == len(LADDER) - 1:
            parts.append(f"≤ {row['winner_tokens_per_parameter']:.0f}")
        else:
            parts.append(f"≈ {row['winner_tokens_per_parameter']:.0f}")
    return ", ".join(parts) or "–"


def flops_table(spec: RunSpec, vocab: int) -> tuple[list[str], list[list[Any]]]:
    """FLOPs per token of every rung: training (and attention's share of it), generating."""
    rows = []
    for index, rung in enumerate(LADDER):
        config = rung_config(spec, rung, vocab)
        train = train_flops_per_token(config)
        rows.append(
            [
                size_name(index, count_parameters(config)),
                f"{rung.n_layers} × {rung.d_model}",
                matmul_parameters(config),
                f"{train:.3g}",
                f"{3 * attention_flops_per_token(config) / train:.0%}",
                f"{generate_flops_per_token(config):.3g}",
            ]
        )
    header = [
        t("scaling.col.size"),
        t("scaling.col.shape"),
        t("scaling.col.matmul"),
        t("scaling.col.train_flops"),
        t("scaling.col.attention_share"),
        t("scaling.col.generate_flops"),
    ]
    return header, rows


def published_table() -> tuple[list[str], list[list[Any]]]:
    """GPT-3's and Chinchilla's compute: published, and our 6·N·D."""
    rows = [
        [
            t(f"scaling.model.{row['model']}"),
            compact(row["parameters"]),
            compact(row["tokens"]),
            f"{row['published_flops']:.3g}",
            f"{row['six_nd']:.3g}",
            f"{row['ratio']:.3f}",
            row["source"],
        ]
        for row in published_checks()
    ]
    header = [
        t("scaling.col.model"),
        t("scaling.col.parameters"),
        t("scaling.col.tokens"),
        t("scaling.col.published_flops"),
        t("scaling.col.six_nd"),
        t("scaling.col.ratio"),
        t("scaling.col.source"),
    ]
    return header, rows


def plan_table(plan: SweepPlan) -> tuple[list[str], list[list[Any]]]:
    rows = [
        [
            size_name(s.index, s.parameters),
            s.steps,
            s.tokens,
            f"{s.flops:.3g}",
            round(s.tokens / s.parameters, 1),
        ]
        for s in plan.sizes
    ]
    header = [
        t("scaling.col.size"),
        t("scaling.col.steps"),
        t("scaling.col.tokens"),
        t("scaling.col.flops"),
        t("scaling.col.tokens_per_parameter"),
    ]
    return header, rows
