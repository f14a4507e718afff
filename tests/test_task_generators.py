"""Tests for the algorithmic task generators and their exact-match metric (tinylm/tasks.py). Training
models on the tasks is tests/test_tasks.py."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.helpers import full_corpus as full
from tinylm import tasks
from tinylm.corpora import generate_corpus
from tinylm.errors import TinyLMError
from tinylm.tasks import TASKS, TaskExample, evaluate_task, task_examples


def test_stories_are_not_tasks() -> None:
    with pytest.raises(TinyLMError) as info:
        task_examples("stories-en", 3, 0)
    assert info.value.code == "unknown_corpus"
    assert info.value.params["choices"] == ", ".join(TASKS)


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
    assert tasks._solve_task("copy", "gbdae") == "gbdae"
    assert tasks._solve_task("reverse", "gbdae") == "eadbg"
    assert tasks._solve_task("sort", "gbdae") == "abdeg"
    assert tasks._solve_task("add", "58+06") == "064"
    assert tasks._solve_task("add", "00+00") == "000"
    assert tasks._solve_task("add", "99+99") == "198"


def test_held_out_share() -> None:
    """About one question in ten is a test question."""
    letters = [f"{a}{b}{c}" for a in "abcdefghij" for b in "abcdefghij" for c in "abcdefghij"]
    share = sum(tasks._is_test_question("copy", q) for q in letters) / len(letters)
    assert 0.07 < share < 0.13
    sums = [f"{a:02d}+{b:02d}" for a in range(100) for b in range(100)]
    share = sum(tasks._is_test_question("add", q) for q in sums) / len(sums)
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
