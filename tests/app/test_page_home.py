import pytest

from tests.app.conftest import open_page


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_home_opens_in_both_languages_with_the_demo_model(lang):
    at = open_page("home", lang=lang)
    assert at.title[0].value.startswith("TinyLM Lab")
    text = " ".join(m.value for m in at.markdown)
    assert ("parameters" in text) if lang == "en" else ("个参数" in text)
    links = [link.label for link in at.sidebar.get("page_link")] if hasattr(at.sidebar, "get") else []
    assert links


def test_language_switch_keeps_state_and_updates_url():
    at = open_page("home", lang="en")
    at.sidebar.toggle[0].set_value(True).run()  # presenter mode on
    at.sidebar.radio(key="_w_lang").set_value("zh").run()
    assert not at.exception
    assert at.session_state["_lang"] == "zh"
    assert at.session_state["_presenter"] is True
    assert at.query_params["lang"] == ["zh"] or at.query_params["lang"] == "zh"
    assert "学习路线" in " ".join(s.value for s in at.subheader)
