"""tinylm: a tiny GPT-style Transformer language model, written to be read next to the maths.

    from tinylm import ModelConfig, TinyLM, CharTokenizer, BPETokenizer, save_checkpoint, load_checkpoint
    model = TinyLM(ModelConfig(vocab_size=V, context_len=T, d_model=D, n_layers=L, n_heads=H))
    out = model(idx, targets=None, return_attention=True)   # out.logits, out.loss, out.attentions

Modules, one idea each: config, positional, model, tokenizers, corpora (the built-in corpora: tasks,
stories with stories_en and stories_zh, repeats), data, train, generate, checkpoint, presets, errors, fast
(speed tricks), bench and baselines (speed comparisons), cli; explain/ (what the app shows: attention,
block, embeddings, heads, positions).
"""

from tinylm.checkpoint import Checkpoint, load_checkpoint, read_checkpoint, save_checkpoint
from tinylm.config import ModelConfig, count_parameters
from tinylm.errors import TinyLMError
from tinylm.generate import GenerationStep, SamplingSettings, distribution_stages, generate, generate_text
from tinylm.model import KVCache, ModelOutput, TinyLM
from tinylm.positional import sinusoidal_positional_encoding
from tinylm.tokenizers import BPETokenizer, CharTokenizer, Tokenizer, tokenizer_from_dict
from tinylm.train import TrainConfig, Trainer, TrainEvent

__version__ = "0.1.0"

__all__ = [
    "BPETokenizer",
    "CharTokenizer",
    "Checkpoint",
    "GenerationStep",
    "KVCache",
    "ModelConfig",
    "ModelOutput",
    "SamplingSettings",
    "TinyLM",
    "TinyLMError",
    "Tokenizer",
    "TrainConfig",
    "TrainEvent",
    "Trainer",
    "count_parameters",
    "distribution_stages",
    "generate",
    "generate_text",
    "load_checkpoint",
    "read_checkpoint",
    "save_checkpoint",
    "sinusoidal_positional_encoding",
    "tokenizer_from_dict",
]
