import math
import random
import threading
import time

import pytest
import torch

from tests.helpers import make_model
from tinylm import CharTokenizer, TinyLMError, TrainConfig, Trainer
from tinylm.data import prepare_data
from tinylm.fast import make_optimizer
from tinylm.muon import Muon
from tinylm.train import learning_rate_at


def markov_source(n_tokens: int, seed: int = 0):
    """A first-order Markov chain over 6 letters with a known entropy rate H = Σ_i π_i H(P_i·)."""
    rng = random.Random(seed)
    letters = "abcdef"
    matrix = []
    for _ in letters:
        weights = [rng.random() ** 3 for _ in letters]  # skewed rows: a few likely successors
        total = sum(weights)
        matrix.append([w / total for w in weights])
    # stationary distribution by power iteration
    pi = [1 / 6] * 6
    for _ in range(500):
        pi = [sum(pi[i] * matrix[i][j] for i in range(6)) for j in range(6)]
    entropy_rate = -sum(pi[i] * p * math.log(p) for i in range(6) for p in matrix[i] if p > 0)
    state = 0
    out = []
    for _ in range(n_tokens):
        state = rng.choices(range(6), weights=matrix[state])[0]
        out.append(letters[state])
    return "".join(out), entropy_rate


def test_lr_schedule_warms_up_then_decays_by_cosine():
    config = TrainConfig(max_steps=100, warmup_steps=10, learning_rate=1e-2, min_lr_ratio=0.1)
    assert learning_rate_at(config, 0, 0.0) == pytest.approx(1e-3)
    assert learning_rate_at(config, 9, 0.09) == pytest.approx(1e-2)
    assert learning_rate_at(config, 50, 0.5) == pytest.approx(1e-3 + 0.5 * 9e-3)
    assert learning_rate_at(config, 100, 1.0) == pytest.approx(1e-3)


def test_overfits_one_batch_to_near_zero_loss():
    model = make_model(vocab_size=20, d_model=64, n_layers=2, n_heads=4, context_len=16)
    model.train()
    generator = torch.Generator().manual_seed(0)
    x = torch.randint(0, 20, (4, 16), generator=generator)
    y = torch.randint(0, 20, (4, 16), generator=generator)
    optimizer = make_optimizer(model.parameters(), lr=3e-3, weight_decay=0.0)
    for _ in range(300):
        loss = model(x, y).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05


@pytest.mark.slow
def test_val_loss_reaches_the_entropy_rate_of_a_markov_source():
    text, entropy_rate = markov_source(60_000)
    tokenizer = CharTokenizer.from_text(text)
    model = make_model(vocab_size=tokenizer.vocab_size, context_len=16, d_model=32, n_layers=1, n_heads=2)
    data = prepare_data(text, tokenizer, context_len=16)
    config = TrainConfig(
        max_steps=400,
        batch_size=32,
        learning_rate=1e-2,
        warmup_steps=20,
        eval_interval=400,
        eval_tokens=16384,
        precision="fp32",
    )
    history = Trainer(model, tokenizer, data, config).run()
    val_loss = history.val[-1][2]
    assert 0.3 < entropy_rate < 1.6  # a non-trivial source
    assert val_loss < entropy_rate + 0.1, (val_loss, entropy_rate)
    assert val_loss > entropy_rate - 0.05  # nobody beats the true floor (up to sampling noise)


def small_trainer(text, **overrides):
    tokenizer = CharTokenizer.from_text(text)
    model = make_model(vocab_size=tokenizer.vocab_size, context_len=16)
    data = prepare_data(text, tokenizer, context_len=16)
    settings = {"max_steps": 60, "batch_size": 8, "eval_interval": 20, "log_interval": 5, "precision": "fp32"}
    settings.update(overrides)
    return Trainer(model, tokenizer, data, TrainConfig(**settings), sample_prompt="Lily")


def test_events_history_and_reproducibility(small_text):
    first = small_trainer(small_text, sample_interval=30)
    events = list(first.events())
    kinds = [e.kind for e in events]
    assert kinds[0] == "eval" and kinds[-1] == "done"
    assert kinds.count("step") == 12 and "sample" in kinds
    assert first.state == "done" and first.step == 60
    assert first.history.val[-1][2] < first.history.val[0][2]
    assert all(e.tokens_per_sec > 0 for e in events if e.kind == "step")
    assert [s for s, _ in first.history.samples] == [30, 60]
    assert first.history.samples[0][1].startswith("Lily")
    second = small_trainer(small_text, sample_interval=30)
    second.run()
    assert [round(v, 6) for _, _, v in second.history.val] == [round(v, 6) for _, _, v in first.history.val]


def test_time_budget_ends_training(small_text):
    trainer = small_trainer(small_text, max_steps=100_000, time_budget=1.0)
    start = time.perf_counter()
    trainer.run()
    assert 0.9 < time.perf_counter() - start < 5
    assert trainer.state == "done" and 0 < trainer.step < 100_000


def test_nan_loss_stops_with_a_message_and_keeps_the_last_good_weights(small_text):
    trainer = small_trainer(small_text, max_steps=200)
    model = trainer.model
    for event in trainer.events():
        if event.kind == "step" and event.step == 20:
            good = {name: p.detach().clone() for name, p in model.named_parameters()}
            with torch.no_grad():
                model.blocks[0].feed_forward.fc1.weight.fill_(float("inf"))
        if event.kind == "failed":
            break
    assert trainer.state == "failed"
    assert "learning rate" in trainer.message and "step 20" in trainer.message
    for name, parameter in model.named_parameters():
        assert torch.equal(parameter, good[name]), name


def test_pause_resume_and_stop_from_another_thread(small_text):
    trainer = small_trainer(small_text, max_steps=100_000, eval_interval=10_000)
    worker = threading.Thread(target=trainer.run)
    worker.start()
    while trainer.step < 5:
        time.sleep(0.01)
    trainer.pause()
    time.sleep(0.3)
    paused_at = trainer.step
    time.sleep(0.3)
    assert trainer.step == paused_at and trainer.state == "paused"
    trainer.resume()
    while trainer.step < paused_at + 5:
        time.sleep(0.01)
    trainer.stop()
    worker.join(timeout=2)
    assert not worker.is_alive()
    assert trainer.state == "stopped"


def test_bad_train_settings_are_refused(small_text):
    for bad in ({"learning_rate": 5.0}, {"batch_size": 0}, {"max_steps": 10**9}, {"time_budget": -1.0}):
        with pytest.raises(TinyLMError) as info:
            small_trainer(small_text, **bad)
        assert info.value.code == "bad_train_setting"


def test_trapezoid_schedule_warms_up_holds_then_falls_linearly_to_zero():
    config = TrainConfig(
        max_steps=100, warmup_steps=10, learning_rate=1e-2, schedule="trapezoid", decay_fraction=0.4
    )
    assert learning_rate_at(config, 0, 0.0) == pytest.approx(1e-3)
    assert learning_rate_at(config, 30, 0.3) == pytest.approx(1e-2)
    assert learning_rate_at(config, 60, 0.6) == pytest.approx(1e-2)  # decay starts at 1 − 0.4
    assert learning_rate_at(config, 80, 0.8) == pytest.approx(0.5e-2)
    assert learning_rate_at(config, 100, 1.0) == 0.0
    cosine = TrainConfig(max_steps=100, warmup_steps=10, learning_rate=1e-2)
    assert learning_rate_at(cosine, 60, 0.6) < 1e-2  # the cosine is already decaying there


def test_both_optimizers_follow_the_schedule_in_proportion_to_their_peaks(small_text, monkeypatch):
    trainer = small_trainer(
        small_text, optimizer="muon", muon_lr=0.02, learning_rate=4e-3, max_steps=40, warmup_steps=5
    )
    seen: dict[str, list[float]] = {"AdamW": [], "Muon": []}
    for cls in (torch.optim.AdamW, Muon):
        original = cls.step

        def spy(self, *args, _original=original, **kwargs):
            seen[type(self).__name__].append(self.param_groups[0]["lr"])
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "step", spy)
    events = [e for e in trainer.events() if e.kind == "step"]
    assert trainer.state == "done" and len(seen["AdamW"]) == len(seen["Muon"]) == 40
    assert seen["AdamW"][0] == pytest.approx(4e-3 / 5) and max(seen["AdamW"]) == pytest.approx(4e-3)
    assert max(seen["Muon"]) == pytest.approx(0.02)
    for adam_lr, muon_lr in zip(seen["AdamW"], seen["Muon"], strict=True):
        assert muon_lr == pytest.approx(5 * adam_lr)
    assert events[-1].learning_rate == pytest.approx(seen["AdamW"][-1])


@pytest.mark.parametrize(
    ("name", "value"), [("optimizer", "sgd"), ("schedule", "constant"), ("optimizer", "")]
)
def test_unknown_optimizer_or_schedule_is_refused_with_the_choices(small_text, name, value):
    with pytest.raises(TinyLMError) as info:
        small_trainer(small_text, **{name: value})
    assert info.value.code == "bad_config_choice"
    assert info.value.params["name"] == name and info.value.params["value"] == value
    assert value not in info.value.params["choices"].split(", ")


@pytest.mark.parametrize(
    "bad", [{"muon_lr": 0.0}, {"muon_lr": 2.0}, {"muon_momentum": 1.0}, {"decay_fraction": 1.5}]
)
def test_bad_muon_and_schedule_settings_are_refused(small_text, bad):
    with pytest.raises(TinyLMError) as info:
        small_trainer(small_text, **bad)
    assert info.value.code == "bad_train_setting" and info.value.params["name"] == next(iter(bad))
