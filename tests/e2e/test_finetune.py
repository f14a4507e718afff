"""The Fine-tuning page in a browser, in Chinese: fine-tune the Chinese demo model with LoRA (ten steps)
and see its answer to the same held-out prompt change; the fine-tuned model is then the one in use."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.driver import App
from tinylm.finetune_tasks import finetune_examples
from ui.i18n import t

pytestmark = pytest.mark.e2e

RUN_SECONDS = 90  # ten LoRA steps and four evaluations on a machine that may be busy (about 15 s alone)


def test_lora_fine_tuning_changes_the_chinese_model_s_answer(new_app, artifacts):
    app: App = new_app()
    app.open("finetune", lang="zh", steps="10", rank="4")
    heading = app.page.locator('[data-testid="stMain"] h1').first
    expect(heading).to_have_text(t("nav.finetune", "zh"))
    app.radio("finetune.mode", t("finetune.mode.lora", "zh"))
    app.wait_query("mode", "lora")
    assert app.selected("finetune.task") == t("finetune.task.qa-zh", "zh")
    app.click("finetune.start")
    done = app.page.get_by_text(t("train.msg.done", "zh", steps=10))
    expect(done).to_be_visible(timeout=RUN_SECONDS * 1000)
    box = app.key("finetune.before_after")
    expect(box).to_be_visible(timeout=60_000)
    app.wait_idle()
    prompt = finetune_examples("qa-zh", 20)[0].prompt
    expect(app.page.get_by_text(prompt, exact=False).first).to_be_visible()
    before, after = (text.strip() for text in box.locator('[data-testid="stCode"]').all_inner_texts())
    assert before != after, (before, after)  # ten steps of LoRA changed the answer
    assert "ft" in app.query() and app.query()["model"].startswith("run:")  # the fine-tuned model is in use
    app.screenshot(artifacts / "finetune-lora-zh.png")
    app.assert_clean()
