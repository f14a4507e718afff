"""Trainer(eval_extras=...): a hook called at every evaluation, its numbers in the eval events and the
history (and so in the checkpoint)."""

from tests.conftest import SMALL_TEXT
from tinylm import CharTokenizer, ModelConfig, TinyLM
from tinylm.data import prepare_data
from tinylm.train import TrainConfig, Trainer


def make_trainer(eval_extras=None, **train) -> Trainer:
    tokenizer = CharTokenizer.from_text(SMALL_TEXT)
    config = ModelConfig(vocab_size=tokenizer.vocab_size, context_len=16, d_model=16, n_layers=1, n_heads=2)
    data = prepare_data(SMALL_TEXT, tokenizer, config.context_len)
    settings = {"max_steps": 7, "eval_interval": 3, "batch_size": 4, "precision": "fp32", **train}
    return Trainer(TinyLM(config), tokenizer, data, TrainConfig(**settings), eval_extras=eval_extras)


def test_the_hook_runs_at_every_evaluation_and_its_numbers_are_kept():
    calls = []

    def extras(model):
        calls.append(1)
        return {"weight_sum": sum(float(p.detach().sum()) for p in model.parameters()), "calls": len(calls)}

    trainer = make_trainer(extras)
    events = [event for event in trainer.events() if event.kind == "eval"]
    assert [event.step for event in events] == [0, 3, 6, 7]  # every eval_interval and at the end
    assert [event.extras["calls"] for event in events] == [1, 2, 3, 4]
    assert len({event.extras["weight_sum"] for event in events}) == 4  # measured on the model as it trains
    history = trainer.history.to_dict()
    assert history["calls"] == [[0, 1], [3, 2], [6, 3], [7, 4]]
    assert [row[0] for row in history["weight_sum"]] == [0, 3, 6, 7]
    assert history["val"] and history["train"]  # the usual keys are still there


def test_without_a_hook_nothing_changes():
    trainer = make_trainer()
    events = [event for event in trainer.events() if event.kind == "eval"]
    assert all(event.extras is None for event in events)
    assert set(trainer.history.to_dict()) == {
        "train",
        "val",
        "learning_rate",
        "tokens_per_sec",
        "accuracy",
        "samples",
    }
