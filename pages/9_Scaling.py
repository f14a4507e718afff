"""9 · Scaling: why "large"? Loss against parameters N, tokens D and compute C ≈ 6·N·D on log–log axes,
fitted power laws, which size wins for a compute budget (Chinchilla at toy scale), and what training
costs here and on a GPU, with the published numbers and their sources.

The shipped sweep (models/scaling/sweep.json, made by ``python -m tinylm sweep``; its command is on the
page) is drawn at once; a student's own sweep is a background job (tinylm.sweep.SweepJob) whose sizes
join the figures as they finish, after the student has predicted their loss (ui/scaling_view.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import streamlit as st
import torch

from tinylm import bench, scaling
from tinylm.corpora import generate_corpus
from tinylm.data import BUILTIN_CORPUS_CHARS
from tinylm.errors import TinyLMError
from tinylm.plan import RunSpec
from tinylm.sweep import LADDER, plan_sweep, sweep_spec
from tinylm.sweep_file import analyse, learning_curves, read_sweep_file
from tinylm.tokenizers import CharTokenizer
from ui import figures, runs, scaling_view, widgets
from ui.charts import scaling as charts
from ui.i18n import current_language, t
from ui.layout import or_stop, page_setup, show_error
from ui.runs.session import student_id
from ui.scaling_view import compact, size_name
from ui.state import ROOT
from ui.train_view import duration

# The shipped sweep (another file for a server that made its own: TINYLM_SWEEP_FILE).
SWEEP_FILE = Path(os.environ.get("TINYLM_SWEEP_FILE") or ROOT / "models" / "scaling" / "sweep.json")
CORPUS = "stories-en"  # the shipped sweep's corpus: a student's sweep is comparable with it
TOKEN_CHOICES = (100_000, 200_000, 500_000, 1_000_000, 2_000_000)
FLOP_CHOICES = (1e11, 3e11, 1e12, 3e12)
EXAMPLES = {"gpt3": (175e9, 300e9), "chinchilla": (70e9, 1.4e12), "ladder": (2.05e6, 2e6)}

page = page_setup("scaling")
manager = runs.manager()
scaling_view.adopt_from_url(manager)
lang = current_language()
page.setting("mode", "tokens", options=("tokens", "compute"))
page.setting("sizes", 3, low=2, high=len(LADDER))
page.setting("tokens", 500_000, options=TOKEN_CHOICES)
page.setting("flops", 3e11, options=FLOP_CHOICES)
for index in range(len(LADDER)):
    page.setting(f"pred{index}", 0.0, low=0.0, high=20.0)
page.setting("calc_n", 175e9, low=1.0, high=1e15)
page.setting("calc_d", 300e9, low=1.0, high=1e16)
page.setting("gpu_tflops", scaling.GPU_PEAK_FLOPS / 1e12, low=0.1, high=1e5)
page.setting("mfu", 100 * scaling.GPU_UTILISATION, low=1.0, high=100.0)


@st.cache_data(max_entries=4, show_spinner=False)
def load_shipped(modified: float) -> dict[str, Any]:
    """The shipped sweep, validated, with its fits computed again from its points (what the page shows
    is what the points give, whatever the file says)."""
    document = read_sweep_file(SWEEP_FILE)
    sweeps = document["sweeps"]
    tokens_sweep = next(s for s in sweeps if s["mode"] == "tokens")
    per_token = {p["size"]: p["flops"] / p["tokens"] for s in sweeps for p in s["points"]}
    return {
        "document": document,
        "fits": analyse(sweeps),
        "tokens": tokens_sweep["tokens"],
        "tokens_points": tokens_sweep["points"],
        "curves": learning_curves(tokens_sweep, per_token),
        "compute": [(s["flops"], s["points"]) for s in sweeps if s["mode"] == "compute"],
        "points": [{**p, "sweep": _sweep_label(s)} for s in sweeps for p in s["points"]],
    }


def _sweep_label(sweep: dict[str, Any]) -> str:
    return f"D = {sweep['tokens']:.3g}" if sweep["mode"] == "tokens" else f"C = {sweep['flops']:.3g}"


@st.cache_data(max_entries=4, show_spinner=False)
def corpus_vocab(corpus: str) -> int:
    return CharTokenizer.from_text(generate_corpus(corpus, n_chars=BUILTIN_CORPUS_CHARS, seed=0)).vocab_size


@st.cache_resource(show_spinner=False)
def server_flops() -> float:
    """This server's FLOP/s: the best 512³ fp32 matmul over 0.3 s with one thread (measured once)."""
    return bench.matmul_peak(torch.float32, size=512, seconds=0.3) * 1e9


def planned_spec() -> RunSpec:
    mode = page.get("mode")
    return sweep_spec(CORPUS, mode, page.get("sizes"), tokens=page.get("tokens"), flops=page.get("flops"))


st.title(t("nav.scaling"))
st.markdown(t("scaling.intro"))
st.latex(r"L(N) = E + \frac{A}{N^{\alpha}} \qquad C \approx 6\,N\,D")
st.caption(t("scaling.formula_note"))
shipped = or_stop(page, load_shipped, SWEEP_FILE.stat().st_mtime if SWEEP_FILE.is_file() else 0.0)
shipped = {
    **shipped,
    "size_names": [size_name(row["size"], row["parameters"]) for row in shipped["document"]["ladder"]],
}
document, fits = shipped["document"], shipped["fits"]
vocab = corpus_vocab(CORPUS)

# -- 1 · your sweep: the controls, the plan, the start button --------------------------------------
with page.controls():
    st.subheader(t("scaling.your_title"))
    st.caption(t("scaling.your_caption"))
    modes = {mode: t(f"scaling.mode.{mode}") for mode in ("tokens", "compute")}
    left, middle, right = st.columns(3)
    left.radio(t("scaling.mode"), list(modes), format_func=modes.get, **page.bind("mode"))
    widgets.ranged(page, middle.slider, "sizes", t("scaling.sizes"), 2, len(LADDER), 3)
    if page.get("mode") == "tokens":
        right.select_slider(t("scaling.tokens"), TOKEN_CHOICES, format_func=compact, **page.bind("tokens"))
    else:
        right.select_slider(
            t("scaling.flops"), FLOP_CHOICES, format_func=lambda c: f"{c:.0e}", **page.bind("flops")
        )
spec = planned_spec()
plan, refusal = None, None
try:
    plan = plan_sweep(spec, vocab)
except TinyLMError as exc:
    refusal = exc
if plan is not None:
    header, rows = scaling_view.plan_table(plan)
    widgets.table(header, rows, "scaling-plan.csv", "scaling.plan_csv")
    st.caption(t("scaling.estimate", time=duration(plan.seconds)))
elif refusal is not None:
    show_error(refusal)
busy = manager.active_run_of(student_id()) is not None
st.button(
    t("scaling.start"),
    type="primary",
    disabled=plan is None or busy,
    key="scaling.start",
    icon=":material/play_arrow:",
    on_click=scaling_view.start_sweep,
    args=(spec, page, manager),
)
scaling_view.start_errors()
if busy:
    st.caption(t("train.one_at_a_time"))

# -- 2 · the figures: shipped sweep + live sweep, predictions and reveals ---------------------------
st.subheader(t("scaling.figures_title"))
machine = document.get("machine", {})
st.caption(
    t(
        "scaling.shipped_caption",
        date=document.get("date", "?"),
        cpu=machine.get("cpu", "?"),
        wall=duration(document.get("wall_seconds")),
        cpu_time=duration(document.get("cpu_seconds")),
        load=", ".join(str(x) for x in machine.get("load_average", [])),
    )
)
st.code(document["command"], language="bash", wrap_lines=True)
scaling_view.live_sections(page, manager, shipped, plan, vocab)
view = scaling_view.shown_sweep(manager)
header, rows = scaling_view.points_table(shipped["points"], view.points if view is not None else [])
with st.expander(t("scaling.points_title"), expanded=False):
    widgets.table(header, rows, "scaling-points.csv", "scaling.points_csv")

# -- 3 · the fitted exponents against the published ones ------------------------------------------
st.subheader(t("scaling.exponents_title"))
header, rows = scaling_view.exponent_table(fits)
widgets.table(header, rows, "scaling-exponents.csv", "scaling.exponents_csv")
floor = (fits.get("loss_vs_parameters") or {}).get("floor") or {}
st.markdown(
    t("scaling.exponents_note", E=f"{floor.get('E', float('nan')):.2f}", tokens=compact(shipped["tokens"]))
)

# -- 4 · the compute-optimal trade-off ------------------------------------------------------------
st.subheader(t("scaling.optimal_title"))
st.markdown(t("scaling.optimal_intro"))
iso = fits.get("iso_flop", [])
if shipped["compute"]:
    budgets = [f"C = {flops:.0e}" for flops, _ in shipped["compute"]]
    figure = charts.iso_flop(
        shipped["compute"],
        [scaling.chinchilla_parameters(flops) for flops, _ in shipped["compute"]],
        budgets,
        {"winner": t("scaling.winner"), "rule": t("scaling.rule_of_thumb")},
        (t("scaling.axis_n"), t("scaling.loss_axis")),
        t("scaling.chart_optimal"),
    )
    figures.show(figure, key="scaling.chart_optimal", filename="scaling-compute-optimal")
    header, rows = scaling_view.optimal_table(iso)
    widgets.table(header, rows, "scaling-compute-optimal.csv", "scaling.optimal_csv")
    n_opt, d_opt = scaling.chinchilla_surface().optimal(scaling.PUBLISHED["chinchilla"]["flops"])
    surface = fits.get("loss_surface") or {}
    st.markdown(
        t(
            "scaling.optimal_note",
            ratios=scaling_view.optimal_ratios(iso),
            batch_tokens=f"{document['settings']['batch_size'] * document['settings']['context_len']:,}",
            points=surface.get("n", "–"),
            error=f"{surface.get('rel_rmse', float('nan')):.0%}",
            exponent=f"{surface.get('N_opt_exponent', float('nan')):.2f}",
            n_opt=compact(n_opt),
            d_opt=compact(d_opt),
            ratio=f"{d_opt / n_opt:.0f}",
        )
    )

# -- 5 · compute and cost -------------------------------------------------------------------------
st.subheader(t("scaling.cost_title"))
st.markdown(t("scaling.flops_intro"))
st.latex(r"C_{\text{train}} \approx 6\,N + 12\,L\,T\,d \qquad C_{\text{generate}} \approx 2\,N + 4\,L\,t\,d")
st.caption(t("scaling.flops_formula_note"))
header, rows = scaling_view.flops_table(spec, vocab)
widgets.table(header, rows, "scaling-flops.csv", "scaling.flops_csv")
here = server_flops()
largest = max(shipped["tokens_points"], key=lambda p: p["parameters"])
achieved = largest["flops"] / max(largest["seconds"], 1e-9)
cols = st.columns(2)
cols[0].metric(t("scaling.server_peak"), f"{here / 1e9:.1f} GFLOP/s", help=t("scaling.server_peak_help"))
cols[1].metric(t("scaling.achieved"), f"{achieved / 1e9:.1f} GFLOP/s", help=t("scaling.achieved_help"))

st.markdown(f"**{t('scaling.calculator_title')}**")
examples = {name: t(f"scaling.example.{name}") for name in EXAMPLES}


def use_example(name: str) -> None:
    page.set("calc_n", EXAMPLES[name][0])
    page.set("calc_d", EXAMPLES[name][1])


row = st.container(horizontal=True)
for name, label in examples.items():
    row.button(label, key=f"scaling.example.{name}", on_click=use_example, args=(name,))
left, right, gpu, mfu = st.columns(4)
left.number_input(t("scaling.calc_n"), min_value=1.0, max_value=1e15, format="%.4g", **page.bind("calc_n"))
right.number_input(t("scaling.calc_d"), min_value=1.0, max_value=1e16, format="%.4g", **page.bind("calc_d"))
gpu.number_input(
    t("scaling.gpu_tflops"), min_value=0.1, max_value=1e5, format="%.4g", **page.bind("gpu_tflops")
)
mfu.number_input(t("scaling.mfu"), min_value=1.0, max_value=100.0, format="%.0f", **page.bind("mfu"))
cost = scaling.training_cost(
    page.get("calc_n"), page.get("calc_d"), here, page.get("gpu_tflops") * 1e12, page.get("mfu") / 100
)
cols = st.columns(3)
cols[0].metric(t("scaling.calc_flops"), f"{cost.flops:.3g}")
cols[1].metric(t("scaling.calc_here"), scaling_view.long_duration(cost.seconds_here))
cols[2].metric(t("scaling.calc_gpu"), scaling_view.long_duration(cost.seconds_gpu))
st.caption(t("scaling.calc_note", pf_days=f"{cost.flops / scaling.PF_DAY:,.3g}"))
header, rows = scaling_view.published_table()
widgets.table(header, rows, "scaling-published.csv", "scaling.published_csv")

# -- 6 · sources ----------------------------------------------------------------------------------
st.subheader(t("scaling.sources_title"))
st.caption(t("scaling.sources_caption"))
for source in scaling.SOURCES.values():
    st.markdown(f"- **{source.key}** · {source.citation} · <{source.url}>")
with st.expander(t("common.explanation"), expanded=False):
    st.markdown(t("scaling.explanation"))

page.sync_url(extra=scaling_view.url_extra())
