"""Shared fixtures: small models and texts made here, never read from outside the repository."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tinylm import CharTokenizer  # noqa: E402

# Tests run on 2-core CI machines next to other processes: one torch thread is the fastest and
# steadiest choice for the tiny models here.
torch.set_num_threads(int(os.environ.get("TINYLM_TEST_THREADS", "1")))

# Ray (tests/raycluster.py): token authentication with this test process's own token, set before
# anything imports ray and inherited by the clusters and app servers the tests start; never the
# shared ~/.ray/auth_token, which any other Ray on the machine may create or replace meanwhile.
os.environ["RAY_AUTH_MODE"] = "token"
os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(16)

SMALL_TEXT = (
    "Lily had a red ball. She gave the ball to Tom. Tom was happy.\n"
    "小明有一只小猫。小猫很可爱。小明每天和小猫一起玩。\n"
) * 40


@pytest.fixture
def small_text() -> str:
    return SMALL_TEXT


@pytest.fixture
def char_tokenizer() -> CharTokenizer:
    return CharTokenizer.from_text(SMALL_TEXT)


@pytest.fixture(autouse=True)
def _the_process_keeps_its_main_module():
    """Streamlit's script runner, which AppTest runs inside this process, puts the script it ran into
    ``sys.modules["__main__"]`` and leaves it there. A later "spawn" process pool (the sweep command, the
    time-to-loss bench) re-runs ``__main__`` by its path in every child, and AppTest.from_function's
    temporary script fails there (NameError: __args): the pool breaks in whichever xdist worker ran
    such an AppTest first. Every test gets the process's own main module back."""
    main_module = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main_module


def _xdist_scope(path: str) -> str:
    """The unit of work a pytest-xdist worker takes whole: every browser test together (one app server,
    one Chromium), any other test with its file (its module fixtures: a Ray cluster, a PostgreSQL
    server, a trained model, are made once)."""
    return "tests/e2e" if path.startswith("tests/e2e/") else path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """``make test`` runs two workers, one per core of CI's machine (see _xdist_scope)."""
    from xdist.scheduler import LoadScopeScheduling

    class ByFileBrowserTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _xdist_scope(nodeid.split("::", 1)[0])

    return ByFileBrowserTestsTogether(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The browser tests, the longest unit of work, come first (``--no-loadscope-reorder`` keeps this
    order), so the other worker takes the rest meanwhile."""
    items.sort(key=lambda item: _xdist_scope(item.nodeid.split("::", 1)[0]) != "tests/e2e")  # stable
