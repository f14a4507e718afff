"""What a checkpoint's meta and history may hold: only the fields we know, each type-checked and
length-capped (``clean_meta``, ``clean_history``), so that megabytes of metadata in an uploaded file are
never kept, cached, written back or shown (tinylm/checkpoint.py reads the file; this keeps its content).

    clean_meta({"name": "a\nb" * 99, "evil": 1})   ->  {"name": "abab...ab"}  (one line, 100 chars)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from tinylm.train import TrainConfig

# What meta and history keep (see clean_meta / clean_history).
MAX_NAME_CHARS = 100
MAX_SAMPLE_CHARS = 2_000
MAX_SAMPLES = 200
MAX_HISTORY_ROWS = 10_000  # per curve; more are thinned evenly (first and last kept)
HISTORY_WIDTHS = {"train": 3, "val": 3, "learning_rate": 2, "tokens_per_sec": 2, "accuracy": 2, "icl": 2}
# Per-head scores recorded at evaluations (tinylm.explain.induction.training_recorder): [step, matrix]
# rows, the matrix one row of numbers per layer, one number per head (at most the model's limits).
HEAD_SCORE_KEYS = ("induction", "prev_token")
MAX_SCORE_LAYERS, MAX_SCORE_HEADS = 12, 16


_DROP = object()
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _utf8(text: str) -> str:
    """The text with lone surrogates (JSON can spell them, "\\ud800") replaced: it can be stored again."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _line(limit: int) -> Callable[[Any], Any]:
    """A one-line text of at most ``limit`` characters (control characters removed)."""

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return _DROP
        return _utf8(_CONTROL.sub("", value[: 4 * limit]))[:limit]

    return check


def _word(pattern: str) -> Callable[[Any], Any]:
    compiled = re.compile(pattern)

    def check(value: Any) -> Any:
        return value if isinstance(value, str) and compiled.fullmatch(value) else _DROP

    return check


_INT_LIMIT = 2**63


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool; ints within 64 bits, so float() of them cannot overflow)."""
    kind = type(value)  # the exact types first: this runs for every number of a history
    if kind is float:
        return math.isfinite(value)
    if kind is int:
        return -_INT_LIMIT <= value < _INT_LIMIT
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return is_number(float(value) if isinstance(value, float) else int(value))  # e.g. numpy.float64


def _number(low: float, high: float, integer: bool = False, nullable: bool = False) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is None:
            return None if nullable else _DROP
        if not is_number(value) or (integer and not isinstance(value, int)) or not low <= value <= high:
            return _DROP
        return value

    return check


_TRAIN_CONFIG_KEYS = tuple(f.name for f in fields(TrainConfig))


def _train_config(value: Any) -> Any:
    """The training settings a run used: TrainConfig's keys with plain scalar values."""
    if not isinstance(value, dict):
        return _DROP
    clean = {}
    for key in _TRAIN_CONFIG_KEYS:
        if key not in value:
            continue
        item = value[key]
        if item is None or isinstance(item, bool) or is_number(item):
            clean[key] = item
        elif isinstance(item, str):
            clean[key] = _line(32)(item)
    return clean


def _small_record(depth: int = 2, keys: int = 40) -> Callable[[Any], Any]:
    """A small JSON object of known shape (a fine-tuning run's record): at most ``keys`` keys of 40
    characters, values that are numbers, booleans, None, texts of at most 200 characters, or (``depth``
    allowing) such objects again. Anything else inside is dropped."""

    def check(value: Any) -> Any:
        if not isinstance(value, dict):
            return _DROP
        clean: dict[str, Any] = {}
        for key, item in list(value.items())[:keys]:
            if not isinstance(key, str) or len(key) > 40:
                continue
            if item is None or isinstance(item, bool) or is_number(item):
                clean[key] = item
            elif isinstance(item, str):
                clean[key] = _line(200)(item)
            elif isinstance(item, dict) and depth > 1:
                clean[key] = _small_record(depth - 1, keys)(item)
        return clean

    return check


# The meta fields TinyLM writes (tinylm.cli cmd_train, ui.jobs) and what each may hold.
META_FIELDS: dict[str, Callable[[Any], Any]] = {
    "name": _line(MAX_NAME_CHARS),
    "corpus": _line(MAX_NAME_CHARS),
    "created": _line(40),  # ISO 8601 time
    "state": _word(r"[a-z_]{1,20}"),  # done, stopped, failed, ...
    "run_id": _word(r"[A-Za-z0-9_-]{1,64}"),
    "tinylm_version": _line(32),
    "steps": _number(0, 10**9, integer=True),
    "val_loss": _number(0.0, 1e6, nullable=True),
    "accuracy": _number(0.0, 1.0, nullable=True),
    "wall_seconds": _number(0.0, 1e8),
    "train_config": _train_config,
    "pretraining_corpus": _line(MAX_NAME_CHARS),  # a fine-tuned model's base corpus
    "finetune": _small_record(depth=2),  # task, mode, result, train_config, base (tinylm.finetune)
}


def clean_meta(meta: Any) -> dict[str, Any]:
    """Only the META_FIELDS, each type-checked and capped; anything else (or anything malformed) is dropped.

    Meta comes from uploaded files and is kept in memory, cached, written back and shown on every page:
    what is kept is at most a few KB whatever the file held.
    """
    if not isinstance(meta, dict):
        return {}
    clean = {}
    for key, check in META_FIELDS.items():
        if key in meta:
            value = check(meta[key])
            if value is not _DROP:
                clean[key] = value
    return clean


def _thin(rows: list, limit: int) -> list:
    """At most ``limit`` rows, evenly spread, the first and the last always kept."""
    if len(rows) <= limit:
        return rows
    step = (len(rows) - 1) / (limit - 1)
    return [rows[round(i * step)] for i in range(limit)]


def _is_score_row(row: Any) -> bool:
    """[step, [[score per head] per layer]]: a step, then 1..12 layers of 1..16 finite numbers each."""
    if not (isinstance(row, (list, tuple)) and len(row) == 2 and type(row[0]) is int and row[0] >= 0):
        return False
    matrix = row[1]
    return (
        isinstance(matrix, list)
        and 1 <= len(matrix) <= MAX_SCORE_LAYERS
        and all(
            isinstance(layer, list) and 1 <= len(layer) <= MAX_SCORE_HEADS and all(map(is_number, layer))
            for layer in matrix
        )
    )


def clean_history(history: Any) -> dict[str, list]:
    """The training curves (HISTORY_WIDTHS: rows of that many finite numbers, at most MAX_HISTORY_ROWS
    each), the per-head scores (HEAD_SCORE_KEYS: [step, layers × heads] rows) and the generated samples
    ([step, text], at most MAX_SAMPLES of MAX_SAMPLE_CHARS characters). Malformed rows are dropped (a
    diverged run stores its NaN loss as null); unknown keys too."""
    if not isinstance(history, dict):
        return {}
    clean: dict[str, list] = {}
    for key, width in HISTORY_WIDTHS.items():
        rows = history.get(key)
        if isinstance(rows, list):
            good = [
                list(row)
                for row in rows
                if isinstance(row, (list, tuple)) and len(row) == width and all(map(is_number, row))
            ]
            clean[key] = _thin(good, MAX_HISTORY_ROWS)
    for key in HEAD_SCORE_KEYS:
        rows = history.get(key)
        if isinstance(rows, list):
            good = [list(row) for row in rows if _is_score_row(row)]
            clean[key] = _thin(good, MAX_HISTORY_ROWS)
    samples = history.get("samples")
    if isinstance(samples, list):
        good = [
            [row[0], _utf8(row[1][:MAX_SAMPLE_CHARS])]
            for row in samples
            if isinstance(row, (list, tuple))
            and len(row) == 2
            and is_number(row[0])
            and isinstance(row[0], int)
            and isinstance(row[1], str)
        ]
        clean["samples"] = _thin(good, MAX_SAMPLES)
    return clean
