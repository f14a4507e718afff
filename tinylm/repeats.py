"""A repetition-rich corpus, where a two-layer model learns to copy (grows induction heads) in minutes.

``repeats``: random letters with two kinds of repetition, segment after segment:

    qmzkrtbxqmzkrtbx cvcvcvcvcv wfoayhxnwfoayhxn …      (written without the spaces)

* a run: L different letters (L from 8 to 26) drawn at random from a-z, then the same L letters again.
  Nothing in the first copy is predictable (ln 26 ≈ 3.26 nats a letter); everything in the second copy
  is, by looking back: the next letter is the one that followed the current letter the last time it
  appeared. That is the induction-head rule ([a][b] … [a] → [b]) of Olsson et al. 2022, and the only way
  to predict it: the length varies, so no head that looks a fixed distance back can copy.
* an alternation (half of the segments): two random letters taking turns, 4 to 10 letters long. Here the
  next letter is the one *before* the current one, which a single previous-token head predicts.

Why it learns quickly. An induction head is the second half of a two-head circuit whose first half is a
previous-token head in an earlier layer (see ``tinylm.explain.induction``). In natural text such heads
form early, for the n-gram statistics; in random letters nothing rewards them but the finished circuit,
so training sits on a long plateau. The alternations reward a previous-token head on their own, and it
appears within a few hundred steps; the induction head then follows (measured, README). No letter occurs
twice in a run, so a letter of the second copy has exactly one earlier occurrence in its run and the rule
has a single answer (with repeated letters it forms much later). A one-layer model learns the
alternations but can never copy the runs (its keys only know their own letter and position): the
contrast the corpus is for.

Lines break between segments every ~80 characters. The held-out validation part (the last 10 %) holds
new runs, never seen in training: its loss is low only for a model that copies from the context, so the
in-context-learning score on it is meaningful.

``INDUCTION_PRESETS`` are settings (ModelConfig / TrainConfig field names, plus "budget" and "max_steps")
for a 2-layer model that learns to copy on this corpus and a 1-layer model with the same budget that
cannot.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tinylm.config import ModelConfig
    from tinylm.train import TrainConfig

NAME = "repeats"
ALPHABET = "abcdefghijklmnopqrstuvwxyz"
MIN_RUN, MAX_RUN = 8, 26  # letters in a run (every run is written twice)
ALTERNATION_SHARE = 0.5  # of the segments
MIN_ALTERNATION, MAX_ALTERNATION = 4, 10  # letters in an alternation
LINE_CHARS = 80  # a line ends after the first segment that reaches this many characters


def segment(rng: random.Random) -> str:
    """One segment: a run of distinct random letters written twice, or (sometimes) an alternation."""
    if rng.random() < ALTERNATION_SHARE:
        first, second = rng.sample(ALPHABET, 2)
        return ((first + second) * MAX_ALTERNATION)[: rng.randint(MIN_ALTERNATION, MAX_ALTERNATION)]
    run = "".join(rng.sample(ALPHABET, rng.randint(MIN_RUN, MAX_RUN)))
    return run + run


def generate_repeats(n_chars: int, rng: random.Random) -> str:
    """About ``n_chars`` characters of segments (never more), in lines of ~LINE_CHARS characters."""
    lines: list[str] = []
    size = 0
    line = ""
    while True:
        line += segment(rng)
        if len(line) >= LINE_CHARS:
            if size + len(line) + 1 > n_chars:
                break
            lines.append(line + "\n")
            size += len(line) + 1
            line = ""
    return "".join(lines)


# Measured on the project's 2-core machine (one thread per run, seeds 0-2, 1500-step schedule; see the
# README and benchmarks/induction.json for the final figures). What made the difference, on the way here:
#   * runs without repeated letters: with letters drawn with replacement no induction by 2000 steps;
#   * the alternations: without them the previous-token head, and so the induction head, came late
#     (0.38 after 2000 steps at best); with 3 in 10 longer ones (8-16 letters) 2 seeds of 3 crossed 0.4;
#     with half of the segments and 4-10 letters all 3 crossed between steps 400 and 600;
#   * untied output weights: tied, the previous-token head writes "the token before me" into the same
#     directions as the token itself and the second layer could not tell them apart (induction 0.00);
#   * sinusoidal positions crossed on seeds where rotary ones stalled; lr 5e-3 crossed earlier than 3e-3;
#   * 8 heads of 8 dimensions (rotary positions) formed no induction head within 1500 steps on 2 seeds;
#     d_model 128 costs twice as much per step.
INDUCTION_PRESETS: dict[str, dict[str, Any]] = {
    "induction-2l": {
        "n_layers": 2,
        "n_heads": 4,
        "d_model": 64,
        "context_len": 64,
        "pos_encoding": "sinusoidal",
        "attention_only": True,
        "tie_weights": False,
        "batch_size": 32,
        "learning_rate": 5e-3,
        "precision": "fp32",
        "budget": "steps",
        "max_steps": 1500,
    },
}
INDUCTION_PRESETS["induction-1l"] = {**INDUCTION_PRESETS["induction-2l"], "n_layers": 1}


def preset_configs(name: str, vocab_size: int, seed: int = 0) -> tuple[ModelConfig, TrainConfig]:
    """The ModelConfig and TrainConfig of an induction preset (for the CLI, the tests, the benchmark)."""
    from dataclasses import fields

    from tinylm.config import ModelConfig
    from tinylm.train import TrainConfig  # imported here: tinylm.train imports the corpora, which import us

    preset = INDUCTION_PRESETS[name]
    model_names = {f.name for f in fields(ModelConfig)}
    train_names = {f.name for f in fields(TrainConfig)}
    model = ModelConfig(vocab_size=vocab_size, **{k: v for k, v in preset.items() if k in model_names})
    train = TrainConfig(seed=seed, **{k: v for k, v in preset.items() if k in train_names})
    return model, train
