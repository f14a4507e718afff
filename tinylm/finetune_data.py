"""Fine-tuning data and its metric: examples (prompt → answer) instead of one running text.

Pre-training reads random windows of a long text and learns every next token. Fine-tuning on a task
learns the *answers*: the prompt is given, not something to imitate, so

    loss = −(1/|A|) Σ_{t ∈ A} log p(x_t | x_<t)      A = the answer tokens (and the newline after them)

Every training window starts at the first token of an example, so the model always sees the whole
prompt, and the targets are −100 on prompt tokens (``F.cross_entropy`` ignores them). With random
windows instead, a window would often cut the story off and the model would learn to guess.

The metric is measured on held-out prompts by greedy decoding (``greedy_continuations``): prompts of
the same length run as one batch through the KV cache, one forward pass per new token.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from tinylm.data import TokenData
from tinylm.finetune_tasks import TASK_LABELS, exact_match, finetune_examples
from tinylm.model import KVCache, TinyLM
from tinylm.tasks import TaskExample
from tinylm.tokenizers import Tokenizer
from tinylm.train import greedy_completer

IGNORE = -100  # the target cross-entropy skips


@dataclass
class ExampleData(TokenData):
    """Examples as ids: ``train`` / ``val`` hold prompt and answer ids back to back, one example after
    the other; ``*_targets`` the same ids with IGNORE on prompt tokens; ``*_starts`` where examples begin.

    A window is as long as the longest example (``window``), not the whole context: tokens after an
    example's answer would not count anyway, so a shorter window computes the same loss for less.
    """

    train_targets: torch.Tensor
    val_targets: torch.Tensor
    train_starts: torch.Tensor
    val_starts: torch.Tensor
    window: int  # the longest example, in tokens

    def train_batch(
        self, batch_size: int, context_len: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """B windows, each starting at a random example: x = ids[s : s+T], y = targets[s+1 : s+T+1]."""
        chosen = torch.randint(len(self.train_starts), (batch_size,), generator=generator)
        positions = self.train_starts[chosen][:, None] + torch.arange(min(context_len, self.window) + 1)
        return self.train[positions[:, :-1]], self.train_targets[positions[:, 1:]]

    def validation_windows(self, context_len: int, max_tokens: int) -> tuple[torch.Tensor, torch.Tensor]:
        """One window per validation example (up to max_tokens / T of them) and its targets."""
        length = min(context_len, self.window)
        starts = self.val_starts[: max(1, max_tokens // length)]
        positions = starts[:, None] + torch.arange(length + 1)
        return self.val[positions], self.val_targets[positions[:, 1:]]


def _encode(examples: Sequence[TaskExample], tokenizer: Tokenizer, context_len: int):
    ids: list[int] = []
    targets: list[int] = []
    starts: list[int] = []
    longest = 0
    for example in examples:
        prompt, answer = tokenizer.encode(example.prompt), tokenizer.encode(example.answer + "\n")
        starts.append(len(ids))
        ids += prompt + answer
        targets += [IGNORE] * len(prompt) + answer
        longest = max(longest, len(prompt) + len(answer))
    padding = tokenizer.encode("\n")[:1] * (context_len + 1)  # so the last example has a whole window too
    return (
        torch.tensor(ids + padding),
        torch.tensor(targets + [IGNORE] * len(padding)),
        torch.tensor(starts, dtype=torch.long),
        longest,
    )


def example_data(
    examples: Sequence[TaskExample], tokenizer: Tokenizer, context_len: int, val_fraction: float = 0.1
) -> ExampleData:
    """Split the examples (the last ``val_fraction`` for validation) and encode both parts."""
    if len(examples) < 2:
        raise ValueError("fine-tuning needs at least two examples (one to train on, one to validate)")
    n_val = min(len(examples) - 1, max(1, round(len(examples) * val_fraction)))
    train, train_targets, train_starts, train_longest = _encode(examples[:-n_val], tokenizer, context_len)
    val, val_targets, val_starts, val_longest = _encode(examples[-n_val:], tokenizer, context_len)
    return ExampleData(
        train=train,
        val=val,
        train_targets=train_targets,
        val_targets=val_targets,
        train_starts=train_starts,
        val_starts=val_starts,
        window=max(train_longest, val_longest),
    )


@torch.inference_mode()
def greedy_continuations(
    model: TinyLM, tokenizer: Tokenizer, prompts: Sequence[str], max_new: Sequence[int]
) -> list[str]:
    """The greedy continuation of each prompt (``max_new[i]`` tokens), the same as ``greedy_completer``
    gives one prompt at a time, batched by prompt length."""
    was_training = model.training
    model.eval()
    encoded = [tokenizer.encode(prompt) for prompt in prompts]
    groups: dict[int, list[int]] = defaultdict(list)
    for i, ids in enumerate(encoded):
        groups[len(ids)].append(i)
    texts = [""] * len(prompts)
    try:
        for length, members in groups.items():
            steps = max(max_new[i] for i in members)
            if length == 0 or length + steps > model.config.context_len:  # the window would move on
                complete = greedy_completer(model, tokenizer)
                for i in members:
                    texts[i] = complete(prompts[i], max_new[i])
                continue
            cache = KVCache(model.config.n_layers, length + steps)
            logits = model(torch.tensor([encoded[i] for i in members]), cache=cache).logits[:, -1]
            tokens = []
            for step in range(steps):
                tokens.append(logits.argmax(dim=-1))
                if step + 1 < steps:
                    logits = model(tokens[-1][:, None], cache=cache, start_pos=length + step).logits[:, -1]
            rows = torch.stack(tokens, dim=1).tolist()
            for i, row in zip(members, rows, strict=True):
                texts[i] = tokenizer.decode(row[: max_new[i]])
    finally:
        model.train(was_training)
    return texts


def evaluate_finetune(
    task: str, model: TinyLM, tokenizer: Tokenizer, n: int = 200, seed: int = 12345
) -> float:
    """The task's held-out metric (0 to 1): exact match of the greedy answer (for mood: label accuracy)."""
    examples = finetune_examples(task, n, seed)
    max_new = [len(tokenizer.encode(example.answer + "\n")) for example in examples]
    answers = greedy_continuations(model, tokenizer, [example.prompt for example in examples], max_new)
    return exact_match(examples, answers)


def metric_name(task: str) -> str:
    """ "accuracy" for a classification (mood), else "exact_match"."""
    return "accuracy" if task in TASK_LABELS else "exact_match"
