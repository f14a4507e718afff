"""Tests for the story corpora (tinylm/stories_en.py, tinylm/stories_zh.py) and the template language
they are written in (tinylm/stories.py)."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from tests.helpers import full_corpus as full
from tinylm import stories_en, stories_zh
from tinylm.stories import Let, Maybe, OneOf, Pick, Sample, Set, Some, run_steps, story_sentences


def stories(text: str) -> list[str]:
    """The stories of a story corpus, without the last one (it may be cut short)."""
    return text.split("\n\n")[:-1]


# --- the template language -------------------------------------------------------------------


def run(steps, seed: int = 0, **slots: str) -> list[str]:
    out: list[str] = []
    filled = dict(slots)
    run_steps(steps, random.Random(seed), filled, out)
    return [sentence.format_map(filled) for sentence in out]


def test_steps_draw_in_the_order_they_are_listed() -> None:
    """Each step makes exactly the draw its docstring names, in order: the texts depend on it."""
    steps = (
        Pick("a", "b", "c"),
        Maybe(0.5, "yes", no=("no",)),
        OneOf(("x",), ("y", "z")),
        Some(1, 2, ("s1", Pick("s2", "s3"), "s4")),
        Let(("first", "second"), [("1", "2"), ("3", "4")]),
        Sample(("p", "q"), ("u", "v", "w")),
        "{first}{second}{p}{q}",
    )
    for seed in range(20):
        rng = random.Random(seed)
        expected = [rng.choice(("a", "b", "c")), "yes" if rng.random() < 0.5 else "no"]
        expected += rng.choice((("x",), ("y", "z")))
        options = ["s1", rng.choice(("s2", "s3")), "s4"]
        chosen = set(rng.sample(range(3), rng.randint(1, 2)))
        expected += [option for i, option in enumerate(options) if i in chosen]
        first, second = rng.choice([("1", "2"), ("3", "4")])
        p, q = rng.sample(("u", "v", "w"), 2)
        expected.append(first + second + p + q)
        assert run(steps, seed) == expected


def test_set_and_slots_fill_the_placeholders() -> None:
    assert run((Set(pet="cat"), "{N} had a {pet}."), N="Tom") == ["Tom had a cat."]
    assert run((Maybe(1.0, "always"), Maybe(0.0, "never"))) == ["always"]
    assert run((Some(2, 9, ("a", "b")),)) == ["a", "b"]  # high is capped at the number of options


def test_a_story_has_three_to_eight_sentences_and_a_failed_try_leaves_no_slots() -> None:
    too_short = (Let("x", ["leaked"]), "one")
    right = ("{N}", "x={x}", "two", "three")
    rng = random.Random(0)
    for _ in range(20):  # some tries pick too_short first: its Let must not reach the next try
        sentences = story_sentences(rng, (too_short, right), {"N": "Mia", "x": "story"})
        assert sentences == ["Mia", "x=story", "two", "three"]
    with pytest.raises(KeyError):  # a placeholder no slot fills is a bug in a template, not silent
        story_sentences(random.Random(0), (("{missing}", "a", "b"),), {})


# --- stories-en ----------------------------------------------------------------------------

EN_NAMES = stories_en.GIRLS + stories_en.BOYS
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

ZH_NAMES = stories_zh.GIRLS + stories_zh.BOYS
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
