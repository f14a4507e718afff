"""Saving and loading models: safetensors for the weights, JSON for everything else. Never pickle.

A checkpoint is a directory (or, for downloads and uploads, a .zip of that directory) holding

    model.safetensors   the weight tensors, by name (safetensors: a JSON header + raw numbers;
                        reading it cannot run code, unlike torch.load / pickle)
    tinylm.json         {"format": "tinylm-checkpoint", "version": 1, "config": {...},
                         "tokenizer": {...}, "history": {...}, "meta": {...}}

Everything read is validated: sizes capped, JSON structure checked, every tensor name, shape and
dtype compared with what the config says. Anything else gives TinyLMError("bad_checkpoint").
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from tinylm.config import ModelConfig
from tinylm.errors import TinyLMError
from tinylm.model import TinyLM
from tinylm.tokenizers import Tokenizer, tokenizer_from_dict

WEIGHTS_FILE = "model.safetensors"
META_FILE = "tinylm.json"
FORMAT_NAME = "tinylm-checkpoint"
FORMAT_VERSION = 1
MAX_CHECKPOINT_BYTES = 64_000_000  # the largest allowed model (10 M parameters, fp32) is 40 MB
MAX_META_BYTES = 16_000_000
MAX_ZIP_BYTES = MAX_CHECKPOINT_BYTES + MAX_META_BYTES


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model (in eval mode), its tokenizer, and what was recorded with it."""

    model: TinyLM
    tokenizer: Tokenizer
    history: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def _bad(detail: str) -> TinyLMError:
    return TinyLMError("bad_checkpoint", f"not a valid TinyLM checkpoint: {detail}", detail=detail)


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


def parse_checkpoint(weights: bytes, meta_json: bytes) -> Checkpoint:
    """Validate and build a Checkpoint from the two files' bytes."""
    if len(weights) > MAX_CHECKPOINT_BYTES:
        raise _bad(f"{WEIGHTS_FILE} is larger than {MAX_CHECKPOINT_BYTES // 1_000_000} MB")
    if len(meta_json) > MAX_META_BYTES:
        raise _bad(f"{META_FILE} is larger than {MAX_META_BYTES // 1_000_000} MB")
    try:
        document = json.loads(meta_json.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad(f"{META_FILE} is not valid JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise _bad(f"{META_FILE} does not describe a TinyLM checkpoint")
    if document.get("version") != FORMAT_VERSION:
        raise _bad(f"unsupported checkpoint version {document.get('version')!r}")
    config = ModelConfig.from_dict(document.get("config"))
    tokenizer = tokenizer_from_dict(document.get("tokenizer"))
    if tokenizer.vocab_size != config.vocab_size:
        raise _bad(
            f"the tokenizer has {tokenizer.vocab_size} tokens but the model expects {config.vocab_size}"
        )
    history, meta = document.get("history", {}), document.get("meta", {})
    if not isinstance(history, dict) or not isinstance(meta, dict):
        raise _bad("history and meta must be JSON objects")
    try:
        tensors = load_safetensors_bytes(weights)
    except (SafetensorError, ValueError, RuntimeError, OSError) as exc:
        raise _bad(f"{WEIGHTS_FILE} is not a safetensors file ({str(exc)[:120]})") from None
    model = TinyLM(config)
    expected = _weights(model)
    missing, unexpected = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise _bad(
            f"tensor names do not match the config (missing: {missing[:5]}, unexpected: {unexpected[:5]})"
        )
    for name, tensor in tensors.items():
        if tensor.shape != expected[name].shape:
            raise _bad(
                f"{name} has shape {tuple(tensor.shape)}, the config needs {tuple(expected[name].shape)}"
            )
        if tensor.dtype != torch.float32:
            raise _bad(f"{name} has dtype {tensor.dtype}, expected float32")
        if not torch.isfinite(tensor).all():
            raise _bad(f"{name} contains NaN or infinite values")
    model.load_state_dict(tensors, strict=False)  # only the tied lm_head.weight is absent, checked above
    model.eval()
    return Checkpoint(model=model, tokenizer=tokenizer, history=history, meta=meta)


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Load a checkpoint directory (or a .zip file) written by save_checkpoint / checkpoint_zip_bytes."""
    path = Path(path)
    if path.is_file():
        if path.stat().st_size > MAX_CHECKPOINT_BYTES + MAX_META_BYTES:
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


def read_checkpoint_zip(data: bytes) -> Checkpoint:
    """Load an uploaded .zip checkpoint. Only the two expected files are accepted (a torch .pt file is
    also a zip, holding a pickle; it is refused here without ever being unpickled)."""
    if len(data) > MAX_CHECKPOINT_BYTES + MAX_META_BYTES:
        raise _bad("the file is too large")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _bad("the file is not a .zip made by TinyLM Lab") from None
    with archive:
        infos = {info.filename: info for info in archive.infolist() if not info.is_dir()}
        if set(infos) != {WEIGHTS_FILE, META_FILE}:
            raise _bad(
                f"expected exactly {WEIGHTS_FILE} and {META_FILE} in the zip, found {sorted(infos)[:5]}"
            )
        if (
            infos[WEIGHTS_FILE].file_size > MAX_CHECKPOINT_BYTES
            or infos[META_FILE].file_size > MAX_META_BYTES
        ):
            raise _bad("a file in the zip is too large")
        try:
            weights, meta = archive.read(WEIGHTS_FILE), archive.read(META_FILE)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError):
            raise _bad("the zip is damaged") from None
    return parse_checkpoint(weights, meta)


def load_checkpoint(path: str | Path) -> tuple[TinyLM, Tokenizer]:
    """(model, tokenizer) from a checkpoint directory or .zip; the model is in eval mode."""
    checkpoint = read_checkpoint(path)
    return checkpoint.model, checkpoint.tokenizer
