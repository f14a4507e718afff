"""A LoRA adapter on disk: its own small directory, never the whole model. Never pickle.

    adapter.safetensors   the A and B matrices by name ("blocks.0.attention.qkv.A.q", ...): a few KB
    adapter.json          {"format": "tinylm-lora-adapter", "version": 1, "rank", "alpha", "targets",
                           "base": {"fingerprint", "name", "path", "config"}, "task", "meta"}

An adapter only makes sense on top of the exact weights it was trained against, so it records the
base model's *fingerprint*: the SHA-256 of the base weights in a canonical order (sorted tensor names;
for each its name, shape and float32 bytes). Attaching it to any other model is refused with
TinyLMError("adapter_mismatch").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from tinylm.checkpoint import Checkpoint, read_checkpoint
from tinylm.errors import TinyLMError
from tinylm.lora import LoraSettings, adapter_tensors, apply_lora, lora_layers
from tinylm.model import TinyLM

ADAPTER_WEIGHTS = "adapter.safetensors"
ADAPTER_META = "adapter.json"
ADAPTER_FORMAT = "tinylm-lora-adapter"
ADAPTER_VERSION = 1
MAX_ADAPTER_BYTES = 16_000_000


def model_fingerprint(model: TinyLM) -> str:
    """SHA-256 (hex) of a plain model's weights: sorted names, each with its shape and float32 bytes."""
    if any(True for _ in lora_layers(model)):
        raise ValueError("fingerprint the base model before LoRA layers are added")
    state = model.state_dict()
    if model.config.tie_weights:
        state.pop("lm_head.weight")  # the embedding itself, as in a checkpoint
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().to(torch.float32).contiguous().cpu()
        digest.update(f"{name}:{tuple(tensor.shape)};".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


@dataclass
class Adapter:
    """A loaded adapter: its settings, tensors and what it was made from."""

    settings: LoraSettings
    tensors: dict[str, torch.Tensor]
    base: dict[str, Any]  # fingerprint, name, path, config
    task: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def _bad(detail: str) -> TinyLMError:
    return TinyLMError("bad_adapter", f"not a valid TinyLM adapter: {detail}", detail=detail)


def save_adapter(
    path: str | Path,
    model: TinyLM,
    settings: LoraSettings,
    base: dict[str, Any],
    task: str | None = None,
    meta: dict | None = None,
) -> Path:
    """Write the adapter directory (the A, B matrices of ``model`` and the JSON description)."""
    if "fingerprint" not in base:
        raise ValueError("base must hold the base model's fingerprint")
    document = {
        "format": ADAPTER_FORMAT,
        "version": ADAPTER_VERSION,
        **settings.to_dict(),
        "base": base,
        "task": task,
        "meta": meta or {},
    }
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        ADAPTER_WEIGHTS: save_safetensors_bytes(adapter_tensors(model)),
        ADAPTER_META: json.dumps(document, ensure_ascii=False, allow_nan=False, indent=1).encode("utf-8"),
    }
    for name, data in files.items():
        temporary = directory / (name + ".tmp")
        temporary.write_bytes(data)
        temporary.replace(directory / name)
    return directory


def is_adapter_dir(path: str | Path) -> bool:
    return (Path(path) / ADAPTER_META).is_file()


def read_adapter(path: str | Path) -> Adapter:
    """Load and validate an adapter directory (sizes, JSON structure, settings, tensor dtypes)."""
    directory = Path(path)
    files = {}
    for name in (ADAPTER_WEIGHTS, ADAPTER_META):
        file = directory / name
        if not file.is_file():
            raise _bad(f"{name} is missing from {directory}")
        if file.stat().st_size > MAX_ADAPTER_BYTES:
            raise _bad(f"{name} is too large")
        files[name] = file.read_bytes()
    try:
        document = json.loads(files[ADAPTER_META].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad(f"{ADAPTER_META} is not valid JSON") from None
    if not isinstance(document, dict) or document.get("format") != ADAPTER_FORMAT:
        raise _bad(f"{ADAPTER_META} does not describe a TinyLM adapter")
    if document.get("version") != ADAPTER_VERSION:
        raise _bad(f"unsupported adapter version {document.get('version')!r}")
    base, targets = document.get("base"), document.get("targets")
    if not isinstance(base, dict) or not isinstance(base.get("fingerprint"), str):
        raise _bad("the base model's fingerprint is missing")
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise _bad("targets must be a list of names")
    settings = LoraSettings(rank=document.get("rank"), alpha=document.get("alpha"), targets=tuple(targets))
    settings.validate()
    try:
        tensors = load_safetensors_bytes(files[ADAPTER_WEIGHTS])
    except (SafetensorError, ValueError, RuntimeError, OSError) as exc:
        raise _bad(f"{ADAPTER_WEIGHTS} is not a safetensors file ({str(exc)[:120]})") from None
    for name, tensor in tensors.items():
        if tensor.dtype != torch.float32 or not torch.isfinite(tensor).all():
            raise _bad(f"{name} must hold finite float32 numbers")
    meta = document.get("meta") if isinstance(document.get("meta"), dict) else {}
    task = document.get("task") if isinstance(document.get("task"), str) else None
    return Adapter(settings=settings, tensors=tensors, base=base, task=task, meta=meta)


def attach_adapter(model: TinyLM, adapter: Adapter) -> TinyLM:
    """Add the adapter's LoRA layers to ``model`` (in place, un-merged); refuses a different base model."""
    found = model_fingerprint(model)
    expected = adapter.base["fingerprint"]
    if found != expected:
        made_for = adapter.base.get("name") or "another model"
        raise TinyLMError(
            "adapter_mismatch",
            f"this adapter was trained on a different base model ({made_for}, fingerprint {expected[:12]}); "
            f"the model given has fingerprint {found[:12]}. Load it onto the model it was made for.",
            base=str(made_for),
            expected=expected[:12],
            found=found[:12],
        )
    apply_lora(model, adapter.settings)
    own = adapter_tensors(model)
    if set(own) != set(adapter.tensors):
        raise _bad("its tensor names do not match its rank and targets")
    with torch.no_grad():
        for path, layer in lora_layers(model):
            for kind, table in (("A", layer.A), ("B", layer.B)):
                for name, parameter in table.items():
                    tensor = adapter.tensors[f"{path}.{kind}.{name}"]
                    if tensor.shape != parameter.shape:
                        raise _bad(f"{path}.{kind}.{name} has shape {tuple(tensor.shape)}")
                    parameter.copy_(tensor)
    return model.eval()


def read_model(path: str | Path, base: str | Path | None = None) -> Checkpoint:
    """A checkpoint directory, or an adapter directory on top of its base (``base`` or the recorded path).

    For an adapter, the returned model is the base with the adapter attached and merged (W + ΔW).
    """
    if not is_adapter_dir(path):
        return read_checkpoint(path)
    adapter = read_adapter(path)
    base_path = base or adapter.base.get("path")
    if not base_path or not Path(base_path).exists():
        raise TinyLMError(
            "adapter_base_missing",
            f"this adapter needs its base model, recorded as {base_path!r}, which is not there; "
            "pass the base model's directory with --base",
            path=str(base_path),
        )
    checkpoint = read_checkpoint(base_path)
    attach_adapter(checkpoint.model, adapter)
    for _, layer in lora_layers(checkpoint.model):
        layer.merge()
    meta = {
        **checkpoint.meta,
        "adapter": {"path": str(path), **adapter.settings.to_dict(), "task": adapter.task},
    }
    return Checkpoint(
        model=checkpoint.model, tokenizer=checkpoint.tokenizer, history=checkpoint.history, meta=meta
    )
