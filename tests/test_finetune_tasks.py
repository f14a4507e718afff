"""The built-in fine-tuning tasks: generated text that fits the demo models, held-out prompts, and
(slow) every task learned to a high metric with its recommended settings."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.test_tasks import score_in_subprocess
from tinylm import CharTokenizer, TinyLMError
from tinylm.checkpoint import read_checkpoint
from tinylm.finetune import RECOMMENDED_FINETUNE
from tinylm.finetune_tasks import (
    FINETUNE_TASKS,
    MAX_LINE,
    TASK_LABELS,
    check_task_fits,
    exact_match,
    finetune_examples,
    finetune_text,
    finetune_training_examples,
    fitting_tasks,
    pretraining_corpus,
    task_language,
)
from tinylm.tasks import TaskExample

HIGH = 0.9  # the held-out metric every task reaches with its recommended settings (200 examples)


@pytest.fixture(scope="module")
def demo_tokenizers():
    from tests.conftest import ROOT

    return {lang: read_checkpoint(ROOT / "models" / f"stories-{lang}").tokenizer for lang in ("en", "zh")}


@pytest.mark.parametrize("task", FINETUNE_TASKS)
def test_every_task_uses_only_characters_its_demo_model_knows(task, demo_tokenizers):
    tokenizer = demo_tokenizers[task_language(task)]
    text = finetune_text(task, 200_000) + "".join(example.line for example in finetune_examples(task, 500))
    assert tokenizer.unknown_chars(text) == []
    check_task_fits(task, tokenizer, 64)  # the demo models' context


def test_each_demo_model_fits_exactly_its_own_language_tasks(demo_tokenizers):
    assert fitting_tasks(demo_tokenizers["en"], 64) == ["qa-en", "mood-en", "tense-en"]
    assert fitting_tasks(demo_tokenizers["zh"], 64) == ["qa-zh", "mood-zh", "tense-zh"]
    assert fitting_tasks(demo_tokenizers["zh"], 16) == []


@pytest.mark.parametrize("task", FINETUNE_TASKS)
def test_every_example_is_one_line_that_fits_the_context(task):
    examples = finetune_training_examples(task) + finetune_examples(task, 300)
    assert len(examples) > 300
    for example in examples:
        assert example.prompt and example.answer
        assert "\n" not in example.prompt + example.answer
        assert len(example.line) <= MAX_LINE


@pytest.mark.parametrize("task", FINETUNE_TASKS)
def test_held_out_prompts_never_appear_in_a_training_text(task):
    trained = {example.prompt for seed in (0, 1) for example in finetune_training_examples(task, seed=seed)}
    tested = {example.prompt for example in finetune_examples(task, 300)}
    assert len(tested) >= 25  # enough different questions to measure something
    assert not trained & tested


@pytest.mark.parametrize("task", FINETUNE_TASKS)
def test_texts_and_examples_are_reproducible_and_seeded(task):
    assert finetune_text(task) == finetune_text(task)
    assert finetune_text(task, seed=1) != finetune_text(task)
    assert finetune_examples(task, 20) == finetune_examples(task, 20)
    assert finetune_examples(task, 20, seed=1) != finetune_examples(task, 20)
    text = finetune_text(task, 5000)
    assert len(text) <= 5000 and text.endswith("\n")


@pytest.mark.parametrize("task", sorted(TASK_LABELS))
def test_classification_labels_take_turns_in_the_test_set(task):
    labels = [example.answer for example in finetune_examples(task, 100)]
    assert labels[::2] == [TASK_LABELS[task][0]] * 50 and labels[1::2] == [TASK_LABELS[task][1]] * 50
    assert {example.answer for example in finetune_training_examples(task)} == set(TASK_LABELS[task])


def test_the_answers_are_read_from_the_story():
    for example in finetune_examples("qa-en", 100):
        story = example.prompt.split(". ", 1)[0]
        assert example.answer in story
    for example in finetune_examples("tense-en", 50):
        assert example.prompt.startswith("Yesterday ") and example.answer.endswith(".")
        assert example.answer.split()[0] == example.prompt.split()[1]  # the same child
    for example in finetune_examples("tense-zh", 50):
        assert "正在" in example.answer and "了" not in example.answer


def test_exact_match_compares_up_to_the_first_newline():
    examples = [TaskExample("Who? ", "Lily"), TaskExample("Mood? ", "sad"), TaskExample("X? ", "a b")]
    assert exact_match(examples, ["Lily\nTom", "sad", "a  b"]) == pytest.approx(2 / 3)
    assert exact_match(examples, ["Lil", "sadness", "a b\n"]) == pytest.approx(1 / 3)
    assert exact_match([], []) == 0.0


def test_a_base_without_the_tasks_characters_is_refused():
    english_only = CharTokenizer.from_text(finetune_text("qa-en"))
    with pytest.raises(TinyLMError) as caught:
        check_task_fits("qa-zh", english_only, 64)
    assert caught.value.code == "task_unknown_chars"
    assert caught.value.params["corpus"] == "stories-zh" and caught.value.params["count"] > 10
    with pytest.raises(TinyLMError) as caught:
        check_task_fits("qa-en", english_only, 32)
    assert caught.value.code == "task_context" and caught.value.params["needed"] <= MAX_LINE


def test_unknown_task_names_are_refused():
    with pytest.raises(TinyLMError) as caught:
        finetune_text("qa-fr")
    assert caught.value.code == "unknown_finetune_task"
    assert pretraining_corpus("mood-zh") == "stories-zh"


# -- each task is learned with its recommended settings ------------------------------------------


def finetune_and_score(task: str) -> float:
    """Fine-tune the task's demo model with the recommended settings (one thread); the held-out metric."""
    import torch

    torch.set_num_threads(1)
    from tests.conftest import ROOT
    from tinylm.finetune import finetune_result, prepare_finetune, recommended_setup

    base = read_checkpoint(ROOT / "models" / pretraining_corpus(task))
    mode, lora, train_config = recommended_setup(task)
    setup = prepare_finetune(base, task, mode, lora, train_config)
    trainer = setup.trainer()
    trainer.run()
    return finetune_result(setup, trainer, n_examples=200).metric


@pytest.fixture(scope="module")
def metrics() -> dict[str, float]:
    """Every task fine-tuned once, two at a time (one per core), in fresh processes."""
    longest_first = sorted(FINETUNE_TASKS, key=lambda task: -RECOMMENDED_FINETUNE[task]["max_steps"])
    scorer = "tests.test_finetune_tasks.finetune_and_score"
    with ThreadPoolExecutor(max_workers=2) as pool:
        scores = pool.map(lambda task: score_in_subprocess(task, scorer), longest_first)
        return dict(zip(longest_first, scores, strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("task", FINETUNE_TASKS)
def test_recommended_settings_reach_a_high_metric(task, metrics):
    advice = RECOMMENDED_FINETUNE[task]
    assert metrics[task] >= HIGH, f"{task}: {metrics[task]:.3f} after {advice['max_steps']} steps ({advice})"
