"""What both tokenizers share: the unknown character, the UTF-8 check, a saved tokenizer's header.

``tinylm/tokenizers.py`` (CharTokenizer, loading either kind) and ``tinylm/bpe.py`` (BPETokenizer) both
import this small module, so neither has to import the other. The public names are re-exported by
``tinylm.tokenizers``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from tinylm.errors import TinyLMError, short_repr

__all__ = ["UNKNOWN_CHAR"]

UNKNOWN_CHAR = "\ufffd"  # U+FFFD REPLACEMENT CHARACTER: how the unknown token looks
_FORMAT_VERSION = 1
T = TypeVar("T")


def _bad(detail: str) -> TinyLMError:
    """The error for a tokenizer dict that cannot be loaded (e.g. a corrupt uploaded file)."""
    return TinyLMError("bad_tokenizer", f"This is not a valid tokenizer: {detail}.", detail=detail)


def _is_int(x: Any) -> bool:
    # bool is a subclass of int in Python, but True is not a sensible token id.
    return isinstance(x, int) and not isinstance(x, bool)


def _look_up(table: Sequence[T], ids: Iterable[int], missing: T) -> list[T]:
    """``table[i]`` for every id, ``missing`` for an id outside the table (ids may be numpy / torch
    integers). E.g. ``_look_up(["a", "b"], [1, 0, 7], "?") == ["b", "a", "?"]``."""
    size = len(table)
    return [table[i] if 0 <= i < size else missing for i in map(int, ids)]


def _check_utf8(text: str) -> bytes:
    """Return ``text`` as UTF-8, or raise ``not_utf8_text`` if it holds a lone surrogate."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise TinyLMError(
            "not_utf8_text",
            f"The text contains an invalid character (a lone surrogate U+{ord(text[e.start]):04X}) "
            f"at position {e.start}; it cannot be stored as UTF-8.",
            position=e.start,
        ) from None


def _check_header(d: Any, kind: str) -> None:
    """Check the fields every tokenizer dict shares: it is a dict, of the right kind and version."""
    if not isinstance(d, dict):
        raise _bad("expected a JSON object")
    if d.get("kind") != kind:
        raise _bad(f"expected kind {kind!r}, found {short_repr(d.get('kind'))}")
    version = d.get("version", _FORMAT_VERSION)
    if not _is_int(version) or version != _FORMAT_VERSION:
        raise _bad(f"unsupported format version {short_repr(version)}")
