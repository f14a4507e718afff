"""What the walkthrough pages compute from the active model and the student's text, in one cached
place: page 3's self-attention walkthrough (``tinylm.explain.attention``) and page 4's look inside a
block (``tinylm.explain.block``), each a function of (model, tokenizer, text, layer).

Cached by the model's cache key (it changes when the weights change), the text and the layer, so a
control that only changes what is drawn never recomputes a forward pass.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from tinylm.explain import attention, block
from ui.layout import Page, or_stop
from ui.state import ActiveModel, model_by_cache_key

EXPLAIN = {
    "attention": attention.explain_attention,  # -> (TokenizedText, AttentionWalkthrough) of the whole layer
    "block": block.explain_block,  # -> BlockExplanation: the residual stream, block's LayerNorms and FFN
}


@st.cache_data(max_entries=128, show_spinner=False)
def _explained(cache_key: str, topic: str, text: str, layer: int) -> Any:
    found = model_by_cache_key(cache_key)
    return EXPLAIN[topic](found.model, found.tokenizer, text, layer)


def on_text(page: Page, active: ActiveModel, topic: str, text: str, layer: int) -> Any:
    """``EXPLAIN[topic]`` of the active model on ``text`` at ``layer`` (cached). If the text cannot be
    shown (a TinyLMError: empty, no known token ...), the error in the reader's language and the page
    stops there."""
    return or_stop(page, _explained, active.cache_key, topic, text, layer)
