"""What a user typed or uploaded is shown as text on every page (issue #11 §3), checked on the pages as
drawn: a model whose name, corpus and date are hostile (Markdown images and links, LaTeX, colour and
icon directives, emoji, HTML, a newline before a heading, bidi overrides), hostile typed text, a hostile
file name and errors that echo hostile zip entries, config keys and versions.

Every string of every element the pages draw is collected with the element's kind and field; the
fields Streamlit renders as Markdown, as plain text, as HTML and in charts are told apart (a field
holding user text that this test cannot classify fails it: a new kind of display site must be looked
at). Then: in Markdown no payload construct is active (every one of its characters is escaped), the
model's name, corpus and date read back exactly as given (modulo the documented placeholders), in plain
text nothing is escaped (no stray backslashes), and in HTML and charts no tag of the payload is left.
tests/test_display_sites.py checks the same statically, tests/e2e/test_hostile.py in a browser.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import streamlit.runtime.state.session_state_proxy
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest

import ui.i18n
import ui.layout
import ui.runs
from tests.app.conftest import PAGE_FILES, FakeJobs, open_page, shown_as_code
from tests.conftest import ROOT
from tinylm import BPETokenizer, Checkpoint, ModelConfig, TinyLM
from tinylm.checkpoint import checkpoint_zip_bytes
from tinylm.tokenizers import CharTokenizer
from ui.text import BIDI_CONTROLS, WORD_JOINER, bidi_visible, one_line

MARK = "qz"  # every payload below holds it (and no string of the app): a field holding it shows user text
NAME = "qzil ![n](http://qzil.example/n.png) [l](http://qzil.example/l) :red[qzred] $qz^2$\n# qzhead \u202eqz"
CORPUS = "qzil <img src=x onerror=alert(1)> :material/home: :smile: qz -> b\n- qzlist \u2067x"
CREATED = "qzil$qz$:red[t]"  # shown cut to 16 characters
TYPED = "qzil *qzem* $qzy$ :blue[qzb] ![i](http://qz.example/i.png) <b>qzb</b> www.qz.example\n# qzt \u202e"
# What would be active Markdown (or HTML) if a payload were not escaped; none of these is in the app's
# own strings.
SIGNATURES = [
    "![n]", "](http://qzil", ":red[qzred", "$qz^2", "\n# qzhead", ":red[t]", "$qz$",
    "<img src=x", ":material/home", ":smile:", "qz -> b", "\n- qzlist",
    "*qzem*", "$qzy$", ":blue[qzb", "![i]", "<b>qzb", "www.qz", "\n# qzt ",
]  # fmt: skip
TINY = {"n_layers": "1", "n_heads": "2", "d_model": "16", "context_len": "16", "batch_size": "4"}
TINY |= {"budget": "steps", "max_steps": "20", "sample_every": "10", "tokenizer": "char"}
MODEL_PAGES = ["tokens", "positional", "attention", "block", "explorer", "generate", "learned"]
OTHER_PAGES = ["finetune"]  # they show the hostile model (a base to pick) without the model summary line


@dataclass(frozen=True)
class Site:
    page: str
    element: str  # the proto's name: Markdown, Alert, Selectbox, ...
    field: str  # dotted path in the proto
    kind: str  # markdown, plain, html, chart, or unknown
    value: str


PLAIN_CHOICES = ("options", "default", "raw_value", "raw_values")  # a selectbox's options: plain text


def classify(element: str, path: tuple[str, ...], proto: dict) -> str:
    last = path[-1]
    if last in ("label", "help"):
        return "markdown"  # widget, metric, expander, tab and page-link labels and tooltips
    if element == "Markdown" and last == "body":
        return "html" if proto.get("allow_html") else "markdown"
    if (element, last) in {("Alert", "body"), ("Heading", "body"), ("Toast", "body"), ("Metric", "body")}:
        return "markdown"
    if (element, last) in {("Metric", "delta"), ("Progress", "text")}:
        return "markdown"
    if element in ("Radio", "Slider", "ButtonGroup") and path[0] == "options":
        return "markdown"
    if element in ("Text", "Code", "Json"):
        return "plain"
    if element in ("Selectbox", "MultiSelect") and path[0] in PLAIN_CHOICES:
        return "plain"
    if element in ("TextInput", "TextArea") and last in ("default", "value", "placeholder", "raw_value"):
        return "plain"
    if element == "Html" and last == "body":
        return "html"
    if element == "PlotlyChart" and last == "spec":
        return "chart"
    return "unknown"


def strings(value, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, (*path, key))
    elif isinstance(value, list):
        for item in value:
            yield from strings(item, path)
    elif isinstance(value, str):
        yield path, value


def sites(at: AppTest, page: str) -> list[Site]:
    """Every string of every element and block drawn, with where it is."""
    found = []
    stack = [at._tree]
    while stack:
        node = stack.pop()
        stack.extend(getattr(node, "children", {}).values())
        proto = getattr(node, "proto", None)
        if not isinstance(proto, Message):
            continue
        data = MessageToDict(proto, preserving_proto_field_name=True)
        element = type(proto).__name__
        for path, value in strings(data):
            if MARK in value and path[-1] not in ("id", "data", "form_id", "url", "page", "page_script_hash"):
                found.append(Site(page, element, ".".join(path), classify(element, path, data), value))
    return found


def active(markdown: str) -> str:
    """The Markdown with every backslash escape removed: what is left can format."""
    return re.sub(r"\\[!-/:-@\[-`{-~]", "", markdown)


def read_back(markdown: str) -> str:
    """What a renderer shows of escaped text: escapes resolved, word joiners invisible."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace(WORD_JOINER, "")


def problems_of(site: Site) -> list[str]:
    where = f"{site.page}: {site.element}.{site.field} ({site.kind}) {site.value[:120]!r}"
    if site.kind == "unknown":
        return [f"user text in a field this test does not know: {where}"]
    if site.kind == "markdown":
        shown = active(site.value)
        found = [s for s in SIGNATURES if s in shown]
        found += [c for c in BIDI_CONTROLS if c in site.value]
        return [f"active {found} in Markdown: {where}"] if found else []
    if site.kind == "plain":
        return [f"escaped plain text: {where}"] if "\\" in site.value else []
    if site.kind == "html":
        found = [s for s in ("<img src=x", "<b>qzb", "onerror=") if s in site.value]
        if found or not site.value.lstrip().startswith(("<div", "<style")):
            return [f"HTML not escaped or not one HTML block {found}: {where}"]
        return []
    texts = [text for _, text in strings(json.loads(site.value)) if MARK in text]
    bad = [text for text in texts if "<" in text and "<br>" not in text]
    return [f"a chart label keeps a tag {bad[:3]}: {where}"] if bad else []


def formatting_language(monkeypatch, lang: str) -> None:
    """The language t() uses in the test thread, where AppTest calls the widgets' format_func."""
    monkeypatch.setattr(ui.i18n, "DEFAULT_LANGUAGE", lang)
    monkeypatch.setattr(streamlit.runtime.state.session_state_proxy, "_mock_session_state", None)


@pytest.fixture(scope="module")
def hostile_checkpoint() -> Checkpoint:
    """A BPE model trained on the payloads (so its tokens are pieces of them), meta not cleaned: the
    app must cope even with what tinylm.checkpoint.clean_meta would remove (newlines)."""
    tokenizer = BPETokenizer.train((TYPED + NAME + CORPUS + " Lily had a red ball. ") * 40, 320)
    config = ModelConfig(vocab_size=tokenizer.vocab_size, context_len=32, d_model=16, n_layers=1, n_heads=2)
    meta = {"name": NAME, "corpus": CORPUS, "created": CREATED}
    return Checkpoint(TinyLM(config, seed=3).eval(), tokenizer, meta=meta)


def summary_reads_back(found: list[Site]) -> bool:
    """The line about the model (model_summary) shows name, corpus and date exactly as given."""
    expected = [bidi_visible(one_line(text)) for text in (NAME, CORPUS, CREATED)]
    return any(
        site.kind == "markdown" and all(part in read_back(site.value) for part in expected) for site in found
    )


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_shows_hostile_metadata_and_typed_text_literally(lang, monkeypatch, hostile_checkpoint):
    formatting_language(monkeypatch, lang)
    run_id = f"hostile-{lang}"
    monkeypatch.setattr(ui.runs, "manager", lambda: FakeJobs(run_id, hostile_checkpoint))
    monkeypatch.setattr(ui.layout, "PAGES", [p for p in ui.layout.PAGES if (ROOT / p[1]).is_file()])
    views = [("home", {})]
    views += [(page, {"text": TYPED}) for page in MODEL_PAGES if page != "generate"]
    views += [("generate", {"prompt": TYPED}), ("generate", {"prompt": TYPED, "mode": "step", "step": "3"})]
    views += [(page, {}) for page in OTHER_PAGES]
    problems, found = [], []
    for page, query in views:
        at = open_page(page, lang=lang, model=f"run:{run_id}", **query)
        assert at.session_state["_model_key"] == f"run:{run_id}", page
        page_sites = sites(at, page)
        found += page_sites
        problems += [problem for site in page_sites for problem in problems_of(site)]
        # The sites every page has: the line about the model (Markdown) and the model selector (plain).
        if page not in OTHER_PAGES and not summary_reads_back(page_sites):
            problems.append(f"{page}: the model's name, corpus and date are not shown as given")
        if not any(s.element == "Selectbox" and s.kind == "plain" and NAME in s.value for s in page_sites):
            problems.append(f"{page}: the sidebar's model selector does not offer the model by its name")
    assert not problems, "\n".join(problems)
    kinds = {(site.element, site.kind) for site in found}
    # Typed text reached chips (HTML), code (plain), charts and escaped Markdown (token labels).
    expected = {("Markdown", "html"), ("Code", "plain"), ("PlotlyChart", "chart"), ("Markdown", "markdown")}
    assert expected <= kinds


# --------------------------------------------------------------------------------- the Train page


@pytest.fixture
def fresh_jobs(tmp_path, monkeypatch):
    monkeypatch.setattr(ui.layout, "_model_label", str)
    monkeypatch.setattr(streamlit.runtime.state.session_state_proxy, "_mock_session_state", None)
    monkeypatch.setattr(ui.layout, "PAGES", [p for p in ui.layout.PAGES if (ROOT / p[1]).is_file()])
    manager = ui.runs.reset_manager_for_tests(
        tmp_path / "runs", max_jobs=1, max_queue=2, orphan_seconds=60.0, session_alive=lambda session: False
    )
    yield manager
    manager.shutdown()


def rezip(data: bytes, change) -> bytes:
    """A checkpoint zip with its tinylm.json changed by ``change(document)``."""
    files = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            files[name] = archive.read(name)
    document = json.loads(files["tinylm.json"])
    change(document)
    files["tinylm.json"] = json.dumps(document).encode()
    return zip_of(files)


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_train_page_shows_hostile_file_names_checkpoints_and_errors_literally(lang, monkeypatch, fresh_jobs):
    formatting_language(monkeypatch, lang)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in {"lang": lang, "corpus": "upload", **TINY}.items():
        at.query_params[key] = value
    at.switch_page(PAGE_FILES["train"]).run()
    problems, found = [], []

    def check(step: str) -> list[Site]:
        assert not at.exception, [e.value for e in at.exception]
        drawn = sites(at, f"train/{step}")
        found.extend(drawn)
        problems.extend(problem for site in drawn for problem in problems_of(site))
        return drawn

    # A corpus file whose name is the payload (a browser sends no newline in a name: a space instead),
    # trained on: its name is then in the run's label, the comparison chart and the run menus.
    file_name = one_line(CORPUS).replace("↵", " ") + ".txt"
    text = ("Lily had a red ball. Tom saw a cat. " * 200).encode()
    at.file_uploader(key="train.text_upload").set_value((file_name, text, "text/plain")).run()
    at.button(key="train.start").click().run()
    view = fresh_jobs.wait(at.session_state["_train_current"], timeout=60)
    assert view.finished, view.status
    at.run()
    drawn = check("trained")
    assert any(site.element == "Text" and site.kind == "plain" and MARK in site.value for site in drawn)

    # Broken checkpoints whose error messages echo a hostile zip entry, config key and version.
    tokenizer = CharTokenizer.from_text("hello world")
    config = ModelConfig(vocab_size=tokenizer.vocab_size, context_len=16, d_model=16, n_layers=1, n_heads=2)
    model = TinyLM(config)
    good = checkpoint_zip_bytes(model, tokenizer, meta={"name": NAME, "corpus": CORPUS, "created": CREATED})
    broken = {
        "entries": zip_of({"![e](http://qzil.example/e.png)": b"x", ":red[qzred]": b"y", "$qz^2$": b"z"}),
        "config key": rezip(good, lambda d: d["config"].update({":material/home: $qz^2$ ![n]": 1})),
        "version": rezip(good, lambda d: d.update(version=":smile: $qz$ qz -> b")),
    }
    for what, data in broken.items():
        uploader = at.file_uploader(key="train.checkpoint_upload")
        uploader.set_value((f"{what}.zip", data, "application/zip")).run()
        drawn = check(what)
        if not any(site.element == "Alert" and site.kind == "markdown" for site in drawn):
            problems.append(f"the error about the {what} does not echo it")

    # A good checkpoint with hostile metadata (cleaned by clean_meta: no newlines) becomes a run.
    # (Its name and corpus are cut to 60 characters by the import.)
    at.file_uploader(key="train.checkpoint_upload").set_value(("good.zip", good, "application/zip")).run()
    drawn = check("checkpoint")
    assert at.session_state["_model_key"].startswith("run:")
    shown = [site for site in drawn if site.element == "Text" and "⬆" in site.value]  # the run's label
    if not shown or "\\" in shown[0].value:
        problems.append(f"the uploaded run's label is not shown as plain text: {shown}")
    assert not problems, "\n".join(problems)
    assert {("Alert", "markdown"), ("Text", "plain")} <= {(site.element, site.kind) for site in found}

    # Every page then shows the uploaded model's line: name and corpus as given (clean_meta took the
    # newlines out; the bidi controls are kept and shown as placeholders).
    at.switch_page(PAGE_FILES["home"]).run()
    home = check("home")
    expected = [bidi_visible(text.replace("\n", "")[:60]) for text in (NAME, CORPUS)]
    markdown = [read_back(site.value) for site in home if site.kind == "markdown"]
    assert any(all(part in shown for part in expected) for shown in markdown)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("text", ["upon a time.\n\n\n", "\n\nupon\n", "upon", "\n", ""])
def test_shown_as_code_is_what_st_code_holds(text):
    """The tests compare samples with code blocks through shown_as_code: checked against Streamlit itself."""

    def script(body: str) -> None:
        import streamlit as st

        st.code(body, language=None)

    at = AppTest.from_function(script, args=(text,)).run()
    assert [block.value for block in at.code] == [shown_as_code(text)]
