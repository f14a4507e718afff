import io
import json
import pickle
import sys
import time
import tracemalloc
import zipfile

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinylm.checkpoint as checkpoint_module
from tests import checkpoint_craft as craft
from tests.checkpoint_craft import (
    RAW,
    base_zip,
    entry_data_offset,
    files_of,
    patch_central,
    with_document,
    with_header,
    zip_of,
)
from tests.conftest import ROOT
from tests.helpers import make_model
from tinylm import CharTokenizer, TinyLMError, TrainConfig, load_checkpoint, read_checkpoint, save_checkpoint
from tinylm.checkpoint import (
    MAX_META_BYTES,
    MAX_ZIP_ENTRIES,
    META_FILE,
    WEIGHTS_FILE,
    Checkpoint,
    checkpoint_zip_bytes,
    json_extent,
    read_checkpoint_zip,
)
from tinylm.checkpoint_meta import (
    MAX_HISTORY_ROWS,
    MAX_NAME_CHARS,
    MAX_SAMPLE_CHARS,
    MAX_SAMPLES,
    META_FIELDS,
    clean_history,
    clean_meta,
)
from tinylm.tokenizers import BPETokenizer


@pytest.fixture
def trained_pair(small_text):
    tokenizer = CharTokenizer.from_text(small_text)
    model = make_model(vocab_size=tokenizer.vocab_size, seed=5)
    return model, tokenizer


@pytest.mark.parametrize("pos", ["sinusoidal", "learned", "rope", "none"])
@pytest.mark.parametrize("tie", [True, False])
def test_round_trip_gives_identical_logits(tmp_path, small_text, pos, tie):
    tokenizer = CharTokenizer.from_text(small_text)
    model = make_model(vocab_size=tokenizer.vocab_size, pos_encoding=pos, tie_weights=tie, seed=2)
    history = {"val": [[10, 1.5, 2.25], [20, 3.0, float("nan")]], "unknown": [1]}
    save_checkpoint(
        tmp_path / "ck", model, tokenizer, history=history, meta={"name": "demo", "corpus": "小说"}
    )
    loaded = read_checkpoint(tmp_path / "ck")
    ids = torch.tensor([tokenizer.encode("Lily had 小明")])
    assert torch.equal(model(ids).logits, loaded.model(ids).logits)
    assert loaded.model.config == model.config
    assert loaded.tokenizer.encode(small_text[:50]) == tokenizer.encode(small_text[:50])
    # JSON has no NaN: the diverged row is stored with null and dropped on reading; unknown keys too.
    assert loaded.history == {"val": [[10, 1.5, 2.25]]}
    assert "[20, 3.0, null]" in (tmp_path / "ck" / META_FILE).read_text(encoding="utf-8")
    assert loaded.meta["corpus"] == "小说"
    assert not loaded.model.training
    if tie:
        assert loaded.model.lm_head.weight is loaded.model.token_embedding.weight


def test_files_are_safetensors_and_json(tmp_path, trained_pair):
    save_checkpoint(tmp_path, *trained_pair)
    assert sorted(p.name for p in tmp_path.iterdir()) == [WEIGHTS_FILE, META_FILE]
    document = json.loads((tmp_path / META_FILE).read_text(encoding="utf-8"))
    assert document["format"] == "tinylm-checkpoint"
    header_length = int.from_bytes((tmp_path / WEIGHTS_FILE).read_bytes()[:8], "little")
    header = json.loads((tmp_path / WEIGHTS_FILE).read_bytes()[8 : 8 + header_length])
    assert "token_embedding.weight" in header


def test_zip_round_trip_with_bpe(small_text):
    tokenizer = BPETokenizer.train(small_text, vocab_size=300)
    model = make_model(vocab_size=tokenizer.vocab_size)
    loaded = read_checkpoint_zip(checkpoint_zip_bytes(model, tokenizer, meta={"name": "x"}))
    ids = torch.tensor([tokenizer.encode("小明 Lily")])
    assert torch.equal(model(ids).logits, loaded.model(ids).logits)
    _, tokenizer2 = load_checkpoint_from_bytes(checkpoint_zip_bytes(model, tokenizer))
    assert tokenizer2.to_dict() == tokenizer.to_dict()


def load_checkpoint_from_bytes(data):
    checkpoint = read_checkpoint_zip(data)
    return checkpoint.model, checkpoint.tokenizer


class Evil:
    def __reduce__(self):
        return (exec, ("raise SystemExit('pickle was executed')",))


def expect_refused(loader, *args):
    with pytest.raises(TinyLMError) as info:
        loader(*args)
    assert info.value.code in ("bad_checkpoint", "bad_tokenizer", "bad_config_range", "checkpoint_not_found")
    return info.value


def test_a_pickle_is_refused_without_being_unpickled(tmp_path, trained_pair):
    save_checkpoint(tmp_path, *trained_pair)
    (tmp_path / WEIGHTS_FILE).write_bytes(pickle.dumps(Evil()))
    expect_refused(read_checkpoint, tmp_path)
    expect_refused(read_checkpoint_zip, pickle.dumps(Evil()))


def test_a_torch_save_file_renamed_is_refused(tmp_path, trained_pair):
    model, _ = trained_pair
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    error = expect_refused(read_checkpoint_zip, buffer.getvalue())
    assert "expected exactly" in error.message
    renamed = tmp_path / "model.zip"
    renamed.write_bytes(buffer.getvalue())
    expect_refused(read_checkpoint, renamed)


def test_truncated_and_garbage_files_are_refused(tmp_path, trained_pair):
    save_checkpoint(tmp_path, *trained_pair)
    weights = (tmp_path / WEIGHTS_FILE).read_bytes()
    (tmp_path / WEIGHTS_FILE).write_bytes(weights[: len(weights) // 2])
    expect_refused(read_checkpoint, tmp_path)
    data = checkpoint_zip_bytes(*trained_pair)
    expect_refused(read_checkpoint_zip, data[: len(data) // 2])
    expect_refused(read_checkpoint_zip, b"")
    expect_refused(read_checkpoint_zip, b"\x89PNG\r\n\x1a\n" + bytes(100))


def rewrite_zip(data, change):
    files = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            files[name] = archive.read(name)
    change(files)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_mismatched_shapes_are_refused(trained_pair):
    data = checkpoint_zip_bytes(*trained_pair)

    def bigger_model(files):
        document = json.loads(files[META_FILE])
        document["config"]["d_model"] = 64
        files[META_FILE] = json.dumps(document).encode()

    error = expect_refused(read_checkpoint_zip, rewrite_zip(data, bigger_model))
    assert "shape" in error.message


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(format="something-else"),
        lambda d: d.update(version=99),
        lambda d: d["config"].update(n_layers="two"),
        lambda d: d["config"].update(vocab_size=3),
        lambda d: d["tokenizer"].update(kind="sentencepiece"),
        lambda d: d.update(history=[1, 2]),
        lambda d: d.pop("config"),
    ],
)
def test_bad_json_is_refused(trained_pair, change):
    data = checkpoint_zip_bytes(*trained_pair)

    def edit(files):
        document = json.loads(files[META_FILE])
        change(document)
        files[META_FILE] = json.dumps(document).encode()

    expect_refused(read_checkpoint_zip, rewrite_zip(data, edit))


def test_extra_members_and_missing_files_are_refused(tmp_path, trained_pair):
    data = checkpoint_zip_bytes(*trained_pair)
    expect_refused(read_checkpoint_zip, rewrite_zip(data, lambda f: f.update({"data.pkl": pickle.dumps(1)})))
    expect_refused(read_checkpoint_zip, rewrite_zip(data, lambda f: f.pop(WEIGHTS_FILE)))
    save_checkpoint(tmp_path, *trained_pair)
    (tmp_path / META_FILE).unlink()
    expect_refused(read_checkpoint, tmp_path)
    expect_refused(read_checkpoint, tmp_path / "does-not-exist")


def test_nan_weights_are_refused(trained_pair):
    model, tokenizer = trained_pair
    with torch.no_grad():
        model.blocks[0].attention.qkv.weight[0, 0] = float("nan")
    expect_refused(read_checkpoint_zip, checkpoint_zip_bytes(model, tokenizer))


def test_load_checkpoint_returns_model_and_tokenizer(tmp_path, trained_pair):
    save_checkpoint(tmp_path, *trained_pair)
    model, tokenizer = load_checkpoint(tmp_path)
    assert tokenizer.vocab_size == model.config.vocab_size


# --------------------------------------------------------------------------------------------------
# Hostile files: each refused with bad_checkpoint, within a second and in bounded memory
# --------------------------------------------------------------------------------------------------

MEMORY_BOUND = 100_000_000  # bytes of Python allocations (tracemalloc); these files are all < 1 MB zipped


def measured(load, *args):
    """(result or TinyLMError, CPU seconds, peak bytes allocated) of load(*args): timed in one call and
    traced in another (tracemalloc slows allocations down about twice)."""

    def call():
        try:
            return load(*args)
        except TinyLMError as exc:
            return exc

    started = time.process_time()
    result = call()
    seconds = time.process_time() - started
    tracemalloc.start()
    try:
        again = call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert type(again) is type(result)
    return result, seconds, peak


def refused_quickly(data: bytes, detail: str = "") -> TinyLMError:
    error, seconds, peak = measured(read_checkpoint_zip, data)
    assert isinstance(error, TinyLMError), "loaded a broken checkpoint"
    assert error.code == "bad_checkpoint", error.code
    assert detail in error.params["detail"], error.params["detail"]
    assert seconds < 1.0, f"{seconds:.2f} s"
    assert peak < MEMORY_BOUND, f"{peak / 1e6:.0f} MB"
    assert len(error.message) < 400
    return error


def loaded_quickly(data: bytes) -> Checkpoint:
    checkpoint, seconds, peak = measured(read_checkpoint_zip, data)
    assert isinstance(checkpoint, Checkpoint), checkpoint
    assert seconds < 1.0 and peak < MEMORY_BOUND
    return checkpoint


def test_the_crafted_base_checkpoints_load():
    for kind in ("char", "bpe"):
        checkpoint = loaded_quickly(base_zip(kind))
        assert checkpoint.meta == craft.META
        assert checkpoint.history == craft.HISTORY


def test_a_bpe_tokenizer_of_self_merges_is_refused_before_it_is_built():
    # 40 merges, each of the previous token with itself: tokens of up to 2**40 bytes, in 1 KB of JSON.
    merges = [[97, 97]] + [[256 + i, 256 + i] for i in range(39)]
    tokenizer = BPETokenizer([(97, 98 + i) for i in range(40)])  # a harmless one of the same size
    model = make_model(vocab_size=tokenizer.vocab_size, **craft.TINY)
    data = checkpoint_zip_bytes(model, tokenizer)
    refused_quickly(with_document(data, lambda d: d["tokenizer"].update(merges=merges)), "bytes (at most")
    undefined = [[97, 98]] * 39 + [[97, 400]]
    refused_quickly(with_document(data, lambda d: d["tokenizer"].update(merges=undefined)), "tokenizer")


DEEP = "[" * 100_000 + "]" * 100_000  # far beyond Python's recursion limit
DEEP_ISH = '{"a":' * 500 + "1" + "}" * 500  # within the recursion limit, but no checkpoint nests so


@pytest.mark.parametrize("raw", [DEEP, DEEP_ISH])
@pytest.mark.parametrize(
    "place",
    [
        lambda d: d["meta"].update(name=RAW),
        lambda d: d["history"].update(train=RAW),
        lambda d: d["history"]["train"].append(RAW),
        lambda d: d["config"].update(d_ff=RAW),
        lambda d: d["tokenizer"].update(chars=RAW),
        lambda d: d.update(extra=RAW),
    ],
)
def test_deeply_nested_json_is_refused_anywhere(raw, place):
    refused_quickly(with_document(base_zip(), place, raw), "nested more than")


def test_deeply_nested_json_in_the_safetensors_header_is_refused():
    refused_quickly(with_header(base_zip(), lambda h: h.update(__metadata__=RAW), DEEP), "nested more than")


@pytest.mark.parametrize(
    "place",
    [
        lambda d: d["meta"].update(steps=RAW),
        lambda d: d["config"].update(vocab_size=RAW),
        lambda d: d["history"]["train"].append([RAW, 1.0, 2.0]),
        lambda d: d["tokenizer"]["chars"].append(RAW),
    ],
)
@pytest.mark.parametrize("raw", ["9" * 5000, "-" + "9" * 5000, "1" * 400 + ".5", "1e999", "NaN", "-Infinity"])
def test_huge_numbers_and_nan_literals_are_refused(place, raw):
    refused_quickly(with_document(base_zip(), place, raw), "not valid JSON")


def test_integers_of_thousands_of_digits_are_refused_or_dropped():
    big = "9" * 4000  # within Python's limit on the digits of an integer it reads (4300)
    refused_quickly(
        with_document(base_zip(), lambda d: d["config"].update(vocab_size=RAW), big), "wrong type"
    )
    refused_quickly(
        with_document(base_zip(), lambda d: d["tokenizer"]["chars"].append(RAW), big), "tokenizer"
    )
    refused_quickly(with_document(base_zip(), lambda d: d.update(version=RAW), big), "unsupported checkpoint")

    def in_meta_and_history(document):
        document["meta"].update(steps=RAW)
        document["history"]["train"].append([RAW, 1.0, 2.0])

    checkpoint = loaded_quickly(with_document(base_zip(), in_meta_and_history, big))
    assert "steps" not in checkpoint.meta and checkpoint.history["train"] == craft.HISTORY["train"]


@pytest.mark.parametrize("name", [WEIGHTS_FILE, META_FILE])
def test_corrupt_deflate_data_is_refused(name):
    data = base_zip()
    start, length = entry_data_offset(data, name)
    broken = bytearray(data)
    broken[start] = 0x07  # the first block: final, of the reserved type 3 -> zlib.error
    refused_quickly(bytes(broken), "corrupt compressed data")
    for position in (start + length // 3, start + length // 2, start + length - 3):
        broken = bytearray(data)
        broken[position : position + 2] = bytes(255 - b for b in data[position : position + 2])
        refused_quickly(bytes(broken), "")  # corrupt data, a wrong size or a CRC mismatch


@pytest.mark.parametrize("method", [zipfile.ZIP_LZMA, zipfile.ZIP_BZIP2])
def test_lzma_and_bzip2_zips_are_refused_valid_or_corrupt(method):
    data = zip_of(files_of(base_zip()), method=method)
    refused_quickly(data, "only stored and deflate")
    start, length = entry_data_offset(data, META_FILE)
    corrupt = data[:start] + bytes(length) + data[start + length :]
    refused_quickly(corrupt, "only stored and deflate")


def test_a_stored_zip_and_a_zip_after_other_bytes_load():
    stored = zip_of(files_of(base_zip()), method=zipfile.ZIP_STORED)
    assert loaded_quickly(stored).meta == craft.META
    assert loaded_quickly(b"#!/bin/sh\n" * 10 + base_zip()).meta == craft.META  # self-extractor style


def test_megabytes_of_metadata_are_reduced_to_the_known_fields():
    rows = [[i, i / 10, 2.5] for i in range(100_000)]  # 10x the rows a curve keeps

    def change(document):
        document["meta"].update(name="n" * 2_000_000, notes=["x" * 1000] * 1000, steps=7)
        document["history"].update(
            train=rows, samples=[[i, "s" * 2500] for i in range(300)], extra=[rows[:9]]
        )

    data = with_document(base_zip(), change)
    assert len(files_of(data)[META_FILE]) > 5_000_000
    checkpoint = loaded_quickly(data)
    assert checkpoint.meta == {**craft.META, "name": "n" * MAX_NAME_CHARS, "steps": 7}
    train = checkpoint.history["train"]
    assert len(train) == MAX_HISTORY_ROWS and train[0] == rows[0] and train[-1] == rows[-1]
    assert len(checkpoint.history["samples"]) == MAX_SAMPLES
    assert all(len(text) == MAX_SAMPLE_CHARS for _, text in checkpoint.history["samples"])
    assert "extra" not in checkpoint.history
    assert len(json.dumps(checkpoint.meta)) < 1000
    assert len(json.dumps(checkpoint.history)) < 1_000_000


def test_metadata_over_the_size_limit_is_refused_before_it_is_inflated():
    data = with_document(base_zip(), lambda d: d["meta"].update(name="n" * (MAX_META_BYTES + 1)))
    assert len(data) < 100_000  # deflate squeezes the repeated letter
    refused_quickly(data, f"{META_FILE} is larger than")


@pytest.mark.parametrize(
    "declared", [lambda real: real - 1, lambda real: real + 1, lambda real: real // 2, lambda real: 10**6]
)
def test_zip_entries_whose_declared_size_lies_are_refused(declared):
    data = base_zip()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        real = archive.getinfo(META_FILE).file_size
    refused_quickly(patch_central(data, META_FILE, size=declared(real)), "not the size the zip says")


def test_zip_entries_with_a_wrong_crc_or_compressed_size_are_refused():
    data = base_zip()
    refused_quickly(patch_central(data, META_FILE, crc=12345), "CRC mismatch")
    refused_quickly(patch_central(data, WEIGHTS_FILE, compressed=10**8), "truncated")


def test_encrypted_entries_are_refused():
    data = base_zip()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        flags = archive.getinfo(META_FILE).flag_bits
    refused_quickly(patch_central(data, META_FILE, flags=flags | 0x1), "encrypted")


def test_zips_with_odd_duplicate_or_too_many_entries_are_refused():
    files = files_of(base_zip())
    weights, meta = files[WEIGHTS_FILE], files[META_FILE]
    expected = "expected exactly"
    refused_quickly(zip_of([(WEIGHTS_FILE, weights), (META_FILE, meta), (META_FILE, meta)]), expected)
    refused_quickly(zip_of([(WEIGHTS_FILE, weights), (META_FILE, meta), ("notes.txt", b"hi")]), expected)
    for odd in ("./tinylm.json", "TinyLM.json", "ck/tinylm.json", "/tinylm.json", "tinylm.json "):
        refused_quickly(zip_of([(WEIGHTS_FILE, weights), (odd, meta)]), expected)
    many = [(WEIGHTS_FILE, weights), (META_FILE, meta)] + [(f"d{i}/", b"") for i in range(MAX_ZIP_ENTRIES)]
    refused_quickly(zip_of(many), f"more than {MAX_ZIP_ENTRIES} entries")
    # A name with a NUL byte: zipfile would cut it to "tinylm.json".
    masked = zip_of([(WEIGHTS_FILE, weights), ("tinylm.jsonXx", meta)])
    refused_quickly(masked.replace(b"tinylm.jsonXx", b"tinylm.json\x00x"), expected)


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        (lambda h: h["token_embedding.weight"].update(dtype="F16"), "float32"),
        (lambda h: h["token_embedding.weight"].update(shape=[1, 16]), "has shape"),
        (lambda h: h["token_embedding.weight"].update(data_offsets=[0, 2**62]), "data offsets"),
        (lambda h: h["token_embedding.weight"].update(data_offsets="everywhere"), "data offsets"),
        (lambda h: h.update(extra=h["token_embedding.weight"]), "unexpected"),
        (lambda h: h.pop("token_embedding.weight"), "missing"),
        (lambda h: h.update({"token_embedding.weight": 3}), "float32"),
    ],
)
def test_safetensors_headers_that_lie_are_refused(change, detail):
    refused_quickly(with_header(base_zip(), change), detail)


def test_safetensors_offsets_that_overlap_or_overrun_are_refused():
    def overlap(header):
        entries = sorted(header.values(), key=lambda e: e["data_offsets"][0])
        first, second = entries[0], entries[1]
        size = second["data_offsets"][1] - second["data_offsets"][0]
        second["data_offsets"] = [first["data_offsets"][0], first["data_offsets"][0] + size]

    refused_quickly(with_header(base_zip(), overlap), "overlap or leave gaps")
    files = files_of(base_zip())
    weights = files[WEIGHTS_FILE]
    for length in (len(weights), 2**63, 2**64 - 1):
        files[WEIGHTS_FILE] = length.to_bytes(8, "little") + weights[8:]
        refused_quickly(zip_of(files), "header size")
    files[WEIGHTS_FILE] = weights + b"\x00" * 4
    refused_quickly(zip_of(files), "not the size its header says")


def test_safetensors_metadata_in_the_header_is_accepted():
    assert loaded_quickly(with_header(base_zip(), lambda h: h.update(__metadata__={"format": "pt"})))


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["config"].update(tie_weights="yes"),
        lambda d: d["config"].update(n_layers=1.0),
        lambda d: d["config"].update(dropout=True),
        lambda d: d["config"].update(pos_encoding=["rope"]),
        lambda d: d["config"].update(pos_encoding="r" * 100_000),
        lambda d: d["config"].update(d_ff="wide"),
        lambda d: d["config"].update(rope_base=None),
        lambda d: d["config"].update({"k" * 10_000 + str(i): i for i in range(1000)}),
        lambda d: d["config"].update(n_heads=3),  # 16 is not divisible by 3
        lambda d: d["config"].update(vocab_size=10**6),
        lambda d: d.update(config=[1, 2]),
        lambda d: d["tokenizer"]["chars"].append(d["tokenizer"]["chars"][0]),  # a character twice
        lambda d: d["tokenizer"]["chars"].__setitem__(0, "ab"),  # two characters in one entry
        lambda d: d["tokenizer"].update(kind=["char"] * 100_000),
        lambda d: d.update(version="1" * 100_000),
        lambda d: d.update(meta="everything"),
    ],
)
def test_configs_tokenizers_and_headers_of_the_wrong_type_are_refused(change):
    refused_quickly(with_document(base_zip(), change))


def test_swapped_and_missing_entries_are_refused():
    files = files_of(base_zip())
    swapped = {WEIGHTS_FILE: files[META_FILE], META_FILE: files[WEIGHTS_FILE]}
    refused_quickly(zip_of(swapped), "not valid JSON")
    refused_quickly(zip_of({WEIGHTS_FILE: files[WEIGHTS_FILE], META_FILE: b""}), "not valid JSON")
    refused_quickly(zip_of({META_FILE: files[META_FILE], WEIGHTS_FILE: b""}), "too short")


def test_a_lone_surrogate_in_meta_is_replaced_so_the_checkpoint_can_be_saved_again(tmp_path):
    data = with_document(base_zip(), lambda d: d["meta"].update(name=RAW), raw='"\\ud800 x\\u0000y"')
    checkpoint = loaded_quickly(data)
    assert checkpoint.meta["name"] == "? xy"
    save_checkpoint(tmp_path, checkpoint.model, checkpoint.tokenizer, checkpoint.history, checkpoint.meta)
    assert read_checkpoint(tmp_path).meta["name"] == "? xy"


# --------------------------------------------------------------------------------------------------
# clean_meta / clean_history
# --------------------------------------------------------------------------------------------------


def test_clean_meta_keeps_what_tinylm_writes():
    demo = json.loads((ROOT / "models" / "stories-en" / META_FILE).read_text(encoding="utf-8"))
    assert clean_meta(demo["meta"]) == demo["meta"]  # what tinylm.cli train writes
    assert clean_history(demo["history"]) == demo["history"]
    app_run = {  # what ui.jobs writes for a run, and for an uploaded checkpoint
        "name": "⬆ stories-en · 2L×4H d64 · 10:11:12",
        "corpus": "my text.txt",
        "created": "2026-01-02T03:04:05+00:00",
        "steps": 1500,
        "val_loss": None,
        "train_config": {**TrainConfig().to_dict(), "time_budget": 60.0},
        "run_id": "AbCdEfGhIjKlMnOpQrStUv",
        "state": "done",
        "accuracy": 0.5,
        "wall_seconds": 61.5,
        "tinylm_version": "0.1.0",
    }
    assert clean_meta(app_run) == app_run
    finetuned = {  # what tinylm.finetune.save_finetuned adds for a fine-tuned model
        "pretraining_corpus": "stories-en",
        "finetune": {
            "task": "qa-en",
            "mode": "full",
            "result": {"metric": 0.99, "seconds_per_step": None, "trainable": 807424, "state": "done"},
            "train_config": {"learning_rate": 0.002, "max_steps": 400},
            "base": {"fingerprint": "ab" * 32, "path": None, "corpus": "stories-en"},
        },
    }
    assert clean_meta(finetuned) == finetuned
    assert set(META_FIELDS) == set(app_run) | set(finetuned)
    # The fine-tuning record stays small whatever an upload puts in it.
    hostile = clean_meta(
        {"finetune": {"task": "x" * 10_000, "deep": {"a": {"b": {"c": 1}}}, "list": [1] * 9}}
    )
    assert (
        len(hostile["finetune"]["task"]) <= 200 and hostile["finetune"]["deep"] == {}
    )  # one level inside, no more
    assert "list" not in hostile["finetune"]


@pytest.mark.parametrize(
    "meta",
    [
        {"steps": "10"},
        {"steps": True},
        {"steps": -1},
        {"steps": 1.5},
        {"steps": 10**30},
        {"val_loss": float("nan")},
        {"val_loss": "0.5"},
        {"accuracy": 2.0},
        {"wall_seconds": -1.0},
        {"name": 5},
        {"name": ["a"]},
        {"state": "DONE; rm -rf"},
        {"run_id": "../../etc"},
        {"train_config": "fast"},
        {"shell": "rm -rf /"},
    ],
)
def test_clean_meta_drops_fields_of_the_wrong_type_or_range(meta):
    assert clean_meta(meta) == {}


def test_clean_meta_caps_text_and_train_config():
    cleaned = clean_meta(
        {
            "name": "a\nb\x1b[31m" + "c" * 500,
            "train_config": {"max_steps": 100, "precision": "p" * 100, "evil": 1, "seed": [1], "lr": {}},
        }
    )
    assert cleaned["name"] == "ab[31m" + "c" * (MAX_NAME_CHARS - 6)
    assert cleaned["train_config"] == {"max_steps": 100, "precision": "p" * 32}
    assert clean_meta(["not", "a", "dict"]) == {} and clean_meta(None) == {}


def test_clean_history_keeps_rows_of_finite_numbers_only():
    history = {
        "train": [[1, 0.5, 2.0], [2, 1.0, None], [3, True, 2.0], [4, 1.5], [5, "1", 2.0], (6, 2.0, 1.5), "x"],
        "val": "not rows",
        "accuracy": [[1, 0.5], [2, float("inf")], [3, 10**40]],
        "samples": [[1, "ok"], [2.5, "x"], ["3", "y"], [4, 5], [True, "z"], [6, "\ud800"]],
        "gradients": [[1, 2]],
    }
    assert clean_history(history) == {
        "train": [[1, 0.5, 2.0], [6, 2.0, 1.5]],
        "accuracy": [[1, 0.5]],
        "samples": [[1, "ok"], [6, "?"]],
    }
    assert clean_history("nothing") == {}


# --------------------------------------------------------------------------------------------------
# json_extent: the depth and size of JSON counted before it is parsed
# --------------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text('[]{}",\\:ab\u4e00 '),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text('[]{}"\\a', max_size=3), children, max_size=4)
    ),
    max_leaves=25,
)


def reference_extent(value) -> tuple[int, int]:
    if isinstance(value, (list, dict)):
        items = list(value.values()) if isinstance(value, dict) else value
        inner = [reference_extent(item) for item in items]
        depth = 1 + max((d for d, _ in inner), default=0)
        return depth, 1 + max(0, len(items) - 1) + sum(n for _, n in inner)
    return 0, 0


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans(), st.sampled_from([1, 2, 3, 7, 1 << 18]))
def test_json_extent_counts_depth_and_values_like_the_parsed_json(value, ascii_only, chunk):
    text = json.dumps(value, ensure_ascii=ascii_only, allow_nan=False).encode("utf-8")
    original = checkpoint_module._SCAN_CHUNK
    checkpoint_module._SCAN_CHUNK = chunk  # the scan carries its state across chunk boundaries
    try:
        assert json_extent(text) == reference_extent(value)
    finally:
        checkpoint_module._SCAN_CHUNK = original


def test_json_extent_is_fast_on_the_largest_allowed_file():
    for data in (b"[" * MAX_META_BYTES, b'"' + b"\\\\" * (MAX_META_BYTES // 2 - 1) + b'"'):
        started = time.process_time()
        depth, _ = json_extent(data)
        assert time.process_time() - started < 1.0
        assert depth == (MAX_META_BYTES if data[0] == ord("[") else 0)


def test_huge_integers_are_refused_even_when_pythons_digit_limit_is_lifted():
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # no limit: reading a million digits would take minutes
    try:
        data = with_document(base_zip(), lambda d: d["meta"].update(steps=RAW), "9" * 1_000_000)
        refused_quickly(data, "not valid JSON")
        assert loaded_quickly(base_zip()).meta == craft.META
    finally:
        sys.set_int_max_str_digits(limit)
