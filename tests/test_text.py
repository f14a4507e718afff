"""ui.text: user text made literal for Streamlit's Markdown (issue #11 §3).

A unit test cannot render Markdown; it pins the escaped form of each kind of payload and checks, on
random text, that the form reads back as exactly the text (backslashes and word joiners removed,
placeholders put back). tests/e2e/test_hostile.py checks what a browser then shows.
"""

from __future__ import annotations

import random
import re

import pytest

from ui.text import (
    BIDI_CONTROLS,
    CUT_MARK,
    NEWLINE_MARK,
    WORD_JOINER,
    bidi_visible,
    literal_params,
    markdown_literal,
)

WJ = WORD_JOINER
ASCII_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def read_back(literal: str) -> str:
    """What a Markdown renderer shows for ``literal``: escapes resolved, word joiners invisible."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", literal).replace(WJ, "")


def unescaped_punctuation(literal: str) -> str:
    """The ASCII punctuation of ``literal`` that is not backslash-escaped (should be none)."""
    return "".join(re.findall(r"[!-/:-@\[-`{-~]", re.sub(r"\\[!-/:-@\[-`{-~]", "", literal)))


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("**bold** _it_ `code`", r"\*\*bold\*\* \_it\_ \`code\`"),
        ("$x^2$", r"\$x\^2\$"),
        ("$$\\int$$", r"\$\$\\int\$\$"),
        (":red[x]", rf"\:{WJ}red\[x\]"),
        (":blue-background[x] :help[y]", rf"\:{WJ}blue\-background\[x\] \:{WJ}help\[y\]"),
        (":material/home:", rf"\:{WJ}material\/home\:"),
        (":material_home: :streamlit: :smile:", rf"\:{WJ}material\_home\: \:{WJ}streamlit\: \:{WJ}smile\:"),
        ("![](http://x/y.png)", rf"\!\[\]\(http\:{WJ}\/\/x\/y\.png\)"),
        ("[a](http://x)", rf"\[a\]\(http\:{WJ}\/\/x\)"),
        ("<https://x>", rf"\<https\:{WJ}\/\/x\>"),
        ("www.x.org", rf"www{WJ}\.x\.org"),
        ("a@b.org", rf"a\@{WJ}b\.org"),
        ("a -> b <- c -- d", rf"a \-{WJ}\> b \<{WJ}\- c \-{WJ}\- d"),
        (">= e <= f ~= g", rf"\>{WJ}\= e \<{WJ}\= f \~{WJ}\= g"),
        ("<img src=x onerror=alert(1)>", r"\<img src\=x onerror\=alert\(1\)\>"),
        ("&amp; &#42;", r"\&amp\; \&\#42\;"),
        ("a\n# heading", rf"a{NEWLINE_MARK}\# heading"),
        ("a\r\n- item\r> quote", rf"a{NEWLINE_MARK}\- item{NEWLINE_MARK}\> quote"),
        ("x\u2028y\u2029z", f"x{NEWLINE_MARK}y{NEWLINE_MARK}z"),
        ("| a | b |\n|---|---|", rf"\| a \| b \|{NEWLINE_MARK}\|\-{WJ}\-{WJ}\-\|\-{WJ}\-{WJ}\-\|"),
        ("a\u202eevil", "a⟨RLO⟩evil"),
        ("\u2066x\u2069 \u200f \u061c", "⟨LRI⟩x⟨PDI⟩ ⟨RLM⟩ ⟨ALM⟩"),
        ("12:30 3.14 ok: done", rf"12\:{WJ}30 3\.14 ok\: done"),
        ("我爱吃饼干 Lily", "我爱吃饼干 Lily"),
    ],
)
def test_each_kind_of_markup_is_escaped(text: str, literal: str) -> None:
    assert markdown_literal(text) == literal
    assert unescaped_punctuation(literal) == ""


def test_newlines_and_bidi_controls_never_survive() -> None:
    text = "a\nb\r\nc\rd\x0be\x0cf\x85g\u2028h\u2029i" + "".join(BIDI_CONTROLS)
    literal = markdown_literal(text)
    assert not re.search("[\n\r\x0b\x0c\x85\u2028\u2029]", literal)
    assert not set(literal) & set(BIDI_CONTROLS)
    assert literal.count(NEWLINE_MARK) == 8
    assert all(placeholder in literal for placeholder in BIDI_CONTROLS.values())


def test_random_text_reads_back_exactly() -> None:
    """On random text of punctuation, letters, CJK and spaces, the literal form shows the text itself
    (no newlines or bidi controls here: those have placeholders), and leaves no punctuation active."""
    rng = random.Random(11)
    alphabet = ASCII_PUNCTUATION + "abcXYZ019 _w我爱\t"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        literal = markdown_literal(text)
        assert read_back(literal) == text, (text, literal)
        assert unescaped_punctuation(literal) == "", (text, literal)
        # Streamlit's after-parsing rewrites need these sequences in the shown text: all broken (\w as in
        # JavaScript: ASCII only).
        shown = re.sub(r"\\(.)", r"\1", literal)
        for pattern in (r":[\w+\-/]", r"@[\w-]", r"www\.", r"<-|->|--|>=|<=|~="):
            assert not re.search(pattern, shown, flags=re.IGNORECASE | re.ASCII), (text, pattern)


def test_a_cut_keeps_whole_escapes() -> None:
    assert markdown_literal("abcdef", limit=4) == f"abc{CUT_MARK}"
    assert markdown_literal("abc", limit=3) == "abc"
    cut = markdown_literal("$$$$$$", limit=3)
    assert cut == rf"\$\${CUT_MARK}" and not cut.endswith("\\")
    assert markdown_literal(12.5) == r"12\.5"  # anything becomes its text


def test_bidi_visible_keeps_everything_else() -> None:
    assert bidi_visible("abc\u202edef *x*") == "abc⟨RLO⟩def *x*"
    assert bidi_visible("שלום") == "שלום"  # right-to-left letters themselves stay


def test_error_params_are_literal_but_numbers_stay_numbers() -> None:
    params = literal_params({"detail": "![x](http://e/x.png)", "value": 1_000_000, "low": 0.5, "ok": True})
    assert params["detail"] == markdown_literal("![x](http://e/x.png)")
    assert params["value"] == 1_000_000 and params["low"] == 0.5 and params["ok"] is True
    assert "{value:,}".format(**params) == "1,000,000"
    assert literal_params({"keys": ["$a$", ":red[b]"]})["keys"] == markdown_literal("['$a$', ':red[b]']")
