r"""The byte-level BPE tokenizer (``BPETokenizer``, the GPT-2 recipe) and its pre-tokeniser.

Import it from ``tinylm.tokenizers``, the public place for both tokenizers (the module docstring there
gives the overview, the CharTokenizer's policy and the saved format); this module holds BPE only.

BPETokenizer policy
-------------------
    * Byte-level: the base tokens 0..255 are the UTF-8 bytes, so there are no unknown characters and
      ``decode(encode(s)) == s`` for every string of Unicode characters. ``unknown_chars`` always
      returns ``[]`` and ``strict`` changes nothing.
    * A Python ``str`` may contain a *lone surrogate* (U+D800..U+DFFF on its own, e.g. from a file
      read with ``errors="surrogateescape"``). That is not Unicode text and has no UTF-8 encoding, so
      ``train`` and ``encode`` raise ``TinyLMError("not_utf8_text", ..., position=...)`` for it rather
      than silently inventing bytes. (CharTokenizer.from_text does the same; its ``encode`` simply
      treats such a character as unknown.)
    * ``decode`` never raises, whatever ids it is given: a model may sample ids that cut a multi-byte
      character in half, and invalid UTF-8 becomes "\ufffd" (``errors="replace"``). Ids outside the
      vocabulary also become "\ufffd". ``decode_bytes`` returns the raw bytes instead.
    * ``token_strings`` shows a token's bytes as text when they are valid UTF-8 ("我们", " the");
      bytes that are only part of a character are shown as a hex escape, e.g. "<e6>" or "我<e6 88>".

BPE training details
--------------------
    * Pre-tokenisation: the text is first cut into chunks by a GPT-2-like regular expression (letters
      with an optional leading space, digits, CJK characters, punctuation, whitespace). Merges never
      cross a chunk boundary, so no token glues the end of one word to the start of the next.
      Chinese/Japanese have no spaces, so a run of CJK characters is cut into pieces of at most
      ``CJK_MAX_CHARS`` characters; that is enough to learn common words such as "我们" or "中国"
      (a word that straddles a cut is simply not counted there). Any chunk longer than
      ``MAX_CHUNK_CHARS`` characters is cut into pieces of that length.
    * Each merge takes the most frequent adjacent pair (overlapping pairs count, so "aaa" holds two
      "aa"); ties go to the pair with the smallest (left id, right id), so the same text and
      vocab_size always give the same merges.
    * A pair must occur at least twice to be merged (a pair seen once is not worth a new token). If the
      text runs out of such pairs, training stops early and ``vocab_size`` is smaller than asked.
    * ``max_seconds`` (optional) is a time budget counted from the call: when it runs out, training
      stops with the merges learned so far (again a smaller ``vocab_size``).
    * ``vocab_size`` must be between 256 and 4096, else ``TinyLMError("bad_vocab_size", ...)``.
      Empty training text raises ``TinyLMError("empty_text", ...)`` (for both tokenizers).
"""

from __future__ import annotations

import heapq
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import pairwise

from tinylm.errors import TinyLMError
from tinylm.tokenizer_base import (
    _FORMAT_VERSION,
    UNKNOWN_CHAR,
    _bad,
    _check_header,
    _check_utf8,
    _is_int,
    _look_up,
)

__all__ = [
    "CJK_MAX_CHARS",
    "MAX_CHUNK_CHARS",
    "MAX_TOKEN_BYTES",
    "MAX_VOCAB_SIZE",
    "MIN_VOCAB_SIZE",
    "BPETokenizer",
    "pretokenize",
]

_UNKNOWN_UTF8 = UNKNOWN_CHAR.encode("utf-8")

MIN_VOCAB_SIZE = 256  # a byte-level BPE needs at least the 256 byte tokens
MAX_VOCAB_SIZE = 4096  # plenty for a tiny model; bigger only makes the embedding table huge
CJK_MAX_CHARS = 4  # a run of Chinese characters is cut into pieces of at most this many characters
MAX_CHUNK_CHARS = 64  # longer chunks (a URL, a row of "=====") are cut so they cannot slow BPE down
# Merges never cross a chunk, so no trained token is longer than a chunk's UTF-8 bytes. A loaded tokenizer
# may not exceed it either: 40 merges of a token with itself would describe a token of 2**40 bytes.
MAX_TOKEN_BYTES = 4 * MAX_CHUNK_CHARS


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def _readable_bytes(b: bytes) -> str:
    """Bytes as display text: valid UTF-8 as characters, stray bytes as "<e6 88>".

    ``surrogateescape`` turns every byte that is not part of a complete UTF-8 character into a
    placeholder code point U+DC80..U+DCFF; we then replace each run of placeholders by its hex.
    """
    s = b.decode("utf-8", errors="surrogateescape")
    if s.isascii() or not any("\udc80" <= c <= "\udcff" for c in s):
        return s
    out: list[str] = []
    stray: list[str] = []
    for c in s:
        if "\udc80" <= c <= "\udcff":
            stray.append(f"{ord(c) - 0xDC00:02x}")
            continue
        if stray:
            out.append("<" + " ".join(stray) + ">")
            stray = []
        out.append(c)
    if stray:
        out.append("<" + " ".join(stray) + ">")
    return "".join(out)


# --------------------------------------------------------------------------------------------------
# Byte-level BPE tokenizer
# --------------------------------------------------------------------------------------------------

# Ideographs (CJK Unified + Extension A, compatibility ideographs, the astral-plane extensions) and
# Japanese kana: scripts written without spaces between words.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"

# The pre-tokeniser, modelled on GPT-2's. Python's built-in ``re`` has no \p{L}, so "a letter" is
# written [^\W\d_] (a word character that is not a digit or underscore), with the CJK ranges taken out
# so that Chinese gets its own rule. The alternatives are tried left to right:
_PRETOKENIZE = re.compile(
    rf"""
    '(?:[sdmt]|ll|ve|re)          # English contractions: 's 't 're 've 'm 'll 'd
    | [{_CJK}]{{1,{CJK_MAX_CHARS}}}  # CJK: up to CJK_MAX_CHARS characters at a time
    | \ ?[^\W\d_{_CJK}]+          # a word (letters of any non-CJK script), maybe with its leading space
    | \ ?\d+                      # a number, maybe with its leading space
    | \ ?(?:[^\s\w]|_)+           # punctuation / symbols / emoji, maybe with a leading space
    | \s+(?!\S)                   # whitespace, except the last space before a word (it joins the word)
    | \s+                         # any other whitespace
    """,
    re.VERBOSE,
)


def pretokenize(text: str) -> list[str]:
    """Cut text into the chunks BPE works inside; ``"".join(pretokenize(t)) == t`` always.

    >>> pretokenize("Hello world, it's 2024! 我们喜欢学习语言模型")
    ['Hello', ' world', ',', ' it', "'s", ' 2024', '!', ' ', '我们喜欢', '学习语言', '模型']
    """
    chunks = _PRETOKENIZE.findall(text)
    if all(len(c) <= MAX_CHUNK_CHARS for c in chunks):
        return chunks
    out: list[str] = []
    for c in chunks:
        if len(c) <= MAX_CHUNK_CHARS:
            out.append(c)
        else:
            out.extend(c[i : i + MAX_CHUNK_CHARS] for i in range(0, len(c), MAX_CHUNK_CHARS))
    return out


def _merge_pair(ids: list[int], left: int, right: int, new_id: int) -> list[int]:
    """Replace every (left, right) neighbour pair in ``ids`` by ``new_id``, scanning left to right."""
    out: list[int] = []
    i = 0
    n = len(ids)
    while i < n:
        if i < n - 1 and ids[i] == left and ids[i + 1] == right:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def _merge_pair_counting(
    ids: list[int], left: int, right: int, new_id: int, freq: int, delta: dict[tuple[int, int], int]
) -> tuple[list[int], list[tuple[int, int]]] | None:
    """Like ``_merge_pair``, but also record in ``delta`` how the chunk's pair counts change.

    Merging (b, c) -> X in "a b c d" removes the pairs (a,b), (b,c), (c,d) and adds (a,X), (X,d);
    every other pair of the chunk stays as it was, so only the neighbours of each merge are touched.
    The chunk occurs ``freq`` times in the text, so each change counts ``freq`` times.
    Returns the merged ids and the pairs that are new to the chunk, or None if the pair is absent.
    """
    out: list[int] = []
    new_pairs: list[tuple[int, int]] = []
    i = 0
    n = len(ids)
    while i < n:
        if i < n - 1 and ids[i] == left and ids[i + 1] == right:
            delta[(left, right)] -= freq
            if out:
                # out[-1] may itself be new_id from a merge just before ("a b a b"); then the pair
                # (new_id, left) was added one step ago and is correctly taken back here.
                prev = out[-1]
                delta[(prev, left)] -= freq
                delta[(prev, new_id)] += freq
                new_pairs.append((prev, new_id))
            if i + 2 < n:
                nxt = ids[i + 2]
                delta[(right, nxt)] -= freq
                delta[(new_id, nxt)] += freq
                new_pairs.append((new_id, nxt))
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return (out, new_pairs) if len(out) < n else None


class BPETokenizer:
    """Byte-level Byte Pair Encoding, as in GPT-2 (see the module docstring for the policies).

    Token ids 0..255 are single bytes; merge number ``i`` (``merges[i] == (left, right)``) creates
    token ``256 + i``, whose bytes are the bytes of ``left`` followed by those of ``right``.

    >>> tok = BPETokenizer.train("aaab aaab aaab", vocab_size=259)
    >>> tok.merges   # 97="a", 98="b": "a"+"a" -> 256, "a"+"b" -> 257, then "aa"+"ab" -> 258
    [(97, 97), (97, 98), (256, 257)]
    >>> [row["merged"] for row in tok.merge_table()]
    ['aa', 'ab', 'aaab']
    >>> tok.token_strings(tok.encode("aaab aab"))
    ['aaab', ' ', 'aa', 'b']
    """

    kind = "bpe"
    _CACHE_SIZE = 50_000  # how many chunk encodings to remember (bounded so memory stays small)

    def __init__(self, merges: Sequence[tuple[int, int]], counts: Sequence[int] | None = None) -> None:
        self.merges: list[tuple[int, int]] = [(int(a), int(b)) for a, b in merges]
        # How often each pair occurred when it was merged (shown in the UI's merge table).
        self.merge_counts: list[int] = list(counts) if counts is not None else [0] * len(self.merges)
        # rank of each pair: the lower, the earlier it was learned and the earlier it is applied.
        self._ranks: dict[tuple[int, int], int] = {pair: i for i, pair in enumerate(self.merges)}
        self._bytes: list[bytes] = [bytes([i]) for i in range(256)]
        for a, b in self.merges:
            self._bytes.append(self._bytes[a] + self._bytes[b])
        self._cache: dict[str, list[int]] = {}

    # ---------------------------------------------------------------------------------- training

    @classmethod
    def train(cls, text: str, vocab_size: int, max_seconds: float | None = None) -> BPETokenizer:
        """Learn ``vocab_size - 256`` merges from ``text`` (fewer if the text or time runs out).

        The textbook algorithm recounts every pair after every merge. That is slow, so we keep the
        pair counts up to date instead: after merging (a, b) only the chunks that contained (a, b)
        change, and only their pairs need adjusting. A heap finds the most frequent pair quickly.
        The result is exactly what the textbook algorithm would give (the tests check this).

        Raises ``bad_vocab_size``, ``empty_text`` or ``not_utf8_text`` (TinyLMError) for bad input;
        ``max_seconds`` must be None or >= 0 (ValueError otherwise: it is set by code, not by users).
        """
        if not _is_int(vocab_size) or not MIN_VOCAB_SIZE <= vocab_size <= MAX_VOCAB_SIZE:
            raise TinyLMError(
                "bad_vocab_size",
                f"The BPE vocabulary size must be between {MIN_VOCAB_SIZE} and {MAX_VOCAB_SIZE}, "
                f"got {vocab_size!r}.",
                minimum=MIN_VOCAB_SIZE,
                maximum=MAX_VOCAB_SIZE,
                value=vocab_size,
            )
        if max_seconds is not None and not max_seconds >= 0:  # "not >=" also rejects NaN
            raise ValueError(f"max_seconds must be None or >= 0, got {max_seconds!r}")
        if not text:
            raise TinyLMError("empty_text", "The training text is empty.")
        _check_utf8(text)
        deadline = None if max_seconds is None else time.perf_counter() + max_seconds

        # 1. Count the distinct chunks. Natural text repeats the same words again and again, so we
        #    work on (chunk, how often) instead of the whole text: far less work per merge.
        chunk_counts = Counter(pretokenize(text))
        words: list[list[int]] = [list(chunk.encode("utf-8")) for chunk in chunk_counts]
        freqs: list[int] = list(chunk_counts.values())

        # 2. Count every adjacent pair (weighted by chunk frequency) and remember where it occurs.
        pair_counts: dict[tuple[int, int], int] = defaultdict(int)
        where: dict[tuple[int, int], set[int]] = defaultdict(set)
        for w, (ids, freq) in enumerate(zip(words, freqs, strict=True)):
            for pair in pairwise(ids):
                pair_counts[pair] += freq
                where[pair].add(w)

        # Max-heap via negated counts. Entries can go stale when a count changes; we then push a
        # fresh entry and skip stale ones when popping ("lazy deletion"). Heap order
        # (-count, left, right) also gives the deterministic tie-break: smallest ids first.
        heap = [(-count, a, b) for (a, b), count in pair_counts.items()]
        heapq.heapify(heap)

        merges: list[tuple[int, int]] = []
        counts: list[int] = []
        while len(merges) < vocab_size - 256:
            if deadline is not None and time.perf_counter() > deadline:
                break
            # 3. Take the most frequent pair, skipping stale heap entries.
            while heap and pair_counts.get((heap[0][1], heap[0][2]), 0) != -heap[0][0]:
                heapq.heappop(heap)
            if not heap or -heap[0][0] < 2:
                break  # no pair occurs twice any more: nothing worth merging
            neg_count, a, b = heapq.heappop(heap)
            new_id = 256 + len(merges)
            merges.append((a, b))
            counts.append(-neg_count)

            # 4. Merge the pair in every chunk that contains it, noting how the pair counts change.
            delta: dict[tuple[int, int], int] = defaultdict(int)
            for w in where.pop((a, b)):
                merged = _merge_pair_counting(words[w], a, b, new_id, freqs[w], delta)
                if merged is None:
                    continue  # stale entry: an earlier merge already used up the pair in this chunk
                words[w], new_pairs = merged
                for pair in new_pairs:
                    where[pair].add(w)
            for pair, d in delta.items():
                if d == 0:
                    continue  # e.g. (X, a) in "a b a b": added by one merge, taken back by the next
                c = pair_counts[pair] + d
                if c > 0:
                    pair_counts[pair] = c
                    heapq.heappush(heap, (-c, *pair))
                else:
                    del pair_counts[pair]
        return cls(merges, counts)

    # ----------------------------------------------------------------------------------- basics

    @property
    def vocab_size(self) -> int:
        """256 byte tokens plus one token per merge."""
        return 256 + len(self.merges)

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes a token stands for (raises IndexError for an id outside the vocabulary)."""
        token_id = int(token_id)
        if not 0 <= token_id < len(self._bytes):
            raise IndexError(f"token id {token_id} is outside the vocabulary (size {len(self._bytes)})")
        return self._bytes[token_id]

    # ---------------------------------------------------------------------------------- encoding

    def _encode_chunk(self, chunk: str) -> list[int]:
        """Apply the merges to one chunk, always the earliest-learned (lowest rank) pair first."""
        ids = list(chunk.encode("utf-8"))
        ranks = self._ranks
        no_rank = len(ranks)  # larger than any real rank
        while len(ids) >= 2:
            pair = min(pairwise(ids), key=lambda p: ranks.get(p, no_rank))
            rank = ranks.get(pair)
            if rank is None:
                break  # no pair in this chunk was ever merged: done
            ids = _merge_pair(ids, pair[0], pair[1], 256 + rank)
        return ids

    def encode(self, text: str, strict: bool = False) -> list[int]:
        """Text -> ids. ``strict`` is accepted for symmetry with CharTokenizer (nothing is unknown)."""
        _check_utf8(text)
        cache = self._cache
        out: list[int] = []
        for chunk in pretokenize(text):
            ids = cache.get(chunk)
            if ids is None:
                ids = self._encode_chunk(chunk)
                if len(cache) >= self._CACHE_SIZE:
                    cache.clear()  # simplest way to stay bounded; common words come right back
                cache[chunk] = ids
            out.extend(ids)
        return out

    # ---------------------------------------------------------------------------------- decoding

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """Ids -> the raw bytes they stand for (ids outside the vocabulary give the bytes of "\ufffd")."""
        return b"".join(_look_up(self._bytes, ids, _UNKNOWN_UTF8))

    def decode(self, ids: Iterable[int]) -> str:
        """Ids -> text. Never raises: broken UTF-8 (e.g. half a character) becomes "\ufffd"."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def token_strings(self, ids: Sequence[int]) -> list[str]:
        """One display string per id: its text, or hex such as "<e6 88>" for part of a character."""
        pieces = _look_up(self._bytes, ids, None)
        return [UNKNOWN_CHAR if piece is None else _readable_bytes(piece) for piece in pieces]

    def unknown_chars(self, text: str) -> list[str]:
        """Always ``[]``: every character is made of bytes, and every byte is a token."""
        return []

    def merge_table(self) -> list[dict]:
        """The learned merges, in order, with display strings (for the UI)."""
        table = []
        for rank, (a, b) in enumerate(self.merges):
            new_id = 256 + rank
            left, right, merged = self.token_strings([a, b, new_id])
            table.append(
                {
                    "rank": rank,
                    "left": left,
                    "right": right,
                    "merged": merged,
                    "new_id": new_id,
                    "count": self.merge_counts[rank],
                    "left_id": a,
                    "right_id": b,
                }
            )
        return table

    # ---------------------------------------------------------------------------- saving/loading

    def to_dict(self) -> dict:
        """A JSON-serialisable description; ``from_dict`` turns it back into an identical tokenizer."""
        return {
            "kind": self.kind,
            "version": _FORMAT_VERSION,
            "merges": [[a, b] for a, b in self.merges],
            "merge_counts": list(self.merge_counts),
        }

    @classmethod
    def from_dict(cls, d: dict) -> BPETokenizer:
        """Rebuild from ``to_dict()`` output, checking every field (raises ``bad_tokenizer``).

        ``merge_counts`` is optional (only used for display); ``merges`` is required.
        """
        _check_header(d, cls.kind)
        merges = d.get("merges")
        if not isinstance(merges, list):
            raise _bad("'merges' must be a list of [left, right] pairs")
        if len(merges) > MAX_VOCAB_SIZE - 256:
            raise _bad(f"too many merges ({len(merges)}; at most {MAX_VOCAB_SIZE - 256})")
        seen: set[tuple[int, int]] = set()
        lengths = [1] * 256  # each token's length in bytes, known from the merges before any is built
        for i, m in enumerate(merges):
            if not isinstance(m, (list, tuple)) or len(m) != 2 or not all(_is_int(x) for x in m):
                raise _bad(f"merge {i} must be a pair of two integer token ids")
            a, b = m
            # A merge may only combine tokens that already exist: the bytes or earlier merges.
            if not (0 <= a < 256 + i and 0 <= b < 256 + i):
                raise _bad(f"merge {i} refers to a token id that does not exist yet")
            if (a, b) in seen:
                raise _bad(f"merge {i} repeats an earlier merge")
            seen.add((a, b))
            lengths.append(lengths[a] + lengths[b])
            if lengths[-1] > MAX_TOKEN_BYTES:
                raise _bad(f"merge {i} makes a token of {lengths[-1]} bytes (at most {MAX_TOKEN_BYTES})")
        counts = d.get("merge_counts")
        if counts is not None and (
            not isinstance(counts, list)
            or len(counts) != len(merges)
            or not all(_is_int(c) and 0 <= c < 2**63 for c in counts)
        ):
            raise _bad("'merge_counts' must be a list of non-negative integers, one per merge")
        return cls([(a, b) for a, b in merges], counts)

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size})"
