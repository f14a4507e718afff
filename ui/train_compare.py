"""The Train page's comparison of the session's runs: their validation loss in one chart (by step or
by time), a table of their settings and results (with its CSV), and a selector to show another run in
the live view (ui/train_view.py)."""

from __future__ import annotations

import math
import statistics
from typing import Any

import streamlit as st

from tinylm.corpora import BUILTIN_CORPORA
from ui import figures
from ui.charts import train as train_charts
from ui.i18n import t
from ui.layout import Page
from ui.runs import RunView
from ui.train_view import CURRENT_KEY, MAX_URL_RUNS, corpus_title, status_label


def comparison_rows(views: list[RunView]) -> tuple[list[str], list[list[Any]]]:
    header = [
        t("train.col.run"),
        t("train.col.status"),
        t("train.corpus"),
        t("train.tokenizer"),
        t("train.n_layers"),
        t("train.n_heads"),
        t("train.d_model"),
        t("train.context_len"),
        t("train.pos_encoding"),
        t("train.dropout"),
        t("train.batch_size"),
        t("train.learning_rate"),
        t("train.optimizer"),
        t("train.parameters"),
        t("train.step"),
        t("train.col.seconds"),
        t("train.col.final_val"),
        t("train.col.best_val"),
        t("train.accuracy"),
        t("train.tokens_per_sec"),
    ]
    rows = []
    for view in views:
        spec_ = view.spec
        val = [v for _, _, v in view.history["val"] if math.isfinite(v)]
        speeds = [s for _, s in view.history["tokens_per_sec"]]
        rows.append(
            [
                view.label,
                status_label(view.status),
                corpus_title(spec_.corpus) if spec_.corpus in BUILTIN_CORPORA else spec_.text_name,
                spec_.tokenizer,
                spec_.n_layers,
                spec_.n_heads,
                spec_.d_model,
                spec_.context_len,
                t(f"pos.{spec_.pos_encoding}"),
                spec_.dropout,
                spec_.batch_size,
                spec_.learning_rate,
                t(f"train.optimizer.{spec_.optimizer}"),
                view.parameters,
                view.step,
                round(view.elapsed, 1),
                round(val[-1], 4) if val else None,
                round(min(val), 4) if val else None,
                view.history["accuracy"][-1][1] if view.history["accuracy"] else None,
                round(statistics.median(speeds)) if speeds else None,
            ]
        )
    return header, rows


def compare_runs(views: list[RunView], current_id: str | None, page: Page) -> None:
    """The session's runs side by side: their validation loss in one chart (by step or time), a table of
    their settings and results (with its CSV), and a selector to show another run in the live view."""
    st.divider()
    st.subheader(t("train.compare_title"))
    st.caption(t("train.compare_caption"))
    by_id = {view.run_id: view for view in views}
    finished_ids = [view.run_id for view in views if view.history["val"]]
    # Each run joins the chart once it has a validation loss; the student may then take it out again.
    selection = st.session_state.setdefault("_train_compare", [])
    offered = st.session_state.setdefault("_train_compare_offered", [])
    for run_id in finished_ids:
        if run_id not in offered:
            offered.append(run_id)
            selection.append(run_id)
    selection[:] = [r for r in selection if r in by_id][-MAX_URL_RUNS:]
    st.session_state["train.compare_select"] = list(selection)
    chosen_ids = st.multiselect(
        t("train.compare_select"),
        list(by_id),
        format_func=lambda run_id: by_id[run_id].label,
        key="train.compare_select",
        on_change=lambda: st.session_state.__setitem__(
            "_train_compare", st.session_state["train.compare_select"]
        ),
    )
    st.radio(
        t("train.compare_x"),
        ("step", "time"),
        format_func=lambda x: t(f"train.compare_x.{x}"),
        horizontal=True,
        **page.bind("compare_x"),
    )
    by_time = page.get("compare_x") == "time"
    series = []
    for run_id in chosen_ids:
        rows = train_charts.thin(by_id[run_id].history["val"])
        series.append(
            (by_id[run_id].label, [r[1] if by_time else r[0] for r in rows], [r[2] for r in rows], "solid")
        )
    if series:
        compare = train_charts.line_figure(
            series,
            t("train.compare_x." + page.get("compare_x")),
            t("train.val_loss"),
            height=380,
            log_y=page.get("log_y"),
        )
        figures.show(compare, key="train.compare_chart", filename="tinylm-compare-runs")
    header, rows = comparison_rows(views)
    st.dataframe([dict(zip(header, row, strict=True)) for row in rows], hide_index=True)
    figures.download_csv(header, rows, filename="tinylm-runs.csv", key="train.runs_csv")
    if len(views) > 1:

        def open_run() -> None:
            st.session_state[CURRENT_KEY] = st.session_state["train.open_run"]

        st.session_state["train.open_run"] = current_id if current_id in by_id else views[-1].run_id
        st.selectbox(
            t("train.open_run"),
            list(by_id),
            format_func=lambda run_id: by_id[run_id].label,
            key="train.open_run",
            on_change=open_run,
        )
