"""Every place the app's code hands text to something Streamlit renders as Markdown (or as HTML) is
checked here, statically (issue #11 §3). tests/app/test_user_text.py checks the same places on the
pages as drawn, with hostile model metadata and typed text.

The rule, over app.py, pages/*.py and ui/**/*.py: an argument that Streamlit renders as Markdown (the
body of st.markdown / caption / alerts / toast / titles; a widget's label and help; a metric's label,
value and delta; a progress bar's text; expander and tab labels; the format_func of radio buttons,
pills, segmented controls and select sliders) is built only from

* literals, t()/translated() calls whose parameters follow this rule too, numbers formatted by an
  f-string's format spec (``f"{x:,}"``, ``f"{p:.3f}"``), and calls of SAFE_CALLS;
* names whose every assignment in the same file follows this rule (``x = markdown_literal(...)``, a
  list or dict of such values), and module constants (UPPER_CASE);
* the same holds for what the app's MARKDOWN_FUNCTIONS return (model_summary, error_message ...);
* anything else, unless its names say it may be a user's text (USER_WORDS: label, name, text, prompt,
  piece, corpus, meta, message ...): those must go through markdown_literal or be listed in REVIEWED,
  the table of display sites a reviewer checked, each with the reason it is safe.

HTML (``unsafe_allow_html=True``, ``st.html``) comes only from HTML_SOURCES, builders that
``html.escape`` every user string (tested below), or from REVIEWED.
"""

from __future__ import annotations

import ast
import html
import re

import pytest

from tests.conftest import ROOT
from tinylm.tokenizers import CharTokenizer
from ui.text import markdown_literal

FILES = sorted([ROOT / "app.py", *ROOT.glob("pages/*.py"), *(ROOT / "ui").rglob("*.py")])
FILES = [path for path in FILES if "strings" not in path.relative_to(ROOT).parts]

MARKDOWN_BODY = {"markdown", "caption", "info", "warning", "error", "success", "toast", "title", "header"}
MARKDOWN_BODY |= {"subheader", "write", "expander", "popover", "status", "spinner"}
LABELLED = {"button", "download_button", "link_button", "page_link", "checkbox", "toggle", "radio", "pills"}
LABELLED |= {"segmented_control", "selectbox", "multiselect", "select_slider", "slider", "number_input"}
LABELLED |= {"text_input", "text_area", "file_uploader", "color_picker", "date_input", "time_input"}
LABELLED |= {"camera_input", "audio_input", "chat_input", "form_submit_button", "data_editor"}
MARKDOWN_OPTIONS = {"radio", "pills", "segmented_control", "select_slider"}  # selectbox: plain text
MARKDOWN_KEYWORDS = {"body", "label", "help", "value", "delta", "text"}
# Functions whose result is safe in Markdown: translations, already literal text, numbers.
SAFE_CALLS = {"t", "translated", "markdown_literal", "len", "int", "float", "round", "min", "max", "abs"}
SAFE_CALLS |= {"literal_params"}
# ... and the app's own functions that return Markdown: what they return follows the rule (checked).
MARKDOWN_FUNCTIONS = {"model_summary", "error_message", "message_text", "duration", "status_label"}
SAFE_CALLS |= MARKDOWN_FUNCTIONS
# Builders of HTML that escape every user string they are given (see the tests at the end).
HTML_SOURCES = {"token_html", "token_chips", "chips", "legend_html", "NAV_CSS", "PRESENTER_CSS"}
USER_WORDS = {"label", "labels", "name", "names", "meta", "text", "texts", "prompt", "piece", "pieces"}
USER_WORDS |= {"token", "chars", "unknown", "corpus", "message", "detail", "params", "created", "summary"}
USER_WORDS |= {"shown", "title", "subtitle", "source", "upload", "file", "filename", "value", "student"}
# (file, expression): why the expression is safe where it is shown.
REVIEWED = {
    ("pages/1_Tokens.py", "source"): "t('tokens.char_*' / 'tokens.bpe_*'): numbers, built-in corpus names",
    ("pages/1_Tokens.py", "bpe_corpus"): "always a built-in corpus (an uploaded corpus falls back to one)",
    ("pages/7_Train.py", "prompt_tokens"): "the sample prompt's length in tokens (an int)",
    ("pages/6_Generate.py", "shown"): "generation.chips(): escaped HTML (tested below)",
    ("ui/generation.py", "title"): "output_column's title: t('generate.*_title') from the page",
    ("ui/generation.py", "subtitle"): "output_column's subtitle: t() with formatted numbers",
    ("ui/train_view.py", "title"): "t('train.attention_at', ...) with numbers",
    ("ui/train_view.py", "text"): "t('train.progress', ...) with numbers and durations",
    ("ui/widgets.py", "label"): "the caller's translated label",
    ("ui/widgets.py", "labels[lang]"): "the caller's translated example-button labels",
    ("ui/runs/session.py", "label.format(step=f'{step:,}')"): "t('sidebar.training_running') and a number",
    ("ui/runs/session.py", "student"): "student_id(): [A-Za-z0-9_-]{22}, validated where it is read",
    ("ui/class_session.py", "'<script>' + ''.join(lines) + '</script>'"): "cookie lines: fixed names and "
    "values that matched the member-cookie or teacher-key pattern ([A-Za-z0-9_.-] only) just above",
    ("ui/class_view.py", "loss_text(row.val_loss)"): "a number formatted with .3f, or a dash",
    ("pages/9_Scaling.py", "label"): "the example buttons' labels: t('scaling.example.*')",
    ("pages/9_Scaling.py", "source.key"): "tinylm.scaling.SOURCES: the app's own list of published papers",
    ("pages/9_Scaling.py", "source.citation"): "tinylm.scaling.SOURCES: the app's own citations",
    ("pages/9_Scaling.py", "source.url"): "tinylm.scaling.SOURCES: the papers' fixed addresses",
    ("ui/scaling_view.py", "text"): "t('scaling.progress_*', ...) with numbers and durations",
    ("ui/scaling_view.py", "label"): "t('common.download_png') / t('scaling.download_svg')",
    ("ui/scaling_view.py", "size_name(size.index, size.parameters)"): "t('scaling.size_name') with numbers",
    ("ui/finetune_view.py", "share_text(result.get('trainable_share'))"): "a share as '0.8 %', or '–'",
}


def _called(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return None


def safe_names(tree: ast.AST) -> set[str]:
    """Names whose every assignment in the file is safe text: markdown_literal(...), t(...), a number,
    a list / dict comprehension of such values... (and that are bound in no other way)."""
    stores: dict[str, list[ast.AST | None]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            stores.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stores.setdefault(node.id, [])
        elif isinstance(node, ast.arg):
            stores.setdefault(node.arg, []).append(None)  # a parameter: anything
    for node in ast.walk(tree):  # the sole targets of plain assignments were counted above
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            continue
        for target in getattr(node, "targets", None) or [getattr(node, "target", None)]:
            for name in ast.walk(target) if target is not None else []:
                if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store):
                    stores[name.id].append(None)
    safe: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, values in stores.items():
            if name in safe or not values or None in values:
                continue
            if all(not unsafe_parts(_element(value), safe) for value in values):
                safe.add(name)
                changed = True
    return safe


def _element(value: ast.AST) -> ast.AST:
    """What a comprehension's items are; a value otherwise."""
    if isinstance(value, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        return value.elt
    if isinstance(value, ast.DictComp):
        return value.value
    if isinstance(value, ast.Dict):
        return ast.List(elts=list(value.values))
    return value


def unsafe_parts(expr: ast.AST, escaped: set[str]) -> list[ast.AST]:
    """The parts of ``expr`` not known to be safe in Markdown."""
    if isinstance(expr, ast.Constant):
        return []
    if isinstance(expr, ast.JoinedStr):
        return [part for value in expr.values for part in unsafe_parts(value, escaped)]
    if isinstance(expr, ast.FormattedValue):
        spec = ast.unparse(expr.format_spec) if expr.format_spec is not None else ""
        numeric = re.search(r"[,defgx%]", spec) is not None  # these specs refuse a str
        return [] if numeric else unsafe_parts(expr.value, escaped)
    if isinstance(expr, (ast.List, ast.Tuple)):
        return [part for element in expr.elts for part in unsafe_parts(element, escaped)]
    if isinstance(expr, ast.BinOp):
        return unsafe_parts(expr.left, escaped) + unsafe_parts(expr.right, escaped)
    if isinstance(expr, ast.IfExp):
        return unsafe_parts(expr.body, escaped) + unsafe_parts(expr.orelse, escaped)
    if isinstance(expr, ast.Lambda):
        return unsafe_parts(expr.body, escaped)
    if isinstance(expr, ast.Call) and _called(expr) in SAFE_CALLS:
        if _called(expr) in ("t", "translated"):
            values = [*expr.args[1:], *(keyword.value for keyword in expr.keywords)]
            return [part for value in values for part in unsafe_parts(value, escaped)]
        return []
    root = expr
    while isinstance(root, (ast.Subscript, ast.Attribute)):
        root = root.value
    if isinstance(root, ast.Name) and (root.id in escaped or root.id.isupper()):  # or a module constant
        return []
    return [expr]


def mentions_user_text(expr: ast.AST) -> bool:
    words = set()
    for node in ast.walk(expr):
        identifier = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if isinstance(identifier, str):
            words.update(identifier.lower().split("_"))
    return bool(words & USER_WORDS)


def markdown_arguments(call: ast.Call) -> list[ast.AST]:
    """The arguments of a Streamlit call that are rendered as Markdown."""
    name = _called(call)
    keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
    found: list[ast.AST] = []
    if name in MARKDOWN_BODY:
        found += call.args[:1]
    elif name == "metric":
        found += call.args[:3]
    elif name == "tabs":
        found += call.args[:1]
    elif name in LABELLED:
        found += call.args[:1] if name != "page_link" else []
    elif name != "progress":
        return []
    found += [value for keyword, value in keywords.items() if keyword in MARKDOWN_KEYWORDS]
    if name in MARKDOWN_OPTIONS and "format_func" in keywords:
        found.append(keywords["format_func"])
    return found


def html_arguments(call: ast.Call) -> list[ast.AST]:
    keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
    allowed = keywords.get("unsafe_allow_html")
    if _called(call) == "html" or (isinstance(allowed, ast.Constant) and allowed.value is True):
        return call.args[:1] or [keywords["body"]]
    return []


def html_is_built_safely(expr: ast.AST) -> list[ast.AST]:
    if isinstance(expr, ast.Call) and _called(expr) in HTML_SOURCES:
        return []
    if isinstance(expr, ast.Name) and expr.id in HTML_SOURCES:
        return []
    if isinstance(expr, ast.JoinedStr):
        values = [v.value for v in expr.values if isinstance(v, ast.FormattedValue)]
        return [v for v in values if not (isinstance(v, ast.Name) and v.id.isupper())]
    return [expr]


def display_sites() -> tuple[list[str], list[str], int]:
    """(problems, reviewed sites used, number of Markdown arguments checked)."""
    problems, used, checked = [], [], 0
    for path in FILES:
        relative = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        escaped = safe_names(tree)
        for function in (node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)):
            if function.name in MARKDOWN_FUNCTIONS:
                returns = [node.value for node in ast.walk(function) if isinstance(node, ast.Return)]
                for value in filter(None, returns):
                    checked += 1
                    for part in unsafe_parts(value, escaped):
                        if mentions_user_text(part) and (relative, ast.unparse(part)) not in REVIEWED:
                            where = f"{relative}:{value.lineno}: {function.name}"
                            problems.append(f"{where} returns {ast.unparse(part)}")
                        elif mentions_user_text(part):
                            used.append((relative, ast.unparse(part)))
        for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
            if not isinstance(call.func, ast.Attribute):
                continue
            html_args = html_arguments(call)
            parts = [part for arg in html_args for part in html_is_built_safely(arg)]
            if not html_args:
                arguments = markdown_arguments(call)
                checked += len(arguments)
                parts = [p for arg in arguments for p in unsafe_parts(arg, escaped) if mentions_user_text(p)]
            for part in parts:
                source = ast.unparse(part)
                if (relative, source) in REVIEWED:
                    used.append((relative, source))
                else:
                    problems.append(f"{relative}:{call.lineno}: {_called(call)}(... {source} ...)")
    return problems, used, checked


def test_user_text_reaches_markdown_only_through_markdown_literal():
    problems, used, checked = display_sites()
    assert checked > 300  # the walk finds the app's calls (it would pass vacuously otherwise)
    assert not problems, "user text in Markdown or HTML without markdown_literal:\n" + "\n".join(problems)
    stale = set(REVIEWED) - set(used)
    assert not stale, f"REVIEWED lists sites that no longer exist: {sorted(stale)}"


def flagged(source: str) -> list[ast.AST]:
    """The parts of one Streamlit call (after a line defining md_name, a list of literal texts) that the
    rule finds."""
    tree = ast.parse("md_name = [markdown_literal(n) for n in names]\n" + source)
    call, safe = tree.body[1].value, safe_names(tree)
    html_args = html_arguments(call)
    if html_args:
        return [part for arg in html_args for part in html_is_built_safely(arg)]
    return [p for arg in markdown_arguments(call) for p in unsafe_parts(arg, safe) if mentions_user_text(p)]


@pytest.mark.parametrize(
    "source",
    [
        "st.caption(f\"{t('x')}: {view.label}\")",
        'st.markdown(t("model.summary", name=active.meta["name"]))',
        'col.metric(t("x"), figures.visible(step.token_text))',
        'st.warning(t("common.unknown_chars", chars=" ".join(unknown)))',
        'st.radio(t("x"), ids, format_func=lambda i: pieces[i])',
        'st.markdown(f"<b>{prompt}</b>", unsafe_allow_html=True)',
        "st.error(exc.message)",
        "st.expander(upload.name)",
    ],
)
def test_the_rule_catches_user_text(source):
    assert flagged(source), source


@pytest.mark.parametrize(
    "source",
    [
        "st.caption(f\"{t('x')}: {markdown_literal(view.label)}\")",
        'st.markdown(t("x", n=f"{count:,}", name=md_name[0]))',
        'st.selectbox(t("x"), ids, format_func=lambda i: pieces[i])',  # selectbox options are plain text
        "st.code(prompt)",
        "st.markdown(figures.token_html(pieces, colors), unsafe_allow_html=True)",
    ],
)
def test_the_rule_lets_safe_text_through(source):
    assert not flagged(source), source


HOSTILE = "<img src=x onerror=alert(1)>\"'&<script>alert(1)</script>"


def test_the_html_builders_escape_every_user_string():
    from ui import figures, generation

    built = figures.token_html([HOSTILE, "a\nb"], ["#fff", "#000"], [HOSTILE, 'x" onmouseover="y'])
    assert "<img" not in built and "<script" not in built and 'onmouseover="' not in built
    assert html.escape(HOSTILE) in built
    # One HTML block on one line: Markdown (st.markdown with unsafe_allow_html) leaves its inside alone.
    assert built.startswith("<div") and "\n" not in built
    legend = generation.legend_html()
    assert legend.startswith("<div") and "\n" not in legend
    tokenizer = CharTokenizer.from_text("abc")
    chips = generation.chips(tokenizer, HOSTILE, tokenizer.encode(HOSTILE), [])
    assert "<img" not in chips and "<script" not in chips and chips.startswith("<div") and "\n" not in chips


def test_markdown_literal_is_the_helper_the_pages_use():
    from ui import widgets

    assert widgets.markdown_literal is markdown_literal
