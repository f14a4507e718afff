"""Tests for the registry of built-in, procedurally generated corpora (tinylm/corpora.py): what every
corpus promises (length, determinism, speed) and the pinned texts. The generators have their own
tests: tests/test_task_generators.py and tests/test_stories.py."""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter

import pytest

from tests.helpers import FULL_CORPUS as FULL
from tests.helpers import full_corpus as full
from tinylm.corpora import BUILTIN_CORPORA, corpus_info, generate_corpus
from tinylm.errors import TinyLMError
from tinylm.tasks import TASKS, evaluate_task, task_examples


def unigram_entropy(text: str) -> float:
    """Per-character entropy in nats of the character frequencies of ``text``."""
    counts = Counter(text)
    return -sum(c / len(text) * math.log(c / len(text)) for c in counts.values())


# --- every corpus --------------------------------------------------------------------------


def test_names() -> None:
    assert BUILTIN_CORPORA == ("stories-en", "stories-zh", "copy", "reverse", "sort", "add", "repeats")
    assert TASKS == ("copy", "reverse", "sort", "add")


@pytest.mark.parametrize("name", BUILTIN_CORPORA)
def test_every_builtin_corpus_generates_text(name: str) -> None:
    text = generate_corpus(name, 20_000, seed=3)
    assert isinstance(text, str)
    assert 19_800 <= len(text) <= 20_000
    assert text.endswith("\n")


@pytest.mark.parametrize("name", BUILTIN_CORPORA)
def test_deterministic_per_seed(name: str) -> None:
    a = generate_corpus(name, 10_000, seed=7)
    assert generate_corpus(name, 10_000, seed=7) == a
    assert generate_corpus(name, 10_000, seed=8) != a
    # a longer corpus with the same seed starts with the same text
    assert generate_corpus(name, 20_000, seed=7).startswith(a.rsplit("\n\n", 1)[0].rsplit("\n", 1)[0])


@pytest.mark.parametrize("name", BUILTIN_CORPORA)
def test_length_contract(name: str) -> None:
    for n_chars in (0, 1, 40, 1_000, 3_333, 20_000, 123_457, FULL):
        text = full(name) if n_chars == FULL else generate_corpus(name, n_chars, seed=1)
        assert len(text) <= n_chars
        if n_chars >= 20_000:
            assert len(text) >= 0.99 * n_chars, (name, n_chars, len(text))
    with pytest.raises(ValueError):
        generate_corpus(name, -1)


@pytest.mark.parametrize("name", BUILTIN_CORPORA)
def test_generation_is_fast(name: str) -> None:
    start = time.perf_counter()
    generate_corpus(name, 100_000, seed=5)
    # 300 000 characters take well under 1 s on a quiet laptop; the bound is loose so that a busy
    # test machine does not fail it.
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    "call",
    [
        lambda: generate_corpus("tiny-shakespeare"),
        lambda: corpus_info("nope"),
        lambda: task_examples("multiply", 3, 0),  # a name that is no corpus: every corpus is listed
        lambda: evaluate_task("Copy", lambda prompt, k: ""),
    ],
)
def test_unknown_name_raises(call) -> None:
    with pytest.raises(TinyLMError) as info:
        call()
    assert info.value.code == "unknown_corpus"
    assert info.value.params["choices"] == ", ".join(BUILTIN_CORPORA)
    assert "name" in info.value.params


@pytest.mark.parametrize("name", BUILTIN_CORPORA)
def test_corpus_info(name: str) -> None:
    info = corpus_info(name)  # the titles and descriptions are UI text: tests/app/test_strings.py
    assert set(info) == {"name", "kind", "language"}
    assert info["name"] == name
    if name in TASKS:
        assert (info["kind"], info["language"]) == ("task", None)
    elif name == "repeats":
        assert (info["kind"], info["language"]) == ("repeats", None)
    else:
        assert (info["kind"], info["language"]) == ("stories", name[-2:])


def test_report_vocabulary_and_entropy() -> None:
    """Not a check so much as a report: run ``pytest -s`` to see the numbers for the README."""
    for name in BUILTIN_CORPORA:
        text = full(name)
        vocab, entropy = len(set(text)), unigram_entropy(text)
        print(f"\n{name:11s} {len(text):7d} chars  vocab {vocab:4d}  unigram entropy {entropy:.3f} nats")
        assert 0 < entropy <= math.log(vocab)


# Computed on main before tinylm/corpora.py was split into tasks / stories_en / stories_zh (issue #10):
# the demo models and every published number were made from exactly these texts, so a refactoring of
# the generators must not change a single character (nor the order of the random draws).
PINNED_SHA256 = {
    ("stories-en", 0): "2bf4629e6aae422e63572d266b82c1b0aed48d8c6933931501bd10c4d65e3ae9",
    ("stories-en", 1): "6a5892309633416eee7c6ab664417e8cfe11b9eaf93e175716434bfcd5cf7fb9",
    ("stories-zh", 0): "e6ceb0ce0d9486f0a9502ba7d414c53e3a12a5069f7d6821e3b470d57ec7a367",
    ("stories-zh", 1): "ca233119a082ca805bd78e59b61a08cd2f4a0467c5af0dd24ce67a1bd6d55f95",
    ("copy", 0): "32cb10f8cbeb368e8f161d9ef607bfb9de5e64101fb96621a47397799710112c",
    ("copy", 1): "335109b2f5ce52b033e6c80886d6889f4d07bb75f5f389ca30769a6f536dd502",
    ("reverse", 0): "10909e2c2e6be69e12a43438d2bcc6c7320b2d302cbdac028b07b1f748f350f6",
    ("reverse", 1): "0a96e96cd4208709dff0902b008e0006823431532c716ca403586627ebc36532",
    ("sort", 0): "24b38e23801e6e12a23dd5351ea81be685e4fb4170cc942f486c95a938b4f3d9",
    ("sort", 1): "4cf78639d8a062e0c455e550be46122bcba35daf9aad88b50c1511954b231e43",
    ("add", 0): "1b63fe7f8d48b150b9138244587501375be74cd42cbd7ddea7ecca1642f1c09f",
    ("add", 1): "6560ec196d71aba5ff14a6880f9e1d3e4d9e718c6a3b2d6b2e9100deab8de739",
}
# The default size (300 000 characters, what the demo models were trained on), seed 0.
PINNED_FULL_SHA256 = {
    "stories-en": "9edef462dad0406c76975ce9e1455910c53aa0addf8ef796ecbbc488de6a660f",
    "stories-zh": "a2782e7a90b6299b9ecebe69cde44478ada61a8a61fdc664c405c6c28374229c",
    "copy": "dba9dcfa6e985778abdb79c395d47c6bdf19be39e38ba24b3868995a8648cdb7",
    "reverse": "d8f32c1692ccd18e6b7355205d74dec74dc8d9337af28e59fd64cc3d53d96032",
    "sort": "eaf2d7a7c685beb2ef3c30351aa97ad4a1e028aed4ab8f44168ac14d2b7823e8",
    "add": "c6f8499f7ee39c826e912b0778aca0900e06d11334cda13099b57be26bda1e16",
    "repeats": "a840fb93608ae3045992634befa8caad5e00d2191f70cc560198f09d16a00245",  # pinned when it joined
}
# The held-out test questions evaluate_task asks (n=200, seed=12345, its defaults), as corpus lines.
PINNED_EXAMPLES_SHA256 = {
    "copy": "d67cfaf6c1c1711072198fe066480f6b59517ecc3b2aad2017db08b2b2b1431b",
    "reverse": "64cf20568bab82e55e14156e4e9575c3a7d4480ede7889399464e0ad4db35337",
    "sort": "45d123b3d864b58284d49a63b31459186fdf37f017854192fe8f7c803a908902",
    "add": "9400e9948b415c83cf8818f9cca955371cf834d4e2a3f4b543a92e5e53436e02",
}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize(("name", "seed"), list(PINNED_SHA256))
def test_generated_text_is_pinned(name: str, seed: int) -> None:
    assert sha256(generate_corpus(name, 20_000, seed=seed)) == PINNED_SHA256[name, seed]


@pytest.mark.parametrize("name", BUILTIN_CORPORA)
def test_full_corpus_is_pinned(name: str) -> None:
    assert sha256(full(name)) == PINNED_FULL_SHA256[name]


@pytest.mark.parametrize("name", TASKS)
def test_held_out_examples_are_pinned(name: str) -> None:
    lines = "".join(example.line for example in task_examples(name, 200, seed=12345))
    assert sha256(lines) == PINNED_EXAMPLES_SHA256[name]
