"""Training text: checking it, turning it into token ids, and cutting it into batches.

A language model learns from one long sequence of token ids. The last ``val_fraction`` of it is held
out as validation data (never trained on), so the validation loss tells whether the model learned
the *language* or just memorised its training text.

A batch is B random windows of T+1 consecutive tokens: the first T are the input x, the last T (the
same window shifted by one) are the targets y. So position t is trained to predict token t+1 — the
next-token (causal) objective of GPT.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tinylm.corpora import BUILTIN_CORPORA, generate_corpus
from tinylm.errors import TinyLMError
from tinylm.tokenizers import CharTokenizer, Tokenizer

MAX_TEXT_BYTES = (
    5_000_000  # 5 MB: more text than a minute of CPU training can use, small enough to hold in RAM
)
BUILTIN_CORPUS_CHARS = 300_000


def decode_text_bytes(data: bytes, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """Bytes of an uploaded or read file → text, or a clear error (empty, too big, binary, not UTF-8)."""
    if len(data) > max_bytes:
        raise TinyLMError(
            "text_too_large",
            f"the text is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB",
            size_mb=round(len(data) / 1e6, 1),
            limit_mb=round(max_bytes / 1e6, 1),
        )
    if b"\x00" in data[:1_000_000]:
        raise TinyLMError("binary_file", "this looks like a binary file, not text (it contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TinyLMError(
            "not_utf8",
            f"the file is not UTF-8 text (bad byte at position {exc.start}); save it as UTF-8 and try again",
            position=exc.start,
        ) from None
    return check_text(text.removeprefix("\ufeff"), max_bytes=max_bytes)


def check_text(text: str, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """Reject empty, whitespace-only, oversized or control-character-laden text; return it unchanged."""
    if not text.strip():
        raise TinyLMError("empty_text", "the text is empty")
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > max_bytes:
        raise TinyLMError(
            "text_too_large",
            f"the text is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB",
            size_mb=round(size / 1e6, 1),
            limit_mb=round(max_bytes / 1e6, 1),
        )
    sample = text[:100_000]
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    if control > 0.01 * len(sample):
        raise TinyLMError("binary_file", "this looks like a binary file, not text (many control characters)")
    return text


def load_text(source: str | Path, seed: int = 0, n_chars: int = BUILTIN_CORPUS_CHARS) -> str:
    """A built-in corpus by name (generated, no download) or a UTF-8 text file by path."""
    if isinstance(source, str) and source in BUILTIN_CORPORA:
        if n_chars > MAX_TEXT_BYTES:  # refused before spending a minute generating it
            raise TinyLMError(
                "text_too_large",
                f"{n_chars:,} characters asked for; the limit is {MAX_TEXT_BYTES / 1e6:.1f} MB",
                size_mb=round(n_chars / 1e6, 1),
                limit_mb=round(MAX_TEXT_BYTES / 1e6, 1),
            )
        return generate_corpus(source, n_chars=n_chars, seed=seed)
    path = Path(source)
    if not path.is_file():
        raise TinyLMError(
            "corpus_not_found",
            f"'{source}' is neither a built-in corpus ({', '.join(BUILTIN_CORPORA)}) nor a readable file",
            name=str(source),
            choices=", ".join(BUILTIN_CORPORA),
        )
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise TinyLMError(
            "text_too_large",
            f"the file is {path.stat().st_size / 1e6:.1f} MB; the limit is {MAX_TEXT_BYTES / 1e6:.1f} MB",
            size_mb=round(path.stat().st_size / 1e6, 1),
            limit_mb=round(MAX_TEXT_BYTES / 1e6, 1),
        )
    return decode_text_bytes(path.read_bytes())


@dataclass
class TokenData:
    """A text as token ids, split into a training part and a held-out validation part."""

    train: torch.Tensor  # (N_train,) int64
    val: torch.Tensor  # (N_val,) int64

    @property
    def num_tokens(self) -> int:
        return len(self.train) + len(self.val)

    def train_batch(
        self, batch_size: int, context_len: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A training batch (x, y) of random windows (tinylm.finetune_data.ExampleData overrides this)."""
        return random_windows(self.train, batch_size, context_len, generator)

    def validation_windows(
        self, context_len: int, max_tokens: int
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Fixed validation windows (rows of T+1 ids), and their targets if some are ignored (else None)."""
        return evaluation_windows(self.val, context_len, max_tokens), None


def min_chars_needed(context_len: int, val_fraction: float) -> int:
    """Shortest text (in tokens) whose train and validation parts each hold one window of context_len + 1."""
    return int((context_len + 2) / min(val_fraction, 1 - val_fraction)) + 1


def prepare_data(text: str, tokenizer: Tokenizer, context_len: int, val_fraction: float = 0.1) -> TokenData:
    """Encode text and split it: the first (1 − val_fraction) for training, the rest for validation."""
    if not 0.0 < val_fraction < 0.5:
        raise ValueError("val_fraction must be in (0, 0.5)")
    ids = torch.tensor(tokenizer.encode(check_text(text)), dtype=torch.long)
    needed = min_chars_needed(context_len, val_fraction)
    if len(ids) < needed:
        raise TinyLMError(
            "text_too_short",
            f"the text has {len(ids)} tokens; with a context of {context_len} it needs at least {needed} "
            f"(one window for training and one for validation)",
            tokens=len(ids),
            needed=needed,
            context_len=context_len,
        )
    n_train = int(len(ids) * (1 - val_fraction))
    return TokenData(train=ids[:n_train], val=ids[n_train:])


def random_windows(
    ids: torch.Tensor, batch_size: int, context_len: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """B random windows: x = ids[s : s+T], y = ids[s+1 : s+T+1] for B random starts s."""
    windows = ids.unfold(0, context_len + 1, 1)  # a view: row s is ids[s : s+T+1], nothing copied
    starts = torch.randint(len(windows), (batch_size,), generator=generator)
    batch = windows[starts]
    return batch[:, :-1], batch[:, 1:]


def evaluation_windows(
    ids: torch.Tensor, context_len: int, max_tokens: int, seed: int = 1234
) -> torch.Tensor:
    """A fixed set of windows (rows of T+1 ids) used for every validation-loss measurement.

    Fixed, so successive validation losses differ only because the model changed. Windows do not
    overlap when the data is small enough; otherwise max_tokens // T evenly spread, seeded starts.
    """
    n_windows = max(1, min(max_tokens // context_len, (len(ids) - 1) // context_len))
    all_windows = ids.unfold(0, context_len + 1, 1)
    if n_windows * context_len >= len(ids) - 1 - context_len:
        starts = torch.arange(n_windows) * context_len
    else:
        generator = torch.Generator().manual_seed(seed)
        starts = torch.randperm(len(all_windows), generator=generator)[:n_windows].sort().values
    return all_windows[starts.clamp(max=len(all_windows) - 1)]


def unigram_entropy(ids: torch.Tensor, vocab_size: int) -> float:
    """H = −Σ_v p(v) log p(v) in nats, p(v) = the share of token v in ids.

    The loss of the best model that ignores context (it always predicts the token frequencies): a model
    whose validation loss falls below this has learned something about order, not just what is common.
    """
    counts = torch.bincount(ids, minlength=vocab_size).double()
    p = counts[counts > 0] / counts.sum()
    return float(-(p * p.log()).sum())


def data_summary(text: str, val_fraction: float = 0.1) -> dict[str, Any]:
    """What a student sees before training: sizes, the character vocabulary, the train / validation
    split (as prepare_data makes it) and the unigram entropy of the training part."""
    tokenizer = CharTokenizer.from_text(text)
    ids = torch.tensor(tokenizer.encode(text), dtype=torch.long)
    n_train = int(len(ids) * (1 - val_fraction))
    return {
        "chars": len(text),
        "bytes": len(text.encode("utf-8", errors="surrogatepass")),
        "vocab": tokenizer.vocab_size,
        "train_tokens": n_train,
        "val_tokens": len(ids) - n_train,
        "unigram_entropy": unigram_entropy(ids[:n_train], tokenizer.vocab_size) if n_train else 0.0,
        "lines": text.count("\n") + 1,
    }
