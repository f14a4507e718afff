"""The algorithmic tasks are learnable: the settings the app recommends (tinylm.presets.RECOMMENDED) reach
high exact-match accuracy on held-out questions (never seen in training).

Only the tasks that a test-suite budget can train are here: sort and copy (the tiny model, 1 000 and
2 500 steps on one thread, about a minute each). reverse and add need much longer (measured numbers
next to RECOMMENDED); their exact-match metric is tested in test_corpora.py.
"""

from __future__ import annotations

import pytest

from tinylm import CharTokenizer, ModelConfig, TinyLM
from tinylm.corpora import evaluate_task, generate_corpus
from tinylm.data import BUILTIN_CORPUS_CHARS, prepare_data
from tinylm.presets import PRESETS, RECOMMENDED
from tinylm.train import TrainConfig, Trainer, greedy_completer

MODEL_KEYS = {"context_len", "d_model", "n_layers", "n_heads", "pos_encoding", "activation", "tie_weights"}
HIGH = 0.8  # exact match on 200 held-out questions; the measured values are in tinylm/presets.py


@pytest.mark.slow
@pytest.mark.parametrize("task", ["sort", "copy"])
def test_recommended_settings_reach_high_exact_match(task: str) -> None:
    advice = RECOMMENDED[task]
    preset = PRESETS[advice["preset"]]
    model_settings = {**preset.model, **{k: v for k, v in advice.items() if k in MODEL_KEYS}}
    assert advice["budget"] == "steps"  # reproducible: a step count, not a time budget
    steps = advice["max_steps"]
    text = generate_corpus(task, n_chars=BUILTIN_CORPUS_CHARS, seed=0)
    tokenizer = CharTokenizer.from_text(text)
    config = ModelConfig(vocab_size=tokenizer.vocab_size, **model_settings)
    model = TinyLM(config, seed=0)
    train_config = TrainConfig(
        batch_size=preset.train["batch_size"],
        learning_rate=advice["learning_rate"],
        max_steps=steps,
        eval_interval=steps,  # evaluate at the end only: the test measures accuracy itself below
        seed=0,
    )
    Trainer(model, tokenizer, prepare_data(text, tokenizer, config.context_len), train_config).run()
    model.eval()
    accuracy = evaluate_task(task, greedy_completer(model, tokenizer), n=200)
    assert accuracy >= HIGH, f"{task}: exact match {accuracy:.2f} after {steps} steps"
