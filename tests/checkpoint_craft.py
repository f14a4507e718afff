"""Broken checkpoints for the tests: a real checkpoint's files, rewritten, re-zipped or patched byte-wise.

Raw JSON (5000-digit integers, nesting deeper than Python's recursion limit, NaN literals) cannot be
written by json.dumps: put RAW where it should go and pass the raw text to ``dumps``.
"""

from __future__ import annotations

import io
import json
import struct
import warnings
import zipfile
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from tests.helpers import make_model
from tinylm import BPETokenizer, CharTokenizer
from tinylm.checkpoint import META_FILE, WEIGHTS_FILE, checkpoint_zip_bytes

RAW = "\u0000raw\u0000"  # a JSON string that dumps() replaces by raw JSON text
TEXT = "Lily had a red ball. She gave the ball to Tom. 小明有一只小猫。小猫很可爱。\n" * 6
TINY = {"context_len": 8, "d_model": 16, "n_layers": 1, "n_heads": 2}
HISTORY = {
    "train": [[10, 0.5, 3.2], [20, 1.0, 2.9]],
    "val": [[20, 1.0, 3.0]],
    "learning_rate": [[10, 0.001], [20, 0.002]],
    "tokens_per_sec": [[10, 900.0]],
    "accuracy": [],
    "samples": [[20, "Lily had"]],
}
META = {"name": "tiny", "corpus": "stories-en", "created": "2026-01-02T03:04:05+00:00", "steps": 20}


@cache
def base_zip(kind: str = "char") -> bytes:
    """A real (tiny) checkpoint: a CharTokenizer or a small BPE tokenizer, history and meta."""
    tokenizer = CharTokenizer.from_text(TEXT) if kind == "char" else BPETokenizer.train(TEXT, vocab_size=280)
    model = make_model(vocab_size=tokenizer.vocab_size, seed=1, **TINY)
    return checkpoint_zip_bytes(model, tokenizer, history=HISTORY, meta=META)


def files_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zip_of(
    entries: dict[str, bytes] | Iterable[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED
) -> bytes:
    """A zip of (name, content) entries (a list may repeat a name), compressed with ``method``."""
    items = entries.items() if isinstance(entries, dict) else entries
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": wanted here
        with zipfile.ZipFile(buffer, "w", compression=method) as archive:
            for name, content in items:
                archive.writestr(name, content)
    return buffer.getvalue()


def document_of(data: bytes) -> dict[str, Any]:
    return json.loads(files_of(data)[META_FILE])


def dumps(document: Any, raw: str | None = None) -> bytes:
    text = json.dumps(document, ensure_ascii=False)
    if raw is not None:
        text = text.replace(json.dumps(RAW, ensure_ascii=False), raw)
    return text.encode("utf-8")


def with_document(data: bytes, change: Callable[[dict], Any], raw: str | None = None, **zip_options) -> bytes:
    """The checkpoint with its tinylm.json edited by ``change(document)`` (RAW replaced by ``raw``)."""
    files = files_of(data)
    document = json.loads(files[META_FILE])
    change(document)
    files[META_FILE] = dumps(document, raw)
    return zip_of(files, **zip_options)


def split_safetensors(weights: bytes) -> tuple[dict, bytes]:
    length = int.from_bytes(weights[:8], "little")
    return json.loads(weights[8 : 8 + length]), weights[8 + length :]


def join_safetensors(header: Any, body: bytes, raw: str | None = None) -> bytes:
    text = dumps(header, raw)
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + body


def with_header(data: bytes, change: Callable[[dict], Any], raw: str | None = None) -> bytes:
    """The checkpoint with the safetensors header of its weights edited by ``change(header)``."""
    files = files_of(data)
    header, body = split_safetensors(files[WEIGHTS_FILE])
    change(header)
    files[WEIGHTS_FILE] = join_safetensors(header, body, raw)
    return zip_of(files)


# Central directory entry: signature, versions, flags, method, time, date, crc, sizes, name length, ...
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_CENTRAL_FIELDS = {"flags": 5, "method": 6, "crc": 9, "compressed": 10, "size": 11}


def patch_central(data: bytes, name: str, **values: int) -> bytes:
    """Rewrite fields (flags, method, crc, compressed, size) of ``name``'s central directory entry."""
    out = bytearray(data)
    position = 0
    while True:
        position = out.find(b"PK\x01\x02", position)
        if position < 0:
            raise KeyError(name)
        fields = list(_CENTRAL.unpack_from(out, position))
        name_length = fields[12]
        start = position + _CENTRAL.size
        if bytes(out[start : start + name_length]) == name.encode():
            break
        position += 4
    for key, value in values.items():
        fields[_CENTRAL_FIELDS[key]] = value
    _CENTRAL.pack_into(out, position, *fields)
    return bytes(out)


def entry_data_offset(data: bytes, name: str) -> tuple[int, int]:
    """(offset, length) of ``name``'s compressed bytes in the zip."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    name_length, extra_length = struct.unpack_from("<2H", data, info.header_offset + 26)
    return info.header_offset + 30 + name_length + extra_length, info.compress_size
