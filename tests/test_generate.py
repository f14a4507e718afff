import math

import pytest
import torch

from tests.helpers import make_model
from tinylm import SamplingSettings, TinyLMError, distribution_stages, generate, generate_text
from tinylm.generate import repeated_share, window_start
from tinylm.tokenizers import CharTokenizer

POSITIONS = ["sinusoidal", "learned", "rope", "none"]


def ids_of(model, prompt, settings, use_cache):
    return [step.token_id for step in generate(model, prompt, settings, use_cache=use_cache)]


@pytest.mark.parametrize("pos", POSITIONS)
@pytest.mark.parametrize("greedy", [False, True])
def test_kv_cache_generation_equals_no_cache_generation_past_the_context(pos, greedy):
    model = make_model(pos_encoding=pos)  # context 16: 40 new tokens cross the window several times
    settings = SamplingSettings(temperature=1.0, greedy=greedy, seed=7, max_new_tokens=40)
    prompt = [1, 2, 3, 4, 5]
    with_cache = ids_of(model, prompt, settings, True)
    without = ids_of(model, prompt, settings, False)
    assert with_cache == without
    assert len(with_cache) == 40


@pytest.mark.parametrize("pos", POSITIONS)
def test_cached_step_logits_equal_full_recompute(pos):
    model = make_model(pos_encoding=pos)
    settings = SamplingSettings(seed=1, max_new_tokens=30)
    cached = [s.logits for s in generate(model, [3, 1, 4], settings, use_cache=True, return_logits=True)]
    full = [s.logits for s in generate(model, [3, 1, 4], settings, use_cache=False, return_logits=True)]
    for a, b in zip(cached, full, strict=True):
        assert torch.allclose(a, b, atol=1e-4)


def test_long_prompt_is_cropped_to_the_context_window():
    model = make_model()
    prompt = list(range(1, 40))  # longer than the context of 16
    settings = SamplingSettings(seed=0, max_new_tokens=5)
    assert ids_of(model, prompt, settings, True) == ids_of(model, prompt[-16:], settings, True)


def test_same_seed_same_text_different_seed_different_text():
    model = make_model()
    settings = SamplingSettings(temperature=1.5, seed=11, max_new_tokens=30)
    a = ids_of(model, [1], settings, True)
    b = ids_of(model, [1], settings, True)
    settings.seed = 12
    c = ids_of(model, [1], settings, True)
    assert a == b
    assert a != c


def test_steps_report_probabilities_and_candidates():
    model = make_model()
    steps = list(generate(model, [1, 2], SamplingSettings(top_k=5, seed=0, max_new_tokens=6), n_candidates=5))
    for step in steps:
        assert len(step.candidates) == 5
        assert math.isclose(
            sum(p for _, _, p in step.candidates), 1.0, abs_tol=1e-5
        )  # top-5 holds all the mass
        assert step.token_id in [c[0] for c in step.candidates]
        assert 0 < step.probability <= 1


def test_distribution_stages():
    logits = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0])
    stages = distribution_stages(logits, temperature=0.5, top_k=3, top_p=0.8)
    for probs in stages.values():
        assert math.isclose(probs.sum().item(), 1.0, abs_tol=1e-6)
    assert torch.allclose(stages["model"], torch.softmax(logits, 0))
    assert torch.allclose(stages["temperature"], torch.softmax(logits / 0.5, 0))
    assert (stages["top_k"][3:] == 0).all() and (stages["top_k"][:3] > 0).all()
    # nucleus: keep tokens until the mass above reaches 0.8
    sorted_top_k = stages["top_k"]
    kept = stages["top_p"] > 0
    assert kept[0]
    assert sorted_top_k[kept].sum() >= 0.8 or kept.sum() == 3
    greedy = distribution_stages(logits, temperature=0.0)["top_p"]
    assert greedy.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]


def test_top_p_keeps_the_smallest_nucleus():
    probs_logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    final = distribution_stages(probs_logits, top_p=0.7)["top_p"]
    assert (final > 0).tolist() == [True, True, False, False]
    final = distribution_stages(probs_logits, top_p=0.81)["top_p"]
    assert (final > 0).tolist() == [True, True, True, False]


def test_greedy_and_zero_temperature_agree():
    model = make_model()
    a = ids_of(model, [5], SamplingSettings(greedy=True, max_new_tokens=10), True)
    b = ids_of(model, [5], SamplingSettings(temperature=0.0, seed=99, max_new_tokens=10), True)
    assert a == b


@pytest.mark.parametrize(
    "settings",
    [
        SamplingSettings(temperature=-1),
        SamplingSettings(top_k=0),
        SamplingSettings(top_p=1.5),
        SamplingSettings(max_new_tokens=10**6),
    ],
)
def test_bad_sampling_settings_are_refused(settings):
    with pytest.raises(TinyLMError) as info:
        list(generate(make_model(), [1], settings))
    assert info.value.code == "bad_sampling"


def test_empty_prompt_is_a_clear_error():
    tokenizer = CharTokenizer.from_text("abc")
    model = make_model(vocab_size=tokenizer.vocab_size)
    with pytest.raises(TinyLMError) as info:
        generate_text(model, tokenizer, "", SamplingSettings(max_new_tokens=3))
    assert info.value.code == "empty_prompt"


def test_unknown_characters_in_a_prompt_do_not_crash():
    tokenizer = CharTokenizer.from_text("abcabc")
    model = make_model(vocab_size=tokenizer.vocab_size)
    text = generate_text(model, tokenizer, "a😀z", SamplingSettings(max_new_tokens=5))
    assert len(text) == 5


def test_generation_leaves_training_mode_as_it_was():
    model = make_model()
    model.train()
    list(generate(model, [1], SamplingSettings(max_new_tokens=2)))
    assert model.training


def test_inverse_cdf_sampling_follows_the_probabilities():
    from tinylm.generate import sample

    probs = torch.tensor([0.5, 0.0, 0.3, 0.2, 0.0])
    generator = torch.Generator().manual_seed(0)
    counts = torch.zeros(5)
    for _ in range(20_000):
        counts[sample(probs, generator)] += 1
    frequencies = counts / counts.sum()
    assert counts[1] == 0 and counts[4] == 0  # zero-probability tokens are never drawn
    assert torch.allclose(frequencies, probs, atol=0.015)


def window_by_the_rule(context_len: int, prompt_length: int, n_generated: int) -> int:
    """The window rule as the module docstring states it, one appended token at a time."""
    start = max(0, prompt_length - context_len)
    for length in range(prompt_length + 1, prompt_length + n_generated + 1):
        if length - start > context_len:  # the text no longer fits: keep the newest half context
            start = length - max(1, context_len // 2)
    return start


def test_window_start_is_the_rule_in_closed_form():
    for context_len in range(1, 19):
        for prompt_length in range(1, 45):
            for n_generated in range(0, 60):
                expected = window_by_the_rule(context_len, prompt_length, n_generated)
                assert window_start(context_len, prompt_length, n_generated) == expected
    assert window_start(16, 40) == 24  # a long prompt: its last 16 tokens
    assert window_start(16, 5, 11) == 0  # 16 tokens: still fits
    assert window_start(16, 5, 12) == 9  # 17 tokens: the window jumps to the newest 8


@pytest.mark.parametrize("use_cache", [False, True])
def test_generate_feeds_the_model_exactly_the_window(use_cache):
    """What the model is given at each step: without the cache the whole window, with it the window
    after a jump and otherwise the one new token at its position in the window."""
    model = make_model()  # context 16
    calls: list[tuple[int, int]] = []
    forward = model.forward

    def recording(idx, *args, start_pos=0, **kwargs):
        calls.append((idx.shape[1], start_pos))
        return forward(idx, *args, start_pos=start_pos, **kwargs)

    model.forward = recording
    prompt, settings = [1, 2, 3, 4, 5], SamplingSettings(seed=3, max_new_tokens=40)
    ids_of(model, prompt, settings, use_cache)
    expected = []
    for n in range(40):  # the last token is not fed back
        start, length = window_start(16, len(prompt), n), len(prompt) + n
        jumped = n > 0 and start != window_start(16, len(prompt), n - 1)
        if use_cache and n > 0 and not jumped:
            expected.append((1, length - 1 - start))
        else:
            expected.append((length - start, 0))
    assert calls == expected


def test_repeated_share():
    assert repeated_share([1, 2, 3, 4, 5, 6, 7]) == 0.0
    assert repeated_share([1, 2, 3]) == 0.0  # shorter than one run of 4
    assert repeated_share([7] * 10) == pytest.approx(6 / 7)  # 7 runs of 4, all "7 7 7 7": 6 repeat the first
    loop = [1, 2, 3] * 4  # 12 tokens, 9 runs, 3 different ones
    assert repeated_share(loop) == pytest.approx(6 / 9)
    assert repeated_share(loop, n=2) == pytest.approx(8 / 11)
