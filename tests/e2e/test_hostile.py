"""Hostile input: markup typed into every text box and uploaded as a corpus stays text (no dialog, no
injected element, shown literally); bad corpus files and disguised pickles are refused with a message.

Markup is HTML and, since Streamlit renders Markdown almost everywhere (issue #11 §3), Markdown too:
images and links from an address, LaTeX, colour directives, Material icons, emoji, web addresses, a
newline before a heading, a right-to-left override. Typed into every text box, used as a corpus file's
name (which then names the run and the model on every page) and as an uploaded checkpoint's name and
corpus, none of it may take effect (no image, link, maths, coloured or icon span, heading, emoji or
arrow from it), it reads as typed (modulo ui.text's placeholders ↵ and ⟨RLO⟩ and its invisible word
joiners), and a bidi control stays inside the element that shows only the user's text (a token chip,
a code block, a menu entry, a table cell)."""

from __future__ import annotations

import pickle
import zipfile

import pytest
import torch
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.e2e.driver import App, wait_until_trained
from tinylm.checkpoint import checkpoint_zip_bytes, read_checkpoint
from tinylm.data import MAX_TEXT_BYTES
from tinylm.explain.attention import explain_attention
from tinylm.model import TinyLM
from tinylm.plan import RunSpec
from tinylm.tokenizers import CharTokenizer
from ui.figures import visible
from ui.i18n import t
from ui.text import WORD_JOINER, bidi_visible

pytestmark = pytest.mark.e2e

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
PAYLOAD = IMG + SCRIPT
# Markdown, LaTeX and directives; "qz" marks the payload's text (no string of the app holds it). The
# address is a closed port: a request there would fail, but only the DOM is looked at.
AWAY = "http://127.0.0.1:9"
MARKDOWN = (
    f"qz *qzem* $qzx^2$ :red[qzred] :material/home: :smile: ![qzi]({AWAY}/qz.png) [qzl]({AWAY}/qzl) "
    "www.qz.example a@qz.example qz -> b\n# qzhead \u202eqzrlo"
)
ONE_LINE = MARKDOWN.replace("\n", " ")  # for a one-line text box
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
# What the Markdown payload (marked "qz") would do if it were interpreted, and bidi controls outside an
# element that shows only user text: a list of problems found in the page.
MARKDOWN_EFFECTS = r"""() => {
    const mark = 'qz', problems = [], inside = el => el.textContent.includes(mark);
    const say = (what, el) => problems.push(what + ': <' + el.tagName + '> ' + el.outerHTML.slice(0, 160));
    const markdown = '[data-testid="stMarkdownContainer"], [data-testid="stCaptionContainer"]';
    document.querySelectorAll('img').forEach(el => {
        if ((el.getAttribute('src') || '').includes(mark) || (el.alt || '').includes(mark)) say('image', el);
    });
    document.querySelectorAll('a[href]').forEach(el => {
        const href = el.getAttribute('href');
        if (href.includes(mark) || href.includes('127.0.0.1:9') || inside(el)) say('link', el);
    });
    document.querySelectorAll('.katex').forEach(el => { if (inside(el)) say('maths', el); });
    const styled = '.stMarkdownColoredText, .stMarkdownColoredBackground, .stMarkdownBadge';
    document.querySelectorAll(styled).forEach(el => { if (inside(el)) say('directive', el); });
    document.querySelectorAll('[role="img"], [data-testid="stIconMaterial"]').forEach(el => {
        const box = el.closest(markdown);
        if (box && inside(box)) say('icon', el);
    });
    document.querySelectorAll('h1, h2, h3, h4, h5, h6').forEach(el => {
        if (el.textContent.includes('qzhead')) say('heading', el);
    });
    document.querySelectorAll('em, strong, del, code, li, blockquote, table').forEach(el => {
        if (el.textContent.includes('qzem') && el.closest(markdown)) say('formatting', el);
    });
    const text = document.body.textContent;
    if (text.includes('\u{1F604}')) problems.push('an emoji from :smile:');
    if (text.includes('qz \u2192 b')) problems.push('an arrow from ->');
    // A bidi control must stay in an element that holds only the user's text.
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const contained = 'pre, [data-testid="stCode"], [data-testid="stText"], [data-baseweb="select"], '
        + '[data-baseweb="tag"], [role="option"], [data-testid="stFileChipName"], text, textarea, td';
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!/[\u202a-\u202e\u2066-\u2069]/.test(node.textContent)) continue;
        if (node.parentElement.closest(contained)) continue;  // an SVG <text> lays out on its own
        let el = node.parentElement;
        while (el && ['inline', 'contents'].includes(getComputedStyle(el).display)) el = el.parentElement;
        if (!el || el.tagName === 'STYLE' || el.tagName === 'SCRIPT') continue;
        if (getComputedStyle(el).display === 'inline-block' || el.closest(contained)) continue;  // a chip
        say('a bidi control loose in', el);
    }
    return problems;
}"""
SHOWN_LITERALLY = r"""() => document.body.textContent.replaceAll('\u2060', '')"""
INJECTED = """() => document.querySelectorAll('img[src="x"], img[onerror]').length
    + Array.from(document.scripts).filter(script => script.textContent.includes('alert(1)')).length"""


def injected(app: App) -> int:
    return app.page.evaluate(INJECTED)


def markdown_effects(app: App) -> list[str]:
    return app.page.evaluate(MARKDOWN_EFFECTS)


def shown_literally(app: App) -> str:
    """The page's text as a reader sees it (word joiners are invisible)."""
    return app.page.evaluate(SHOWN_LITERALLY)


def markdown_shown(name: str, text: str) -> list[str]:
    """How the Markdown payload ``text`` typed on page ``name`` reads on the page (any one of these): as
    typed (a code block), as token chips (a newline shows as ↵), or, on the self-attention page, the
    characters the model never saw, listed one by one."""
    if name == "attention":
        english = read_checkpoint(ROOT / "models" / "stories-en")
        tokens, _ = explain_attention(english.model, english.tokenizer, text, 0)
        return [" ".join(visible(char) for char in tokens.unknown_chars[:20])]
    return [text, text.replace("\n", "↵")]


def test_markup_typed_into_every_text_box_stays_text(new_app):
    app = new_app()
    problems = []
    app.open("home", lang="en")
    for name, key, html_shown in FIELDS:
        app.navigate(name, "en")
        if name == "train":
            app.select("train.corpus", t("train.source.paste", "en"))
        one_line = app.key(key).locator("textarea").count() == 0
        for payload in (PAYLOAD, ONE_LINE if one_line else MARKDOWN):
            app.fill(key, payload)
            if name == "train":  # the pasted text is not in the link; the page shows a sample of it
                sample = app.page.locator('[data-testid="stMain"] [data-testid="stCode"]').first
                if not sample.is_visible():
                    app.page.get_by_text(t("train.sample_of_data", "en")).click()
                expect(sample).to_contain_text(payload.split("\n")[0])
                app.wait_idle()
            else:
                app.wait_query(key.split(".")[1], payload)
            app.page.wait_for_timeout(500)  # an image error or a script would fire by now
            text = app.page.evaluate(SHOWN_TEXT)
            if payload == PAYLOAD and html_shown not in text:
                problems.append(f"{name}: {html_shown!r} not shown as text")
            if payload != PAYLOAD:
                shown = shown_literally(app).replace("\u2423", " ")
                if not any(variant in shown for variant in markdown_shown(name, payload)):
                    problems.append(f"{name}: {markdown_shown(name, payload)!r} not shown as typed")
                problems += [f"{name}: {problem}" for problem in markdown_effects(app)]
            if injected(app):
                problems.append(f"{name}: markup became an element")
            if app.key(key).locator("textarea, input").first.input_value() != payload:
                problems.append(f"{name}: the text box does not hold what was typed")
            if app.exceptions():
                problems.append(f"{name}: exception {app.exceptions()}")
    assert not problems, "\n".join(problems)
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


# A corpus file named with Markdown (no "/" in a file name), and a checkpoint whose name and corpus are
# Markdown (read through clean_meta: at most 100 characters each; the import keeps 60 of them).
FILE_NAME = "![qzi](qz.png):red[qzr]$qzx$ *qzem* :material_home: :smile: \u202eqzrlo.txt"
META_NAME = f"![qzn]({AWAY}/qzn.png) :red[qzr] $qzx^2$ \u202eqz"
META_CORPUS = f":material/home: :smile: [qzl]({AWAY}/l) qz -> b www.qz.example \u2067qz"
TINY_RUN = {"preset": "tiny", "budget": "steps", "max_steps": "20"}


def caption_text(app: App) -> str:
    """The line about the model under the page's title (or on the Home page), as read."""
    boxes = app.page.locator(
        '[data-testid="stMain"] [data-testid="stCaptionContainer"], '
        '[data-testid="stMain"] [data-testid="stMarkdownContainer"]'
    )
    return "\n".join(boxes.all_text_contents()).replace(WORD_JOINER, "")


def test_markdown_in_file_names_and_checkpoint_metadata_stays_text(new_app, tmp_path):
    app = new_app()
    problems: list[str] = []

    def look(where: str) -> None:
        app.page.wait_for_timeout(500)
        problems.extend(f"{where}: {problem}" for problem in markdown_effects(app))
        if app.exceptions():
            problems.append(f"{where}: exception {app.exceptions()}")

    # 1. Train on a file whose name is Markdown: the run and then the model are named after it.
    corpus = tmp_path / FILE_NAME
    corpus.write_text("Lily had a red ball. Tom saw a cat. " * 200, encoding="utf-8")
    app.open("train", lang="en", corpus="upload", **TINY_RUN)
    app.upload("train.text_upload", corpus)
    expect(app.key("train.start").locator("button")).to_be_enabled()
    app.click("train.start")
    wait_until_trained(app)
    label = bidi_visible(FILE_NAME[:24])  # the run's label starts with the file name's first characters
    expect(app.page.locator('[data-testid="stText"]').filter(has_text=label)).to_have_count(1)
    look("train, trained")
    app.navigate("home", "en")
    if label not in caption_text(app):
        problems.append(f"home: the model's name {label!r} is not shown as given")
    look("home, trained model")

    # 2. Checkpoints: broken ones whose errors echo Markdown, then one whose name and corpus are Markdown.
    tokenizer = CharTokenizer.from_text("hello world")
    spec = RunSpec(n_layers=1, n_heads=2, d_model=16, context_len=16)
    model = TinyLM(spec.model_config(tokenizer.vocab_size))
    entries = tmp_path / "entries.zip"
    with zipfile.ZipFile(entries, "w") as archive:
        for name in (f"![qze]({AWAY}/qze.png)", ":red[qzred]", "$qzx$"):
            archive.writestr(name, b"x")
    good = tmp_path / "model.zip"
    meta = {"name": META_NAME, "corpus": META_CORPUS, "created": "2026-01-01T12:00:00"}
    good.write_bytes(checkpoint_zip_bytes(model, tokenizer, meta=meta))
    app.navigate("train", "en")
    app.upload("train.checkpoint_upload", entries)
    expect(app.alerts("Error").filter(has_text="qze")).to_have_count(1)
    look("train, a zip of Markdown entries")
    app.upload("train.checkpoint_upload", good)
    expect(app.alerts("Success").filter(has_text=t("train.uploaded", "en"))).to_have_count(1)
    look("train, uploaded checkpoint")
    for page in ("home", "tokens"):
        app.navigate(page, "en")
        shown = caption_text(app)
        for part in (bidi_visible(META_NAME), bidi_visible(META_CORPUS)):
            if part not in shown:
                problems.append(f"{page}: {part!r} is not shown as given")
        look(page)
    assert not problems, "\n".join(problems)
    assert app.dialogs == []
    app.assert_clean()
