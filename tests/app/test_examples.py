"""Every page with an example text opens on one the active model can read: its language follows the
model, not only the interface (an English student with the English demo model must not first meet a
Chinese example made of unknown tokens, nor a Chinese student with the English model)."""

from __future__ import annotations

import pytest

from tests.app.conftest import demo, open_page
from tests.conftest import ROOT

pytestmark = [
    pytest.mark.skipif(
        not (ROOT / "models" / "stories-en" / "tinylm.json").is_file(), reason="demo models not trained yet"
    ),
    pytest.mark.usefixtures("language_independent_model_labels"),
]
TEXT_BOXES = {  # page -> the key of its text box
    "tokens": "tokens.text",
    "attention": "attention.text",
    "block": "block.text",
    "explorer": "explorer.text",
    "generate": "generate.prompt",
}


def text_box(at, key: str):
    boxes = [box for box in (*at.text_area, *at.text_input) if box.key == key]
    assert len(boxes) == 1, key
    return boxes[0]


@pytest.mark.parametrize("page", list(TEXT_BOXES))
@pytest.mark.parametrize(("lang", "model"), [("en", "stories-zh"), ("zh", "stories-en")])
def test_the_example_text_is_one_the_model_can_read(page, lang, model):
    """The interface in one language, the demo model of the other: the example follows the model."""
    at = open_page(page, lang=lang, model=f"demo:{model}")
    assert at.session_state["_model_key"] == f"demo:{model}"
    text = text_box(at, TEXT_BOXES[page]).value
    assert text, page
    assert demo(model).tokenizer.unknown_chars(text) == [], (page, lang, model, text)
    assert not at.warning  # no "unknown characters" warning on the first view
