"""An instructor's view: presenter mode, a link with settings that opens exactly that view in another
browser, and a figure downloaded as a PNG for slides."""

from __future__ import annotations

import io
import re
from urllib.parse import urlencode, urlsplit

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.driver import App
from ui.i18n import t

ANY = re.compile(".*")

pytestmark = pytest.mark.e2e

SLIDERS = ("d_model", "max_len", "base", "pair")
LINK_SETTINGS = {"d_model": "64", "max_len": "100", "base": "1000", "pair": "5", "dims": "3,7"}


def controls(app: App):
    return app.page.locator('[data-testid="stExpander"] details').first


def unfold_controls(app: App) -> None:
    """Presenter mode folds the controls away (Streamlit draws folded widgets once they are unfolded)."""
    if controls(app).get_attribute("open") is None:
        app.page.locator('[data-testid="stExpander"] summary', has_text=t("common.controls", "en")).click()
    app.key("positional.pair").locator('[data-testid="stSliderThumbValue"]').wait_for()


def slider_values(app: App) -> dict[str, str]:
    unfold_controls(app)
    return {
        name: app.key(f"positional.{name}").locator('[data-testid="stSliderThumbValue"]').inner_text()
        for name in SLIDERS
    }


def test_presenter_mode_deep_link_and_png_download(new_app, tmp_path, artifacts):
    app = new_app()
    app.open("positional", lang="en")
    assert controls(app).get_attribute("open") is not None
    html = app.page.locator("html")
    normal_size = html.evaluate("e => getComputedStyle(e).fontSize")

    # Presenter mode: larger type, controls folded away, and the mode is in the link.
    app.toggle("_w_presenter", True)
    app.wait_query("presenter", "1")
    expect(html).to_have_css("font-size", "21px")
    assert normal_size != "21px"
    expect(controls(app)).not_to_have_attribute("open", ANY)  # folded (waits for the rerun that folds it)
    query = app.query()
    assert {name: query[name] for name in SLIDERS} == {
        "d_model": "128",
        "max_len": "64",
        "base": "10000",
        "pair": "2",
    }
    assert slider_values(app) == {"d_model": "128", "max_len": "64", "base": "10,000", "pair": "2"}
    app.assert_clean()

    # The same link with other settings, opened in another browser, shows exactly those settings.
    link = urlsplit(app.page.url)._replace(query=urlencode({**query, **LINK_SETTINGS})).geturl()
    other = new_app()
    other.goto_url(link)
    assert other.key("_w_presenter").locator("input").is_checked()
    expect(other.page.locator("html")).to_have_css("font-size", "21px")
    assert slider_values(other) == {"d_model": "64", "max_len": "100", "base": "1,000", "pair": "5"}
    tags = other.key("positional.dims_pick").locator("[data-tag]").all_inner_texts()
    assert [tag.split(" ·")[0] for tag in tags] == ["dim 3", "dim 7"], tags
    assert {name: other.query()[name] for name in LINK_SETTINGS} == LINK_SETTINGS  # kept, not replaced
    other.page.screenshot(path=str(artifacts / "positional-presenter-en.png"))

    # A figure for slides: a real PNG image, drawn when the button is clicked.
    with other.page.expect_download() as download_info:
        other.click("positional.download_png")
    download = download_info.value
    assert download.suggested_filename.endswith(".png")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as image:
        assert image.width >= 400 and image.height >= 300, image.size
    other.assert_clean()
