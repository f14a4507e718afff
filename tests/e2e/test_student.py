"""A student's journey: switch to Chinese, train a tiny model on the Chinese stories, look at it in the
attention explorer, let it write, download it, find the run again after a reload, and bring the
download back in another browser, where it writes exactly the same text for the same seed."""

from __future__ import annotations

import re
import zipfile

import pytest
from playwright.sync_api import expect

from tests.e2e.driver import App, plan_short_run, wait_until_trained
from ui.i18n import t

pytestmark = pytest.mark.e2e

ZH = "zh"
STEPS = 150
CJK = re.compile(r"[\u4e00-\u9fff]")


def generated_texts(app: App) -> list[str]:
    """The Generate page's plain texts (greedy, then sampled), prompt included."""
    expanders = app.page.locator('[data-testid="stExpander"]').filter(has_text=t("generate.plain_text", ZH))
    expect(expanders).to_have_count(2)
    return [code.text_content() or "" for code in expanders.locator('[data-testid="stCode"] code').all()]


def open_generate(app: App) -> list[str]:
    app.sidebar_link(t("nav.generate", ZH))
    expect(app.page.locator('[data-testid="stMain"] h1').first).to_have_text(t("nav.generate", ZH))
    app.wait_idle()
    return generated_texts(app)


def test_student_journey(new_app, tmp_path, artifacts):
    app = new_app()
    app.open("home", lang="en")
    heading = app.page.locator('[data-testid="stMain"] h1').first
    expect(heading).to_have_text(t("app.title", "en"))

    # The language switch in the sidebar: the page, and its link, turn Chinese.
    app.radio("_w_lang", "中文")
    expect(heading).to_have_text(t("app.title", ZH))
    app.wait_idle()
    assert app.query()["lang"] == ZH

    # Train: the Chinese stories (the default for a Chinese reader), tiny preset, a few steps.
    app.sidebar_link(t("nav.train", ZH))
    expect(heading).to_have_text(t("nav.train", ZH))
    app.wait_idle()
    assert app.selected("train.corpus") == t("corpus.stories-zh.title", ZH)
    plan_short_run(app, ZH, STEPS)
    app.click("train.start")
    wait_until_trained(app)
    expect(app.alerts("Success").filter(has_text=t("train.now_active", ZH))).to_be_visible()
    run_id = app.query()["run"]
    label = app.page.locator('[data-testid="stMain"] [data-testid="stText"]').first.inner_text().strip()
    assert label.startswith("stories-zh ·"), label
    app.show_everything()  # loss curves, samples and the attention map of the finished run
    app.page.screenshot(path=str(artifacts / "journey-train-zh.png"))
    app.reset_viewport()

    # The attention explorer now explains this model.
    app.sidebar_link(t("nav.explorer", ZH))
    expect(heading).to_have_text(t("nav.explorer", ZH))
    app.wait_idle()
    caption = app.page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first
    # ui.text.markdown_literal puts an invisible word joiner after a ':' that Streamlit would read as
    # the start of a shortcode (the run label's clock "22:27:18"): the text reads the same.
    shown = re.escape(f"{t('sidebar.active_model', ZH)}: {label}").replace(":", ":\u2060?")
    expect(caption).to_contain_text(re.compile(shown))
    app.draw_all_figures()

    # It writes Chinese.
    texts = open_generate(app)
    prompt = "早上，小明"  # the page's Chinese example: the model knows its characters
    greedy, sampled = texts
    assert greedy.startswith(prompt) and len(greedy) > len(prompt), greedy
    assert sampled.startswith(prompt), sampled
    assert len(CJK.findall(sampled[len(prompt) :])) >= 10, sampled  # a barely trained model loops greedily

    # Download its checkpoint from the Train page.
    app.sidebar_link(t("nav.train", ZH))
    expect(heading).to_have_text(t("nav.train", ZH))
    app.wait_idle()
    with app.page.expect_download() as download_info:
        app.click("train.download")
    checkpoint = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(checkpoint)
    assert checkpoint.suffix == ".zip"
    with zipfile.ZipFile(checkpoint) as archive:
        assert sorted(archive.namelist()) == ["model.safetensors", "tinylm.json"]

    # A reload (a new Streamlit session) finds the run again through ?run= in the URL.
    app.page.reload()
    app.wait_loaded()
    assert app.query()["run"] == run_id
    expect(app.page.locator('[data-testid="stMain"] [data-testid="stText"]').first).to_have_text(label)
    expect(app.key("train.download").locator("button")).to_be_visible()
    app.assert_clean()

    # Another browser: upload the checkpoint; the same seed writes the same text.
    other = new_app()
    other.open("train", lang=ZH)
    other.upload("train.checkpoint_upload", checkpoint)
    expect(other.alerts("Success").filter(has_text=t("train.uploaded", ZH))).to_be_visible()
    other.wait_idle()
    assert other.query()["run"] != run_id  # an uploaded checkpoint becomes a run of its own
    assert open_generate(other) == texts
    other.assert_clean()
