"""The repetition-rich corpus: runs of distinct random letters written twice and two-letter alternations,
reproducibly; and the induction presets are valid settings."""

from dataclasses import fields

import pytest

from tinylm import ModelConfig
from tinylm.corpora import BUILTIN_CORPORA, corpus_info, generate_corpus
from tinylm.data import load_text
from tinylm.repeats import (
    ALPHABET,
    ALTERNATION_SHARE,
    INDUCTION_PRESETS,
    LINE_CHARS,
    MAX_ALTERNATION,
    MAX_RUN,
    MIN_ALTERNATION,
    MIN_RUN,
    NAME,
)
from tinylm.train import TrainConfig


def segments_of(line: str) -> list[tuple[str, str]] | None:
    """Split a line into ("run", letters) — distinct letters written twice — and ("alternation", text)
    segments; None if it cannot be split that way."""
    if not line:
        return []
    for length in range(MIN_RUN, MAX_RUN + 1):
        run = line[:length]
        if len(run) == length and len(set(run)) == length and line[length : 2 * length] == run:
            rest = segments_of(line[2 * length :])
            if rest is not None:
                return [("run", run), *rest]
    for length in range(MAX_ALTERNATION, MIN_ALTERNATION - 1, -1):
        piece = line[:length]
        pair = piece[:2]
        if len(piece) == length and pair[0] != pair[1] and piece == (pair * length)[:length]:
            rest = segments_of(line[length:])
            if rest is not None:
                return [("alternation", piece), *rest]
    return None


def test_repeats_is_a_builtin_corpus_with_a_description():
    assert NAME == "repeats" and NAME in BUILTIN_CORPORA
    info = corpus_info(NAME)
    assert (info["kind"], info["language"]) == ("repeats", None)
    from ui.i18n import t  # the description is the app's text (ui/strings/corpora.py), in both languages

    for example in ("qmzkrtbxqmzkrtbx", "cvcvcvcv"):
        for lang in ("en", "zh"):
            assert example in t(f"corpus.{NAME}.description", lang)
    assert load_text(NAME, seed=2, n_chars=5000) == generate_corpus(NAME, 5000, seed=2)


def test_every_line_is_runs_written_twice_and_alternations():
    text = generate_corpus(NAME, 30_000, seed=1)
    assert 29_500 <= len(text) <= 30_000 and text.endswith("\n")
    runs, alternations = [], 0
    for line in text.splitlines():
        assert set(line) <= set(ALPHABET)
        segments = segments_of(line)
        assert segments, line
        assert LINE_CHARS <= len(line) < LINE_CHARS + 2 * MAX_RUN  # broken after a segment
        runs += [text for kind, text in segments if kind == "run"]
        alternations += sum(kind == "alternation" for kind, _ in segments)
    lengths = [len(run) for run in runs]
    assert min(lengths) == MIN_RUN and max(lengths) == MAX_RUN  # the length varies: no fixed offset
    share = alternations / (alternations + len(runs))
    assert abs(share - ALTERNATION_SHARE) < 0.05


def test_the_corpus_is_reproducible_and_the_seed_changes_it():
    a = generate_corpus(NAME, 10_000, seed=7)
    assert generate_corpus(NAME, 10_000, seed=7) == a
    assert generate_corpus(NAME, 10_000, seed=8) != a
    assert generate_corpus(NAME, 20_000, seed=7).startswith(a)


def test_the_held_out_part_has_new_runs():
    text = generate_corpus(NAME, 100_000, seed=0)
    cut = int(len(text) * 0.9)

    def runs(lines: list[str]) -> list[str]:
        return [text for line in lines for kind, text in segments_of(line) if kind == "run"]

    train_runs = set(runs(text[:cut].splitlines()[:-1]))  # the last line may be cut in two
    held_out = runs(text[cut:].splitlines()[1:])
    assert held_out and sum(run in train_runs for run in held_out) == 0


@pytest.mark.parametrize("name", sorted(INDUCTION_PRESETS))
def test_induction_presets_are_valid_settings(name):
    preset = INDUCTION_PRESETS[name]
    model_fields = {f.name for f in fields(ModelConfig)}
    train_fields = {f.name for f in fields(TrainConfig)}
    assert set(preset) <= model_fields | train_fields | {"budget"}
    assert preset["budget"] == "steps" and preset["max_steps"] <= 5000
    config = ModelConfig(vocab_size=27, **{k: v for k, v in preset.items() if k in model_fields})
    assert config.attention_only and config.context_len >= 48  # room for the 2 × 24-token probe
    TrainConfig(**{k: v for k, v in preset.items() if k in train_fields}).validate()


def test_the_one_layer_preset_differs_only_in_its_depth():
    two, one = INDUCTION_PRESETS["induction-2l"], INDUCTION_PRESETS["induction-1l"]
    assert (two["n_layers"], one["n_layers"]) == (2, 1)
    assert {**one, "n_layers": 2} == two
