import pytest
import torch

from tinylm import ModelConfig, TinyLM, TrainConfig, count_parameters
from tinylm.cli import build_parser
from tinylm.config import MAX_PARAMETERS, estimate_training_memory_bytes
from tinylm.presets import DEFAULT_PRESET, PRESETS

VOCAB = 60  # a character vocabulary of a small text


def test_the_default_preset_exists_and_every_preset_is_filed_under_its_name():
    assert DEFAULT_PRESET in PRESETS
    assert PRESETS
    for key, preset in PRESETS.items():
        assert preset.name == key
        assert "vocab_size" not in preset.model  # the tokenizer decides it


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_a_valid_model_config_under_the_parameter_limit(name):
    preset = PRESETS[name]
    config = ModelConfig(vocab_size=VOCAB, **preset.model)
    assert 0 < count_parameters(config) <= MAX_PARAMETERS
    # A few hundred MB at most: the preset must run on a classroom laptop.
    assert estimate_training_memory_bytes(config, preset.train["batch_size"]) < 1e9


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_a_valid_train_config(name):
    settings = PRESETS[name].train
    config = TrainConfig(**settings)
    config.validate()
    assert config.max_steps >= 1
    assert config.time_budget is None or config.time_budget > 0


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_model_runs_a_forward_pass_at_its_full_context(name):
    config = ModelConfig(vocab_size=VOCAB, **PRESETS[name].model)
    model = TinyLM(config, seed=0)
    model.eval()
    ids = torch.randint(0, VOCAB, (1, config.context_len + 1), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model(ids[:, :-1], ids[:, 1:])
    assert out.logits.shape == (1, config.context_len, VOCAB)
    assert torch.isfinite(out.loss)
    assert model.num_parameters() == count_parameters(config)


def test_the_cli_offers_every_preset_and_defaults_to_the_default_preset():
    args = build_parser().parse_args(["train", "--corpus", "x.txt", "--out", "out"])
    assert args.preset == DEFAULT_PRESET
    for name in PRESETS:
        assert (
            build_parser().parse_args(["train", "--corpus", "x", "--out", "o", "--preset", name]).preset
            == name
        )
