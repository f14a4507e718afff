"""The algorithmic tasks: one example per line, ``prompt + answer + "\\n"``.

    ``copy``     ``copy gbdae=gbdae``       the letters again
    ``reverse``  ``reverse gbdae=eadbg``    the letters backwards
    ``sort``     ``sort gbdae=abdeg``       the letters in alphabetical order
    ``add``      ``add 58+06=064``          the sum of two numbers from 0 to 99, fixed width

The letters come from ``a``-``j`` (10 letters) and a string has 3-8 of them (repeats allowed).
The prompt is everything up to and including ``=``; the answer is what follows, up to the
newline. The first word names the task, so a model (or a student) can tell the tasks apart.
Every line is shorter than 32 characters, so it fits in a small context window.

``add`` writes every number with a fixed number of digits (``06`` for 6, ``064`` for 64). Then
the tens digits, the ones digits and each digit of the answer always sit at the same distance
from each other, and a small model learns the task much more easily than from
``add 58+6=64``, where the digits to add up are in different places on every line.

Held-out test questions
    One in ten possible questions (chosen by a checksum of the question, :func:`_is_test_question`)
    never appears in any training corpus. :func:`task_examples` draws only from those, with its own
    random stream, and :func:`evaluate_task` measures exact-match accuracy on them. So a model can
    only score by having learned the rule, not by remembering lines it saw: this matters for ``add``
    (10 000 possible questions, about 90 % of which a 300 000-character corpus would otherwise
    contain) and for the short copy/reverse/sort strings (only 1 000 strings of 3 letters).

The corpora themselves are made by ``tinylm.corpora.generate_corpus`` (which calls :func:`task_corpus`).
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from tinylm.errors import TinyLMError

TASKS: tuple[str, ...] = ("copy", "reverse", "sort", "add")

_TASK_LETTERS = "abcdefghij"
_TASK_MIN_LEN = 3
_TASK_MAX_LEN = 8
_ADD_MAX = 99
_TEST_SHARE = 10  # one question in _TEST_SHARE is kept for testing only


@dataclass(frozen=True)
class TaskExample:
    """One task question: the model is given ``prompt`` and must continue with ``answer`` + "\\n"."""

    prompt: str
    answer: str

    @property
    def line(self) -> str:
        """The example as it appears in a training corpus: prompt, answer and a newline."""
        return self.prompt + self.answer + "\n"


def _solve_task(name: str, question: str) -> str:
    """The correct answer to one task question (the part of the prompt between the task word and "=").

    >>> _solve_task("sort", "gbdae")
    'abdeg'
    >>> _solve_task("add", "58+06")
    '064'
    """
    if name == "copy":
        return question
    if name == "reverse":
        return question[::-1]
    if name == "sort":
        return "".join(sorted(question))
    if name == "add":
        left, right = question.split("+")
        return f"{int(left) + int(right):03d}"
    raise ValueError(f"{name!r} is not a task")  # the public functions check names first


def _is_test_question(name: str, question: str) -> bool:
    """True for the one question in ten that is kept out of training and used only for testing.

    The choice is made by a checksum (CRC-32) of the question, so it is the same on every computer
    and unrelated to the answer.
    """
    return zlib.crc32(f"{name} {question}".encode()) % _TEST_SHARE == 0


def _random_example(name: str, rng: random.Random, for_testing: bool = False) -> TaskExample:
    """A random example from the training questions, or (``for_testing``) from the test questions."""
    while True:
        if name == "add":
            question = f"{rng.randint(0, _ADD_MAX):02d}+{rng.randint(0, _ADD_MAX):02d}"
        else:
            length = rng.randint(_TASK_MIN_LEN, _TASK_MAX_LEN)
            question = "".join(rng.choices(_TASK_LETTERS, k=length))
        if _is_test_question(name, question) == for_testing:
            return TaskExample(prompt=f"{name} {question}=", answer=_solve_task(name, question))


def _check_task(name: str) -> None:
    if name in TASKS:
        return
    # A name that is no corpus at all is told the list of every corpus (the registry's own check, in the
    # module above this one: imported here, when needed, so that the two modules import without a cycle).
    from tinylm.corpora import check_name

    check_name(name)
    raise TinyLMError(
        "unknown_corpus",
        f"{name!r} is not a task; choose one of: {', '.join(TASKS)}",
        name=name,
        choices=", ".join(TASKS),
    )


def task_examples(name: str, n: int, seed: int) -> list[TaskExample]:
    """``n`` random examples of a task, for testing a model.

    They are drawn from the held-out test questions, which no training corpus contains, so a
    model has never seen them (see the module docstring). Same ``(name, n, seed)``, same examples.
    """
    _check_task(name)
    rng = random.Random(f"tinylm-examples:{name}:{seed}")
    return [_random_example(name, rng, for_testing=True) for _ in range(n)]


def evaluate_task(name: str, complete: Callable[[str, int], str], n: int = 200, seed: int = 12345) -> float:
    """Exact-match accuracy (0.0 to 1.0) of a model on ``n`` fresh examples of a task.

    ``complete(prompt, max_new_chars)`` must return the model's (greedy) continuation of
    ``prompt``, at most ``max_new_chars`` characters. We ask for ``len(answer) + 1`` characters: the
    answer and its newline. An example counts as correct when the continuation, up to (not
    including) its first "\\n", is exactly the answer; anything after that newline is ignored.
    """
    examples = task_examples(name, n, seed)
    if not examples:
        return 0.0
    correct = 0
    for example in examples:
        continuation = complete(example.prompt, len(example.answer) + 1)
        if continuation.split("\n", 1)[0] == example.answer:
            correct += 1
    return correct / len(examples)


def task_corpus(name: str, n_chars: int, rng: random.Random) -> str:
    """Random training examples (never a held-out question), whole lines, at most ``n_chars`` characters."""
    lines: list[str] = []
    total = 0
    while True:
        line = _random_example(name, rng).line
        if total + len(line) > n_chars:
            break
        lines.append(line)
        total += len(line)
    return "".join(lines)
