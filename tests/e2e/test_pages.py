"""Every page, in both languages, opened by URL: it runs to the end without an exception or a browser
error, shows its title in that language, draws all its plotly figures, and is saved as a screenshot."""

from __future__ import annotations

import pytest

from tests.e2e.driver import PAGE_PATHS
from ui.i18n import t

pytestmark = pytest.mark.e2e

LANGS = ("en", "zh")
# Charts each page draws with its default settings (at least; pages may add more).
MIN_FIGURES = {
    "home": 0,
    "tokens": 2,
    "positional": 5,
    "attention": 10,
    "block": 5,
    "explorer": 5,
    "generate": 0,  # stream mode: the text itself, no chart
    "train": 0,  # no run yet
    "finetune": 0,  # no run yet
    "scaling": 4,  # the shipped sweep: loss against N, D and C, and the iso-FLOP curves
    "learned": 5,  # a demo model: its heads now (3), the logit lens, which heads matter
}


# Each sidebar page link: its text, and whether anything in it is wider than its box (Streamlit's label
# is one line cut with an ellipsis: "3 · 一步步看自注意…", seen in Chinese and in presenter mode).
SIDEBAR_LINKS = """() => Array.from(
    document.querySelectorAll('[data-testid="stSidebar"] [data-testid="stPageLink"]')
).map(link => ({
    text: link.innerText.trim(),
    cut: Array.from(link.querySelectorAll('*'))
        .filter(e => e.scrollWidth > e.clientWidth + 1)
        .map(e => `${e.tagName} ${e.scrollWidth} > ${e.clientWidth}`),
}))"""


def title(page: str, lang: str) -> str:
    return t("app.title" if page == "home" else f"nav.{page}", lang)


@pytest.mark.parametrize("name", list(PAGE_PATHS))
def test_page_in_both_languages(new_app, artifacts, name):
    tabs = {lang: new_app() for lang in LANGS}
    for lang, tab in tabs.items():  # both tabs load at the same time
        tab.page.goto(tab.url(name, lang=lang), wait_until="commit")
    for lang, tab in tabs.items():
        tab.wait_loaded()
        heading = tab.page.locator('[data-testid="stMain"] h1').first.inner_text()
        assert heading.strip() == title(name, lang)
        assert tab.query()["lang"] == lang  # the page keeps the language in its link
        tab.show_everything()
        figures = tab.drawn_figures()
        assert len(figures) >= MIN_FIGURES[name], f"{name}/{lang}: {len(figures)} figures"
        for index, figure in enumerate(figures):
            assert figure["traces"] > 0, f"{name}/{lang}: figure {index} has no data drawn"
        shown = [f for f in figures if f["width"] > 0]  # charts in a closed tab have no size
        assert len(shown) >= MIN_FIGURES[name] and all(f["height"] > 100 for f in shown), figures
        tab.page.screenshot(path=str(artifacts / f"{name}-{lang}.png"))
        tab.reset_viewport()
        tab.assert_clean()


@pytest.mark.parametrize("presenter", ["0", "1"])
@pytest.mark.parametrize("lang", LANGS)
def test_sidebar_page_names_are_readable_in_full(new_app, artifacts, lang, presenter):
    """Every page name in the sidebar is shown whole (wrapped if need be), in both languages, with and
    without presenter mode's larger fonts."""
    tab = new_app().open("home", lang=lang, presenter=presenter)
    links = tab.page.evaluate(SIDEBAR_LINKS)
    numbered = [t(f"nav.{name}", lang) for name in PAGE_PATHS]  # then the class page (classroom mode)
    assert [link["text"] for link in links] == [*numbered, t("nav.class", lang)]
    assert not [link for link in links if link["cut"]], links
    tab.page.locator('[data-testid="stSidebar"]').screenshot(
        path=str(artifacts / f"sidebar-{lang}-presenter{presenter}.png")
    )
    tab.assert_clean()
