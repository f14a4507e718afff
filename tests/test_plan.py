"""Run planning (tinylm/plan.py): one run description built from the library's own dataclasses, its
bounds, its cost, and the same spec for the app and the command line."""

from __future__ import annotations

from dataclasses import fields

import pytest

from tests.helpers import SMALL_RUN
from tinylm.cli import build_parser, spec_from_args
from tinylm.config import LIMITS, ModelConfig, count_parameters, estimate_training_memory_bytes
from tinylm.errors import TinyLMError
from tinylm.plan import (
    APP_BOUNDS,
    LIBRARY_LIMITS,
    MODEL_SETTINGS,
    PLANNED,
    SETTING_BOUNDS,
    TRAIN_SETTINGS,
    RunSpec,
    build_tokenizer,
    make_plan,
    prepare_run,
    recommended_spec,
    spec_from_preset,
)
from tinylm.presets import PRESETS, RECOMMENDED
from tinylm.tokenizers import MAX_VOCAB_SIZE, MIN_VOCAB_SIZE
from tinylm.train import TRAIN_LIMITS, TrainConfig

SMALL = SMALL_RUN


def test_a_spec_holds_every_model_and_training_setting_under_the_library_s_own_names():
    names = {item.name for item in fields(RunSpec)}
    assert {f.name for f in fields(ModelConfig)} - names == {"vocab_size"}
    assert {f.name for f in fields(TrainConfig)} - names == set(PLANNED)
    assert "norm_position" in MODEL_SETTINGS and "precision" in TRAIN_SETTINGS
    # The defaults are the library's (but for the budget the app always has ready).
    config, spec = ModelConfig(vocab_size=9), RunSpec()
    assert all(getattr(spec, name) == getattr(config, name) for name in MODEL_SETTINGS if name != "d_ff")
    assert spec.model_config(9) == config
    assert spec.learning_rate == TrainConfig().learning_rate and spec.time_budget == 60.0


def test_a_spec_round_trips_through_json_and_tolerates_an_older_one():
    spec = SMALL.with_settings(norm_position="post", pos_encoding="rope", learning_rate=2e-3)
    assert RunSpec.from_dict(spec.to_dict()) == spec
    old = RunSpec.from_dict({"n_layers": 2, "learning_rate": 1, "shape": "odd", "dropout": "lots"})
    assert old.n_layers == 2 and old.learning_rate == 1.0 and old.dropout == 0.0
    assert RunSpec.from_dict("not a dict") == RunSpec()


def test_bounds_come_from_the_library_and_the_app_only_narrows_them():
    assert {item.name for item in fields(RunSpec)} == set(SETTING_BOUNDS) == set(APP_BOUNDS)
    for name, (low, high) in LIMITS.items():
        if name == "vocab_size":  # the tokenizer decides it, not a setting
            continue
        assert (SETTING_BOUNDS[name].low, SETTING_BOUNDS[name].high) == (low, high), name
    for name in ("batch_size", "learning_rate", "warmup_steps", "max_steps", "time_budget"):
        assert (SETTING_BOUNDS[name].low, SETTING_BOUNDS[name].high) == TRAIN_LIMITS[name], name
    assert (SETTING_BOUNDS["bpe_vocab"].low, SETTING_BOUNDS["bpe_vocab"].high) == (
        MIN_VOCAB_SIZE,
        MAX_VOCAB_SIZE,
    )
    assert SETTING_BOUNDS["norm_position"].options == ("pre", "post")
    for name, bound in APP_BOUNDS.items():
        library = SETTING_BOUNDS[name]
        if bound.low is not None:
            assert library.low <= bound.low <= bound.high <= library.high, name
        assert bound.options == library.options, name
    assert APP_BOUNDS["time_budget"].high == 600.0 and APP_BOUNDS["context_len"].low == 8


def test_plan_counts_parameters_memory_and_time():
    plan = make_plan(SMALL, vocab_size=55)
    config = SMALL.model_config(55)
    assert plan.parameters == count_parameters(config)
    assert plan.memory_bytes == estimate_training_memory_bytes(config, SMALL.batch_size)
    assert plan.steps == 60 and plan.train_config.max_steps == 60 and plan.train_config.time_budget is None
    # Training steps plus evaluations and samples (a forward pass over 8192 validation tokens, 80 tokens).
    assert 60 * plan.seconds_per_step < plan.seconds < 1.6 * 60 * plan.seconds_per_step + 1.0
    timed = make_plan(SMALL.with_settings(budget="time", time_budget=45.0), vocab_size=55)
    assert timed.seconds == 45.0 and timed.train_config.time_budget == 45.0
    assert 0.7 * 45.0 / timed.seconds_per_step < timed.steps < 45.0 / timed.seconds_per_step
    # A task adds its exact-match evaluations; bigger models are estimated slower per step.
    assert make_plan(SMALL.with_settings(corpus="copy"), vocab_size=20).seconds > plan.seconds
    big = make_plan(
        SMALL.with_settings(n_layers=4, d_model=128, context_len=64, batch_size=32), vocab_size=55
    )
    assert big.seconds_per_step > 5 * plan.seconds_per_step
    # Every training setting of the spec reaches the Trainer.
    tuned = make_plan(SMALL.with_settings(weight_decay=0.05, beta2=0.95, grad_clip=0.5), vocab_size=55)
    assert (tuned.train_config.weight_decay, tuned.train_config.beta2, tuned.train_config.grad_clip) == (
        0.05,
        0.95,
        0.5,
    )


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"d_model": 100, "n_heads": 8}, "bad_config_heads"),
        ({"n_layers": 99}, "bad_config_range"),
        ({"dropout": 1.5}, "bad_config_dropout"),
        ({"norm_position": "middle"}, "bad_config_choice"),
        ({"n_layers": 12, "d_model": 512, "n_heads": 8}, "too_many_parameters"),
        ({"context_len": 512, "batch_size": 1024, "d_model": 256}, "too_much_memory"),
        ({"budget": "steps", "max_steps": 10**6}, "too_many_steps"),
        ({"budget": "time", "time_budget": 10_000.0}, "too_long"),
        (
            {"budget": "steps", "max_steps": 20_000, "n_layers": 8, "d_model": 256, "context_len": 256},
            "too_slow",
        ),
        ({"learning_rate": 5.0}, "bad_train_setting"),
        ({"tokenizer": "words"}, "bad_config_choice"),
        ({"budget": "forever"}, "bad_config_choice"),
    ],
)
def test_plan_refuses_absurd_settings_with_the_reason(changes, code):
    with pytest.raises(TinyLMError) as refused:
        make_plan(SMALL.with_settings(**changes), vocab_size=55)
    assert refused.value.code == code


def test_the_library_limits_allow_longer_runs_than_the_app():
    long = SMALL.with_settings(budget="time", time_budget=3600.0)
    with pytest.raises(TinyLMError):
        make_plan(long, vocab_size=55)
    assert make_plan(long, vocab_size=55, limits=LIBRARY_LIMITS).train_config.time_budget == 3600.0


def test_plan_refuses_a_text_too_short_for_the_context():
    with pytest.raises(TinyLMError) as refused:
        make_plan(SMALL, vocab_size=20, text_tokens=50)
    assert refused.value.code == "text_too_short" and refused.value.params["context_len"] == 16


def test_recommended_specs_speak_the_spec_s_vocabulary():
    names = {item.name for item in fields(RunSpec)}
    for corpus, advice in RECOMMENDED.items():
        assert set(advice) <= names, corpus
        spec = recommended_spec(corpus)
        assert spec.preset == advice["preset"]
        assert all(getattr(spec, key) == value for key, value in advice.items()), corpus
    # A preset other than the recommended one keeps the corpus's steps but not its tuned learning rate.
    other = recommended_spec("sort", "small")
    assert other.max_steps == RECOMMENDED["sort"]["max_steps"]
    assert other.learning_rate == PRESETS["small"].train["learning_rate"]
    assert recommended_spec("my-own.txt").corpus == "custom"


def test_the_command_line_and_the_app_describe_a_run_with_the_same_spec():
    flags = "--corpus stories-en --out o --preset small --layers 2 --norm post --lr 0.002 --steps 300"
    args = build_parser().parse_args(["train", *flags.split()])
    spec = spec_from_args(args)
    page = spec_from_preset("small", corpus="stories-en").with_settings(
        n_layers=2, norm_position="post", learning_rate=0.002, budget="steps", max_steps=300
    )
    assert spec == page
    assert make_plan(spec, 55).model_config.norm_position == "post"
    flags = "--corpus stories-en --out o --optimizer adamw --schedule trapezoid --activation relu2"
    spec = spec_from_args(build_parser().parse_args(["train", *flags.split()]))
    assert spec == spec_from_preset(corpus="stories-en").with_settings(
        optimizer="adamw", schedule="trapezoid", activation="relu2"
    )
    assert (
        spec_from_args(build_parser().parse_args(["train", "--corpus", "x", "--out", "o"])).optimizer
        == "muon"
    )


def test_one_tokenizer_builder_and_a_prepared_run_ready_to_train():
    text = "the cat sat on the mat. " * 400
    assert build_tokenizer("char", text, 300).vocab_size == len(set(text)) + 1  # + the unknown token
    assert 256 < build_tokenizer("bpe", text, 300).vocab_size <= 300
    run = prepare_run(SMALL.with_settings(corpus="custom"), text)
    assert run.tokenizer.vocab_size == run.model.config.vocab_size == run.plan.model_config.vocab_size
    assert run.chars == len(text) and run.data.num_tokens == len(text)
    assert run.model.num_parameters() == run.plan.parameters
    with pytest.raises(TinyLMError) as refused:
        prepare_run(SMALL.with_settings(corpus="custom"))  # a custom corpus needs its text
    assert refused.value.code == "unknown_corpus"
