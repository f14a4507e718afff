"""Small builders shared by the tests."""

from __future__ import annotations

from tinylm import ModelConfig, TinyLM


def make_model(vocab_size: int = 50, seed: int = 0, **overrides) -> TinyLM:
    settings = {"context_len": 16, "d_model": 32, "n_layers": 2, "n_heads": 4}
    settings.update(overrides)
    model = TinyLM(ModelConfig(vocab_size=vocab_size, **settings), seed=seed)
    model.eval()
    return model
