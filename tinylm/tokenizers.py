r"""Tokenizers: turn text into a list of integer ids and back.

A language model never sees letters. It sees integers ("token ids") and learns which id tends to
follow which. A tokenizer is the dictionary between the two worlds:

    encode("hi 你好")  ->  [ids...]      (what the model reads)
    decode([ids...])   ->  "hi 你好"     (what we show the student)

Two tokenizers are provided, from simplest to the kind real GPTs use.

CharTokenizer — one token per character
    The vocabulary is the sorted set of characters seen in the training text, plus a reserved
    "unknown" token. Tiny, easy to understand, works for any language (每个汉字就是一个 token).

BPETokenizer — byte-level Byte Pair Encoding (the GPT-2 recipe)
    Start from the 256 possible byte values (UTF-8), then repeatedly find the most frequent pair of
    adjacent tokens in the training text and *merge* it into a new token. Frequent pieces such as
    " the", "ing" or "我们" end up as single tokens, so the same text needs fewer ids.

Unknown-character policy
------------------------
CharTokenizer
    * Id 0 is reserved for the unknown token. It is shown and decoded as U+FFFD "\ufffd" (the
      REPLACEMENT CHARACTER, what Unicode itself uses for "a character was lost here").
    * ``encode(text)`` maps every character that was not in the training text to id 0, so a model
      can still read it. ``encode(text, strict=True)`` instead raises
      ``TinyLMError("unknown_chars", ..., chars=..., count=...)`` naming (at most 10 of) them.
      ``unknown_chars(text)`` lists them, in order of first appearance, so the UI can mark them.
    * ``decode(encode(s)) == s`` for every string whose characters are all in the vocabulary: any
      Unicode, including Chinese, emoji, combining marks, characters outside the BMP, "\r\n" and NUL.
      (We store *code points*, so "e" + U+0301 is two tokens; nothing is normalised.)
    * "\ufffd" itself always counts as known: it *is* the unknown token. If the training text contains
      "\ufffd" it does not get a second id; it is encoded as 0 and decodes back to "\ufffd", so the
      round trip still holds and ``unknown_chars`` never reports it.
    * Out-of-range ids given to ``decode`` (for example from a model trained with another tokenizer)
      also decode as "\ufffd" instead of raising.

BPETokenizer
    * Byte-level: nothing is unknown, ``unknown_chars`` always returns ``[]``, ``decode`` never raises.
      Its full policy and how it is trained are in the docstring of ``tinylm/bpe.py``, where it lives.

Where the code lives
--------------------
This module holds CharTokenizer and the loading of either kind; ``tinylm/bpe.py`` holds BPETokenizer and
its pre-tokeniser; ``tinylm/tokenizer_base.py`` what both share. Import every name from here.

Saving and loading
------------------
``to_dict()`` gives a JSON-serialisable dict including ``"kind"``: ``{"kind": "char", "version": 1,
"chars": [...]}`` or ``{"kind": "bpe", "version": 1, "merges": [[l, r], ...], "merge_counts": [...]}``
(``merge_counts`` is optional when loading). ``tokenizer_from_dict`` rebuilds the right class.
Dicts may come from uploaded files, so they are checked field by field (never eval'd) and anything
malformed raises ``TinyLMError("bad_tokenizer", ..., detail=...)``. Sizes are bounded before anything
is built: at most ``MAX_CHARS`` characters, at most ``MAX_VOCAB_SIZE - 256`` merges, and no merge may make
a token longer than ``MAX_TOKEN_BYTES`` bytes (what training can produce), so a loaded vocabulary's bytes
total at most ~1 MB.
"""

from __future__ import annotations

from collections.abc import Sequence

from tinylm.bpe import (
    CJK_MAX_CHARS,
    MAX_CHUNK_CHARS,
    MAX_TOKEN_BYTES,
    MAX_VOCAB_SIZE,
    MIN_VOCAB_SIZE,
    BPETokenizer,
    pretokenize,
)
from tinylm.config import LIMITS
from tinylm.errors import TinyLMError, short_repr
from tinylm.tokenizer_base import _FORMAT_VERSION, UNKNOWN_CHAR, _bad, _check_header, _check_utf8, _look_up

__all__ = [
    "CJK_MAX_CHARS",
    "MAX_CHARS",
    "MAX_CHUNK_CHARS",
    "MAX_TOKEN_BYTES",
    "MAX_VOCAB_SIZE",
    "MIN_VOCAB_SIZE",
    "UNKNOWN_CHAR",
    "BPETokenizer",
    "CharTokenizer",
    "Tokenizer",
    "pretokenize",
    "tokenizer_from_dict",
]

MAX_CHARS = LIMITS["vocab_size"][1] - 1  # a CharTokenizer's characters (id 0 is the unknown token)

_MAX_SHOWN_UNKNOWN = 10  # how many unknown characters an error message names


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def _show_char(c: str) -> str:
    """A character as it should appear in an error message (invisible ones as U+XXXX)."""
    return c if c.isprintable() and not c.isspace() else f"U+{ord(c):04X}"


# --------------------------------------------------------------------------------------------------
# Character tokenizer
# --------------------------------------------------------------------------------------------------


class CharTokenizer:
    """One token per character (Unicode code point); id 0 is the unknown token "\ufffd".

    >>> tok = CharTokenizer.from_text("hello")
    >>> tok.encode("hole")     # vocabulary: e=1 h=2 l=3 o=4
    [2, 4, 3, 1]
    >>> tok.decode(tok.encode("hole"))
    'hole'
    >>> tok.encode("hi")       # "i" was never seen -> unknown id 0
    [2, 0]
    """

    kind = "char"

    def __init__(self, chars: Sequence[str]) -> None:
        # _itos: id -> string ("int to string"); _stoi: string -> id. Id 0 is the unknown token, and
        # "\ufffd" maps to it, so a replacement character in the text is never "unknown".
        self._itos: list[str] = [UNKNOWN_CHAR, *chars]
        self._stoi: dict[str, int] = {c: i for i, c in enumerate(self._itos)}

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        """Build the vocabulary from ``text``: its sorted set of characters, plus the unknown token."""
        if not text:
            raise TinyLMError("empty_text", "The training text is empty.")
        _check_utf8(text)
        # Sorting makes the ids independent of the order in which characters first appear.
        return cls(sorted(set(text) - {UNKNOWN_CHAR}))

    @property
    def vocab_size(self) -> int:
        """Number of different ids, including the unknown token."""
        return len(self._itos)

    @property
    def chars(self) -> list[str]:
        """The known characters, in id order (id 1, 2, ...); id 0 is the unknown token."""
        return self._itos[1:]

    def encode(self, text: str, strict: bool = False) -> list[int]:
        """Text -> ids. Unknown characters become id 0, or raise ``unknown_chars`` if ``strict``."""
        if strict:
            unknown = self.unknown_chars(text)
            if unknown:
                shown = " ".join(_show_char(c) for c in unknown[:_MAX_SHOWN_UNKNOWN])
                if len(unknown) > _MAX_SHOWN_UNKNOWN:
                    shown += f" … (+{len(unknown) - _MAX_SHOWN_UNKNOWN} more)"
                raise TinyLMError(
                    "unknown_chars",
                    f"The text contains {len(unknown)} character(s) that are not in the vocabulary: {shown}",
                    chars=shown,
                    count=len(unknown),
                )
        stoi = self._stoi
        return [stoi.get(c, 0) for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        """Ids -> text. Id 0 and ids outside the vocabulary become "\ufffd"; never raises."""
        return "".join(self.token_strings(ids))

    def token_strings(self, ids: Sequence[int]) -> list[str]:
        """One display string per id (here simply its character), e.g. for colouring tokens."""
        return _look_up(self._itos, ids, UNKNOWN_CHAR)

    def unknown_chars(self, text: str) -> list[str]:
        """Distinct characters of ``text`` that are not in the vocabulary, in order of first appearance."""
        stoi = self._stoi
        # dict.fromkeys keeps the first-appearance order and drops duplicates.
        return list(dict.fromkeys(c for c in text if c not in stoi))

    def to_dict(self) -> dict:
        """A JSON-serialisable description; ``from_dict`` turns it back into an identical tokenizer."""
        return {"kind": self.kind, "version": _FORMAT_VERSION, "chars": self.chars}

    @classmethod
    def from_dict(cls, d: dict) -> CharTokenizer:
        """Rebuild from ``to_dict()`` output, checking every field (raises ``bad_tokenizer``)."""
        _check_header(d, cls.kind)
        chars = d.get("chars")
        if not isinstance(chars, list):
            raise _bad("'chars' must be a list of characters")
        if len(chars) > MAX_CHARS:
            raise _bad(f"too many characters ({len(chars)}; at most {MAX_CHARS})")
        seen: set[str] = set()
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise _bad("every entry of 'chars' must be a single character")
            if "\ud800" <= c <= "\udfff":
                raise _bad("'chars' contains a lone surrogate, which is not a valid character")
            if c == UNKNOWN_CHAR:
                raise _bad("'chars' must not contain U+FFFD, which is reserved for the unknown token")
            if c in seen:
                raise _bad(f"'chars' contains {_show_char(c)} twice")
            seen.add(c)
        return cls(chars)

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


# --------------------------------------------------------------------------------------------------
# Loading either kind
# --------------------------------------------------------------------------------------------------

Tokenizer = CharTokenizer | BPETokenizer

_KINDS: dict[str, type[CharTokenizer] | type[BPETokenizer]] = {
    CharTokenizer.kind: CharTokenizer,
    BPETokenizer.kind: BPETokenizer,
}


def tokenizer_from_dict(d: dict) -> Tokenizer:
    """Rebuild a tokenizer of either kind from ``to_dict()`` output (raises ``bad_tokenizer``)."""
    if not isinstance(d, dict):
        raise _bad("expected a JSON object")
    kind = d.get("kind")
    if not isinstance(kind, str) or kind not in _KINDS:
        raise _bad(f"unknown tokenizer kind {short_repr(kind)}")
    return _KINDS[kind].from_dict(d)
