"""The session's active model, shared by every page.

A model is named by a key:
    "demo:<corpus>"  a shipped demo checkpoint in models/ (loaded once per server, cached)
    "run:<run id>"   a model trained (or uploaded) on the Train page, held by the job manager (ui/runs)

``st.session_state["_model_key"]`` holds the chosen key (a plain key, so it survives page changes);
``active_model()`` resolves it. ``ActiveModel.cache_key`` changes whenever the weights change
(a run that trained further), so ``st.cache_data`` results computed from it never go stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st
import torch

from tinylm.checkpoint import Checkpoint, read_checkpoint
from tinylm.model import TinyLM
from tinylm.tokenizers import Tokenizer
from ui.i18n import current_language, t
from ui.text import markdown_literal

ROOT = Path(__file__).resolve().parents[1]
DEMO_DIR = ROOT / "models"
DEMO_MODELS = ("stories-zh", "stories-en")
MODEL_KEY = "_model_key"
MAX_SUMMARY_NAME = 100  # characters of a model's name or corpus in the line about it

# Pages run forward passes in Streamlit's script threads; one thread each keeps a class of students
# from oversubscribing the cores that the training jobs need.
torch.set_num_threads(1)


@dataclass
class ActiveModel:
    key: str  # "demo:stories-en" or "run:<id>"
    cache_key: str  # key plus a version; changes when the weights change
    model: TinyLM
    tokenizer: Tokenizer
    meta: dict[str, Any] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.key.startswith("demo:"):
            return t(f"model.{self.key.replace(':', '.', 1)}")
        return str(self.meta.get("name") or self.key)


@st.cache_resource(show_spinner=False, max_entries=len(DEMO_MODELS))
def load_demo(name: str) -> Checkpoint:
    """A shipped demo checkpoint (read once per server process)."""
    checkpoint = read_checkpoint(DEMO_DIR / name)
    checkpoint.model.eval()
    return checkpoint


def available_demos() -> list[str]:
    return [name for name in DEMO_MODELS if (DEMO_DIR / name / "tinylm.json").is_file()]


def resolve(key: str) -> ActiveModel | None:
    """The model behind a key, or None if it does not exist (any more)."""
    if key.startswith("demo:"):
        name = key.split(":", 1)[1]
        if name not in available_demos():
            return None
        checkpoint = load_demo(name)
        return ActiveModel(
            key, key, checkpoint.model, checkpoint.tokenizer, checkpoint.meta, checkpoint.history
        )
    if key.startswith("run:"):
        from ui import runs  # imported lazily: a page that shows no run needs no job manager

        found = runs.manager().model_for(key.split(":", 1)[1])
        if found is None:
            return None
        checkpoint, version = found
        return ActiveModel(
            key,
            f"{key}@{version}",
            checkpoint.model,
            checkpoint.tokenizer,
            checkpoint.meta,
            checkpoint.history,
        )
    return None


def model_by_cache_key(cache_key: str) -> ActiveModel:
    """For st.cache_data wrappers: the model a cache key names (raises if it is gone)."""
    found = resolve(cache_key.split("@", 1)[0])
    if found is None:
        raise LookupError(f"model {cache_key} is not available")
    return found


def default_key() -> str:
    """The demo model in the reader's language (Chinese readers get the Chinese stories model)."""
    demos = available_demos()
    preferred = "stories-zh" if current_language() == "zh" else "stories-en"
    if preferred in demos:
        return f"demo:{preferred}"
    return f"demo:{demos[0]}" if demos else ""


def model_choices() -> list[str]:
    """Keys the model selector offers: the demos plus this session's runs that hold a model."""
    keys = [f"demo:{name}" for name in available_demos()]
    from ui import runs
    from ui.runs.session import session_runs

    for run_id in session_runs():
        if runs.manager().has_model(run_id):
            keys.append(f"run:{run_id}")
    current = st.session_state.get(MODEL_KEY)
    if current and current not in keys and resolve(current) is not None:
        keys.append(current)
    return keys


def active_model() -> ActiveModel | None:
    """The model every page shows; falls back to a demo if the chosen one disappeared."""
    key = st.session_state.get(MODEL_KEY) or default_key()
    model = resolve(key) if key else None
    if model is None and key != default_key():
        key = default_key()
        model = resolve(key) if key else None
    if model is not None:
        st.session_state[MODEL_KEY] = key
    return model


def set_active_model(key: str) -> None:
    st.session_state[MODEL_KEY] = key


def model_summary(active: ActiveModel) -> str:
    """One line of Markdown: name, corpus, size, shape, when trained — in the current language. The
    name, corpus and date may come from an uploaded file: shown literally."""
    config = active.model.config
    when = str(active.meta.get("created") or t("model.unknown_time")).replace("T", " ")[:16]
    return t(
        "model.summary",
        name=markdown_literal(active.label, limit=MAX_SUMMARY_NAME),
        corpus=markdown_literal(active.meta.get("corpus", "?"), limit=MAX_SUMMARY_NAME),
        params=f"{active.model.num_parameters():,}",
        layers=config.n_layers,
        heads=config.n_heads,
        d_model=config.d_model,
        context=config.context_len,
        pos=t(f"pos.{config.pos_encoding}"),
        when=markdown_literal(when),
    )
