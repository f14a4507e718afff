"""Saving and loading models: safetensors for the weights, JSON for everything else. Never pickle.

A checkpoint is a directory (or, for downloads and uploads, a .zip of that directory) holding

    model.safetensors   the weight tensors, by name (safetensors: a JSON header + raw numbers;
                        reading it cannot run code, unlike torch.load / pickle)
    tinylm.json         {"format": "tinylm-checkpoint", "version": 1, "config": {...},
                         "tokenizer": {...}, "history": {...}, "meta": {...}}

Uploaded files come from anyone, so reading one is bounded before it costs memory or time, and
anything that is not a sane checkpoint gives TinyLMError("bad_checkpoint") — nothing else:

* the zip: at most MAX_ZIP_BYTES, at most MAX_ZIP_ENTRIES entries (counted on the raw bytes before
  zipfile parses its directory), exactly the two files under their exact names, not encrypted,
  stored or deflate-compressed only. Each entry is inflated by a streaming read that stops one byte
  past its declared size (never trusting that size: the size, then the CRC, must match what came
  out), so a zip bomb costs at most the declared size, itself capped.
* the JSON (tinylm.json and the safetensors header): UTF-8, nested at most MAX_JSON_DEPTH levels
  and holding at most MAX_JSON_VALUES values — both counted by a vectorised scan of the bytes
  *before* json parses them (``json_extent``), so deep nesting cannot reach Python's recursion
  limit and the parsed objects stay within a small multiple of the file's size. Integers of more
  than 4300 digits (Python's own limit), floats that are not finite, NaN / Infinity literals are
  refused while parsing; the cleaning below keeps only numbers within 64 bits.
* the config: known keys of the right types; the tokenizer: checked by tokenizer_from_dict, which
  bounds the vocabulary's bytes from the merges alone before building anything.
* the weights: the safetensors header is checked against the config (names, float32, shapes,
  offsets that tile the data exactly) before the tensors are read; NaN / Inf weights are refused.
* meta and history are reduced to the fields we know, each type-checked and length-capped
  (``clean_meta``, ``clean_history``): that, and only that, is kept, cached and shown.
"""

from __future__ import annotations

import io
import json
import math
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from tinylm.checkpoint_meta import clean_history, clean_meta, is_number
from tinylm.config import ModelConfig
from tinylm.errors import TinyLMError, short_repr
from tinylm.model import TinyLM
from tinylm.tokenizers import Tokenizer, tokenizer_from_dict

WEIGHTS_FILE = "model.safetensors"
META_FILE = "tinylm.json"
FORMAT_NAME = "tinylm-checkpoint"
FORMAT_VERSION = 1
MAX_CHECKPOINT_BYTES = 64_000_000  # the largest allowed model (10 M parameters, fp32) is 40 MB
# A run of the app logs at most ~2000 rows per curve (a few hundred KB of JSON); a 200 000-step CLI run at
# the default log interval about 3 MB. Parsed JSON takes up to ~10x its size in Python objects.
MAX_META_BYTES = 8_000_000
MAX_ZIP_BYTES = MAX_CHECKPOINT_BYTES + MAX_META_BYTES
MAX_ZIP_ENTRIES = 16  # ours have 2; zipfile keeps an object per entry of its directory
MAX_HEADER_BYTES = 1_000_000  # the safetensors header of the largest model is ~20 KB
MAX_JSON_DEPTH = 8  # ours nest 4 deep (document > history > "train" > row)
MAX_JSON_VALUES = 1_000_000  # containers + separators
MAX_JSON_INT_DIGITS = 24  # when Python's own limit on integer digits is lifted (see _int_parser)
_ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_INFLATE_CHUNK = 1 << 16  # compressed bytes handed to zlib at a time
_SCAN_CHUNK = 1 << 18  # bytes scanned at a time by json_extent (bounds its numpy temporaries)


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model (in eval mode), its tokenizer, and what was recorded with it."""

    model: TinyLM
    tokenizer: Tokenizer
    history: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def _bad(detail: str) -> TinyLMError:
    return TinyLMError("bad_checkpoint", f"not a valid TinyLM checkpoint: {detail}", detail=detail)


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def _weights(model: TinyLM) -> dict[str, torch.Tensor]:
    """The tensors to store: the state dict without the tied output matrix (it *is* the embedding)."""
    state = model.state_dict()
    if model.config.tie_weights:
        state.pop("lm_head.weight")
    return {name: tensor.detach().contiguous().to(torch.float32) for name, tensor in state.items()}


def checkpoint_files(
    model: TinyLM, tokenizer: Tokenizer, history: dict | None = None, meta: dict | None = None
) -> dict[str, bytes]:
    """The two files of a checkpoint, as bytes: {WEIGHTS_FILE: ..., META_FILE: ...}."""
    if tokenizer.vocab_size != model.config.vocab_size:
        raise ValueError("tokenizer and model disagree on the vocabulary size")
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "config": model.config.to_dict(),
        "tokenizer": tokenizer.to_dict(),
        "history": history or {},
        "meta": meta or {},
    }
    return {
        WEIGHTS_FILE: save_safetensors_bytes(_weights(model)),
        META_FILE: json.dumps(document, ensure_ascii=False, allow_nan=False, default=_json_default).encode(
            "utf-8"
        ),
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint")


def save_checkpoint(
    path: str | Path,
    model: TinyLM,
    tokenizer: Tokenizer,
    history: dict | None = None,
    meta: dict | None = None,
) -> Path:
    """Write the checkpoint directory at path (created if needed) and return it."""
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in checkpoint_files(model, tokenizer, _finite(history), meta).items():
        temporary = directory / (name + ".tmp")
        temporary.write_bytes(data)
        temporary.replace(directory / name)  # never leave a half-written file under the real name
    return directory


def _finite(value: Any) -> Any:
    """JSON has no NaN/Inf: store them as None (a failed run's history may contain a NaN loss)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def checkpoint_zip_bytes(
    model: TinyLM, tokenizer: Tokenizer, history: dict | None = None, meta: dict | None = None
) -> bytes:
    """The checkpoint as one .zip (for a browser download)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in checkpoint_files(model, tokenizer, _finite(history), meta).items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------
# Bounded JSON
# --------------------------------------------------------------------------------------------------


def json_extent(data: bytes) -> tuple[int, int]:
    """(deepest nesting, number of values) of JSON text, counted on the bytes without parsing them.

    Brackets inside strings do not count: a quote opens or closes a string unless an odd number of
    backslashes precedes it. Values are counted as containers plus commas outside strings. For valid
    JSON both numbers are exact; for invalid JSON the depth is at least what a parser reaches before it
    stops at the first error (everything before that point is valid, and counted exactly), so the
    depth bounds Python's recursive json parser either way. numpy does the work, _SCAN_CHUNK bytes at
    a time (~0.1 s for 8 MB), carrying the depth, "inside a string" and the trailing backslash run
    over from one chunk to the next.
    """
    depth = deepest = values = 0
    inside_string = False
    backslashes = 0  # the run of backslashes that ended the previous chunk
    for start in range(0, len(data), _SCAN_CHUNK):
        chunk = np.frombuffer(data, np.uint8, count=min(_SCAN_CHUNK, len(data) - start), offset=start)
        index = np.arange(len(chunk), dtype=np.int32)
        last_other = np.where(chunk == 0x5C, -1, index)  # the latest position that is not a backslash
        np.maximum.accumulate(last_other, out=last_other)
        run_before = np.empty(len(chunk), np.int32)  # backslashes right before each position
        run_before[0] = backslashes
        run_before[1:] = index[:-1] - last_other[:-1] + np.where(last_other[:-1] < 0, backslashes, 0)
        quotes = (chunk == 0x22) & (run_before % 2 == 0)
        in_string = (np.cumsum(quotes, dtype=np.int32) + inside_string) % 2 == 1
        outside = ~in_string
        opens = outside & ((chunk == 0x5B) | (chunk == 0x7B))
        closes = outside & ((chunk == 0x5D) | (chunk == 0x7D))
        level = depth + np.cumsum(opens.astype(np.int8) - closes.astype(np.int8), dtype=np.int32)
        deepest = max(deepest, int(level.max()))
        depth = int(level[-1])
        values += int(np.count_nonzero(opens)) + int(np.count_nonzero(outside & (chunk == 0x2C)))
        inside_string = bool(in_string[-1])
        tail = len(chunk) - 1 - int(last_other[-1])
        backslashes = tail + (backslashes if last_other[-1] < 0 else 0)
    return deepest, values


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise ValueError("an integer with too many digits")
    return int(text)


def _int_parser() -> Callable[[str], int] | None:
    """Python refuses to read integers of more than sys.get_int_max_str_digits() digits (4300 unless
    lifted), which bounds their cost; only when that limit is lifted (0) or raised is each integer
    checked here (a Python call per integer doubles the parse time)."""
    limit = getattr(sys, "get_int_max_str_digits", lambda: 0)()
    return None if 0 < limit <= 5000 else _bounded_int


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number too large for a float")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(data: bytes, what: str) -> Any:
    """Parse untrusted JSON bytes within the bounds above, or raise bad_checkpoint naming ``what``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad(f"{what} is not valid JSON (not UTF-8)") from None
    depth, values = json_extent(data)
    if depth > MAX_JSON_DEPTH:
        raise _bad(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep")
    if values > MAX_JSON_VALUES:
        raise _bad(f"{what} holds more than {MAX_JSON_VALUES:,} values")
    try:
        return json.loads(
            text, parse_int=_int_parser(), parse_float=_finite_float, parse_constant=_no_constant
        )
    except (ValueError, RecursionError):  # json.JSONDecodeError is a ValueError
        raise _bad(f"{what} is not valid JSON") from None


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------


def _model_config(data: Any) -> ModelConfig:
    """ModelConfig.from_dict, after checking each known key's type (so no odd value reaches validation)."""
    if not isinstance(data, dict):
        raise _bad("the model config is not a JSON object")
    known = {f.name: f.type for f in fields(ModelConfig)}
    unknown = sorted(key for key in data if key not in known)
    if unknown:
        raise _bad(f"unknown config keys: {short_repr(unknown)}")
    for key, value in data.items():
        kind = str(known[key])
        if kind == "bool":
            ok = isinstance(value, bool)
        elif kind == "str":
            ok = isinstance(value, str) and len(value) <= 32
        elif kind in ("int", "int | None"):
            ok = (value is None and kind != "int") or (isinstance(value, int) and is_number(value))
        elif kind == "float":
            ok = is_number(value)
        else:  # a new field of another type: ModelConfig checks it
            ok = True
        if not ok:
            raise _bad(f"config {key} has the wrong type ({short_repr(value)})")
    try:
        return ModelConfig.from_dict(data)
    except TinyLMError as exc:
        if exc.code == "bad_checkpoint":
            raise
        raise _bad(f"bad model config: {exc.message[:200]}") from None


def _check_weights_header(weights: bytes, expected: dict[str, torch.Tensor]) -> None:
    """The safetensors header, checked against the config before any tensor is read: the same names,
    float32, the expected shapes, and byte ranges that tile the data exactly."""
    if len(weights) < 8:
        raise _bad(f"{WEIGHTS_FILE} is not a safetensors file (too short)")
    length = int.from_bytes(weights[:8], "little")
    if length > min(MAX_HEADER_BYTES, len(weights) - 8):
        raise _bad(f"{WEIGHTS_FILE} is not a safetensors file (its header size is wrong)")
    header = parse_json(weights[8 : 8 + length], f"the header of {WEIGHTS_FILE}")
    if not isinstance(header, dict):
        raise _bad(f"{WEIGHTS_FILE} is not a safetensors file (its header is not a JSON object)")
    header.pop("__metadata__", None)
    missing = sorted(set(expected) - set(header))
    unexpected = sorted(set(header) - set(expected))
    if missing or unexpected:
        raise _bad(
            f"tensor names do not match the config (missing: {short_repr(missing)}, "
            f"unexpected: {short_repr(unexpected)})"
        )
    spans = []
    for name, entry in header.items():
        shape = list(expected[name].shape)
        if not isinstance(entry, dict) or entry.get("dtype") != "F32":
            raise _bad(f"{name} is not stored as float32")
        if entry.get("shape") != shape:
            raise _bad(f"{name} has shape {short_repr(entry.get('shape'))}, the config needs {tuple(shape)}")
        offsets = entry.get("data_offsets")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in offsets)
            or offsets[1] - offsets[0] != 4 * math.prod(shape)
        ):
            raise _bad(f"{name} has wrong data offsets")
        spans.append((offsets[0], offsets[1]))
    position = 0
    for begin, end in sorted(spans):
        if begin != position:
            raise _bad(f"the tensors in {WEIGHTS_FILE} overlap or leave gaps")
        position = end
    if position != len(weights) - 8 - length:
        raise _bad(f"{WEIGHTS_FILE} is not the size its header says")


def parse_checkpoint(weights: bytes, meta_json: bytes) -> Checkpoint:
    """Validate and build a Checkpoint from the two files' bytes (meta and history cleaned)."""
    if len(weights) > MAX_CHECKPOINT_BYTES:
        raise _bad(f"{WEIGHTS_FILE} is larger than {MAX_CHECKPOINT_BYTES // 1_000_000} MB")
    if len(meta_json) > MAX_META_BYTES:
        raise _bad(f"{META_FILE} is larger than {MAX_META_BYTES // 1_000_000} MB")
    document = parse_json(meta_json, META_FILE)
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise _bad(f"{META_FILE} does not describe a TinyLM checkpoint")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version != FORMAT_VERSION:
        raise _bad(f"unsupported checkpoint version {short_repr(version)}")
    config = _model_config(document.get("config"))
    try:
        tokenizer = tokenizer_from_dict(document.get("tokenizer"))
    except TinyLMError as exc:
        raise _bad(f"bad tokenizer: {str(exc.params.get('detail', exc.message))[:200]}") from None
    if tokenizer.vocab_size != config.vocab_size:
        raise _bad(
            f"the tokenizer has {tokenizer.vocab_size} tokens but the model expects {config.vocab_size}"
        )
    history, meta = document.get("history", {}), document.get("meta", {})
    if not isinstance(history, dict) or not isinstance(meta, dict):
        raise _bad("history and meta must be JSON objects")
    history, meta = clean_history(history), clean_meta(meta)
    del document  # the rest of the raw JSON is not kept
    model = TinyLM(config)  # bounded: the config allows at most 10 M parameters
    expected = _weights(model)
    _check_weights_header(weights, expected)
    try:
        tensors = load_safetensors_bytes(weights)
    except (SafetensorError, ValueError, RuntimeError, OSError) as exc:
        raise _bad(f"{WEIGHTS_FILE} is not a safetensors file ({str(exc)[:120]})") from None
    for name, tensor in tensors.items():
        if tensor.shape != expected[name].shape or tensor.dtype != torch.float32:
            raise _bad(f"{name} does not match the config")  # checked in the header already
        if not torch.isfinite(tensor).all():
            raise _bad(f"{name} contains NaN or infinite values")
    model.load_state_dict(tensors, strict=False)  # only the tied lm_head.weight is absent, checked above
    model.eval()
    return Checkpoint(model=model, tokenizer=tokenizer, history=history, meta=meta)


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Load a checkpoint directory (or a .zip file) written by save_checkpoint / checkpoint_zip_bytes."""
    path = Path(path)
    if path.is_file():
        if path.stat().st_size > MAX_ZIP_BYTES:
            raise _bad("the file is too large")
        return read_checkpoint_zip(path.read_bytes())
    if not path.is_dir():
        raise TinyLMError("checkpoint_not_found", f"no checkpoint at {path}", path=str(path))
    files = {}
    for name, limit in ((WEIGHTS_FILE, MAX_CHECKPOINT_BYTES), (META_FILE, MAX_META_BYTES)):
        file = path / name
        if not file.is_file():
            raise _bad(f"{name} is missing from {path}")
        if file.stat().st_size > limit:
            raise _bad(f"{name} is too large")
        files[name] = file.read_bytes()
    return parse_checkpoint(files[WEIGHTS_FILE], files[META_FILE])


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # a zip entry's local header (as zipfile reads it)


def _entry_bytes(data: bytes, info: zipfile.ZipInfo, limit: int) -> bytes:
    """One zip entry, inflated by a streaming read that never produces more than its declared size + 1
    byte (the declared size itself capped at ``limit``); the size and the CRC must then match."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise _bad(f"{name} is encrypted")
    if info.compress_type not in _ZIP_METHODS:
        raise _bad(f"{name} uses an unsupported compression; only stored and deflate zips are accepted")
    if info.file_size > limit:
        raise _bad(f"{name} is larger than {limit // 1_000_000} MB")
    offset = info.header_offset
    header = data[offset : offset + _LOCAL_HEADER.size]
    if len(header) != _LOCAL_HEADER.size:
        raise _bad("the zip is damaged")
    fields_ = _LOCAL_HEADER.unpack(header)
    signature, name_length, extra_length = fields_[0], fields_[10], fields_[11]
    start = offset + _LOCAL_HEADER.size
    if signature != b"PK\x03\x04" or data[start : start + name_length] != name.encode("ascii"):
        raise _bad("the zip is damaged")
    start += name_length + extra_length
    raw = memoryview(data)[start : start + info.compress_size]
    if len(raw) != info.compress_size:
        raise _bad("the zip is damaged (truncated)")
    if info.compress_type == zipfile.ZIP_STORED:
        content = bytes(raw[: info.file_size + 1])
    else:
        content = _inflate(raw, info.file_size)
    if len(content) != info.file_size:
        raise _bad(f"{name} is not the size the zip says")
    if zlib.crc32(content) != info.CRC:
        raise _bad("the zip is damaged (CRC mismatch)")
    return content


def _inflate(raw: memoryview, size: int) -> bytes:
    """Raw deflate data -> at most size + 1 bytes. Each call to zlib either uses up the input it was
    given or stops at the output limit, so the loop ends after len(raw) / _INFLATE_CHUNK + 2 calls."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    out = io.BytesIO()
    produced, position = 0, 0
    pending: bytes | memoryview = b""
    try:
        while produced <= size:
            if not pending:
                if position >= len(raw):
                    break
                pending = raw[position : position + _INFLATE_CHUNK]
                position += len(pending)
            piece = inflater.decompress(pending, size + 1 - produced)  # max_length >= 1 (0 = unlimited)
            pending = inflater.unconsumed_tail
            produced += out.write(piece)
            if inflater.eof:
                break
    except zlib.error:
        raise _bad("the zip is damaged (corrupt compressed data)") from None
    return out.getvalue()


def read_checkpoint_zip(data: bytes) -> Checkpoint:
    """Load an uploaded .zip checkpoint. Only the two expected files are accepted (a torch .pt file is
    also a zip, holding a pickle; it is refused here without ever being unpickled)."""
    data = bytes(data)
    if len(data) > MAX_ZIP_BYTES:
        raise _bad("the file is too large")
    expected_names = f"expected exactly {WEIGHTS_FILE} and {META_FILE} in the zip"
    # Every entry zipfile reads from the central directory starts with this signature, at its own place.
    if data.count(b"PK\x01\x02") > MAX_ZIP_ENTRIES:
        raise _bad(f"{expected_names}, found more than {MAX_ZIP_ENTRIES} entries")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,  # includes UnicodeDecodeError (a name flagged UTF-8 that is not)
        OSError,
        EOFError,
        struct.error,
        NotImplementedError,
        OverflowError,
    ):
        raise _bad("the file is not a .zip made by TinyLM Lab") from None
    files = [info for info in entries if not info.is_dir()]
    names = sorted(info.filename for info in files)
    if names != sorted([WEIGHTS_FILE, META_FILE]) or any(i.orig_filename != i.filename for i in files):
        raise _bad(f"{expected_names}, found {short_repr([i.orig_filename for i in files])}")
    by_name = {info.filename: info for info in files}
    meta = _entry_bytes(data, by_name[META_FILE], MAX_META_BYTES)
    weights = _entry_bytes(data, by_name[WEIGHTS_FILE], MAX_CHECKPOINT_BYTES)
    return parse_checkpoint(weights, meta)


def load_checkpoint(path: str | Path) -> tuple[TinyLM, Tokenizer]:
    """(model, tokenizer) from a checkpoint directory or .zip; the model is in eval mode."""
    checkpoint = read_checkpoint(path)
    return checkpoint.model, checkpoint.tokenizer
