"""Fuzzing read_checkpoint_zip with mutated real checkpoints (issue #11).

Starting from the zip bytes of two real tiny checkpoints (a CharTokenizer one and a BPE one), each
example applies one mutation: a JSON value of tinylm.json or of the safetensors header replaced
(deep nesting, a huge integer, a huge string, a wrong type, NaN) or dropped; the entries swapped,
duplicated, renamed or re-zipped with another method; bytes flipped inside a file; bytes of the zip
flipped or cut off; and then maybe damages the zip's bytes as well. Whatever comes out, loading it
must give a working model or TinyLMError("bad_checkpoint"), nothing else, within a second of CPU time
and a bounded amount of memory (tracemalloc's peak).

A loaded model must run a forward pass, and its tokenizer must decode every token and (BPE) list its
merges: that is where a tokenizer describing impossibly long tokens would blow up.
"""

from __future__ import annotations

import json
import time
import tracemalloc
import zipfile

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.checkpoint_craft import RAW, base_zip, dumps, files_of, join_safetensors, split_safetensors, zip_of
from tinylm import BPETokenizer, TinyLMError
from tinylm.checkpoint import META_FILE, WEIGHTS_FILE, Checkpoint, read_checkpoint_zip

SECONDS = 1.0  # CPU time per load
MEMORY = 48_000_000  # peak Python allocations per load; a sane tiny checkpoint needs ~2 MB
FUZZ = settings(
    max_examples=600,
    deadline=None,  # wall time on a shared machine is noise; CPU time is asserted below
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Replacement values, as raw JSON text: what an attacker can write but json.dumps cannot.
REPLACEMENTS = st.sampled_from(
    [
        "[" * 50_000 + "]" * 50_000,  # deeper than Python's recursion limit
        '{"a":' * 300 + "0" + "}" * 300,
        "9" * 5000,  # more digits than Python reads
        "9" * 4000,
        "-1",
        "0",
        "1e999",
        "NaN",
        "-Infinity",
        "1.5",
        "true",
        "null",
        '""',
        '"' + "x" * 2_000_000 + '"',
        '"\\ud800"',
        "[]",
        "{}",
        "[[0, 1], [2, 3]]",
        '"F16"',
        json.dumps(list(range(100_000))),
    ]
)


def json_paths(value, prefix=()):
    """Every path to a value inside a JSON document (lists sampled: a curve has hundreds of rows)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from json_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index in sorted({0, len(value) // 2, len(value) - 1} if value else set()):
            yield from json_paths(value[index], (*prefix, index))


def replaced(document, path, raw: str | None):
    """The document with the value at path replaced by RAW (later the raw text), or dropped (raw None)."""
    if not path:
        return RAW if raw is not None else None
    copy = json.loads(json.dumps(document))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    if raw is None:
        del parent[path[-1]]
    else:
        parent[path[-1]] = RAW
    return copy


@st.composite
def json_mutation(draw, data: bytes):
    files = files_of(data)
    if draw(st.booleans()):  # tinylm.json
        document = json.loads(files[META_FILE])
        path = draw(st.sampled_from(list(json_paths(document))))
        raw = draw(st.none() | REPLACEMENTS)
        files[META_FILE] = dumps(replaced(document, path, raw), raw)
    else:  # the safetensors header
        header, body = split_safetensors(files[WEIGHTS_FILE])
        path = draw(st.sampled_from(list(json_paths(header))))
        raw = draw(st.none() | REPLACEMENTS)
        files[WEIGHTS_FILE] = join_safetensors(replaced(header, path, raw), body, raw)
    return zip_of(files)


@st.composite
def entry_mutation(draw, data: bytes):
    files = files_of(data)
    weights, meta = files[WEIGHTS_FILE], files[META_FILE]
    kind = draw(
        st.sampled_from(
            ["swap", "duplicate", "rename", "extra", "missing", "empty", "rezip", "cross", "order"]
        )
    )
    entries = [(WEIGHTS_FILE, weights), (META_FILE, meta)]
    if kind == "swap":
        entries = [(WEIGHTS_FILE, meta), (META_FILE, weights)]
    elif kind == "duplicate":
        entries.append(draw(st.sampled_from(entries)))
    elif kind == "rename":
        odd = draw(
            st.sampled_from(["tinylm.JSON", "./tinylm.json", "a/tinylm.json", "tinylm.json/", "\u00e9"])
        )
        entries[draw(st.integers(0, 1))] = (odd, meta)
    elif kind == "extra":
        entries.append(draw(st.sampled_from([("data.pkl", b"\x80\x04."), ("x/", b""), ("notes", b"hi")])))
    elif kind == "missing":
        entries.pop(draw(st.integers(0, 1)))
    elif kind == "empty":
        index = draw(st.integers(0, 1))
        entries[index] = (entries[index][0], b"")
    elif kind == "cross":  # the other checkpoint's tinylm.json: the tokenizer does not fit the weights
        other = files_of(base_zip("bpe" if data == base_zip("char") else "char"))
        entries[1] = (META_FILE, other[META_FILE])
    elif kind == "order":
        entries.reverse()
    method = draw(
        st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_LZMA, zipfile.ZIP_BZIP2])
    )
    return zip_of(entries, method=method)


@st.composite
def byte_mutation(draw, data: bytes):
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(out) - 1))
        out[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        return bytes(out[: draw(st.integers(0, len(out)))])
    return bytes(out)


@st.composite
def content_mutation(draw, data: bytes):
    """Bytes flipped inside one of the files (then zipped again, so they reach the parsers)."""
    files = files_of(data)
    name = draw(st.sampled_from([WEIGHTS_FILE, META_FILE]))
    content = bytearray(files[name])
    for _ in range(draw(st.integers(1, 4))):
        near_start = draw(st.booleans())  # the safetensors header, the start of the JSON
        position = draw(st.integers(0, min(len(content), 2048) - 1 if near_start else len(content) - 1))
        content[position] = draw(st.integers(0, 255))
    files[name] = bytes(content)
    return zip_of(files)


MUTATIONS = [json_mutation] * 4 + [entry_mutation] * 2 + [content_mutation] * 2 + [byte_mutation] * 2 + [None]


@st.composite
def mutated_checkpoint(draw):
    data = base_zip(draw(st.sampled_from(["char", "bpe"])))
    mutate = draw(st.sampled_from(MUTATIONS))
    if mutate is not None:
        data = draw(mutate(data))
    if mutate is not byte_mutation and draw(st.integers(0, 5)) == 0:
        data = draw(byte_mutation(data))  # and then the zip itself damaged
    return data


def check_works(checkpoint: Checkpoint) -> None:
    model, tokenizer = checkpoint.model, checkpoint.tokenizer
    assert tokenizer.vocab_size == model.config.vocab_size
    ids = torch.arange(min(model.config.context_len, tokenizer.vocab_size)).unsqueeze(0)
    logits = model(ids).logits
    assert logits.shape == (1, ids.shape[1], tokenizer.vocab_size)
    everything = list(range(tokenizer.vocab_size))
    assert isinstance(tokenizer.decode(everything), str)
    assert len(tokenizer.token_strings(everything)) == tokenizer.vocab_size
    if isinstance(tokenizer, BPETokenizer):
        assert len(tokenizer.merge_table()) == tokenizer.vocab_size - 256
    json.dumps(checkpoint.meta, ensure_ascii=False, allow_nan=False).encode("utf-8")  # can be saved again
    json.dumps(checkpoint.history, ensure_ascii=False, allow_nan=False).encode("utf-8")


def load_and_use(data: bytes):
    try:
        checkpoint = read_checkpoint_zip(data)
    except TinyLMError as exc:
        return exc
    check_works(checkpoint)
    return checkpoint


@FUZZ
@given(mutated_checkpoint())
def test_a_mutated_checkpoint_loads_into_a_working_model_or_is_refused(data):
    tracemalloc.start()
    started = time.process_time()
    try:
        result = load_and_use(data)  # any other exception fails the test
        seconds = time.process_time() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    if isinstance(result, TinyLMError):
        assert result.code == "bad_checkpoint", (result.code, result.message)
        assert len(result.message) < 400
    assert seconds < SECONDS, f"{seconds:.2f} s"
    assert peak < MEMORY, f"{peak / 1e6:.0f} MB"


def test_the_mutations_reach_every_layer_of_the_reader():
    """The fuzzer is only worth something if its mutations get past the zip: some mutated checkpoints
    must still load, and refusals must come from the zip, the JSON and the weights checks alike."""
    examples = []

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(mutated_checkpoint())
    def collect(data):
        examples.append(data)

    collect()
    layers = {
        "zip": lambda detail: "zip" in detail,
        "json": lambda detail: "JSON" in detail or "nested" in detail,
        "weights": lambda detail: any(word in detail for word in ("float32", "shape", "offsets", "tensor")),
        "config or tokenizer": lambda detail: "config" in detail or "tokenizer" in detail,
    }
    reached = set()
    for data in examples:
        try:
            read_checkpoint_zip(data)
            reached.add("loaded")
        except TinyLMError as exc:
            reached.update(name for name, seen in layers.items() if seen(exc.params["detail"]))
    assert reached == {"loaded", *layers}
