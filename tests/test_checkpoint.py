import io
import json
import pickle
import zipfile

import pytest
import torch

from tests.helpers import make_model
from tinylm import CharTokenizer, TinyLMError, load_checkpoint, read_checkpoint, save_checkpoint
from tinylm.checkpoint import META_FILE, WEIGHTS_FILE, checkpoint_zip_bytes, read_checkpoint_zip
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
    history = {"val": [[10, 1.5, 2.25]], "nan": float("nan")}
    save_checkpoint(
        tmp_path / "ck", model, tokenizer, history=history, meta={"name": "demo", "corpus": "小说"}
    )
    loaded = read_checkpoint(tmp_path / "ck")
    ids = torch.tensor([tokenizer.encode("Lily had 小明")])
    assert torch.equal(model(ids).logits, loaded.model(ids).logits)
    assert loaded.model.config == model.config
    assert loaded.tokenizer.encode(small_text[:50]) == tokenizer.encode(small_text[:50])
    assert loaded.history["val"] == [[10, 1.5, 2.25]]
    assert loaded.history["nan"] is None  # JSON has no NaN
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
