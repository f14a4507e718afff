"""Tests for the built-in, procedurally generated corpora (tinylm/corpora.py)."""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from functools import cache

import pytest

from tinylm import corpora
from tinylm.corpora import (
    BUILTIN_CORPORA,
    TASKS,
    TaskExample,
    corpus_info,
    evaluate_task,
    generate_corpus,
    task_examples,
)
from tinylm.errors import TinyLMError

FULL = 300_000


@cache
def full(name: str) -> str:
    """Each corpus at its default size, generated once for the whole test file."""
    return generate_corpus(name, FULL, seed=0)


def stories(text: str) -> list[str]:
    """The stories of a story corpus, without the last one (it may be cut short)."""
    return text.split("\n\n")[:-1]


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
        lambda: task_examples("multiply", 3, 0),
        lambda: evaluate_task("Copy", lambda prompt, k: ""),
    ],
)
def test_unknown_name_raises(call) -> None:
    with pytest.raises(TinyLMError) as info:
        call()
    assert info.value.code == "unknown_corpus"
    assert info.value.params["choices"] == ", ".join(BUILTIN_CORPORA)
    assert "name" in info.value.params


def test_stories_are_not_tasks() -> None:
    with pytest.raises(TinyLMError) as info:
        task_examples("stories-en", 3, 0)
    assert info.value.code == "unknown_corpus"
    assert info.value.params["choices"] == ", ".join(TASKS)


@pytest.mark.parametrize("name", BUILTIN_CORPORA)
def test_corpus_info(name: str) -> None:
    info = corpus_info(name)
    assert set(info) == {
        "name",
        "kind",
        "language",
        "title_en",
        "title_zh",
        "description_en",
        "description_zh",
    }
    assert info["name"] == name
    if name in TASKS:
        assert (info["kind"], info["language"]) == ("task", None)
    elif name == "repeats":
        assert (info["kind"], info["language"]) == ("repeats", None)
    else:
        assert (info["kind"], info["language"]) == ("stories", name[-2:])
    for key in ("title_en", "title_zh", "description_en", "description_zh"):
        assert isinstance(info[key], str) and info[key]
    for task in TASKS:  # the descriptions show the line format
        example = f"{task} "
        assert example in corpus_info(task)["description_en"]
        assert example in corpus_info(task)["description_zh"]


def test_report_vocabulary_and_entropy() -> None:
    """Not a check so much as a report: run ``pytest -s`` to see the numbers for the README."""
    for name in BUILTIN_CORPORA:
        text = full(name)
        vocab, entropy = len(set(text)), unigram_entropy(text)
        print(f"\n{name:11s} {len(text):7d} chars  vocab {vocab:4d}  unigram entropy {entropy:.3f} nats")
        assert 0 < entropy <= math.log(vocab)


# --- tasks ---------------------------------------------------------------------------------

LINE = {
    "copy": re.compile(r"(copy ([a-j]{3,8})=)([a-j]{3,8})"),
    "reverse": re.compile(r"(reverse ([a-j]{3,8})=)([a-j]{3,8})"),
    "sort": re.compile(r"(sort ([a-j]{3,8})=)([a-j]{3,8})"),
    "add": re.compile(r"(add (\d\d)\+(\d\d)=)(\d\d\d)"),
}


def correct_answer(name: str, prompt: str) -> str:
    """Solve a prompt independently of the library."""
    match = LINE[name].fullmatch(prompt + ("000" if name == "add" else "abc"))
    assert match, prompt
    if name == "add":
        return f"{int(match[2]) + int(match[3]):03d}"  # fixed width: 7 + 45 = "052"
    letters = match[2]
    return {"copy": letters, "reverse": letters[::-1], "sort": "".join(sorted(letters))}[name]


@pytest.mark.parametrize("name", TASKS)
def test_every_task_line_is_correct(name: str) -> None:
    text = full(name)
    lines = text.split("\n")
    assert lines[-1] == ""  # the text ends with a newline
    lengths = Counter()
    for line in lines[:-1]:
        assert len(line) + 1 < 32, line
        match = LINE[name].fullmatch(line)
        assert match, line
        prompt, answer = match[1], line[len(match[1]) :]
        assert answer == correct_answer(name, prompt), line
        lengths[len(prompt)] += 1
    if name == "add":
        assert list(lengths) == [len("add 12+34=")]  # fixed width
    else:
        assert sorted(lengths) == [len(name) + k for k in range(5, 11)]  # 3 to 8 letters


@pytest.mark.parametrize("name", TASKS)
def test_task_examples(name: str) -> None:
    examples = task_examples(name, 300, seed=4)
    assert len(examples) == 300
    assert examples == task_examples(name, 300, seed=4)
    assert examples != task_examples(name, 300, seed=5)
    for example in examples:
        assert isinstance(example, TaskExample)
        assert example.prompt.startswith(name + " ") and example.prompt.endswith("=")
        assert example.answer == correct_answer(name, example.prompt)
        assert example.line == example.prompt + example.answer + "\n"
    assert len({e.prompt for e in examples}) > 200  # few repeats


@pytest.mark.parametrize("name", TASKS)
def test_test_examples_never_occur_in_training(name: str) -> None:
    """The evaluation examples come from held-out questions that no training corpus contains."""
    training_prompts = {line.rsplit("=", 1)[0] + "=" for line in full(name).split("\n")[:-1]}
    other_text = generate_corpus(name, 50_000, seed=9)
    other_seed = {line.rsplit("=", 1)[0] + "=" for line in other_text.split("\n")[:-1]}
    examples = task_examples(name, 1000, seed=12345)
    test_prompts = {e.prompt for e in examples}
    assert not test_prompts & training_prompts
    assert not test_prompts & other_seed
    if name == "add":
        # 10 000 possible questions: the training corpus holds nearly all of the other 9 000 or so
        print(f"\nadd: the 300k corpus holds {len(training_prompts)} different questions")
        assert len(training_prompts) > 8_000
        assert len(test_prompts) > 600  # held-out questions: about 1 000


def test_task_examples_match_the_documented_examples() -> None:
    assert corpora._solve_task("copy", "gbdae") == "gbdae"
    assert corpora._solve_task("reverse", "gbdae") == "eadbg"
    assert corpora._solve_task("sort", "gbdae") == "abdeg"
    assert corpora._solve_task("add", "58+06") == "064"
    assert corpora._solve_task("add", "00+00") == "000"
    assert corpora._solve_task("add", "99+99") == "198"


def test_held_out_share() -> None:
    """About one question in ten is a test question."""
    letters = [f"{a}{b}{c}" for a in "abcdefghij" for b in "abcdefghij" for c in "abcdefghij"]
    share = sum(corpora._is_test_question("copy", q) for q in letters) / len(letters)
    assert 0.07 < share < 0.13
    sums = [f"{a:02d}+{b:02d}" for a in range(100) for b in range(100)]
    share = sum(corpora._is_test_question("add", q) for q in sums) / len(sums)
    assert 0.08 < share < 0.12


# --- evaluate_task -------------------------------------------------------------------------


def oracle(name: str) -> dict[str, str]:
    return {e.prompt: e.answer for e in task_examples(name, 200, seed=12345)}


@pytest.mark.parametrize("name", TASKS)
def test_evaluate_perfect_and_wrong(name: str) -> None:
    answers = oracle(name)
    calls: list[tuple[str, int]] = []

    def perfect(prompt: str, max_new_chars: int) -> str:
        calls.append((prompt, max_new_chars))
        return answers[prompt] + "\n"

    assert evaluate_task(name, perfect) == 1.0
    assert len(calls) == 200
    for prompt, max_new_chars in calls:
        assert max_new_chars == len(answers[prompt]) + 1
    assert evaluate_task(name, lambda p, k: "x" * k) == 0.0
    assert evaluate_task(name, lambda p, k: "\n") == 0.0


def test_evaluate_ignores_what_follows_the_newline() -> None:
    answers = oracle("reverse")
    assert evaluate_task("reverse", lambda p, k: answers[p] + "\nreverse abc=cba\n") == 1.0
    assert evaluate_task("reverse", lambda p, k: answers[p]) == 1.0  # no newline: still exact
    assert evaluate_task("reverse", lambda p, k: answers[p] + "a\n") == 0.0  # too long
    assert evaluate_task("reverse", lambda p, k: answers[p][:-1] + "\n") == 0.0  # too short


def test_evaluate_half_right() -> None:
    answers = oracle("add")
    count = 0

    def half(prompt: str, max_new_chars: int) -> str:
        nonlocal count
        count += 1
        return answers[prompt] + "\n" if count % 2 else "?\n"

    assert evaluate_task("add", half) == pytest.approx(0.5)
    # other seeds give other examples, which this "model" does not know
    assert evaluate_task("add", lambda p, k: answers.get(p, "?"), n=20, seed=1) < 0.2


# --- stories-en ----------------------------------------------------------------------------

EN_NAMES = corpora._EN_GIRLS + corpora._EN_BOYS
EN_NAME = re.compile(r"\b(" + "|".join(EN_NAMES) + r")\b")
SPEECH_VERBS = ("said", "asked", "shouted", "called")


def en_sentences(story: str) -> list[str]:
    """Split an English story into sentences; a quotation never ends a sentence on its own inside."""
    masked = re.sub(r'"[^"]*"', lambda m: '"' + "Q" * (len(m[0]) - 2) + '"', story)
    cuts = [m.end() for m in re.finditer(r'[.!?]"? (?=[A-Z"])', masked)]
    return [story[a:b].strip() for a, b in zip([0, *cuts], [*cuts, len(story)], strict=True)]


def test_stories_en_ascii_and_layout() -> None:
    text = full("stories-en")
    assert text.isascii()
    assert "\n\n\n" not in text
    assert set(text) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,!?'\"\n")
    words = set(re.findall(r"[A-Za-z']+", text.lower()))
    print(f"\nstories-en uses {len(words)} different words")
    assert 150 <= len(words) <= 600
    for story in stories(text):
        assert "\n" not in story  # one paragraph per story


def test_stories_en_names_recur() -> None:
    text = full("stories-en")
    all_stories = stories(text)
    assert len(all_stories) > 500
    for story in all_stories:
        main = EN_NAME.search(story)
        assert main, story
        assert story.count(main[1]) >= 2, story
    counts = Counter(EN_NAME.findall(text))
    assert set(counts) == set(EN_NAMES)


def test_stories_en_articles() -> None:
    text = full("stories-en")
    assert not re.findall(r"\b[Aa] [aeiouAEIOU]\w*", text)
    assert not re.findall(r"\b[Aa]n [^aeiouAEIOU\W]\w*", text)
    assert re.search(r"\ban [aeiou]", text)  # "an" is used too, e.g. "an orange kite"


def test_stories_en_sentences() -> None:
    text = full("stories-en")
    sentence_counts = Counter()
    for story in stories(text):
        assert story.count('"') % 2 == 0, story
        sentences = en_sentences(story)
        sentence_counts[len(sentences)] += 1
        assert 3 <= len(sentences) <= 8, story
        for sentence in sentences:
            assert re.match(r'"?[A-Z]', sentence), sentence
            assert re.search(r'[.!?]"?$', sentence), sentence
        # a lowercase word after the end of a sentence is only allowed as "..." said Tom.
        for match in re.finditer(r'[.!?]("?) ([a-z]+)', story):
            assert match[1] == '"' and match[2] in SPEECH_VERBS, story
        for quote in re.findall(r'"([^"]*)"', story):
            assert re.match(r"[A-Z]", quote) and quote[-1] in ".,!?", quote
    print(f"\nstories-en sentences per story: {sorted(sentence_counts.items())}")
    assert '" said' in text and 'said, "' in text  # dialogue, both ways round


# --- stories-zh ----------------------------------------------------------------------------

ZH_NAMES = corpora._ZH_GIRLS + corpora._ZH_BOYS
ZH_NAME = re.compile("|".join(ZH_NAMES))
ZH_PUNCTUATION = set("，。！？：“”")


def zh_sentences(story: str) -> list[str]:
    return re.findall(r".+?[。！？]”?", story)


def test_stories_zh_characters() -> None:
    text = full("stories-zh")
    assert not re.search(r"[A-Za-z0-9]", text)
    chars = set(text)
    cjk = {c for c in chars if "\u4e00" <= c <= "\u9fff"}
    assert chars - cjk <= ZH_PUNCTUATION | {"\n"}
    print(f"\nstories-zh uses {len(cjk)} different Chinese characters ({len(chars)} symbols in all)")
    assert 200 <= len(cjk) <= 600
    counts = Counter(text)
    assert sum(counts[c] for c in cjk) / len(text) > 0.8  # mostly Chinese characters


def test_stories_zh_grammar_and_names() -> None:
    text = full("stories-zh")
    all_stories = stories(text)
    assert len(all_stories) > 500
    assert not re.search(r"二[个只本朵根块颗支顶辆把]", text)  # 两个苹果, never 二个苹果
    for story in all_stories:
        main = ZH_NAME.search(story)
        assert main, story
        assert story.count(main[0]) >= 2, story
        assert story.count("“") == story.count("”"), story
        sentences = zh_sentences(story)
        assert "".join(sentences) == story, story  # every story ends a sentence
        assert 3 <= len(sentences) <= 8, story
    assert set(ZH_NAME.findall(text)) == set(ZH_NAMES)
