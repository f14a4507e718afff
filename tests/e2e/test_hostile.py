"""Hostile input: markup typed into every text box and uploaded as a corpus stays text (no dialog, no
injected element, shown literally); bad corpus files and disguised pickles are refused with a message."""

from __future__ import annotations

import pickle
import zipfile

import pytest
import torch
from playwright.sync_api import expect

from tests.e2e.driver import App
from tinylm.data import MAX_TEXT_BYTES
from ui.i18n import t

pytestmark = pytest.mark.e2e

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
PAYLOAD = IMG + SCRIPT
# Page, its text box's widget key, and what must then be shown as text. The self-attention page shows a
# text's tokens one by one; there the characters the model never saw are listed, as typed.
FIELDS = [
    ("tokens", "tokens.text", PAYLOAD),
    ("attention", "attention.text", "< = ( 1 ) >"),
    ("explorer", "explorer.text", PAYLOAD),
    ("generate", "generate.prompt", PAYLOAD),
    ("train", "train.text_area", PAYLOAD),  # the Train page with "paste your own text"
]
SHOWN_TEXT = """() => {
    const main = document.querySelector('[data-testid="stMain"]').cloneNode(true);
    main.querySelectorAll('textarea, input').forEach(box => box.remove());  // what was typed is not shown
    return main.textContent.replaceAll('\u2423', ' ');  // token chips show a space as ␣
}"""
INJECTED = """() => document.querySelectorAll('img[src="x"], img[onerror]').length
    + Array.from(document.scripts).filter(script => script.textContent.includes('alert(1)')).length"""


def injected(app: App) -> int:
    return app.page.evaluate(INJECTED)


def test_markup_typed_into_every_text_box_stays_text(new_app):
    app = new_app()
    problems = []
    app.open("home", lang="en")
    for name, key, shown in FIELDS:
        app.navigate(name, "en")
        if name == "train":
            app.select("train.corpus", t("train.source.paste", "en"))
        app.fill(key, PAYLOAD)
        if name == "train":  # the pasted text is not in the link; the page shows a sample of it
            app.page.get_by_text(t("train.sample_of_data", "en")).click()
            expect(app.page.locator('[data-testid="stMain"] [data-testid="stCode"]').first).to_contain_text(
                SCRIPT
            )
        else:
            app.wait_query(key.split(".")[1], PAYLOAD)
        app.page.wait_for_timeout(500)  # an image error or a script would fire by now
        text = app.page.evaluate(SHOWN_TEXT)
        if shown not in text:
            problems.append(f"{name}: {shown!r} not shown as text")
        if injected(app):
            problems.append(f"{name}: markup became an element")
        if app.key(key).locator("textarea, input").first.input_value() != PAYLOAD:
            problems.append(f"{name}: the text box does not hold what was typed")
        if app.exceptions():
            problems.append(f"{name}: exception {app.exceptions()}")
    assert not problems, problems
    assert app.dialogs == []
    app.assert_clean()


@pytest.fixture
def files(tmp_path):
    """Hostile and broken files, made here."""
    marker = tmp_path / "unpickled"  # created if the app ever unpickled the upload

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    made = {"marker": marker}
    made["hostile"] = tmp_path / f"{IMG}.txt"  # the file name is markup too
    made["hostile"].write_text((PAYLOAD + " Lily had a red ball.\n") * 40, encoding="utf-8")
    made["binary"] = tmp_path / "binary.txt"
    made["binary"].write_bytes(bytes(range(256)) * 16)
    made["empty"] = tmp_path / "empty.txt"
    made["empty"].write_bytes(b"")
    made["huge"] = tmp_path / "huge.txt"
    made["huge"].write_bytes(b"a" * (MAX_TEXT_BYTES + 1))
    made["pickle_zip"] = tmp_path / "model.zip"
    made["pickle_zip"].write_bytes(pickle.dumps(Exploit()))
    made["torch_zip"] = tmp_path / "weights.zip"  # a torch .pt file is a zip holding a pickle
    torch.save({"weights": torch.zeros(2), "exploit": Exploit()}, made["torch_zip"])
    assert zipfile.is_zipfile(made["torch_zip"])
    made["pickle_safetensors"] = tmp_path / "model.safetensors"
    made["pickle_safetensors"].write_bytes(pickle.dumps(Exploit()))
    return made


def test_hostile_and_broken_uploads_are_refused_or_shown_as_text(new_app, files):
    app = new_app()
    app.open("train", lang="en", corpus="upload")
    errors = app.alerts("Error")

    # A corpus whose content and file name are markup: both shown as typed.
    app.upload("train.text_upload", files["hostile"])
    file_name = app.key("train.text_upload").locator('[data-testid="stFileChipName"]')
    expect(file_name).to_have_attribute("title", files["hostile"].name)  # shown shortened, as text
    expect(file_name).to_contain_text("<img sr")
    app.page.get_by_text(t("train.sample_of_data", "en")).click()
    sample = app.page.locator('[data-testid="stMain"] [data-testid="stCode"]').first
    expect(sample).to_contain_text(PAYLOAD)
    app.wait_idle()
    assert errors.count() == 0 and injected(app) == 0

    # Files that are not text, or too much of it: refused with a message in the reader's language.
    for name, message in [
        ("binary", t("error.binary_file", "en")),
        ("empty", t("error.empty_text", "en")),
    ]:
        app.upload("train.text_upload", files[name])
        expect(errors.filter(has_text=message)).to_have_count(1)
        app.wait_idle()
        assert errors.count() == 1, errors.all_inner_texts()
    # Too much text is refused by the browser itself (the widget's own cap): the server never reads it;
    # the caption under the widget says the limit in the reader's language.
    chip_error = app.key("train.text_upload").locator('[role="alert"]')
    app.key("train.text_upload").locator('input[type="file"]').set_input_files(str(files["huge"]))
    expect(chip_error).to_contain_text("or smaller")
    expect(app.page.get_by_text(t("train.upload_hint", "en", limit_mb=5))).to_be_visible()
    app.wait_idle()
    assert app.page.locator('[data-testid="stMetric"]').count() == 0  # nothing of it was summarised

    # Pickles dressed up as checkpoints: refused, never unpickled.
    for name, detail in [
        ("pickle_zip", "the file is not a .zip made by TinyLM Lab"),
        ("torch_zip", "expected exactly model.safetensors and tinylm.json in the zip"),
    ]:
        app.upload("train.checkpoint_upload", files[name])
        expect(errors.filter(has_text=t("error.bad_checkpoint", "en", detail=""))).to_have_count(0)
        expect(errors.filter(has_text=detail)).to_have_count(1)
        app.wait_idle()
    # Only .zip files are offered; Streamlit refuses the rest before they reach the app.
    app.upload("train.checkpoint_upload", files["pickle_safetensors"])
    uploader = app.key("train.checkpoint_upload")
    refused = uploader.locator('[data-testid="stFileChip"][aria-invalid="true"]')
    expect(refused).to_contain_text(files["pickle_safetensors"].name)
    expect(refused.locator('[data-testid="stFileChipIconError"]')).to_be_visible()
    expect(uploader).to_contain_text("not allowed")
    app.wait_idle()
    assert app.alerts("Success").count() == 0
    assert "run" not in app.query()  # nothing was imported
    assert not files["marker"].exists()
    app.assert_clean()
