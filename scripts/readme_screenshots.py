"""Regenerate the README screenshots in docs/: the Train page mid-run, the attention explorer and the
Generate page's step mode, in Chinese and English (docs/<page>-<lang>.png, 1400 px wide).

    python scripts/readme_screenshots.py [--out docs] [--seconds 25]

Starts `streamlit run app.py` on a free loopback port with a temporary runs directory (the screenshots'
training runs are thrown away), drives Debian's /usr/bin/chromium through Playwright in presenter mode
(the app's projector view: large type, controls folded away) and saves each view as a palette PNG
(small files; the app's flat colours survive 256 colours well). `make screenshots` runs this.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the app server and browser settings are the tests' own
from tests.e2e.appserver import free_port, start_app, stop_app, wait_healthy  # noqa: E402
from tests.e2e.driver import CHROMIUM, CHROMIUM_ARGS, IDLE  # noqa: E402

WIDTH, HEIGHT = 1400, 1050
LANGS = ("zh", "en")
# Generate's step mode at a step where the demo model hesitates between a few tokens (0-based step, seed).
GENERATE_STEP = {"zh": (0, 1), "en": (7, 0)}
MAX_BYTES = 400_000
TIMEOUT = 120_000


def start_server(port: int, runs_dir: str) -> subprocess.Popen:
    env = {**os.environ, "TINYLM_RUNS_DIR": runs_dir, "TINYLM_MAX_JOBS": str(len(LANGS))}
    server = start_app(port, env)
    try:
        wait_healthy(server, port, timeout=90)
    except RuntimeError as exc:
        stop_app(server)
        raise SystemExit(str(exc)) from None
    return server


def wait_idle(page) -> None:
    """Wait for the script to finish (and stay finished for a moment: a rerun may follow at once)."""
    page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=TIMEOUT)
    for _ in range(2):
        page.wait_for_selector(IDLE, timeout=TIMEOUT)
        page.wait_for_timeout(400)


def wait_charts(page) -> None:
    """Every plotly chart in view drawn (Streamlit mounts them once they scroll into view)."""
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'))
            .filter(chart => { const box = chart.getBoundingClientRect();
                               return box.bottom > 0 && box.top < window.innerHeight; })
            .every(chart => chart.querySelector('.js-plotly-plot .main-svg'))""",
        timeout=TIMEOUT,
        polling=200,
    )
    page.wait_for_timeout(800)  # plotly's transitions


def scroll_to(page, text: str, below: int = 0) -> None:
    """Scroll the main area so that the heading with this text is at the top of the window (or ``below``
    pixels under it)."""
    headings = page.locator('[data-testid="stMain"] :is(h1, h2, h3)')
    heading = headings.filter(has=page.get_by_text(text, exact=True)).first
    heading.wait_for(timeout=TIMEOUT)
    heading.evaluate("element => element.scrollIntoView({block: 'start'})")
    if below:
        page.evaluate(f"() => document.querySelector('[data-testid=\"stMain\"]').scrollBy(0, {below})")
    page.wait_for_timeout(300)


def save(page, path: Path) -> None:
    """The window as a 256-colour PNG (a plain screenshot of a page with charts is 3-5 times larger)."""
    from PIL import Image

    with Image.open(io.BytesIO(page.screenshot())) as image:
        small = image.convert("RGB").quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
        small.save(path, optimize=True)
    size = path.stat().st_size
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {size / 1000:.0f} KB")
    if size > MAX_BYTES:
        print(f"  warning: larger than {MAX_BYTES // 1000} KB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--seconds", type=float, default=25.0, help="training time before the Train shot")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: run `sh scripts/install_browser.sh` as root")
    from playwright.sync_api import sync_playwright

    from ui.i18n import t

    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="tinylm-screenshots-") as runs_dir:
        server = start_server(port, runs_dir)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})

                def open_page(path: str, **query) -> object:
                    page = context.new_page()
                    page.goto(f"{base}/{path}?{urlencode(query)}")
                    wait_idle(page)
                    return page

                # Train: both languages train at the same time (two slots), each on its own stories.
                trainers = {}
                for lang in LANGS:
                    page = open_page("Train", lang=lang, presenter=1, corpus=f"stories-{lang}", preset="live")
                    page.locator(".st-key-train-start button").click()
                    page.locator(".st-key-train-stop button").wait_for(timeout=TIMEOUT)
                    trainers[lang] = page
                time.sleep(args.seconds)
                for lang, page in trainers.items():
                    scroll_to(page, t("train.live_title", lang), below=70)  # status, numbers and loss curve
                    wait_charts(page)
                    save(page, args.out / f"train-{lang}.png")
                    page.locator(".st-key-train-stop button").click()
                    page.close()

                for lang in LANGS:
                    page = open_page("Attention_explorer", lang=lang, presenter=1)
                    scroll_to(page, t("explorer.grid_title", lang))
                    wait_charts(page)
                    save(page, args.out / f"attention-{lang}.png")
                    page.close()

                    step, seed = GENERATE_STEP[lang]
                    page = open_page("Generate", lang=lang, presenter=1, mode="step", step=step, seed=seed)
                    scroll_to(page, t("generate.step_title", lang, step=step + 1, total=80))
                    wait_charts(page)
                    save(page, args.out / f"generate-{lang}.png")
                    page.close()
                browser.close()
        finally:
            stop_app(server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
