"""What the two story grammars (``stories_en``, ``stories_zh``) share: a small template language and the
layout of a story corpus.

A story template is a tuple of steps. The steps run in order, each drawing from the story's random
generator and adding sentences:

    "text"                      one sentence
    Pick("a", "b", ...)         one of the sentences                       rng.choice
    Maybe(p, *steps, no=())     the steps with probability p, else ``no``  rng.random() < p
    OneOf(steps, steps, ...)    one of several step sequences              rng.choice
    Some(low, high, options)    ``low`` to ``high`` different options, in their order (an option may be
                                a Pick, drawn first)                       rng.randint, rng.sample
    Let(name, options)          a slot for the sentences that follow       rng.choice
    Sample(names, options)      different options, one slot each           rng.sample
    Set(name=value, ...)        fixed slots (no draw)

Sentences hold ``{placeholders}``: the story's slots (the hero's name ``{N}``, pronouns, a friend ...)
and the template's own ``Let`` / ``Sample`` / ``Set`` slots, filled in with ``str.format_map`` once the
story is complete. A name given as a tuple takes a tuple option apart: ``Let(("dish", "yummy"), ...)``.
Slot values are plain text (no placeholders of their own).

Why data and not code: the templates read as the stories they tell, with each random choice where it
happens, and the random draws are made in exactly the order the steps are listed, so the same seed
gives the same text (tests/test_corpora.py pins it).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

MIN_SENTENCES, MAX_SENTENCES = 3, 8  # one story is one paragraph of 3-8 sentences


class Pick:
    """One of the sentences."""

    def __init__(self, *options: str) -> None:
        self.options = options

    def draw(self, rng: random.Random) -> str:
        # rng.choice even for a single option: it still consumes random bits, and the texts depend on it
        return rng.choice(self.options)

    def run(self, rng: random.Random, slots: dict[str, str], out: list[str]) -> None:
        out.append(self.draw(rng))


class Maybe:
    """The steps with probability ``p``, else the steps of ``no``."""

    def __init__(self, p: float, *steps: Any, no: Sequence[Any] = ()) -> None:
        self.p, self.steps, self.no = p, steps, tuple(no)

    def run(self, rng: random.Random, slots: dict[str, str], out: list[str]) -> None:
        run_steps(self.steps if rng.random() < self.p else self.no, rng, slots, out)


class OneOf:
    """One of several step sequences, each as likely."""

    def __init__(self, *branches: Sequence[Any]) -> None:
        self.branches = tuple(tuple(branch) for branch in branches)

    def run(self, rng: random.Random, slots: dict[str, str], out: list[str]) -> None:
        run_steps(rng.choice(self.branches), rng, slots, out)


class Some:
    """Between ``low`` and ``high`` different options, in their original order."""

    def __init__(self, low: int, high: int, options: Sequence[str | Pick]) -> None:
        self.low, self.high, self.options = low, high, tuple(options)

    def run(self, rng: random.Random, slots: dict[str, str], out: list[str]) -> None:
        options = [option.draw(rng) if isinstance(option, Pick) else option for option in self.options]
        k = rng.randint(self.low, min(self.high, len(options)))
        chosen = set(rng.sample(range(len(options)), k))
        out.extend(option for i, option in enumerate(options) if i in chosen)


def _assign(slots: dict[str, str], name: str | tuple[str, ...], value: Any) -> None:
    if isinstance(name, tuple):
        slots.update(zip(name, value, strict=True))
    else:
        slots[name] = value


class Let:
    """A slot (or, for a tuple of names, several) set to one of the options."""

    def __init__(self, name: str | tuple[str, ...], options: Sequence[Any]) -> None:
        self.name, self.options = name, tuple(options)

    def run(self, rng: random.Random, slots: dict[str, str], out: list[str]) -> None:
        _assign(slots, self.name, rng.choice(self.options))


class Sample:
    """As many different options as there are names, one slot (or tuple of slots) each."""

    def __init__(self, names: Sequence[str | tuple[str, ...]], options: Sequence[Any]) -> None:
        self.names, self.options = tuple(names), tuple(options)

    def run(self, rng: random.Random, slots: dict[str, str], out: list[str]) -> None:
        for name, value in zip(self.names, rng.sample(self.options, len(self.names)), strict=True):
            _assign(slots, name, value)


class Set:
    """Fixed slots, e.g. the animal of one branch of a OneOf."""

    def __init__(self, **slots: str) -> None:
        self.slots = slots

    def run(self, rng: random.Random, slots: dict[str, str], out: list[str]) -> None:
        slots.update(self.slots)


Template = tuple[Any, ...]  # steps: sentences (str) and the step classes above


def run_steps(steps: Sequence[Any], rng: random.Random, slots: dict[str, str], out: list[str]) -> None:
    """Run the steps in order, appending their sentences (placeholders not yet filled) to ``out``."""
    for step in steps:
        if isinstance(step, str):
            out.append(step)
        else:
            step.run(rng, slots, out)


def story_sentences(rng: random.Random, templates: Sequence[Template], slots: dict[str, str]) -> list[str]:
    """Run a random template until it gives a story of 3 to 8 sentences (almost always the first time),
    and fill in its placeholders from the story's slots and the template's own."""
    while True:
        filled = dict(slots)  # a fresh copy per try: a discarded try's Let slots do not leak
        sentences: list[str] = []
        run_steps(rng.choice(templates), rng, filled, sentences)
        if MIN_SENTENCES <= len(sentences) <= MAX_SENTENCES:
            return [sentence.format_map(filled) for sentence in sentences]


def stories_text(
    make_story: Callable[[random.Random], list[str]], sep: str, n_chars: int, rng: random.Random
) -> str:
    """Stories (one paragraph each, a blank line between them) filling at most ``n_chars`` characters.

    Whole stories are added while they fit. If that leaves more than 1 % of ``n_chars`` unused
    (only for small corpora), the next story is added sentence by sentence, as far as it fits.
    """
    parts: list[str] = []
    total = 0
    while True:
        sentences = make_story(rng)
        gap = "\n" if parts else ""  # the blank line: the previous story already ends in "\n"
        story = gap + sep.join(sentences) + "\n"
        if total + len(story) <= n_chars:
            parts.append(story)
            total += len(story)
            continue
        if n_chars - total > n_chars // 100:
            for k in range(len(sentences) - 1, 0, -1):
                story = gap + sep.join(sentences[:k]) + "\n"
                if total + len(story) <= n_chars:
                    parts.append(story)
                    break
        return "".join(parts)
