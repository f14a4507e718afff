"""Tests for tinylm.tokenizers: round trips, unknown characters, BPE merges, saving/loading."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinylm.errors import TinyLMError
from tinylm.tokenizers import (
    MAX_CHARS,
    MAX_CHUNK_CHARS,
    MAX_TOKEN_BYTES,
    UNKNOWN_CHAR,
    BPETokenizer,
    CharTokenizer,
    pretokenize,
    tokenizer_from_dict,
)

REPO_ROOT = Path(__file__).resolve().parents[1]

ENGLISH = [
    "The cat sat on the mat.",
    "A tiny language model learns which token comes next.",
    "Tokens are the pieces of text that the model reads.",
    "We train the model on the text, then we sample from it.",
    "It's fun to watch the loss go down while the model learns!",
]
CHINESE = [
    "我们喜欢学习语言模型。",
    "今天我们一起学习中文。",
    "语言模型会预测下一个词。",
    "我们的老师说：学习要认真！",
    "中国的文化历史很长，我们都很喜欢。",
]


def make_mixed_text(n_lines: int = 400, seed: int = 0) -> str:
    """A small English + Chinese corpus (with numbers, emoji and odd whitespace) built in code."""
    rng = random.Random(seed)
    lines = []
    for i in range(n_lines):
        parts = [rng.choice(ENGLISH), rng.choice(CHINESE)]
        if i % 7 == 0:
            parts.append(f"Step {rng.randint(0, 999)}: loss = {rng.random():.3f} 🙂")
        if i % 11 == 0:
            parts.append("tabs\tand  spaces   \r\n")
        rng.shuffle(parts)
        lines.append(" ".join(parts))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def mixed_text() -> str:
    return make_mixed_text()


@pytest.fixture(scope="module")
def bpe(mixed_text: str) -> BPETokenizer:
    return BPETokenizer.train(mixed_text, vocab_size=512)


@pytest.fixture(scope="module")
def chinese_bpe() -> BPETokenizer:
    rng = random.Random(1)
    text = "".join(rng.choice(CHINESE) for _ in range(600))
    return BPETokenizer.train(text, vocab_size=400)


# Strategies: arbitrary Unicode, plus text biased towards CJK, emoji, combining marks, "\r\n", NUL.
# codec="utf-8" leaves out lone surrogates, which are not text (see test_*_lone_surrogates).
SPECIAL_CHARS = [*"我们学习语言模型中文，。！？😀🙂👍🏽é\u0301\r\n\t\x00 aZ9'_\ufffd", "\U00020000"]
unicode_chars = st.characters(codec="utf-8")
mixed_strings = st.text(st.one_of(unicode_chars, st.sampled_from(SPECIAL_CHARS)), max_size=200)


# ---------------------------------------------------------------------------------------------
# Pre-tokenisation
# ---------------------------------------------------------------------------------------------


@given(mixed_strings)
def test_pretokenize_covers_the_whole_text(text: str) -> None:
    chunks = pretokenize(text)
    assert "".join(chunks) == text
    assert all(chunks) and all(len(c) <= MAX_CHUNK_CHARS for c in chunks)


def test_pretokenize_splits_like_gpt2() -> None:
    assert pretokenize("Hello world, it's 2024!") == ["Hello", " world", ",", " it", "'s", " 2024", "!"]
    # A run of Chinese is cut into short pieces; letters and CJK are separate chunks.
    assert pretokenize("我们喜欢学习语言模型") == ["我们喜欢", "学习语言", "模型"]
    assert pretokenize("AI模型") == ["AI", "模型"]
    # Whitespace before a word: all but the last space form their own chunk.
    assert pretokenize("a   b") == ["a", "  ", " b"]
    assert pretokenize("x" * 150) == ["x" * 64, "x" * 64, "x" * 22]


# ---------------------------------------------------------------------------------------------
# CharTokenizer
# ---------------------------------------------------------------------------------------------


def test_char_vocabulary_is_sorted_characters_plus_unknown() -> None:
    tok = CharTokenizer.from_text("hello")
    assert tok.kind == "char"
    assert tok.chars == ["e", "h", "l", "o"]
    assert tok.vocab_size == 5
    assert tok.encode("hole") == [2, 4, 3, 1]
    assert tok.decode([2, 4, 3, 1]) == "hole"
    assert tok.token_strings([2, 0]) == ["h", UNKNOWN_CHAR]


def test_char_unknown_characters_map_to_zero_and_are_reported() -> None:
    tok = CharTokenizer.from_text("hello world")
    assert tok.encode("hi!") == [tok.encode("h")[0], 0, 0]
    assert tok.decode(tok.encode("hi!")) == "h" + UNKNOWN_CHAR * 2
    assert tok.unknown_chars("hi! hi?") == ["i", "!", "?"]
    assert tok.unknown_chars("hello") == []


def test_char_strict_raises_unknown_chars() -> None:
    tok = CharTokenizer.from_text("hello world")
    assert tok.encode("hello", strict=True) == tok.encode("hello")
    with pytest.raises(TinyLMError) as info:
        tok.encode("hi!\n", strict=True)
    err = info.value
    assert err.code == "unknown_chars"
    assert err.params["count"] == 3
    assert err.params["chars"] == "i ! U+000A"
    assert "i ! U+000A" in err.message


def test_char_strict_error_truncates_long_lists() -> None:
    tok = CharTokenizer.from_text("a")
    with pytest.raises(TinyLMError) as info:
        tok.encode("bcdefghijklmnopqrstuvwxyz", strict=True)
    assert info.value.params["count"] == 25
    assert info.value.params["chars"] == "b c d e f g h i j k … (+15 more)"


def test_char_chinese_text() -> None:
    text = "".join(CHINESE)
    tok = CharTokenizer.from_text(text)
    assert tok.vocab_size == len(set(text)) + 1
    assert tok.decode(tok.encode(text)) == text
    assert tok.unknown_chars("我们爱猫") == ["爱", "猫"]
    ids = tok.encode("我们爱猫")
    assert ids[2:] == [0, 0] and 0 not in ids[:2]


def test_char_replacement_character_is_the_unknown_token() -> None:
    # U+FFFD in the training text does not get a second id: it *is* the unknown token.
    tok = CharTokenizer.from_text("ab\ufffd")
    assert tok.vocab_size == 3
    assert tok.encode("a\ufffdb") == [1, 0, 2]
    assert tok.decode(tok.encode("a\ufffdb")) == "a\ufffdb"
    assert tok.unknown_chars("\ufffd") == []
    assert tok.encode("\ufffd", strict=True) == [0]


def test_char_decode_never_raises() -> None:
    tok = CharTokenizer.from_text("abc")
    assert tok.decode([1, -1, 99, 3]) == "a" + UNKNOWN_CHAR * 2 + "c"


def test_char_errors() -> None:
    with pytest.raises(TinyLMError) as info:
        CharTokenizer.from_text("")
    assert info.value.code == "empty_text"
    with pytest.raises(TinyLMError) as info:
        CharTokenizer.from_text("ok\ud800")
    assert info.value.code == "not_utf8_text"
    assert info.value.params == {"position": 2}
    # encode just treats a lone surrogate as an unknown character
    assert CharTokenizer.from_text("ok").encode("o\ud800") == [2, 0]


@settings(max_examples=150)
@given(mixed_strings.filter(bool))
def test_char_round_trip_any_unicode(text: str) -> None:
    tok = CharTokenizer.from_text(text)
    ids = tok.encode(text, strict=True)
    assert tok.decode(ids) == text
    assert all(0 <= i < tok.vocab_size for i in ids)
    assert "".join(tok.token_strings(ids)) == text
    again = tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))
    assert again.to_dict() == tok.to_dict()
    assert again.encode(text) == ids


def test_char_to_dict_round_trip() -> None:
    tok = CharTokenizer.from_text("héllo 你好\r\n\x00😀")
    d = tok.to_dict()
    assert d["kind"] == "char"
    loaded = tokenizer_from_dict(json.loads(json.dumps(d, ensure_ascii=False)))
    assert isinstance(loaded, CharTokenizer)
    assert loaded.chars == tok.chars


@pytest.mark.parametrize(
    "d",
    [
        None,
        [],
        "char",
        {},
        {"kind": "char"},
        {"kind": "char", "chars": "abc"},
        {"kind": "char", "chars": ["a", "bc"]},
        {"kind": "char", "chars": ["a", ""]},
        {"kind": "char", "chars": ["a", 1]},
        {"kind": "char", "chars": ["a", "a"]},
        {"kind": "char", "chars": ["a", "\ufffd"]},
        {"kind": "char", "chars": ["\ud800"]},
        {"kind": "char", "chars": ["a"], "version": 99},
        {"kind": "bpe", "chars": ["a"]},
        {
            "kind": "char",
            "chars": [chr(0x4E00 + i) for i in range(MAX_CHARS + 1)],
        },  # more than a config allows
    ],
)
def test_char_from_dict_rejects_malformed(d: object) -> None:
    with pytest.raises(TinyLMError) as info:
        CharTokenizer.from_dict(d)  # type: ignore[arg-type]
    assert info.value.code == "bad_tokenizer"


# ---------------------------------------------------------------------------------------------
# BPETokenizer: training
# ---------------------------------------------------------------------------------------------


def test_bpe_first_merges_are_the_most_frequent_pairs() -> None:
    tok = BPETokenizer.train("aaab " * 50, vocab_size=260)
    a, b, space = ord("a"), ord("b"), ord(" ")
    # "aa" is the most frequent pair; then "a"+"b" and "aa"+"a" tie (smaller ids win); then "aa"+"ab".
    assert tok.merges[:3] == [(a, a), (a, b), (256, 257)]
    assert tok.token_bytes(258) == b"aaab"
    assert tok.merges[3] == (space, 258)  # " aaab"
    assert tok.kind == "bpe"
    assert tok.encode(" aaab") == [259]


def test_bpe_merge_table_is_readable() -> None:
    tok = BPETokenizer.train("aaab " * 50, vocab_size=260)
    table = tok.merge_table()
    assert [row["rank"] for row in table] == [0, 1, 2, 3]
    assert table[0] == {
        "rank": 0,
        "left": "a",
        "right": "a",
        "merged": "aa",
        "new_id": 256,
        "count": 100,  # "aaab" holds 2 (overlapping) "aa" pairs, and it occurs 50 times
        "left_id": 97,
        "right_id": 97,
    }
    assert [(r["left"], r["right"], r["merged"]) for r in table[2:]] == [
        ("aa", "ab", "aaab"),
        (" ", "aaab", " aaab"),
    ]


def test_bpe_vocab_size_is_respected(bpe: BPETokenizer, mixed_text: str) -> None:
    assert bpe.vocab_size == 512
    assert len(bpe.merges) == 256
    assert len(bpe.merge_table()) == 256
    assert max(bpe.encode(mixed_text)) < 512
    counts = [row["count"] for row in bpe.merge_table()]
    assert all(c >= 2 for c in counts)


def textbook_bpe_merges(text: str, vocab_size: int) -> list[tuple[int, int]]:
    """The slow, obvious BPE: recount all pairs after every merge (same chunks and tie-break)."""
    words = [list(chunk.encode("utf-8")) for chunk in pretokenize(text)]
    merges: list[tuple[int, int]] = []
    while len(merges) < vocab_size - 256:
        counts = Counter(pair for w in words for pair in pairwise(w))
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))  # most frequent, then smallest ids
        if counts[best] < 2:
            break
        new_id = 256 + len(merges)
        merges.append(best)
        for k, w in enumerate(words):
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(new_id)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[k] = out
    return merges


@settings(max_examples=60, deadline=None)
@given(st.text(st.sampled_from("aab  b我们们\n"), max_size=80), st.integers(256, 300))
def test_bpe_training_matches_the_textbook_algorithm(text: str, vocab_size: int) -> None:
    if not text:
        return
    assert BPETokenizer.train(text, vocab_size).merges == textbook_bpe_merges(text, vocab_size)


def test_bpe_training_matches_the_textbook_algorithm_on_mixed_text() -> None:
    text = make_mixed_text(60)
    assert BPETokenizer.train(text, 330).merges == textbook_bpe_merges(text, 330)


def test_bpe_stops_early_when_nothing_is_left_to_merge() -> None:
    tok = BPETokenizer.train("hello", vocab_size=1000)
    assert tok.vocab_size == 256  # no pair occurs twice
    tok = BPETokenizer.train("abab", vocab_size=1000)
    assert tok.merges == [(97, 98)]


def test_bpe_max_seconds_stops_early(mixed_text: str) -> None:
    tok = BPETokenizer.train(mixed_text, vocab_size=4096, max_seconds=0)
    assert tok.vocab_size == 256
    assert tok.decode(tok.encode(mixed_text)) == mixed_text
    with pytest.raises(ValueError):
        BPETokenizer.train(mixed_text, vocab_size=300, max_seconds=-1)


@pytest.mark.parametrize("vocab_size", [0, 255, 4097, 10**9, "512", 512.0, True, None])
def test_bpe_rejects_bad_vocab_size(vocab_size: object) -> None:
    with pytest.raises(TinyLMError) as info:
        BPETokenizer.train("some text", vocab_size=vocab_size)  # type: ignore[arg-type]
    assert info.value.code == "bad_vocab_size"
    assert info.value.params["minimum"] == 256
    assert info.value.params["maximum"] == 4096
    assert info.value.params["value"] == vocab_size


def test_bpe_rejects_empty_text_and_lone_surrogates() -> None:
    with pytest.raises(TinyLMError) as info:
        BPETokenizer.train("", vocab_size=300)
    assert info.value.code == "empty_text"
    with pytest.raises(TinyLMError) as info:
        BPETokenizer.train("abc\udc80", vocab_size=300)
    assert info.value.code == "not_utf8_text"
    assert info.value.params == {"position": 3}
    tok = BPETokenizer.train("abc abc", vocab_size=300)
    with pytest.raises(TinyLMError) as info:
        tok.encode("\ud83d")  # half of an emoji's UTF-16 surrogate pair
    assert info.value.code == "not_utf8_text"


def test_bpe_training_is_deterministic(mixed_text: str, bpe: BPETokenizer) -> None:
    assert BPETokenizer.train(mixed_text, vocab_size=512).merges == bpe.merges
    # ... also across processes with different string-hash seeds.
    code = (
        # Register a bare `tinylm` package so that tinylm/__init__.py (which imports torch) is skipped.
        "import json, sys, types; pkg = types.ModuleType('tinylm'); pkg.__path__ = ['tinylm'];"
        "sys.modules['tinylm'] = pkg; from tinylm.tokenizers import BPETokenizer;"
        "text = sys.stdin.buffer.read().decode('utf-8');"
        "print(json.dumps(BPETokenizer.train(text, 400).merges))"
    )
    text = make_mixed_text(120)
    result = subprocess.run(
        [sys.executable, "-c", code],
        input=text.encode("utf-8"),
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONHASHSEED": "12345"},  # this process has another (random) seed
        capture_output=True,
        check=True,
    )
    expected = json.dumps([list(m) for m in BPETokenizer.train(text, 400).merges])
    assert result.stdout.decode().strip() == expected


def test_bpe_learns_whole_chinese_characters_and_words(chinese_bpe: BPETokenizer) -> None:
    pieces = [row["merged"] for row in chinese_bpe.merge_table()]
    # Merged tokens become readable Chinese: single characters and common two-character words.
    assert "我们" in pieces
    assert "学习" in pieces
    assert any(len(p) == 1 and "\u4e00" <= p <= "\u9fff" for p in pieces)
    text = "我们喜欢学习语言模型。"
    ids = chinese_bpe.encode(text)
    assert len(ids) < len(text)  # fewer tokens than characters
    strings = chinese_bpe.token_strings(ids)
    assert "".join(strings) == text  # every token covers whole characters here
    assert all("<" not in s for s in strings)


def test_bpe_token_strings_show_partial_bytes() -> None:
    tok = BPETokenizer.train("abc", vocab_size=256)
    assert tok.token_strings([0xE6]) == ["<e6>"]
    ids = tok.encode("我")  # three bytes: e6 88 91
    assert ids == [0xE6, 0x88, 0x91]
    assert tok.token_strings(ids) == ["<e6>", "<88>", "<91>"]
    assert tok.token_strings([ord("a"), 10, 32]) == ["a", "\n", " "]
    # A merged token with one whole character followed by the start of another one.
    merges = [[0xE6, 0x88], [256, 0x91], [257, 0xE6], [258, 0x88]]
    tok = BPETokenizer.from_dict({"kind": "bpe", "merges": merges})
    assert tok.token_strings([256, 257, 258, 259]) == ["<e6 88>", "我", "我<e6>", "我<e6 88>"]
    assert tok.decode([259]) == "我\ufffd"


# ---------------------------------------------------------------------------------------------
# BPETokenizer: encoding / decoding
# ---------------------------------------------------------------------------------------------


@settings(max_examples=300)
@given(mixed_strings)
def test_bpe_round_trip_any_unicode(bpe: BPETokenizer, text: str) -> None:
    ids = bpe.encode(text)
    assert bpe.decode(ids) == text
    assert bpe.decode_bytes(ids) == text.encode("utf-8")
    assert all(0 <= i < bpe.vocab_size for i in ids)
    assert bpe.unknown_chars(text) == []
    assert bpe.encode(text, strict=True) == ids


@settings(max_examples=100)
@given(st.text(unicode_chars))
def test_bpe_round_trip_plain_hypothesis_text(bpe: BPETokenizer, text: str) -> None:
    assert bpe.decode(bpe.encode(text)) == text


@given(st.text(st.characters(categories=["Cs"]), min_size=1))
def test_bpe_lone_surrogates_raise_not_utf8_text(bpe: BPETokenizer, text: str) -> None:
    # Python strings may hold lone surrogates; they have no UTF-8 bytes, so they are refused.
    with pytest.raises(TinyLMError) as info:
        bpe.encode("ok " + text)
    assert info.value.code == "not_utf8_text"
    assert info.value.params == {"position": 3}


def test_bpe_round_trip_training_text(bpe: BPETokenizer, mixed_text: str) -> None:
    ids = bpe.encode(mixed_text)
    assert bpe.decode(ids) == mixed_text
    assert len(ids) < len(mixed_text.encode("utf-8")) / 2  # merges really compress


def test_bpe_encode_applies_merges_in_rank_order() -> None:
    # merges: "b"+"c" first, then "a"+"b". In "abc", "bc" wins because it was learned earlier.
    tok = BPETokenizer.from_dict({"kind": "bpe", "merges": [[98, 99], [97, 98]]})
    assert tok.encode("abc") == [97, 256]
    assert tok.encode("abx") == [257, 120]


@settings(max_examples=200)
@given(st.lists(st.integers(min_value=-3, max_value=600), max_size=50))
def test_bpe_decode_never_raises(bpe: BPETokenizer, ids: list[int]) -> None:
    text = bpe.decode(ids)
    assert isinstance(text, str)
    text.encode("utf-8")  # always valid text
    assert len(bpe.token_strings(ids)) == len(ids)


def test_bpe_decode_out_of_range_and_cut_characters(bpe: BPETokenizer) -> None:
    assert bpe.decode([bpe.vocab_size, -1]) == UNKNOWN_CHAR * 2
    ids = BPETokenizer.train("x", vocab_size=256).encode("我a")
    assert BPETokenizer.train("x", vocab_size=256).decode(ids[:2] + ids[3:]) == "\ufffda"
    with pytest.raises(IndexError):
        bpe.token_bytes(bpe.vocab_size)


def test_bpe_encode_cache_stays_bounded(bpe: BPETokenizer) -> None:
    text = " ".join(f"w{i}x" for i in range(BPETokenizer._CACHE_SIZE + 100))
    assert bpe.decode(bpe.encode(text)) == text
    assert len(bpe._cache) <= BPETokenizer._CACHE_SIZE


# ---------------------------------------------------------------------------------------------
# Saving / loading
# ---------------------------------------------------------------------------------------------


def test_bpe_to_dict_round_trip(bpe: BPETokenizer, mixed_text: str) -> None:
    d = bpe.to_dict()
    assert d["kind"] == "bpe"
    assert all(isinstance(m, list) and len(m) == 2 for m in d["merges"])
    loaded = tokenizer_from_dict(json.loads(json.dumps(d)))
    assert isinstance(loaded, BPETokenizer)
    assert loaded.to_dict() == d
    assert loaded.merges == bpe.merges
    assert loaded.merge_table() == bpe.merge_table()
    assert loaded.encode(mixed_text) == bpe.encode(mixed_text)
    # merge_counts is optional (display only)
    minimal = BPETokenizer.from_dict({"kind": "bpe", "merges": d["merges"]})
    assert minimal.merges == bpe.merges


@pytest.mark.parametrize(
    "d",
    [
        None,
        "bpe",
        [[97, 98]],
        {"merges": [[97, 98]]},
        {"kind": "char", "merges": [[97, 98]]},
        {"kind": "gpt4", "merges": []},
        {"kind": ["bpe"], "merges": []},
        {"kind": "bpe"},
        {"kind": "bpe", "merges": None},
        {"kind": "bpe", "merges": "97 98"},
        {"kind": "bpe", "merges": [[97]]},
        {"kind": "bpe", "merges": [[97, 98, 99]]},
        {"kind": "bpe", "merges": [97, 98]},
        {"kind": "bpe", "merges": [["a", "b"]]},
        {"kind": "bpe", "merges": [[97.0, 98]]},
        {"kind": "bpe", "merges": [[True, 98]]},
        {"kind": "bpe", "merges": [[-1, 98]]},
        {"kind": "bpe", "merges": [[97, 256]]},  # refers to itself
        {"kind": "bpe", "merges": [[97, 98], [257, 97]]},  # refers to a later token
        {"kind": "bpe", "merges": [[97, 98], [97, 98]]},  # duplicate
        {"kind": "bpe", "merges": [[97, 98]] * 5000},
        {"kind": "bpe", "merges": [[97, 98]], "merge_counts": [1, 2]},
        {"kind": "bpe", "merges": [[97, 98]], "merge_counts": [-1]},
        {"kind": "bpe", "merges": [[97, 98]], "merge_counts": "3"},
        {"kind": "bpe", "merges": [[97, 98]], "version": "1"},
        {"kind": "bpe", "merges": [[97, 98]], "merge_counts": [2**64]},
    ],
)
def test_bpe_from_dict_rejects_malformed(d: object) -> None:
    with pytest.raises(TinyLMError) as info:
        tokenizer_from_dict(d)  # type: ignore[arg-type]
    assert info.value.code == "bad_tokenizer"
    assert "detail" in info.value.params


def test_tokenizer_from_dict_dispatches_on_kind(bpe: BPETokenizer) -> None:
    char = CharTokenizer.from_text("abc")
    assert isinstance(tokenizer_from_dict(char.to_dict()), CharTokenizer)
    assert isinstance(tokenizer_from_dict(bpe.to_dict()), BPETokenizer)
    with pytest.raises(TinyLMError) as info:
        BPETokenizer.from_dict(char.to_dict())
    assert info.value.code == "bad_tokenizer"


# ---------------------------------------------------------------------------------------------
# Loading: sizes bounded before anything is built
# ---------------------------------------------------------------------------------------------


def test_bpe_self_merges_are_refused_before_any_token_is_built() -> None:
    # Each merge joins the previous token with itself: 40 merges describe a token of 2**40 bytes, which
    # the constructor would build (and decode / merge_table show). The lengths are added up first.
    merges = [[97, 97]] + [[256 + i, 256 + i] for i in range(39)]
    started = time.process_time()
    with pytest.raises(TinyLMError) as info:
        tokenizer_from_dict({"kind": "bpe", "merges": merges})
    assert time.process_time() - started < 1.0
    assert info.value.code == "bad_tokenizer"
    assert f"at most {MAX_TOKEN_BYTES}" in info.value.params["detail"]
    assert "merge 8 " in info.value.params["detail"]  # 2**9 = 512 bytes: the first one too long


def test_the_longest_tokens_training_makes_still_load() -> None:
    # Chunks of MAX_CHUNK_CHARS four-byte characters (emoji) give the longest tokens training can make.
    text = ("\U0001f600" * MAX_CHUNK_CHARS + "\n") * 20
    tok = BPETokenizer.train(text, vocab_size=300)
    assert max(len(tok.token_bytes(i)) for i in range(tok.vocab_size)) == MAX_TOKEN_BYTES
    again = tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))
    assert again.decode(again.encode(text)) == text


def test_bpe_merges_may_build_long_tokens_up_to_the_bound() -> None:
    # A chain that stays within the bound loads; one byte more does not.
    merges = [[97, 97]] + [[256 + i, 97] for i in range(MAX_TOKEN_BYTES - 2)]
    tok = BPETokenizer.from_dict({"kind": "bpe", "merges": merges})
    assert len(tok.token_bytes(tok.vocab_size - 1)) == MAX_TOKEN_BYTES
    with pytest.raises(TinyLMError):
        BPETokenizer.from_dict({"kind": "bpe", "merges": [*merges, [tok.vocab_size - 1, 97]]})


def test_error_messages_about_loaded_values_stay_short() -> None:
    huge = ["x" * 1_000_000] * 1000
    for d in ({"kind": "bpe", "merges": [], "version": huge}, {"kind": huge}, {"kind": "char", "chars": []}):
        d = {**d}
        if d.get("kind") == "char":
            d["version"] = "v" * 1_000_000
        with pytest.raises(TinyLMError) as info:
            tokenizer_from_dict(d)
        assert len(info.value.message) < 300
