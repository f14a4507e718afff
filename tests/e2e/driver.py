"""A thin driver for the Streamlit app in Playwright: page URLs, widget lookup by key, waiting for the
script to finish, and the browser-side errors, dialogs and failed requests a test must not see.

Selectors: Streamlit puts a ``st-key-<key>`` class on the container of every keyed widget (characters
other than letters, digits, ``-`` and ``_`` become ``-``), and ``data-testid`` attributes on its parts.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from playwright.sync_api import ConsoleMessage, Dialog, Locator, Page, Response
from playwright.sync_api import TimeoutError as PlaywrightTimeout

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 900}
PAGE_PATHS = {  # page name -> URL path (Streamlit derives it from the file name under pages/)
    "home": "",
    "tokens": "Tokens",
    "positional": "Positional_encoding",
    "attention": "Self_attention",
    "block": "Inside_a_block",
    "explorer": "Attention_explorer",
    "generate": "Generate",
    "train": "Train",
    "finetune": "Finetune",
    "scaling": "Scaling",
    "learned": "What_it_learned",
}
# streamlit#7074 (open): opened directly at /<Page>, the frontend first asks /<Page>/_stcore/health and
# /<Page>/_stcore/host-config, gets 404, then uses /_stcore/... and works. Chromium logs each 404 as a
# console error ("Failed to load resource"). Those two requests, and nothing else, are expected noise.
HARMLESS_404 = re.compile(r"^/[A-Za-z0-9_]+/_stcore/(health|host-config)$")
KEY_CHARS = re.compile(r"[^A-Za-z0-9_-]")
DEFAULT_TIMEOUT = 120_000  # generous: the machine (2 cores) may be shared with other work
EXPECT_TIMEOUT = 60_000
MAX_SHOT_HEIGHT = 16_000
# No lazy placeholder left, and every plotly chart has its SVG (charts in a closed tab have no size).
ALL_DRAWN = """() => document.querySelectorAll('[data-testid="stSkeleton"]').length === 0
    && Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'))
        .every(chart => chart.querySelector('.js-plotly-plot .main-svg'))"""
SCROLL_THROUGH = """async () => {
    const main = document.querySelector('[data-testid="stMain"]');
    for (let y = 0; y <= main.scrollHeight; y += Math.max(200, main.clientHeight - 100)) {
        main.scrollTo(0, y);
        await new Promise(resolve => setTimeout(resolve, 40));
    }
    main.scrollTo(0, 0);
}"""
MAIN_HEIGHT = "() => Math.ceil(document.querySelector('[data-testid=\"stMain\"]').scrollHeight)"


def key_class(key: str) -> str:
    return "st-key-" + KEY_CHARS.sub("-", key)


def query_of(url: str) -> dict[str, str]:
    return {name: values[-1] for name, values in parse_qs(urlsplit(url).query).items()}


@dataclass
class App:
    """One browser tab on the app, recording what went wrong in the browser."""

    page: Page
    base_url: str
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions
    dialogs: list[str] = field(default_factory=list)  # alert/confirm/prompt dialogs (all dismissed)
    failed_requests: list[str] = field(default_factory=list)
    checked: int = 0  # errors already reported by assert_clean

    def __post_init__(self) -> None:
        self.page.set_default_timeout(DEFAULT_TIMEOUT)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("dialog", self._on_dialog)
        self.page.on("response", self._on_response)

    # ---------------------------------------------------------------------------------- recording
    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        source = urlsplit(message.location.get("url", "") or "")
        if message.text.startswith("Failed to load resource") and HARMLESS_404.match(source.path):
            return
        self.errors.append(f"console.error: {message.text} ({message.location.get('url')})")

    def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _on_response(self, response: Response) -> None:
        path = urlsplit(response.url).path
        if response.status >= 400 and not (response.status == 404 and HARMLESS_404.match(path)):
            self.failed_requests.append(f"{response.status} {response.url}")

    def assert_clean(self) -> None:
        """No JavaScript errors, no dialogs, no failed requests, no Python exception on the page."""
        problems = self.errors + self.dialogs + self.failed_requests
        self.checked = len(problems)
        assert not problems, "browser-side problems:\n" + "\n".join(problems)
        assert self.exceptions() == [], "the page shows a Python exception"

    def exceptions(self) -> list[str]:
        """Python exceptions on the page: Streamlit's exception boxes, and the sentence the app's error
        guard (ui/guard.py) shows instead of one."""
        from ui.i18n import LANGUAGES, t

        failed = [t("error.page_failed", lang) for lang in LANGUAGES]
        guarded = [text for text in self.alerts("Error").all_inner_texts() if any(f in text for f in failed)]
        return self.page.locator('[data-testid="stException"]').all_inner_texts() + guarded

    # ---------------------------------------------------------------------------------- navigation
    def url(self, name: str, **query: str) -> str:
        path = PAGE_PATHS[name]
        return f"{self.base_url}/{path}" + (f"?{urlencode(query)}" if query else "")

    def open(self, name: str, **query: str) -> App:
        """Open a page by URL (a new Streamlit session) and wait until its script has finished."""
        self.page.goto(self.url(name, **query))
        self.wait_loaded()
        return self

    def goto_url(self, url: str) -> App:
        self.page.goto(url)
        self.wait_loaded()
        return self

    def wait_loaded(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait for the page title (every page has one; it also shows the new page's script has begun),
        then for idle."""
        self.page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=timeout)
        self.wait_idle(timeout)

    def wait_idle(self, timeout: float = DEFAULT_TIMEOUT, quiet: float = 0.3) -> None:
        """Wait until the script is not running, stays so for ``quiet`` seconds, and is connected. After a
        click, first wait for the change it should cause where one can be named (expect(...))."""
        deadline = time.monotonic() + timeout / 1000
        while True:
            self.page.wait_for_selector(IDLE, timeout=max(1.0, deadline - time.monotonic()) * 1000)
            self.page.wait_for_timeout(quiet * 1000)
            if self.page.locator(IDLE).count() == 1:
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the app did not become idle")

    def query(self) -> dict[str, str]:
        return query_of(self.page.url)

    def sidebar_link(self, label: str) -> None:
        """Click a sidebar link by its label (the session, and its state, stay)."""
        self.page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"] a', has_text=label).click()

    def navigate(self, name: str, lang: str) -> App:
        """Go to another page through the sidebar (cheaper than opening a URL: same session, no reload)
        and wait until it has run."""
        from ui.i18n import t

        title = t("app.title" if name == "home" else f"nav.{name}", lang)
        self.sidebar_link(t(f"nav.{name}", lang))
        heading = self.page.locator('[data-testid="stMain"] h1').first
        deadline = time.monotonic() + DEFAULT_TIMEOUT / 1000
        while heading.inner_text().strip() != title:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} did not open")
            self.page.wait_for_timeout(100)
        self.wait_idle()
        return self

    # ---------------------------------------------------------------------------------- widgets
    def key(self, key: str) -> Locator:
        return self.page.locator(f".{key_class(key)}")

    def click(self, key: str) -> None:
        self.key(key).locator("button").click()

    def fill(self, key: str, text: str) -> None:
        """Type into a text_input / text_area and commit it as a user would (Enter / Ctrl+Enter)."""
        box = self.key(key).locator("textarea, input[type=text], input:not([type])").first
        box.fill(text)
        box.press("Control+Enter" if box.evaluate("e => e.tagName") == "TEXTAREA" else "Enter")

    def number(self, key: str, value: float) -> None:
        box = self.key(key).locator("input")
        box.fill(str(value))
        box.press("Enter")

    def radio(self, key: str, label: str) -> None:
        options = self.key(key).locator('[data-testid="stRadioOption"]')
        options.filter(has=self.page.get_by_text(label, exact=True)).click()

    def select(self, key: str, label: str, attempts: int = 3) -> None:
        """Pick an option of a selectbox (a rerun drawing the page anew may close an open list: retry)."""
        for attempt in range(attempts):
            self.key(key).locator('[role="combobox"]').click()
            option = self.page.locator('[role="listbox"] [role="option"]').filter(
                has=self.page.get_by_text(label, exact=True)
            )
            try:
                option.first.click(timeout=10_000)
                return
            except PlaywrightTimeout:
                if attempt == attempts - 1:
                    raise
                self.page.keyboard.press("Escape")
                self.wait_idle()

    def wait_query(self, name: str, value: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until the page's link holds name=value: pages write their settings into the URL at the
        end of each run, so this shows that the run caused by a change has finished."""
        deadline = time.monotonic() + timeout / 1000
        while self.query().get(name) != value:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name}={value!r} never reached the URL: {self.page.url}")
            self.page.wait_for_timeout(100)
        self.wait_idle()

    def selected(self, key: str) -> str:
        return self.key(key).locator('[role="combobox"]').input_value()

    def toggle(self, key: str, on: bool = True) -> None:
        switch = self.key(key).locator('input[type="checkbox"]')
        if switch.is_checked() != on:
            self.key(key).locator("label").first.click()

    def upload(self, key: str, path: Path | str) -> None:
        self.key(key).locator('input[type="file"]').set_input_files(str(path))

    def alerts(self, kind: str = "") -> Locator:
        """st.error / st.warning / st.info / st.success boxes (kind: Error, Warning, Info, Success)."""
        if not kind:
            return self.page.locator('[data-testid^="stAlertContent"]')
        return self.page.locator(f'[data-testid="stAlertContent{kind}"]')

    # ---------------------------------------------------------------------------------- figures
    def draw_all_figures(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Streamlit mounts a plotly chart only once it scrolls into view: scroll the main area from top
        to bottom (at window height, which is much faster than one tall viewport drawing every chart at
        once) and wait until no lazy placeholder is left and every chart has its SVG."""
        deadline = time.monotonic() + timeout / 1000
        while True:
            self.page.evaluate(SCROLL_THROUGH)
            try:  # a chart that scrolled by too fast to be noticed gets another pass
                self.page.wait_for_function(ALL_DRAWN, timeout=20_000, polling=200)
                return
            except PlaywrightTimeout:
                if time.monotonic() > deadline:
                    raise

    def show_everything(self, timeout: float = 60.0) -> None:
        """Draw every chart, then make the viewport as tall as the page: the main area scrolls inside
        the window, so Playwright's full_page screenshot would only see the window."""
        self.draw_all_figures(timeout * 1000)
        deadline = time.monotonic() + timeout
        height = 0
        while True:
            wanted = self.page.evaluate(MAIN_HEIGHT)
            wanted = min(max(wanted, VIEWPORT["height"]), MAX_SHOT_HEIGHT)
            if wanted == height:
                return
            height = wanted
            self.page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
            left = max(1.0, deadline - time.monotonic()) * 1000
            self.page.wait_for_function(ALL_DRAWN, timeout=left, polling=200)
            self.page.wait_for_timeout(200)
            if time.monotonic() > deadline:
                raise TimeoutError("the page kept growing")

    def reset_viewport(self) -> None:
        self.page.set_viewport_size(VIEWPORT)

    def drawn_figures(self) -> list[dict]:
        """For each plotly chart on the page: its size and how many traces plotly drew."""
        return self.page.evaluate(
            """() => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]')).map(chart => {
                const TRACES = '.main-svg g.trace, .main-svg g.hm, .main-svg image';
                const svg = chart.querySelector('.js-plotly-plot .main-svg');
                const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
                return {
                    width: box.width, height: box.height,
                    traces: chart.querySelectorAll(TRACES).length,
                };
            })"""
        )

    def screenshot(self, path: Path, full: bool = True) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if full:
            self.show_everything()
        self.page.screenshot(path=str(path))
        if full:
            self.reset_viewport()


# ------------------------------------------------------------------------------------ the Train page
TRAIN_SECONDS = 180  # a short run, including waiting in the queue behind another one, on a busy machine


def plan_short_run(app: App, lang: str, steps: int) -> None:
    """On the Train page: the tiny preset, counted in steps (expert settings), ``steps`` steps."""
    from ui.i18n import t

    app.radio("train.preset", t("train.preset.tiny", lang))
    app.wait_idle()
    app.toggle("train.expert", True)
    app.radio("train.budget", t("train.budget.steps", lang))
    app.key("train.max_steps").locator("input").wait_for()
    app.number("train.max_steps", steps)
    app.wait_idle()


def wait_until_trained(app: App, timeout: float = TRAIN_SECONDS) -> None:
    """Wait until the shown run has finished with a model (its download button appears)."""
    app.key("train.download").locator("button").wait_for(timeout=timeout * 1000)
    app.wait_idle()
