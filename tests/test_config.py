import itertools

import pytest

from tinylm import ModelConfig, TinyLM, TinyLMError, count_parameters
from tinylm.config import LIMITS, MAX_PARAMETERS, estimate_training_memory_bytes

SMALL = {"vocab_size": 60, "context_len": 16, "d_model": 16, "n_layers": 1, "n_heads": 2}


def config_error(**overrides) -> TinyLMError:
    with pytest.raises(TinyLMError) as info:
        ModelConfig(**{**SMALL, **overrides})
    assert info.value.message and info.value.params
    return info.value


def test_a_small_config_is_valid_and_fills_in_d_ff():
    config = ModelConfig(**SMALL)
    assert config.d_ff == 4 * 16
    assert config.head_dim == 8
    assert ModelConfig(**SMALL, d_ff=24).d_ff == 24


def test_d_model_not_divisible_by_n_heads_is_refused():
    error = config_error(d_model=18, n_heads=4)
    assert error.code == "bad_config_heads"
    assert error.params == {"d_model": 18, "n_heads": 4}
    assert "18" in error.message and "4" in error.message


@pytest.mark.parametrize("name", sorted(LIMITS))
@pytest.mark.parametrize("bad", ["zero", "negative", "below", "above"])
def test_sizes_outside_their_limits_are_refused_with_name_and_bounds(name, bad):
    low, high = LIMITS[name]
    value = {"zero": 0, "negative": -3, "below": low - 1, "above": high + 1}[bad]
    error = config_error(**{name: value})
    assert error.code == "bad_config_range"
    assert error.params == {"name": name, "low": low, "high": high, "value": value}
    assert name in error.message


@pytest.mark.parametrize(
    "overrides",
    [
        {"vocab_size": 2},
        {"vocab_size": 8192},
        {"context_len": 2},
        {"context_len": 512},
        {"d_model": 4},
        {"d_model": 512},
        {"n_layers": 12},
        {"n_heads": 1},
        {"n_heads": 16, "d_model": 32},
        {"d_ff": 4},
        {"d_ff": 2048},
    ],
)
def test_the_limits_themselves_are_accepted(overrides):
    config = ModelConfig(**{**SMALL, **overrides})
    for name, value in overrides.items():
        assert getattr(config, name) == value


@pytest.mark.parametrize("value", [16.0, "16", True, [16]])
def test_a_size_that_is_not_an_integer_is_refused(value):
    error = config_error(d_model=value)
    assert error.code == "bad_config_range"
    assert error.params["name"] == "d_model" and error.params["value"] == value


@pytest.mark.parametrize(
    ("name", "value"),
    [("pos_encoding", "alibi"), ("activation", "swish"), ("norm_position", "middle"), ("pos_encoding", "")],
)
def test_unknown_choices_are_refused_with_the_valid_choices(name, value):
    error = config_error(**{name: value})
    assert error.code == "bad_config_choice"
    assert error.params["name"] == name and error.params["value"] == value
    assert error.params["choices"]
    assert value not in error.params["choices"].split(", ")


def test_odd_widths_are_refused_where_sines_or_rotations_need_pairs():
    assert config_error(d_model=15, n_heads=1, pos_encoding="sinusoidal").code == "bad_config_even"
    error = config_error(d_model=18, n_heads=2, pos_encoding="rope")  # head_dim 9
    assert error.code == "bad_config_even" and error.params["value"] == 9
    ModelConfig(**{**SMALL, "d_model": 15, "n_heads": 1, "pos_encoding": "learned"})  # fine without pairs


@pytest.mark.parametrize("dropout", [-0.1, 1.0, 1.5, "0.1"])
def test_dropout_outside_zero_to_one_is_refused(dropout):
    error = config_error(dropout=dropout)
    assert error.code == "bad_config_dropout" and error.params == {"value": dropout}


@pytest.mark.parametrize("rope_base", [1.0, 0.5, -10.0, 1e8])
def test_a_bad_rope_base_is_refused(rope_base):
    error = config_error(rope_base=rope_base)
    assert error.code == "bad_config_range" and error.params["name"] == "rope_base"


def test_too_many_parameters_is_refused_with_the_count_and_the_limit():
    settings = {"vocab_size": 8192, "context_len": 512, "d_model": 512, "n_layers": 12, "n_heads": 8}
    with pytest.raises(TinyLMError) as info:
        ModelConfig(**settings)
    error = info.value
    assert error.code == "too_many_parameters"
    assert error.params["limit"] == MAX_PARAMETERS
    assert error.params["value"] > MAX_PARAMETERS
    assert f"{error.params['value']:,}" in error.message


def test_the_parameter_limit_is_checked_against_count_parameters():
    # Four layers of width 512 with a small vocabulary: 12.6 M parameters, each size within LIMITS.
    with pytest.raises(TinyLMError) as info:
        ModelConfig(vocab_size=60, context_len=64, d_model=512, n_layers=4, n_heads=8)
    assert info.value.code == "too_many_parameters"
    three_layers = ModelConfig(vocab_size=60, context_len=64, d_model=512, n_layers=3, n_heads=8)
    assert count_parameters(three_layers) <= MAX_PARAMETERS < info.value.params["value"]


@pytest.mark.parametrize(
    ("pos", "tie", "norm", "activation", "d_ff"),
    [
        *itertools.product(
            ["sinusoidal", "learned", "rope", "none"], [True, False], ["pre", "post"], ["gelu"], [None]
        ),
        ("learned", False, "pre", "relu", 24),
        ("rope", True, "post", "relu", 40),
    ],
)
def test_count_parameters_equals_the_parameters_of_a_real_model(pos, tie, norm, activation, d_ff):
    config = ModelConfig(
        vocab_size=37,
        context_len=12,
        d_model=16,
        n_layers=2,
        n_heads=2,
        d_ff=d_ff,
        pos_encoding=pos,
        tie_weights=tie,
        norm_position=norm,
        activation=activation,
    )
    model = TinyLM(config)
    assert count_parameters(config) == sum(p.numel() for p in model.parameters()) == model.num_parameters()


def test_untied_weights_add_one_vocabulary_matrix():
    tied = ModelConfig(**SMALL, tie_weights=True)
    untied = ModelConfig(**SMALL, tie_weights=False)
    assert count_parameters(untied) - count_parameters(tied) == 60 * 16


def test_config_round_trips_through_a_dict():
    config = ModelConfig(**SMALL, pos_encoding="rope", activation="relu", tie_weights=False)
    assert ModelConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ([1, 2], "bad_checkpoint"),
        ({"vocab_size": 60, "colour": "red"}, "bad_checkpoint"),
        ({"d_model": 16}, "bad_checkpoint"),
        ({"vocab_size": 60, "d_model": None}, "bad_checkpoint"),  # 4 * None: a TypeError, caught
        ({"vocab_size": 60, "d_model": [16]}, "bad_config_range"),
        ({"vocab_size": 60, "d_model": 18, "n_heads": 4}, "bad_config_heads"),
    ],
)
def test_from_dict_refuses_bad_json_with_a_clear_code(data, code):
    with pytest.raises(TinyLMError) as info:
        ModelConfig.from_dict(data)
    assert info.value.code == code


def test_training_memory_grows_with_batch_size_and_context():
    short = ModelConfig(**{**SMALL, "context_len": 16})
    long = ModelConfig(**{**SMALL, "context_len": 64})
    by_batch = [estimate_training_memory_bytes(short, batch) for batch in (1, 2, 8, 32)]
    assert by_batch == sorted(by_batch) and len(set(by_batch)) == 4
    assert estimate_training_memory_bytes(long, 8) > estimate_training_memory_bytes(short, 8)
    # Never less than weights, gradients and AdamW's two moments in fp32.
    assert estimate_training_memory_bytes(short, 1) > 4 * 4 * count_parameters(short)


def test_training_memory_for_attention_grows_faster_than_linearly_in_context():
    # With sinusoidal positions the weights do not depend on the context, so what changes is the
    # activations: B·T·(...) terms plus the B·H·T·T attention weights.
    def activations(context_len):
        config = ModelConfig(**{**SMALL, "context_len": context_len})
        return estimate_training_memory_bytes(config, 8) - 4 * 4 * count_parameters(config)

    assert count_parameters(ModelConfig(**{**SMALL, "context_len": 16})) == count_parameters(
        ModelConfig(**{**SMALL, "context_len": 256})
    )
    assert activations(256) > 2 * activations(128) > 4 * activations(64)
    more_heads = ModelConfig(**{**SMALL, "n_heads": 8})
    assert estimate_training_memory_bytes(more_heads, 8) > estimate_training_memory_bytes(
        ModelConfig(**SMALL), 8
    )


# -- options for learning faster (issue 17) ------------------------------------------------------


def test_the_new_options_are_off_by_default_and_round_trip_through_a_dict():
    config = ModelConfig(**SMALL)
    assert (config.qk_norm, config.zero_init_out, config.logit_softcap) == (False, False, 0.0)
    tuned = ModelConfig(**SMALL, activation="relu2", qk_norm=True, zero_init_out=True, logit_softcap=15.0)
    assert tuned.to_dict()["qk_norm"] is True and tuned.to_dict()["logit_softcap"] == 15.0
    assert ModelConfig.from_dict(tuned.to_dict()) == tuned


def test_a_checkpoint_config_from_before_the_new_options_still_loads():
    old = ModelConfig(**SMALL).to_dict()
    for key in ("qk_norm", "zero_init_out", "logit_softcap"):
        old.pop(key)
    assert ModelConfig.from_dict(old) == ModelConfig(**SMALL)


@pytest.mark.parametrize(("name", "value"), [("qk_norm", 1), ("qk_norm", "yes"), ("zero_init_out", None)])
def test_the_switches_must_be_booleans(name, value):
    error = config_error(**{name: value})
    assert error.code == "bad_config_choice" and error.params["name"] == name


@pytest.mark.parametrize("softcap", [-1.0, 1001.0, "15", True, float("nan")])
def test_a_bad_logit_softcap_is_refused(softcap):
    error = config_error(logit_softcap=softcap)
    assert error.code == "bad_config_range" and error.params["name"] == "logit_softcap"
    assert error.params["low"] == 0


@pytest.mark.parametrize("softcap", [0, 0.0, 15, 1000.0])
def test_logit_softcaps_within_bounds_are_accepted(softcap):
    assert ModelConfig(**SMALL, logit_softcap=softcap).logit_softcap == softcap


def test_qk_norm_adds_two_gains_per_layer_to_the_count():
    plain, normed = ModelConfig(**SMALL), ModelConfig(**SMALL, qk_norm=True)
    assert count_parameters(normed) - count_parameters(plain) == 1 * 2 * 8
    assert count_parameters(normed) == TinyLM(normed).num_parameters()
