"""Both languages everywhere: the string tables match, and every key the code uses exists."""

import ast
import importlib
import pkgutil
import re
import string

import pytest

import ui.strings
from tests.conftest import ROOT
from ui.i18n import STRINGS

MODULES = [m.name for m in pkgutil.iter_modules(ui.strings.__path__)]
CJK = re.compile(r"[\u3400-\u9fff]")
# Keys whose Chinese text may legitimately have no Chinese characters.
NO_CJK_NEEDED = {"sidebar.language"}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("module_name", MODULES)
def test_each_module_has_the_same_keys_in_both_languages(module_name):
    module = importlib.import_module(f"ui.strings.{module_name}")
    assert set(module.EN) == set(module.ZH), set(module.EN) ^ set(module.ZH)
    for key in module.EN:
        assert placeholders(module.EN[key]) == placeholders(module.ZH[key]), key
        assert module.ZH[key].strip(), key
        if key not in NO_CJK_NEEDED and re.search(r"[A-Za-z]{3,} [A-Za-z]{3,}", module.EN[key]):
            assert CJK.search(module.ZH[key]), f"{key}: the Chinese text looks untranslated"


def used_keys():
    """Every literal t("...") key in the app's code (dynamic keys are checked by their pages' tests)."""
    keys = set()
    files = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "t"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                keys.add((path.name, node.args[0].value))
    return sorted(keys)


def test_every_key_used_in_the_code_exists_in_both_languages():
    missing = [(f, k) for f, k in used_keys() if k not in STRINGS["en"] or k not in STRINGS["zh"]]
    assert not missing


def test_every_tinylm_error_code_is_translated():
    codes = set()
    for path in (ROOT / "tinylm").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "TinyLMError"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                codes.add(node.args[0].value)
    assert codes, "no error codes found"
    for code in codes:
        assert f"error.{code}" in STRINGS["en"], code
        assert f"error.{code}" in STRINGS["zh"], code


def test_every_builtin_corpus_has_a_title_and_description_in_both_languages():
    """The Train page looks them up as corpus.<name>.title / .description (dynamic keys)."""
    from tinylm.corpora import BUILTIN_CORPORA
    from tinylm.tasks import TASKS

    for lang in ("en", "zh"):
        for name in BUILTIN_CORPORA:
            for part in ("title", "description"):
                assert STRINGS[lang].get(f"corpus.{name}.{part}", "").strip(), (lang, name, part)
        for task in TASKS:  # the descriptions show the line format
            assert f"{task} " in STRINGS[lang][f"corpus.{task}.description"], (lang, task)
